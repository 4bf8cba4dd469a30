//! What the request path hands to the worker: a failure, the request, the scope's data.
//!
//! Everything here is cheap to build: backtraces are captured unresolved and symbols are
//! resolved later in the worker. The panic hook lives here too: it records the backtrace
//! of the panic site, which is gone by the time `catch_unwind` returns.

use std::cell::{Cell, RefCell};
use std::error::Error as StdError;
use std::panic::PanicHookInfo;
use std::sync::{Arc, Once};

use backtrace::Backtrace;
use http::{HeaderName, HeaderValue, Method, Request, StatusCode, Uri};
use mayday_protocol::{Level, Timestamp};

use crate::scope::{LazyScope, Scope, ScopeData};

/// A panic as the hook saw it.
#[derive(Debug, Clone)]
pub(crate) struct PanicCapture {
    pub(crate) message: String,
    pub(crate) location: Option<String>,
    pub(crate) backtrace: Option<Backtrace>,
    pub(crate) thread: Option<String>,
}

impl PanicCapture {
    /// A panic the hook did not see (another hook replaced ours): message only.
    pub(crate) fn from_payload(payload: &(dyn std::any::Any + Send)) -> Self {
        PanicCapture {
            message: payload_text(payload),
            location: None,
            backtrace: None,
            thread: std::thread::current().name().map(str::to_owned),
        }
    }
}

/// The panic message: `panic!` payloads are a `&str` or a `String`.
fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "Box<dyn Any>".to_owned())
}

/// One link of an error's `source()` chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ErrorLink {
    pub(crate) ty: String,
    pub(crate) module: Option<String>,
    pub(crate) value: String,
}

/// An error and its source chain, outermost first, with where it was captured.
#[derive(Debug, Clone)]
pub(crate) struct CapturedError {
    pub(crate) chain: Vec<ErrorLink>,
    pub(crate) backtrace: Option<Backtrace>,
}

/// Longest `source()` chain followed; a cycle or a very deep chain stops here.
const MAX_CHAIN: usize = 32;

impl ErrorLink {
    /// A link from something that is only `Debug + Display` (such as actix-web's
    /// `ResponseError`): the type name is read from the `Debug` output.
    pub(crate) fn from_debug_display<T>(error: &T) -> Self
    where
        T: std::fmt::Debug + std::fmt::Display + ?Sized,
    {
        let debug = format!("{error:?}");
        let ty: String = debug
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let (ty, module) = if ty.is_empty() {
            ("Error".to_owned(), None)
        } else {
            split_type_name(&ty)
        };
        ErrorLink {
            ty,
            module,
            value: error.to_string(),
        }
    }
}

impl CapturedError {
    pub(crate) fn from_error<E>(error: &E) -> Self
    where
        E: StdError + ?Sized + 'static,
    {
        let type_name = std::any::type_name::<E>();
        let first = if type_name.starts_with("dyn ") {
            link_from_debug(error)
        } else {
            let (ty, module) = split_type_name(type_name);
            ErrorLink {
                ty,
                module,
                value: error.to_string(),
            }
        };
        let mut chain = vec![first];
        let mut source = error.source();
        while let Some(cause) = source {
            if chain.len() >= MAX_CHAIN {
                break;
            }
            chain.push(link_from_debug(cause));
            source = cause.source();
        }
        CapturedError {
            chain,
            backtrace: Some(Backtrace::new_unresolved()),
        }
    }
}

/// `shop::errors::PaymentError<u8>` gives (`PaymentError`, `shop::errors`).
fn split_type_name(type_name: &str) -> (String, Option<String>) {
    let base = type_name.split('<').next().unwrap_or(type_name);
    match base.rsplit_once("::") {
        Some((module, ty)) => (ty.to_owned(), Some(module.to_owned())),
        None => (base.to_owned(), None),
    }
}

/// A source's concrete type is erased; its `Debug` output starts with the type's name
/// for derived impls, which is what Sentry's own SDK reads too.
fn link_from_debug(error: &(impl StdError + ?Sized)) -> ErrorLink {
    ErrorLink::from_debug_display(error)
}

