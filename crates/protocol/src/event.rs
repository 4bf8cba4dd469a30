//! The event model: the subset of Sentry's event schema that Mayday reads and writes.
//!
//! Every struct keeps the fields it does not model in `other`, so an event read from any
//! SDK and written again loses nothing. Fields that SDKs send in several shapes (bare or
//! wrapped lists, objects or pairs, numbers or strings) are accepted in all of them.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::known_fields::deserialize_keeping_other;
pub use crate::lenient::{Pairs, Values};
use crate::lenient::{opt_string_or_number, opt_u64_lenient};

/// Unknown fields, kept verbatim for the round trip.
pub type Other = Map<String, Value>;

/// An event id: a UUID, written as 32 hex digits without dashes as Sentry does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(pub Uuid);

impl EventId {
    /// A fresh random id.
    pub fn new() -> Self {
        EventId(Uuid::new_v4())
    }
}

impl Default for EventId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.simple())
    }
}

impl FromStr for EventId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(EventId)
    }
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EventId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse()
            .map_err(|_| de::Error::custom(format!("event_id {s:?} is not a UUID")))
    }
}

/// A point in time, as seconds since the Unix epoch.
///
/// Read from a number or an RFC 3339 string (with or without a zone, UTC assumed);
/// written as a number.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Timestamp(pub f64);

impl Timestamp {
    /// The current time.
    pub fn now() -> Self {
        Self::from_datetime(Utc::now())
    }

    /// Converts from a chrono UTC time.
    pub fn from_datetime(dt: DateTime<Utc>) -> Self {
        Timestamp(dt.timestamp() as f64 + f64::from(dt.timestamp_subsec_micros()) / 1e6)
    }

    /// Converts to a chrono UTC time; `None` when out of chrono's range.
    pub fn to_datetime(self) -> Option<DateTime<Utc>> {
        if !self.0.is_finite() {
            return None;
        }
        let secs = self.0.floor();
        let nanos = ((self.0 - secs) * 1e9) as u32;
        DateTime::from_timestamp(secs as i64, nanos)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.0)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Number(n) => n
                .as_f64()
                .map(Timestamp)
                .ok_or_else(|| de::Error::custom("timestamp is not a finite number")),
            Value::String(s) => parse_rfc3339(&s)
                .map(Timestamp::from_datetime)
                .ok_or_else(|| de::Error::custom(format!("timestamp {s:?} is not RFC 3339"))),
            other => Err(de::Error::custom(format!(
                "timestamp must be a number or a string, got {other}"
            ))),
        }
    }
}

fn parse_rfc3339(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    // Some SDKs send a naive ISO time; Sentry reads those as UTC.
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|naive| naive.and_utc())
}

/// How severe an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Diagnostic detail.
    Debug,
    /// Informational.
    #[serde(alias = "log")]
    Info,
    /// Something unexpected that was handled.
    #[serde(alias = "warn")]
    Warning,
    /// An error; the default for exceptions.
    Error,
    /// A crash: a panic or an unhandled exception.
    #[serde(alias = "critical")]
    Fatal,
}

impl Level {
    /// The lowercase name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message: Sentry's `message` (a string) or `logentry` (an object with a template).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Message {
    /// The final text, with parameters applied.
    pub formatted: Option<String>,
    /// The template, such as `"user %s not found"`.
    pub message: Option<String>,
    /// Parameters for the template.
    pub params: Option<Value>,
}

