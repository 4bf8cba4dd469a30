//! A monitor's notification: `[shop/production] Monitor nightly-backup missed its 02:00
//! check-in`, `[shop] https://shop.example.com is down (HTTP 503, 2 checks)`, as email
//! and webhook JSON.

use maud::{DOCTYPE, html};

use super::Message;
use crate::encode;
use crate::monitors::notice::MonitorNotice;
use crate::store::NotificationContext;
use crate::store::entities::monitor;

/// What a monitor's notification says.
#[derive(Debug, Clone)]
pub struct MonitorFacts {
    /// The facts written when the state changed.
    pub notice: MonitorNotice,
    /// The project's name.
    pub project: String,
    /// The monitor's page.
    pub link: String,
}

impl MonitorFacts {
    /// The facts of a monitor's outbox row (`monitor` is gone when it was deleted
    /// since; the notice still says what happened).
    pub fn gather(
        context: &NotificationContext,
        monitor: Option<&monitor::Model>,
        detail: &str,
        base_url: &str,
    ) -> Result<MonitorFacts, String> {
        let notice = MonitorNotice::from_json(detail)
            .ok_or_else(|| format!("notification {} has no readable detail", context.row.id))?;
        let project_id = context.project.id;
        let link = match monitor {
            Some(monitor) => format!("{base_url}/projects/{project_id}/monitors/{}", monitor.id),
            None => format!("{base_url}/projects/{project_id}/monitors"),
        };
        Ok(MonitorFacts {
            notice,
            project: context.project.name.clone(),
            link,
        })
    }

    fn when(at: i64) -> String {
        chrono::DateTime::<chrono::Utc>::from_timestamp_millis(at)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default()
    }

    /// Label and value rows, in the order both parts show them.
    fn rows(&self) -> Vec<(&'static str, String)> {
        let notice = &self.notice;
        let mut rows = vec![("Monitor", format!("{} ({})", notice.monitor, notice.slug))];
        if let Some(url) = &notice.url {
            rows.push(("URL", url.clone()));
        }
        if let Some(environment) = &notice.environment {
            rows.push(("Env", environment.clone()));
        }
        rows.push(("When", Self::when(notice.at)));
        if let Some(expected) = &notice.expected {
            rows.push(("Expected", expected.clone()));
        }
        if let Some(status) = notice.http_status {
            rows.push(("Status", format!("HTTP {status}")));
        }
        if let Some(error) = &notice.error {
            rows.push(("Error", error.clone()));
        }
        if notice.failures > 1 {
            rows.push(("In a row", notice.failures.to_string()));
        }
        if let Some(since) = notice.since {
            rows.push(("Failing since", Self::when(since)));
        }
        if let Some(expires) = notice.cert_expires_at {
            rows.push(("Certificate expires", Self::when(expires)));
        }
        rows
    }
}

impl Message for MonitorFacts {
    fn subject(&self) -> String {
        let scope = match &self.notice.environment {
            Some(environment) => format!("{}/{environment}", self.project),
            None => self.project.clone(),
        };
        encode::header_line(&format!("[{scope}] {}", self.notice.headline()))
    }

    fn plain_text(&self) -> String {
        let mut text = format!("{}\n\n", self.notice.headline());
        for (label, value) in self.rows() {
            text.push_str(&format!("{label:<9} {value}\n"));
        }
        text.push_str(&format!("\nSee it: {}\n", self.link));
        text
    }

    fn html_body(&self) -> String {
        html! {
            (DOCTYPE)
            html {
                body style="font-family: sans-serif; color: #1f2328;" {
                    h2 { (self.notice.headline()) }
                    table cellpadding="4" {
                        @for (label, value) in self.rows() {
                            tr { th align="left" { (label) } td { (value) } }
                        }
                    }
                    p { a href=(self.link) { "Open the monitor" } }
                }
            }
        }
        .into_string()
    }

    fn payload(&self) -> serde_json::Value {
        let notice = &self.notice;
        serde_json::json!({
            "text": encode::slack_text(&format!("{}\n{}", self.subject(), self.link)),
            "kind": notice.kind,
            "project": self.project,
            "environment": notice.environment,
            "monitor": {
                "name": notice.monitor,
                "slug": notice.slug,
                "kind": notice.monitor_kind,
                "url": notice.url,
            },
            "time": Self::when(notice.at),
            "http_status": notice.http_status,
            "error": notice.error,
            "failures": notice.failures,
            "url": self.link,
        })
    }
}
