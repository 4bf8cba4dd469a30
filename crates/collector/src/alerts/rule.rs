//! What an alert rule says, as the API and the store's JSON columns spell it, checked
//! once when it is saved, and how it decides about one event (pure: the store asks it
//! inside the event's transaction, with the counts it asks for).
//!
//! A rule fires for an issue when its filters all hold and its conditions do (`any` or
//! `all` of them). Its throttle holds back frequency alerts about the same issue for a
//! while; `first_seen`, `regression` and `reappeared` happen once per change of the
//! issue and always alert, as new issues and regressions always did.

use std::time::Duration;

use globset::{Glob, GlobMatcher};
use serde::{Deserialize, Serialize};

use crate::store::entities::{Channel, EventLevel, NotificationKind, alert_rule};

/// Most conditions, filters or actions in one rule.
pub const MAX_PARTS: usize = 10;
/// The longest interval a frequency condition counts over: a week.
pub const MAX_INTERVAL_MINUTES: u32 = 7 * 24 * 60;
/// The longest throttle: 30 days.
pub const MAX_THROTTLE_MINUTES: u32 = 30 * 24 * 60;
/// The longest text in a rule (names, values, URLs, keys).
const MAX_TEXT: usize = 2000;

/// Whether any condition or all of them must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Match {
    /// One is enough.
    #[default]
    Any,
    /// Every one, for the same event.
    All,
}

impl Match {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Match::Any => "any",
            Match::All => "all",
        }
    }
}

/// When a rule fires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// The issue's first event.
    FirstSeen,
    /// A resolved issue was seen again.
    Regression,
    /// An ignored issue came back: the condition it was ignored under ran out.
    Reappeared,
    /// More than `value` events of the issue in the last `interval_minutes`.
    EventFrequency {
        /// Events allowed; one more fires.
        value: u64,
        /// The window.
        interval_minutes: u32,
    },
    /// More than `value` distinct users hit the issue in the last `interval_minutes`.
    UserFrequency {
        /// Users allowed; one more fires.
        value: u64,
        /// The window.
        interval_minutes: u32,
    },
}

impl Condition {
    /// What the alert says it is about when this condition fired it.
    fn kind(&self) -> NotificationKind {
        match self {
            Condition::FirstSeen => NotificationKind::NewIssue,
            Condition::Regression => NotificationKind::Regression,
            Condition::Reappeared => NotificationKind::Reappeared,
            Condition::EventFrequency { .. } => NotificationKind::Spike,
            Condition::UserFrequency { .. } => NotificationKind::UserFrequency,
        }
    }

    /// The count this condition needs, if it needs one.
    fn ask(&self) -> Option<Ask> {
        match self {
            Condition::EventFrequency {
                interval_minutes, ..
            } => Some(Ask::Events(*interval_minutes)),
            Condition::UserFrequency {
                interval_minutes, ..
            } => Some(Ask::Users(*interval_minutes)),
            _ => None,
        }
    }
}

/// A count a frequency condition needs: of an issue's events, or of its distinct
/// users, in the last this many minutes (this batch's events included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ask {
    /// Events in the last N minutes.
    Events(u32),
    /// Distinct users seen in the last N minutes.
    Users(u32),
}

impl Ask {
    /// The window's start for an event received at `now` (ms).
    pub fn since(self, now: i64) -> i64 {
        let (Ask::Events(minutes) | Ask::Users(minutes)) = self;
        now - i64::from(minutes) * 60_000
    }
}

/// What must hold of the event for a rule to fire at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Filter {
    /// The event's environment is this one.
    Environment {
        /// The environment.
        value: String,
    },
    /// The event's level is this one or worse.
    LevelAtLeast {
        /// `debug`, `info`, `warning`, `error` or `fatal`.
        value: EventLevel,
    },
    /// The event's release is this one, or the project's latest with `"latest"`.
    Release {
        /// A release, or `latest`.
        value: String,
    },
    /// The event has this tag with this value.
    Tag {
        /// The tag's key.
        key: String,
        /// Its value.
        value: String,
    },
    /// One of the event's in-app frames is in a file matching this glob
    /// (`src/billing/*`; `*` also matches `/`).
    Path {
        /// The glob.
        value: String,
    },
    /// The request's URL matches this glob (`*/checkout*`).
    Url {
        /// The glob.
        value: String,
    },
}

