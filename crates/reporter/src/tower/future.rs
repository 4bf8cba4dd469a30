//! The response future: polls the inner future inside `catch_unwind` and looks at the
//! response status on the way out.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::Response;
use mayday_protocol::EventId;
use pin_project_lite::pin_project;

use super::route::Route;
use super::settings::Settings;
use crate::error::ErrorReport;
use crate::error_page::{ErrorPage, Prefill};
use crate::failure::{CapturedError, ErrorLink, Failure};
use crate::request_counts::{Outcome, RouteCounter};
use crate::scope::{CurrentRequest, LazyScope, PollGuard, UnreportedGuard};

/// A failure's HTML page for this request: the page and who to fill the form in for.
pub(crate) type ErrorHtml = Arc<(Arc<ErrorPage>, Prefill)>;

/// A response the layer makes itself (the error page's form post).
pub(crate) type OwnResponse = Pin<Box<dyn Future<Output = Response<Bytes>> + Send>>;

pin_project! {
    /// The future of [`ReporterService`](crate::ReporterService).
    pub struct ResponseFuture<F> {
        #[pin]
        state: State<F>,
        html: Option<ErrorHtml>,
        // The request's route counter, taken when the request ends (a future dropped
        // before, its client gone, counts as neither).
        counter: Option<Arc<RouteCounter>>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        // Reporting is off: the inner future, a panic still answered with 500.
        Unreported {
            #[pin]
            future: F,
            settings: Arc<Settings>,
        },
        // The inner future, watched for panics and failing statuses.
        Watching {
            #[pin]
            future: F,
            scope: LazyScope<Route>,
            settings: Arc<Settings>,
        },
        // A panic was answered; the response is ready (taken once).
        Panicked { response: Option<Response<Bytes>> },
        // The layer answers the request itself.
        Own { future: OwnResponse },
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn unreported(future: F, settings: Arc<Settings>, html: Option<ErrorHtml>) -> Self {
        ResponseFuture {
            state: State::Unreported { future, settings },
            html,
            counter: None,
        }
    }

    pub(crate) fn watching(
        future: F,
        scope: LazyScope<Route>,
        settings: Arc<Settings>,
        html: Option<ErrorHtml>,
        counter: Option<Arc<RouteCounter>>,
    ) -> Self {
        ResponseFuture {
            state: State::Watching {
                future,
                scope,
                settings,
            },
            html,
            counter,
        }
    }

    /// `call` panicked: the panic response, marked with `event_id` if it was reported.
    pub(crate) fn panicked(
        settings: &Settings,
        event_id: Option<EventId>,
        html: Option<&ErrorHtml>,
    ) -> Self {
        ResponseFuture {
            state: State::Panicked {
                response: Some(panic_response(settings, event_id, html)),
            },
            html: None,
            counter: None,
        }
    }

    /// A response the layer makes itself.
    pub(crate) fn own(future: OwnResponse) -> Self {
        ResponseFuture {
            state: State::Own { future },
            html: None,
            counter: None,
        }
    }
}

fn panic_response(
    settings: &Settings,
    event_id: Option<EventId>,
    html: Option<&ErrorHtml>,
) -> Response<Bytes> {
    let mut response = match html {
        Some(html) => html.0.page(event_id, &html.1),
        None => (settings.panic_response)(),
    };
    if let Some(event_id) = event_id {
        settings.mark(&mut response, event_id);
    }
    response
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: std::fmt::Display + std::fmt::Debug,
    B: Default + 'static,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let html = this.html.as_ref();
        let counter = this.counter;
        let mut state = this.state;
        let (polled, settings, scope) = match state.as_mut().project() {
            StateProj::Unreported { future, settings } => {
                let polled = {
                    let _unreported = UnreportedGuard::enter();
                    catch_unwind(AssertUnwindSafe(|| future.poll(cx)))
                };
                (polled, &**settings, None)
            }
            StateProj::Watching {
                future,
                scope,
                settings,
            } => {
                let scope: &LazyScope<Route> = scope;
                let polled = {
                    let _polling = PollGuard::enter(scope);
                    catch_unwind(AssertUnwindSafe(|| future.poll(cx)))
                };
                (polled, &**settings, Some(scope))
            }
            StateProj::Panicked { response } => {
                return match response.take() {
                    Some(response) => Poll::Ready(Ok(with_body(response))),
                    None => panic!("ResponseFuture polled after completion"),
                };
            }
            StateProj::Own { future } => {
                return future.as_mut().poll(cx).map(|r| Ok(with_body(r)));
            }
        };
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(Ok(mut response))) => {
                if let Some(counter) = counter.take() {
                    counter.add(if response.status().is_server_error() {
                        Outcome::Errored
                    } else {
                        Outcome::Ok
                    });
                }
                if let Some(scope) = scope {
                    report_response(scope, settings, &mut response);
                }
                if let Some(html) = html
                    && response.status().is_server_error()
                    && !is_html(response.headers())
                {
                    let event_id = response.extensions().get::<EventId>().copied();
                    return Poll::Ready(Ok(with_body(panic_response(
                        settings,
                        event_id,
                        Some(html),
                    ))));
                }
                Poll::Ready(Ok(response))
            }
            Ok(Poll::Ready(Err(error))) => {
                if let Some(counter) = counter.take() {
                    counter.add(Outcome::Errored);
                }
                if let Some(scope) = scope {
                    report_service_error(scope, settings, &error);
                }
                Poll::Ready(Err(error))
            }
            Err(payload) => {
                if let Some(counter) = counter.take() {
                    counter.add(Outcome::Crashed);
                }
                let event_id = scope.and_then(|scope| scope.report_panic(payload.as_ref()));
                let response = panic_response(settings, event_id, html);
                // The inner future is poisoned; never poll it again.
                state.set(State::Panicked { response: None });
                Poll::Ready(Ok(with_body(response)))
            }
        }
    }
}

