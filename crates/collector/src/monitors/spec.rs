//! What a monitor is set to do, per kind, stored as JSON in `monitor.config`, with the
//! defaults Sentry and uptime checkers use and the checks every edge (check-ins, CLI, API,
//! UI) goes through.

use chrono::{DateTime, TimeZone, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use mayday_protocol::{MonitorConfig, Schedule};
use serde::{Deserialize, Serialize};

use super::error::MonitorError;

/// Minutes a check-in may be late before it is missed, when the config does not say.
pub const DEFAULT_MARGIN_MINUTES: u64 = 1;
/// Minutes a run may stay in progress before it times out, when the config does not say.
pub const DEFAULT_MAX_RUNTIME_MINUTES: u64 = 30;
/// Shortest check interval accepted, in seconds.
pub const MIN_INTERVAL_SECONDS: u64 = 1;
/// Most URLs a sitemap run may request.
pub const MAX_SITEMAP_URLS: u64 = 10_000;
/// Most requests a sitemap run may have under way at once.
pub const MAX_CONCURRENCY: u64 = 32;

/// A monitor's settings, by kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum MonitorSpec {
    /// A job that checks in.
    Cron(CronSpec),
    /// A URL checked on a schedule.
    Http(HttpSpec),
    /// A sitemap whose pages are requested on a schedule.
    Sitemap(SitemapSpec),
}

impl MonitorSpec {
    /// Reads a stored config; a row written by an older collector with fields missing
    /// gets the defaults.
    pub fn from_stored(json: &str) -> Result<MonitorSpec, MonitorError> {
        serde_json::from_str(json).map_err(|e| MonitorError::Invalid(format!("stored config: {e}")))
    }

    /// The JSON stored in `monitor.config`.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    /// The URL an uptime or sitemap monitor requests.
    pub fn url(&self) -> Option<&str> {
        match self {
            MonitorSpec::Cron(_) => None,
            MonitorSpec::Http(http) => Some(&http.url),
            MonitorSpec::Sitemap(sitemap) => Some(&sitemap.url),
        }
    }
}

/// A cron monitor: Sentry's `monitor_config`, with defaults filled in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CronSpec {
    /// When the job runs; without one, no check-in is ever missed.
    #[serde(default)]
    pub schedule: Option<Schedule>,
    /// Minutes late before missed.
    #[serde(default = "default_margin")]
    pub checkin_margin: u64,
    /// Minutes in progress before timed out.
    #[serde(default = "default_max_runtime")]
    pub max_runtime: u64,
    /// The crontab's time zone (tz database name); UTC when absent.
    #[serde(default)]
    pub timezone: Option<String>,
    /// Failures in a row before the team is told.
    #[serde(default = "one")]
    pub failure_issue_threshold: u64,
    /// Successes in a row before a failing monitor is recovered.
    #[serde(default = "one")]
    pub recovery_threshold: u64,
}

fn default_margin() -> u64 {
    DEFAULT_MARGIN_MINUTES
}
fn default_max_runtime() -> u64 {
    DEFAULT_MAX_RUNTIME_MINUTES
}
fn one() -> u64 {
    1
}

impl Default for CronSpec {
    fn default() -> Self {
        CronSpec {
            schedule: None,
            checkin_margin: DEFAULT_MARGIN_MINUTES,
            max_runtime: DEFAULT_MAX_RUNTIME_MINUTES,
            timezone: None,
            failure_issue_threshold: 1,
            recovery_threshold: 1,
        }
    }
}

impl CronSpec {
    /// The spec a check-in's `monitor_config` describes, checked.
    pub fn from_config(config: &MonitorConfig) -> Result<CronSpec, MonitorError> {
        let spec = CronSpec {
            schedule: Some(config.schedule.clone()),
            checkin_margin: config.checkin_margin.unwrap_or(DEFAULT_MARGIN_MINUTES),
            max_runtime: config.max_runtime.unwrap_or(DEFAULT_MAX_RUNTIME_MINUTES),
            timezone: config.timezone.clone().filter(|tz| !tz.is_empty()),
            failure_issue_threshold: config.failure_issue_threshold.unwrap_or(1).max(1),
            recovery_threshold: config.recovery_threshold.unwrap_or(1).max(1),
        };
        spec.check()?;
        Ok(spec)
    }

