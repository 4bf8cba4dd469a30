//! What the API answers, as typed structs: one shape per kind of object, so that every
//! endpoint that returns an issue returns the same fields.

use serde::Serialize;

use crate::store::entities::{api_token, audit_entry, issue, outbox, webhook};
use crate::store::{
    Channel, DeliveryStatus, EventLevel, IssueStatus, NotificationKind, StoredEvent,
};

/// A time as RFC 3339 with milliseconds, in UTC.
pub fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A project.
#[derive(Debug, Serialize)]
pub struct ProjectJson {
    pub id: i64,
    pub name: String,
    /// The name customers know the app by (messages to them), when set.
    pub sender_name: Option<String>,
    /// What each page is in customers' words, a line each, when set.
    pub route_names: Option<String>,
    pub rate_limit_per_minute: i64,
    /// The DSN of its first active key.
    pub dsn: Option<String>,
}

/// `GET /api/v1/projects`.
#[derive(Debug, Serialize)]
pub struct ProjectsJson {
    pub projects: Vec<ProjectJson>,
}

/// An issue.
#[derive(Debug, Serialize)]
pub struct IssueJson {
    pub id: i64,
    pub project_id: i64,
    pub title: String,
    pub culprit: Option<String>,
    pub level: EventLevel,
    pub status: IssueStatus,
    pub count: i64,
    pub user_count: i64,
    pub first_seen: String,
    pub last_seen: String,
    pub first_release: Option<String>,
    pub last_release: Option<String>,
    pub last_environment: Option<String>,
    pub regression_count: i64,
    pub fingerprint: String,
    /// The assignee's email (filled by [`IssueJson::name_assignees`]).
    pub assignee: Option<String>,
    /// The ownership rule that assigned it.
    pub owner_rule: Option<String>,
    /// The ticket filed for it.
    pub ticket_url: Option<String>,
    #[serde(skip)]
    assignee_id: Option<i64>,
}

impl IssueJson {
    /// Fills in each issue's assignee's email: one read for them all.
    pub async fn name_assignees(
        store: &crate::store::Store,
        issues: &mut [IssueJson],
    ) -> Result<(), crate::store::StoreError> {
        let ids: Vec<i64> = issues.iter().filter_map(|i| i.assignee_id).collect();
        let emails = store.account_emails(&ids).await?;
        for issue in issues {
            issue.assignee = issue.assignee_id.and_then(|id| emails.get(&id).cloned());
        }
        Ok(())
    }

    /// One issue, its assignee named.
    pub async fn named(
        store: &crate::store::Store,
        issue: issue::Model,
    ) -> Result<IssueJson, crate::store::StoreError> {
        let mut json = [IssueJson::from(issue)];
        IssueJson::name_assignees(store, &mut json).await?;
        let [json] = json;
        Ok(json)
    }
}

impl From<issue::Model> for IssueJson {
    fn from(issue: issue::Model) -> Self {
        IssueJson {
            id: issue.id,
            project_id: issue.project_id,
            title: issue.title,
            culprit: issue.culprit,
            level: issue.level,
            status: issue.status,
            count: issue.event_count,
            user_count: issue.user_count,
            first_seen: time(issue.first_seen),
            last_seen: time(issue.last_seen),
            first_release: issue.first_release,
            last_release: issue.last_release,
            last_environment: issue.last_environment,
            regression_count: issue.regression_count,
            fingerprint: issue.fingerprint,
            assignee: None,
            owner_rule: issue.owner_rule,
            ticket_url: issue.ticket_url,
            assignee_id: issue.assignee_id,
        }
    }
}

/// A page of issues.
#[derive(Debug, Serialize)]
pub struct IssuesJson {
    pub issues: Vec<IssueJson>,
    pub next_cursor: Option<String>,
}

/// A stored event with its payload.
#[derive(Debug, Serialize)]
pub struct EventJson {
    pub event_id: String,
    pub received_at: String,
    pub timestamp: String,
    pub level: EventLevel,
    pub environment: Option<String>,
    pub release: Option<String>,
    pub user_key: Option<String>,
    pub payload: mayday_protocol::Event,
}

impl From<StoredEvent> for EventJson {
    fn from(stored: StoredEvent) -> Self {
        let row = stored.row;
        EventJson {
            event_id: row.event_id,
            received_at: time(row.received_at),
            timestamp: time(row.timestamp),
            level: row.level,
            environment: row.environment,
            release: row.release,
            user_key: row.user_key,
            payload: stored.event,
        }
    }
}

/// One event with the issue it belongs to.
#[derive(Debug, Serialize)]
pub struct EventWithIssueJson {
    pub event: EventJson,
    pub issue: IssueJson,
}

/// A page of events.
#[derive(Debug, Serialize)]
pub struct EventsJson {
    pub events: Vec<EventJson>,
    pub next_cursor: Option<String>,
}

