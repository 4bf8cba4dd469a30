//! Grouping: which events are the same problem. Pure functions, no I/O.
//!
//! The rules, in order (see `docs/grouping.md` for examples):
//!
//! 1. an explicit `fingerprint` wins; `{{ default }}` in it stands for the default rules;
//! 2. exceptions: each exception's type plus its in-app frames' function and module,
//!    normalized (symbol hashes, generic parameters, closure numbering and addresses
//!    stripped; line numbers never count);
//! 3. exceptions without in-app frames: the same with all frames;
//! 4. exceptions without frames: type and normalized value;
//! 5. otherwise the normalized message (numbers, UUIDs, hex and quoted literals stripped).
//!
//! The fingerprint is the SHA-256 of the components, so it is stable across releases,
//! builds and line changes, and differs when the failing code differs.

use std::borrow::Cow;
use std::sync::LazyLock;

use mayday_protocol::{Event, Exception, Frame};
use regex::Regex;
use sha2::{Digest, Sha256};

/// Longest title kept, in characters.
const MAX_TITLE: usize = 200;

/// How an event was grouped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grouping {
    /// Hex SHA-256 of the components: the issue's identity within its project.
    pub fingerprint: String,
    /// The human-readable parts that were hashed, for debugging grouping.
    pub components: Vec<String>,
    /// The issue title: `Type: value`, or the message.
    pub title: String,
    /// Where it happened: the top in-app frame, else the route.
    pub culprit: Option<String>,
}

/// Groups `event`.
pub fn group(event: &Event) -> Grouping {
    let default = default_components(event);
    let components = match &event.fingerprint {
        Some(parts) if !parts.is_empty() => parts
            .iter()
            .flat_map(|part| {
                if is_default_marker(part) {
                    default.clone()
                } else {
                    vec![format!("fingerprint:{part}")]
                }
            })
            .collect(),
        _ => default,
    };
    let mut hasher = Sha256::new();
    for component in &components {
        hasher.update(component.as_bytes());
        hasher.update([0]);
    }
    Grouping {
        fingerprint: hex::encode(hasher.finalize()),
        components,
        title: title(event),
        culprit: culprit(event),
    }
}

/// One line on why events with `components` share an issue, for the issue page.
pub fn explain(components: &[String]) -> &'static str {
    let has = |prefix: &str| components.iter().any(|c| c.starts_with(prefix));
    if has("fingerprint:") {
        "Grouped by the fingerprint the app set on the event."
    } else if has("type:") && has("frame:") {
        "Grouped by exception type and the functions of the stack (in-app frames when there \
         are any); line numbers, build hashes and addresses do not count, so new releases of \
         the same code join this issue."
    } else if has("type:") {
        "Grouped by exception type and message (numbers, ids and quoted values stripped): \
         the event has no stack."
    } else if has("message:") {
        "Grouped by the message, with numbers, ids and quoted values stripped."
    } else {
        "Grouped with other events that carry neither an exception nor a message."
    }
}

fn is_default_marker(part: &str) -> bool {
    let inner: String = part.chars().filter(|c| !c.is_whitespace()).collect();
    inner == "{{default}}"
}

fn default_components(event: &Event) -> Vec<String> {
    let exceptions = event.exceptions();
    if !exceptions.is_empty() {
        let has_in_app = exceptions
            .iter()
            .any(|e| frames(e).iter().any(|f| f.in_app == Some(true)));
        let mut components = Vec::new();
        for exception in exceptions {
            let ty = exception.ty.as_deref().unwrap_or("Error");
            components.push(format!("type:{ty}"));
            let chosen: Vec<&Frame> = frames(exception)
                .iter()
                .filter(|f| !has_in_app || f.in_app == Some(true))
                .collect();
            if chosen.is_empty()
                && let Some(value) = &exception.value
            {
                components.push(format!("value:{}", normalize_text(value)));
            }
            for frame in chosen {
                components.push(frame_component(frame));
            }
        }
        return components;
    }
    if let Some(message) = event.message_text() {
        return vec![format!("message:{}", normalize_text(message))];
    }
    vec!["empty".to_owned()]
}

fn frames(exception: &Exception) -> &[Frame] {
    exception
        .stacktrace
        .as_ref()
        .map_or(&[], |s| s.frames.as_slice())
}

fn frame_component(frame: &Frame) -> String {
    let function = frame
        .function
        .as_deref()
        .map(normalize_function)
        .unwrap_or_default();
    let module = frame
        .module
        .as_deref()
        .map(normalize_function)
        .unwrap_or_default();
    // Without function or module, the file name (not the line) is what is left.
    if function.is_empty() && module.is_empty() {
        let file = frame
            .filename
            .as_deref()
            .or(frame.abs_path.as_deref())
            .unwrap_or("?");
        return format!("frame:file:{file}");
    }
    format!("frame:{module}:{function}")
}

static HASH_SUFFIX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"::h[0-9a-f]{16}\b").expect("valid regex"));
static CLOSURE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{closure#\d+\}|\{\{closure\}\}").expect("valid regex"));
static ADDRESS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"0x[0-9a-fA-F]+").expect("valid regex"));

