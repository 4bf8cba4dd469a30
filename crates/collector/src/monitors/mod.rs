//! Monitors: cron jobs that check in (Sentry's check-in protocol), URLs checked on a
//! schedule (uptime), sitemaps whose pages are requested on a schedule (smoke tests).
//! This module holds the rules: what a monitor is set to do ([`spec`]), how its status
//! follows what is seen ([`state`]), what its notifications say ([`notice`]), check-ins
//! ([`check_ins`]) and the scheduler's steps ([`runs`]). The scheduler's loop and the
//! requests it makes live in `crate::scheduler`.

pub mod check_ins;
mod error;
pub mod input;
pub mod notice;
pub mod runs;
pub mod spec;
pub mod state;

use crate::audit::{self, Actor};
use crate::outbound::{self, TargetPolicy};
use crate::store::entities::{monitor, monitor_checkin};
use crate::store::{
    AuditAction, MonitorKind, MonitorStatus, NotificationKind, Store, StoreError, now_ms,
};
pub use error::MonitorError;
use notice::MonitorNotice;
pub use spec::{CronSpec, HttpSpec, MonitorSpec, SitemapSpec, StatusRange};
use state::{Observation, Standing, Thresholds};

/// What monitors may be, from the collector's settings: which targets uptime and
/// sitemap checks reach, and how many monitors one project has at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonitorRules {
    /// Which addresses checks may reach.
    pub targets: TargetPolicy,
    /// Most monitors per project (`MAYDAY_MAX_MONITORS_PER_PROJECT`).
    pub max_per_project: u64,
}

impl MonitorRules {
    /// The rules `config` sets.
    pub fn of(config: &crate::config::Config) -> MonitorRules {
        MonitorRules {
            targets: config.target_policy(),
            max_per_project: config.max_monitors_per_project,
        }
    }
}

/// A monitor to create or the new settings of one.
#[derive(Debug, Clone)]
pub struct MonitorSettings {
    /// Shown in lists and notifications; the slug is made from it.
    pub name: String,
    /// What it does.
    pub spec: MonitorSpec,
}

impl MonitorSettings {
    fn check(&self) -> Result<(), MonitorError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(MonitorError::Invalid(
                "a monitor's name must be 1 to 100 characters, without line breaks".into(),
            ));
        }
        match &self.spec {
            MonitorSpec::Cron(cron) => cron.check(),
            MonitorSpec::Http(http) => http.check(),
            MonitorSpec::Sitemap(sitemap) => sitemap.check(),
        }
    }

    async fn check_target(&self, policy: TargetPolicy) -> Result<(), MonitorError> {
        if let Some(url) = self.spec.url() {
            outbound::check_target(url, policy).await?;
        }
        Ok(())
    }
}

/// The kind of a spec.
pub fn kind_of(spec: &MonitorSpec) -> MonitorKind {
    match spec {
        MonitorSpec::Cron(_) => MonitorKind::Cron,
        MonitorSpec::Http(_) => MonitorKind::Http,
        MonitorSpec::Sitemap(_) => MonitorKind::Sitemap,
    }
}

/// `Nightly backup!` → `nightly-backup`.
pub fn slug_from_name(name: &str) -> String {
    let mut slug = String::new();
    for c in name.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() || c == '_' {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_end_matches('-').chars().take(64).collect();
    if slug.is_empty() {
        "monitor".into()
    } else {
        slug
    }
}

/// When the scheduler first acts on a new or changed monitor: an uptime or sitemap
/// check at once; a cron job's first deadline.
fn first_due(spec: &MonitorSpec, now: i64) -> Option<i64> {
    match spec {
        MonitorSpec::Cron(cron) => cron.next_deadline(now),
        MonitorSpec::Http(_) | MonitorSpec::Sitemap(_) => Some(now),
    }
}

/// Creates a monitor in `project_id` under `rules` (uptime and sitemap URLs checked
/// against its target policy, the project's most monitors kept).
pub async fn create<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    rules: MonitorRules,
    project_id: i64,
    settings: MonitorSettings,
) -> Result<monitor::Model, MonitorError> {
    settings.check()?;
    settings.check_target(rules.targets).await?;
    let now = now_ms();
    let row = monitor::Model {
        id: 0,
        project_id,
        slug: slug_from_name(&settings.name),
        name: settings.name.trim().to_owned(),
        kind: kind_of(&settings.spec),
        status: MonitorStatus::Pending,
        paused: false,
        config: settings.spec.to_stored(),
        environment: None,
        consecutive_failures: 0,
        consecutive_ok: 0,
        next_due_at: first_due(&settings.spec, now),
        last_check_at: None,
        state_since: now,
        cert_expires_at: None,
        cert_warned_at: None,
        created_at: now,
        updated_at: now,
    };
    let created = store.create_monitor(row, rules.max_per_project).await?;
    audit::record(
        store,
        actor,
        project_id,
        AuditAction::MonitorAdded,
        &created.slug,
    )
    .await?;
    Ok(created)
}

/// Changes a monitor's name and settings (its kind stays); the schedule starts again.
pub async fn update<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    policy: TargetPolicy,
    monitor_id: i64,
    settings: MonitorSettings,
) -> Result<monitor::Model, MonitorError> {
    settings.check()?;
    settings.check_target(policy).await?;
    let now = now_ms();
    let changed = store
        .change_monitor(monitor_id, None, false, |current, _| {
            if kind_of(&settings.spec) != current.kind {
                return None;
            }
            let mut next = current.clone();
            next.name = settings.name.trim().to_owned();
            next.config = settings.spec.to_stored();
            next.next_due_at = first_due(&settings.spec, now);
            next.updated_at = now;
            Some(crate::store::MonitorChange {
                monitor: next,
                result: None,
                notices: Vec::new(),
            })
        })
        .await?;
    let changed = changed.ok_or_else(|| {
        MonitorError::Invalid("a monitor's kind cannot change; create another one".into())
    })?;
    record_change(store, actor, &changed, AuditAction::MonitorChanged).await?;
    Ok(changed)
}

