//! The actix-web middleware: the same capture as the tower layer, for actix-web apps.
//!
//! ```no_run
//! use actix_web::{App, HttpServer, web};
//!
//! # async fn run() -> std::io::Result<()> {
//! let reporter = mayday_reporter::Reporter::from_env(mayday_reporter::build_info!()).unwrap();
//! HttpServer::new(move || {
//!     App::new()
//!         .wrap(reporter.actix())
//!         .route("/", web::get().to(|| async { "hello" }))
//! })
//! .bind("127.0.0.1:3000")?
//! .run()
//! .await
//! # }
//! ```

use std::future::{Future, Ready, ready};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use mayday_protocol::{EventId, User};
use pin_project_lite::pin_project;

use crate::client::Reporter;
use crate::error::{BoxError, ErrorReport, Reported};
use crate::error_page::{ErrorPage, Prefill};
use crate::event_id::EVENT_ID_HEADER;
use crate::failure::{CapturedError, ErrorLink, Failure};
use crate::request::{HeaderList, Headers, RequestSnapshot};
use crate::request_counts::Outcome;
use crate::scope::{CurrentRequest, LazyScope, PollGuard, Scope, UnreportedGuard};

type UserResolver = Arc<dyn Fn(&ServiceRequest) -> Option<User> + Send + Sync>;
type StatusPredicate = Arc<dyn Fn(u16) -> bool + Send + Sync>;

/// What the middleware needs per request.
#[derive(Clone)]
pub(crate) struct ActixSettings {
    pub(crate) reporter: Reporter,
    user: Option<UserResolver>,
    report_status: StatusPredicate,
    event_id_header: Option<HeaderName>,
    body: crate::body::BodyCapture,
    error_page: Option<Arc<ErrorPage>>,
}

impl std::fmt::Debug for ActixSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActixSettings")
            .field("reporter", &self.reporter)
            .field("user_resolver", &self.user.is_some())
            .finish_non_exhaustive()
    }
}

impl ActixSettings {
    /// Marks a reported response: the event id as an extension (so that an outer
    /// middleware does not report it again) and, unless turned off, as a header.
    fn mark<B>(&self, response: &mut HttpResponse<B>, event_id: EventId) {
        response.extensions_mut().insert(event_id);
        if let Some(name) = &self.event_id_header {
            if let Ok(value) = HeaderValue::from_str(&event_id.to_string()) {
                response.headers_mut().insert(name.clone(), value);
            }
        }
    }
}

/// Reports panics and failing responses of an actix-web app. Made by
/// [`Reporter::actix`]; add it with `App::wrap`.
#[derive(Clone, Debug)]
pub struct ActixReporter {
    settings: Arc<ActixSettings>,
}

impl Reporter {
    /// The actix-web middleware reporting to this reporter.
    pub fn actix(&self) -> ActixReporter {
        ActixReporter {
            settings: Arc::new(ActixSettings {
                reporter: self.clone(),
                user: None,
                report_status: Arc::new(|status| status >= 500),
                event_id_header: Some(HeaderName::from_static(EVENT_ID_HEADER)),
                body: crate::body::BodyCapture::Off,
                error_page: None,
            }),
        }
    }
}

impl ActixReporter {
    /// Finds the signed-in user of each request (from its extensions or headers). Runs
    /// once per request; handlers can also set the user through the [`Scope`].
    pub fn user<F>(mut self, resolver: F) -> Self
    where
        F: Fn(&ServiceRequest) -> Option<User> + Send + Sync + 'static,
    {
        Arc::make_mut(&mut self.settings).user = Some(Arc::new(resolver));
        self
    }

    /// Which response statuses are reported (default: every 5xx).
    pub fn report_status<F>(mut self, predicate: F) -> Self
    where
        F: Fn(u16) -> bool + Send + Sync + 'static,
    {
        Arc::make_mut(&mut self.settings).report_status = Arc::new(predicate);
        self
    }

    /// The header that tells the client the id of the event a failing response was
    /// reported as (default `X-Mayday-Event-Id`; `None` sends none).
    pub fn event_id_header(mut self, name: Option<HeaderName>) -> Self {
        Arc::make_mut(&mut self.settings).event_id_header = name;
        self
    }

