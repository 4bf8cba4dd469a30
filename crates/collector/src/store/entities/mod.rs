//! Table definitions (sea-orm entities), one file per table, and the states stored in
//! them (`states.rs`: enums, stored as their lowercase names). Times are Unix
//! milliseconds (`i64`), which both SQLite and PostgreSQL store and sort the same way.

mod states;

pub mod account;
pub mod affected_user;
pub mod alert_fire;
pub mod alert_rule;
pub mod api_token;
pub mod audit_entry;
pub mod debug_file;
pub mod debug_file_chunk;
pub mod deploy;
pub mod do_not_contact;
pub mod event;
pub mod feedback;
pub mod filter_value;
pub mod issue;
pub mod issue_alias;
pub mod issue_comment;
pub mod issue_tag;
pub mod membership;
pub mod monitor;
pub mod monitor_checkin;
pub mod outbox;
pub mod outreach_fix;
pub mod outreach_message;
pub mod project;
pub mod project_key;
pub mod recipient;
pub mod recovery_code;
pub mod release_health;
pub mod upload_chunk;
pub mod web_session;
pub mod webhook;

pub use states::{
    AuditAction, BucketSpan, Channel, CheckOutcome, DebugFileKind, DeliveryStatus, EventLevel,
    FeedbackSource, FilterKind, IssueStatus, MonitorKind, MonitorStatus, NotificationKind,
    OutreachKind, ProjectRole, UnknownName,
};
