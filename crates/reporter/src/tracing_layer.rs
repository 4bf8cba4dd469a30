//! A `tracing_subscriber::Layer` that turns tracing events into breadcrumbs of the current
//! request, reports `error!` events (the level is configurable) with their fields, and
//! attaches selected span fields as tags.
//!
//! ```
//! use tracing_subscriber::prelude::*;
//!
//! let reporter = mayday_reporter::Reporter::disabled();
//! let subscriber = tracing_subscriber::registry()
//!     .with(mayday_reporter::TracingLayer::new(&reporter).span_tags(["tenant"]));
//! let _guard = tracing::subscriber::set_default(subscriber);
//! tracing::info!("recorded as a breadcrumb of the current request, if any");
//! ```
//!
//! Breadcrumbs go to [`Scope::current`], so they stay with their request even when many
//! requests run at once; outside requests there is nothing to attach them to and they
//! are dropped.

use std::collections::BTreeMap;
use std::fmt;

use mayday_protocol::{Breadcrumb, Level, Timestamp};
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::capture::ScopeData;
use crate::client::Reporter;
use crate::failure::{CapturedError, Failure};
use crate::scope::Scope;

/// Reports tracing events; see the module documentation.
#[derive(Debug, Clone)]
pub struct TracingLayer {
    reporter: Reporter,
    event_level: tracing::Level,
    breadcrumb_level: tracing::Level,
    span_tags: Vec<String>,
}

impl TracingLayer {
    /// Reports `error!` events to `reporter` and records `info!` and above as breadcrumbs.
    pub fn new(reporter: &Reporter) -> Self {
        TracingLayer {
            reporter: reporter.clone(),
            event_level: tracing::Level::ERROR,
            breadcrumb_level: tracing::Level::INFO,
            span_tags: Vec::new(),
        }
    }

    /// Events at this level or more severe are reported (default `ERROR`).
    pub fn event_level(mut self, level: tracing::Level) -> Self {
        self.event_level = level;
        self
    }

    /// Events at this level or more severe become breadcrumbs (default `INFO`).
    pub fn breadcrumb_level(mut self, level: tracing::Level) -> Self {
        self.breadcrumb_level = level;
        self
    }

    /// Span fields with these names become tags of the events inside the span.
    pub fn span_tags<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.span_tags.extend(names.into_iter().map(Into::into));
        self
    }
}

/// Span fields kept as tags, stored in the span's extensions.
#[derive(Debug, Default)]
struct SpanTags(BTreeMap<String, String>);

/// Collects an event's or span's fields as JSON, and the first error recorded as an
/// error (`error = &err as &dyn Error`).
#[derive(Default)]
struct Fields {
    message: Option<String>,
    values: Map<String, Value>,
    error: Option<CapturedError>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_owned()));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::from(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::String(value.to_string()));
        if self.error.is_none() {
            // Where the event was logged; resolved later, by the worker.
            let trace = backtrace::Backtrace::new_unresolved();
            self.error = Some(CapturedError::from_boxed("dyn Error", value, Some(trace)));
        }
    }
}

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            self.message = Some(match value {
                Value::String(text) => text,
                other => other.to_string(),
            });
        } else {
            self.values.insert(field.name().to_owned(), value);
        }
    }
}

fn level(level: &tracing::Level) -> Level {
    match *level {
        tracing::Level::ERROR => Level::Error,
        tracing::Level::WARN => Level::Warning,
        tracing::Level::INFO => Level::Info,
        _ => Level::Debug,
    }
}

impl TracingLayer {
    fn keep_tags(&self, fields: Fields) -> BTreeMap<String, String> {
        fields
            .values
            .into_iter()
            .filter(|(name, _)| self.span_tags.iter().any(|t| t == name))
            .map(|(name, value)| {
                let text = match value {
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                (name, text)
            })
            .collect()
    }
}

impl<S> tracing_subscriber::Layer<S> for TracingLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if self.span_tags.is_empty() {
            return;
        }
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let tags = self.keep_tags(fields);
        if let (false, Some(span)) = (tags.is_empty(), ctx.span(id)) {
            span.extensions_mut().insert(SpanTags(tags));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if self.span_tags.is_empty() {
            return;
        }
        let mut fields = Fields::default();
        values.record(&mut fields);
        let tags = self.keep_tags(fields);
        if let (false, Some(span)) = (tags.is_empty(), ctx.span(id)) {
            let mut extensions = span.extensions_mut();
            match extensions.get_mut::<SpanTags>() {
                Some(existing) => existing.0.extend(tags),
                None => extensions.insert(SpanTags(tags)),
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let metadata = event.metadata();
        // The reporter's own logs must not feed back into it.
        if metadata.target().starts_with("mayday_reporter") {
            return;
        }
        let severity = *metadata.level();
        let report = severity <= self.event_level;
        if !report && severity > self.breadcrumb_level {
            return;
        }
        let scope = Scope::current();
        if !report && scope.is_none() {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let message = fields
            .message
            .take()
            .unwrap_or_else(|| metadata.name().to_owned());
        if report {
            let mut tags = BTreeMap::new();
            if let Some(spans) = ctx.event_scope(event) {
                for span in spans.from_root() {
                    if let Some(span_tags) = span.extensions().get::<SpanTags>() {
                        tags.extend(span_tags.0.clone());
                    }
                }
            }
            let failure = Failure::Log {
                text: message,
                level: level(metadata.level()),
                logger: metadata.target().to_owned(),
                fields: fields.values,
                error: fields.error,
            };
            match scope {
                Some(scope) => {
                    for (key, value) in tags {
                        scope.set_tag(key, value);
                    }
                    scope.capture(failure);
                }
                None => {
                    self.reporter.enqueue(
                        failure,
                        None,
                        ScopeData {
                            tags,
                            ..Default::default()
                        },
                    );
                }
            }
        } else if let Some(scope) = scope {
            scope.push_breadcrumb(Breadcrumb {
                timestamp: Some(Timestamp::now()),
                ty: Some("default".into()),
                category: Some(metadata.target().to_owned()),
                message: Some(message),
                level: Some(level(metadata.level())),
                data: (!fields.values.is_empty()).then_some(fields.values),
                ..Default::default()
            });
        }
    }
}