    /// Keeps JSON and form request bodies for failures' events, scrubbed; see
    /// [`ReporterLayer::capture_body`](crate::ReporterLayer::capture_body).
    ///
    /// ```
    /// use mayday_reporter::BodyCapture;
    /// let middleware = mayday_reporter::Reporter::disabled()
    ///     .actix()
    ///     .capture_body(BodyCapture::Json { max_bytes: 16 * 1024 });
    /// ```
    pub fn capture_body(mut self, capture: crate::body::BodyCapture) -> Self {
        Arc::make_mut(&mut self.settings).body = capture;
        self
    }

    /// The HTML error page with its feedback form, as
    /// [`ReporterLayer::error_page`](crate::ReporterLayer::error_page) gives it: for
    /// requests that accept HTML, a panic, a 5xx error or a 5xx response that is not
    /// HTML already is answered with the page; the middleware answers the form's post.
    ///
    /// ```
    /// let middleware = mayday_reporter::Reporter::disabled()
    ///     .actix()
    ///     .error_page(mayday_reporter::ErrorPage::default());
    /// # let _ = middleware;
    /// ```
    pub fn error_page(mut self, page: ErrorPage) -> Self {
        Arc::make_mut(&mut self.settings).error_page = Some(Arc::new(page));
        self
    }
}

/// A failure's HTML page for this request: the page and who to fill the form in for.
type ErrorHtml = Arc<(Arc<ErrorPage>, Prefill)>;

/// A response the middleware makes itself (the error page's form post).
type OwnResponse = Pin<Box<dyn Future<Output = ServiceResponse<BoxBody>>>>;

/// `response` (an `http` 1 response the error page made) as actix-web's.
fn to_actix(response: http::Response<bytes::Bytes>) -> HttpResponse {
    let mut out = HttpResponse::build(
        actix_web::http::StatusCode::from_u16(response.status().as_u16())
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR),
    );
    for (name, value) in response.headers() {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_str().as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            out.insert_header((name, value));
        }
    }
    out.body(response.into_body())
}

/// Whether a response is already an HTML page.
fn is_html<B>(response: &HttpResponse<B>) -> bool {
    response
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

impl<S, B> Transform<S, ServiceRequest> for ActixReporter
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = ActixReporterService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ActixReporterService {
            service: Rc::new(service),
            settings: self.settings.clone(),
        }))
    }
}

/// The middleware's service.
pub struct ActixReporterService<S> {
    service: Rc<S>,
    settings: Arc<ActixSettings>,
}

/// Keeps the request head for the error path. actix-web uses `http` 0.2 types: the
/// method and URI are converted (cheap for standard methods and origin-form URIs), the
/// headers are kept in actix's own map and converted only if something is reported. The
/// matched route is looked up only when a response is reported (the lookup costs about
/// as much as routing itself).
fn snapshot(request: &ServiceRequest, with_ip: bool) -> RequestSnapshot {
    let method = http::Method::from_bytes(request.method().as_str().as_bytes()).unwrap_or_default();
    let uri = request
        .uri()
        .path_and_query()
        .and_then(|p| http::Uri::try_from(p.as_str()).ok())
        .unwrap_or_default();
    let client_ip = with_ip
        .then(|| {
            request
                .connection_info()
                .realip_remote_addr()
                .map(str::to_owned)
        })
        .flatten()
        .map(|addr| {
            addr.rsplit_once(':').map_or(addr.clone(), |(ip, _)| {
                ip.trim_matches(['[', ']']).to_owned()
            })
        });
    RequestSnapshot {
        method,
        uri,
        headers: Headers::Other(Box::new(ActixHeaders(request.headers().clone()))),
        route: None,
        client_ip,
        framework: ("actix-web", crate::build_info::ACTIX_VERSION),
        body: None,
    }
}

