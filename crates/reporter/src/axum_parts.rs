//! What the reporter reads from and adds to axum: the matched route and the client's
//! address (from the request's extensions), the [`Scope`] extractor, and [`Reported`]
//! as a response.

use std::convert::Infallible;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath};
use axum::response::IntoResponse;
use http::Request;
use http::request::Parts;

use crate::client::Reporter;
use crate::error::{BoxError, Reported};
use crate::scope::{RouteName, Scope};

/// The route axum matched, such as `/orders/{id}` (present with `Router::layer`): a
/// shared string, so keeping it costs no allocation.
pub(crate) fn matched_route<B>(request: &Request<B>) -> Option<MatchedPath> {
    request.extensions().get::<MatchedPath>().cloned()
}

impl RouteName for MatchedPath {
    fn as_str(&self) -> &str {
        MatchedPath::as_str(self)
    }
}

/// The peer's address, when the app serves with
/// `into_make_service_with_connect_info::<SocketAddr>()`.
pub(crate) fn peer_ip<B>(request: &Request<B>) -> Option<String> {
    request
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip().to_string())
}

/// Takes the current request's scope ([`Scope::current`]).
///
/// Without the layer (or with the reporter disabled) handlers still get a scope; it
/// reports nowhere, so handler code never has to care whether reporting is on.
impl<S: Send + Sync> FromRequestParts<S> for Scope {
    type Rejection = Infallible;

    async fn from_request_parts(_parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Scope::current().unwrap_or_else(|| Scope::detached(&Reporter::disabled())))
    }
}

impl<E> IntoResponse for Reported<E>
where
    E: Into<BoxError> + 'static,
{
    fn into_response(self) -> axum::response::Response {
        let (status, report) = self.into_report();
        let reason = status.canonical_reason().unwrap_or("Error");
        let mut response = (status, reason).into_response();
        report.attach(&mut response);
        response
    }
}
