//! What a request needs from its layer: the reporter, the user resolver, which statuses
//! to report, the panic response and the event id header, behind one `Arc`.

use std::sync::Arc;

use bytes::Bytes;
use http::{Extensions, HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use mayday_protocol::{EventId, User};

use crate::client::Reporter;

pub(crate) type UserResolver = Arc<dyn Fn(&Extensions, &HeaderMap) -> Option<User> + Send + Sync>;
pub(crate) type StatusPredicate = Arc<dyn Fn(StatusCode) -> bool + Send + Sync>;
pub(crate) type PanicResponder = Arc<dyn Fn() -> Response<Bytes> + Send + Sync>;

/// Everything a request needs from its layer, behind one `Arc` so that each request
/// costs one reference count.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) reporter: Reporter,
    pub(crate) user: Option<UserResolver>,
    pub(crate) report_status: StatusPredicate,
    pub(crate) panic_response: PanicResponder,
    pub(crate) event_id_header: Option<HeaderName>,
    pub(crate) body: crate::body::BodyCapture,
    /// The HTML error page and its feedback route, when the app asked for them.
    pub(crate) error_page: Option<Arc<crate::error_page::ErrorPage>>,
}

impl Settings {
    /// Marks `response` as reported as `event_id`: an extension (so that an outer layer
    /// does not report it again) and, unless turned off, a header a support person can
    /// read off a screenshot of the error page.
    pub(crate) fn mark<B>(&self, response: &mut Response<B>, event_id: EventId) {
        response.extensions_mut().insert(event_id);
        if let Some(name) = &self.event_id_header {
            if let Ok(value) = HeaderValue::from_str(&event_id.to_string()) {
                response.headers_mut().insert(name.clone(), value);
            }
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("reporter", &self.reporter)
            .field("user_resolver", &self.user.is_some())
            .finish_non_exhaustive()
    }
}

pub(crate) fn default_panic_response() -> Response<Bytes> {
    let mut response = Response::new(Bytes::from_static(b"Internal Server Error"));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
