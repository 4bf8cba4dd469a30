//! The matched route, as the tower adapter keeps it until a failure needs it: axum's
//! shared `MatchedPath`, so that requests that never fail copy nothing.

use http::Request;

/// How the route is kept until needed: axum's shared `MatchedPath`.
#[cfg(feature = "axum")]
pub(crate) type Route = axum::extract::MatchedPath;
/// Without axum there is no matched route.
#[cfg(not(feature = "axum"))]
pub(crate) type Route = String;

#[cfg(feature = "axum")]
pub(crate) fn route<B>(request: &Request<B>) -> Option<Route> {
    crate::axum_parts::matched_route(request)
}

#[cfg(not(feature = "axum"))]
pub(crate) fn route<B>(_request: &Request<B>) -> Option<Route> {
    None
}