/// The request as it arrived, kept for the error path.
#[derive(Debug, Clone)]
pub(crate) struct RequestSnapshot {
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    /// The headers, kept in the framework's own types; converted only when reported.
    pub(crate) headers: Headers,
    /// The matched route, such as `/orders/{id}`.
    pub(crate) route: Option<Route>,
    /// The client's address, only when the app opted in to sending IPs.
    pub(crate) client_ip: Option<String>,
    /// The web framework and its version, such as (`axum`, `0.8.9`).
    pub(crate) framework: (&'static str, &'static str),
}

/// Request headers, as the framework gave them.
#[derive(Debug, Clone)]
pub(crate) enum Headers {
    /// `http` 1.x (tower, axum): a flat list, one allocation to copy; values are shared
    /// with the request, not copied.
    Http(Vec<(HeaderName, HeaderValue)>),
    /// actix-web's own map (it uses `http` 0.2), cloned as is.
    #[cfg(feature = "actix")]
    Actix(actix_web::http::header::HeaderMap),
}

impl Headers {
    /// Names and values as text, in order (values that are not UTF-8 are converted
    /// lossily).
    pub(crate) fn pairs(&self) -> Vec<(String, String)> {
        fn text(name: &str, value: &[u8]) -> (String, String) {
            (name.to_owned(), String::from_utf8_lossy(value).into_owned())
        }
        match self {
            Headers::Http(list) => list
                .iter()
                .map(|(name, value)| text(name.as_str(), value.as_bytes()))
                .collect(),
            #[cfg(feature = "actix")]
            Headers::Actix(map) => map
                .iter()
                .map(|(name, value)| text(name.as_str(), value.as_bytes()))
                .collect(),
        }
    }
}

/// A matched route, such as `/orders/{id}`.
#[derive(Debug, Clone)]
pub(crate) enum Route {
    /// axum's matched path: a shared string, so keeping it costs no allocation.
    #[cfg(feature = "axum")]
    Axum(axum::extract::MatchedPath),
    /// A route pattern as text.
    #[allow(dead_code)] // Built by framework integrations behind features.
    Text(String),
}

impl Route {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            #[cfg(feature = "axum")]
            Route::Axum(path) => path.as_str(),
            Route::Text(text) => text,
        }
    }
}

impl RequestSnapshot {
    pub(crate) fn of<B>(request: &Request<B>, with_ip: bool) -> Self {
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
            route: matched_route(request),
            client_ip: if with_ip { client_ip(request) } else { None },
            framework: ("axum", crate::build_info::AXUM_VERSION),
        }
    }

    /// The first value of header `name`, if it is text.
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.headers
            .pairs()
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// `GET /orders/{id}`: the matched route, else the path.
    pub(crate) fn transaction(&self) -> String {
        let route = self
            .route
            .as_ref()
            .map_or_else(|| self.uri.path(), |r| r.as_str());
        format!("{} {}", self.method, route)
    }
}

#[cfg(feature = "axum")]
fn matched_route<B>(request: &Request<B>) -> Option<Route> {
    request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .cloned()
        .map(Route::Axum)
}

#[cfg(not(feature = "axum"))]
fn matched_route<B>(_request: &Request<B>) -> Option<Route> {
    None
}

fn client_ip<B>(request: &Request<B>) -> Option<String> {
    let forwarded = request
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    #[cfg(feature = "axum")]
    let forwarded = forwarded.or_else(|| {
        request
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip().to_string())
    });
    forwarded
}

/// What went wrong.
#[derive(Debug, Clone)]
pub(crate) enum Failure {
    /// A panic, in a request or anywhere else.
    Panic(PanicCapture),
    /// An error captured explicitly.
    Error(CapturedError),
    /// A response whose status the layer reports, with the handler's error if handed over.
    Status {
        status: StatusCode,
        error: Option<Arc<CapturedError>>,
    },
    /// A message captured explicitly.
    Message { text: String, level: Level },
    /// A log event (from `tracing`) with its fields.
    #[allow(dead_code)] // Built by the tracing integration, behind a feature.
    Log {
        text: String,
        level: Level,
        logger: String,
        fields: serde_json::Map<String, serde_json::Value>,
    },
}

/// One queued report.
#[derive(Debug)]
pub(crate) struct Capture {
    pub(crate) failure: Failure,
    pub(crate) timestamp: Timestamp,
    pub(crate) request: Option<Arc<RequestSnapshot>>,
    pub(crate) data: ScopeData,
}

