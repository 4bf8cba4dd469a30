//! Monitors over the API: list and read (members), create, change, pause and remove
//! (project admins), and each monitor's check-ins and checks.

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};

use super::extract::{ApiAccount, ApiPath, AppJson};
use super::views::{RemovedJson, time};
use crate::access::{self, Need};
use crate::error::ApiError;
use crate::monitors::input::MonitorInput;
use crate::monitors::{self, MonitorSpec};
use crate::state::AppState;
use crate::store::entities::{monitor, monitor_checkin};
use crate::store::{CheckOutcome, MonitorKind, MonitorStatus};

/// A monitor.
#[derive(Debug, Serialize)]
pub struct MonitorJson {
    pub id: i64,
    pub project_id: i64,
    pub slug: String,
    pub name: String,
    pub kind: MonitorKind,
    pub status: MonitorStatus,
    pub paused: bool,
    pub environment: Option<String>,
    /// The settings (kind-specific).
    pub config: serde_json::Value,
    /// The last check-in or check.
    pub last_checkin_at: Option<String>,
    /// When the next check-in is expected (cron) or the next check runs.
    pub next_expected_at: Option<String>,
    /// Failed check-ins or checks in a row.
    pub consecutive_failures: i64,
    /// When the status last changed.
    pub status_since: String,
    /// The TLS certificate's expiry (https uptime checks).
    pub certificate_expires_at: Option<String>,
    /// Percent successful over the last 24 hours, 7 days and 30 days (single monitor).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uptime: Option<UptimeJson>,
}

/// Percent of successful results over periods (`null` without results).
#[derive(Debug, Serialize)]
pub struct UptimeJson {
    pub day: Option<f64>,
    pub week: Option<f64>,
    pub month: Option<f64>,
}

impl MonitorJson {
    /// The view of `row`.
    pub fn new(row: monitor::Model) -> MonitorJson {
        let spec = MonitorSpec::from_stored(&row.config).ok();
        let next_expected_at = monitors::next_expected(&row);
        let mut config = spec
            .as_ref()
            .and_then(|s| serde_json::to_value(s).ok())
            .unwrap_or_default();
        if let Some(object) = config.as_object_mut() {
            object.remove("kind");
        }
        MonitorJson {
            id: row.id,
            project_id: row.project_id,
            slug: row.slug,
            name: row.name,
            kind: row.kind,
            status: row.status,
            paused: row.paused,
            environment: row.environment,
            config,
            last_checkin_at: row.last_check_at.map(time),
            next_expected_at: next_expected_at.map(time),
            consecutive_failures: row.consecutive_failures,
            status_since: time(row.state_since),
            certificate_expires_at: row.cert_expires_at.map(time),
            uptime: None,
        }
    }
}

/// A project's monitors.
#[derive(Debug, Serialize)]
pub struct MonitorsJson {
    pub monitors: Vec<MonitorJson>,
}

/// One check-in, check or sitemap run.
#[derive(Debug, Serialize)]
pub struct CheckInJson {
    pub id: i64,
    pub check_in_id: Option<String>,
    pub status: CheckOutcome,
    pub environment: Option<String>,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub http_status: Option<i64>,
    pub error: Option<String>,
    /// A sitemap run's summary: pages checked, failed, the slowest, the first failures.
    pub summary: Option<serde_json::Value>,
}

impl From<monitor_checkin::Model> for CheckInJson {
    fn from(row: monitor_checkin::Model) -> Self {
        CheckInJson {
            id: row.id,
            check_in_id: row.check_in_id,
            status: row.status,
            environment: row.environment,
            started_at: time(row.started_at),
            finished_at: row.finished_at.map(time),
            duration_ms: row.duration_ms,
            http_status: row.http_status,
            error: row.error,
            summary: row.summary.and_then(|s| serde_json::from_str(&s).ok()),
        }
    }
}

