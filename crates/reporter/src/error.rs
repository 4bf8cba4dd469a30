//! Handing a handler's error to the layer, so the 5xx event carries the error itself.

use std::error::Error as StdError;
use std::sync::Arc;

use backtrace::Backtrace;
use http::{Response, StatusCode};

use crate::failure::CapturedError;

/// A boxed error, as `?` makes of any error (the type `Reported` also accepts).
pub type BoxError = Box<dyn StdError + Send + Sync>;

/// A response extension that carries an error's type, text, `source()` chain and the
/// backtrace of where it was captured.
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
        E: StdError + ?Sized + 'static,
    {
        ErrorReport(Arc::new(CapturedError::from_error(error)))
    }

    /// Puts the report into `response`'s extensions, where the layer finds it.
    pub fn attach<B>(self, response: &mut Response<B>) {
        response.extensions_mut().insert(self);
    }
}

/// A handler error that answers 500 and is reported with its source chain and the
/// backtrace of the `?` that returned it.
///
/// The client sees only `Internal Server Error`; the error's text goes to the collector.
/// `?` converts the error into it, and that conversion records where it happened, so
/// the report points at the function that used `?`:
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
///
/// `E` is any error type, or [`BoxError`] (`Box<dyn Error + Send + Sync>`), or, with the
/// `anyhow` feature, `anyhow::Error` (reported with its own backtrace when it captured
/// one, and its context chain).
#[derive(Debug)]
pub struct Reported<E> {
    /// The error.
    pub error: E,
    /// The status to answer with (default 500).
    pub status: StatusCode,
    /// Where the error was converted, when a reporter is live.
    #[cfg_attr(not(any(feature = "axum", feature = "actix")), allow(dead_code))]
    origin: Option<Backtrace>,
}

impl<E: std::fmt::Display> std::fmt::Display for Reported<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl<E> Reported<E> {
    /// Wraps `error`, recording where this call is (what `?` does through `From`).
    pub fn new(error: E) -> Self {
        Reported {
            error,
            status: StatusCode::INTERNAL_SERVER_ERROR,
            // Capturing costs microseconds; skip it when nothing would report it.
            origin: crate::client::any_live().then(Backtrace::new_unresolved),
        }
    }

    /// Answers with `status` instead of 500 (it is reported if the layer's predicate says so).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
}

impl<E> From<E> for Reported<E> {
    fn from(error: E) -> Self {
        Reported::new(error)
    }
}

#[cfg(any(feature = "axum", feature = "actix"))]
impl<E> Reported<E>
where
    E: Into<BoxError> + 'static,
{
    /// The report for the layer: the chain and where the error came from. Consumes the
    /// error (the response does not need it any more).
    pub(crate) fn into_report(self) -> (StatusCode, ErrorReport) {
        let status = self.status;
        let captured = capture(self.error, self.origin);
        (status, ErrorReport(Arc::new(captured)))
    }
}

/// Captures `error`'s chain, taking `anyhow`'s own backtrace when it has one.
#[cfg(any(feature = "axum", feature = "actix"))]
fn capture<E>(error: E, origin: Option<Backtrace>) -> CapturedError
where
    E: Into<BoxError> + 'static,
{
    #[allow(unused_mut)] // Only the `anyhow` feature takes the error out.
    let mut slot = Some(error);
    #[cfg(feature = "anyhow")]
    if let Some(anyhow) = (&mut slot as &mut dyn std::any::Any)
        .downcast_mut::<Option<anyhow::Error>>()
        .and_then(Option::take)
    {
        return CapturedError::from_anyhow(anyhow, origin);
    }
    let type_name = std::any::type_name::<E>();
    match slot.map(Into::<BoxError>::into) {
        Some(boxed) => CapturedError::from_boxed(type_name, boxed.as_ref(), origin),
        None => CapturedError {
            chain: Vec::new(),
            trace: origin.map(crate::failure::Trace::Unresolved),
        },
    }
}
