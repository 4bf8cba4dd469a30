//! Turning a queued capture into a Sentry event, in the worker: symbols, in-app frames,
//! scrubbing, build info and contexts.

use std::sync::OnceLock;

use mayday_protocol::{
    AppContext, ClientSdk, Contexts, DeviceContext, Event, Exception, Level, Mechanism, OsContext,
    Pairs, Request, RuntimeContext, Stacktrace, User, Values,
};
use serde_json::{Map, Value, json};

use crate::build_info;
use crate::capture::Capture;
use crate::config::Config;
use crate::debug_images;
use crate::failure::{CapturedError, Failure, PanicCapture, Trace};
use crate::frames::{self, AppSource, REPORTER_DIR};
use crate::request::RequestSnapshot;
use crate::scrub::IP_HEADERS;

/// The SDK name events carry.
pub const SDK_NAME: &str = "mayday.rust";

/// Builds the event for `capture`. Resolves symbols: call off the request path.
pub(crate) fn build_event(capture: Capture, config: &Config) -> Event {
    let mut event = Event::new();
    event.event_id = Some(capture.event_id);
    event.timestamp = Some(capture.timestamp);
    let request = capture.request.as_deref();
    let mut extra = Map::new();
    match capture.failure {
        Failure::Panic(panic) => {
            event.level = Some(Level::Fatal);
            event.exception = Some(Values::from(vec![panic_exception(panic, config)]));
        }
        Failure::Error(error) => {
            event.level = Some(Level::Error);
            event.exception = Some(Values::from(error_exceptions(
                error, "generic", true, config,
            )));
        }
        Failure::Status {
            status,
            error: Some(error),
        } => {
            event.level = Some(Level::Error);
            let mut exceptions =
                error_exceptions(CapturedError::clone(&error), "http", true, config);
            if let Some(mechanism) = exceptions.last_mut().and_then(|e| e.mechanism.as_mut()) {
                mechanism
                    .data
                    .get_or_insert_with(Map::new)
                    .insert("status_code".into(), json!(status.as_u16()));
            }
            event.exception = Some(Values::from(exceptions));
        }
        Failure::Status {
            status,
            error: None,
        } => {
            event.level = Some(Level::Error);
            let on = request.map_or_else(|| "request".to_owned(), RequestSnapshot::transaction);
            event.message = Some(format!("HTTP {} on {on}", status.as_u16()).into());
        }
        Failure::Message { text, level } => {
            event.level = Some(level);
            event.message = Some(text.into());
        }
        Failure::Log {
            text,
            level,
            logger,
            mut fields,
            error,
        } => {
            event.level = Some(level);
            event.message = Some(text.into());
            event.logger = Some(logger);
            if let Some(error) = error {
                event.exception = Some(Values::from(error_exceptions(
                    error, "tracing", true, config,
                )));
            }
            config.scrubber.scrub_fields(&mut fields);
            extra.extend(fields);
        }
    }
    if capture.repeats > 0 {
        // Storm control held back this many more of the same failure in its window.
        extra.insert("mayday.repeated".into(), json!(capture.repeats));
    }
    if !extra.is_empty() {
        event.extra = Some(extra);
    }
    if let Some(request) = request {
        event.transaction = Some(request.transaction());
        event.request = Some(request_interface(request, config));
    }
    let mut user = capture.data.user;
    if let Some(user) = &mut user {
        if !config.send_ip {
            user.ip_address = None;
        }
    }
    if let Some(ip) = request.and_then(|r| r.client_ip.clone()) {
        user.get_or_insert_with(User::default)
            .ip_address
            .get_or_insert(ip);
    }
    event.user = user;
    if !capture.data.tags.is_empty() {
        event.tags = Some(capture.data.tags);
    }
    let mut breadcrumbs = capture.data.breadcrumbs;
    for breadcrumb in &mut breadcrumbs {
        if let Some(data) = &mut breadcrumb.data {
            config.scrubber.scrub_fields(data);
        }
    }
    if !breadcrumbs.is_empty() {
        event.breadcrumbs = Some(Values::from(breadcrumbs));
    }
    event.release = Some(config.release.clone());
    event.environment = Some(config.environment.clone());
    event.server_name = config.server_name.clone();
    event.contexts = Some(contexts(config, request));
    let mut has_addresses = false;
    for exception in event.exception.iter_mut().flat_map(|e| e.values.iter_mut()) {
        if let Some(stacktrace) = &mut exception.stacktrace {
            debug_images::mark_images(&mut stacktrace.frames);
            has_addresses |= stacktrace.frames.iter().any(|f| f.image_addr.is_some());
        }
    }
    if has_addresses {
        // What a server needs to name frames a stripped binary could not, and to name
        // them as this reporter would have (the app's crate and source folders).
        event.debug_meta = debug_images::debug_meta().map(|mut meta| {
            meta.other.insert(
                "mayday_app".into(),
                json!({
                    "crate": config.app_crate,
                    "manifest_dir": config.build.manifest_dir,
                    "reporter_dir": REPORTER_DIR,
                }),
            );
            meta
        });
    }
    event.sdk = Some(ClientSdk {
        name: Some(SDK_NAME.into()),
        version: Some(env!("CARGO_PKG_VERSION").into()),
        integrations: Some(vec!["tower".into(), "panic".into()]),
        ..Default::default()
    });
    event
}

