//! The response future: polls the inner future inside `catch_unwind` and looks at the
//! response status on the way out.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::Response;
use pin_project_lite::pin_project;

use crate::capture::{CatchGuard, Failure, PanicCapture, take_last_panic};
use crate::error::ErrorReport;
use crate::scope::{LazyScope, ScopeOwner};

pin_project! {
    /// The future of [`ReporterService`](crate::ReporterService).
    pub struct ResponseFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        // Reporting is off: the inner future, untouched.
        Passthrough { #[pin] future: F },
        // The inner future, watched for panics and failing statuses.
        Watching {
            #[pin]
            future: F,
            scope: LazyScope,
        },
        // `call` panicked; the response is ready.
        Panicked { response: Option<Response<Bytes>> },
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn passthrough(future: F) -> Self {
        ResponseFuture {
            state: State::Passthrough { future },
        }
    }

    pub(crate) fn watching(future: F, scope: LazyScope) -> Self {
        ResponseFuture {
            state: State::Watching { future, scope },
        }
    }

    pub(crate) fn panicked(scope: &LazyScope, payload: Box<dyn Any + Send>) -> Self {
        report_panic(scope, payload.as_ref());
        ResponseFuture {
            state: State::Panicked {
                response: Some(
                    tower_settings(scope).map_or_else(crate::layer::default_panic_response, |s| {
                        (s.panic_response)()
                    }),
                ),
            },
        }
    }
}

fn tower_settings(scope: &LazyScope) -> Option<&std::sync::Arc<crate::layer::Settings>> {
    match &scope.owner {
        ScopeOwner::Tower(settings) => Some(settings),
        #[cfg(feature = "actix")]
        ScopeOwner::Actix(_) => None,
    }
}

fn report_panic(scope: &LazyScope, payload: &(dyn Any + Send)) {
    let panic = take_last_panic().unwrap_or_else(|| PanicCapture::from_payload(payload));
    scope.capture(Failure::Panic(panic));
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: From<Bytes>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        match state.as_mut().project() {
            StateProj::Passthrough { future } => future.poll(cx),
            StateProj::Watching { future, scope } => {
                let scope: &LazyScope = scope;
                let Some(settings) = tower_settings(scope) else {
                    return future.poll(cx);
                };
                let polled = {
                    let _inside = CatchGuard::enter(Some(scope));
                    catch_unwind(AssertUnwindSafe(|| future.poll(cx)))
                };
                match polled {
                    Ok(Poll::Pending) => Poll::Pending,
                    Ok(Poll::Ready(Ok(response))) => {
                        if (settings.report_status)(response.status()) {
                            let error = response
                                .extensions()
                                .get::<ErrorReport>()
                                .map(|r| r.0.clone());
                            scope.capture(Failure::Status {
                                status: response.status(),
                                error,
                            });
                        }
                        Poll::Ready(Ok(response))
                    }
                    Ok(Poll::Ready(Err(error))) => Poll::Ready(Err(error)),
                    Err(payload) => {
                        report_panic(scope, payload.as_ref());
                        let response = (settings.panic_response)();
                        // The inner future is poisoned; never poll it again.
                        state.set(State::Panicked { response: None });
                        Poll::Ready(Ok(response.map(B::from)))
                    }
                }
            }
            StateProj::Panicked { response } => match response.take() {
                Some(response) => Poll::Ready(Ok(response.map(B::from))),
                None => panic!("ResponseFuture polled after completion"),
            },
        }
    }
}