/// A monitor's results, newest first.
#[derive(Debug, Serialize)]
pub struct CheckInsJson {
    pub checkins: Vec<CheckInJson>,
    /// Pass as `before` for older ones.
    pub next_cursor: Option<String>,
}

/// Paging of results.
#[derive(Debug, Deserialize)]
pub struct CheckInsQuery {
    /// At most this many (1 to 500, default 50).
    pub limit: Option<u64>,
    /// Older than this cursor (from `next_cursor`).
    pub before: Option<i64>,
}

/// A change of a monitor: its settings, and pausing.
#[derive(Debug, Deserialize)]
pub struct MonitorPatch {
    /// Pause (true) or resume (false).
    pub paused: Option<bool>,
    /// New settings (absent fields stay).
    #[serde(flatten)]
    pub settings: MonitorInput,
}

pub async fn list(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
) -> Result<Json<MonitorsJson>, ApiError> {
    access::visible_project(&state.store, &account, project_id).await?;
    let rows = state.store.monitors(project_id).await?;
    Ok(Json(MonitorsJson {
        monitors: rows.into_iter().map(MonitorJson::new).collect(),
    }))
}

pub async fn create(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
    AppJson(body): AppJson<MonitorInput>,
) -> Result<(axum::http::StatusCode, Json<MonitorJson>), ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    let settings = body.settings(None)?;
    let created = monitors::create(
        &state.store,
        &account,
        crate::monitors::MonitorRules::of(&state.config),
        project_id,
        settings,
    )
    .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(MonitorJson::new(created)),
    ))
}

pub async fn detail(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(monitor_id): ApiPath<i64>,
) -> Result<Json<MonitorJson>, ApiError> {
    let (_, row) = access::monitor_for(&state.store, &account, monitor_id, Need::View).await?;
    let [day, week, month] = monitors::uptime(&state.store, row.id).await?;
    let mut json = MonitorJson::new(row);
    json.uptime = Some(UptimeJson { day, week, month });
    Ok(Json(json))
}

pub async fn change(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(monitor_id): ApiPath<i64>,
    AppJson(body): AppJson<MonitorPatch>,
) -> Result<Json<MonitorJson>, ApiError> {
    let (_, row) = access::monitor_for(&state.store, &account, monitor_id, Need::Manage).await?;
    let spec = MonitorSpec::from_stored(&row.config)?;
    let settings = body.settings.settings(Some((&row.name, &spec)))?;
    let mut changed = row.clone();
    if settings.name != row.name || settings.spec != spec {
        changed = monitors::update(
            &state.store,
            &account,
            state.config.target_policy(),
            monitor_id,
            settings,
        )
        .await?;
    }
    if let Some(paused) = body.paused.filter(|p| *p != row.paused) {
        changed = monitors::set_paused(&state.store, &account, monitor_id, paused).await?;
    }
    Ok(Json(MonitorJson::new(changed)))
}

pub async fn remove(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(monitor_id): ApiPath<i64>,
) -> Result<Json<RemovedJson>, ApiError> {
    let (_, row) = access::monitor_for(&state.store, &account, monitor_id, Need::Manage).await?;
    monitors::remove(&state.store, &account, &row).await?;
    Ok(Json(RemovedJson {
        removed: monitor_id,
    }))
}

pub async fn checkins(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(monitor_id): ApiPath<i64>,
    Query(query): Query<CheckInsQuery>,
) -> Result<Json<CheckInsJson>, ApiError> {
    access::monitor_for(&state.store, &account, monitor_id, Need::View).await?;
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let rows = state
        .store
        .monitor_results(monitor_id, limit, query.before)
        .await?;
    let next_cursor = (rows.len() as u64 == limit)
        .then(|| rows.last().map(|row| row.started_at.to_string()))
        .flatten();
    Ok(Json(CheckInsJson {
        checkins: rows.into_iter().map(CheckInJson::from).collect(),
        next_cursor,
    }))
}
