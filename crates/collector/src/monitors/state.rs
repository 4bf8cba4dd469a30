//! How a monitor's status follows its check-ins and checks: failures in a row up to the
//! threshold make it fail, successes in a row up to the recovery threshold bring it
//! back, and the team is told once per change of status, never while it stays the same.

use crate::store::{MonitorStatus, NotificationKind};

/// The part of a monitor the rules look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// Its status.
    pub status: MonitorStatus,
    /// Failures in a row.
    pub failures: i64,
    /// Successes in a row.
    pub successes: i64,
}

/// What was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observation {
    /// A run started (counts for nothing yet).
    Started,
    /// A run or check succeeded.
    Success,
    /// A run or check failed, in this way (`Error`, `Missed`, `Timeout`, `Down`).
    Failure(MonitorStatus),
}

/// How many in a row change the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Failures in a row before failing.
    pub failures: u64,
    /// Successes in a row before recovering.
    pub recoveries: u64,
}

/// The standing after an observation, and the notification it calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The new standing.
    pub standing: Standing,
    /// Whether the status changed.
    pub changed: bool,
    /// What to tell the team.
    pub notify: Option<NotificationKind>,
}

/// Applies `observation` to `standing`.
pub fn observe(standing: Standing, observation: Observation, thresholds: Thresholds) -> Step {
    let at_least =
        |count: i64, threshold: u64| u64::try_from(count).unwrap_or(0) >= threshold.max(1);
    let (status, failures, successes, notify) = match observation {
        Observation::Started => (standing.status, standing.failures, standing.successes, None),
        Observation::Success => {
            let successes = standing.successes.saturating_add(1);
            if standing.status.is_failing() {
                if at_least(successes, thresholds.recoveries) {
                    (
                        MonitorStatus::Ok,
                        0,
                        successes,
                        Some(NotificationKind::MonitorRecovered),
                    )
                } else {
                    (standing.status, 0, successes, None)
                }
            } else {
                (MonitorStatus::Ok, 0, successes, None)
            }
        }
        Observation::Failure(kind) => {
            let failures = standing.failures.saturating_add(1);
            if at_least(failures, thresholds.failures) && standing.status != kind {
                (kind, failures, 0, notification_for(kind))
            } else {
                (standing.status, failures, 0, None)
            }
        }
    };
    Step {
        standing: Standing {
            status,
            failures,
            successes,
        },
        changed: status != standing.status,
        notify,
    }
}

/// The notification for entering a failing status.
fn notification_for(status: MonitorStatus) -> Option<NotificationKind> {
    match status {
        MonitorStatus::Error => Some(NotificationKind::MonitorFailed),
        MonitorStatus::Missed => Some(NotificationKind::MonitorMissed),
        MonitorStatus::Timeout => Some(NotificationKind::MonitorTimeout),
        MonitorStatus::Down => Some(NotificationKind::MonitorDown),
        MonitorStatus::Ok | MonitorStatus::Pending => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MonitorStatus::*;

    const ONCE: Thresholds = Thresholds {
        failures: 1,
        recoveries: 1,
    };
    const TWICE: Thresholds = Thresholds {
        failures: 2,
        recoveries: 1,
    };

    fn run(
        thresholds: Thresholds,
        observations: &[Observation],
    ) -> Vec<(MonitorStatus, Option<NotificationKind>)> {
        let mut standing = Standing {
            status: Pending,
            failures: 0,
            successes: 0,
        };
        observations
            .iter()
            .map(|o| {
                let step = observe(standing, *o, thresholds);
                standing = step.standing;
                (step.standing.status, step.notify)
            })
            .collect()
    }

    #[test]
    fn tells_once_per_change() {
        use Observation::*;
        let steps = run(
            ONCE,
            &[
                Started,
                Success,
                Failure(Error),
                Failure(Error),
                Failure(Missed),
                Success,
                Success,
            ],
        );
        assert_eq!(
            steps,
            vec![
                (Pending, None),
                (Ok, None),
                (Error, Some(NotificationKind::MonitorFailed)),
                (Error, None),
                (Missed, Some(NotificationKind::MonitorMissed)),
                (Ok, Some(NotificationKind::MonitorRecovered)),
                (Ok, None),
            ]
        );
    }

    #[test]
    fn waits_for_the_threshold() {
        use Observation::*;
        let steps = run(
            TWICE,
            &[
                Success,
                Failure(Down),
                Success,
                Failure(Down),
                Failure(Down),
                Failure(Down),
                Success,
            ],
        );
        assert_eq!(
            steps,
            vec![
                (Ok, None),
                (Ok, None),
                (Ok, None),
                (Ok, None),
                (Down, Some(NotificationKind::MonitorDown)),
                (Down, None),
                (Ok, Some(NotificationKind::MonitorRecovered)),
            ]
        );
    }

    #[test]
    fn recovery_threshold() {
        use Observation::*;
        let thresholds = Thresholds {
            failures: 1,
            recoveries: 2,
        };
        let steps = run(thresholds, &[Failure(Timeout), Success, Success]);
        assert_eq!(
            steps,
            vec![
                (Timeout, Some(NotificationKind::MonitorTimeout)),
                (Timeout, None),
                (Ok, Some(NotificationKind::MonitorRecovered)),
            ]
        );
    }
}
