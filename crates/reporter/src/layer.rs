//! The tower [`Layer`]: configuration only; it builds a [`ReporterService`] per service.

use std::sync::Arc;

use bytes::Bytes;
use http::{Extensions, HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use mayday_protocol::{EventId, User};
use tower_layer::Layer;

use crate::reporter::Reporter;
use crate::service::ReporterService;

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
}

/// The header that carries a reported response's event id, unless configured otherwise.
pub const EVENT_ID_HEADER: &str = "x-mayday-event-id";

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

/// Reports panics and failing responses of the service it wraps.
///
/// Add it with axum's `Router::layer` (it then sees the matched route) or any tower
/// `ServiceBuilder`. Layers added after it run before it: put it before the auth
/// middleware in the code if its user resolver needs what that middleware sets.
///
/// ```
/// use axum::{Router, routing::get};
///
/// let reporter = mayday_reporter::Reporter::from_env(mayday_reporter::build_info!())?;
/// let app: Router = Router::new()
///     .route("/", get(|| async { "hello" }))
///     .layer(reporter.layer());
/// # Ok::<(), mayday_reporter::ReporterError>(())
/// ```
#[derive(Clone)]
pub struct ReporterLayer {
    settings: Arc<Settings>,
}

impl std::fmt::Debug for ReporterLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReporterLayer")
            .field("enabled", &self.settings.reporter.is_enabled())
            .field("user_resolver", &self.settings.user.is_some())
            .finish_non_exhaustive()
    }
}

impl ReporterLayer {
    pub(crate) fn new(reporter: Reporter) -> Self {
        ReporterLayer {
            settings: Arc::new(Settings {
                reporter,
                user: None,
                report_status: Arc::new(|status| status.is_server_error()),
                panic_response: Arc::new(default_panic_response),
                event_id_header: Some(HeaderName::from_static(EVENT_ID_HEADER)),
            }),
        }
    }

    /// Finds the signed-in user of each request, from the extensions your auth middleware
    /// set or from the headers. Runs once per request, so keep it cheap; handlers can also
    /// set the user later through the [`Scope`](crate::Scope).
    ///
    /// ```
    /// # #[derive(Clone)] struct CurrentUser { id: u64, email: String }
    /// let reporter = mayday_reporter::Reporter::disabled();
    /// let layer = reporter.layer().user(|extensions, _headers| {
    ///     extensions.get::<CurrentUser>().map(|u| mayday_reporter::User {
    ///         id: Some(u.id.to_string()),
    ///         email: Some(u.email.clone()),
    ///         ..Default::default()
    ///     })
    /// });
    /// ```
    pub fn user<F>(mut self, resolver: F) -> Self
    where
        F: Fn(&Extensions, &HeaderMap) -> Option<User> + Send + Sync + 'static,
    {
        Arc::make_mut(&mut self.settings).user = Some(Arc::new(resolver));
        self
    }

    /// Which response statuses are reported (default: every 5xx).
    pub fn report_status<F>(mut self, predicate: F) -> Self
    where
        F: Fn(StatusCode) -> bool + Send + Sync + 'static,
    {
        Arc::make_mut(&mut self.settings).report_status = Arc::new(predicate);
        self
    }

    /// The header that tells the client the id of the event a failing response was
    /// reported as (default `X-Mayday-Event-Id`; `None` sends none). Show it on your
    /// error page, and a user's screenshot leads straight to their crash.
    ///
    /// ```
    /// let reporter = mayday_reporter::Reporter::disabled();
    /// let layer = reporter.layer().event_id_header(Some(http::HeaderName::from_static("x-error-id")));
    /// let quiet = reporter.layer().event_id_header(None);
    /// ```
    pub fn event_id_header(mut self, name: Option<HeaderName>) -> Self {
        Arc::make_mut(&mut self.settings).event_id_header = name;
        self
    }

    /// The response sent when a handler panics (default: 500, `Internal Server Error`).
    pub fn panic_response<F>(mut self, respond: F) -> Self
    where
        F: Fn() -> Response<Bytes> + Send + Sync + 'static,
    {
        Arc::make_mut(&mut self.settings).panic_response = Arc::new(respond);
        self
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

impl<S> Layer<S> for ReporterLayer {
    type Service = ReporterService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ReporterService::new(inner, self.settings.clone())
    }
}
