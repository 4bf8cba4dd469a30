//! The service the layer builds: snapshots the request, catches panics in `call`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use tower_service::Service;

use crate::capture::{CatchGuard, RequestSnapshot};
use crate::future::ResponseFuture;
use crate::layer::Settings;
use crate::scope::{LazyScope, ScopeOwner};

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

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ReporterService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: From<Bytes>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let reporter = &self.settings.reporter;
        if !reporter.is_enabled() {
            return ResponseFuture::passthrough(self.inner.call(request));
        }
        let snapshot = RequestSnapshot::of(&request, reporter.send_ip());
        let user = self
            .settings
            .user
            .as_ref()
            .and_then(|resolve| resolve(request.extensions(), request.headers()));
        let scope = LazyScope::new(ScopeOwner::Tower(self.settings.clone()), snapshot, user);
        let called = {
            let _inside = CatchGuard::enter(Some(&scope));
            catch_unwind(AssertUnwindSafe(|| self.inner.call(request)))
        };
        match called {
            Ok(future) => ResponseFuture::watching(future, scope),
            Err(payload) => ResponseFuture::panicked(&scope, payload),
        }
    }
}
