//! Which frames a stack trace keeps: none of the capture and panic machinery above the
//! failure, none of the thread start-up below the app's entry point, and at most
//! [`MAX_FRAMES`] in all.

use mayday_protocol::Frame;

/// Most frames sent per stack trace; the rest is cut from the middle.
pub const MAX_FRAMES: usize = 50;
/// Of [`MAX_FRAMES`], how many of the innermost frames (nearest the failure) are kept.
const KEEP_INNERMOST: usize = 40;

/// What a frame does, for trimming.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// No symbol at all.
    Unresolved,
    /// The capture itself: the `backtrace` crate and this reporter.
    Capture,
    /// Rust's panic machinery: `std::panicking`, `core::panicking`, the hook call.
    Panicking,
    /// Other standard library code, such as `Option::unwrap` forwarding a panic.
    Std,
    /// Where the thread's own code starts (`__rust_begin_short_backtrace`): below it is
    /// only start-up (`main`, `lang_start`, `start_thread`).
    Entry,
    /// Everything else: the app, its dependencies.
    Code,
}

impl Role {
    /// The role of a frame with clean `function` name, from `package`.
    pub(crate) fn of(function: Option<&str>, package: Option<&str>, capture: bool) -> Role {
        let Some(function) = function else {
            return Role::Unresolved;
        };
        if function.ends_with("__rust_begin_short_backtrace") {
            return Role::Entry;
        }
        if capture
            || function.starts_with("backtrace::")
            || function.starts_with("std::backtrace::")
            || matches!(package, Some("anyhow" | "backtrace"))
        {
            return Role::Capture;
        }
        const PANICKING: &[&str] = &[
            "std::panicking::",
            "core::panicking::",
            "std::panic::",
            "core::panic::",
            "rust_begin_unwind",
            "__rustc::rust_begin_unwind",
            "std::sys::backtrace::__rust_end_short_backtrace",
            "std::sys_common::backtrace::__rust_end_short_backtrace",
            "__rust_end_short_backtrace",
            "<alloc::boxed::Box as core::ops::function::Fn>::call",
        ];
        if PANICKING.iter().any(|p| function.starts_with(p)) {
            return Role::Panicking;
        }
        if matches!(package, Some("std" | "core" | "alloc")) {
            return Role::Std;
        }
        Role::Code
    }
}

/// Trims `frames` (innermost first, each with its role) and returns them oldest first,
/// with the range cut for the budget, as Sentry's `frames_omitted`: start (inclusive) and
/// end (exclusive) indices into the list before the cut, oldest first.
pub(crate) fn trim(mut frames: Vec<(Frame, Role)>) -> (Vec<Frame>, Option<[u64; 2]>) {
    // The inner end: the capture and the panic machinery, with the standard library
    // frames around them (calling the hook; `Option::unwrap` or `slice::index` passing
    // the panic on).
    let machinery = |role: Role| matches!(role, Role::Unresolved | Role::Capture | Role::Panicking);
    let leading = frames
        .iter()
        .take_while(|(_, role)| machinery(*role) || *role == Role::Std)
        .count();
    // Only where the capture or the panic machinery is known: a stripped binary's
    // frames are all unresolved, and they are the app's, to be named by the collector.
    let last_machinery = frames[..leading]
        .iter()
        .rposition(|(_, role)| machinery(*role))
        .filter(|_| {
            frames[..leading]
                .iter()
                .any(|(_, role)| matches!(role, Role::Capture | Role::Panicking))
        });
    let mut cut = match last_machinery {
        Some(_) if leading < frames.len() => leading,
        // Nothing of the app's: keep the standard library's part.
        Some(last) => last + 1,
        None => 0,
    };
    if cut == frames.len() {
        cut = 0;
    }
    frames.drain(..cut);
    // The outer end: thread start-up below the entry point.
    if let Some(entry) = frames.iter().position(|(_, role)| *role == Role::Entry) {
        if entry > 0 {
            frames.truncate(entry);
        }
    }
    let mut frames: Vec<Frame> = frames.into_iter().map(|(frame, _)| frame).collect();
    frames.reverse();
    if frames.len() <= MAX_FRAMES {
        return (frames, None);
    }
    let keep_outermost = MAX_FRAMES - KEEP_INNERMOST;
    let end = frames.len() - KEEP_INNERMOST;
    frames.drain(keep_outermost..end);
    (frames, Some([keep_outermost as u64, end as u64]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(names: &[&str]) -> Vec<(Frame, Role)> {
        names
            .iter()
            .map(|name| {
                let package = name.split("::").next();
                let capture = name.starts_with("mayday_reporter::");
                let frame = Frame {
                    function: Some((*name).to_owned()),
                    ..Default::default()
                };
                (frame, Role::of(Some(name), package, capture))
            })
            .collect()
    }

    fn functions(frames: &[Frame]) -> Vec<&str> {
        frames
            .iter()
            .filter_map(|f| f.function.as_deref())
            .collect()
    }

    #[test]
    fn trims_the_panic_machinery_and_the_thread_start() {
        let frames = named(&[
            "backtrace::backtrace::trace",
            "mayday_reporter::hook::on_panic",
            "<alloc::boxed::Box as core::ops::function::Fn>::call",
            "std::panicking::rust_panic_with_hook",
            "std::panicking::begin_panic_handler::{{closure}}",
            "std::sys::backtrace::__rust_end_short_backtrace",
            "__rustc::rust_begin_unwind",
            "core::panicking::panic_fmt",
            "core::option::expect_failed",
            "shop::checkout::apply_coupon",
            "shop::checkout::handler",
            "tokio::runtime::task::poll",
            "std::sys::backtrace::__rust_begin_short_backtrace",
            "std::thread::lifecycle::spawn_unchecked::{{closure}}",
            "start_thread",
        ]);
        let (frames, omitted) = trim(frames);
        assert_eq!(
            functions(&frames),
            [
                "tokio::runtime::task::poll",
                "shop::checkout::handler",
                "shop::checkout::apply_coupon",
            ]
        );
        assert_eq!(omitted, None);
    }

    #[test]
    fn a_panic_inside_std_keeps_std() {
        let frames = named(&[
            "std::panicking::rust_panic_with_hook",
            "core::panicking::panic_fmt",
            "core::cell::panic_already_borrowed",
        ]);
        let (frames, _) = trim(frames);
        assert_eq!(functions(&frames), ["core::cell::panic_already_borrowed"]);
    }

    #[test]
    fn long_traces_keep_both_ends_and_say_what_was_cut() {
        let names: Vec<String> = (0..120).map(|i| format!("shop::f{i}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let (frames, omitted) = trim(named(&refs));
        assert_eq!(frames.len(), MAX_FRAMES);
        // Oldest first: the 10 outermost, then the 40 innermost.
        assert_eq!(frames[0].function.as_deref(), Some("shop::f119"));
        assert_eq!(frames[9].function.as_deref(), Some("shop::f110"));
        assert_eq!(frames[10].function.as_deref(), Some("shop::f39"));
        assert_eq!(frames[49].function.as_deref(), Some("shop::f0"));
        assert_eq!(omitted, Some([10, 80]));
    }
}