thread_local! {
    /// How many reporter futures this thread is polling right now (they may nest).
    static CATCH_DEPTH: Cell<u32> = const { Cell::new(0) };
    /// The scope of the request whose future this thread is polling, if any.
    static CURRENT_SCOPE: Cell<*const LazyScope> = const { Cell::new(std::ptr::null()) };
    /// The scope a spawned task carries, while this thread polls that task.
    static BOUND_SCOPE: RefCell<Option<Scope>> = const { RefCell::new(None) };
    /// The last panic seen while inside a reporter future, for it to pick up.
    static LAST_PANIC: RefCell<Option<PanicCapture>> = const { RefCell::new(None) };
}

/// Marks the current thread as inside a reporter's `catch_unwind` while alive, and makes
/// `scope` the current scope for [`with_current_scope`] (restoring the previous one).
pub(crate) struct CatchGuard<'a> {
    previous: *const LazyScope,
    _scope: std::marker::PhantomData<&'a LazyScope>,
}

impl<'a> CatchGuard<'a> {
    pub(crate) fn enter(scope: Option<&'a LazyScope>) -> Self {
        CATCH_DEPTH.with(|d| d.set(d.get() + 1));
        let pointer = scope.map_or(std::ptr::null(), std::ptr::from_ref);
        let previous = CURRENT_SCOPE.with(|current| current.replace(pointer));
        CatchGuard {
            previous,
            _scope: std::marker::PhantomData,
        }
    }
}

impl Drop for CatchGuard<'_> {
    fn drop(&mut self) {
        CATCH_DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
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

/// Runs `f` with the scope of the request being polled on this thread, if any.
pub(crate) fn with_current_scope<R>(f: impl FnOnce(&LazyScope) -> R) -> Option<R> {
    let pointer = CURRENT_SCOPE.try_with(Cell::get).ok()?;
    // SAFETY: a non-null pointer was set by a `CatchGuard` that borrows the `LazyScope`
    // for its whole life and restores the previous value when dropped (also on unwind),
    // so the scope is alive and, being only shared-borrowed meanwhile, not mutated
    // except through its own interior mutability. The pointer never leaves this thread.
    let scope = unsafe { pointer.as_ref() }?;
    Some(f(scope))
}

/// Takes the panic the hook recorded on this thread, if any.
pub(crate) fn take_last_panic() -> Option<PanicCapture> {
    LAST_PANIC
        .try_with(|slot| slot.borrow_mut().take())
        .ok()
        .flatten()
}

/// Installs the panic hook once per process; the previous hook still runs after ours.
pub(crate) fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            on_panic(info);
            previous(info);
        }));
    });
}

fn on_panic(info: &PanicHookInfo<'_>) {
    let capture = PanicCapture {
        message: payload_text(info.payload()),
        location: info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column())),
        backtrace: Some(Backtrace::new_unresolved()),
        thread: std::thread::current().name().map(str::to_owned),
    };
    let inside_layer = CATCH_DEPTH.try_with(|d| d.get() > 0).unwrap_or(false);
    if inside_layer {
        // The layer's future catches this unwind and reports it with its request.
        let _ = LAST_PANIC.try_with(|slot| *slot.borrow_mut() = Some(capture));
    } else if let Some(scope) = bound_scope() {
        // A task spawned for a request: report it with that request's context.
        scope.capture(Failure::Panic(capture));
    } else {
        crate::reporter::report_detached_panic(capture);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Inner;
    impl std::fmt::Display for Inner {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("connection reset")
        }
    }
    impl StdError for Inner {}

    #[derive(Debug)]
    struct Outer(Inner);
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("could not load order")
        }
    }
    impl StdError for Outer {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn chain_names_types_and_texts() {
        let captured = CapturedError::from_error(&Outer(Inner));
        assert_eq!(
            captured.chain,
            vec![
                ErrorLink {
                    ty: "Outer".into(),
                    module: Some("mayday_reporter::capture::tests".into()),
                    value: "could not load order".into()
                },
                ErrorLink {
                    ty: "Inner".into(),
                    module: None,
                    value: "connection reset".into()
                },
            ]
        );
        let boxed: Box<dyn StdError> = Box::new(Inner);
        let captured = CapturedError::from_error(boxed.as_ref());
        assert_eq!(captured.chain[0].ty, "Inner");
    }

    #[test]
    fn io_errors_have_a_type_name() {
        let io = std::io::Error::other("boom");
        let link = link_from_debug(&io);
        assert_eq!(link.value, "boom");
        assert!(!link.ty.is_empty());
    }
}