/// Who an `email` action writes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EmailTo {
    /// The project's recipients, or the issue's assignee.
    Group(EmailGroup),
    /// These addresses.
    List(Vec<String>),
}

/// A group an email action writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailGroup {
    /// The project's notification recipients.
    Recipients,
    /// The issue's assignee (the recipients while it has none).
    Assignee,
}

/// What a rule does when it fires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// An email.
    Email {
        /// To whom.
        to: EmailTo,
    },
    /// The project's webhooks: the generic JSON, signed with each one's secret.
    Webhook,
    /// A Slack incoming webhook.
    Slack {
        /// `https://hooks.slack.com/services/...`
        url: String,
    },
    /// A Discord webhook.
    Discord {
        /// `https://discord.com/api/webhooks/...`
        url: String,
    },
    /// A Microsoft Teams workflow ("post to a channel when a webhook request is received").
    Teams {
        /// The workflow's URL.
        url: String,
    },
    /// A Google Chat space's webhook.
    GoogleChat {
        /// `https://chat.googleapis.com/v1/spaces/.../messages?key=...&token=...`
        url: String,
    },
    /// A Mattermost incoming webhook.
    Mattermost {
        /// `https://mattermost.example.com/hooks/...`
        url: String,
    },
    /// An ntfy topic.
    Ntfy {
        /// The topic's URL, `https://ntfy.sh/my-topic`.
        url: String,
        /// An access token, for protected topics.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
    },
    /// PagerDuty's Events API v2: a trigger per alert, a resolve when the issue is.
    Pagerduty {
        /// The integration's routing key.
        routing_key: String,
        /// The events endpoint, when not `https://events.pagerduty.com/v2/enqueue`
        /// (the EU service: `https://events.eu.pagerduty.com/v2/enqueue`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
    },
}

/// PagerDuty's Events API v2 endpoint.
pub const PAGERDUTY_URL: &str = "https://events.pagerduty.com/v2/enqueue";

impl Action {
    /// The outbox channel that delivers it.
    pub fn channel(&self) -> Channel {
        match self {
            Action::Email { .. } => Channel::Email,
            Action::Webhook => Channel::Webhook,
            Action::Slack { .. } => Channel::Slack,
            Action::Discord { .. } => Channel::Discord,
            Action::Teams { .. } => Channel::Teams,
            Action::GoogleChat { .. } => Channel::GoogleChat,
            Action::Mattermost { .. } => Channel::Mattermost,
            Action::Ntfy { .. } => Channel::Ntfy,
            Action::Pagerduty { .. } => Channel::Pagerduty,
        }
    }

    /// The URL it posts to, for actions that post to one.
    pub fn url(&self) -> Option<&str> {
        match self {
            Action::Slack { url }
            | Action::Discord { url }
            | Action::Teams { url }
            | Action::GoogleChat { url }
            | Action::Mattermost { url }
            | Action::Ntfy { url, .. } => Some(url),
            Action::Pagerduty { url, .. } => Some(url.as_deref().unwrap_or(PAGERDUTY_URL)),
            Action::Email { .. } | Action::Webhook => None,
        }
    }

    /// Where it goes, for pages and lists, without the secret parts of the URL
    /// (a Slack or Discord webhook's path is its password).
    pub fn describe(&self) -> String {
        match self {
            Action::Email {
                to: EmailTo::Group(EmailGroup::Recipients),
            } => "email to the project's recipients".into(),
            Action::Email {
                to: EmailTo::Group(EmailGroup::Assignee),
            } => "email to the issue's assignee".into(),
            Action::Email {
                to: EmailTo::List(list),
            } => format!("email to {}", list.join(", ")),
            Action::Webhook => "the project's webhooks".into(),
            other => {
                let host = other
                    .url()
                    .and_then(|u| url::Url::parse(u).ok())
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .unwrap_or_default();
                format!("{} ({host})", channel_name(other.channel()))
            }
        }
    }
}

