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

use std::any::Any;
use std::future::{Future, Ready, ready};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError};
use pin_project_lite::pin_project;

use crate::capture::{
    CapturedError, CatchGuard, ErrorLink, Failure, Headers, PanicCapture, RequestSnapshot, Route,
    take_last_panic,
};
use crate::error::{ErrorReport, Reported};
use crate::reporter::Reporter;
use crate::scope::{LazyScope, Scope, ScopeOwner};
use mayday_protocol::User;

type UserResolver = Arc<dyn Fn(&ServiceRequest) -> Option<User> + Send + Sync>;
type StatusPredicate = Arc<dyn Fn(u16) -> bool + Send + Sync>;

/// What the middleware needs per request.
pub(crate) struct ActixSettings {
    pub(crate) reporter: Reporter,
    user: Option<UserResolver>,
    report_status: StatusPredicate,
}

impl std::fmt::Debug for ActixSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActixSettings")
            .field("reporter", &self.reporter)
            .field("user_resolver", &self.user.is_some())
            .finish_non_exhaustive()
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
            }),
        }
    }
}

impl ActixReporter {
    fn settings_mut(&mut self) -> &mut ActixSettings {
        // Settings are only changed while building, before any clone is shared.
        Arc::get_mut(&mut self.settings).expect("configure the middleware before cloning it")
    }

    /// Finds the signed-in user of each request (from its extensions or headers). Runs
    /// once per request; handlers can also set the user through the [`Scope`].
    pub fn user<F>(mut self, resolver: F) -> Self
    where
        F: Fn(&ServiceRequest) -> Option<User> + Send + Sync + 'static,
    {
        self.settings_mut().user = Some(Arc::new(resolver));
        self
    }

    /// Which response statuses are reported (default: every 5xx).
    pub fn report_status<F>(mut self, predicate: F) -> Self
    where
        F: Fn(u16) -> bool + Send + Sync + 'static,
    {
        self.settings_mut().report_status = Arc::new(predicate);
        self
    }
}

impl<S, B> Transform<S, ServiceRequest> for ActixReporter
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
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
        headers: Headers::Actix(request.headers().clone()),
        route: None,
        client_ip,
        framework: ("actix-web", crate::build_info::ACTIX_VERSION),
    }
}

impl<S, B> Service<ServiceRequest> for ActixReporterService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = ActixFuture<S::Future>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let settings = &self.settings;
        if !settings.reporter.is_enabled() {
            return ActixFuture {
                state: ActixState::Passthrough {
                    future: self.service.call(request),
                },
            };
        }
        let snapshot = snapshot(&request, settings.reporter.send_ip());
        let user = settings.user.as_ref().and_then(|resolve| resolve(&request));
        let scope = LazyScope::new(ScopeOwner::Actix(settings.clone()), snapshot, user);
        let called = {
            let _inside = CatchGuard::enter(Some(&scope));
            catch_unwind(AssertUnwindSafe(|| self.service.call(request)))
        };
        match called {
            Ok(future) => ActixFuture {
                state: ActixState::Watching { future, scope },
            },
            Err(payload) => {
                report_panic(&scope, payload.as_ref());
                ActixFuture {
                    state: ActixState::Panicked { answered: false },
                }
            }
        }
    }
}

fn report_panic(scope: &LazyScope, payload: &(dyn Any + Send)) {
    let panic = take_last_panic().unwrap_or_else(|| PanicCapture::from_payload(payload));
    scope.capture(Failure::Panic(panic));
}

/// The answer to a panic: an error that actix-web turns into `500 Internal Server Error`.
/// (A response would need the request, which the panicked service consumed.)
fn panic_error() -> actix_web::Error {
    actix_web::error::InternalError::new(
        "Internal Server Error",
        actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
    )
    .into()
}

pin_project! {
    /// The middleware's future.
    pub struct ActixFuture<F> {
        #[pin]
        state: ActixState<F>,
    }
}

pin_project! {
    #[project = ActixStateProj]
    enum ActixState<F> {
        Passthrough { #[pin] future: F },
        Watching {
            #[pin]
            future: F,
            scope: LazyScope,
        },
        Panicked { answered: bool },
    }
}

impl<F, B> Future for ActixFuture<F>
where
    F: Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
    B: MessageBody,
{
    type Output = Result<ServiceResponse<B>, actix_web::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        match state.as_mut().project() {
            ActixStateProj::Passthrough { future } => future.poll(cx),
            ActixStateProj::Watching { future, scope } => {
                let polled = {
                    let _inside = CatchGuard::enter(Some(&*scope));
                    catch_unwind(AssertUnwindSafe(|| future.poll(cx)))
                };
                match polled {
                    Ok(Poll::Pending) => Poll::Pending,
                    Ok(Poll::Ready(Ok(response))) => {
                        report_status(scope, &response);
                        Poll::Ready(Ok(response))
                    }
                    Ok(Poll::Ready(Err(error))) => {
                        // The error becomes a response further out; report it as one.
                        let status = error.as_response_error().status_code().as_u16();
                        if let ScopeOwner::Actix(settings) = &scope.owner {
                            if (settings.report_status)(status) {
                                scope.capture(status_failure(status, None, Some(&error)));
                            }
                        }
                        Poll::Ready(Err(error))
                    }
                    Err(payload) => {
                        report_panic(scope, payload.as_ref());
                        // The inner future is poisoned; never poll it again.
                        state.set(ActixState::Panicked { answered: true });
                        Poll::Ready(Err(panic_error()))
                    }
                }
            }
            ActixStateProj::Panicked { answered } => {
                if *answered {
                    panic!("ActixFuture polled after completion");
                }
                *answered = true;
                Poll::Ready(Err(panic_error()))
            }
        }
    }
}

fn report_status<B>(scope: &LazyScope, response: &ServiceResponse<B>) {
    let ScopeOwner::Actix(settings) = &scope.owner else {
        return;
    };
    let status = response.status().as_u16();
    if !(settings.report_status)(status) {
        return;
    }
    let route = response.request().match_pattern().map(Route::Text);
    let handed_over = response
        .response()
        .extensions()
        .get::<ErrorReport>()
        .cloned();
    scope.capture_routed(
        status_failure(status, handed_over, response.response().error()),
        route,
    );
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
                backtrace: None,
            })
        })
    });
    Failure::Status { status, error }
}

/// Answers with the error's status and reports its chain (through the middleware).
impl<E> ResponseError for Reported<E>
where
    E: std::error::Error + 'static,
{
    fn status_code(&self) -> actix_web::http::StatusCode {
        actix_web::http::StatusCode::from_u16(self.status.as_u16())
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let reason = self.status.canonical_reason().unwrap_or("Error");
        let mut response = HttpResponse::build(self.status_code()).body(reason);
        response
            .extensions_mut()
            .insert(ErrorReport::new(&self.error));
        response
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