impl Message {
    /// The text to show: the formatted message, else the template.
    pub fn text(&self) -> Option<&str> {
        self.formatted.as_deref().or(self.message.as_deref())
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message {
            formatted: Some(text.to_owned()),
            ..Default::default()
        }
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message {
            formatted: Some(text),
            ..Default::default()
        }
    }
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match (&self.formatted, &self.message, &self.params) {
            (Some(text), None, None) => serializer.serialize_str(text),
            _ => {
                let mut map = Map::new();
                if let Some(f) = &self.formatted {
                    map.insert("formatted".into(), Value::String(f.clone()));
                }
                if let Some(m) = &self.message {
                    map.insert("message".into(), Value::String(m.clone()));
                }
                if let Some(p) = &self.params {
                    map.insert("params".into(), p.clone());
                }
                map.serialize(serializer)
            }
        }
    }
}

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(s) => Ok(Message::from(s)),
            Value::Object(mut map) => {
                let text = |v: Option<Value>| v.and_then(crate::lenient::scalar_to_string);
                Ok(Message {
                    formatted: text(map.remove("formatted")),
                    message: text(map.remove("message")),
                    params: map.remove("params").filter(|p| !p.is_null()),
                })
            }
            other => Err(de::Error::custom(format!(
                "message must be a string or an object, got {other}"
            ))),
        }
    }
}

/// An error event as Sentry models it: one event, one or more exceptions.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Event {
    /// Unique id, chosen by the sender.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// When the event happened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
    /// The sender's platform, such as `rust`, `python`, `javascript`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Severity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    /// The logger that emitted it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logger: Option<String>,
    /// The route or job this happened in, such as `GET /orders/{id}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction: Option<String>,
    /// A plain message (for events without an exception).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// A templated message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logentry: Option<Message>,
    /// The exceptions, innermost cause first and the outermost error last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception: Option<Values<Exception>>,
    /// The HTTP request being handled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<Request>,
    /// The user affected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// Structured context about the environment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contexts: Option<Contexts>,
    /// The release, such as `shop@1.4.2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// The deployment environment, such as `production`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The host that produced the event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// Searchable key/value tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
    /// What happened before the event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breadcrumbs: Option<Values<Breadcrumb>>,
    /// Explicit grouping; `{{ default }}` stands for the default grouping.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Vec<String>>,
    /// The SDK that sent the event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sdk: Option<ClientSdk>,
    /// Arbitrary extra data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra: Option<Map<String, Value>>,
    /// The loaded images, for symbolicating frames by address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debug_meta: Option<crate::DebugMeta>,
    /// Fields this model does not know, kept verbatim.
    #[serde(flatten)]
    pub other: Other,
}

deserialize_keeping_other!(Event {
    "event_id" => event_id,
    "timestamp" => timestamp,
    "platform" => platform,
    "level" => level,
    "logger" => logger,
    "transaction" => transaction,
    "message" => message,
    "logentry" => logentry,
    "exception" => exception,
    "request" => request,
    "user" => user,
    "contexts" => contexts,
    "release" => release,
    "environment" => environment,
    "server_name" => server_name,
    "tags" => tags via opt_tags: Option<Tags>,
    "breadcrumbs" => breadcrumbs,
    "fingerprint" => fingerprint,
    "sdk" => sdk,
    "extra" => extra,
    "debug_meta" => debug_meta,
});

impl Event {
    /// A new event with a fresh id, the current time and platform `rust`.
    pub fn new() -> Self {
        Event {
            event_id: Some(EventId::new()),
            timestamp: Some(Timestamp::now()),
            platform: Some("rust".into()),
            ..Default::default()
        }
    }

    /// Parses an event from JSON.
    ///
    /// The text is checked to be UTF-8 once, as a whole, and read as `str`: read from
    /// bytes, serde_json checks every string on its own, and for an event of a few
    /// hundred short strings those checks cost more than the one pass (BENCHMARKS.md).
    /// The events refused are the same: JSON text outside strings is ASCII.
    pub fn from_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            <serde_json::Error as de::Error>::custom(format_args!("the event is not UTF-8: {e}"))
        })?;
        serde_json::from_str(text)
    }

    /// The exceptions, innermost cause first; empty when there are none.
    pub fn exceptions(&self) -> &[Exception] {
        self.exception.as_ref().map_or(&[], |e| &e.values)
    }

    /// The message text, from `logentry` or `message`.
    pub fn message_text(&self) -> Option<&str> {
        self.logentry
            .as_ref()
            .and_then(Message::text)
            .or_else(|| self.message.as_ref().and_then(Message::text))
    }
}

/// Tags: read from an object or a list of pairs, with scalar values as strings.
pub type Tags = BTreeMap<String, String>;