/// A channel's name as people write it.
pub fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "Email",
        Channel::Webhook => "Webhook",
        Channel::Slack => "Slack",
        Channel::Discord => "Discord",
        Channel::Teams => "Microsoft Teams",
        Channel::GoogleChat => "Google Chat",
        Channel::Mattermost => "Mattermost",
        Channel::Ntfy => "ntfy",
        Channel::Pagerduty => "PagerDuty",
    }
}

/// A rule as written: the API's body, the store's columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// What the team calls it.
    pub name: String,
    /// `any` (default) or `all` of the conditions.
    #[serde(rename = "match", default)]
    pub match_mode: Match,
    /// When it fires.
    pub conditions: Vec<Condition>,
    /// What must hold of the event (all of them).
    #[serde(default)]
    pub filters: Vec<Filter>,
    /// What it does.
    pub actions: Vec<Action>,
    /// At most one frequency alert per issue in this many minutes; none: the
    /// collector's `MAYDAY_NOTIFY_WINDOW_MINUTES`.
    #[serde(default)]
    pub throttle_minutes: Option<u32>,
}

/// Why a rule was refused: each names the part and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// The JSON does not describe a rule.
    #[error("not a rule: {0}")]
    Shape(String),
    /// Something in it is out of bounds.
    #[error("{0}")]
    Invalid(String),
}

impl RuleSpec {
    /// The rule a new project starts with: what every project was told before rules
    /// existed (a new issue and a regression, to its recipients and webhooks).
    pub fn default_rule() -> RuleSpec {
        RuleSpec {
            name: "Default".into(),
            match_mode: Match::Any,
            conditions: vec![Condition::FirstSeen, Condition::Regression],
            filters: Vec::new(),
            actions: vec![
                Action::Email {
                    to: EmailTo::Group(EmailGroup::Recipients),
                },
                Action::Webhook,
            ],
            throttle_minutes: None,
        }
    }

    /// Reads a stored rule.
    pub fn from_row(row: &alert_rule::Model) -> Result<RuleSpec, RuleError> {
        let shape = |e: serde_json::Error| RuleError::Shape(e.to_string());
        Ok(RuleSpec {
            name: row.name.clone(),
            match_mode: if row.match_mode == "all" {
                Match::All
            } else {
                Match::Any
            },
            conditions: serde_json::from_str(&row.conditions).map_err(shape)?,
            filters: serde_json::from_str(&row.filters).map_err(shape)?,
            actions: serde_json::from_str(&row.actions).map_err(shape)?,
            throttle_minutes: row
                .throttle_minutes
                .and_then(|minutes| u32::try_from(minutes).ok()),
        })
    }

    /// The JSON columns: conditions, filters, actions.
    pub fn columns(&self) -> (String, String, String) {
        let json = |value: serde_json::Result<String>| value.unwrap_or_else(|_| "[]".into());
        (
            json(serde_json::to_string(&self.conditions)),
            json(serde_json::to_string(&self.filters)),
            json(serde_json::to_string(&self.actions)),
        )
    }

