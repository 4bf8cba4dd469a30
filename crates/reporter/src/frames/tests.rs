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

/// A fixture: the raw symbols `examples/raw_frames` printed under one build setting, and
/// the app it describes (from the file's header line).
struct Fixture {
    raw: Vec<RawSymbol>,
    manifest_dir: String,
    reporter_dir: String,
}

fn fixture(text: &str) -> Fixture {
    let mut lines = text.lines();
    let header = lines.next().expect("a header line");
    let field = |name: &str| {
        header
            .split_whitespace()
            .find_map(|part| part.strip_prefix(&format!("{name}=")))
            .expect("header field")
            .to_owned()
    };
    Fixture {
        manifest_dir: field("manifest_dir"),
        reporter_dir: field("reporter_dir"),
        raw: lines
            .map(|line| line.parse().expect("a raw symbol line"))
            .collect(),
    }
}

/// The same panic (an index out of bounds in `shop::cart::line_price`, reached through
/// `shop::checkout::total` and an iterator closure from `main`) as each build setting
/// resolves it: names, in-app frames and trimming must come out the same way.
#[test]
fn every_build_setting_gives_the_panic_site_and_the_app_frames() {
    let cases = [
        (
            "release, debug = \"line-tables-only\"",
            include_str!("fixtures/release-debug-line-tables-only.tsv"),
            true,
        ),
        (
            "release, debug = 1",
            include_str!("fixtures/release-debug-1.tsv"),
            true,
        ),
        (
            "release, debug = true",
            include_str!("fixtures/release-debug-true.tsv"),
            true,
        ),
        ("debug build", include_str!("fixtures/debug.tsv"), true),
        (
            "release without debug info",
            include_str!("fixtures/release-debug-false.tsv"),
            false,
        ),
    ];
    for (setting, text, has_lines) in cases {
        let fixture = fixture(text);
        let app = AppSource {
            krate: "raw_frames",
            manifest_dir: &fixture.manifest_dir,
            reporter_dir: &fixture.reporter_dir,
        };
        let stacktrace = process(&fixture.raw, &app, &InAppRules::default());
        let frames = &stacktrace.frames;
        let in_app: Vec<&str> = frames
            .iter()
            .rev()
            .filter(|f| f.in_app == Some(true))
            .filter_map(|f| f.function.as_deref())
            .collect();
        let innermost = frames.last().expect("frames");
        let names: Vec<&str> = frames
            .iter()
            .filter_map(|f| f.function.as_deref())
            .collect();
        for name in &names {
            for trimmed in [
                "backtrace::",
                "std::panicking::",
                "core::panicking::",
                "lang_start",
            ] {
                assert!(!name.contains(trimmed), "{setting}: {name} is trimmed");
            }
            assert!(
                !name.contains('<') || name.starts_with('<'),
                "{setting}: no generic arguments in {name}"
            );
        }
        for frame in frames {
            if matches!(frame.package.as_deref(), Some("std" | "core" | "alloc")) {
                assert_eq!(frame.in_app, Some(false), "{setting}: {frame:?}");
            }
        }
        if has_lines {
            // The panic site, with its full path, file and line.
            assert_eq!(innermost.in_app, Some(true), "{setting}: {innermost:?}");
            let function = innermost.function.as_deref().unwrap_or_default();
            assert!(
                function.starts_with("raw_frames::shop") && function.ends_with("::line_price"),
                "{setting}: panic site {function}"
            );
            assert_eq!(innermost.filename.as_deref(), Some("shop.rs"), "{setting}");
            assert_eq!(innermost.lineno, Some(14), "{setting}");
            assert!(
                in_app.iter().any(|f| f.ends_with("::total")),
                "{setting}: the caller is there: {in_app:?}"
            );
        } else {
            // Inlined functions leave no trace without debug info; the innermost frame
            // is the function that contains the panic site, named from the symbol table.
            assert_eq!(innermost.lineno, None, "{setting}");
            assert!(
                in_app
                    .first()
                    .is_some_and(|f| f.starts_with("raw_frames::")),
                "{setting}: {in_app:?}"
            );
            assert_eq!(innermost.in_app, Some(true), "{setting}: {innermost:?}");
        }
        assert!(
            in_app.contains(&"raw_frames::main"),
            "{setting}: main is in-app: {in_app:?}"
        );
    }
}