fn panic_exception(panic: PanicCapture, config: &Config) -> Exception {
    let mut data = Map::new();
    if let Some(location) = &panic.location {
        data.insert("location".into(), json!(location));
    }
    if let Some(thread) = &panic.thread {
        data.insert("thread".into(), json!(thread));
    }
    Exception {
        ty: Some("panic".into()),
        value: Some(panic.message),
        mechanism: Some(Mechanism {
            ty: Some("panic".into()),
            handled: Some(false),
            data: (!data.is_empty()).then_some(data),
            ..Default::default()
        }),
        stacktrace: panic
            .backtrace
            .map(|bt| stacktrace(Trace::Unresolved(bt), config)),
        ..Default::default()
    }
}

/// The chain as Sentry orders it: innermost cause first, the outermost error last (with
/// the mechanism and the stack trace).
fn error_exceptions(
    error: CapturedError,
    mechanism: &str,
    handled: bool,
    config: &Config,
) -> Vec<Exception> {
    let mut exceptions: Vec<Exception> = error
        .chain
        .into_iter()
        .rev()
        .map(|link| Exception {
            ty: Some(link.ty),
            value: Some(link.value),
            module: link.module,
            ..Default::default()
        })
        .collect();
    if let Some(outer) = exceptions.last_mut() {
        outer.mechanism = Some(Mechanism {
            ty: Some(mechanism.into()),
            handled: Some(handled),
            ..Default::default()
        });
        outer.stacktrace = error.trace.map(|trace| stacktrace(trace, config));
    }
    exceptions
}

/// Resolves and processes where a failure came from, for the app described by `config`.
fn stacktrace(trace: Trace, config: &Config) -> Stacktrace {
    let app = AppSource {
        krate: &config.app_crate,
        manifest_dir: config.build.manifest_dir,
        reporter_dir: REPORTER_DIR,
    };
    let raw = match trace {
        Trace::Unresolved(mut backtrace) => frames::resolve(&mut backtrace),
        #[cfg(feature = "anyhow")]
        Trace::Anyhow(error) => frames::parse_rendered(&error.backtrace().to_string()),
    };
    frames::process(&raw, &app, &config.in_app)
}

fn request_interface(request: &RequestSnapshot, config: &Config) -> Request {
    let uri = &request.uri;
    let host = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| request.header("host"))
        .unwrap_or_else(|| "localhost".into());
    let forwarded_https = request.header("x-forwarded-proto").as_deref() == Some("https");
    let scheme = uri
        .scheme_str()
        .unwrap_or(if forwarded_https { "https" } else { "http" });
    let mut pairs = request.headers.pairs();
    if !config.send_ip {
        // Proxies put the client's address in these; it is personal data.
        pairs.retain(|(name, _)| !IP_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h)));
    }
    let mut headers = Pairs(pairs);
    config.scrubber.scrub_headers(&mut headers);
    let env = request.client_ip.as_ref().map(|ip| {
        let mut env = Map::new();
        env.insert("REMOTE_ADDR".into(), Value::String(ip.clone()));
        env
    });
    let mut other = mayday_protocol::Other::default();
    if let Some(data) = request
        .body
        .as_ref()
        .and_then(|body| body.to_data(&config.scrubber))
    {
        other.insert("data".into(), data);
    }
    Request {
        other,
        method: Some(request.method.to_string()),
        url: Some(format!("{scheme}://{host}{}", uri.path())),
        query_string: uri
            .query()
            .filter(|q| !q.is_empty())
            .map(|q| config.scrubber.scrub_query(q)),
        headers,
        env,
    }
}

fn contexts(config: &Config, request: Option<&RequestSnapshot>) -> Contexts {
    let mut other = Map::new();
    if let Some((name, version)) = request.map(|r| r.framework) {
        other.insert(
            "framework".into(),
            json!({"type": "framework", "name": name, "version": version}),
        );
    }
    Contexts {
        os: Some(os_context().clone()),
        runtime: Some(RuntimeContext {
            ty: Some("runtime".into()),
            name: Some("rustc".into()),
            version: Some(build_info::rustc_semver().into()),
            other: [
                (
                    "raw_description".to_owned(),
                    json!(build_info::RUSTC_VERSION),
                ),
                ("target".to_owned(), json!(build_info::TARGET)),
                ("profile".to_owned(), json!(build_info::PROFILE)),
            ]
            .into_iter()
            .collect(),
        }),
        device: Some(DeviceContext {
            ty: Some("device".into()),
            arch: Some(std::env::consts::ARCH.into()),
            ..Default::default()
        }),
        app: Some(AppContext {
            ty: Some("app".into()),
            app_name: Some(config.build.name.into()),
            app_version: Some(config.build.version.into()),
            app_build: config.build.commit.map(Into::into),
            ..Default::default()
        }),
        trace: None,
        other,
    }
}

