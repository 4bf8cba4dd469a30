//! The service the layer builds: snapshots the request, catches panics in `call`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use super::future::{OwnResponse, ResponseFuture};
use super::route::route;
use super::settings::Settings;
use crate::error_page::{ErrorPage, Prefill};
use crate::request::{Headers, RequestSnapshot};
use crate::scope::{LazyScope, PollGuard, UnreportedGuard};

/// Wraps a service: reports its panics and failing responses. Built by
/// [`ReporterLayer`](crate::ReporterLayer).
#[derive(Clone)]
pub struct ReporterService<S> {
    inner: S,
    settings: Arc<Settings>,
}

impl<S> std::fmt::Debug for ReporterService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReporterService")
            .field("enabled", &self.settings.reporter.is_enabled())
            .finish_non_exhaustive()
    }
}

impl<S> ReporterService<S> {
    pub(crate) fn new(inner: S, settings: Arc<Settings>) -> Self {
        ReporterService { inner, settings }
    }
}

/// The request head, kept for the error path: the header list is one allocation (values
/// are shared with the request, not copied); the peer's address comes from axum's
/// extensions when the app runs on axum (and the route, kept apart, too).
fn snapshot<B>(request: &Request<B>, with_ip: bool) -> RequestSnapshot {
    RequestSnapshot {
        method: request.method().clone(),
        uri: request.uri().clone(),
        headers: Headers::Http(
            request
                .headers()
                .iter()
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
        ),
        route: None,
        client_ip: if with_ip { client_ip(request) } else { None },
        framework: ("axum", crate::build_info::AXUM_VERSION),
        body: None,
    }
}

/// When the app asked for bodies and this one is JSON or a form in axum's `Body`: the
/// body replaced by one that copies what the handler reads, and the copy's sink.
fn tee_body<B: 'static>(
    request: &mut Request<B>,
    capture: crate::body::BodyCapture,
) -> Option<Arc<crate::body::CapturedBody>> {
    if capture == crate::body::BodyCapture::Off {
        return None;
    }
    #[cfg(feature = "axum")]
    {
        let content_type = request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let sink = capture.sink_for(content_type)?;
        let body =
            (request.body_mut() as &mut dyn std::any::Any).downcast_mut::<axum::body::Body>()?;
        let inner = std::mem::take(body);
        *body = axum::body::Body::new(crate::body::Tee::new(inner, sink.clone()));
        Some(sink)
    }
    #[cfg(not(feature = "axum"))]
    {
        let _ = request;
        None
    }
}

/// The error page's form post, read (axum's `Body`, at most
/// [`MAX_FORM`](crate::error_page::MAX_FORM) bytes) and forwarded as feedback.
fn receive_feedback<B: 'static>(
    page: Arc<ErrorPage>,
    reporter: crate::client::Reporter,
    mut request: Request<B>,
) -> OwnResponse {
    #[cfg(feature = "axum")]
    if let Some(body) =
        (request.body_mut() as &mut dyn std::any::Any).downcast_mut::<axum::body::Body>()
    {
        let body = std::mem::take(body);
        return Box::pin(async move {
            match axum::body::to_bytes(body, crate::error_page::MAX_FORM).await {
                Ok(form) => page.receive(&reporter, &form),
                Err(_) => page.receive(&reporter, b""),
            }
        });
    }
    let _ = (&mut request, &reporter);
    let response = page.unreadable();
    Box::pin(async move { response })
}

/// The client's address: the first `X-Forwarded-For` entry, else the peer's address.
fn client_ip<B>(request: &Request<B>) -> Option<String> {
    let forwarded = request
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    #[cfg(feature = "axum")]
    let forwarded = forwarded.or_else(|| crate::axum_parts::peer_ip(request));
    forwarded
}

/// The response body must have a `Default` (the body of a panic response when it is not
/// a type the layer can put text into: axum's `Body`, `Bytes`, `String`, `Vec<u8>`), so
/// that any tower service works, gRPC (tonic) included.
impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ReporterService<S>
where
    ReqBody: 'static,
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: std::fmt::Display + std::fmt::Debug,
    ResBody: Default + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let reporter = &self.settings.reporter;
        if let Some(page) = &self.settings.error_page
            && page.is_feedback_post(request.method(), request.uri().path())
        {
            return ResponseFuture::own(receive_feedback(page.clone(), reporter.clone(), request));
        }
        let wants_html = self
            .settings
            .error_page
            .as_ref()
            .filter(|_| ErrorPage::wanted_by(request.headers()));
        if !reporter.is_enabled() {
            let html = wants_html.map(|page| Arc::new((page.clone(), Prefill::of(None))));
            // Not reporting, but a panic still answers 500, as it would in production.
            let called = {
                let _unreported = UnreportedGuard::enter();
                catch_unwind(AssertUnwindSafe(|| self.inner.call(request)))
            };
            return match called {
                Ok(future) => ResponseFuture::unreported(future, self.settings.clone(), html),
                Err(_) => ResponseFuture::panicked(&self.settings, None, html.as_ref()),
            };
        }
        let mut snapshot = snapshot(&request, reporter.send_ip());
        snapshot.body = tee_body(&mut request, self.settings.body);
        let user = self
            .settings
            .user
            .as_ref()
            .and_then(|resolve| resolve(request.extensions(), request.headers()));
        let html = wants_html.map(|page| Arc::new((page.clone(), Prefill::of(user.as_ref()))));
        let route = route(&request);
        let counter = reporter.request_counter(
            request.method().as_str(),
            route.as_ref().map_or("", |r| r.as_str()),
        );
        let scope = LazyScope::new(reporter.clone(), snapshot, route, user);
        let called = {
            let _polling = PollGuard::enter(&scope);
            catch_unwind(AssertUnwindSafe(|| self.inner.call(request)))
        };
        match called {
            Ok(future) => {
                ResponseFuture::watching(future, scope, self.settings.clone(), html, counter)
            }
            Err(payload) => {
                if let Some(counter) = counter {
                    counter.add(crate::request_counts::Outcome::Crashed);
                }
                let event_id = scope.report_panic(payload.as_ref());
                ResponseFuture::panicked(&self.settings, event_id, html.as_ref())
            }
        }
    }
}