    /// Checks everything but the targets' addresses (the outbound policy, which needs
    /// the network, is `alerts::check_targets`).
    pub fn check(&self) -> Result<(), RuleError> {
        let invalid = |text: String| Err(RuleError::Invalid(text));
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return invalid("name: give the rule a name of 1 to 100 characters".into());
        }
        for (what, count, least) in [
            ("conditions", self.conditions.len(), 1),
            ("filters", self.filters.len(), 0),
            ("actions", self.actions.len(), 1),
        ] {
            if count < least || count > MAX_PARTS {
                return invalid(format!(
                    "{what}: a rule has {least} to {MAX_PARTS} of them, this one has {count}"
                ));
            }
        }
        for condition in &self.conditions {
            if let Condition::EventFrequency {
                interval_minutes, ..
            }
            | Condition::UserFrequency {
                interval_minutes, ..
            } = condition
                && !(1..=MAX_INTERVAL_MINUTES).contains(interval_minutes)
            {
                return invalid(format!(
                    "conditions: interval_minutes is {interval_minutes}; use 1 to {MAX_INTERVAL_MINUTES} (a week)"
                ));
            }
        }
        if let Some(minutes) = self.throttle_minutes
            && minutes > MAX_THROTTLE_MINUTES
        {
            return invalid(format!(
                "throttle_minutes is {minutes}; use 0 to {MAX_THROTTLE_MINUTES} (30 days)"
            ));
        }
        for filter in &self.filters {
            let texts: Vec<&str> = match filter {
                Filter::Environment { value }
                | Filter::Release { value }
                | Filter::Path { value }
                | Filter::Url { value } => vec![value],
                Filter::Tag { key, value } => vec![key, value],
                Filter::LevelAtLeast { .. } => vec![],
            };
            if texts
                .iter()
                .any(|t| t.trim().is_empty() || t.len() > MAX_TEXT)
            {
                return invalid(format!(
                    "filters: {} needs a value of 1 to {MAX_TEXT} characters",
                    filter_name(filter)
                ));
            }
            if let Filter::Path { value } | Filter::Url { value } = filter
                && let Err(error) = Glob::new(value)
            {
                return invalid(format!("filters: {value:?} is not a glob: {error}"));
            }
        }
        for action in &self.actions {
            match action {
                Action::Email {
                    to: EmailTo::List(list),
                } => {
                    if list.is_empty() || list.len() > 20 {
                        return invalid(
                            "actions: an email action writes to 1 to 20 addresses".into(),
                        );
                    }
                    for address in list {
                        crate::address::check(address).map_err(|e| {
                            RuleError::Invalid(format!("actions: email to {address:?}: {e}"))
                        })?;
                    }
                }
                Action::Pagerduty { routing_key, .. }
                    if routing_key.trim().is_empty() || routing_key.len() > 200 =>
                {
                    return invalid(
                        "actions: pagerduty needs the integration's routing_key (Events API v2)"
                            .into(),
                    );
                }
                Action::Ntfy {
                    token: Some(token), ..
                } if token.len() > MAX_TEXT => {
                    return invalid("actions: the ntfy token is too long".into());
                }
                _ => {}
            }
            if let Some(url) = action.url() {
                let parsed = url::Url::parse(url)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
                if parsed.is_none() || url.len() > MAX_TEXT {
                    return invalid(format!(
                        "actions: {} needs an http(s) URL, not {url:?}",
                        channel_name(action.channel())
                    ));
                }
            }
        }
        Ok(())
    }

    /// Whether a filter asks for the project's latest release.
    pub fn wants_latest_release(&self) -> bool {
        self.filters
            .iter()
            .any(|f| matches!(f, Filter::Release { value } if value == "latest"))
    }
}

fn filter_name(filter: &Filter) -> &'static str {
    match filter {
        Filter::Environment { .. } => "environment",
        Filter::LevelAtLeast { .. } => "level_at_least",
        Filter::Release { .. } => "release",
        Filter::Tag { .. } => "tag",
        Filter::Path { .. } => "path",
        Filter::Url { .. } => "url",
    }
}

/// The severity order of levels, for `level_at_least`.
pub fn severity(level: EventLevel) -> u8 {
    match level {
        EventLevel::Debug => 0,
        EventLevel::Info => 1,
        EventLevel::Warning => 2,
        EventLevel::Error => 3,
        EventLevel::Fatal => 4,
    }
}

/// What the store knows about the event that may fire a rule: the batch's newest
/// event of the issue, and what the batch did to the issue.
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    /// The issue's first event.
    pub new_issue: bool,
    /// A resolved issue came back.
    pub regression: bool,
    /// An ignored issue came back.
    pub reappeared: bool,
    /// The event's level.
    pub level: EventLevel,
    /// Its environment.
    pub environment: Option<&'a str>,
    /// Its release.
    pub release: Option<&'a str>,
    /// Its tags.
    pub tags: &'a [(String, String)],
    /// The files of its in-app frames.
    pub paths: &'a [String],
    /// The request's URL.
    pub url: Option<&'a str>,
    /// The project's latest release, when a rule asked for it.
    pub latest_release: Option<&'a str>,
}

/// A rule read for deciding: its spec with the globs compiled once.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The rule's id.
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// As written.
    pub spec: RuleSpec,
    /// Each `path` and `url` filter's matcher, in the filters' order.
    globs: Vec<Option<GlobMatcher>>,
}

