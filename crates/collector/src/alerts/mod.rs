//! Alert rules, added, changed and removed one way from the alerts page and the API:
//! checked ([`rule::RuleSpec::check`], then every target against the outbound address
//! policy), stored, and recorded in the audit log. Ingest applies them (the store's
//! batch, step 8); [`rule`] says what they mean.

pub mod rule;

use crate::audit::{self, Actor};
use crate::config::Config;
use crate::outbound::{self, OutboundError};
use crate::store::entities::alert_rule;
use crate::store::{AuditAction, Channel, NotificationKind, RuleRow, Store, StoreError};
use rule::{RuleError, RuleSpec};

/// Why a rule was not saved.
#[derive(Debug, thiserror::Error)]
pub enum AlertRuleError {
    /// The rule is not valid; the message names the part and the fix.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// An action's URL may not be a target.
    #[error("actions: {0}")]
    Target(#[from] OutboundError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Follows issues that were resolved: each PagerDuty action of a rule that alerted
/// about one of them gets a `resolve` with the issue's key (queued in the outbox, so
/// it is retried like the trigger was).
pub async fn issues_resolved(store: &Store, issue_ids: &[i64]) -> Result<(), StoreError> {
    for (issue_id, rule) in store.rules_fired_for(issue_ids).await? {
        let Ok(spec) = RuleSpec::from_row(&rule) else {
            continue;
        };
        let actions: Vec<(Channel, String)> = spec
            .actions
            .iter()
            .filter(|a| matches!(a, rule::Action::Pagerduty { .. }))
            .filter_map(|a| Some((a.channel(), serde_json::to_string(a).ok()?)))
            .collect();
        store
            .queue_issue_actions(
                rule.project_id,
                issue_id,
                Some(rule.id),
                NotificationKind::Resolved,
                actions,
            )
            .await?;
    }
    Ok(())
}

/// Follows ignored issues that came back by their date (the housekeeping loop; those
/// back by their events or users are decided at ingest): every rule with `reappeared`
/// whose filters hold for the issue's latest event alerts. A rule that also needs
/// frequencies (`all`) is not decided here: no event arrived to count.
pub async fn issues_reappeared(store: &Store, issue_ids: &[i64]) -> Result<usize, StoreError> {
    let mut fired = 0;
    for &issue_id in issue_ids {
        let Some(issue) = store.issue(issue_id).await? else {
            continue;
        };
        let latest = store.issue_events(issue_id, 0, 1).await?.pop();
        let subject = latest
            .as_ref()
            .map(|l| crate::ownership::rules::Subject::of(&l.event))
            .unwrap_or_default();
        let seen = rule::decide::Seen {
            new_issue: false,
            regression: false,
            reappeared: true,
            level: issue.level,
            environment: latest.as_ref().and_then(|l| l.row.environment.as_deref()),
            release: latest.as_ref().and_then(|l| l.row.release.as_deref()),
            tags: &subject.tags,
            paths: &subject.paths,
            url: subject.url.as_deref(),
            latest_release: None,
        };
        for row in store.alert_rules(issue.project_id).await? {
            let Ok(compiled) = rule::decide::Compiled::new(&row) else {
                continue;
            };
            if compiled.first(&seen, false)
                == rule::decide::First::Fires(NotificationKind::Reappeared)
            {
                store
                    .queue_rule_alert(
                        issue.project_id,
                        issue_id,
                        &compiled,
                        NotificationKind::Reappeared,
                        latest.as_ref().map(|l| l.row.id),
                    )
                    .await?;
                fired += 1;
            }
        }
    }
    Ok(fired)
}

/// Checks `spec` and its targets.
async fn check(config: &Config, spec: &RuleSpec) -> Result<RuleRow, AlertRuleError> {
    spec.check()?;
    for action in &spec.actions {
        if let Some(url) = action.url() {
            outbound::check_target(url, config.target_policy()).await?;
        }
    }
    let (conditions, filters, actions) = spec.columns();
    Ok(RuleRow {
        name: spec.name.trim().to_owned(),
        match_mode: spec.match_mode.as_str().to_owned(),
        conditions,
        filters,
        actions,
        throttle_minutes: spec.throttle_minutes.map(i64::from),
    })
}

/// Adds rule `spec` to `project_id`.
pub async fn add<'a>(
    store: &Store,
    config: &Config,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
    spec: &RuleSpec,
) -> Result<alert_rule::Model, AlertRuleError> {
    let row = check(config, spec).await?;
    let rule = store.add_alert_rule(project_id, row).await?;
    audit::record(
        store,
        actor,
        project_id,
        AuditAction::AlertRuleAdded,
        format!("rule {}: {}", rule.id, rule.name),
    )
    .await?;
    Ok(rule)
}

/// Replaces rule `rule`'s fields with `spec`.
pub async fn change<'a>(
    store: &Store,
    config: &Config,
    actor: impl Into<Actor<'a>>,
    rule: &alert_rule::Model,
    spec: &RuleSpec,
) -> Result<alert_rule::Model, AlertRuleError> {
    let row = check(config, spec).await?;
    let changed = store.change_alert_rule(rule.id, row).await?;
    audit::record(
        store,
        actor,
        rule.project_id,
        AuditAction::AlertRuleChanged,
        format!("rule {}: {}", changed.id, changed.name),
    )
    .await?;
    Ok(changed)
}

/// Removes rule `rule`.
pub async fn remove<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    rule: &alert_rule::Model,
) -> Result<(), StoreError> {
    if store.remove_alert_rule(rule.id).await? {
        audit::record(
            store,
            actor,
            rule.project_id,
            AuditAction::AlertRuleRemoved,
            format!("rule {}: {}", rule.id, rule.name),
        )
        .await?;
    }
    Ok(())
}