/// Normalizes a function or module path so that builds of the same code agree:
/// `<shop::Cart<u8> as core::fmt::Debug>::fmt::h0123456789abcdef` becomes
/// `shop::Cart::fmt`; `{closure#2}` becomes `{closure}`; addresses are dropped.
pub fn normalize_function(name: &str) -> String {
    let name = replace_where(Cow::Borrowed(name), "::h", &HASH_SUFFIX, "");
    let name = replace_where(name, "{closure", &CLOSURE, "{closure}");
    let name = replace_where(name, "0x", &ADDRESS, "");
    let name = strip_trait_impl(&name);
    strip_generics(&name).trim().to_owned()
}

/// `pattern`'s matches in `name` replaced by `with`, looked for only where `marker` (the
/// pattern's fixed part) occurs: most names have none, and a substring search costs a
/// fraction of a regex's scan (grouping runs for every event).
fn replace_where<'a>(
    name: Cow<'a, str>,
    marker: &str,
    pattern: &Regex,
    with: &str,
) -> Cow<'a, str> {
    if !name.contains(marker) {
        return name;
    }
    Cow::Owned(pattern.replace_all(&name, with).into_owned())
}

/// `<Type as Trait>::method` becomes `Type::method`.
fn strip_trait_impl(name: &str) -> String {
    let Some(rest) = name.strip_prefix('<') else {
        return name.to_owned();
    };
    // Find the `>` that closes the leading `<`.
    let mut depth = 1;
    for (index, c) in rest.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => {
                depth -= 1;
                if depth == 0 {
                    let inner = &rest[..index];
                    let ty = inner.split(" as ").next().unwrap_or(inner);
                    return format!("{ty}{}", &rest[index + 1..]);
                }
            }
            _ => {}
        }
    }
    name.to_owned()
}

/// Removes `<...>` generic parameter lists (nested ones included).
fn strip_generics(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut depth = 0usize;
    for c in name.chars() {
        match c {
            '<' => depth += 1,
            '>' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b")
        .expect("valid regex")
});
static HEX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(0x[0-9a-f]+|[0-9a-f]{8,})\b").expect("valid regex"));
static QUOTED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#""[^"]*"|'[^']*'|`[^`]*`"#).expect("valid regex"));
static NUMBER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d+(\.\d+)?").expect("valid regex"));

/// Strips what varies between occurrences of the same message: quoted literals, UUIDs,
/// hex strings and numbers.
pub fn normalize_text(text: &str) -> String {
    let text = QUOTED.replace_all(text, "<str>");
    let text = UUID.replace_all(&text, "<uuid>");
    let text = HEX.replace_all(&text, |caps: &regex::Captures<'_>| {
        let matched = &caps[0];
        // A hex word has a digit (or an 0x prefix), so words like "deadbeef" stay text.
        if matched.bytes().any(|b| b.is_ascii_digit()) {
            "<hex>".to_owned()
        } else {
            matched.to_owned()
        }
    });
    let text = NUMBER.replace_all(&text, "<int>");
    text.trim().to_owned()
}

fn truncate(text: &str, max: usize) -> String {
    let first_line = text.lines().next().unwrap_or("");
    let cut = crate::encode::first_chars(first_line, max);
    if cut.len() == first_line.len() {
        first_line.to_owned()
    } else {
        format!("{cut}…")
    }
}

/// `Type: value` for exceptions (the outermost one), else the message.
pub fn title(event: &Event) -> String {
    if let Some(exception) = event.exceptions().last() {
        let ty = exception.ty.as_deref().unwrap_or("Error");
        return match exception.value.as_deref().filter(|v| !v.is_empty()) {
            Some(value) => truncate(&format!("{ty}: {value}"), MAX_TITLE),
            None => truncate(ty, MAX_TITLE),
        };
    }
    match event.message_text().filter(|m| !m.trim().is_empty()) {
        Some(message) => truncate(message, MAX_TITLE),
        None => "<unlabeled event>".to_owned(),
    }
}

/// The top in-app frame (`module::function`, or `function`), else the transaction.
pub fn culprit(event: &Event) -> Option<String> {
    let frame = event
        .exceptions()
        .iter()
        .rev()
        .flat_map(|e| frames(e).iter().rev())
        .find(|f| f.in_app == Some(true));
    if let Some(frame) = frame {
        let function = frame.function.as_deref().map(normalize_function);
        let module = frame.module.as_deref();
        return match (module, function) {
            (Some(module), Some(function)) if !function.starts_with(module) => {
                Some(truncate(&format!("{function} in {module}"), MAX_TITLE))
            }
            (_, Some(function)) => Some(truncate(&function, MAX_TITLE)),
            (Some(module), None) => Some(truncate(module, MAX_TITLE)),
            (None, None) => frame.filename.clone(),
        };
    }
    event
        .transaction
        .as_deref()
        .map(|t| truncate(t, MAX_TITLE))
        .or_else(|| {
            event
                .request
                .as_ref()
                .and_then(|r| r.url.as_deref())
                .map(|u| truncate(u, MAX_TITLE))
        })
}

#[cfg(test)]
mod tests;
