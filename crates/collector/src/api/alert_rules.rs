//! Alert rules over the API (project admins: rules hold chat URLs and routing keys,
//! which are passwords), through [`alerts`](crate::alerts) like the alerts page.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::extract::{ApiAccount, ApiPath, AppJson};
use super::views::{RemovedJson, time};
use crate::access::{self, Need};
use crate::alerts::rule::{Action, Condition, Filter, Match, RuleSpec};
use crate::alerts::{self, AlertRuleError};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::entities::alert_rule;

/// A rule.
#[derive(Debug, Serialize)]
pub struct RuleJson {
    pub id: i64,
    pub project_id: i64,
    #[serde(flatten)]
    pub spec: RuleSpec,
    pub created_at: String,
    pub updated_at: String,
}

/// A project's rules.
#[derive(Debug, Serialize)]
pub struct RulesJson {
    pub alert_rules: Vec<RuleJson>,
}

impl RuleJson {
    fn new(row: &alert_rule::Model) -> Result<RuleJson, ApiError> {
        let spec = RuleSpec::from_row(row).map_err(|e| {
            tracing::error!(rule = row.id, error = %e, "a stored alert rule does not read");
            ApiError::from(crate::store::StoreError::NotFound(format!(
                "alert rule {} in a readable form",
                row.id
            )))
        })?;
        Ok(RuleJson {
            id: row.id,
            project_id: row.project_id,
            spec,
            created_at: time(row.created_at),
            updated_at: time(row.updated_at),
        })
    }
}

/// A change: the fields given replace the rule's.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RulePatch {
    name: Option<String>,
    #[serde(rename = "match")]
    match_mode: Option<Match>,
    conditions: Option<Vec<Condition>>,
    filters: Option<Vec<Filter>>,
    actions: Option<Vec<Action>>,
    /// `null` sets the collector's default.
    #[serde(default, with = "serde_with_null")]
    throttle_minutes: Option<Option<u32>>,
}

/// A field that may be absent (unchanged) or `null` (cleared).
mod serde_with_null {
    use serde::{Deserialize, Deserializer};

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<u32>>, D::Error> {
        Option::<u32>::deserialize(deserializer).map(Some)
    }
}

fn refused(error: AlertRuleError) -> ApiError {
    match error {
        AlertRuleError::Rule(e) => ApiError::bad_request(e.to_string()),
        AlertRuleError::Target(e) => ApiError::bad_request(format!("actions: {e}")),
        AlertRuleError::Store(e) => e.into(),
    }
}

pub(super) async fn list(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
) -> Result<Json<RulesJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    let rows = state.store.alert_rules(project_id).await?;
    Ok(Json(RulesJson {
        alert_rules: rows.iter().map(RuleJson::new).collect::<Result<_, _>>()?,
    }))
}

pub(super) async fn create(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
    AppJson(spec): AppJson<RuleSpec>,
) -> Result<Json<RuleJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    let rule = alerts::add(&state.store, &state.config, &account, project_id, &spec)
        .await
        .map_err(refused)?;
    Ok(Json(RuleJson::new(&rule)?))
}

/// The rule, once the caller may manage its project (someone outside the project
/// gets the same 404 as for no rule, as everywhere).
async fn rule_for(
    state: &AppState,
    account: &crate::store::entities::account::Model,
    rule_id: i64,
) -> Result<alert_rule::Model, ApiError> {
    let not_found = || ApiError::not_found(format!("alert rule {rule_id} not found"));
    let rule = state
        .store
        .alert_rule(rule_id)
        .await
        .map_err(|_| not_found())?;
    access::project_for(&state.store, account, rule.project_id, Need::Manage).await?;
    Ok(rule)
}

pub(super) async fn detail(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(rule_id): ApiPath<i64>,
) -> Result<Json<RuleJson>, ApiError> {
    let rule = rule_for(&state, &account, rule_id).await?;
    Ok(Json(RuleJson::new(&rule)?))
}

pub(super) async fn change(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(rule_id): ApiPath<i64>,
    AppJson(patch): AppJson<RulePatch>,
) -> Result<Json<RuleJson>, ApiError> {
    let rule = rule_for(&state, &account, rule_id).await?;
    let mut spec = RuleJson::new(&rule)?.spec;
    if let Some(name) = patch.name {
        spec.name = name;
    }
    if let Some(mode) = patch.match_mode {
        spec.match_mode = mode;
    }
    if let Some(conditions) = patch.conditions {
        spec.conditions = conditions;
    }
    if let Some(filters) = patch.filters {
        spec.filters = filters;
    }
    if let Some(actions) = patch.actions {
        spec.actions = actions;
    }
    if let Some(throttle) = patch.throttle_minutes {
        spec.throttle_minutes = throttle;
    }
    let changed = alerts::change(&state.store, &state.config, &account, &rule, &spec)
        .await
        .map_err(refused)?;
    Ok(Json(RuleJson::new(&changed)?))
}

pub(super) async fn remove(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(rule_id): ApiPath<i64>,
) -> Result<Json<RemovedJson>, ApiError> {
    let rule = rule_for(&state, &account, rule_id).await?;
    alerts::remove(&state.store, &account, &rule).await?;
    Ok(Json(RemovedJson { removed: rule_id }))
}
