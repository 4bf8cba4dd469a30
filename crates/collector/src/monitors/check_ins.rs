//! Check-ins: a job says it started, finished or failed (an envelope's `check_in` item
//! or the plain HTTP check-in); the monitor is created or updated from the config the
//! check-in carries, the result recorded, and the status follows.

use mayday_protocol::{CheckIn, CheckInStatus, check_in::normalize_slug};

use super::state::Observation;
use super::{CronSpec, MonitorError, MonitorSpec, apply, result_row};
use crate::store::entities::monitor;
use crate::store::{CheckOutcome, MonitorChange, MonitorKind, MonitorStatus, ResultWrite, Store};

/// Longest environment name kept.
const MAX_ENVIRONMENT_CHARS: usize = 64;
/// Longest `check_in_id` accepted.
const MAX_CHECK_IN_ID_CHARS: usize = 64;

/// What recording a check-in did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The monitor.
    pub monitor_id: i64,
    /// The check-in's id (made up when the job sent none).
    pub check_in_id: String,
    /// The monitor's status after it.
    pub status: MonitorStatus,
}

/// Records `check_in` for `project_id`, received at `now`; a check-in naming a new
/// monitor creates it unless the project has `max_monitors` already.
pub async fn record(
    store: &Store,
    max_monitors: u64,
    project_id: i64,
    check_in: CheckIn,
    now: i64,
) -> Result<Receipt, MonitorError> {
    let slug =
        normalize_slug(&check_in.monitor_slug).map_err(|e| MonitorError::Invalid(e.to_string()))?;
    let config = check_in
        .monitor_config
        .as_ref()
        .map(CronSpec::from_config)
        .transpose()?;
    let given_id = check_in
        .check_in_id
        .as_deref()
        .map(str::trim)
        .filter(|id| !id.is_empty() && !is_nil_uuid(id));
    let check_in_id = match given_id {
        Some(id) => {
            if id.chars().count() > MAX_CHECK_IN_ID_CHARS {
                return Err(MonitorError::Invalid(format!(
                    "check_in_id is longer than {MAX_CHECK_IN_ID_CHARS} characters"
                )));
            }
            id.to_owned()
        }
        None => uuid::Uuid::new_v4().simple().to_string(),
    };
    let environment: Option<String> = check_in
        .environment
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| e.chars().take(MAX_ENVIRONMENT_CHARS).collect());
    let duration_ms = check_in
        .duration
        .filter(|d| d.is_finite() && *d >= 0.0)
        .map(|d| (d * 1000.0).min(1e15) as i64);

    let first = config.clone().unwrap_or_default();
    let monitor = store
        .ensure_monitor(
            monitor::Model {
                id: 0,
                project_id,
                slug: slug.clone(),
                name: slug.clone(),
                kind: MonitorKind::Cron,
                status: MonitorStatus::Pending,
                paused: false,
                config: MonitorSpec::Cron(first.clone()).to_stored(),
                environment: environment.clone(),
                consecutive_failures: 0,
                consecutive_ok: 0,
                next_due_at: first.next_deadline(now),
                last_check_at: None,
                state_since: now,
                cert_expires_at: None,
                cert_warned_at: None,
                created_at: now,
                updated_at: now,
            },
            max_monitors,
        )
        .await?;
    if monitor.kind != MonitorKind::Cron {
        return Err(MonitorError::Invalid(format!(
            "monitor {slug} is not a cron monitor; check-ins go to cron monitors"
        )));
    }

    let status = check_in.status;
    // Without an id, an end finishes the run in progress (a shell job's two requests).
    let check_in_id = match (given_id, status) {
        (None, CheckInStatus::Ok | CheckInStatus::Error) => store
            .latest_running(monitor.id)
            .await?
            .unwrap_or(check_in_id),
        _ => check_in_id,
    };
    let id = check_in_id.clone();
    let written = store
        .change_monitor(
            monitor.id,
            Some(check_in_id.clone()),
            false,
            |current, existing| {
                let spec = match &config {
                    Some(spec) => spec.clone(),
                    None => match MonitorSpec::from_stored(&current.config) {
                        Ok(MonitorSpec::Cron(spec)) => spec,
                        _ => CronSpec::default(),
                    },
                };
                let outcome = match status {
                    CheckInStatus::InProgress => CheckOutcome::InProgress,
                    CheckInStatus::Ok => CheckOutcome::Ok,
                    CheckInStatus::Error => CheckOutcome::Error,
                };
                let result = match (outcome, existing) {
                    // The same check-in twice (an SDK retry): nothing new.
                    (CheckOutcome::InProgress, Some(_)) => return None,
                    (CheckOutcome::InProgress, None) => {
                        let mut row = result_row(CheckOutcome::InProgress, now);
                        row.timeout_at = Some(now.saturating_add(spec.max_runtime_ms()));
                        row
                    }
                    (_, Some(started))
                        if matches!(
                            started.status,
                            CheckOutcome::InProgress | CheckOutcome::Timeout
                        ) =>
                    {
                        let mut row = started.clone();
                        row.status = outcome;
                        row.finished_at = Some(now);
                        row.duration_ms = duration_ms.or(Some(now - started.started_at));
                        row.timeout_at = None;
                        row
                    }
                    (_, Some(_)) => return None,
                    (_, None) => {
                        let mut row = result_row(outcome, now - duration_ms.unwrap_or(0));
                        row.finished_at = Some(now);
                        row.duration_ms = duration_ms;
                        row
                    }
                };
                let observation = match outcome {
                    CheckOutcome::InProgress => Observation::Started,
                    CheckOutcome::Ok => Observation::Success,
                    _ => Observation::Failure(MonitorStatus::Error),
                };
                let mut current = current.clone();
                if environment.is_some() {
                    current.environment = environment.clone();
                }
                let cron = MonitorSpec::Cron(spec.clone());
                let (mut next, notices) = if current.paused {
                    (current.clone(), Vec::new())
                } else {
                    apply(&current, &cron, observation, now, |_| {})
                };
                next.config = cron.to_stored();
                next.last_check_at = Some(now);
                next.next_due_at = spec.next_deadline(now);
                let mut row = result;
                row.check_in_id = Some(id.clone());
                // The end of a run may not repeat the environment its start named.
                row.environment = environment.clone().or(row.environment);
                let result = if row.id == 0 {
                    ResultWrite::Insert(row)
                } else {
                    ResultWrite::Update(row)
                };
                Some(MonitorChange {
                    monitor: next,
                    result: Some(result),
                    notices,
                })
            },
        )
        .await?;
    let status = match written {
        Some(written) => written.status,
        None => store.monitor(monitor.id).await?.status,
    };
    Ok(Receipt {
        monitor_id: monitor.id,
        check_in_id,
        status,
    })
}

/// The empty UUID, which SDKs send to mean "the run in progress".
fn is_nil_uuid(id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok_and(|uuid| uuid.is_nil())
}
