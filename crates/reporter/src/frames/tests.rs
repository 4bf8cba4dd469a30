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

#[test]
fn reads_rendered_std_backtraces() {
    let text = "   0: std::backtrace::Backtrace::create
             at /rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/std/src/backtrace.rs:331:13
   1: anyhow::error::<impl anyhow::Error>::msg
             at /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/anyhow-1.0.105/src/error.rs:83:36
   2: load_order
             at /work/shop/src/orders.rs:40:9
   3: shop::orders::handler::{{closure}}
             at /work/shop/src/orders.rs:52:20
   4: main
";
    let raw = parse_rendered(text);
    assert_eq!(raw.len(), 5);
    assert_eq!(raw[2].name.as_deref(), Some("load_order"));
    assert_eq!(raw[2].file.as_deref(), Some("/work/shop/src/orders.rs"));
    assert_eq!((raw[2].line, raw[2].column), (Some(40), Some(9)));
    assert_eq!(raw[4].file, None);
    let app = AppSource {
        krate: "shop",
        manifest_dir: "/work/shop",
        reporter_dir: REPORTER_DIR,
    };
    let stacktrace = process(&raw, &app, &InAppRules::default());
    let functions: Vec<_> = stacktrace
        .frames
        .iter()
        .rev()
        .map(|f| (f.function.as_deref().unwrap_or(""), f.in_app == Some(true)))
        .collect();
    // The capture inside std and anyhow is trimmed; the short name gets its module.
    assert_eq!(
        functions[..2],
        [
            ("shop::orders::load_order", true),
            ("shop::orders::handler::{{closure}}", true)
        ]
    );
}
