//! One event as a developer debugs from it: the exception chain and the stack first (in-app
//! frames open, with their source lines and local variables when the event carries them;
//! the others folded), then the request, the user, tags, breadcrumbs, `extra` and every
//! context as tables; long values folded behind "show all"; and the same event as
//! Markdown, for a bug tracker. Every value is event data: maud escapes it as text.

use std::fmt::Write as _;

use maud::{Markup, html};
use mayday_protocol::{Event, Exception, Frame};
use serde_json::{Map, Value};

use crate::notify::facts::describe_user_agent;
use crate::store::entities::event;

/// Values longer than this many characters (or lines) are folded.
const FOLD_CHARS: usize = 300;
const FOLD_LINES: usize = 6;
/// What a folded value shows before "show all".
const PREVIEW_CHARS: usize = 160;

/// The event's sections, debugging first.
/// Where in-app frames link to: the project's source link template and the commit
/// the event's build names (`contexts.app.app_build`, else a release's `+<commit>`).
pub(super) struct SourceLinks<'a> {
    template: Option<&'a str>,
    commit: Option<String>,
}

impl<'a> SourceLinks<'a> {
    /// The links of `event` in `project`.
    pub(super) fn of(project: &'a crate::store::entities::project::Model, event: &Event) -> Self {
        let from_build = event
            .contexts
            .as_ref()
            .and_then(|c| c.app.as_ref())
            .and_then(|a| a.app_build.clone());
        let from_release = event
            .release
            .as_deref()
            .and_then(|r| r.rsplit_once('+'))
            .map(|(_, commit)| commit.to_owned());
        let commit = from_build
            .or(from_release)
            .filter(|c| c.len() >= 7 && c.len() <= 64 && c.bytes().all(|b| b.is_ascii_hexdigit()));
        SourceLinks {
            template: project.source_link_template.as_deref(),
            commit,
        }
    }

    /// The link to an in-app frame's line, when there is one.
    fn of_frame(&self, frame: &Frame) -> Option<String> {
        let (template, commit) = (self.template?, self.commit.as_deref()?);
        if frame.in_app != Some(true) {
            return None;
        }
        let path = frame.filename.as_deref()?;
        Some(crate::tickets::source_link(
            template,
            commit,
            path,
            frame.lineno?,
        ))
    }
}

