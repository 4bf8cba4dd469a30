//! A batch's fresh events by issue ([`Group`]), and what the database said about each
//! issue before the batch ([`Before`]).

use super::model::NewEvent;
use crate::store::entities::IssueStatus;

/// An issue of the batch: (project, fingerprint), merged fingerprints already followed
/// to the issue they joined.
pub(super) type IssueKey = (i64, String);

/// The events of one issue within a batch.
#[derive(Debug)]
pub(super) struct Group {
    pub(super) project_id: i64,
    pub(super) fingerprint: String,
    /// Indices into the batch, in batch order.
    pub(super) events: Vec<usize>,
    pub(super) first_seen: i64,
    pub(super) last_seen: i64,
    /// The event with the latest timestamp (the issue's title, level, release come from it).
    pub(super) newest: usize,
    /// The event with the earliest timestamp (the first release).
    pub(super) oldest: usize,
    pub(super) received_at: i64,
}

/// What the database said about an issue before this batch.
#[derive(Debug, Clone)]
pub(super) struct Before {
    pub(super) id: i64,
    pub(super) status: IssueStatus,
    /// Ignored until then (ms), or until these many events or users.
    pub(super) snooze_until: Option<i64>,
    pub(super) snooze_events: Option<i64>,
    pub(super) snooze_users: Option<i64>,
    /// Resolved in the release after this one.
    pub(super) resolved_in_release: Option<String>,
}

impl Before {
    /// Whether the events of `group` reopen this resolved issue: any event at all,
    /// unless it was resolved "in the next release", then only an event of a newer
    /// release than the one it was resolved in.
    pub(super) fn regressed_by(&self, group: &Group, batch: &[NewEvent]) -> bool {
        if self.status != IssueStatus::Resolved {
            return false;
        }
        match &self.resolved_in_release {
            None => true,
            Some(resolved_in) => group.events.iter().any(|&i| {
                batch[i]
                    .release
                    .as_deref()
                    .is_some_and(|release| crate::release::is_newer(release, resolved_in))
            }),
        }
    }

    pub(super) fn snoozed(&self) -> bool {
        self.status == IssueStatus::Ignored
            && (self.snooze_until.is_some()
                || self.snooze_events.is_some()
                || self.snooze_users.is_some())
    }
}
