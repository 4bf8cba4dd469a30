//! Stored events: each with its payload (the event's text as received, zstd-compressed)
//! decoded back into an [`Event`] for its readers, with what the collector settled at
//! ingest (its id, time and level, kept in the row) filled in where the sender left
//! them out.

use mayday_protocol::{Event, Timestamp};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::{affected_user, event};
use super::{Store, StoreError};

/// A stored event: its row and the event itself.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// The row (ids, times, level, environment, release, user key).
    pub row: event::Model,
    /// The event as received, its id, time and level filled in from the row.
    pub event: Event,
}

impl StoredEvent {
    pub(crate) fn decode(row: event::Model) -> Result<Self, StoreError> {
        let event = decode_event(&row)?;
        Ok(StoredEvent { row, event })
    }
}

/// Links from one event to its neighbours in the same issue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventLinks {
    /// The next newer event's id.
    pub newer: Option<String>,
    /// The next older event's id.
    pub older: Option<String>,
    /// The oldest stored event's id.
    pub first: Option<String>,
    /// The newest stored event's id.
    pub latest: Option<String>,
}

/// The filters of an issue's event list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Only this release.
    pub release: Option<String>,
    /// Only this environment.
    pub environment: Option<String>,
    /// Only this user: their id, email, username or IP address (or a key such as
    /// `id:42`).
    pub user: Option<String>,
}

/// One row of an issue's event list (without the payload).
#[derive(Debug, Clone, PartialEq, Eq, sea_orm::FromQueryResult)]
pub struct EventRow {
    /// The sender's event id.
    pub event_id: String,
    /// Event time (ms).
    pub timestamp: i64,
    /// Level.
    pub level: super::EventLevel,
    /// Environment.
    pub environment: Option<String>,
    /// Release.
    pub release: Option<String>,
    /// Who was affected (`id:42`, `email:...`).
    pub user_key: Option<String>,
}

