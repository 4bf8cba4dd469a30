//! Carrying a request's scope into spawned tasks and blocking work.
//!
//! A task spawned from a handler runs outside the request's future, so it would lose the
//! request's user, route and breadcrumbs. Wrap it with [`ScopeExt::in_current_scope`] (or
//! spawn it with [`spawn`]) and, while the task runs, [`Scope::current`] is the request's
//! scope: a panic in the task, or an error it captures, names the request's user and
//! route. [`spawn_blocking`] does the same for a closure on tokio's blocking pool.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::scope::{BoundGuard, Scope};

pin_project! {
    /// A future that runs with a scope bound. Made by [`ScopeExt`].
    pub struct WithScope<F> {
        #[pin]
        future: F,
        scope: Option<Scope>,
    }
}

impl<F: Future> Future for WithScope<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _bound = this.scope.clone().map(BoundGuard::enter);
        this.future.poll(cx)
    }
}

/// Binds a scope to a future.
pub trait ScopeExt: Future + Sized {
    /// Runs this future with the current request's scope (if there is one).
    fn in_current_scope(self) -> WithScope<Self> {
        WithScope {
            future: self,
            scope: Scope::current(),
        }
    }

    /// Runs this future with `scope`.
    fn with_scope(self, scope: Scope) -> WithScope<Self> {
        WithScope {
            future: self,
            scope: Some(scope),
        }
    }
}

impl<F: Future> ScopeExt for F {}

/// `tokio::spawn`, carrying the current request's scope into the task.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let handle = mayday_reporter::spawn(async {
///     // Inside a request this is the request's scope; here there is none.
///     mayday_reporter::Scope::current().is_some()
/// });
/// assert!(!handle.await.unwrap());
/// # }
/// ```
pub fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(future.in_current_scope())
}

/// `tokio::task::spawn_blocking`, carrying the current request's scope onto the blocking
/// thread: a panic in `f`, or an error it captures, names the request's user and route.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let handle = mayday_reporter::spawn_blocking(|| {
///     // Inside a request this is the request's scope; here there is none.
///     mayday_reporter::Scope::current().is_some()
/// });
/// assert!(!handle.await.unwrap());
/// # }
/// ```
pub fn spawn_blocking<F, R>(f: F) -> tokio::task::JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let scope = Scope::current();
    tokio::task::spawn_blocking(move || {
        let _bound = scope.map(BoundGuard::enter);
        f()
    })
}