/// When the app asked for bodies and this one is JSON or a form: the payload replaced
/// by one that copies what the handler reads, and the copy's sink.
fn tee_payload(
    request: &mut ServiceRequest,
    capture: crate::body::BodyCapture,
) -> Option<Arc<crate::body::CapturedBody>> {
    let content_type = request
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let sink = capture.sink_for(content_type)?;
    let payload = actix_web::HttpMessage::take_payload(request);
    let tee: std::pin::Pin<
        Box<dyn futures_core::Stream<Item = Result<bytes::Bytes, actix_web::error::PayloadError>>>,
    > = Box::pin(TeePayload {
        inner: payload,
        sink: sink.clone(),
    });
    request.set_payload(Payload::from(tee));
    Some(sink)
}

pin_project! {
    /// A request payload that copies its chunks into a sink as the handler reads them.
    struct TeePayload {
        #[pin]
        inner: Payload,
        sink: Arc<crate::body::CapturedBody>,
    }
}

impl futures_core::Stream for TeePayload {
    type Item = Result<bytes::Bytes, actix_web::error::PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        let polled = this.inner.poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &polled {
            this.sink.push(chunk);
        }
        polled
    }
}

/// actix-web's header map (it uses `http` 0.2 types), cloned as is on the request path
/// and read only when something is reported.
#[derive(Debug, Clone)]
struct ActixHeaders(actix_web::http::header::HeaderMap);

impl HeaderList for ActixHeaders {
    fn pairs(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect()
    }

    fn clone_box(&self) -> Box<dyn HeaderList> {
        Box::new(self.clone())
    }
}

impl<S, B> Service<ServiceRequest> for ActixReporterService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = ActixFuture<S::Future>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, mut request: ServiceRequest) -> Self::Future {
        let settings = &self.settings;
        if let Some(page) = &settings.error_page
            && page.is_feedback_post(&http::Method::POST, request.path())
            && request.method() == actix_web::http::Method::POST
        {
            let (page, reporter) = (page.clone(), settings.reporter.clone());
            let future: OwnResponse = Box::pin(async move {
                let form = request
                    .extract::<actix_web::web::Bytes>()
                    .await
                    .unwrap_or_default();
                let form = &form[..form.len().min(crate::error_page::MAX_FORM)];
                let answer = to_actix(page.receive(&reporter, form));
                request.into_response(answer)
            });
            return ActixFuture {
                state: ActixState::Own { future },
                settings: settings.clone(),
                html: None,
                counting: None,
            };
        }
        let wants_html = settings.error_page.as_ref().filter(|_| {
            request
                .headers()
                .get(actix_web::http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|accept| accept.contains("text/html"))
        });
        if !settings.reporter.is_enabled() {
            let html = wants_html.map(|page| Arc::new((page.clone(), Prefill::of(None))));
            // Not reporting, but a panic still answers 500, as it would in production.
            let called = {
                let _unreported = UnreportedGuard::enter();
                catch_unwind(AssertUnwindSafe(|| self.service.call(request)))
            };
            let state = match called {
                Ok(future) => ActixState::Unreported { future },
                Err(_) => ActixState::Panicked { event_id: None },
            };
            return ActixFuture {
                state,
                settings: settings.clone(),
                html,
                counting: None,
            };
        }
        let mut snapshot = snapshot(&request, settings.reporter.send_ip());
        if settings.body != crate::body::BodyCapture::Off {
            snapshot.body = tee_payload(&mut request, settings.body);
        }
        // The route's pattern now, while the request is ours: a panic or an error
        // later leaves no request to ask.
        let counting = settings.reporter.counts_requests().then(|| Counting {
            method: request.method().clone(),
            pattern: request.match_pattern(),
        });
        let user = settings.user.as_ref().and_then(|resolve| resolve(&request));
        let html = wants_html.map(|page| Arc::new((page.clone(), Prefill::of(user.as_ref()))));
        let scope = LazyScope::new(settings.reporter.clone(), snapshot, None, user);
        let called = {
            let _polling = PollGuard::enter(&scope);
            catch_unwind(AssertUnwindSafe(|| self.service.call(request)))
        };
        let state = match called {
            Ok(future) => ActixState::Watching { future, scope },
            Err(payload) => ActixState::Panicked {
                event_id: scope.report_panic(payload.as_ref()),
            },
        };
        ActixFuture {
            state,
            settings: settings.clone(),
            html,
            counting,
        }
    }
}

