//! The facts a notification states, gathered once for the email and the webhooks.

use mayday_protocol::Event;
use serde::Serialize;

use crate::store::entities::issue;
use crate::store::{NotificationContext, NotificationKind};

/// Top in-app frames listed.
const FRAMES: usize = 5;

/// Who was affected, as far as the event says.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Person {
    /// Full name.
    pub name: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// The app's user id.
    pub id: Option<String>,
    /// Username.
    pub username: Option<String>,
    /// IP address.
    pub ip_address: Option<String>,
}

impl Person {
    /// How the subject names them: the name, else email, username, id; or "An anonymous user".
    pub fn short(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.email.clone())
            .or_else(|| self.username.clone())
            .or_else(|| self.id.as_ref().map(|id| format!("User {id}")))
            .unwrap_or_else(|| "An anonymous user".into())
    }

    /// Everything known, such as `Jane Doe <jane@example.com> (id 42)`.
    pub fn long(&self) -> String {
        let mut parts = Vec::new();
        match (&self.name, &self.email) {
            (Some(name), Some(email)) => parts.push(format!("{name} <{email}>")),
            (Some(name), None) => parts.push(name.clone()),
            (None, Some(email)) => parts.push(email.clone()),
            (None, None) => {}
        }
        if let Some(username) = &self.username {
            parts.push(format!("username {username}"));
        }
        if let Some(id) = &self.id {
            parts.push(format!("id {id}"));
        }
        if let Some(ip) = &self.ip_address {
            parts.push(format!("IP {ip}"));
        }
        if parts.is_empty() {
            "an anonymous user".into()
        } else {
            parts.join(", ")
        }
    }
}

/// Everything a notification says.
#[derive(Debug, Clone, Serialize)]
pub struct Facts {
    /// Why it is sent.
    pub kind: NotificationKind,
    /// The project's name.
    pub project: String,
    /// The event's environment.
    pub environment: Option<String>,
    /// The issue's id.
    pub issue_id: i64,
    /// `Type: value` or the message.
    pub title: String,
    /// Top in-app frame or route.
    pub culprit: Option<String>,
    /// The affected person.
    pub user: Person,
    /// Request method.
    pub method: Option<String>,
    /// Request URL with its query string.
    pub url: Option<String>,
    /// The route (transaction).
    pub route: Option<String>,
    /// Browser and OS, such as `Firefox 86 on Windows 10`.
    pub browser: Option<String>,
    /// Release.
    pub release: Option<String>,
    /// Server name.
    pub server_name: Option<String>,
    /// When, in UTC.
    pub time_utc: String,
    /// Top in-app frames, innermost first: `function (file:line)`.
    pub frames: Vec<String>,
    /// Distinct users this issue has affected so far.
    pub user_count: i64,
    /// Events of this issue so far.
    pub event_count: i64,
    /// The event's id.
    pub event_id: Option<String>,
    /// Where to see it.
    pub link: String,
    /// The issue's level (`fatal`, `error`, `warning`, `info`, `debug`).
    pub level: String,
    /// What the person wrote (feedback notifications).
    pub said: Option<String>,
}

