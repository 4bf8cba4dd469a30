//! Function names as backtraces give them, made readable and stable.
//!
//! Depending on the build, one function shows up under several spellings: the DWARF name
//! of a release build with line tables only (`apply_coupon`, `{async_fn#0}`,
//! `poll<alloc::boxed::Box<dyn Future>>`), a legacy symbol (`shop::checkout::apply_coupon`,
//! `shop::handler::{{closure}}`), a v0 symbol (`std::panicking::catch_unwind::<i32, F>`).
//! These helpers bring them to one form: the full path, no hash, no generic arguments,
//! closures and async bodies as `{{closure}}`.

/// Removes a legacy symbol hash (`::h0123456789abcdef`) if the demangler left one.
pub fn strip_hash(name: &str) -> &str {
    match name.rsplit_once("::h") {
        Some((head, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            head
        }
        _ => name,
    }
}

/// Removes generic argument lists and keeps qualified paths:
/// `poll<Box<dyn Future>>` gives `poll`, `catch_unwind::<i32, F>` gives `catch_unwind`,
/// `<Cart<u8> as Debug>::fmt` gives `<Cart as Debug>::fmt`.
///
/// A `<` at the start of the name (or right after another qualifying `<`) opens a
/// qualified path `<Type as Trait>`, which is kept; any other `<` opens generic
/// arguments, which are dropped up to the matching `>`.
pub fn strip_generics(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    // One entry per open `<`: whether it is kept (a qualified path) or dropped.
    let mut open: Vec<bool> = Vec::new();
    let dropping = |open: &[bool]| open.iter().any(|keep| !keep);
    let mut previous = None;
    for c in name.chars() {
        match c {
            '<' => {
                let qualifies = !dropping(&open) && (previous.is_none() || previous == Some('<'));
                if !qualifies && !dropping(&open) && out.ends_with("::") {
                    // A turbofish: `f::<T>` becomes `f`.
                    out.truncate(out.len() - 2);
                }
                open.push(qualifies);
                if qualifies {
                    out.push(c);
                }
            }
            // `->` inside a `fn(A) -> B` argument, not a bracket.
            '>' if previous == Some('-') && !dropping(&open) => out.push(c),
            '>' if previous == Some('-') => {}
            '>' => match open.pop() {
                Some(true) => out.push(c),
                Some(false) => {}
                None => out.push(c),
            },
            _ if !dropping(&open) => out.push(c),
            _ => {}
        }
        previous = Some(c);
    }
    out
}

/// Closures, async fn bodies and async blocks as `{{closure}}`, the way legacy symbols
/// spell them, so that every build names them alike.
pub fn normalize_closures(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        if let Some(stripped) = tail.strip_prefix("{{closure}}") {
            out.push_str("{{closure}}");
            rest = stripped;
            continue;
        }
        let end = tail.find('}').map_or(tail.len(), |e| e + 1);
        let inner = &tail[1..end.saturating_sub(1).max(1)];
        let kind = inner.split('#').next().unwrap_or(inner);
        if matches!(kind, "closure" | "async_fn" | "async_block") && inner.contains('#') {
            out.push_str("{{closure}}");
        } else {
            out.push_str(&tail[..end]);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// The readable form of a function name: hash, generic arguments and closure numbers
/// removed.
pub fn clean(name: &str) -> String {
    normalize_closures(&strip_generics(strip_hash(name)))
}

/// Whether `name` lacks a module path (`apply_coupon`, `{closure#0}<u8>`), as DWARF names
/// of release builds with line tables only do.
pub fn is_short(name: &str) -> bool {
    let bare = strip_generics(name);
    !bare.starts_with('<') && !bare.contains("::")
}

/// Splits a clean function path into (module, package):
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

/// For a short closure or async name (`{async_fn#0}`), the path of the function it
/// belongs to, read from the environment type that callers name in their generic
/// arguments (`axum_app::checkout::handler::{async_fn_env#0}`), when exactly one such
/// path of crate `krate` appears in `context`.
pub fn closure_owner<'a>(
    short: &str,
    krate: &str,
    context: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let bare = strip_generics(short);
    let inner = bare.strip_prefix('{')?.strip_suffix('}')?;
    let (kind, number) = inner.split_once('#')?;
    if !matches!(kind, "closure" | "async_fn" | "async_block") {
        return None;
    }
    let marker = format!("::{{{kind}_env#{number}}}");
    let mut found: Option<String> = None;
    for text in context {
        let mut from = 0;
        while let Some(at) = text[from..].find(&marker) {
            let end = from + at;
            let start = text[..end]
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(0, |i| i + 1);
            let path = text[start..end].trim_start_matches(':');
            if path.split("::").next() == Some(krate) {
                match &found {
                    Some(existing) if existing != path => return None,
                    _ => found = Some(path.to_owned()),
                }
            }
            from = end + marker.len();
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_names_from_every_build() {
        let cases = [
            // DWARF names of release builds with line tables only.
            ("apply_coupon", "apply_coupon"),
            (
                "poll<alloc::boxed::Box<(dyn core::future::future::Future<Output=()> + core::marker::Send)>>",
                "poll",
            ),
            ("{closure#0}<u8>", "{{closure}}"),
            ("{async_fn#0}", "{{closure}}"),
            (
                "{async_block#0}<fn(mayday_reporter::scope::Scope) -> axum_app::checkout::handler::{async_fn_env#0}, ()>",
                "{{closure}}",
            ),
            // Legacy symbols.
            (
                "shop::checkout::apply_coupon::h0123456789abcdef",
                "shop::checkout::apply_coupon",
            ),
            ("shop::handler::{{closure}}", "shop::handler::{{closure}}"),
            (
                "<axum::routing::route::RouteFuture<E> as core::future::future::Future>::poll",
                "<axum::routing::route::RouteFuture as core::future::future::Future>::poll",
            ),
            // v0 symbols.
            (
                "std::panicking::catch_unwind::<i32, &dyn core::ops::function::Fn<(), Output = i32>>",
                "std::panicking::catch_unwind",
            ),
            (
                "std::rt::lang_start_internal::{closure#0}",
                "std::rt::lang_start_internal::{{closure}}",
            ),
            (
                "<<shop::A as shop::B>::C as core::fmt::Debug>::fmt",
                "<<shop::A as shop::B>::C as core::fmt::Debug>::fmt",
            ),
            ("shop::{impl#0}::total", "shop::{impl#0}::total"),
        ];
        for (raw, expected) in cases {
            assert_eq!(clean(raw), expected, "{raw}");
        }
    }

    #[test]
    fn short_names_are_recognised() {
        assert!(is_short("apply_coupon"));
        assert!(is_short(
            "{closure#0}<axum::routing::route::RouteFuture<E>>"
        ));
        assert!(!is_short("shop::apply_coupon"));
        assert!(!is_short("<shop::Cart as core::fmt::Debug>::fmt"));
    }

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
    fn finds_the_owner_of_a_closure_in_its_callers_generics() {
        let context = [
            "{async_block#0}<fn(mayday_reporter::scope::Scope) -> axum_app::checkout::handler::{async_fn_env#0}, axum_app::checkout::handler::{async_fn_env#0}, ()>",
        ];
        assert_eq!(
            closure_owner("{async_fn#0}", "axum_app", context).as_deref(),
            Some("axum_app::checkout::handler")
        );
        // Another crate's environment does not count.
        assert_eq!(closure_owner("{async_fn#0}", "shop", context), None);
        // Two different owners: ambiguous.
        let two = ["f<a::x::{closure_env#0}, a::y::{closure_env#0}>"];
        assert_eq!(closure_owner("{closure#0}", "a", two), None);
        assert_eq!(closure_owner("apply_coupon", "a", two), None);
    }
}
