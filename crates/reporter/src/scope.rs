//! The per-request scope: the user, tags and breadcrumbs that an event will carry.
//!
//! A request's scope is made only when something asks for it: [`Scope::current`], or the
//! axum extractor, called from code that the reporter layer is polling. Requests that
//! never touch it pay nothing for it. Setting the user or a tag then costs a lock on a
//! mutex no one else holds; nothing is sent until something fails.

use std::cell::{Cell, OnceCell, RefCell};
use std::sync::{Arc, Mutex, MutexGuard};

use mayday_protocol::{Breadcrumb, EventId, Level, Timestamp, User};

use crate::capture::ScopeData;
use crate::client::Reporter;
use crate::failure::{CapturedError, Failure, PanicCapture};
use crate::request::RequestSnapshot;

#[derive(Debug)]
pub(crate) struct ScopeInner {
    pub(crate) request: Option<Arc<RequestSnapshot>>,
    pub(crate) data: Mutex<ScopeData>,
}

/// A handle to the current request's scope.
///
/// Cheap to clone; all clones share one scope. Get it with [`Scope::current`] anywhere in
/// the code a reporter layer is running (handlers, middleware inside the layer, the
/// functions they call), or in axum handlers as an extractor:
///
/// ```
/// use mayday_reporter::{Scope, User};
///
/// async fn checkout(scope: Scope) -> &'static str {
///     scope.set_user(User {
///         id: Some("42".into()),
///         email: Some("jane@example.com".into()),
///         ..Default::default()
///     });
///     scope.set_tag("cart", "team");
///     scope.add_breadcrumb("checkout", "coupon applied");
///     "ok"
/// }
/// # let _ = axum::Router::<()>::new().route("/checkout", axum::routing::post(checkout));
/// ```
#[derive(Debug, Clone)]
pub struct Scope {
    pub(crate) inner: Arc<ScopeInner>,
    reporter: Reporter,
}

impl Scope {
    pub(crate) fn new(
        reporter: Reporter,
        request: Option<Arc<RequestSnapshot>>,
        data: ScopeData,
    ) -> Self {
        Scope {
            inner: Arc::new(ScopeInner {
                request,
                data: Mutex::new(data),
            }),
            reporter,
        }
    }

    /// A scope outside any request (for background jobs), reporting to `reporter`.
    pub fn detached(reporter: &Reporter) -> Self {
        Scope::new(reporter.clone(), None, ScopeData::default())
    }

    /// The scope of the request this code runs for: `Some` inside a handler (or
    /// middleware) that a reporter layer is running, `None` elsewhere, such as in a task
    /// spawned onto the runtime.
    ///
    /// ```
    /// // Outside any request there is no current scope.
    /// assert!(mayday_reporter::Scope::current().is_none());
    /// ```
    pub fn current() -> Option<Scope> {
        with_current_scope(|request| request.scope()).or_else(bound_scope)
    }

    fn data(&self) -> MutexGuard<'_, ScopeData> {
        // A panic while holding this lock cannot leave the data half-written in a way
        // that matters for reporting, so a poisoned lock is still used.
        self.inner
            .data
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sets the user the next events are about.
    pub fn set_user(&self, user: User) {
        self.data().user = Some(user);
    }

    /// The user currently set, if any.
    pub fn user(&self) -> Option<User> {
        self.data().user.clone()
    }

    /// Sets a tag.
    pub fn set_tag(&self, key: impl Into<String>, value: impl Into<String>) {
        self.data().tags.insert(key.into(), value.into());
    }

    /// Records a breadcrumb now, with a category and a message.
    pub fn add_breadcrumb(&self, category: impl Into<String>, message: impl Into<String>) {
        self.push_breadcrumb(Breadcrumb {
            timestamp: Some(Timestamp::now()),
            category: Some(category.into()),
            message: Some(message.into()),
            level: Some(Level::Info),
            ..Default::default()
        });
    }

    /// Records a breadcrumb as given; the oldest is dropped past the configured maximum.
    pub fn push_breadcrumb(&self, breadcrumb: Breadcrumb) {
        let max = self.reporter.max_breadcrumbs();
        let mut data = self.data();
        let len = data.breadcrumbs.len();
        if len >= max {
            data.breadcrumbs.drain(..(len + 1 - max).min(len));
        }
        if max > 0 {
            data.breadcrumbs.push(breadcrumb);
        }
    }

    /// Reports an error with this scope's request, user, tags and breadcrumbs.
    ///
    /// Returns the event's id when it was queued (`None` when reporting is off or the
    /// queue is full).
    pub fn capture_error<E>(&self, error: &E) -> Option<EventId>
    where
        E: std::error::Error + ?Sized + 'static,
    {
        self.capture(Failure::Error(CapturedError::from_error(error)))
    }