/// What a rule says about an event, before any count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum First {
    /// It does not fire.
    No,
    /// It fires, about this.
    Fires(NotificationKind),
    /// It depends on these counts.
    Needs(Vec<Ask>),
}

impl Compiled {
    /// Compiles a stored rule; a rule that no longer reads is skipped with a warning.
    pub fn new(row: &alert_rule::Model) -> Result<Compiled, RuleError> {
        let spec = RuleSpec::from_row(row)?;
        let globs = spec
            .filters
            .iter()
            .map(|filter| match filter {
                Filter::Path { value } | Filter::Url { value } => Glob::new(value)
                    .map(|glob| Some(glob.compile_matcher()))
                    .map_err(|e| RuleError::Invalid(e.to_string())),
                _ => Ok(None),
            })
            .collect::<Result<_, _>>()?;
        Ok(Compiled {
            id: row.id,
            project_id: row.project_id,
            spec,
            globs,
        })
    }

    /// Whether when it fires must be kept: for its throttle (it has a frequency
    /// condition) or to resolve its PagerDuty incidents. Rules with neither (the
    /// Default rule) cost the batch no reads or writes of their own.
    pub fn keeps_fires(&self) -> bool {
        self.spec.conditions.iter().any(|c| c.ask().is_some())
            || self
                .spec
                .actions
                .iter()
                .any(|a| matches!(a, Action::Pagerduty { .. }))
    }

    /// The throttle, with the collector's default.
    pub fn throttle(&self, default: Duration) -> i64 {
        self.spec.throttle_minutes.map_or(
            i64::try_from(default.as_millis()).unwrap_or(i64::MAX),
            |m| i64::from(m) * 60_000,
        )
    }

    /// Whether every filter holds for `seen`.
    pub fn filters_hold(&self, seen: &Seen<'_>) -> bool {
        self.spec
            .filters
            .iter()
            .zip(&self.globs)
            .all(|(filter, glob)| match filter {
                Filter::Environment { value } => seen.environment == Some(value.as_str()),
                Filter::LevelAtLeast { value } => {
                    severity(seen.level) >= severity(value.to_owned())
                }
                Filter::Release { value } if value == "latest" => {
                    seen.release.is_some() && seen.release == seen.latest_release
                }
                Filter::Release { value } => seen.release == Some(value.as_str()),
                Filter::Tag { key, value } => seen
                    .tags
                    .iter()
                    .any(|(k, v)| k.as_str() == key.as_str() && v.as_str() == value.as_str()),
                Filter::Path { .. } => glob
                    .as_ref()
                    .is_some_and(|g| seen.paths.iter().any(|p| g.is_match(p))),
                Filter::Url { .. } => glob
                    .as_ref()
                    .zip(seen.url)
                    .is_some_and(|(g, url)| g.is_match(url)),
            })
    }

    /// The state conditions (`first_seen`, `regression`, `reappeared`) that hold.
    fn state_fired(&self, seen: &Seen<'_>) -> Vec<NotificationKind> {
        self.spec
            .conditions
            .iter()
            .filter(|c| match c {
                Condition::FirstSeen => seen.new_issue,
                Condition::Regression => seen.regression,
                Condition::Reappeared => seen.reappeared,
                _ => false,
            })
            .map(Condition::kind)
            .collect()
    }

    /// Decides what it can without counts. `throttled`: the rule alerted about this
    /// issue within its throttle.
    pub fn first(&self, seen: &Seen<'_>, throttled: bool) -> First {
        if !self.filters_hold(seen) {
            return First::No;
        }
        let states = self.state_fired(seen);
        let asks: Vec<Ask> = self
            .spec
            .conditions
            .iter()
            .filter_map(Condition::ask)
            .collect();
        let stateful = self
            .spec
            .conditions
            .iter()
            .filter(|c| c.ask().is_none())
            .count();
        match self.spec.match_mode {
            Match::Any => {
                if let Some(kind) = states.first() {
                    First::Fires(*kind)
                } else if asks.is_empty() || throttled {
                    First::No
                } else {
                    First::Needs(asks)
                }
            }
            Match::All => {
                if states.len() < stateful {
                    First::No
                } else if asks.is_empty() {
                    states.first().map_or(First::No, |kind| First::Fires(*kind))
                } else if throttled && states.is_empty() {
                    First::No
                } else {
                    First::Needs(asks)
                }
            }
        }
    }

