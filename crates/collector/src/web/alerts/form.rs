//! The alert rule form: its fields, the rule they describe and the fields a rule fills
//! in (one field per kind of condition, filter and destination; lists one per line).

use serde::Deserialize;

use crate::alerts::rule::{Action, Condition, EmailGroup, EmailTo, Filter, Match, RuleSpec};
use crate::store::EventLevel;

/// The rule form's fields (also the remove button's: `csrf`, `action`, `rule_id`).
#[derive(Debug, Clone, Default, Deserialize)]
pub(in crate::web) struct RuleForm {
    #[serde(default)]
    pub(super) csrf: String,
    #[serde(default)]
    pub(super) action: String,
    #[serde(default)]
    pub(super) rule_id: Option<i64>,
    #[serde(default)]
    pub(super) name: String,
    #[serde(default)]
    pub(super) match_mode: String,
    #[serde(default)]
    pub(super) first_seen: Option<String>,
    #[serde(default)]
    pub(super) regression: Option<String>,
    #[serde(default)]
    pub(super) reappeared: Option<String>,
    #[serde(default)]
    pub(super) events_value: String,
    #[serde(default)]
    pub(super) events_minutes: String,
    #[serde(default)]
    pub(super) users_value: String,
    #[serde(default)]
    pub(super) users_minutes: String,
    #[serde(default)]
    pub(super) environment: String,
    #[serde(default)]
    pub(super) level: String,
    #[serde(default)]
    pub(super) release: String,
    #[serde(default)]
    pub(super) tags: String,
    #[serde(default)]
    pub(super) paths: String,
    #[serde(default)]
    pub(super) urls: String,
    #[serde(default)]
    pub(super) email_recipients: Option<String>,
    #[serde(default)]
    pub(super) email_assignee: Option<String>,
    #[serde(default)]
    pub(super) email_list: String,
    #[serde(default)]
    pub(super) webhooks: Option<String>,
    #[serde(default)]
    pub(super) slack: String,
    #[serde(default)]
    pub(super) discord: String,
    #[serde(default)]
    pub(super) teams: String,
    #[serde(default)]
    pub(super) google_chat: String,
    #[serde(default)]
    pub(super) mattermost: String,
    #[serde(default)]
    pub(super) ntfy: String,
    #[serde(default)]
    pub(super) pagerduty: String,
    #[serde(default)]
    pub(super) throttle_minutes: String,
    /// The ownership rules (action `ownership`).
    #[serde(default)]
    pub(super) rules: String,
    /// The ticket template (action `ticket_template`).
    #[serde(default)]
    pub(super) template: String,
}

/// The lines of a textarea, trimmed, without empty ones.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty())
}

/// A number field: empty is none; anything else must be a whole number.
fn number(field: &str, text: &str) -> Result<Option<u32>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|_| format!("{field}: {text:?} is not a whole number"))
}