    /// Reports a message with this scope's context; returns the event's id when queued.
    pub fn capture_message(&self, message: impl Into<String>, level: Level) -> Option<EventId> {
        self.capture(Failure::Message {
            text: message.into(),
            level,
        })
    }

    pub(crate) fn capture(&self, failure: Failure) -> Option<EventId> {
        let data = self.data().clone();
        self.reporter
            .enqueue(failure, self.inner.request.clone(), data)
    }

    /// The reporter this scope reports to.
    pub fn reporter(&self) -> &Reporter {
        &self.reporter
    }
}

/// How an adapter keeps the matched route until it is needed: by reference to its own
/// type (axum's `MatchedPath` is a shared string), so that a request that never fails
/// copies nothing.
pub(crate) trait RouteName: std::fmt::Debug + Send + 'static {
    /// The route, such as `/orders/{id}`.
    fn as_str(&self) -> &str;
}

impl RouteName for String {
    fn as_str(&self) -> &str {
        self
    }
}

/// One request's scope, made on first use.
///
/// Lives inline in the layer's response future, so a request that never asks for its
/// scope allocates nothing for it.
pub(crate) struct LazyScope<R: RouteName = String> {
    reporter: Reporter,
    /// The request head; its route is filled from `route` when a snapshot is taken.
    request: RequestSnapshot,
    route: Option<R>,
    user: Option<User>,
    scope: OnceCell<Scope>,
    /// A panic the hook saw while this request was being polled; the layer reports it
    /// when it catches the unwind, or when code inside it turned the panic into a 5xx.
    panic: Cell<Option<PanicCapture>>,
}

impl<R: RouteName> std::fmt::Debug for LazyScope<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyScope")
            .field("request", &self.request)
            .field("route", &self.route)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// The request a thread is polling, as the panic hook and [`Scope::current`] see it,
/// whatever the adapter's route type.
pub(crate) trait CurrentRequest {
    /// The reporter the request reports to.
    fn reporter(&self) -> &Reporter;
    /// Keeps the panic the hook saw for the layer.
    fn record_panic(&self, panic: PanicCapture);
    /// Reports `failure` with the request.
    fn capture(&self, failure: Failure) -> Option<EventId>;
    /// The request's scope, made now if this is the first ask.
    fn scope(&self) -> Scope;
}

impl<R: RouteName> LazyScope<R> {
    pub(crate) fn new(
        reporter: Reporter,
        request: RequestSnapshot,
        route: Option<R>,
        user: Option<User>,
    ) -> Self {
        LazyScope {
            reporter,
            request,
            route,
            user,
            scope: OnceCell::new(),
            panic: Cell::new(None),
        }
    }

    /// The panic the hook saw during this request, if any.
    pub(crate) fn take_panic(&self) -> Option<PanicCapture> {
        self.panic.take()
    }

    /// Reports the panic of this request: the one the hook saw, else one made of the
    /// unwind's payload (when another hook replaced ours).
    pub(crate) fn report_panic(&self, payload: &(dyn std::any::Any + Send)) -> Option<EventId> {
        let panic = self
            .take_panic()
            .unwrap_or_else(|| PanicCapture::from_payload(payload));
        self.capture(Failure::Panic(panic))
    }

    /// The request as reported: the head with the route as text.
    fn snapshot(&self, late_route: Option<String>) -> Arc<RequestSnapshot> {
        let mut request = self.request.clone();
        request.route = late_route.or_else(|| self.route.as_ref().map(|r| r.as_str().to_owned()));
        Arc::new(request)
    }

    /// Reports `failure` with the request and the matched `route`, when the route is only
    /// known late (actix-web looks it up only for reported responses).
    #[cfg(feature = "actix")]
    pub(crate) fn capture_routed(
        &self,
        failure: Failure,
        route: Option<String>,
    ) -> Option<EventId> {
        let data = match self.scope.get() {
            Some(scope) => scope.data().clone(),
            None => ScopeData {
                user: self.user.clone(),
                ..Default::default()
            },
        };
        self.reporter
            .enqueue(failure, Some(self.snapshot(route)), data)
    }
}

impl<R: RouteName> CurrentRequest for LazyScope<R> {
    fn reporter(&self) -> &Reporter {
        &self.reporter
    }

    fn record_panic(&self, panic: PanicCapture) {
        // The latest panic wins.
        self.panic.set(Some(panic));
    }

