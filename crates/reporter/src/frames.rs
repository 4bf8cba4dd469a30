//! Turning a captured backtrace into Sentry frames: symbols, in-app marking, trimming.
//!
//! Runs in the background worker only: symbol resolution is slow and must never happen on
//! the request path.

use backtrace::Backtrace;
use mayday_protocol::Frame;

/// Crates whose frames are never the application's own code.
pub const DEFAULT_NOT_IN_APP: &[&str] = &[
    "std",
    "core",
    "alloc",
    "tokio",
    "hyper",
    "hyper_util",
    "axum",
    "axum_core",
    "tower",
    "tower_http",
    "tower_layer",
    "tower_service",
    "futures",
    "futures_util",
    "futures_core",
    "backtrace",
    "http",
    "mayday_reporter",
    "actix_web",
    "actix_http",
    "actix_server",
    "actix_rt",
    "__rustc",
];

/// Decides which frames are the application's own code.
#[derive(Debug, Clone, Default)]
pub struct InAppRules {
    /// Crates that are always in-app (the app's crate is added by default).
    pub include: Vec<String>,
    /// Crates that are never in-app, on top of [`DEFAULT_NOT_IN_APP`].
    pub exclude: Vec<String>,
}

impl InAppRules {
    /// Whether a frame of `package` whose file is `path` is in-app.
    ///
    /// Listed crates decide first; otherwise code from the cargo registry, git checkouts
    /// or the standard library's sources is not in-app, and everything else (the app's
    /// workspace) is.
    pub fn is_in_app(&self, package: Option<&str>, path: Option<&str>) -> bool {
        if let Some(package) = package {
            if self.include.iter().any(|c| c == package) {
                return true;
            }
            if DEFAULT_NOT_IN_APP.contains(&package) || self.exclude.iter().any(|c| c == package) {
                return false;
            }
        }
        match path {
            Some(path) => !is_third_party_path(path),
            None => false,
        }
    }
}

fn is_third_party_path(path: &str) -> bool {
    // C sources of libc and friends are compiled with paths like `./nptl/x.c`.
    path.starts_with("./")
        || path.starts_with("../")
        || path.starts_with("/rustc/")
        || path.contains("/.cargo/registry/")
        || path.contains("/.cargo/git/")
        || path.contains("/rustlib/src/")
}

/// Resolves `backtrace` (if not yet resolved) and converts it to frames, oldest first,
/// with the panic machinery above the panic site trimmed.
pub fn frames_from_backtrace(
    backtrace: &mut Backtrace,
    rules: &InAppRules,
    manifest_dir: &str,
) -> Vec<Frame> {
    backtrace.resolve();
    let mut frames = Vec::new();
    for frame in backtrace.frames() {
        let addr = format!("{:#x}", frame.ip() as usize);
        let symbols = frame.symbols();
        if symbols.is_empty() {
            frames.push(Frame {
                instruction_addr: Some(addr),
                in_app: Some(false),
                ..Default::default()
            });
            continue;
        }
        // Inlined functions share one instruction address: one frame each.
        for symbol in symbols {
            let function = symbol.name().map(|n| strip_hash(&format!("{n:#}")));
            let path = symbol.filename().map(|p| p.to_string_lossy().into_owned());
            frames.push(make_frame(
                function,
                path,
                symbol.lineno(),
                symbol.colno(),
                addr.clone(),
                rules,
                manifest_dir,
            ));
        }
    }
    trim_machinery(&mut frames);
    frames.reverse();
    frames
}

fn make_frame(
    function: Option<String>,
    path: Option<String>,
    lineno: Option<u32>,
    colno: Option<u32>,
    addr: String,
    rules: &InAppRules,
    manifest_dir: &str,
) -> Frame {
    let (module, package) = function.as_deref().map(split_path).unwrap_or_default();
    // Symbols without a Rust path (`start_thread`, `clone3`) are C code: libc, the
    // loader; never the app's.
    let rust_symbol = function.as_deref().is_some_and(|f| f.contains("::"));
    let in_app = rust_symbol && rules.is_in_app(package.as_deref(), path.as_deref());
    let (filename, abs_path) = match path {
        Some(path) if path.starts_with('/') => {
            (Some(short_filename(&path, manifest_dir)), Some(path))
        }
        Some(path) => (Some(path), None),
        None => (None, None),
    };
    Frame {
        function,
        module,
        package,
        filename,
        abs_path,
        lineno: lineno.map(u64::from),
        colno: colno.map(u64::from),
        in_app: Some(in_app),
        instruction_addr: Some(addr),
        ..Default::default()
    }
}