    /// Decides with the counts [`first`](Self::first) asked for; `count` answers each.
    pub fn then(&self, seen: &Seen<'_>, count: impl Fn(Ask) -> u64) -> Option<NotificationKind> {
        let over = |c: &Condition| match c {
            Condition::EventFrequency { value, .. } | Condition::UserFrequency { value, .. } => {
                c.ask().is_some_and(|ask| count(ask) > *value)
            }
            _ => false,
        };
        let states = self.state_fired(seen);
        let frequent: Vec<&Condition> = self.spec.conditions.iter().filter(|c| over(c)).collect();
        match self.spec.match_mode {
            Match::Any => states
                .first()
                .copied()
                .or_else(|| frequent.first().map(|c| c.kind())),
            Match::All => {
                let holds = self
                    .spec
                    .conditions
                    .iter()
                    .all(|c| over(c) || states.contains(&c.kind()));
                holds.then(|| {
                    states
                        .first()
                        .copied()
                        .or_else(|| frequent.first().map(|c| c.kind()))
                        .unwrap_or(NotificationKind::Spike)
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: &str) -> Compiled {
        let spec: RuleSpec = serde_json::from_str(json).expect("rule");
        spec.check().expect("valid");
        let (conditions, filters, actions) = spec.columns();
        Compiled::new(&alert_rule::Model {
            id: 1,
            project_id: 1,
            name: spec.name.clone(),
            match_mode: spec.match_mode.as_str().into(),
            conditions,
            filters,
            actions,
            throttle_minutes: spec.throttle_minutes.map(i64::from),
            created_at: 0,
            updated_at: 0,
        })
        .expect("compiles")
    }

    fn seen() -> Seen<'static> {
        Seen {
            new_issue: false,
            regression: false,
            reappeared: false,
            level: EventLevel::Error,
            environment: Some("production"),
            release: Some("2.0.0"),
            tags: &[],
            paths: &[],
            url: Some("https://shop.example.com/checkout/pay"),
            latest_release: Some("2.0.0"),
        }
    }

    const ACTIONS: &str = r#""actions": [{"kind": "email", "to": "recipients"}]"#;

    #[test]
    fn frequency_fires_above_the_value_not_at_it() {
        let rule = rule(&format!(
            r#"{{"name": "busy", "conditions": [{{"kind": "event_frequency", "value": 5, "interval_minutes": 1}}], {ACTIONS}}}"#
        ));
        assert_eq!(
            rule.first(&seen(), false),
            First::Needs(vec![Ask::Events(1)])
        );
        assert_eq!(rule.then(&seen(), |_| 5), None);
        assert_eq!(rule.then(&seen(), |_| 6), Some(NotificationKind::Spike));
        assert_eq!(rule.first(&seen(), true), First::No, "throttled");
    }

    #[test]
    fn all_needs_every_condition_for_the_same_event() {
        let rule = rule(&format!(
            r#"{{"name": "wide", "match": "all", "conditions": [
                {{"kind": "event_frequency", "value": 10, "interval_minutes": 60}},
                {{"kind": "user_frequency", "value": 2, "interval_minutes": 60}}], {ACTIONS}}}"#
        ));
        let count = |events: u64, users: u64| {
            move |ask: Ask| match ask {
                Ask::Events(_) => events,
                Ask::Users(_) => users,
            }
        };
        assert_eq!(rule.then(&seen(), count(11, 2)), None);
        assert_eq!(rule.then(&seen(), count(10, 3)), None);
        assert_eq!(
            rule.then(&seen(), count(11, 3)),
            Some(NotificationKind::Spike)
        );
        let any = self::rule(&format!(
            r#"{{"name": "users", "conditions": [{{"kind": "user_frequency", "value": 2, "interval_minutes": 60}}], {ACTIONS}}}"#
        ));
        assert_eq!(
            any.then(&seen(), count(0, 3)),
            Some(NotificationKind::UserFrequency)
        );
    }

