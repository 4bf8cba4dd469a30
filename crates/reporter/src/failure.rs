//! What went wrong: a panic, an error and its `source()` chain, a failing status, a
//! message or a log event, as the request path records it for the worker.
//!
//! Everything here is cheap to build: backtraces are captured unresolved, and symbols
//! are resolved later by the worker.

use std::error::Error as StdError;
use std::sync::Arc;

use backtrace::Backtrace;
use http::StatusCode;
use mayday_protocol::Level;

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
pub(crate) fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
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

/// Where an error came from.
#[derive(Debug, Clone)]
pub(crate) enum Trace {
    /// A backtrace this reporter captured (unresolved) where the error was converted or
    /// captured.
    Unresolved(Backtrace),
    /// The error's own backtrace, taken by `anyhow` where the error was created; it is
    /// rendered (which resolves it) in the worker.
    #[cfg(feature = "anyhow")]
    Anyhow(Arc<anyhow::Error>),
}

/// An error and its source chain, outermost first, with where it came from.
#[derive(Debug, Clone)]
pub(crate) struct CapturedError {
    pub(crate) chain: Vec<ErrorLink>,
    pub(crate) trace: Option<Trace>,
}

/// Longest `source()` chain followed; a cycle or a very deep chain stops here.
const MAX_CHAIN: usize = 32;

impl ErrorLink {
    /// A link from something that is only `Debug + Display` (a `source()`, whose type is
    /// erased, or actix-web's `ResponseError`): the type name is read from the `Debug`
    /// output, which starts with it for derived impls (Sentry's SDK reads it the same way).
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
    /// Captures `error`'s chain and a backtrace of this call site.
    pub(crate) fn from_error<E>(error: &E) -> Self
    where
        E: StdError + ?Sized + 'static,
    {
        CapturedError {
            chain: chain(std::any::type_name::<E>(), &ErrorRef(error)),
            trace: Some(Trace::Unresolved(Backtrace::new_unresolved())),
        }
    }

    /// Captures the chain of `error` of static type `type_name` (a trait object's type
    /// is read from its `Debug`), with `trace` from where it was converted or recorded.
    #[cfg_attr(
        not(any(feature = "axum", feature = "actix", feature = "tracing")),
        allow(dead_code)
    )]
    pub(crate) fn from_boxed(
        type_name: &str,
        error: &(dyn StdError + 'static),
        trace: Option<Backtrace>,
    ) -> Self {
        CapturedError {
            chain: chain(type_name, error),
            trace: trace.map(Trace::Unresolved),
        }
    }

    /// Captures an `anyhow::Error`: its chain, and its own backtrace when it has one
    /// (else `trace`, from where it was converted).
    #[cfg(feature = "anyhow")]
    pub(crate) fn from_anyhow(error: anyhow::Error, trace: Option<Backtrace>) -> Self {
        let chain = error
            .chain()
            .take(MAX_CHAIN)
            .map(ErrorLink::from_debug_display)
            .collect();
        let own = error.backtrace().status() == std::backtrace::BacktraceStatus::Captured;
        CapturedError {
            chain,
            trace: if own {
                Some(Trace::Anyhow(Arc::new(error)))
            } else {
                trace.map(Trace::Unresolved)
            },
        }
    }
}

/// Lets `chain` take an unsized error by reference.
struct ErrorRef<'a, E: ?Sized>(&'a E);

impl<E: StdError + ?Sized> std::fmt::Debug for ErrorRef<'_, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.0, f)
    }
}

impl<E: StdError + ?Sized> std::fmt::Display for ErrorRef<'_, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self.0, f)
    }
}

impl<E: StdError + ?Sized> StdError for ErrorRef<'_, E> {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source()
    }
}

/// The chain of `error` (outermost first), the outermost named by `type_name`.
fn chain(type_name: &str, error: &dyn StdError) -> Vec<ErrorLink> {
    let first = if type_name.starts_with("dyn ") || type_name.contains("Box<dyn ") {
        ErrorLink::from_debug_display(error)
    } else {
        let (ty, module) = split_type_name(type_name);
        ErrorLink {
            ty,
            module,
            value: error.to_string(),
        }
    };
    let mut links = vec![first];
    let mut source = error.source();
    while let Some(cause) = source {
        if links.len() >= MAX_CHAIN {
            break;
        }
        links.push(ErrorLink::from_debug_display(cause));
        source = cause.source();
    }
    links
}