/// Removes a legacy symbol hash (`::h0123456789abcdef`) if the demangler left one.
pub fn strip_hash(name: &str) -> String {
    match name.rsplit_once("::h") {
        Some((head, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            head.to_owned()
        }
        _ => name.to_owned(),
    }
}

/// Splits a function path into (module, package):
/// `shop::checkout::apply_coupon` gives (`shop::checkout`, `shop`);
/// `<shop::Cart as core::fmt::Debug>::fmt` gives (`shop`, `shop`).
pub fn split_path(function: &str) -> (Option<String>, Option<String>) {
    let subject = match function.strip_prefix('<') {
        // For `<T as Trait>::f` the frame belongs to the crate of `T`.
        Some(rest) => {
            let end = rest
                .find(" as ")
                .or_else(|| rest.find('>'))
                .unwrap_or(rest.len());
            let ty = rest[..end]
                .trim_start_matches(['&', '*'])
                .trim_start_matches("mut ");
            let ty = ty.trim_start_matches("dyn ").trim_start_matches("const ");
            ty.split('<').next().unwrap_or(ty)
        }
        None => function,
    };
    let mut segments: Vec<&str> = subject.split("::").collect();
    let package = segments
        .first()
        .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .map(|s| (*s).to_owned());
    // Drop closures and the function itself; what is left is the module.
    while segments.last().is_some_and(|s| s.starts_with('{')) {
        segments.pop();
    }
    // The last segment is the function (or, for `<T as Trait>::f`, the type name).
    segments.pop();
    let module = (!segments.is_empty()).then(|| segments.join("::"));
    (module.or_else(|| package.clone()), package)
}

/// `/root/.cargo/registry/src/index.crates.io-abc/tokio-1.0.0/src/x.rs` gives
/// `tokio-1.0.0/src/x.rs`; `/rustc/<hash>/library/std/src/x.rs` gives
/// `library/std/src/x.rs`; paths under the app's workspace are made relative to it.
fn short_filename(path: &str, manifest_dir: &str) -> String {
    if let Some(rest) = path.strip_prefix("/rustc/") {
        return rest.split_once('/').map_or(rest, |(_, r)| r).to_owned();
    }
    for marker in ["/.cargo/registry/src/", "/.cargo/git/checkouts/"] {
        if let Some(at) = path.find(marker) {
            let rest = &path[at + marker.len()..];
            return rest.split_once('/').map_or(rest, |(_, r)| r).to_owned();
        }
    }
    let workspace = std::path::Path::new(manifest_dir);
    for base in workspace.ancestors().take(3) {
        if let Ok(rel) = std::path::Path::new(path).strip_prefix(base) {
            if base != std::path::Path::new("/") {
                return rel.to_string_lossy().into_owned();
            }
        }
    }
    path.to_owned()
}

/// Whether `function` is part of Rust's panic machinery or of the capture itself.
fn is_machinery(function: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "std::panicking::",
        "core::panicking::",
        "std::panic::",
        "core::panic::",
        "rust_begin_unwind",
        "__rustc::rust_begin_unwind",
        "std::sys::backtrace::__rust_end_short_backtrace",
        "std::sys_common::backtrace::__rust_end_short_backtrace",
        "backtrace::",
        "mayday_reporter::",
        "<mayday_reporter::",
        "<alloc::boxed::Box<F,A> as core::ops::function::Fn<Args>>::call",
    ];
    PREFIXES.iter().any(|p| function.starts_with(p))
}

fn is_std(function: &str) -> bool {
    [
        "std::", "core::", "alloc::", "<core::", "<std::", "<alloc::",
    ]
    .iter()
    .any(|p| function.starts_with(p))
}

