//! The scheduler's steps, each one transaction on one monitor, written so that with
//! several collectors (or a restarted one) each happens once: a step first checks that
//! the monitor is still in the state that made it due, and rows another scheduler holds
//! are skipped.

use super::state::Observation;
use super::{MonitorError, MonitorSpec, apply, result_row};
use crate::store::entities::{monitor, monitor_checkin};
use crate::store::{CheckOutcome, MonitorChange, MonitorKind, MonitorStatus, ResultWrite, Store};

/// A certificate expiring within this many milliseconds is warned about (14 days).
pub const CERT_WARNING_MS: i64 = 14 * 86_400_000;

/// Records a missed check-in for the run whose deadline `due` has passed at `now`, if the
/// monitor is still waiting for it; its next deadline is the first one after `now`.
/// Returns whether this call recorded it.
pub async fn mark_missed(
    store: &Store,
    monitor_id: i64,
    due: i64,
    now: i64,
) -> Result<bool, MonitorError> {
    let written = store
        .change_monitor(monitor_id, None, true, |current, _| {
            if current.paused || current.next_due_at != Some(due) {
                return None;
            }
            let MonitorSpec::Cron(cron) = MonitorSpec::from_stored(&current.config).ok()? else {
                return None;
            };
            let margin = cron.deadline(0);
            let expected = due - margin;
            let spec = MonitorSpec::Cron(cron.clone());
            let expected_local = cron.local_time(expected);
            let (mut next, notices) = apply(
                current,
                &spec,
                Observation::Failure(MonitorStatus::Missed),
                now,
                |notice| notice.expected = Some(expected_local.clone()),
            );
            // The first run whose deadline is still ahead (one missed check-in is
            // recorded however long the collector was away).
            next.next_due_at = cron.next_deadline(expected.max(now - margin));
            let mut row = result_row(CheckOutcome::Missed, expected);
            row.finished_at = Some(due);
            row.environment = current.environment.clone();
            row.error = Some(format!("no check-in by {}", cron.local_time(due)));
            Some(MonitorChange {
                monitor: next,
                result: Some(ResultWrite::Insert(row)),
                notices,
            })
        })
        .await?;
    Ok(written.is_some())
}

/// Marks `run` timed out at `now` if it is still in progress past its maximum runtime.
/// Returns whether this call did.
pub async fn time_out(
    store: &Store,
    run: &monitor_checkin::Model,
    now: i64,
) -> Result<bool, MonitorError> {
    let Some(check_in_id) = run.check_in_id.clone() else {
        return Ok(false);
    };
    let written = store
        .change_monitor(
            run.monitor_id,
            Some(check_in_id),
            true,
            |current, existing| {
                let existing = existing?;
                let overdue = existing.status == CheckOutcome::InProgress
                    && existing.timeout_at.is_some_and(|at| at <= now);
                if !overdue {
                    return None;
                }
                let spec = MonitorSpec::from_stored(&current.config).ok()?;
                let (mut next, notices) = if current.paused {
                    (current.clone(), Vec::new())
                } else {
                    apply(
                        current,
                        &spec,
                        Observation::Failure(MonitorStatus::Timeout),
                        now,
                        |_| {},
                    )
                };
                next.last_check_at = Some(now);
                let mut row = existing.clone();
                row.status = CheckOutcome::Timeout;
                row.finished_at = Some(now);
                row.duration_ms = Some(now - existing.started_at);
                row.error = Some("no end reported within the maximum runtime".into());
                Some(MonitorChange {
                    monitor: next,
                    result: Some(ResultWrite::Update(row)),
                    notices,
                })
            },
        )
        .await?;
    Ok(written.is_some())
}

