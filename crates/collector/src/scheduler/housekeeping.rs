//! Housekeeping: the loops that keep the data tidy and bring things back on time, one
//! tokio task each, started by `serve`:
//!
//! - [`spawn_retention`] (every 10 minutes): deletes events past their project's age or
//!   count limits (issue counts are kept), old monitor results, expired sessions;
//! - [`spawn_snooze_wake`] (every minute): ignored issues whose snooze date passed come
//!   back, and alert rules with `reappeared` alert (snoozes counted in events or users
//!   end at ingest);
//! - [`spawn_fix_watch`] (every 30 s): the "it's fixed" follow-ups whose fix went live
//!   are queued.
//!
//! With several collectors each runs its own loops: every step is idempotent in SQL.

use std::time::Duration;

use crate::outreach;
use crate::state::AppState;
use crate::store;

/// Brings back the ignored issues whose snooze date is `now` or before, and alerts as
/// the rules with `reappeared` say; returns how many came back. One step of
/// [`spawn_snooze_wake`]'s loop (tests move the clock with `now`).
pub async fn wake_snoozed(state: &AppState, now: i64) -> Result<usize, store::StoreError> {
    let woken = state.store.wake_snoozed(now).await?;
    if !woken.is_empty() {
        crate::alerts::issues_reappeared(&state.store, &woken).await?;
        state.notify_wake.notify_one();
    }
    Ok(woken.len())
}

/// Brings back ignored issues whose snooze date has passed, every `every` (issues
/// snoozed by events or users come back at ingest).
pub fn spawn_snooze_wake(state: AppState, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match wake_snoozed(&state, store::now_ms()).await {
                Ok(0) => {}
                Ok(woken) => tracing::info!(woken, "snoozed issues are back"),
                Err(error) => tracing::warn!(%error, "waking snoozed issues failed"),
            }
        }
    });
}

/// Sends the "it's fixed" follow-ups whose fix went live (a newer release reported from
/// the issue's environment), looking every `every`.
pub fn spawn_fix_watch(state: AppState, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match outreach::check_fixes(&state.store, store::now_ms()).await {
                Ok(0) => {}
                Ok(sent) => {
                    tracing::info!(sent, "fixes are live: follow-ups queued");
                    state.notify_wake.notify_one();
                }
                Err(error) => tracing::warn!(%error, "checking for live fixes failed"),
            }
        }
    });
}

/// Deletes old events (keeping counts) and old monitor results now and then.
pub fn spawn_retention(state: AppState, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let max_age = i64::try_from(state.config.retention_days)
                .unwrap_or(i64::MAX / 86_400_000)
                .saturating_mul(86_400_000);
            match state.store.purge_expired_sessions().await {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, "expired sessions removed"),
                Err(error) => tracing::warn!(%error, "removing expired sessions failed"),
            }
            // Check-ins and checks are kept as long as events.
            match state
                .store
                .prune_monitor_results(store::now_ms().saturating_sub(max_age))
                .await
            {
                Ok(0) => {}
                Ok(pruned) => tracing::info!(pruned, "retention removed old monitor results"),
                Err(error) => tracing::warn!(%error, "removing old monitor results failed"),
            }
            // Request counts: minutes older than a day become hours; kept as events are.
            let now = store::now_ms();
            match state.store.roll_up_health(now - 86_400_000).await {
                Ok(0) => {}
                Ok(folded) => tracing::info!(folded, "request counts rolled up to hours"),
                Err(error) => tracing::warn!(%error, "rolling up request counts failed"),
            }
            match state
                .store
                .apply_retention(state.config.retention_events_per_issue, max_age)
                .await
            {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, "retention removed old events"),
                Err(error) => {
                    state.metrics.database_errors.inc();
                    tracing::warn!(%error, "retention failed");
                }
            }
        }
    });
}
