//! Check-ins: a job says it started, finished or failed (an envelope's `check_in` item
//! or the plain HTTP check-in); the monitor is created or updated from the config the
//! check-in carries, the result recorded, and the status follows.
//!
//! Check-ins are recorded in batches, as events are: [`check`] reads one on the
//! request's task, the check-in writer (`pipeline::check_in_writer`) collects what
//! arrives meanwhile and [`record_batch`] writes them in one transaction, in arrival
//! order, each seeing the ones before it.

use mayday_protocol::{CheckIn, CheckInStatus, check_in::normalize_slug};
use sea_orm::{ConnectionTrait, DbErr};

use super::state::Observation;
use super::{CronSpec, MonitorError, MonitorSpec, apply, result_row};
use crate::store::entities::monitor;
use crate::store::monitors::{self as stored, Ensured};
use crate::store::{
    BatchWork, CheckOutcome, MonitorChange, MonitorKind, MonitorStatus, ResultWrite, Store,
};

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

/// A check-in read and checked, ready to be recorded.
#[derive(Debug, Clone)]
pub struct Checked {
    project_id: i64,
    slug: String,
    config: Option<CronSpec>,
    /// The id the job sent, if any.
    given_id: Option<String>,
    /// The given id, or one made up.
    check_in_id: String,
    status: CheckInStatus,
    environment: Option<String>,
    duration_ms: Option<i64>,
    now: i64,
}

/// Reads `check_in` for `project_id`, received at `now`: its slug, config, id,
/// environment and duration checked, before anything is stored.
pub fn check(project_id: i64, check_in: CheckIn, now: i64) -> Result<Checked, MonitorError> {
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
        .filter(|id| !id.is_empty() && !is_nil_uuid(id))
        .map(str::to_owned);
    if let Some(id) = &given_id
        && id.chars().count() > MAX_CHECK_IN_ID_CHARS
    {
        return Err(MonitorError::Invalid(format!(
            "check_in_id is longer than {MAX_CHECK_IN_ID_CHARS} characters"
        )));
    }
    let check_in_id = given_id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
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
    Ok(Checked {
        project_id,
        slug,
        config,
        given_id,
        check_in_id,
        status: check_in.status,
        environment,
        duration_ms,
        now,
    })
}

/// Records `check_in` for `project_id`, received at `now`, on its own; a check-in
/// naming a new monitor creates it unless the project has `max_monitors` already.
pub async fn record(
    store: &Store,
    max_monitors: u64,
    project_id: i64,
    check_in: CheckIn,
    now: i64,
) -> Result<Receipt, MonitorError> {
    let checked = check(project_id, check_in, now)?;
    record_batch(store, max_monitors, vec![checked])
        .await
        .pop()
        .unwrap_or_else(|| Err(MonitorError::Invalid("nothing was recorded".into())))
}

/// Records `batch` in one write transaction, in order; one answer per check-in. When
/// the transaction fails as a whole, each is recorded in one of its own, so that one
/// problem does not fail the others.
pub async fn record_batch(
    store: &Store,
    max_monitors: u64,
    batch: Vec<Checked>,
) -> Vec<Result<Receipt, MonitorError>> {
    let size = batch.len();
    let work = Recording {
        max_monitors,
        batch: batch.clone(),
    };
    match store.write_batch(work).await {
        Ok(receipts) => receipts,
        Err(error) if size == 1 => vec![Err(MonitorError::Store(error))],
        Err(error) => {
            tracing::debug!(%error, size, "check-in batch failed; recording one by one");
            let mut receipts = Vec::with_capacity(size);
            for checked in batch {
                let work = Recording {
                    max_monitors,
                    batch: vec![checked],
                };
                receipts.push(match store.write_batch(work).await {
                    Ok(mut one) => one.pop().unwrap_or_else(|| {
                        Err(MonitorError::Invalid("nothing was recorded".into()))
                    }),
                    Err(error) => Err(MonitorError::Store(error)),
                });
            }
            receipts
        }
    }
}

/// A batch of check-ins for one write transaction.
struct Recording {
    max_monitors: u64,
    batch: Vec<Checked>,
}

impl BatchWork for Recording {
    type Output = Vec<Result<Receipt, MonitorError>>;

    async fn run(self, txn: &impl ConnectionTrait) -> Result<Self::Output, DbErr> {
        let mut receipts = Vec::with_capacity(self.batch.len());
        for checked in self.batch {
            receipts.push(record_in(txn, self.max_monitors, checked).await?);
        }
        Ok(receipts)
    }
}

/// Records one check-in in `txn`: `Ok(Err(..))` for a check-in refused (a monitor of
/// another kind, the project at its most monitors), which leaves the transaction
/// usable for the others; `Err` when the database failed.
async fn record_in(
    txn: &impl ConnectionTrait,
    max_monitors: u64,
    checked: Checked,
) -> Result<Result<Receipt, MonitorError>, DbErr> {
    let Checked {
        project_id,
        slug,
        config,
        given_id,
        check_in_id,
        status,
        environment,
        duration_ms,
        now,
    } = checked;
    let first = config.clone().unwrap_or_default();
    let new_monitor = monitor::Model {
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
    };
    let monitor = match stored::ensure_monitor_in(txn, new_monitor, max_monitors).await? {
        Ensured::Found(monitor) => *monitor,
        Ensured::AtLimit(count) => {
            return Ok(Err(MonitorError::Store(stored::at_limit(
                count,
                max_monitors,
            ))));
        }
    };
    if monitor.kind != MonitorKind::Cron {
        return Ok(Err(MonitorError::Invalid(format!(
            "monitor {slug} is not a cron monitor; check-ins go to cron monitors"
        ))));
    }

    // Without an id, an end finishes the run in progress (a shell job's two requests).
    let check_in_id = match (&given_id, status) {
        (None, CheckInStatus::Ok | CheckInStatus::Error) => {
            stored::latest_running_in(txn, monitor.id)
                .await?
                .unwrap_or(check_in_id)
        }
        _ => check_in_id,
    };
    let id = check_in_id.clone();
    let written = stored::change_monitor_in(
        txn,
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
        None => stored::monitor_in(txn, monitor.id)
            .await?
            .map_or(monitor.status, |m| m.status),
    };
    Ok(Ok(Receipt {
        monitor_id: monitor.id,
        check_in_id,
        status,
    }))
}

/// The empty UUID, which SDKs send to mean "the run in progress".
fn is_nil_uuid(id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok_and(|uuid| uuid.is_nil())
}