/// What a request's outcome is counted under.
#[derive(Debug)]
struct Counting {
    method: actix_web::http::Method,
    /// The route's pattern (`/orders/{id}`), `None` when no route matched.
    pattern: Option<String>,
}

/// Counts a request that ended as `outcome`.
fn count(settings: &ActixSettings, counting: Option<Counting>, outcome: Outcome) {
    if let Some(counting) = counting
        && let Some(counter) = settings.reporter.request_counter(
            counting.method.as_str(),
            counting.pattern.as_deref().unwrap_or(""),
        )
    {
        counter.add(outcome);
    }
}

/// The answer to a panic: an error that actix-web renders as `500 Internal Server
/// Error`, with the event id header. (A response would need the request, which the
/// panicked service consumed.)
fn panic_error(
    settings: &ActixSettings,
    event_id: Option<EventId>,
    html: Option<&ErrorHtml>,
) -> actix_web::Error {
    let mut response = match html {
        Some(html) => to_actix(html.0.page(event_id, &html.1)),
        None => HttpResponse::InternalServerError()
            .content_type("text/plain; charset=utf-8")
            .body("Internal Server Error"),
    };
    if let Some(event_id) = event_id {
        settings.mark(&mut response, event_id);
    }
    actix_web::error::InternalError::from_response("Internal Server Error", response).into()
}

pin_project! {
    /// The middleware's future.
    pub struct ActixFuture<F> {
        #[pin]
        state: ActixState<F>,
        settings: Arc<ActixSettings>,
        html: Option<ErrorHtml>,
        // The request's method and route while its outcome is to be counted (taken
        // when counted).
        counting: Option<Counting>,
    }
}

pin_project! {
    #[project = ActixStateProj]
    enum ActixState<F> {
        Unreported { #[pin] future: F },
        Watching {
            #[pin]
            future: F,
            scope: LazyScope,
        },
        Panicked { event_id: Option<EventId> },
        Own { future: OwnResponse },
        Done,
    }
}

impl<F, B> Future for ActixFuture<F>
where
    F: Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
    B: MessageBody,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let settings: &ActixSettings = this.settings;
        let html = this.html.as_ref();
        let counting = this.counting;
        let mut state = this.state;
        let (polled, scope) = match state.as_mut().project() {
            ActixStateProj::Unreported { future } => {
                let _unreported = UnreportedGuard::enter();
                (catch_unwind(AssertUnwindSafe(|| future.poll(cx))), None)
            }
            ActixStateProj::Watching { future, scope } => {
                let scope: &LazyScope = scope;
                let polled = {
                    let _polling = PollGuard::enter(scope);
                    catch_unwind(AssertUnwindSafe(|| future.poll(cx)))
                };
                (polled, Some(scope))
            }
            ActixStateProj::Panicked { event_id } => {
                count(settings, counting.take(), Outcome::Crashed);
                let error = panic_error(settings, *event_id, html);
                state.set(ActixState::Done);
                return Poll::Ready(Err(error));
            }
            ActixStateProj::Own { future } => {
                return future
                    .as_mut()
                    .poll(cx)
                    .map(|response| Ok(response.map_into_right_body()));
            }
            ActixStateProj::Done => panic!("ActixFuture polled after completion"),
        };
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(Ok(mut response))) => {
                let outcome = if response.status().is_server_error() {
                    Outcome::Errored
                } else {
                    Outcome::Ok
                };
                count(settings, counting.take(), outcome);
                if let Some(scope) = scope {
                    report_response(scope, settings, &mut response);
                }
                if let Some(html) = html
                    && response.status().is_server_error()
                    && !is_html(response.response())
                {
                    let event_id = response.response().extensions().get::<EventId>().copied();
                    let mut page = to_actix(html.0.page(event_id, &html.1));
                    if let Some(event_id) = event_id {
                        settings.mark(&mut page, event_id);
                    }
                    return Poll::Ready(Ok(response.into_response(page).map_into_right_body()));
                }
                Poll::Ready(Ok(response.map_into_left_body()))
            }
            Ok(Poll::Ready(Err(error))) => {
                let status = error.as_response_error().status_code();
                let outcome = if status.is_server_error() {
                    Outcome::Errored
                } else {
                    Outcome::Ok
                };
                count(settings, counting.take(), outcome);
                // The error becomes a response further out; report it as one.
                if let Some(scope) = scope {
                    let status = error.as_response_error().status_code().as_u16();
                    if (settings.report_status)(status) {
                        // A panic that code inside caught and turned into this error is
                        // reported as the panic.
                        let failure = match scope.take_panic() {
                            Some(panic) => Failure::Panic(panic),
                            None => status_failure(status, None, Some(&error)),
                        };
                        let event_id = scope.capture(failure);
                        if let Some(html) = html
                            && status >= 500
                        {
                            let mut page = to_actix(html.0.page(event_id, &html.1));
                            if let Some(event_id) = event_id {
                                settings.mark(&mut page, event_id);
                            }
                            let cause = error.to_string();
                            return Poll::Ready(Err(
                                actix_web::error::InternalError::from_response(cause, page).into(),
                            ));
                        }
                    }
                }
                Poll::Ready(Err(error))
            }
            Err(payload) => {
                count(settings, counting.take(), Outcome::Crashed);
                let event_id = scope.and_then(|scope| scope.report_panic(payload.as_ref()));
                let error = panic_error(settings, event_id, html);
                // The inner future is poisoned; never poll it again.
                state.set(ActixState::Done);
                Poll::Ready(Err(error))
            }
        }
    }
}

