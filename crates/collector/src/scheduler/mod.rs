//! The scheduler: every tick it marks runs that overstayed their maximum runtime as
//! timed out, cron monitors whose check-in is overdue as missed, and starts the uptime
//! checks and sitemap runs that are due. Each step is one transaction on one monitor
//! that first checks the monitor is still due, and rows another collector holds are
//! skipped (`FOR UPDATE SKIP LOCKED`), so with several collectors on one PostgreSQL each
//! happens once. [`tick`] takes the time as a parameter, so tests can move the clock.

pub mod housekeeping;
pub mod sitemap;
pub mod uptime;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::monitors::runs::{self, CheckResult};
use crate::monitors::{MonitorError, MonitorSpec};
use crate::outbound::Outbound;
use crate::state::AppState;
use crate::store::{MonitorKind, now_ms};

/// Monitors looked at per tick, at most.
const BATCH: u64 = 100;
/// Checks and sitemap runs under way at once, per collector.
const CONCURRENT_CHECKS: usize = 16;

/// What one tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Runs marked timed out.
    pub timed_out: usize,
    /// Check-ins marked missed.
    pub missed: usize,
    /// Checks and sitemap runs started.
    pub started: usize,
}

/// The scheduler of one collector.
#[derive(Debug, Clone)]
pub struct Scheduler {
    state: AppState,
    outbound: Outbound,
    slots: Arc<Semaphore>,
}

impl Scheduler {
    /// A scheduler over `state`, requesting through its outbound policy.
    pub fn new(state: AppState) -> Scheduler {
        let outbound = Outbound::new(state.config.target_policy(), Duration::from_secs(30));
        Scheduler {
            state,
            outbound,
            slots: Arc::new(Semaphore::new(CONCURRENT_CHECKS)),
        }
    }

    /// Runs forever, one tick every `every`.
    pub async fn run(self, every: Duration) {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if let Err(error) = self.tick(now_ms()).await {
                tracing::warn!(%error, "monitor scheduler: storage error");
            }
        }
    }

    /// Does what is due at `now`; checks and sitemap runs go on in the background
    /// (each records its own result).
    pub async fn tick(&self, now: i64) -> Result<TickReport, MonitorError> {
        let store = &self.state.store;
        let mut report = TickReport::default();
        for run in store.overdue_runs(now, BATCH).await? {
            if runs::time_out(store, &run, now).await? {
                report.timed_out += 1;
            }
        }
        for (id, kind, due) in store.due_monitors(now, BATCH).await? {
            match kind {
                MonitorKind::Cron => {
                    if runs::mark_missed(store, id, due, now).await? {
                        report.missed += 1;
                    }
                }
                MonitorKind::Http | MonitorKind::Sitemap => {
                    if let Some((monitor, spec)) = runs::claim_check(store, id, due, now).await? {
                        report.started += 1;
                        let Ok(slot) = self.slots.clone().acquire_owned().await else {
                            break;
                        };
                        let scheduler = self.clone();
                        tokio::spawn(async move {
                            let result = scheduler.check(&monitor, &spec).await;
                            scheduler.finish(monitor.id, result).await;
                            drop(slot);
                        });
                    }
                }
            }
        }
        if report.timed_out + report.missed > 0 {
            self.state.notify_wake.notify_one();
        }
        Ok(report)
    }

    async fn check(
        &self,
        monitor: &crate::store::entities::monitor::Model,
        spec: &MonitorSpec,
    ) -> CheckResult {
        match spec {
            MonitorSpec::Http(http) => uptime::check(&self.outbound, http).await,
            MonitorSpec::Sitemap(map) => {
                sitemap::run(&self.state, &self.outbound, monitor, map).await
            }
            MonitorSpec::Cron(_) => CheckResult::default(),
        }
    }

    async fn finish(&self, monitor_id: i64, result: CheckResult) {
        match runs::record_check(&self.state.store, monitor_id, result, now_ms()).await {
            Ok(()) => self.state.notify_wake.notify_one(),
            Err(error) => tracing::warn!(%error, monitor_id, "recording a check failed"),
        }
    }
}

/// Starts the scheduler of `state`, one tick every `every`.
pub fn spawn(state: AppState, every: Duration) {
    tokio::spawn(Scheduler::new(state).run(every));
}