    /// Checks the schedule and time zone.
    pub fn check(&self) -> Result<(), MonitorError> {
        self.zone()?;
        match &self.schedule {
            Some(Schedule::Crontab { value }) => {
                parse_crontab(value)?;
            }
            Some(Schedule::Interval { value: 0, .. }) => {
                return Err(MonitorError::Invalid(
                    "schedule: an interval must be at least 1".into(),
                ));
            }
            _ => {}
        }
        if self.max_runtime == 0 {
            return Err(MonitorError::Invalid(
                "max_runtime must be at least 1 minute".into(),
            ));
        }
        for (name, minutes) in [
            ("checkin_margin", self.checkin_margin),
            ("max_runtime", self.max_runtime),
        ] {
            if minutes > MAX_MINUTES {
                return Err(MonitorError::Invalid(format!(
                    "{name} is at most {MAX_MINUTES} minutes (28 days), not {minutes}"
                )));
            }
        }
        if let Some(Schedule::Interval { value, .. }) = &self.schedule
            && *value > MAX_INTERVAL
        {
            return Err(MonitorError::Invalid(format!(
                "schedule: an interval is at most {MAX_INTERVAL} units, not {value}"
            )));
        }
        Ok(())
    }

    fn zone(&self) -> Result<chrono_tz::Tz, MonitorError> {
        match &self.timezone {
            None => Ok(chrono_tz::UTC),
            Some(name) => name
                .parse()
                .map_err(|_| MonitorError::Invalid(format!("unknown timezone {name:?}"))),
        }
    }

    /// When the next run is expected, strictly after `after_ms`; `None` without a
    /// schedule.
    pub fn next_expected(&self, after_ms: i64) -> Option<i64> {
        match self.schedule.as_ref()? {
            Schedule::Interval { value, unit } => {
                let step = i64::from(*value).saturating_mul(i64::try_from(unit.seconds()).ok()?);
                Some(after_ms.saturating_add(step.saturating_mul(1000)))
            }
            Schedule::Crontab { value } => {
                let cron = parse_crontab(value).ok()?;
                let zone = self.zone().ok()?;
                let after = zone.timestamp_millis_opt(after_ms).single()?;
                let next = cron.find_next_occurrence(&after, false).ok()?;
                Some(next.timestamp_millis())
            }
        }
    }

    /// When a run expected at `expected_ms` counts as missed.
    pub fn deadline(&self, expected_ms: i64) -> i64 {
        expected_ms.saturating_add(minutes_ms(self.checkin_margin))
    }

    /// The next deadline after a check-in (or a missed run) at `at_ms`.
    pub fn next_deadline(&self, at_ms: i64) -> Option<i64> {
        self.next_expected(at_ms)
            .map(|expected| self.deadline(expected))
    }

    /// How long a run may stay in progress.
    pub fn max_runtime_ms(&self) -> i64 {
        minutes_ms(self.max_runtime)
    }

    /// `02:00`: the expected time in the monitor's time zone, for notifications.
    pub fn local_time(&self, at_ms: i64) -> String {
        let zone = self.zone().unwrap_or(chrono_tz::UTC);
        match DateTime::<Utc>::from_timestamp_millis(at_ms) {
            Some(at) => at.with_timezone(&zone).format("%H:%M").to_string(),
            None => "?".into(),
        }
    }