/// Drops the frames above the panic site (innermost first, before reversing): the
/// capture code, the panic hook and `core::panicking`, and then any standard library
/// frames such as `Option::unwrap` that only forwarded the panic.
fn trim_machinery(frames: &mut Vec<Frame>) {
    let mut cut = 0;
    let mut seen = false;
    for (index, frame) in frames.iter().enumerate() {
        let Some(function) = frame.function.as_deref() else {
            if !seen {
                cut = index + 1;
            }
            continue;
        };
        if is_machinery(function) || (seen && is_std(function)) {
            cut = index + 1;
            seen = true;
        } else {
            break;
        }
    }
    if cut < frames.len() {
        frames.drain(..cut);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_paths() {
        let cases: &[(&str, Option<&str>, Option<&str>)] = &[
            (
                "shop::checkout::apply_coupon",
                Some("shop::checkout"),
                Some("shop"),
            ),
            (
                "shop::checkout::apply_coupon::{{closure}}",
                Some("shop::checkout"),
                Some("shop"),
            ),
            (
                "<shop::Cart as core::fmt::Debug>::fmt",
                Some("shop"),
                Some("shop"),
            ),
            (
                "<&shop::model::Cart as core::fmt::Debug>::fmt",
                Some("shop::model"),
                Some("shop"),
            ),
            ("main", Some("main"), Some("main")),
        ];
        for (input, module, package) in cases {
            let (m, p) = split_path(input);
            assert_eq!(m.as_deref(), *module, "module of {input}");
            assert_eq!(p.as_deref(), *package, "package of {input}");
        }
    }

    #[test]
    fn strips_hashes() {
        assert_eq!(strip_hash("shop::f::h0123456789abcdef"), "shop::f");
        assert_eq!(strip_hash("shop::handler"), "shop::handler");
    }

    #[test]
    fn in_app_rules() {
        let rules = InAppRules {
            include: vec!["shop".into()],
            exclude: vec!["sqlx".into()],
        };
        let registry = Some("/root/.cargo/registry/src/index/serde-1.0.0/src/lib.rs");
        let cases = [
            (Some("shop"), registry, true),
            (Some("tokio"), Some("src/main.rs"), false),
            (
                Some("mayday_reporter"),
                Some("crates/reporter/src/lib.rs"),
                false,
            ),
            (Some("sqlx"), Some("src/db.rs"), false),
            (Some("serde"), registry, false),
            (Some("shop_core"), Some("/work/shop/core/src/lib.rs"), true),
            (
                Some("std"),
                Some("/rustc/abc/library/std/src/panicking.rs"),
                false,
            ),
            (None, None, false),
        ];
        for (package, path, expected) in cases {
            assert_eq!(
                rules.is_in_app(package, path),
                expected,
                "{package:?} {path:?}"
            );
        }
    }

    #[test]
    fn shortens_file_names() {
        assert_eq!(
            short_filename("/rustc/59807616e1fa/library/std/src/panicking.rs", "/app"),
            "library/std/src/panicking.rs"
        );
        assert_eq!(
            short_filename(
                "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/tokio-1.48.0/src/lib.rs",
                "/app"
            ),
            "tokio-1.48.0/src/lib.rs"
        );
        assert_eq!(
            short_filename("/work/shop/src/main.rs", "/work/shop"),
            "src/main.rs"
        );
    }

    #[test]
    fn trims_panic_machinery_above_the_panic_site() {
        let names = [
            "backtrace::backtrace::trace",
            "mayday_reporter::capture::panic_hook",
            "<alloc::boxed::Box<F,A> as core::ops::function::Fn<Args>>::call",
            "std::panicking::rust_panic_with_hook",
            "std::panicking::begin_panic_handler::{{closure}}",
            "__rustc::rust_begin_unwind",
            "core::panicking::panic_fmt",
            "core::option::expect_failed",
            "shop::checkout::apply_coupon",
            "shop::checkout::handler",
            "tokio::runtime::task::poll",
        ];
        let mut frames: Vec<Frame> = names
            .iter()
            .map(|n| Frame {
                function: Some((*n).to_owned()),
                ..Default::default()
            })
            .collect();
        trim_machinery(&mut frames);
        let left: Vec<_> = frames
            .iter()
            .filter_map(|f| f.function.as_deref())
            .collect();
        assert_eq!(
            left,
            [
                "shop::checkout::apply_coupon",
                "shop::checkout::handler",
                "tokio::runtime::task::poll"
            ]
        );
    }

    #[test]
    fn real_backtrace_trims_capture_frames_and_keeps_callers() {
        let mut bt = Backtrace::new_unresolved();
        let rules = InAppRules::default();
        let frames = frames_from_backtrace(&mut bt, &rules, env!("CARGO_MANIFEST_DIR"));
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
}