/// An affected user.
#[derive(Debug, Serialize)]
pub struct UserJson {
    pub id: Option<String>,
    pub email: Option<String>,
    pub username: Option<String>,
    pub name: Option<String>,
    pub ip_address: Option<String>,
    pub event_count: i64,
    pub first_seen: String,
    pub last_seen: String,
    /// Identifies the user for `POST /api/v1/issues/{id}/outreach`.
    pub key: String,
    /// When they were written to about this issue.
    pub contacted_at: Option<String>,
    /// Whether they can be written to now.
    pub contactable: bool,
    /// Why not, when they cannot.
    pub not_contactable: Option<crate::store::Refusal>,
}

impl From<crate::outreach::Candidate> for UserJson {
    fn from(candidate: crate::outreach::Candidate) -> Self {
        let contactable = candidate.contactable();
        let user = candidate.user;
        UserJson {
            key: user.user_key,
            contacted_at: candidate.contacted_at.map(time),
            contactable,
            not_contactable: candidate.blocked,
            id: user.user_id,
            email: user.email,
            username: user.username,
            name: user.name,
            ip_address: user.ip_address,
            event_count: user.event_count,
            first_seen: time(user.first_seen),
            last_seen: time(user.last_seen),
        }
    }
}

/// `GET /api/v1/issues/{id}/users`.
#[derive(Debug, Serialize)]
pub struct UsersJson {
    pub users: Vec<UserJson>,
}

/// A project's email recipients.
#[derive(Debug, Serialize)]
pub struct RecipientsJson {
    pub recipients: Vec<String>,
}

/// A webhook (its secret is shown once, when it is created).
#[derive(Debug, Serialize)]
pub struct WebhookJson {
    pub id: i64,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl WebhookJson {
    /// A webhook without its secret.
    pub fn listed(hook: webhook::Model) -> Self {
        WebhookJson {
            id: hook.id,
            url: hook.url,
            secret: None,
        }
    }
}

/// A project's webhooks.
#[derive(Debug, Serialize)]
pub struct WebhooksJson {
    pub webhooks: Vec<WebhookJson>,
}

/// A removed webhook.
#[derive(Debug, Serialize)]
pub struct RemovedJson {
    pub removed: i64,
}

/// One notification in the outbox.
#[derive(Debug, Serialize)]
pub struct NotificationJson {
    pub id: i64,
    pub issue_id: Option<i64>,
    pub monitor_id: Option<i64>,
    pub kind: NotificationKind,
    pub channel: Channel,
    pub webhook_id: Option<i64>,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

impl From<outbox::Model> for NotificationJson {
    fn from(row: outbox::Model) -> Self {
        NotificationJson {
            id: row.id,
            issue_id: row.issue_id,
            monitor_id: row.monitor_id,
            kind: row.kind,
            channel: row.channel,
            webhook_id: row.webhook_id,
            status: row.status,
            attempts: row.attempts,
            last_error: row.last_error,
            created_at: time(row.created_at),
            sent_at: row.sent_at.map(time),
        }
    }
}

/// A project's latest notifications.
#[derive(Debug, Serialize)]
pub struct NotificationsJson {
    pub notifications: Vec<NotificationJson>,
}

/// One of one's API tokens, without the token (only its hash is kept).
#[derive(Debug, Serialize)]
pub struct TokenJson {
    pub id: i64,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

impl From<api_token::Model> for TokenJson {
    fn from(row: api_token::Model) -> Self {
        TokenJson {
            id: row.id,
            name: row.name,
            created_at: time(row.created_at),
            last_used_at: row.last_used_at.map(time),
        }
    }
}

/// One's API tokens, newest first.
#[derive(Debug, Serialize)]
pub struct TokensJson {
    pub tokens: Vec<TokenJson>,
}

/// One change to a project.
#[derive(Debug, Serialize)]
pub struct AuditEntryJson {
    pub actor: String,
    pub action: crate::store::AuditAction,
    pub target: String,
    pub at: String,
}

impl From<audit_entry::Model> for AuditEntryJson {
    fn from(row: audit_entry::Model) -> Self {
        AuditEntryJson {
            actor: row.actor,
            action: row.action,
            target: row.target,
            at: time(row.at),
        }
    }
}

/// A project's latest changes, newest first.
#[derive(Debug, Serialize)]
pub struct AuditJson {
    pub entries: Vec<AuditEntryJson>,
}

/// A project's member.
#[derive(Debug, Serialize)]
pub struct MemberJson {
    pub email: String,
    pub role: crate::store::ProjectRole,
}

/// A project's members, by email.
#[derive(Debug, Serialize)]
pub struct MembersJson {
    pub members: Vec<MemberJson>,
}

/// An account, for instance admins.
#[derive(Debug, Serialize)]
pub struct AccountJson {
    pub id: i64,
    pub email: String,
    pub name: Option<String>,
    pub is_admin: bool,
    pub active: bool,
    pub created_at: String,
}

impl From<crate::store::entities::account::Model> for AccountJson {
    fn from(row: crate::store::entities::account::Model) -> Self {
        AccountJson {
            id: row.id,
            email: row.email,
            name: row.name,
            is_admin: row.is_admin,
            active: row.active,
            created_at: time(row.created_at),
        }
    }
}

/// Every account, by email.
#[derive(Debug, Serialize)]
pub struct AccountsJson {
    pub users: Vec<AccountJson>,
}