    /// The schedule in words: `0 2 * * * (Europe/Paris)`, `every 5 minutes`.
    pub fn describe(&self) -> String {
        let zone = self
            .timezone
            .as_deref()
            .map(|tz| format!(" ({tz})"))
            .unwrap_or_default();
        match &self.schedule {
            None => "no schedule".into(),
            Some(Schedule::Crontab { value }) => format!("{value}{zone}"),
            Some(Schedule::Interval { value, unit }) => {
                let unit = serde_json::to_value(unit)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                if *value == 1 {
                    format!("every {unit}")
                } else {
                    format!("every {value} {unit}s")
                }
            }
        }
    }
}

/// The longest margin and runtime a cron monitor takes, as Sentry does: 28 days.
pub const MAX_MINUTES: u64 = 40_320;

/// The most units an interval schedule takes (a thousand weeks is twenty years).
pub const MAX_INTERVAL: u32 = 1_000;

fn minutes_ms(minutes: u64) -> i64 {
    i64::try_from(minutes)
        .unwrap_or(i64::MAX / 60_000)
        .saturating_mul(60_000)
}

/// A five-field crontab expression (nicknames such as `@daily` too).
pub fn parse_crontab(value: &str) -> Result<Cron, MonitorError> {
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .build()
        .parse(value)
        .map_err(|e| MonitorError::Invalid(format!("crontab {value:?}: {e}")))
}

/// An uptime monitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpSpec {
    /// What to request (GET).
    pub url: String,
    /// Seconds between checks.
    pub interval_seconds: u64,
    /// Seconds before a check gives up.
    pub timeout_seconds: u64,
    /// Failed checks in a row before the site is down.
    pub failures: u64,
    /// Statuses that count as up.
    pub expect_status: StatusRange,
    /// Text the page must contain.
    #[serde(default)]
    pub keyword: Option<String>,
}

impl HttpSpec {
    /// Checks the numbers (the URL is checked against the outbound policy by the caller).
    pub fn check(&self) -> Result<(), MonitorError> {
        check_http_url(&self.url)?;
        if self.interval_seconds < MIN_INTERVAL_SECONDS {
            return Err(MonitorError::Invalid(format!(
                "interval must be at least {MIN_INTERVAL_SECONDS} second"
            )));
        }
        if !(1..=120).contains(&self.timeout_seconds) {
            return Err(MonitorError::Invalid(
                "timeout must be 1 to 120 seconds".into(),
            ));
        }
        if !(1..=100).contains(&self.failures) {
            return Err(MonitorError::Invalid("failures must be 1 to 100".into()));
        }
        if self.keyword.as_ref().is_some_and(|k| k.len() > 200) {
            return Err(MonitorError::Invalid(
                "keyword must be at most 200 bytes".into(),
            ));
        }
        Ok(())
    }
}

/// A sitemap smoke test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SitemapSpec {
    /// The sitemap (or sitemap index).
    pub url: String,
    /// Minutes between runs.
    pub interval_minutes: u64,
    /// Most URLs requested per run.
    pub max_urls: u64,
    /// Requests under way at once.
    pub concurrency: u64,
}

impl SitemapSpec {
    /// Checks the numbers.
    pub fn check(&self) -> Result<(), MonitorError> {
        check_http_url(&self.url)?;
        if self.interval_minutes == 0 {
            return Err(MonitorError::Invalid(
                "interval must be at least 1 minute".into(),
            ));
        }
        if !(1..=MAX_SITEMAP_URLS).contains(&self.max_urls) {
            return Err(MonitorError::Invalid(format!(
                "max-urls must be 1 to {MAX_SITEMAP_URLS}"
            )));
        }
        if !(1..=MAX_CONCURRENCY).contains(&self.concurrency) {
            return Err(MonitorError::Invalid(format!(
                "concurrency must be 1 to {MAX_CONCURRENCY}"
            )));
        }
        Ok(())
    }
}

fn check_http_url(url: &str) -> Result<(), MonitorError> {
    match url::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => Ok(()),
        _ => Err(MonitorError::Invalid(format!(
            "{url:?} is not an http:// or https:// URL"
        ))),
    }
}

