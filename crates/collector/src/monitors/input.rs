//! A monitor's settings as the API (JSON) and the UI (forms) send them: every field
//! optional, the kind's defaults (or, when editing, the current values) for the rest.

use mayday_protocol::Schedule;
use serde::Deserialize;

use super::{CronSpec, HttpSpec, MonitorError, MonitorSettings, MonitorSpec, SitemapSpec};
use crate::store::MonitorKind;

/// A schedule as given: Sentry's object, or a crontab expression as text.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ScheduleInput {
    /// `{"type": "crontab", "value": "0 2 * * *"}` or `{"type": "interval", ...}`.
    Sentry(Schedule),
    /// `0 2 * * *`.
    Crontab(String),
}

/// Settings to create a monitor with, or to change.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MonitorInput {
    /// `cron`, `http` or `sitemap` (creating; editing keeps the kind).
    pub kind: Option<MonitorKind>,
    /// Its name.
    pub name: Option<String>,
    /// Uptime and sitemap monitors: the URL.
    pub url: Option<String>,
    /// Uptime: seconds between checks (60).
    pub interval_seconds: Option<u64>,
    /// Uptime: seconds before a check gives up (10).
    pub timeout_seconds: Option<u64>,
    /// Uptime: failed checks in a row before down (2).
    pub failures: Option<u64>,
    /// Uptime: statuses that count as up (`200-399`).
    pub expect_status: Option<String>,
    /// Uptime: text the page must contain (empty: none).
    pub keyword: Option<String>,
    /// Sitemap: minutes between runs (60).
    pub interval_minutes: Option<u64>,
    /// Sitemap: most pages per run (500).
    pub max_urls: Option<u64>,
    /// Sitemap: requests at once (4).
    pub concurrency: Option<u64>,
    /// Cron: the schedule.
    pub schedule: Option<ScheduleInput>,
    /// Cron: minutes late before missed (1).
    pub checkin_margin: Option<u64>,
    /// Cron: minutes in progress before timed out (30).
    pub max_runtime: Option<u64>,
    /// Cron: the crontab's time zone (UTC; empty: UTC).
    pub timezone: Option<String>,
    /// Cron: failures in a row before the team is told (1).
    pub failure_issue_threshold: Option<u64>,
    /// Cron: successes in a row before recovered (1).
    pub recovery_threshold: Option<u64>,
}