impl Facts {
    /// Gathers the facts of a notification about `issue`, caused by `event`;
    /// `base_url` makes the link.
    pub fn gather(
        context: &NotificationContext,
        issue: &issue::Model,
        event: &Event,
        base_url: &str,
    ) -> Facts {
        let mut user = event
            .user
            .as_ref()
            .map(|u| Person {
                name: u.name.clone(),
                email: u.email.clone(),
                id: u.id.clone(),
                username: u.username.clone(),
                ip_address: u.ip_address.clone(),
            })
            .unwrap_or_default();
        // Feedback: the writer's words, and the name and email they gave.
        let said = match context.row.kind {
            NotificationKind::Feedback => {
                let detail: serde_json::Value = context
                    .row
                    .detail
                    .as_deref()
                    .and_then(|d| serde_json::from_str(d).ok())
                    .unwrap_or_default();
                let text = |key: &str| detail[key].as_str().map(str::to_owned);
                if let Some(name) = text("name") {
                    user.name = Some(name);
                }
                if let Some(email) = text("email") {
                    user.email = Some(email);
                }
                text("message")
            }
            _ => None,
        };
        let request = event.request.as_ref();
        let url = request.and_then(|r| r.url.clone()).map(|url| {
            match request
                .and_then(|r| r.query_string.as_deref())
                .filter(|q| !q.is_empty())
            {
                Some(query) => format!("{url}?{query}"),
                None => url,
            }
        });
        let browser = request
            .and_then(|r| r.headers.get("user-agent"))
            .and_then(describe_user_agent);
        let time = event
            .timestamp
            .and_then(|t| t.to_datetime())
            .unwrap_or_else(chrono::Utc::now);
        let event_id = event.event_id.map(|id| id.to_string());
        let link = match &event_id {
            Some(id) => format!(
                "{base_url}/projects/{}/issues/{}/events/{id}",
                context.project.id, issue.id
            ),
            None => format!(
                "{base_url}/projects/{}/issues/{}",
                context.project.id, issue.id
            ),
        };
        Facts {
            kind: context.row.kind,
            project: context.project.name.clone(),
            environment: event.environment.clone(),
            issue_id: issue.id,
            title: crate::grouping::title(event),
            culprit: issue.culprit.clone(),
            user,
            method: request.and_then(|r| r.method.clone()),
            url,
            route: event.transaction.clone(),
            browser,
            release: event.release.clone(),
            server_name: event.server_name.clone(),
            time_utc: time.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            frames: top_frames(event),
            user_count: issue.user_count,
            event_count: issue.event_count,
            event_id,
            link,
            level: issue.level.to_string(),
            said,
        }
    }

    /// A test notification for `project` (settings page), asked for by `requested_by`.
    pub fn test(
        project: &crate::store::entities::project::Model,
        base_url: &str,
        requested_by: &str,
    ) -> Facts {
        Facts {
            kind: NotificationKind::Test,
            project: project.name.clone(),
            environment: None,
            issue_id: 0,
            title: format!("Test notification sent by {requested_by}"),
            culprit: None,
            user: Person {
                name: Some("Test User".into()),
                email: Some("test-user@example.com".into()),
                ..Person::default()
            },
            method: Some("GET".into()),
            url: Some("https://shop.example/checkout".into()),
            route: Some("GET /checkout".into()),
            browser: None,
            release: None,
            server_name: None,
            time_utc: chrono::Utc::now()
                .format("%Y-%m-%d %H:%M:%S UTC")
                .to_string(),
            frames: Vec::new(),
            user_count: 0,
            event_count: 0,
            event_id: None,
            link: format!("{base_url}/projects/{}/settings", project.id),
            level: "error".into(),
            said: None,
        }
    }

    /// `[shop/production] Jane Doe hit PaymentError: card declined`.
    pub fn subject(&self) -> String {
        let scope = match &self.environment {
            Some(env) => format!("{}/{env}", self.project),
            None => self.project.clone(),
        };
        let what = match self.kind {
            NotificationKind::NewIssue => "hit",
            NotificationKind::Regression => "hit a regression:",
            NotificationKind::Spike => "is among many who hit",
            NotificationKind::UserFrequency => "is among many users who hit",
            NotificationKind::Reappeared => "hit an ignored issue again:",
            NotificationKind::Resolved => "hit an issue now resolved:",
            NotificationKind::Assigned => "hit an issue now assigned to you:",
            NotificationKind::Feedback => "wrote about",
            NotificationKind::Test => "(a test) hit",
            // Monitors' notifications are written by `notify::monitor`.
            _ => "hit",
        };
        crate::encode::header_line(&format!(
            "[{scope}] {} {what} {}",
            self.user.short(),
            self.title
        ))
    }

    /// Who was hit, as chats name them: `Jane Doe <jane@example.com>`, else the
    /// short form (unescaped).
    pub fn who(&self) -> String {
        match (&self.user.name, &self.user.email) {
            (Some(name), Some(email)) => format!("{name} <{email}>"),
            _ => self.user.short(),
        }
    }