pub(super) fn event_view(row: &event::Model, event: &Event, links: &SourceLinks<'_>) -> Markup {
    let raw = serde_json::to_string_pretty(event).unwrap_or_default();
    html! {
        section #exception {
            (missing_debug_files(event))
            @for exception in event.exceptions().iter().rev() {
                (exception_block(exception, links))
            }
            @if let Some(message) = event.message_text() {
                @if event.exceptions().is_empty() { h2 { "Message" } }
                @else { h3 { "Message" } }
                (long_text(message))
            }
        }
        @if let Some(request) = &event.request {
            section #request {
                h2 { "Request" }
                p.wrap { code { (request.method.clone().unwrap_or_default()) " " (request.url.clone().unwrap_or_default())
                    @if let Some(q) = &request.query_string { "?" (q) } } }
                @if let Some(browser) = request.headers.get("user-agent").and_then(describe_user_agent) { p { (browser) } }
                @if !request.headers.0.is_empty() {
                    table.kv { tbody { @for (name, value) in request.headers.iter() { tr { th { (name) } td { (long_text(value)) } } } } }
                }
            }
        }
        @if let Some(user) = &event.user {
            section #user {
                h2 { "User" }
                table.kv { tbody {
                    @for (label, value) in [("Id", &user.id), ("Name", &user.name), ("Email", &user.email), ("Username", &user.username), ("IP address", &user.ip_address)] {
                        @if let Some(value) = value { tr { th { (label) } td { (long_text(value)) } } }
                    }
                    @for (key, value) in &user.other { tr { th { (key) } td { (json_value(value)) } } }
                } }
            }
        }
        section #tags {
            h2 { "Tags" }
            table.kv { tbody {
                @for (label, value) in [("release", &event.release), ("environment", &event.environment), ("server", &event.server_name), ("transaction", &event.transaction)] {
                    @if let Some(value) = value { tr { th { (label) } td { (long_text(value)) } } }
                }
                @if let Some(tags) = &event.tags { @for (key, value) in tags { tr { th { (key) } td { (long_text(value)) } } } }
            } }
        }
        @if let Some(breadcrumbs) = event.breadcrumbs.as_ref().filter(|b| !b.values.is_empty()) {
            section #breadcrumbs {
                h2 { "Breadcrumbs" }
                table { tbody { @for crumb in &breadcrumbs.values {
                    tr {
                        td.muted { (crumb.timestamp.and_then(|t| t.to_datetime()).map(|t| t.format("%H:%M:%S%.3f").to_string()).unwrap_or_default()) }
                        td { (crumb.category.clone().unwrap_or_default()) }
                        td { (long_text(crumb.message.as_deref().unwrap_or_default()))
                            @if let Some(data) = crumb.data.as_ref().filter(|d| !d.is_empty()) { (map_table(data)) } }
                    }
                } } }
            }
        }
        @if let Some(extra) = event.extra.as_ref().filter(|e| !e.is_empty()) {
            section #extra {
                h2 { "Extra" }
                (map_table(extra))
            }
        }
        @if let Some(Value::Object(contexts)) = event.contexts.as_ref().and_then(|c| serde_json::to_value(c).ok()) {
            @if !contexts.is_empty() {
                section #contexts {
                    h2 { "Contexts" }
                    @for (name, context) in &contexts {
                        h3 { (name) }
                        @match context {
                            Value::Object(fields) => (map_table(fields)),
                            other => (json_value(other)),
                        }
                    }
                }
            }
        }
        section.noprint {
            details { summary { "Raw JSON of event " code { (row.event_id) } } pre { (raw) } }
        }
    }
}

/// What a person looks for first, on the first screen: who it happened to, what they
/// asked for, with what browser, in which release and environment.
pub(super) fn highlights(event: &Event, users_link: &str) -> Markup {
    let user = event.user.as_ref();
    let request = event.request.as_ref();
    let browser = request
        .and_then(|r| r.headers.get("user-agent"))
        .and_then(describe_user_agent);
    html! {
        dl.highlights #highlights {
            div {
                dt { "User" }
                dd.wrap {
                    @match user {
                        Some(user) => {
                            @if let Some(name) = user.name.as_ref().or(user.username.as_ref()) { strong { (name) } " " }
                            @if let Some(email) = &user.email {
                                @if let Some(link) = crate::encode::mailto(email) { a href=(link) { (email) } } @else { (email) }
                                " "
                            }
                            @if let Some(id) = &user.id { span.muted { "id " (id) } }
                            @if user.name.is_none() && user.username.is_none() && user.email.is_none() && user.id.is_none() {
                                @if let Some(ip) = &user.ip_address { span.muted { (ip) } }
                            }
                            " · " a href=(users_link) { "all affected users" }
                        }
                        None => { span.muted { "not known" } }
                    }
                }
            }
            @if let Some(request) = request {
                div {
                    dt { "Request" }
                    dd.wrap { code { (request.method.clone().unwrap_or_default()) " " (request.url.clone().unwrap_or_default())
                        @if let Some(q) = &request.query_string { "?" (q) } } }
                }
            }
            @if let Some(browser) = browser {
                div { dt { "Browser" } dd { (browser) } }
            }
            @if let Some(release) = &event.release {
                div { dt { "Release" } dd.wrap { code { (release) } } }
            }
            @if let Some(environment) = &event.environment {
                div { dt { "Environment" } dd.wrap { (environment) } }
            }
        }
    }
}