impl Store {
    /// A page of an issue's events, newest first, filtered (the events list).
    pub async fn event_list(
        &self,
        issue_id: i64,
        filter: &EventFilter,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<EventRow>, StoreError> {
        let mut select = event::Entity::find()
            .select_only()
            .columns([
                event::Column::EventId,
                event::Column::Timestamp,
                event::Column::Level,
                event::Column::Environment,
                event::Column::Release,
                event::Column::UserKey,
            ])
            .filter(event::Column::IssueId.eq(issue_id));
        if let Some(release) = &filter.release {
            select = select.filter(event::Column::Release.eq(release.as_str()));
        }
        if let Some(environment) = &filter.environment {
            select = select.filter(event::Column::Environment.eq(environment.as_str()));
        }
        if let Some(user) = &filter.user {
            // The issue's affected users this names, by any of their identities.
            let keys: Vec<String> = affected_user::Entity::find()
                .select_only()
                .column(affected_user::Column::UserKey)
                .filter(affected_user::Column::IssueId.eq(issue_id))
                .filter(
                    Condition::any()
                        .add(affected_user::Column::UserKey.eq(user.as_str()))
                        .add(affected_user::Column::UserId.eq(user.as_str()))
                        .add(
                            Expr::expr(Func::lower(Expr::col(affected_user::Column::Email)))
                                .eq(user.to_lowercase()),
                        )
                        .add(affected_user::Column::Username.eq(user.as_str()))
                        .add(affected_user::Column::IpAddress.eq(user.as_str())),
                )
                .into_tuple()
                .all(self.db())
                .await?;
            select = select.filter(event::Column::UserKey.is_in(keys));
        }
        Ok(select
            .order_by_desc(event::Column::Id)
            .offset(offset)
            .limit(limit)
            .into_model::<EventRow>()
            .all(self.db())
            .await?)
    }

    /// An issue's stored events, newest first.
    pub async fn issue_events(
        &self,
        issue_id: i64,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        event::Entity::find()
            .filter(event::Column::IssueId.eq(issue_id))
            .order_by_desc(event::Column::Id)
            .offset(offset)
            .limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(StoredEvent::decode)
            .collect()
    }

    /// One stored event of an issue, by its event id.
    /// The affected users of `issue_id` with the keys `keys` (the ones a page of events
    /// names), by key.
    pub async fn users_by_key(
        &self,
        issue_id: i64,
        keys: &[&str],
    ) -> Result<std::collections::HashMap<String, affected_user::Model>, StoreError> {
        if keys.is_empty() {
            return Ok(Default::default());
        }
        Ok(affected_user::Entity::find()
            .filter(affected_user::Column::IssueId.eq(issue_id))
            .filter(affected_user::Column::UserKey.is_in(keys.iter().copied()))
            .all(self.db())
            .await?
            .into_iter()
            .map(|user| (user.user_key.clone(), user))
            .collect())
    }

    /// The events of `project_id` whose id is `id` (32 hex digits) or starts with it (a
    /// shorter prefix, as error pages show), at most two: one means the id is
    /// unambiguous. Found through the (project, event id) index as a range.
    pub async fn events_by_id(
        &self,
        project_id: i64,
        id: &str,
    ) -> Result<Vec<event::Model>, StoreError> {
        let select = event::Entity::find().filter(event::Column::ProjectId.eq(project_id));
        let select = if id.len() >= 32 {
            select.filter(event::Column::EventId.eq(id))
        } else {
            // Every id starting with the prefix sorts in [prefix, prefix + "g").
            select
                .filter(event::Column::EventId.gte(id))
                .filter(event::Column::EventId.lt(format!("{id}g")))
        };
        Ok(select.limit(2).all(self.db()).await?)
    }

    pub async fn event_of_issue(
        &self,
        issue_id: i64,
        event_id: &str,
    ) -> Result<Option<StoredEvent>, StoreError> {
        event::Entity::find()
            .filter(event::Column::IssueId.eq(issue_id))
            .filter(event::Column::EventId.eq(event_id))
            .one(self.db())
            .await?
            .map(StoredEvent::decode)
            .transpose()
    }

    /// The neighbours of event row `event_row_id` in issue `issue_id`.
    pub async fn event_links(
        &self,
        issue_id: i64,
        event_row_id: i64,
    ) -> Result<EventLinks, StoreError> {
        let id_of = |query: sea_orm::Select<event::Entity>| async move {
            query
                .select_only()
                .column(event::Column::EventId)
                .limit(1)
                .into_tuple::<String>()
                .one(self.db())
                .await
        };
        let of_issue = || event::Entity::find().filter(event::Column::IssueId.eq(issue_id));
        Ok(EventLinks {
            newer: id_of(
                of_issue()
                    .filter(event::Column::Id.gt(event_row_id))
                    .order_by_asc(event::Column::Id),
            )
            .await?,
            older: id_of(
                of_issue()
                    .filter(event::Column::Id.lt(event_row_id))
                    .order_by_desc(event::Column::Id),
            )
            .await?,
            first: id_of(of_issue().order_by_asc(event::Column::Id)).await?,
            latest: id_of(of_issue().order_by_desc(event::Column::Id)).await?,
        })
    }

    /// How many events are stored for an issue (retention may have removed some).
    pub async fn stored_event_count(&self, issue_id: i64) -> Result<u64, StoreError> {
        Ok(event::Entity::find()
            .filter(event::Column::IssueId.eq(issue_id))
            .count(self.db())
            .await?)
    }
}

/// zstd's level for stored events: on the ingest benchmark's 5.8 KiB event, level 1
/// takes 2.5% fewer of ingest's instructions than level 3 and stores 1.5% fewer bytes.
const PAYLOAD_LEVEL: i32 = 1;

/// Compresses an event's JSON for storage, with a compression context kept per thread:
/// making one costs more than compressing a small event.
pub fn encode_payload(json: &[u8]) -> Result<Vec<u8>, std::io::Error> {
    thread_local! {
        static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
            const { std::cell::RefCell::new(None) };
    }
    COMPRESSOR.with(|slot| {
        let mut slot = slot.borrow_mut();
        if slot.is_none() {
            *slot = Some(zstd::bulk::Compressor::new(PAYLOAD_LEVEL)?);
        }
        match slot.as_mut() {
            Some(compressor) => compressor.compress(json),
            None => zstd::stream::encode_all(json, PAYLOAD_LEVEL),
        }
    })
}

/// Reads a stored event back: its payload, and where the sender left out the event's
/// id, time or level, the row's (what ingest assigned; the time is the one the event is
/// ordered by, the receive time when it had none).
///
/// The payload is the text the sender sent unless the collector changed the event
/// (symbolication, a sample event): re-writing every event's JSON only to add what
/// the row holds anyway cost about a tenth of ingest's instructions.
pub fn decode_event(row: &event::Model) -> Result<Event, StoreError> {
    let json = zstd::stream::decode_all(&row.payload[..])
        .map_err(|e| StoreError::Payload(e.to_string()))?;
    let mut event = Event::from_json(&json).map_err(|e| StoreError::Payload(e.to_string()))?;
    if event.event_id.is_none() {
        event.event_id = row.event_id.parse().ok();
    }
    event
        .timestamp
        .get_or_insert(Timestamp(row.timestamp as f64 / 1000.0));
    event.level.get_or_insert(row.level.into());
    Ok(event)
}