/// The rule a form describes (then checked like the API's).
pub(super) fn spec_of(form: &RuleForm) -> Result<RuleSpec, String> {
    let mut conditions = Vec::new();
    if form.first_seen.is_some() {
        conditions.push(Condition::FirstSeen);
    }
    if form.regression.is_some() {
        conditions.push(Condition::Regression);
    }
    if form.reappeared.is_some() {
        conditions.push(Condition::Reappeared);
    }
    let frequency =
        |value: &str, minutes: &str, what: &str| -> Result<Option<(u64, u32)>, String> {
            match (number(what, value)?, number(what, minutes)?) {
                (None, _) => Ok(None),
                (Some(value), minutes) => Ok(Some((u64::from(value), minutes.unwrap_or(60)))),
            }
        };
    if let Some((value, interval_minutes)) =
        frequency(&form.events_value, &form.events_minutes, "events")?
    {
        conditions.push(Condition::EventFrequency {
            value,
            interval_minutes,
        });
    }
    if let Some((value, interval_minutes)) =
        frequency(&form.users_value, &form.users_minutes, "users")?
    {
        conditions.push(Condition::UserFrequency {
            value,
            interval_minutes,
        });
    }
    let mut filters = Vec::new();
    if !form.environment.trim().is_empty() {
        filters.push(Filter::Environment {
            value: form.environment.trim().to_owned(),
        });
    }
    if !form.level.is_empty() {
        let level: EventLevel = form
            .level
            .parse()
            .map_err(|e: crate::store::entities::UnknownName| e.to_string())?;
        filters.push(Filter::LevelAtLeast { value: level });
    }
    if !form.release.trim().is_empty() {
        filters.push(Filter::Release {
            value: form.release.trim().to_owned(),
        });
    }
    for line in lines(&form.tags) {
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| format!("tags: write {line:?} as key=value"))?;
        filters.push(Filter::Tag {
            key: key.trim().to_owned(),
            value: value.trim().to_owned(),
        });
    }
    filters.extend(lines(&form.paths).map(|value| Filter::Path {
        value: value.to_owned(),
    }));
    filters.extend(lines(&form.urls).map(|value| Filter::Url {
        value: value.to_owned(),
    }));
    let mut actions = Vec::new();
    if form.email_recipients.is_some() {
        actions.push(Action::Email {
            to: EmailTo::Group(EmailGroup::Recipients),
        });
    }
    if form.email_assignee.is_some() {
        actions.push(Action::Email {
            to: EmailTo::Group(EmailGroup::Assignee),
        });
    }
    let list: Vec<String> = form
        .email_list
        .split([',', '\n'])
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect();
    if !list.is_empty() {
        actions.push(Action::Email {
            to: EmailTo::List(list),
        });
    }
    if form.webhooks.is_some() {
        actions.push(Action::Webhook);
    }
    let url = |u: &str| u.to_owned();
    actions.extend(lines(&form.slack).map(|u| Action::Slack { url: url(u) }));
    actions.extend(lines(&form.discord).map(|u| Action::Discord { url: url(u) }));
    actions.extend(lines(&form.teams).map(|u| Action::Teams { url: url(u) }));
    actions.extend(lines(&form.google_chat).map(|u| Action::GoogleChat { url: url(u) }));
    actions.extend(lines(&form.mattermost).map(|u| Action::Mattermost { url: url(u) }));
    for line in lines(&form.ntfy) {
        let mut parts = line.split_whitespace();
        actions.push(Action::Ntfy {
            url: parts.next().unwrap_or_default().to_owned(),
            token: parts.next().map(str::to_owned),
        });
    }
    for line in lines(&form.pagerduty) {
        let mut parts = line.split_whitespace();
        actions.push(Action::Pagerduty {
            routing_key: parts.next().unwrap_or_default().to_owned(),
            url: parts.next().map(str::to_owned),
        });
    }
    Ok(RuleSpec {
        name: form.name.clone(),
        match_mode: if form.match_mode == "all" {
            Match::All
        } else {
            Match::Any
        },
        conditions,
        filters,
        actions,
        throttle_minutes: number("throttle", &form.throttle_minutes)?,
    })
}

/// The form a rule fills in (the inverse of [`spec_of`]).
pub(super) fn form_of(spec: &RuleSpec, rule_id: Option<i64>) -> RuleForm {
    let mut form = RuleForm {
        rule_id,
        name: spec.name.clone(),
        match_mode: spec.match_mode.as_str().into(),
        throttle_minutes: spec
            .throttle_minutes
            .map(|m| m.to_string())
            .unwrap_or_default(),
        ..RuleForm::default()
    };
    let on = || Some("on".to_owned());
    let add = |field: &mut String, line: String| {
        if !field.is_empty() {
            field.push('\n');
        }
        field.push_str(&line);
    };
    for condition in &spec.conditions {
        match condition {
            Condition::FirstSeen => form.first_seen = on(),
            Condition::Regression => form.regression = on(),
            Condition::Reappeared => form.reappeared = on(),
            Condition::EventFrequency {
                value,
                interval_minutes,
            } => {
                form.events_value = value.to_string();
                form.events_minutes = interval_minutes.to_string();
            }
            Condition::UserFrequency {
                value,
                interval_minutes,
            } => {
                form.users_value = value.to_string();
                form.users_minutes = interval_minutes.to_string();
            }
        }
    }
    for filter in &spec.filters {
        match filter {
            Filter::Environment { value } => form.environment = value.clone(),
            Filter::LevelAtLeast { value } => form.level = value.to_string(),
            Filter::Release { value } => form.release = value.clone(),
            Filter::Tag { key, value } => add(&mut form.tags, format!("{key}={value}")),
            Filter::Path { value } => add(&mut form.paths, value.clone()),
            Filter::Url { value } => add(&mut form.urls, value.clone()),
        }
    }
    for action in &spec.actions {
        match action {
            Action::Email {
                to: EmailTo::Group(EmailGroup::Recipients),
            } => form.email_recipients = on(),
            Action::Email {
                to: EmailTo::Group(EmailGroup::Assignee),
            } => form.email_assignee = on(),
            Action::Email {
                to: EmailTo::List(list),
            } => add(&mut form.email_list, list.join(", ")),
            Action::Webhook => form.webhooks = on(),
            Action::Slack { url } => add(&mut form.slack, url.clone()),
            Action::Discord { url } => add(&mut form.discord, url.clone()),
            Action::Teams { url } => add(&mut form.teams, url.clone()),
            Action::GoogleChat { url } => add(&mut form.google_chat, url.clone()),
            Action::Mattermost { url } => add(&mut form.mattermost, url.clone()),
            Action::Ntfy { url, token } => add(
                &mut form.ntfy,
                [Some(url.clone()), token.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            Action::Pagerduty { routing_key, url } => add(
                &mut form.pagerduty,
                [Some(routing_key.clone()), url.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        }
    }
    form
}