/// Whether a response is already an HTML page.
fn is_html(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

/// Reports a response the layer's predicate picks (5xx by default): as the panic that
/// code inside the layer caught and turned into it, else as the handed-over error, else
/// as the status. Responses a nested layer already reported are left alone.
fn report_response<B>(scope: &LazyScope<Route>, settings: &Settings, response: &mut Response<B>) {
    if response.extensions().get::<EventId>().is_some()
        || !(settings.report_status)(response.status())
    {
        return;
    }
    let failure = match scope.take_panic() {
        Some(panic) => Failure::Panic(panic),
        None => Failure::Status {
            status: response.status(),
            error: response
                .extensions()
                .get::<ErrorReport>()
                .map(|r| r.0.clone()),
        },
    };
    if let Some(event_id) = scope.capture(failure) {
        settings.mark(response, event_id);
    }
}

/// An `Err` from the inner service: the server turns it into a failed request; report it
/// as a 500 with the error (as the actix-web middleware does).
fn report_service_error<E>(scope: &LazyScope<Route>, settings: &Settings, error: &E)
where
    E: std::fmt::Display + std::fmt::Debug,
{
    let status = http::StatusCode::INTERNAL_SERVER_ERROR;
    if !(settings.report_status)(status) {
        return;
    }
    scope.capture(Failure::Status {
        status,
        error: Some(Arc::new(CapturedError {
            chain: vec![ErrorLink::from_debug_display(error)],
            trace: None,
        })),
    });
}

/// Puts a panic response's text into the service's body type: axum's `Body`, `Bytes`,
/// `String` and `Vec<u8>` get the text; any other body type (tonic's) is left empty.
fn with_body<B: Default + 'static>(response: Response<Bytes>) -> Response<B> {
    let (parts, text) = response.into_parts();
    let mut body: Option<B> = None;
    let slot = &mut body as &mut dyn Any;
    #[cfg(feature = "axum")]
    if let Some(slot) = slot.downcast_mut::<Option<axum::body::Body>>() {
        *slot = Some(axum::body::Body::from(text.clone()));
    }
    if let Some(slot) = slot.downcast_mut::<Option<Bytes>>() {
        *slot = Some(text.clone());
    } else if let Some(slot) = slot.downcast_mut::<Option<String>>() {
        *slot = Some(String::from_utf8_lossy(&text).into_owned());
    } else if let Some(slot) = slot.downcast_mut::<Option<Vec<u8>>>() {
        *slot = Some(text.to_vec());
    }
    Response::from_parts(parts, body.unwrap_or_default())
}