/// HTTP statuses that count as success, such as `200-399` or `204`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRange {
    /// Lowest accepted.
    pub min: u16,
    /// Highest accepted.
    pub max: u16,
}

impl Default for StatusRange {
    fn default() -> Self {
        StatusRange { min: 200, max: 399 }
    }
}

impl StatusRange {
    /// Whether `status` is accepted.
    pub fn accepts(self, status: u16) -> bool {
        (self.min..=self.max).contains(&status)
    }
}

impl std::str::FromStr for StatusRange {
    type Err = MonitorError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || MonitorError::Invalid(format!("expect-status {text:?}: write 200-399 or 204"));
        let (min, max) = match text.trim().split_once('-') {
            Some((min, max)) => (min.trim(), max.trim()),
            None => (text.trim(), text.trim()),
        };
        let min: u16 = min.parse().map_err(|_| bad())?;
        let max: u16 = max.parse().map_err(|_| bad())?;
        if !(100..=599).contains(&min) || !(100..=599).contains(&max) || min > max {
            return Err(bad());
        }
        Ok(StatusRange { min, max })
    }
}

impl std::fmt::Display for StatusRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.min == self.max {
            write!(f, "{}", self.min)
        } else {
            write!(f, "{}-{}", self.min, self.max)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mayday_protocol::IntervalUnit;

    fn ms(text: &str) -> i64 {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn crontab_in_a_time_zone() {
        let spec = CronSpec {
            schedule: Some(Schedule::Crontab {
                value: "0 2 * * *".into(),
            }),
            timezone: Some("Europe/Paris".into()),
            checkin_margin: 5,
            ..CronSpec::default()
        };
        // 02:00 in Paris (winter) is 01:00 UTC.
        let next = spec.next_expected(ms("2026-11-26T12:00:00Z")).unwrap();
        assert_eq!(next, ms("2026-11-27T01:00:00Z"));
        assert_eq!(spec.deadline(next), ms("2026-11-27T01:05:00Z"));
        assert_eq!(spec.local_time(next), "02:00");
        assert_eq!(spec.describe(), "0 2 * * * (Europe/Paris)");
    }

    #[test]
    fn intervals() {
        let spec = CronSpec {
            schedule: Some(Schedule::Interval {
                value: 10,
                unit: IntervalUnit::Minute,
            }),
            ..CronSpec::default()
        };
        assert_eq!(spec.next_expected(1_000), Some(601_000));
        assert_eq!(spec.next_deadline(1_000), Some(661_000));
        assert_eq!(spec.describe(), "every 10 minutes");
        assert_eq!(CronSpec::default().next_expected(1_000), None);
    }

    #[test]
    fn refuses_bad_settings() {
        let bad = |schedule: Schedule, tz: Option<&str>| CronSpec {
            schedule: Some(schedule),
            timezone: tz.map(str::to_owned),
            ..CronSpec::default()
        };
        assert!(
            bad(
                Schedule::Crontab {
                    value: "61 * * * *".into()
                },
                None
            )
            .check()
            .is_err()
        );
        assert!(
            bad(
                Schedule::Crontab {
                    value: "0 2 * * *".into()
                },
                Some("Mars/Olympus")
            )
            .check()
            .is_err()
        );
        assert!(
            bad(
                Schedule::Interval {
                    value: 0,
                    unit: IntervalUnit::Hour
                },
                None
            )
            .check()
            .is_err()
        );
    }

    #[test]
    fn status_ranges() {
        let range: StatusRange = "200-399".parse().unwrap();
        assert!(range.accepts(301) && !range.accepts(500));
        assert_eq!("204".parse::<StatusRange>().unwrap().to_string(), "204");
        for bad in ["", "abc", "399-200", "600", "200-"] {
            assert!(bad.parse::<StatusRange>().is_err(), "{bad}");
        }
    }
}
