//! Storage: sea-orm entities, migrations and every query, one file per aggregate. SQL
//! lives here only.

mod accounts;
mod alert_rules;
mod audit;
mod backup;
mod channels;
mod comments;
mod database;
mod debug_files;
pub mod entities;
mod error;
mod events;
mod feedback;
mod ingest;
mod issues;
mod keys;
mod merges;
mod migration;
pub(crate) mod monitors;
mod open;
mod outbox;
mod outreach;
mod projects;
mod reads;
mod releases;
pub mod retention;
mod sessions;
mod sqlite_checkpoint;
mod sqlite_hot;
mod two_factor;

pub use alert_rules::RuleRow;
pub use backup::{BackupError, Restored, Serving, restore};
pub(crate) use database::WriteTxn;
pub use database::{BatchWork, Store, now_ms, random_hex};
pub use debug_files::NewDebugFile;
pub use entities::{
    AuditAction, Channel, CheckOutcome, DeliveryStatus, EventLevel, IssueStatus, MonitorKind,
    MonitorStatus, NotificationKind, OutreachKind, ProjectRole, UnknownName,
};
pub use error::StoreError;
pub use events::{EventFilter, EventLinks, EventRow, StoredEvent, decode_event, encode_payload};
pub use feedback::NewFeedback;
pub use ingest::{Alerting, EventUser, NewEvent, Stored};
pub use issues::{Breakdown, IssueFilter, IssueSort, STATUS_COUNT_CAP, Snooze};
pub use keys::{KEY_CACHE_TTL, KeyInfo};
pub use monitors::{DueCheck, MonitorChange, ResultWrite, Uptime};
pub use open::redact;
pub use outbox::{About, NotificationContext};
pub use outreach::{NewMessage, OutreachSettings, Refusal, WEEK_MS};
pub use projects::{ProjectSummary, ProjectWithKeys};
pub use releases::{HealthCount, MINUTE_MS, Totals};
