//! What an alert rule says, as the API and the store's JSON columns spell it, checked
//! once when it is saved, and how it decides about one event (pure: the store asks it
//! inside the event's transaction, with the counts it asks for).
//!
//! A rule fires for an issue when its filters all hold and its conditions do (`any` or
//! `all` of them). Its throttle holds back frequency alerts about the same issue for a
//! while; `first_seen`, `regression` and `reappeared` happen once per change of the
//! issue and always alert, as new issues and regressions always did.

use globset::Glob;
use serde::{Deserialize, Serialize};

use crate::store::entities::{Channel, EventLevel, NotificationKind, alert_rule};

pub mod decide;

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

#[cfg(test)]
mod tests;
