//! What a monitor's notification says, fixed when its state changed (stored with the
//! outbox row as JSON, so a later change of the monitor does not rewrite the message).

use serde::{Deserialize, Serialize};

use crate::store::{MonitorKind, NotificationKind};

/// The facts of a monitor's notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorNotice {
    /// Why it is sent.
    pub kind: NotificationKind,
    /// The monitor's name.
    pub monitor: String,
    /// The monitor's slug.
    pub slug: String,
    /// What the monitor watches.
    pub monitor_kind: MonitorKind,
    /// The job's environment (cron monitors).
    #[serde(default)]
    pub environment: Option<String>,
    /// The URL checked (uptime and sitemap monitors).
    #[serde(default)]
    pub url: Option<String>,
    /// When the state changed (Unix ms).
    pub at: i64,
    /// A missed check-in's expected time, `02:00` in the monitor's time zone.
    #[serde(default)]
    pub expected: Option<String>,
    /// The status the site answered.
    #[serde(default)]
    pub http_status: Option<u16>,
    /// What failed, in words (`timed out`, `keyword "Welcome" not found`).
    #[serde(default)]
    pub error: Option<String>,
    /// Failures in a row.
    pub failures: i64,
    /// When the failing state began (for "recovered after").
    #[serde(default)]
    pub since: Option<i64>,
    /// When the TLS certificate expires.
    #[serde(default)]
    pub cert_expires_at: Option<i64>,
}

impl MonitorNotice {
    /// The JSON stored with the outbox row.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    /// Reads the stored JSON.
    pub fn from_json(json: &str) -> Option<MonitorNotice> {
        serde_json::from_str(json).ok()
    }

    /// What happened, without the project: `Monitor nightly-backup missed its 02:00
    /// check-in`, `https://shop.example.com is down (HTTP 503, 2 checks)`.
    pub fn headline(&self) -> String {
        let name = &self.monitor;
        let target = self.url.as_deref().unwrap_or(name);
        let recovered_after = self
            .since
            .map(|since| format!(" after {}", duration_words(self.at - since)))
            .unwrap_or_default();
        let checks = if self.failures == 1 {
            "1 check".to_owned()
        } else {
            format!("{} checks", self.failures)
        };
        let why = match (&self.error, self.http_status) {
            (Some(error), _) => error.clone(),
            (None, Some(status)) => format!("HTTP {status}"),
            (None, None) => "failed".into(),
        };
        match (self.monitor_kind, self.kind) {
            (MonitorKind::Cron, NotificationKind::MonitorMissed) => match &self.expected {
                Some(expected) => format!("Monitor {name} missed its {expected} check-in"),
                None => format!("Monitor {name} missed a check-in"),
            },
            (MonitorKind::Cron, NotificationKind::MonitorFailed) => {
                format!("Monitor {name} failed")
            }
            (MonitorKind::Cron, NotificationKind::MonitorTimeout) => {
                format!("Monitor {name} timed out")
            }
            (MonitorKind::Cron, NotificationKind::MonitorRecovered) => {
                format!("Monitor {name} recovered{recovered_after}")
            }
            (_, NotificationKind::MonitorDown) => format!("{target} is down ({why}, {checks})"),
            (_, NotificationKind::MonitorRecovered) => {
                format!("{target} recovered{recovered_after}")
            }
            (_, NotificationKind::CertificateExpiring) => {
                let days = self
                    .cert_expires_at
                    .map(|expires| (expires - self.at).max(0) / 86_400_000)
                    .unwrap_or(0);
                format!(
                    "The TLS certificate of {target} expires in {days} day{}",
                    if days == 1 { "" } else { "s" }
                )
            }
            (_, _) => format!("Monitor {name}: {why}"),
        }
    }
}

/// `45 seconds`, `7 minutes`, `3 hours`, `2 days`.
pub fn duration_words(ms: i64) -> String {
    let seconds = (ms / 1000).max(0);
    let (value, unit) = if seconds < 60 {
        (seconds, "second")
    } else if seconds < 3_600 {
        ((seconds + 30) / 60, "minute")
    } else if seconds < 86_400 {
        ((seconds + 1_800) / 3_600, "hour")
    } else {
        ((seconds + 43_200) / 86_400, "day")
    };
    format!("{value} {unit}{}", if value == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(kind: NotificationKind, monitor_kind: MonitorKind) -> MonitorNotice {
        MonitorNotice {
            kind,
            monitor: "nightly-backup".into(),
            slug: "nightly-backup".into(),
            monitor_kind,
            environment: Some("production".into()),
            url: (monitor_kind != MonitorKind::Cron).then(|| "https://shop.example.com".into()),
            at: 10 * 60_000,
            expected: Some("02:00".into()),
            http_status: Some(503),
            error: None,
            failures: 2,
            since: Some(3 * 60_000),
            cert_expires_at: Some(10 * 60_000 + 3 * 86_400_000),
        }
    }

    #[test]
    fn headlines() {
        use MonitorKind::*;
        use NotificationKind::*;
        let cases = [
            (
                MonitorMissed,
                Cron,
                "Monitor nightly-backup missed its 02:00 check-in",
            ),
            (MonitorFailed, Cron, "Monitor nightly-backup failed"),
            (MonitorTimeout, Cron, "Monitor nightly-backup timed out"),
            (
                MonitorRecovered,
                Cron,
                "Monitor nightly-backup recovered after 7 minutes",
            ),
            (
                MonitorDown,
                Http,
                "https://shop.example.com is down (HTTP 503, 2 checks)",
            ),
            (
                MonitorRecovered,
                Http,
                "https://shop.example.com recovered after 7 minutes",
            ),
            (
                CertificateExpiring,
                Http,
                "The TLS certificate of https://shop.example.com expires in 3 days",
            ),
        ];
        for (kind, monitor_kind, expected) in cases {
            assert_eq!(notice(kind, monitor_kind).headline(), expected);
        }
        let mut timed_out = notice(MonitorDown, Http);
        timed_out.http_status = None;
        timed_out.error = Some("timed out".into());
        assert_eq!(
            timed_out.headline(),
            "https://shop.example.com is down (timed out, 2 checks)"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(duration_words(45_000), "45 seconds");
        assert_eq!(duration_words(60_000), "1 minute");
        assert_eq!(duration_words(7 * 60_000 + 10_000), "7 minutes");
        assert_eq!(duration_words(2 * 3_600_000), "2 hours");
        assert_eq!(duration_words(3 * 86_400_000), "3 days");
    }
}
