//! The tower [`Layer`]: configuration only; it builds a [`ReporterService`] per service.

use std::sync::Arc;

use bytes::Bytes;
use http::{Extensions, HeaderMap, HeaderName, Response, StatusCode};
use mayday_protocol::User;
use tower_layer::Layer;

use super::service::ReporterService;
use super::settings::{Settings, default_panic_response};
use crate::client::Reporter;
use crate::event_id::EVENT_ID_HEADER;

impl Reporter {
    /// The tower layer that reports panics and 5xx responses of the service it wraps.
    pub fn layer(&self) -> ReporterLayer {
        ReporterLayer::new(self.clone())
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
                body: crate::body::BodyCapture::Off,
                error_page: None,
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

    /// Keeps request bodies for failures' events: with [`BodyCapture::Json`], up to
    /// `max_bytes` of each JSON or form body, as the handler read it, sensitive fields
    /// filtered by name like headers (`password`, `token`, `card`, ... and
    /// [`ReporterBuilder::scrub`](crate::ReporterBuilder) names). Off by default; the
    /// handler gets the body unchanged either way. Bodies of axum's `Body` type (any axum
    /// app); other body types pass through without a copy.
    ///
    /// ```
    /// use mayday_reporter::BodyCapture;
    /// let reporter = mayday_reporter::Reporter::disabled();
    /// let layer = reporter.layer().capture_body(BodyCapture::Json { max_bytes: 16 * 1024 });
    /// ```
    pub fn capture_body(mut self, capture: crate::body::BodyCapture) -> Self {
        Arc::make_mut(&mut self.settings).body = capture;
        self
    }

    /// For requests that accept HTML (a browser loading a page), answers a failure with
    /// a small page showing the event id and a form asking what the person was doing;
    /// the layer answers the form's post itself (at [`ErrorPage::path`],
    /// `/_mayday/feedback` by default) and forwards the words to the collector as
    /// feedback on that event, with the signed-in user's name and email filled in.
    /// Other requests keep their answers. A handler's 5xx that is already HTML is left
    /// as it is.
    ///
    /// ```
    /// use mayday_reporter::{ErrorPage, Reporter};
    ///
    /// let layer = Reporter::disabled().layer().error_page(ErrorPage::default());
    /// # let _ = layer;
    /// ```
    ///
    /// [`ErrorPage::path`]: crate::ErrorPage::path
    pub fn error_page(mut self, page: crate::ErrorPage) -> Self {
        Arc::make_mut(&mut self.settings).error_page = Some(Arc::new(page));
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

impl<S> Layer<S> for ReporterLayer {
    type Service = ReporterService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ReporterService::new(inner, self.settings.clone())
    }
}