/// Reads tags sent as an object or a list of pairs, with scalar values as strings.
fn opt_tags<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Tags>, D::Error> {
    let pairs = Option::<Pairs>::deserialize(deserializer)?;
    Ok(pairs.map(|pairs| pairs.0.into_iter().collect()))
}

/// One exception in a chain.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Exception {
    /// The error type, such as `PaymentError` or `panic`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<String>,
    /// The error's text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The module that defines the type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// How it was caught.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mechanism: Option<Mechanism>,
    /// Where it was raised.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stacktrace: Option<Stacktrace>,
    /// Fields this model does not know, kept verbatim.
    #[serde(flatten)]
    pub other: Other,
}

deserialize_keeping_other!(Exception {
    "type" => ty,
    "value" => value,
    "module" => module,
    "mechanism" => mechanism,
    "stacktrace" => stacktrace,
});

/// How an exception was caught.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Mechanism {
    /// Such as `panic`, `http`, `generic`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<String>,
    /// `false` when the error was not handled by the application (a crash).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handled: Option<bool>,
    /// Free text about the mechanism.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Extra data about the mechanism.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Map<String, Value>>,
    /// Fields this model does not know, kept verbatim.
    #[serde(flatten)]
    pub other: Other,
}

deserialize_keeping_other!(Mechanism {
    "type" => ty,
    "handled" => handled,
    "description" => description,
    "data" => data,
});

/// A stack trace, oldest frame first and the frame that raised last.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stacktrace {
    /// The frames, caller before callee.
    pub frames: Vec<Frame>,
    /// Frames left out to keep the trace short: the start (inclusive) and end (exclusive)
    /// indices, oldest first, of the range cut from the full trace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frames_omitted: Option<[u64; 2]>,
    /// Fields this model does not know, kept verbatim.
    #[serde(flatten)]
    pub other: Other,
}

deserialize_keeping_other!(Stacktrace {
    "frames" => frames,
    "frames_omitted" => frames_omitted,
});

/// One stack frame.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Frame {
    /// The function, without symbol hashes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// The module path, such as `shop::checkout`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// The package (crate, library) the frame belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// The file, relative when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// The absolute path of the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abs_path: Option<String>,
    /// Line number, from 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lineno: Option<u64>,
    /// Column number, from 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub colno: Option<u64>,
    /// Whether the frame is the application's own code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_app: Option<bool>,
    /// The instruction address, as a hex string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instruction_addr: Option<String>,
    /// Where the image holding it was loaded, as a hex string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_addr: Option<String>,
    /// Fields this model does not know, kept verbatim.
    #[serde(flatten)]
    pub other: Other,
}

deserialize_keeping_other!(Frame {
    "function" => function,
    "module" => module,
    "package" => package,
    "filename" => filename,
    "abs_path" => abs_path,
    "lineno" => lineno via opt_u64_lenient: Option<u64>,
    "colno" => colno via opt_u64_lenient: Option<u64>,
    "in_app" => in_app,
    "instruction_addr" => instruction_addr,
    "image_addr" => image_addr,
});

/// The HTTP request being handled when the event happened.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Request {
    /// Such as `GET`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The URL without its query string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The query string, without the leading `?`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_string: Option<String>,
    /// Request headers, in order.
    #[serde(skip_serializing_if = "Pairs::is_empty")]
    pub headers: Pairs,
    /// Server environment, such as `REMOTE_ADDR`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<Map<String, Value>>,
    /// Fields this model does not know, kept verbatim.
    #[serde(flatten)]
    pub other: Other,
}

deserialize_keeping_other!(Request {
    "method" => method,
    "url" => url,
    "query_string" => query_string via read_query_string: Option<String>,
    "headers" => headers,
    "env" => env,
});

/// Reads a query string sent as a string, an object or a list of pairs.
fn read_query_string<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.strip_prefix('?').unwrap_or(&s).to_owned())),
        other => {
            let pairs = Pairs::deserialize(other).map_err(de::Error::custom)?;
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in pairs.iter() {
                query.append_pair(k, v);
            }
            Ok(Some(query.finish()))
        }
    }
}

