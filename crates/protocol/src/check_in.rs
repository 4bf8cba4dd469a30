//! Cron check-ins: the `check_in` envelope item official SDKs send
//! (`sentry_sdk.crons.capture_checkin`, the `@monitor` decorator, `Sentry.captureCheckIn`),
//! with the monitor configuration that creates or updates the monitor on the way.
//!
//! ```
//! use mayday_protocol::{CheckIn, CheckInStatus, Schedule};
//!
//! let check_in = CheckIn::from_json(br#"{
//!     "check_in_id": "83a7c03ed0a04e1b97e2e3b18d38f244",
//!     "monitor_slug": "nightly-backup",
//!     "status": "ok",
//!     "duration": 12.5,
//!     "monitor_config": {"schedule": {"type": "crontab", "value": "0 2 * * *"},
//!                        "checkin_margin": 5, "max_runtime": 30}
//! }"#)?;
//! assert_eq!(check_in.status, CheckInStatus::Ok);
//! let config = check_in.monitor_config.unwrap();
//! assert_eq!(config.schedule, Schedule::Crontab { value: "0 2 * * *".into() });
//! # Ok::<(), mayday_protocol::CheckInError>(())
//! ```

use serde::{Deserialize, Serialize};

/// Longest monitor slug accepted.
pub const MAX_SLUG_CHARS: usize = 64;

/// Why a check-in is refused.
#[derive(Debug, thiserror::Error)]
pub enum CheckInError {
    /// Not the check-in JSON.
    #[error("check-in is invalid: {0}")]
    Json(#[from] serde_json::Error),
    /// The slug is empty, too long or has characters other than letters, digits, `-`, `_`.
    #[error("monitor_slug {0:?} must be 1 to 64 letters, digits, '-' or '_' (after lower-casing)")]
    Slug(String),
}

/// How a run went, as the job says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckInStatus {
    /// The job started; an `ok` or `error` with the same `check_in_id` follows.
    InProgress,
    /// The job finished.
    Ok,
    /// The job failed.
    Error,
}

/// When a job is expected to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Schedule {
    /// A five-field crontab expression, such as `0 2 * * *`.
    Crontab {
        /// The expression.
        value: String,
    },
    /// Every `value` `unit`s.
    Interval {
        /// How many units.
        value: u32,
        /// Which unit.
        unit: IntervalUnit,
    },
}

/// The unit of an interval schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntervalUnit {
    /// Minutes.
    Minute,
    /// Hours.
    Hour,
    /// Days.
    Day,
    /// Weeks.
    Week,
    /// Months (30 days).
    Month,
    /// Years (365 days).
    Year,
}

impl IntervalUnit {
    /// The unit in seconds (a month counts 30 days, a year 365).
    pub fn seconds(self) -> u64 {
        match self {
            IntervalUnit::Minute => 60,
            IntervalUnit::Hour => 3_600,
            IntervalUnit::Day => 86_400,
            IntervalUnit::Week => 604_800,
            IntervalUnit::Month => 2_592_000,
            IntervalUnit::Year => 31_536_000,
        }
    }
}

/// The monitor a check-in creates or updates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorConfig {
    /// When the job runs.
    pub schedule: Schedule,
    /// Minutes after the expected time before a check-in counts as missed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkin_margin: Option<u64>,
    /// Minutes an `in_progress` run may take before it counts as timed out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_runtime: Option<u64>,
    /// The crontab's time zone (tz database name), UTC when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Consecutive failures before the team is told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_issue_threshold: Option<u64>,
    /// Consecutive successes before a failing monitor counts as recovered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_threshold: Option<u64>,
}

impl MonitorConfig {
    /// A configuration with `schedule` and the collector's defaults for the rest.
    pub fn new(schedule: Schedule) -> Self {
        MonitorConfig {
            schedule,
            checkin_margin: None,
            max_runtime: None,
            timezone: None,
            failure_issue_threshold: None,
            recovery_threshold: None,
        }
    }

    /// Minutes after the expected time before a check-in counts as missed.
    pub fn checkin_margin(mut self, minutes: u64) -> Self {
        self.checkin_margin = Some(minutes);
        self
    }

    /// Minutes a run may take before it counts as timed out.
    pub fn max_runtime(mut self, minutes: u64) -> Self {
        self.max_runtime = Some(minutes);
        self
    }

    /// The crontab's time zone, such as `Europe/Berlin` (UTC when not set).
    pub fn timezone(mut self, zone: impl Into<String>) -> Self {
        self.timezone = Some(zone.into());
        self
    }
}

/// One check-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckIn {
    /// Ties an `in_progress` to its `ok` or `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_in_id: Option<String>,
    /// The monitor, unique within a project.
    pub monitor_slug: String,
    /// How the run went.
    pub status: CheckInStatus,
    /// How long the run took, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// The environment the job ran in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The job's release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// Creates or updates the monitor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor_config: Option<MonitorConfig>,
}

impl CheckIn {
    /// Parses a `check_in` item's payload; the slug is lower-cased and checked.
    pub fn from_json(payload: &[u8]) -> Result<CheckIn, CheckInError> {
        let mut check_in: CheckIn = serde_json::from_slice(payload)?;
        check_in.monitor_slug = normalize_slug(&check_in.monitor_slug)?;
        Ok(check_in)
    }
}

/// A monitor slug as stored: lower-cased, 1 to [`MAX_SLUG_CHARS`] letters, digits, `-`
/// or `_`.
pub fn normalize_slug(slug: &str) -> Result<String, CheckInError> {
    let lower = slug.trim().to_ascii_lowercase();
    let fits = !lower.is_empty()
        && lower.chars().count() <= MAX_SLUG_CHARS
        && lower
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if fits {
        Ok(lower)
    } else {
        Err(CheckInError::Slug(slug.chars().take(80).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_sdks_send() {
        let python = br#"{"check_in_id":"a1b2","monitor_slug":"Nightly-Backup","status":"in_progress",
            "environment":"production","monitor_config":{"schedule":{"type":"interval","value":1,"unit":"minute"},
            "checkin_margin":1,"max_runtime":2,"timezone":"Europe/Paris","failure_issue_threshold":2,
            "recovery_threshold":1},"contexts":{"trace":{"trace_id":"x"}}}"#;
        let check_in = CheckIn::from_json(python).unwrap();
        assert_eq!(check_in.monitor_slug, "nightly-backup");
        assert_eq!(check_in.status, CheckInStatus::InProgress);
        let config = check_in.monitor_config.unwrap();
        assert_eq!(
            config.schedule,
            Schedule::Interval {
                value: 1,
                unit: IntervalUnit::Minute
            }
        );
        assert_eq!(config.failure_issue_threshold, Some(2));
        assert_eq!(config.timezone.as_deref(), Some("Europe/Paris"));
    }

    #[test]
    fn refuses_what_it_cannot_use() {
        for bad in [
            &br#"{"monitor_slug":"x","status":"maybe"}"#[..],
            br#"{"monitor_slug":"","status":"ok"}"#,
            br#"{"monitor_slug":"a b","status":"ok"}"#,
            br#"{"status":"ok"}"#,
            br#"{"monitor_slug":"x","status":"ok","monitor_config":{"schedule":{"type":"sometimes"}}}"#,
        ] {
            assert!(
                CheckIn::from_json(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