/// Reports a response the predicate picks: as a panic that code inside caught and
/// turned into it, else as the handed-over error or `ResponseError`, else the status.
fn report_response<B>(
    scope: &LazyScope,
    settings: &ActixSettings,
    response: &mut ServiceResponse<B>,
) {
    let status = response.status().as_u16();
    if response.response().extensions().get::<EventId>().is_some()
        || !(settings.report_status)(status)
    {
        return;
    }
    let route = response.request().match_pattern();
    let failure = match scope.take_panic() {
        Some(panic) => Failure::Panic(panic),
        None => {
            let handed_over = response
                .response()
                .extensions()
                .get::<ErrorReport>()
                .cloned();
            status_failure(status, handed_over, response.response().error())
        }
    };
    if let Some(event_id) = scope.capture_routed(failure, route) {
        settings.mark(response.response_mut(), event_id);
    }
}

/// The failure for a reported status: the handed-over error, else the `ResponseError`
/// the handler returned, else just the status.
fn status_failure(
    status: u16,
    report: Option<ErrorReport>,
    error: Option<&actix_web::Error>,
) -> Failure {
    let status =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let error = report.map(|r| r.0).or_else(|| {
        error.map(|error| {
            let inner = error.as_response_error();
            Arc::new(CapturedError {
                chain: vec![ErrorLink::from_debug_display(inner)],
                trace: None,
            })
        })
    });
    Failure::Status { status, error }
}

/// `Result<T, Reported<E>>` handlers: the error answers with its status (a body of the
/// status's reason) and carries its chain and the backtrace of the `?` to the
/// middleware.
impl<E> From<Reported<E>> for actix_web::Error
where
    E: Into<BoxError> + 'static,
{
    fn from(reported: Reported<E>) -> Self {
        let (status, report) = reported.into_report();
        let status = actix_web::http::StatusCode::from_u16(status.as_u16())
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
        let reason = status.canonical_reason().unwrap_or("Error");
        let mut response = HttpResponse::build(status)
            .content_type("text/plain; charset=utf-8")
            .body(reason);
        response.extensions_mut().insert(report);
        actix_web::error::InternalError::from_response(reason, response).into()
    }
}

/// Takes the current request's scope ([`Scope::current`]); without the middleware, a
/// scope that reports nowhere.
impl FromRequest for Scope {
    type Error = actix_web::Error;
    type Future = Ready<Result<Scope, actix_web::Error>>;

    fn from_request(_request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Ok(
            Scope::current().unwrap_or_else(|| Scope::detached(&Reporter::disabled()))
        ))
    }
}