/// The OS, read once per process.
fn os_context() -> &'static OsContext {
    static OS: OnceLock<OsContext> = OnceLock::new();
    OS.get_or_init(|| {
        let name = match std::env::consts::OS {
            "linux" => "Linux",
            "macos" => "macOS",
            "windows" => "Windows",
            other => other,
        };
        let read = |path: &str| {
            std::fs::read_to_string(path)
                .ok()
                .map(|s| s.trim().to_owned())
        };
        let version = read("/etc/os-release").and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_owned())
        });
        OsContext {
            ty: Some("os".into()),
            name: Some(name.into()),
            version,
            kernel_version: read("/proc/sys/kernel/osrelease"),
            ..Default::default()
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use http::{HeaderName, HeaderValue, Method, Uri};
    use mayday_protocol::{EventId, Level, Timestamp, User};
    use serde_json::json;

    use super::*;
    use crate::capture::ScopeData;
    use crate::request::{Headers, RequestSnapshot};
    use crate::{Reporter, build_info};

    fn config(send_ip: bool) -> Arc<Config> {
        let reporter = Reporter::builder(crate::build_info!())
            .dsn("http://public@127.0.0.1:9/1")
            .send_ip(send_ip)
            .build()
            .expect("a reporter");
        reporter.inner.expect("enabled").config.clone()
    }

    fn request() -> RequestSnapshot {
        let headers = [
            ("x-forwarded-for", "203.0.113.7, 10.0.0.1"),
            ("x-real-ip", "203.0.113.7"),
            ("forwarded", "for=203.0.113.7;proto=https"),
            ("cf-connecting-ip", "203.0.113.7"),
            ("true-client-ip", "203.0.113.7"),
            ("x-client-ip", "203.0.113.7"),
            ("user-agent", "Firefox/86.0"),
            ("authorization", "Bearer abc"),
        ]
        .into_iter()
        .map(|(n, v)| (HeaderName::from_static(n), HeaderValue::from_static(v)))
        .collect();
        RequestSnapshot {
            method: Method::GET,
            uri: Uri::from_static("/checkout?bundle=team"),
            headers: Headers::Http(headers),
            route: None,
            client_ip: None,
            framework: ("axum", build_info::AXUM_VERSION),
            body: None,
        }
    }

    fn capture(failure: Failure, request: Option<RequestSnapshot>) -> Capture {
        Capture {
            event_id: EventId::new(),
            failure,
            timestamp: Timestamp::now(),
            request: request.map(Arc::new),
            data: ScopeData {
                user: Some(User {
                    id: Some("42".into()),
                    ip_address: Some("203.0.113.7".into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            repeats: 0,
        }
    }

    /// Golden: with `send_ip` off, no header that carries the client's address and no
    /// address in the user; with it on, both stay.
    #[test]
    fn client_addresses_leave_only_when_the_app_opted_in() {
        let message = || Failure::Message {
            text: "x".into(),
            level: Level::Error,
        };
        let off = build_event(capture(message(), Some(request())), &config(false));
        let headers: Vec<(&str, &str)> = off
            .request
            .as_ref()
            .unwrap()
            .headers
            .0
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            headers,
            [
                ("user-agent", "Firefox/86.0"),
                ("authorization", "[Filtered]")
            ]
        );
        assert_eq!(off.user.as_ref().unwrap().ip_address, None);
        assert_eq!(off.user.as_ref().unwrap().id.as_deref(), Some("42"));

        let mut with_ip = request();
        with_ip.client_ip = Some("203.0.113.7".into());
        let on = build_event(capture(message(), Some(with_ip)), &config(true));
        let request = on.request.as_ref().unwrap();
        assert_eq!(request.headers.0.len(), 8, "every header kept");
        assert_eq!(
            request.headers.get("forwarded"),
            Some("for=203.0.113.7;proto=https")
        );
        assert_eq!(request.env.as_ref().unwrap()["REMOTE_ADDR"], "203.0.113.7");
        assert_eq!(
            on.user.as_ref().unwrap().ip_address.as_deref(),
            Some("203.0.113.7")
        );
    }

    /// Golden: tracing fields and breadcrumb data pass the same name rules as headers,
    /// at any depth.
    #[test]
    fn log_fields_are_scrubbed_by_name() {
        let fields = json!({
            "password": "hunter2",
            "user_id": 7,
            "payment": {"token": "tok_visa", "last4": "4242"},
            "card_number": "4242 4242 4242 4242",
            "session_cookie": "abc",
        });
        let failure = Failure::Log {
            text: "payment failed".into(),
            level: Level::Error,
            logger: "shop".into(),
            fields: fields.as_object().unwrap().clone(),
            error: None,
        };
        let event = build_event(capture(failure, None), &config(false));
        assert_eq!(
            Value::Object(event.extra.unwrap()),
            json!({
                "password": "[Filtered]",
                "user_id": 7,
                "payment": {"token": "[Filtered]", "last4": "4242"},
                "card_number": "[Filtered]",
                "session_cookie": "[Filtered]",
            })
        );
    }
}
