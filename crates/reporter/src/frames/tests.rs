//! Frames as real builds produce them.

use super::*;

fn app() -> AppSource<'static> {
    AppSource {
        krate: "mayday_reporter_tests",
        manifest_dir: "/nonexistent/app",
        reporter_dir: REPORTER_DIR,
    }
}

#[test]
fn real_backtrace_trims_capture_frames_and_keeps_callers() {
    let mut backtrace = Backtrace::new_unresolved();
    let stacktrace = stacktrace(&mut backtrace, &app(), &InAppRules::default());
    let frames = &stacktrace.frames;
    // Frames of this crate above the capture point are the capture itself: trimmed.
    let top = frames
        .last()
        .and_then(|f| f.function.as_deref())
        .unwrap_or_default();
    assert!(!top.starts_with("mayday_reporter::"), "top frame {top}");
    // The callers (the test harness, std) remain, resolved, and are not in-app.
    let harness = frames
        .iter()
        .find(|f| {
            f.function
                .as_deref()
                .is_some_and(|n| n.starts_with("test::"))
        })
        .expect("a test harness frame");
    assert_eq!(harness.in_app, Some(false));
    assert_eq!(harness.package.as_deref(), Some("test"));
    assert!(harness.lineno.is_some(), "line numbers kept");
    assert!(
        harness
            .filename
            .as_deref()
            .is_some_and(|f| f.starts_with("library/")),
        "{:?}",
        harness.filename
    );
}

#[test]
fn raw_symbols_round_trip_through_text() {
    let symbol = RawSymbol {
        ip: 0x55d0_1234,
        inlined: true,
        name: Some("apply_coupon".into()),
        full_name: None,
        file: Some("/work/shop/src/lib.rs".into()),
        line: Some(95),
        column: Some(17),
    };
    let line = symbol.to_string();
    assert_eq!(
        line,
        "0x55d01234\t1\tapply_coupon\t-\t/work/shop/src/lib.rs\t95\t17"
    );
    assert_eq!(line.parse::<RawSymbol>().unwrap(), symbol);
    assert!("0x1\t0".parse::<RawSymbol>().is_err());
}