/// Claims the check of an uptime or sitemap monitor due at `due`: its next check moves
/// one interval past `now`, so that no other scheduler runs this one. Returns the
/// monitor and its settings when this call claimed it.
pub async fn claim_check(
    store: &Store,
    monitor_id: i64,
    due: i64,
    now: i64,
) -> Result<Option<(monitor::Model, MonitorSpec)>, MonitorError> {
    let mut claimed = None;
    store
        .change_monitor(monitor_id, None, true, |current, _| {
            if current.paused || current.next_due_at != Some(due) {
                return None;
            }
            let spec = MonitorSpec::from_stored(&current.config).ok()?;
            let interval_ms = match &spec {
                MonitorSpec::Http(http) => i64::try_from(http.interval_seconds)
                    .ok()?
                    .saturating_mul(1000),
                MonitorSpec::Sitemap(sitemap) => i64::try_from(sitemap.interval_minutes)
                    .ok()?
                    .saturating_mul(60_000),
                MonitorSpec::Cron(_) => return None,
            };
            let mut next = current.clone();
            next.next_due_at = Some(now.saturating_add(interval_ms));
            claimed = Some((next.clone(), spec));
            Some(MonitorChange {
                monitor: next,
                result: None,
                notices: Vec::new(),
            })
        })
        .await?;
    Ok(claimed)
}

/// How one uptime check or sitemap run went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckResult {
    /// When it started.
    pub started_at: i64,
    /// How long it took.
    pub duration_ms: i64,
    /// The status answered.
    pub http_status: Option<u16>,
    /// What failed, or `None` when it succeeded.
    pub error: Option<String>,
    /// When the site's TLS certificate expires.
    pub cert_expires_at: Option<i64>,
    /// A sitemap run's summary (JSON).
    pub summary: Option<String>,
}

/// Records a check's result at `now`; the status follows, and a certificate expiring
/// within [`CERT_WARNING_MS`] is warned about once (again only for a new certificate).
pub async fn record_check(
    store: &Store,
    monitor_id: i64,
    result: CheckResult,
    now: i64,
) -> Result<(), MonitorError> {
    store
        .change_monitor(monitor_id, None, false, |current, _| {
            let spec = MonitorSpec::from_stored(&current.config).ok()?;
            let observation = match (&result.error, current.kind) {
                (None, _) => Observation::Success,
                (Some(_), MonitorKind::Http) => Observation::Failure(MonitorStatus::Down),
                (Some(_), _) => Observation::Failure(MonitorStatus::Error),
            };
            let (mut next, mut notices) = apply(current, &spec, observation, now, |notice| {
                notice.http_status = result.http_status;
                notice.error = result.error.clone();
            });
            if let Some(expires) = result.cert_expires_at {
                if current.cert_expires_at != Some(expires) {
                    next.cert_warned_at = None;
                }
                next.cert_expires_at = Some(expires);
                if expires - now < CERT_WARNING_MS && next.cert_warned_at.is_none() {
                    next.cert_warned_at = Some(now);
                    let notice = super::notice::MonitorNotice {
                        kind: crate::store::NotificationKind::CertificateExpiring,
                        monitor: current.name.clone(),
                        slug: current.slug.clone(),
                        monitor_kind: current.kind,
                        environment: None,
                        url: spec.url().map(str::to_owned),
                        at: now,
                        expected: None,
                        http_status: result.http_status,
                        error: None,
                        failures: 0,
                        since: None,
                        cert_expires_at: Some(expires),
                    };
                    notices.push((notice.kind, notice.to_json()));
                }
            }
            next.last_check_at = Some(now);
            let outcome = if result.error.is_none() {
                CheckOutcome::Ok
            } else {
                CheckOutcome::Error
            };
            let mut row = result_row(outcome, result.started_at);
            row.finished_at = Some(result.started_at + result.duration_ms);
            row.duration_ms = Some(result.duration_ms);
            row.http_status = result.http_status.map(i64::from);
            row.error = result.error.clone();
            row.summary = result.summary.clone();
            Some(MonitorChange {
                monitor: next,
                result: Some(ResultWrite::Insert(row)),
                notices,
            })
        })
        .await?;
    Ok(())
}
