//! The process-wide parts: the panic hook and the registry of live reporters it reports
//! to.
//!
//! The hook records the backtrace of the panic site, which is gone by the time any
//! `catch_unwind` returns. Where the panic goes:
//!
//! - inside a reporter layer: to the request's scope, which the layer reports when it
//!   catches the unwind or when code inside it turned the panic into a 5xx;
//! - inside a task spawned with the request's scope: reported with that scope;
//! - anywhere else (a thread, a detached task): to every live reporter.
//!
//! With `panic = "abort"` nothing will catch the unwind: the hook reports at once and
//! waits (a short, configurable deadline) for the event to be delivered before the
//! process aborts.

use std::panic::PanicHookInfo;
use std::sync::{Arc, Mutex, Once, Weak};

use backtrace::Backtrace;
use mayday_protocol::{EventId, Level};

use crate::capture::ScopeData;
use crate::client::{Client, Reporter, any_live};
use crate::failure::{CapturedError, Failure, PanicCapture, payload_text};
use crate::scope::{bound_scope, in_unreported_layer, with_current_scope};

/// Live reporters, for panics outside any request and for the free capture functions.
static REGISTRY: Mutex<Vec<Weak<Client>>> = Mutex::new(Vec::new());

/// Adds a reporter to the registry and installs the hook (once per process).
pub(crate) fn register(client: &Arc<Client>) {
    REGISTRY
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(Arc::downgrade(client));
    install_panic_hook();
}

fn live_reporters() -> Vec<Reporter> {
    let mut registry = REGISTRY.lock().unwrap_or_else(|p| p.into_inner());
    registry.retain(|weak| weak.strong_count() > 0);
    registry
        .iter()
        .filter_map(Weak::upgrade)
        .map(|inner| Reporter { inner: Some(inner) })
        .collect()
}

/// Queues `failure` on every live reporter (not stopping at the first); returns those
/// that queued it.
fn broadcast(failure: &Failure) -> Vec<Reporter> {
    live_reporters()
        .into_iter()
        .filter(|reporter| {
            reporter
                .enqueue(failure.clone(), None, ScopeData::default())
                .is_some()
        })
        .collect()
}

/// Reports an error to every live reporter, from anywhere in the app.
///
/// Returns whether at least one reporter queued it.
pub fn capture_error<E>(error: &E) -> bool
where
    E: std::error::Error + ?Sized + 'static,
{
    !broadcast(&Failure::Error(CapturedError::from_error(error))).is_empty()
}

/// Reports a message to every live reporter, from anywhere in the app.
///
/// Returns whether at least one reporter queued it.
pub fn capture_message(message: &str, level: Level) -> bool {
    !broadcast(&Failure::Message {
        text: message.to_owned(),
        level,
    })
    .is_empty()
}

/// Installs the panic hook once per process; the previous hook still runs after ours.
fn install_panic_hook() {
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
    // A panic on the worker's own threads is never reported (it could repeat for every
    // event) and never waits for delivery (it would wait on itself).
    if crate::transport::on_worker_thread() || !any_live() {
        return;
    }
    let capture = PanicCapture {
        message: payload_text(info.payload()),
        location: info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column())),
        backtrace: Some(Backtrace::new_unresolved()),
        thread: std::thread::current().name().map(str::to_owned),
    };
    if cfg!(panic = "abort") {
        if in_unreported_layer() && with_current_scope(|_| ()).is_none() {
            return;
        }
        // Nothing will catch this: report now, and give delivery a moment.
        for reporter in report_now(capture) {
            reporter.flush_blocking(reporter.abort_deadline());
        }
        return;
    }
    let mut slot = Some(capture);
    // Inside a layer: the request's scope keeps it for the layer to report.
    with_current_scope(|scope| {
        if let Some(capture) = slot.take() {
            scope.record_panic(capture);
        }
    });
    if let Some(capture) = slot {
        if !in_unreported_layer() {
            report_now(capture);
        }
    }
}

/// Reports a panic at once, with the request it happened in if any; returns the
/// reporters that queued it.
fn report_now(capture: PanicCapture) -> Vec<Reporter> {
    let mut slot = Some(capture);
    let in_request: Option<(Reporter, Option<EventId>)> = with_current_scope(|scope| {
        let capture = slot.take()?;
        Some((
            scope.reporter().clone(),
            scope.capture(Failure::Panic(capture)),
        ))
    })
    .flatten();
    if let Some((reporter, Some(_))) = in_request {
        return vec![reporter];
    }
    let Some(capture) = slot else {
        return Vec::new();
    };
    if let Some(scope) = bound_scope() {
        // A task spawned for a request: report it with that request's context.
        let reporter = scope.reporter().clone();
        return match scope.capture(Failure::Panic(capture)) {
            Some(_) => vec![reporter],
            None => Vec::new(),
        };
    }
    broadcast(&Failure::Panic(capture))
}