/// The user affected by an event.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct User {
    /// The application's id for the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Email address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Username or handle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// IP address; only sent when the application opts in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// Full name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Fields this model does not know, kept verbatim.
    #[serde(flatten)]
    pub other: Other,
}

deserialize_keeping_other!(User {
    "id" => id via opt_string_or_number: Option<String>,
    "email" => email,
    "username" => username,
    "ip_address" => ip_address,
    "name" => name,
});

/// Structured context about the environment. Each known context is typed; others are kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Contexts {
    /// Operating system.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<OsContext>,
    /// Language runtime (compiler, for Rust).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<RuntimeContext>,
    /// Machine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceContext>,
    /// Application build.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<AppContext>,
    /// Distributed trace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceContext>,
    /// Other contexts, by key.
    #[serde(flatten)]
    pub other: Other,
}

deserialize_keeping_other!(Contexts {
    "os" => os,
    "runtime" => runtime,
    "device" => device,
    "app" => app,
    "trace" => trace,
});

/// The `os` context.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OsContext {
    /// Always `os` when set.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<String>,
    /// Such as `Linux`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// OS version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Kernel version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel_version: Option<String>,
    /// Fields this model does not know, kept verbatim.
    #[serde(flatten)]
    pub other: Other,
}

deserialize_keeping_other!(OsContext {
    "type" => ty,
    "name" => name,
    "version" => version,
    "kernel_version" => kernel_version,
});

/// The `runtime` context.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RuntimeContext {
    /// Always `runtime` when set.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<String>,
    /// Such as `rustc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Such as `1.85.0`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Fields this model does not know, kept verbatim.
    #[serde(flatten)]
    pub other: Other,
}

deserialize_keeping_other!(RuntimeContext {
    "type" => ty,
    "name" => name,
    "version" => version,
});

/// The `device` context.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DeviceContext {
    /// Always `device` when set.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<String>,
    /// The device's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// CPU architecture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// Fields this model does not know, kept verbatim.
    #[serde(flatten)]
    pub other: Other,
}

deserialize_keeping_other!(DeviceContext {
    "type" => ty,
    "name" => name,
    "arch" => arch,
});

/// The `app` context.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AppContext {
    /// Always `app` when set.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<String>,
    /// The application's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_name: Option<String>,
    /// The application's version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    /// Build identifier, such as a git commit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_build: Option<String>,
    /// Fields this model does not know, kept verbatim.
    #[serde(flatten)]
    pub other: Other,
}

deserialize_keeping_other!(AppContext {
    "type" => ty,
    "app_name" => app_name,
    "app_version" => app_version,
    "app_build" => app_build,
});

/// The `trace` context.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TraceContext {
    /// Always `trace` when set.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<String>,
    /// The trace id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// The span id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    /// The operation, such as `http.server`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
    /// Fields this model does not know, kept verbatim.
    #[serde(flatten)]
    pub other: Other,
}

deserialize_keeping_other!(TraceContext {
    "type" => ty,
    "trace_id" => trace_id,
    "span_id" => span_id,
    "op" => op,
});

/// Something that happened before the event.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Breadcrumb {
    /// When it happened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
    /// Such as `default`, `http`, `navigation`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<String>,
    /// Such as `auth` or `sql.query`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// What happened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Severity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    /// Structured data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Map<String, Value>>,
    /// Fields this model does not know, kept verbatim.
    #[serde(flatten)]
    pub other: Other,
}

deserialize_keeping_other!(Breadcrumb {
    "timestamp" => timestamp,
    "type" => ty,
    "category" => category,
    "message" => message,
    "level" => level,
    "data" => data,
});

/// The SDK that sent an event.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClientSdk {
    /// Such as `mayday.rust` or `sentry.python`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The SDK's version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Enabled integrations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrations: Option<Vec<String>>,
    /// Fields this model does not know, kept verbatim.
    #[serde(flatten)]
    pub other: Other,
}

deserialize_keeping_other!(ClientSdk {
    "name" => name,
    "version" => version,
    "integrations" => integrations,
});
