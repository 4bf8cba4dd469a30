//! Handing a handler's error to the layer, so the 5xx event carries the error itself.

use std::sync::Arc;

use http::{Response, StatusCode};

use crate::capture::CapturedError;

/// A response extension that carries an error's type, text, `source()` chain and the
/// backtrace of where it was turned into a response.
///
/// Insert it from your own `IntoResponse` impl when you do not want [`Reported`]:
///
/// ```
/// let error = std::io::Error::other("disk full");
/// let mut response = http::Response::new(());
/// *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
/// mayday_reporter::ErrorReport::new(&error).attach(&mut response);
/// assert!(response.extensions().get::<mayday_reporter::ErrorReport>().is_some());
/// ```
#[derive(Debug, Clone)]
pub struct ErrorReport(pub(crate) Arc<CapturedError>);

impl ErrorReport {
    /// Captures `error` now: its chain, and an unresolved backtrace of this call site.
    pub fn new<E>(error: &E) -> Self
    where
        E: std::error::Error + ?Sized + 'static,
    {
        ErrorReport(Arc::new(CapturedError::from_error(error)))
    }

    /// Puts the report into `response`'s extensions, where the layer finds it.
    pub fn attach<B>(self, response: &mut Response<B>) {
        response.extensions_mut().insert(self);
    }
}

/// A handler error that answers 500 and is reported with its source chain.
///
/// The client sees only `Internal Server Error`; the error's text goes to the collector.
/// `?` converts any error into it:
///
/// ```
/// use mayday_reporter::Reported;
///
/// async fn order() -> Result<String, Reported<std::io::Error>> {
///     let text = std::fs::read_to_string("/nonexistent/order.json")?;
///     Ok(text)
/// }
/// # let _ = axum::Router::<()>::new().route("/order", axum::routing::get(order));
/// ```
#[derive(Debug)]
pub struct Reported<E> {
    /// The error.
    pub error: E,
    /// The status to answer with (default 500).
    pub status: StatusCode,
}

impl<E: std::fmt::Display> std::fmt::Display for Reported<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl<E> Reported<E> {
    /// Answers with `status` instead of 500 (it is reported if the layer's predicate says so).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
}

impl<E> From<E> for Reported<E> {
    fn from(error: E) -> Self {
        Reported {
            error,
            status: StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

#[cfg(feature = "axum")]
impl<E> axum::response::IntoResponse for Reported<E>
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn into_response(self) -> axum::response::Response {
        let reason = self.status.canonical_reason().unwrap_or("Error");
        let mut response = (self.status, reason).into_response();
        ErrorReport::new(&self.error).attach(&mut response);
        response
    }
}