/// One exception: its type and value, then its frames, the crashing one first.
fn exception_block(exception: &Exception, links: &SourceLinks<'_>) -> Markup {
    let frames = frames(exception);
    html! {
        h2.exception { (exception.ty.clone().unwrap_or_else(|| "Error".into())) }
        @if let Some(value) = &exception.value { (long_text(value)) }
        div.stack {
            @for run in runs(frames) {
                @match run {
                    Run::InApp(frame) => (in_app_frame(frame, links)),
                    // Library frames between the app's: one row, opened in place.
                    Run::Library(frames) => details.frames {
                        summary { (frames.len()) @if frames.len() == 1 { " more frame" } @else { " more frames" }
                            span.muted { " (libraries: " (first_and_last(&frames)) ")" } }
                        @for frame in frames {
                            details.frame { summary { (frame_title(frame)) } (frame_detail(frame)) }
                        }
                    },
                }
            }
        }
    }
}

/// A stack's frames, the crashing one first: each in-app frame alone, each run of
/// other frames together.
enum Run<'a> {
    InApp(&'a Frame),
    Library(Vec<&'a Frame>),
}

fn runs(frames: &[Frame]) -> Vec<Run<'_>> {
    let mut runs: Vec<Run<'_>> = Vec::new();
    for frame in frames.iter().rev() {
        if frame.in_app == Some(true) {
            runs.push(Run::InApp(frame));
        } else if let Some(Run::Library(run)) = runs.last_mut() {
            run.push(frame);
        } else {
            runs.push(Run::Library(vec![frame]));
        }
    }
    runs
}