    /// What happened in one line, unescaped: `Jane Doe <jane@example.com> hit
    /// PaymentError: card declined` (a regression, a spike: said so).
    pub fn headline(&self) -> String {
        let what = match self.kind {
            NotificationKind::Regression => "hit a regression:",
            NotificationKind::Spike => "is among many who hit",
            NotificationKind::UserFrequency => "is among many users who hit",
            NotificationKind::Reappeared => "hit an ignored issue again:",
            NotificationKind::Test => "(a test) hit",
            NotificationKind::Feedback => {
                let said: String = self
                    .said
                    .as_deref()
                    .unwrap_or_default()
                    .chars()
                    .take(300)
                    .collect();
                return format!("{} wrote about '{}': {said}", self.who(), self.title);
            }
            _ => "hit",
        };
        format!("{} {what} {}", self.who(), self.title)
    }

    /// `shop · production · release 2.4.0`: where it happened.
    pub fn scope(&self) -> String {
        let mut parts = vec![self.project.clone()];
        parts.extend(self.environment.clone());
        parts.extend(self.release.as_ref().map(|r| format!("release {r}")));
        parts.join(" · ")
    }

    /// One line for chat: what happened and the link, escaped for Slack-style `text`.
    pub fn text(&self) -> String {
        crate::encode::slack_text(&format!("{}\n{}", self.subject(), self.link))
    }
}

/// `Firefox 86 on Windows 10`, from a User-Agent header.
pub fn describe_user_agent(agent: &str) -> Option<String> {
    let parsed = woothee::parser::Parser::new().parse(agent)?;
    if parsed.name == "UNKNOWN" {
        return None;
    }
    let major = parsed.version.split('.').next().unwrap_or("");
    let browser = if major.is_empty() || major == "UNKNOWN" {
        parsed.name.to_string()
    } else {
        format!("{} {major}", parsed.name)
    };
    let os = match (parsed.os, parsed.os_version.as_ref()) {
        ("UNKNOWN", _) => return Some(browser),
        (os, version)
            if os.starts_with("Windows") || version.is_empty() || version == "UNKNOWN" =>
        {
            os.to_string()
        }
        (os, version) => format!("{os} {version}"),
    };
    Some(format!("{browser} on {os}"))
}

fn top_frames(event: &Event) -> Vec<String> {
    let Some(exception) = event.exceptions().last() else {
        return Vec::new();
    };
    let Some(stacktrace) = &exception.stacktrace else {
        return Vec::new();
    };
    let in_app: Vec<_> = stacktrace
        .frames
        .iter()
        .filter(|f| f.in_app == Some(true))
        .collect();
    let frames = if in_app.is_empty() {
        stacktrace.frames.iter().collect()
    } else {
        in_app
    };
    frames
        .into_iter()
        .rev()
        .take(FRAMES)
        .map(|f| {
            let function = f.function.as_deref().unwrap_or("?");
            match (f.filename.as_deref().or(f.abs_path.as_deref()), f.lineno) {
                (Some(file), Some(line)) => format!("{function} ({file}:{line})"),
                (Some(file), None) => format!("{function} ({file})"),
                _ => function.to_owned(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents() {
        let cases = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:86.0) Gecko/20100101 Firefox/86.0",
                Some("Firefox 86 on Windows 10"),
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/14.0 Safari/605.1.15",
                Some("Safari 14 on Mac OSX 10.15.7"),
            ),
            ("curl/8.0", Some("HTTP Library curl")),
            ("", None),
        ];
        for (agent, expected) in cases {
            assert_eq!(describe_user_agent(agent).as_deref(), expected, "{agent}");
        }
    }

    #[test]
    fn people() {
        let jane = Person {
            name: Some("Jane Doe".into()),
            email: Some("jane@example.com".into()),
            id: Some("42".into()),
            ..Default::default()
        };
        assert_eq!(jane.short(), "Jane Doe");
        assert_eq!(jane.long(), "Jane Doe <jane@example.com>, id 42");
        assert_eq!(Person::default().short(), "An anonymous user");
        assert_eq!(Person::default().long(), "an anonymous user");
    }
}
