//! The scheduler: every tick it marks runs that overstayed their maximum runtime as
//! timed out, cron monitors whose check-in is overdue as missed, and starts the uptime
//! checks and sitemap runs that are due. Each step is one transaction on one monitor
//! that first checks the monitor is still due, and rows another collector holds are
//! skipped (`FOR UPDATE SKIP LOCKED`), so with several collectors on one PostgreSQL each
//! happens once. [`tick`] takes the time as a parameter, so tests can move the clock.
//!
//! Fair by construction: cron deadlines are handled before any check and apart from
//! them; checks start only with a free slot (16 per collector, 4 per project, a monitor
//! never twice at once), and a tick never waits for one: what finds no slot stays due
//! for the next tick. The per-project share is per collector, so two collectors give a
//! project up to twice as many.

pub mod housekeeping;
pub mod sitemap;
pub mod uptime;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::monitors::runs::{self, CheckResult};
use crate::monitors::{MonitorError, MonitorSpec};
use crate::outbound::Outbound;
use crate::state::AppState;
use crate::store::now_ms;

/// Monitors looked at per tick, at most.
const BATCH: u64 = 100;
/// Checks and sitemap runs under way at once, per collector.
const CONCURRENT_CHECKS: usize = 16;
/// Checks and sitemap runs of one project under way at once, per collector: a project's
/// slow targets take at most this many of the [`CONCURRENT_CHECKS`] slots.
const CHECKS_PER_PROJECT: usize = 4;

/// What one tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Runs marked timed out.
    pub timed_out: usize,
    /// Check-ins marked missed.
    pub missed: usize,
    /// Checks and sitemap runs started.
    pub started: usize,
    /// Due checks left for a later tick: their project, or the collector, had every
    /// slot busy.
    pub deferred: usize,
}

/// The checks under way: per project, and which monitors (a monitor is never checked
/// twice at once, however short its interval and long its timeout).
#[derive(Debug, Default)]
struct Running {
    per_project: HashMap<i64, usize>,
    monitors: HashSet<i64>,
}

/// A check's hold on its slots, given back when the check ends (or its task panics).
struct Slot {
    running: Arc<Mutex<Running>>,
    project_id: i64,
    monitor_id: i64,
    _global: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        running.monitors.remove(&self.monitor_id);
        if let Some(count) = running.per_project.get_mut(&self.project_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                running.per_project.remove(&self.project_id);
            }
        }
    }
}

/// The scheduler of one collector.
#[derive(Debug, Clone)]
pub struct Scheduler {
    state: AppState,
    outbound: Outbound,
    slots: Arc<Semaphore>,
    running: Arc<Mutex<Running>>,
}

impl Scheduler {
    /// A scheduler over `state`, requesting through its outbound policy.
    pub fn new(state: AppState) -> Scheduler {
        let outbound = Outbound::new(state.config.target_policy(), Duration::from_secs(30));
        Scheduler {
            state,
            outbound,
            slots: Arc::new(Semaphore::new(CONCURRENT_CHECKS)),
            running: Arc::default(),
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

    /// Does what is due at `now`: first the cron monitors' timeouts and missed
    /// check-ins (never behind checks), then starts the due uptime checks and sitemap
    /// runs that have a free slot, in the background (each records its own result).
    /// It never waits for a slot: a check without one stays due for the next tick.
    pub async fn tick(&self, now: i64) -> Result<TickReport, MonitorError> {
        let store = &self.state.store;
        let mut report = TickReport::default();
        for run in store.overdue_runs(now, BATCH).await? {
            if runs::time_out(store, &run, now).await? {
                report.timed_out += 1;
            }
        }
        for (id, due) in store.due_crons(now, BATCH).await? {
            if runs::mark_missed(store, id, due, now).await? {
                report.missed += 1;
            }
        }
        if report.timed_out + report.missed > 0 {
            self.state.notify_wake.notify_one();
        }
        let per_project = CHECKS_PER_PROJECT as u64;
        for due in store.due_checks(now, per_project, BATCH).await? {
            let Some(slot) = self.take_slot(due.project_id, due.id) else {
                report.deferred += 1;
                continue;
            };
            // Claimed only with a slot in hand: the next due time moves when it runs.
            let Some((monitor, spec)) = runs::claim_check(store, due.id, due.due, now).await?
            else {
                continue;
            };
            report.started += 1;
            let scheduler = self.clone();
            tokio::spawn(async move {
                let result = scheduler.check(&monitor, &spec).await;
                scheduler.finish(monitor.id, result).await;
                drop(slot);
            });
        }
        Ok(report)
    }

    /// A slot for a check of `monitor_id` in `project_id`, if one is free: the
    /// collector's, the project's, and the monitor not being checked already.
    fn take_slot(&self, project_id: i64, monitor_id: i64) -> Option<Slot> {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let busy = running.per_project.get(&project_id).copied().unwrap_or(0);
        if busy >= CHECKS_PER_PROJECT || running.monitors.contains(&monitor_id) {
            return None;
        }
        let global = self.slots.clone().try_acquire_owned().ok()?;
        *running.per_project.entry(project_id).or_insert(0) += 1;
        running.monitors.insert(monitor_id);
        Some(Slot {
            running: self.running.clone(),
            project_id,
            monitor_id,
            _global: global,
        })
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