fn text(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

impl MonitorInput {
    /// The settings these fields describe, over `current` (a monitor being edited:
    /// its name and settings stand where a field is absent).
    pub fn settings(
        self,
        current: Option<(&str, &MonitorSpec)>,
    ) -> Result<MonitorSettings, MonitorError> {
        let kind = match (current, self.kind) {
            (Some((_, spec)), Some(kind)) if super::kind_of(spec) != kind => {
                return Err(MonitorError::Invalid(
                    "a monitor's kind cannot change; create another one".into(),
                ));
            }
            (Some((_, spec)), _) => super::kind_of(spec),
            (None, Some(kind)) => kind,
            (None, None) => {
                return Err(MonitorError::Invalid(
                    "kind is required: cron, http or sitemap".into(),
                ));
            }
        };
        let name = text(self.name)
            .or_else(|| current.map(|(name, _)| name.to_owned()))
            .ok_or_else(|| MonitorError::Invalid("name is required".into()))?;
        let spec = match kind {
            MonitorKind::Http => {
                let was = match current {
                    Some((_, MonitorSpec::Http(http))) => Some(http),
                    _ => None,
                };
                let expect_status = match text(self.expect_status) {
                    Some(range) => range.parse()?,
                    None => was.map(|w| w.expect_status).unwrap_or_default(),
                };
                MonitorSpec::Http(HttpSpec {
                    url: text(self.url)
                        .or_else(|| was.map(|w| w.url.clone()))
                        .ok_or_else(|| MonitorError::Invalid("url is required".into()))?,
                    interval_seconds: self
                        .interval_seconds
                        .or(was.map(|w| w.interval_seconds))
                        .unwrap_or(60),
                    timeout_seconds: self
                        .timeout_seconds
                        .or(was.map(|w| w.timeout_seconds))
                        .unwrap_or(10),
                    failures: self.failures.or(was.map(|w| w.failures)).unwrap_or(2),
                    expect_status,
                    keyword: match self.keyword {
                        Some(keyword) => text(Some(keyword)),
                        None => was.and_then(|w| w.keyword.clone()),
                    },
                })
            }
            MonitorKind::Sitemap => {
                let was = match current {
                    Some((_, MonitorSpec::Sitemap(sitemap))) => Some(sitemap),
                    _ => None,
                };
                MonitorSpec::Sitemap(SitemapSpec {
                    url: text(self.url)
                        .or_else(|| was.map(|w| w.url.clone()))
                        .ok_or_else(|| MonitorError::Invalid("url is required".into()))?,
                    interval_minutes: self
                        .interval_minutes
                        .or(was.map(|w| w.interval_minutes))
                        .unwrap_or(60),
                    max_urls: self.max_urls.or(was.map(|w| w.max_urls)).unwrap_or(500),
                    concurrency: self.concurrency.or(was.map(|w| w.concurrency)).unwrap_or(4),
                })
            }
            MonitorKind::Cron => {
                let was = match current {
                    Some((_, MonitorSpec::Cron(cron))) => cron.clone(),
                    _ => CronSpec::default(),
                };
                let schedule = match self.schedule {
                    Some(ScheduleInput::Sentry(schedule)) => Some(schedule),
                    Some(ScheduleInput::Crontab(value)) if value.trim().is_empty() => None,
                    Some(ScheduleInput::Crontab(value)) => Some(Schedule::Crontab {
                        value: value.trim().to_owned(),
                    }),
                    None => was.schedule.clone(),
                };
                MonitorSpec::Cron(CronSpec {
                    schedule,
                    checkin_margin: self.checkin_margin.unwrap_or(was.checkin_margin),
                    max_runtime: self.max_runtime.unwrap_or(was.max_runtime),
                    timezone: match self.timezone {
                        Some(zone) => text(Some(zone)),
                        None => was.timezone.clone(),
                    },
                    failure_issue_threshold: self
                        .failure_issue_threshold
                        .unwrap_or(was.failure_issue_threshold)
                        .max(1),
                    recovery_threshold: self
                        .recovery_threshold
                        .unwrap_or(was.recovery_threshold)
                        .max(1),
                })
            }
        };
        Ok(MonitorSettings { name, spec })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitors::StatusRange;

    #[test]
    fn defaults_and_edits() {
        let input: MonitorInput = serde_json::from_value(serde_json::json!({
            "kind": "http", "name": "Shop", "url": "https://shop.example/"
        }))
        .unwrap();
        let settings = input.settings(None).unwrap();
        let MonitorSpec::Http(http) = &settings.spec else {
            panic!("an uptime monitor")
        };
        assert_eq!((http.interval_seconds, http.failures), (60, 2));
        assert_eq!(http.expect_status, StatusRange { min: 200, max: 399 });
        // Editing keeps what is not given.
        let edit: MonitorInput =
            serde_json::from_value(serde_json::json!({"failures": 3})).unwrap();
        let edited = edit.settings(Some(("Shop", &settings.spec))).unwrap();
        let MonitorSpec::Http(http) = &edited.spec else {
            panic!("still an uptime monitor")
        };
        assert_eq!(
            (http.failures, http.url.as_str()),
            (3, "https://shop.example/")
        );
        assert_eq!(edited.name, "Shop");
        // The kind stays.
        let other: MonitorInput =
            serde_json::from_value(serde_json::json!({"kind": "sitemap"})).unwrap();
        assert!(other.settings(Some(("Shop", &settings.spec))).is_err());
    }

    #[test]
    fn cron_schedules_as_text_or_object() {
        let text: MonitorInput = serde_json::from_value(serde_json::json!({
            "kind": "cron", "name": "backup", "schedule": "0 2 * * *"
        }))
        .unwrap();
        let MonitorSpec::Cron(cron) = text.settings(None).unwrap().spec else {
            panic!("a cron monitor")
        };
        assert_eq!(
            cron.schedule,
            Some(Schedule::Crontab {
                value: "0 2 * * *".into()
            })
        );
        let object: MonitorInput = serde_json::from_value(serde_json::json!({
            "kind": "cron", "name": "backup",
            "schedule": {"type": "interval", "value": 5, "unit": "minute"}
        }))
        .unwrap();
        assert!(matches!(
            object.settings(None).unwrap().spec,
            MonitorSpec::Cron(CronSpec {
                schedule: Some(Schedule::Interval { value: 5, .. }),
                ..
            })
        ));
    }
}