/// `shop::errors::PaymentError<u8>` gives (`PaymentError`, `shop::errors`).
fn split_type_name(type_name: &str) -> (String, Option<String>) {
    let base = type_name.split('<').next().unwrap_or(type_name);
    match base.rsplit_once("::") {
        Some((module, ty)) => (ty.to_owned(), Some(module.to_owned())),
        None => (base.to_owned(), None),
    }
}

/// What went wrong.
#[derive(Debug, Clone)]
pub(crate) enum Failure {
    /// A panic, in a request or anywhere else.
    Panic(PanicCapture),
    /// An error captured explicitly, or returned by a service.
    Error(CapturedError),
    /// A response whose status the layer reports, with the handler's error if handed over.
    Status {
        status: StatusCode,
        error: Option<Arc<CapturedError>>,
    },
    /// A message captured explicitly.
    Message { text: String, level: Level },
    /// A log event (from `tracing`) with its fields, and the error it recorded, if any.
    #[allow(dead_code)] // Built by the tracing integration, behind a feature.
    Log {
        text: String,
        level: Level,
        logger: String,
        fields: serde_json::Map<String, serde_json::Value>,
        error: Option<CapturedError>,
    },
}

impl Failure {
    /// Whether the app asked to ignore this failure: an error type in the chain named in
    /// `types` (by name or by path), or a panic message containing one of `messages`.
    pub(crate) fn is_ignored(&self, types: &[String], messages: &[String]) -> bool {
        let named = |chain: &[ErrorLink]| {
            chain.iter().any(|link| {
                types.iter().any(|name| {
                    *name == link.ty
                        || link.module.as_ref().is_some_and(|module| {
                            name.strip_prefix(module.as_str())
                                .and_then(|rest| rest.strip_prefix("::"))
                                == Some(link.ty.as_str())
                        })
                })
            })
        };
        match self {
            Failure::Panic(panic) => messages.iter().any(|m| panic.message.contains(m.as_str())),
            Failure::Error(error) => named(&error.chain),
            Failure::Status {
                error: Some(error), ..
            } => named(&error.chain),
            Failure::Log {
                error: Some(error), ..
            } => named(&error.chain),
            _ => false,
        }
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
                    module: Some("mayday_reporter::failure::tests".into()),
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
    fn boxed_errors_are_named_by_their_contents() {
        let boxed: Box<dyn StdError + Send + Sync> = Box::new(Outer(Inner));
        let captured = CapturedError::from_boxed(
            std::any::type_name::<Box<dyn StdError + Send + Sync>>(),
            boxed.as_ref(),
            None,
        );
        let types: Vec<_> = captured.chain.iter().map(|l| l.ty.as_str()).collect();
        assert_eq!(types, ["Outer", "Inner"]);
    }

    #[test]
    fn io_errors_have_a_type_name() {
        let io = std::io::Error::other("boom");
        let link = ErrorLink::from_debug_display(&io);
        assert_eq!(link.value, "boom");
        assert!(!link.ty.is_empty());
    }

    #[test]
    fn ignore_rules_match_types_and_panic_messages() {
        let error = Failure::Error(CapturedError::from_error(&Outer(Inner)));
        let types = |names: &[&str]| names.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(error.is_ignored(&types(&["Inner"]), &[]));
        assert!(error.is_ignored(&types(&["mayday_reporter::failure::tests::Outer"]), &[]));
        assert!(!error.is_ignored(&types(&["other::Outer", "Missing"]), &[]));
        let panic = Failure::Panic(PanicCapture {
            message: "client disconnected while streaming".into(),
            location: None,
            backtrace: None,
            thread: None,
        });
        assert!(panic.is_ignored(&[], &types(&["client disconnected"])));
        assert!(!panic.is_ignored(&types(&["Inner"]), &types(&["timeout"])));
    }
}