/// Records `action` on `monitor` in its project's audit log.
async fn record_change<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    monitor: &monitor::Model,
    action: AuditAction,
) -> Result<(), StoreError> {
    audit::record(store, actor, monitor.project_id, action, &monitor.slug).await
}

/// Removes `monitor` with its results, and records it; false when it was gone already.
pub async fn remove<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    monitor: &monitor::Model,
) -> Result<bool, StoreError> {
    if !store.delete_monitor(monitor.id).await? {
        return Ok(false);
    }
    record_change(store, actor, monitor, AuditAction::MonitorRemoved).await?;
    Ok(true)
}

/// Pauses a monitor (nothing is checked or missed) or resumes it (the schedule starts
/// again from now).
pub async fn set_paused<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    monitor_id: i64,
    paused: bool,
) -> Result<monitor::Model, MonitorError> {
    let now = now_ms();
    let changed = store
        .change_monitor(monitor_id, None, false, |current, _| {
            let mut next = current.clone();
            next.paused = paused;
            if !paused {
                let spec = MonitorSpec::from_stored(&current.config).ok()?;
                next.next_due_at = first_due(&spec, now);
            }
            next.updated_at = now;
            Some(crate::store::MonitorChange {
                monitor: next,
                result: None,
                notices: Vec::new(),
            })
        })
        .await?;
    let changed = changed.ok_or_else(|| StoreError::NotFound(format!("monitor {monitor_id}")))?;
    record_change(store, actor, &changed, AuditAction::MonitorChanged).await?;
    Ok(changed)
}

/// When the next check-in is expected (cron: the deadline less the margin) or the next
/// check runs; `None` while paused or without a schedule.
pub fn next_expected(monitor: &monitor::Model) -> Option<i64> {
    if monitor.paused {
        return None;
    }
    let due = monitor.next_due_at?;
    match MonitorSpec::from_stored(&monitor.config) {
        Ok(MonitorSpec::Cron(cron)) => Some(due - cron.deadline(0)),
        _ => Some(due),
    }
}

/// Percent of successful results of `monitor_id` over the last day, week and month
/// (`None` for a period without results).
pub async fn uptime(store: &Store, monitor_id: i64) -> Result<[Option<f64>; 3], StoreError> {
    let now = now_ms();
    let mut found = [None; 3];
    for (slot, days) in found.iter_mut().zip([1, 7, 30]) {
        *slot = store
            .monitor_uptime(monitor_id, now - days * 86_400_000)
            .await?
            .percent();
    }
    Ok(found)
}

/// The thresholds a monitor's status follows.
fn thresholds(spec: &MonitorSpec) -> Thresholds {
    match spec {
        MonitorSpec::Cron(cron) => Thresholds {
            failures: cron.failure_issue_threshold,
            recoveries: cron.recovery_threshold,
        },
        MonitorSpec::Http(http) => Thresholds {
            failures: http.failures,
            recoveries: 1,
        },
        MonitorSpec::Sitemap(_) => Thresholds {
            failures: 1,
            recoveries: 1,
        },
    }
}

/// What an observation changes on `current`, and the notifications it calls for
/// (none for sitemap monitors: their failing pages are issues, which notify).
fn apply(
    current: &monitor::Model,
    spec: &MonitorSpec,
    observation: Observation,
    at: i64,
    detail: impl FnOnce(&mut MonitorNotice),
) -> (monitor::Model, Vec<(NotificationKind, String)>) {
    let step = state::observe(
        Standing {
            status: current.status,
            failures: current.consecutive_failures,
            successes: current.consecutive_ok,
        },
        observation,
        thresholds(spec),
    );
    let mut next = current.clone();
    next.status = step.standing.status;
    next.consecutive_failures = step.standing.failures;
    next.consecutive_ok = step.standing.successes;
    if step.changed {
        next.state_since = at;
    }
    let mut notices = Vec::new();
    if let Some(kind) = step.notify.filter(|_| current.kind != MonitorKind::Sitemap) {
        let mut notice = MonitorNotice {
            kind,
            monitor: current.name.clone(),
            slug: current.slug.clone(),
            monitor_kind: current.kind,
            environment: current.environment.clone(),
            url: spec.url().map(str::to_owned),
            at,
            expected: None,
            http_status: None,
            error: None,
            failures: step.standing.failures,
            since: (kind == NotificationKind::MonitorRecovered).then_some(current.state_since),
            cert_expires_at: None,
        };
        detail(&mut notice);
        notices.push((kind, notice.to_json()));
    }
    (next, notices)
}

/// A result row with nothing set but its status and start.
fn result_row(status: crate::store::CheckOutcome, started_at: i64) -> monitor_checkin::Model {
    monitor_checkin::Model {
        id: 0,
        monitor_id: 0,
        check_in_id: None,
        status,
        environment: None,
        started_at,
        finished_at: None,
        duration_ms: None,
        timeout_at: None,
        http_status: None,
        error: None,
        summary: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug_from_name("Nightly backup!"), "nightly-backup");
        assert_eq!(
            slug_from_name("  shop.example.com / home "),
            "shop-example-com-home"
        );
        assert_eq!(slug_from_name("!!!"), "monitor");
    }
}