    fn scope(&self) -> Scope {
        self.scope
            .get_or_init(|| {
                Scope::new(
                    self.reporter.clone(),
                    Some(self.snapshot(None)),
                    ScopeData {
                        user: self.user.clone(),
                        ..Default::default()
                    },
                )
            })
            .clone()
    }

    /// Reports `failure` with the request, and with the scope's data if it was made.
    fn capture(&self, failure: Failure) -> Option<EventId> {
        match self.scope.get() {
            Some(scope) => scope.capture(failure),
            None => self.reporter.enqueue(
                failure,
                Some(self.snapshot(None)),
                ScopeData {
                    user: self.user.clone(),
                    ..Default::default()
                },
            ),
        }
    }
}

thread_local! {
    /// The request whose future this thread is polling, if any.
    static CURRENT_SCOPE: Cell<Option<*const dyn CurrentRequest>> = const { Cell::new(None) };
    /// The scope a spawned task carries, while this thread polls that task.
    static BOUND_SCOPE: RefCell<Option<Scope>> = const { RefCell::new(None) };
    /// How many layers with reporting off this thread is polling: their panics are
    /// answered with 500 and reported nowhere.
    static UNREPORTED: Cell<u32> = const { Cell::new(0) };
}

/// Marks the thread as inside a layer whose reporting is off, while alive.
pub(crate) struct UnreportedGuard(());

impl UnreportedGuard {
    pub(crate) fn enter() -> Self {
        let _ = UNREPORTED.try_with(|depth| depth.set(depth.get() + 1));
        UnreportedGuard(())
    }
}

impl Drop for UnreportedGuard {
    fn drop(&mut self) {
        let _ = UNREPORTED.try_with(|depth| depth.set(depth.get().saturating_sub(1)));
    }
}

/// Whether this thread is inside a layer whose reporting is off (and no reporting
/// layer inside it is polling).
pub(crate) fn in_unreported_layer() -> bool {
    UNREPORTED
        .try_with(|depth| depth.get() > 0)
        .unwrap_or(false)
}

/// Makes `scope` the current scope of this thread while alive, restoring the previous
/// one when dropped (also on unwind): the layer holds one while it polls the request.
pub(crate) struct PollGuard<'a> {
    previous: Option<*const dyn CurrentRequest>,
    _scope: std::marker::PhantomData<&'a ()>,
}

impl<'a> PollGuard<'a> {
    pub(crate) fn enter<R: RouteName>(scope: &'a LazyScope<R>) -> Self {
        let request: &(dyn CurrentRequest + 'a) = scope;
        // SAFETY: only the lifetime is erased; the guard restores the previous pointer
        // when dropped (also on unwind), before `scope`'s borrow ends, so the pointer is
        // never used after `'a` (see `with_current_scope`).
        let pointer: *const (dyn CurrentRequest + 'static) =
            unsafe { std::mem::transmute(std::ptr::from_ref(request)) };
        let previous = CURRENT_SCOPE.with(|current| current.replace(Some(pointer)));
        PollGuard {
            previous,
            _scope: std::marker::PhantomData,
        }
    }
}

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        CURRENT_SCOPE.with(|current| current.set(self.previous));
    }
}

/// Makes `scope` the current scope of this thread while alive (for spawned tasks).
pub(crate) struct BoundGuard {
    previous: Option<Scope>,
}

impl BoundGuard {
    pub(crate) fn enter(scope: Scope) -> Self {
        let previous = BOUND_SCOPE
            .try_with(|bound| bound.borrow_mut().replace(scope))
            .ok()
            .flatten();
        BoundGuard { previous }
    }
}

impl Drop for BoundGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = BOUND_SCOPE.try_with(|bound| *bound.borrow_mut() = previous);
    }
}

/// The scope a spawned task bound to this thread, if any.
pub(crate) fn bound_scope() -> Option<Scope> {
    BOUND_SCOPE
        .try_with(|bound| bound.try_borrow().ok().and_then(|b| b.clone()))
        .ok()
        .flatten()
}

/// Runs `f` with the request being polled on this thread, if any.
pub(crate) fn with_current_scope<T>(f: impl FnOnce(&dyn CurrentRequest) -> T) -> Option<T> {
    let pointer = CURRENT_SCOPE.try_with(Cell::get).ok()??;
    // SAFETY: the pointer was set by a `PollGuard` that borrows the `LazyScope` for its
    // whole life and restores the previous value when dropped (also on unwind), so the
    // scope is alive and, being only shared-borrowed meanwhile, not mutated except
    // through its own interior mutability. The pointer never leaves this thread.
    let scope = unsafe { &*pointer };
    Some(f(scope))
}
