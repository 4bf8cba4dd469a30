//! What a batch write takes and gives back: the events, ready to store, and what
//! storing each event did.

use crate::store::entities::EventLevel;

/// The affected user of an event, as the event described them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventUser {
    /// Identity for counting: `id:…`, else `email:…`, `username:…`, `ip:…`.
    pub key: String,
    /// App user id.
    pub id: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Username.
    pub username: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// IP address.
    pub ip_address: Option<String>,
}

/// An event ready to store: parsed, grouped, compressed.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// The project.
    pub project_id: i64,
    /// The sender's id, 32 hex digits.
    pub event_id: String,
    /// Receive time (ms).
    pub received_at: i64,
    /// Event time (ms).
    pub timestamp: i64,
    /// Level.
    pub level: EventLevel,
    /// Environment.
    pub environment: Option<String>,
    /// Release.
    pub release: Option<String>,
    /// Who was affected.
    pub user: Option<EventUser>,
    /// Grouping fingerprint.
    pub fingerprint: String,
    /// Issue title, used when the issue is new.
    pub title: String,
    /// Issue culprit.
    pub culprit: Option<String>,
    /// zstd-compressed JSON.
    pub payload: Vec<u8>,
    /// Its tags, and its message under `message`, capped, for the search box.
    pub tags: Vec<(String, String)>,
    /// The files of its in-app frames (capped), for alert rules' `path` filters and
    /// ownership rules.
    pub paths: Vec<String>,
    /// The modules of its in-app frames (capped), for ownership rules.
    pub modules: Vec<String>,
    /// The request's URL, for alert rules' `url` filters and ownership rules.
    pub url: Option<String>,
    /// The project's ownership rules, as written, applied when the event opens an issue.
    pub ownership: Option<std::sync::Arc<str>>,
}

/// What storing an event did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stored {
    /// The issue it joined.
    pub issue_id: i64,
    /// The issue was created by this event.
    pub new_issue: bool,
    /// A resolved issue was reopened by this event.
    pub regression: bool,
    /// The event id was already stored: nothing changed.
    pub duplicate: bool,
    /// Notifications queued in the outbox by this event.
    pub notifications: usize,
}

impl Stored {
    pub(super) fn duplicate(issue_id: i64) -> Self {
        Stored {
            issue_id,
            duplicate: true,
            ..Default::default()
        }
    }
}