/// The first and last functions of a run, to say what it is.
fn first_and_last(frames: &[&Frame]) -> String {
    let name = |frame: &Frame| {
        let function = frame.function.as_deref().unwrap_or("?");
        // The crate is enough to say where: `tokio::runtime::...` -> `tokio`.
        function
            .trim_start_matches('<')
            .split("::")
            .next()
            .unwrap_or(function)
            .to_owned()
    };
    let mut crates: Vec<String> = Vec::new();
    for frame in frames {
        let krate = name(frame);
        if !crates.contains(&krate) {
            crates.push(krate);
        }
    }
    let shown: Vec<&str> = crates.iter().take(4).map(String::as_str).collect();
    let more = crates.len().saturating_sub(shown.len());
    if more > 0 {
        format!("{}, and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn frames(exception: &Exception) -> &[Frame] {
    exception
        .stacktrace
        .as_ref()
        .map_or(&[], |s| s.frames.as_slice())
}

fn in_app_frame(frame: &Frame, links: &SourceLinks<'_>) -> Markup {
    html! {
        div.frame.in-app {
            div { (frame_title(frame))
                @if let Some(link) = links.of_frame(frame) {
                    " " a.source href=(link) rel="noopener noreferrer" { "source" }
                }
            }
            (frame_detail(frame))
        }
    }
}

/// The debug files the collector lacked to name this event's frames, and how to
/// upload them.
fn missing_debug_files(event: &Event) -> Markup {
    let missing: Vec<&str> = match event.other.get("mayday_missing_debug_files") {
        Some(Value::Array(ids)) => ids.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let file_of = |id: &str| {
        event
            .debug_meta
            .iter()
            .flat_map(|m| m.images.iter())
            .find(|image| image.debug_id.as_deref() == Some(id))
            .and_then(|image| image.code_file.clone())
    };
    html! {
        @for id in missing {
            p.notice.failed role="note" {
                "Debug file " code { (id) }
                @if let Some(file) = file_of(id) { " (" code.wrap { (file) } ")" }
                " missing: its frames show addresses only. Upload it with "
                code.wrap { "mayday-collector debug-files upload --project NAME FILE.debug" }
                " (the file "
                code { "objcopy --only-keep-debug" }
                " wrote before stripping) or "
                code { "POST /api/v1/projects/{id}/debug-files" }
                "; events after the upload are named."
            }
        }
    }
}

fn frame_title(frame: &Frame) -> Markup {
    let unnamed = || match &frame.instruction_addr {
        Some(address) => format!("{address} (unnamed)"),
        None => "?".into(),
    };
    html! {
        code.wrap { (frame.function.clone().unwrap_or_else(unnamed)) }
        @if let Some(file) = frame.filename.as_ref().or(frame.abs_path.as_ref()) {
            " " span.muted.wrap { (file) @if let Some(line) = frame.lineno { ":" (line) } }
        }
    }
}

/// A frame's source lines (`pre_context`, `context_line`, `post_context`) and local
/// variables (`vars`), when the sender included them.
fn frame_detail(frame: &Frame) -> Markup {
    let lines = |key: &str| -> Vec<&str> {
        match frame.other.get(key) {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    };
    let before = lines("pre_context");
    let after = lines("post_context");
    let current = frame.other.get("context_line").and_then(Value::as_str);
    let first = frame.lineno.map(|n| n.saturating_sub(before.len() as u64));
    html! {
        @if let Some(current) = current {
            pre.source {
                @for (offset, line) in before.iter().enumerate() {
                    (line_number(first, offset)) (line) "\n"
                }
                mark { (line_number(first, before.len())) (current) } "\n"
                @for (offset, line) in after.iter().enumerate() {
                    (line_number(first, before.len() + 1 + offset)) (line) "\n"
                }
            }
        }
        @if let Some(Value::Object(vars)) = frame.other.get("vars") {
            @if !vars.is_empty() {
                details.vars open { summary { "Local variables" } (map_table(vars)) }
            }
        }
    }
}

fn line_number(first: Option<u64>, offset: usize) -> Markup {
    html! { @if let Some(first) = first { span.lineno { (first + offset as u64) } } }
}

/// Keys and values as a table; nested values as JSON.
fn map_table(map: &Map<String, Value>) -> Markup {
    html! {
        table.kv { tbody { @for (key, value) in map { tr { th { (key) } td { (json_value(value)) } } } } }
    }
}

fn json_value(value: &Value) -> Markup {
    match value {
        Value::String(text) => long_text(text),
        Value::Null => html! { span.muted { "null" } },
        other => long_text(&serde_json::to_string_pretty(other).unwrap_or_default()),
    }
}

/// Text, folded behind "show all" when long, so that a 3,000-character value does not
/// become a 3,000-pixel block.
fn long_text(text: &str) -> Markup {
    let long = text.len() > FOLD_CHARS && text.chars().nth(FOLD_CHARS).is_some()
        || text.lines().nth(FOLD_LINES).is_some();
    if !long {
        return html! { span.value { (text) } };
    }
    let preview: String = text
        .lines()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(PREVIEW_CHARS)
        .collect();
    html! {
        details.long {
            summary { span.value { (preview) "…" } " " span.show { "show all (" (text.chars().count()) " characters)" } }
            pre { (text) }
        }
    }
}

/// The event as Markdown, for pasting into a bug tracker: title, where, the exception
/// chain with its in-app frames, the request, the user, release and environment, and a
/// link back. Event text goes inside code spans and fences, which Markdown does not
/// interpret (backticks in it are neutralised).
pub(super) fn markdown(title: &str, link: &str, row: &event::Model, event: &Event) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### {}", inline(title));
    let _ = writeln!(out);
    let _ = writeln!(out, "Event `{}`: {}", row.event_id, link);
    for (label, value) in [
        ("Release", &event.release),
        ("Environment", &event.environment),
    ] {
        if let Some(value) = value {
            let _ = writeln!(out, "- {label}: {}", code(value));
        }
    }
    if let Some(request) = &event.request {
        let _ = writeln!(
            out,
            "- Request: {}",
            code(&format!(
                "{} {}",
                request.method.as_deref().unwrap_or_default(),
                request.url.as_deref().unwrap_or_default()
            ))
        );
    }
    if let Some(user) = &event.user {
        let who = [&user.id, &user.email, &user.username]
            .into_iter()
            .flatten()
            .next();
        if let Some(who) = who {
            let _ = writeln!(out, "- User: {}", code(who));
        }
    }
    let _ = writeln!(out);
    let mut fence = String::new();
    for exception in event.exceptions().iter().rev() {
        let _ = writeln!(
            fence,
            "{}: {}",
            exception.ty.as_deref().unwrap_or("Error"),
            exception.value.as_deref().unwrap_or_default()
        );
        for frame in frames(exception).iter().rev() {
            if frame.in_app != Some(true) {
                continue;
            }
            let _ = write!(fence, "    at {}", frame.function.as_deref().unwrap_or("?"));
            if let Some(file) = frame.filename.as_ref().or(frame.abs_path.as_ref()) {
                let _ = write!(fence, " ({file}");
                if let Some(line) = frame.lineno {
                    let _ = write!(fence, ":{line}");
                }
                let _ = write!(fence, ")");
            }
            let _ = writeln!(fence);
        }
    }
    if fence.is_empty()
        && let Some(message) = event.message_text()
    {
        fence.push_str(message);
        fence.push('\n');
    }
    if !fence.is_empty() {
        // A fence longer than any run of backticks inside cannot be closed early.
        let ticks = "`".repeat(longest_backtick_run(&fence).max(2) + 1);
        let _ = write!(out, "{ticks}\n{fence}{ticks}\n");
    }
    out
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// A value as an inline code span that its own backticks cannot end.
fn code(value: &str) -> String {
    let value: String = value.chars().filter(|c| *c != '\n' && *c != '\r').collect();
    let ticks = "`".repeat(longest_backtick_run(&value) + 1);
    format!("{ticks} {value} {ticks}")
}

/// Title text on one line with Markdown's active characters escaped.
fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '!' | '|' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_keeps_event_text_inert() {
        let event: Event = serde_json::from_value(serde_json::json!({
            "exception": {"values": [{"type": "Panic", "value": "bad ``` [x](javascript:alert(1))",
                "stacktrace": {"frames": [{"function": "shop::checkout", "filename": "src/checkout.rs", "lineno": 42, "in_app": true}]}}]},
            "request": {"method": "GET", "url": "https://shop.example/checkout?bundle=`team`"},
            "release": "shop@2.4.1"
        }))
        .expect("event");
        let row = event::Model {
            id: 1,
            project_id: 1,
            issue_id: 1,
            event_id: "ab".repeat(16),
            received_at: 0,
            timestamp: 0,
            level: crate::store::EventLevel::Error,
            environment: None,
            release: None,
            user_key: None,
            payload: Vec::new(),
            grouped_as: None,
        };
        let text = markdown("Panic: *bold* [x](y)", "http://127.0.0.1/x", &row, &event);
        assert!(
            text.starts_with("### Panic: \\*bold\\* \\[x\\](y)\n"),
            "{text}"
        );
        assert!(text.contains("- Release: ` shop@2.4.1 `"), "{text}");
        // The request's backticks cannot end its code span.
        assert!(
            text.contains("``` GET https://shop.example/checkout?bundle=`team` ```")
                || text.contains("`` GET https://shop.example/checkout?bundle=`team` ``"),
            "{text}"
        );
        // The fence is longer than the backticks inside it.
        assert!(text.contains("````\nPanic: bad ``` [x](javascript:alert(1))\n    at shop::checkout (src/checkout.rs:42)\n````"), "{text}");
    }

    #[test]
    fn long_values_fold_and_short_ones_do_not() {
        let short = long_text("short").into_string();
        assert!(!short.contains("<details"));
        let long = long_text(&"x".repeat(3000)).into_string();
        assert!(long.contains("<details class=\"long\">"), "{long}");
        assert!(long.contains("show all (3000 characters)"));
    }
}
