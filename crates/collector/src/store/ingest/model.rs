//! What a batch write takes and gives back: the events, ready to store, the facts the
//! notification rule decides on, and what storing each event did.

use crate::store::entities::{EventLevel, NotificationKind};

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
    /// The project's spike notification settings.
    pub spike: SpikeSettings,
}

/// A project's spike notification settings, as ingest applies them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpikeSettings {
    /// More than this many events in the window is a spike; 0 turns spikes off.
    pub threshold: i64,
    /// The window, in milliseconds.
    pub window_ms: i64,
    /// After a notification about an issue, no spike notification for it during this
    /// long (milliseconds).
    pub quiet_ms: i64,
}

/// What an ingested event did to its issue: what the notification rule decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestFacts {
    /// The event created the issue.
    pub new_issue: bool,
    /// The event reopened a resolved issue.
    pub regression: bool,
    /// When the event was received (ms).
    pub received_at: i64,
    /// When a notification about the issue was last queued (ms).
    pub last_notified_at: Option<i64>,
    /// The project's spike settings.
    pub spike: SpikeSettings,
}

/// Decides which notification an ingested event queues (`notify::policy` has the
/// collector's rule): the store supplies the facts and writes the outbox rows in the
/// event's transaction, the rule stays a pure function that is tested on its own.
pub trait NotificationRule: Send + Sync {
    /// From when (ms) the issue's events must be counted to decide, if at all.
    fn count_since(&self, facts: &IngestFacts) -> Option<i64>;
    /// The notification to queue, if any; `recent` counts the issue's events since
    /// [`count_since`](Self::count_since), when it asked for a count.
    fn decide(&self, facts: &IngestFacts, recent: Option<u64>) -> Option<NotificationKind>;
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