    #[test]
    fn state_conditions_fire_through_the_throttle() {
        let rule = rule(&format!(
            r#"{{"name": "new", "conditions": [{{"kind": "first_seen"}}, {{"kind": "regression"}}, {{"kind": "reappeared"}}], {ACTIONS}}}"#
        ));
        assert_eq!(rule.first(&seen(), false), First::No);
        for (new_issue, regression, reappeared, kind) in [
            (true, false, false, NotificationKind::NewIssue),
            (false, true, false, NotificationKind::Regression),
            (false, false, true, NotificationKind::Reappeared),
        ] {
            let event = Seen {
                new_issue,
                regression,
                reappeared,
                ..seen()
            };
            assert_eq!(rule.first(&event, true), First::Fires(kind));
        }
    }

    #[test]
    fn filters_all_hold_or_nothing_fires() {
        let tags = [("tenant".to_owned(), "acme".to_owned())];
        let paths = ["src/billing/invoice.rs".to_owned()];
        let event = Seen {
            new_issue: true,
            tags: &tags,
            paths: &paths,
            ..seen()
        };
        for (filter, holds) in [
            (r#"{"kind": "environment", "value": "production"}"#, true),
            (r#"{"kind": "environment", "value": "staging"}"#, false),
            (r#"{"kind": "level_at_least", "value": "error"}"#, true),
            (r#"{"kind": "level_at_least", "value": "fatal"}"#, false),
            (r#"{"kind": "release", "value": "latest"}"#, true),
            (r#"{"kind": "release", "value": "1.9.0"}"#, false),
            (r#"{"kind": "tag", "key": "tenant", "value": "acme"}"#, true),
            (
                r#"{"kind": "tag", "key": "tenant", "value": "other"}"#,
                false,
            ),
            (r#"{"kind": "path", "value": "src/billing/*"}"#, true),
            (r#"{"kind": "path", "value": "src/shop/*"}"#, false),
            (r#"{"kind": "url", "value": "*/checkout*"}"#, true),
            (r#"{"kind": "url", "value": "*/cart*"}"#, false),
        ] {
            let rule = rule(&format!(
                r#"{{"name": "f", "conditions": [{{"kind": "first_seen"}}], "filters": [{filter}], {ACTIONS}}}"#
            ));
            let expected = if holds {
                First::Fires(NotificationKind::NewIssue)
            } else {
                First::No
            };
            assert_eq!(rule.first(&event, false), expected, "{filter}");
        }
    }

    #[test]
    fn the_store_writes_the_default_rule_as_written_here() {
        let (conditions, filters, actions) = RuleSpec::default_rule().columns();
        assert_eq!(conditions, alert_rule::DEFAULT_CONDITIONS);
        assert_eq!(filters, "[]");
        assert_eq!(actions, alert_rule::DEFAULT_ACTIONS);
    }

    #[test]
    fn mistakes_are_named() {
        let refused = |json: &str| -> String {
            match serde_json::from_str::<RuleSpec>(json) {
                Err(e) => e.to_string(),
                Ok(spec) => spec.check().expect_err("refused").to_string(),
            }
        };
        assert!(refused(r#"{"name": "x", "conditions": [{"kind": "sometimes"}], "actions": [{"kind": "webhook"}]}"#).contains("unknown variant `sometimes`"));
        assert!(
            refused(r#"{"name": "x", "conditions": [], "actions": [{"kind": "webhook"}]}"#)
                .contains("conditions: a rule has 1 to 10")
        );
        assert!(refused(r#"{"name": "x", "conditions": [{"kind": "first_seen"}], "actions": [{"kind": "slack", "url": "hooks"}]}"#).contains("Slack needs an http(s) URL"));
        assert!(refused(r#"{"name": "x", "conditions": [{"kind": "event_frequency", "value": 1, "interval_minutes": 0}], "actions": [{"kind": "webhook"}]}"#).contains("interval_minutes is 0"));
        assert!(refused(r#"{"name": "x", "conditions": [{"kind": "first_seen"}], "actions": [{"kind": "email", "to": ["not an address"]}]}"#).contains("not an address"));
    }
}
