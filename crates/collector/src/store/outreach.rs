//! Messages to the users an issue affected: the once-per-user-and-issue rule and the
//! weekly cap enforced in the transaction that queues them (with their outbox rows), the
//! do-not-contact list, and follow-ups waiting for a fix to go live.

use std::collections::{BTreeSet, HashMap, HashSet};

use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::entities::{
    Channel, FilterKind, NotificationKind, OutreachKind, affected_user, do_not_contact, event,
    filter_value, outbox, outreach_fix, outreach_message, project,
};
use super::events::decode_event;
use super::{Store, StoreError, now_ms, random_hex};
use crate::address::normal_or_lower;

/// A message to queue.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// The issue.
    pub issue_id: i64,
    /// The user.
    pub user_key: String,
    /// Their address.
    pub email: String,
    /// Their name.
    pub name: Option<String>,
    /// Personal or fixed.
    pub kind: OutreachKind,
    /// Subject, filled in.
    pub subject: String,
    /// Text, filled in.
    pub body: String,
}

/// Why a message was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// The user was written to about this issue already.
    AlreadyContacted,
    /// The address unsubscribed from this project's messages.
    DoNotContact,
    /// The address got the project's weekly most already.
    WeeklyLimit,
    /// The user has no email address.
    NoEmail,
    /// Not a user of this issue.
    NotAffected,
    /// The project's admins turned outreach off.
    OutreachOff,
}

impl Refusal {
    /// In words, for pages.
    pub fn words(self) -> &'static str {
        match self {
            Refusal::AlreadyContacted => "already written to about this issue",
            Refusal::DoNotContact => "unsubscribed",
            Refusal::WeeklyLimit => "got this week's most messages already",
            Refusal::NoEmail => "no email address",
            Refusal::NotAffected => "not a user of this issue",
            Refusal::OutreachOff => "outreach is off for this project",
        }
    }
}

/// A project's outreach settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutreachSettings {
    /// On or off.
    pub enabled: bool,
    /// Sender.
    pub from: Option<String>,
    /// Reply-to.
    pub reply_to: Option<String>,
    /// Messages per address per 7 days.
    pub weekly_limit: i64,
    /// The personal message's subject and text.
    pub subject: Option<String>,
    /// The personal message's text.
    pub template: Option<String>,
    /// The fixed follow-up's subject.
    pub fixed_subject: Option<String>,
    /// The fixed follow-up's text.
    pub fixed_template: Option<String>,
}

/// Seven days.
pub const WEEK_MS: i64 = 7 * 86_400_000;

impl Store {
    /// An issue's users, most recent first (at most `limit`), each with their latest
    /// event of the issue.
    pub async fn users_with_latest_event(
        &self,
        issue_id: i64,
        limit: u64,
    ) -> Result<Vec<(affected_user::Model, Option<mayday_protocol::Event>)>, StoreError> {
        let users = affected_user::Entity::find()
            .filter(affected_user::Column::IssueId.eq(issue_id))
            .order_by_desc(affected_user::Column::LastSeen)
            .limit(limit)
            .all(self.db())
            .await?;
        let mut found = Vec::with_capacity(users.len());
        for user in users {
            let latest = event::Entity::find()
                .filter(event::Column::IssueId.eq(issue_id))
                .filter(event::Column::UserKey.eq(user.user_key.as_str()))
                .order_by_desc(event::Column::Id)
                .one(self.db())
                .await?;
            let event = match latest {
                Some(row) => decode_event(&row).ok(),
                None => None,
            };
            found.push((user, event));
        }
        Ok(found)
    }

    /// An issue's latest event row (its release and environment).
    pub async fn issue_latest_event(
        &self,
        issue_id: i64,
    ) -> Result<Option<event::Model>, StoreError> {
        Ok(event::Entity::find()
            .filter(event::Column::IssueId.eq(issue_id))
            .order_by_desc(event::Column::Id)
            .one(self.db())
            .await?)
    }

    /// An issue's messages to users, newest first, each with its delivery (the outbox
    /// row), if it is still there.
    pub async fn outreach_messages(
        &self,
        issue_id: i64,
    ) -> Result<Vec<(outreach_message::Model, Option<outbox::Model>)>, StoreError> {
        let messages = outreach_message::Entity::find()
            .filter(outreach_message::Column::IssueId.eq(issue_id))
            .order_by_desc(outreach_message::Column::Id)
            .all(self.db())
            .await?;
        let ids: Vec<i64> = messages.iter().map(|m| m.id).collect();
        let rows = outbox::Entity::find()
            .filter(outbox::Column::OutreachId.is_in(ids))
            .all(self.db())
            .await?;
        let mut by_message: HashMap<i64, outbox::Model> = rows
            .into_iter()
            .filter_map(|row| row.outreach_id.map(|id| (id, row)))
            .collect();
        Ok(messages
            .into_iter()
            .map(|m| {
                let delivery = by_message.remove(&m.id);
                (m, delivery)
            })
            .collect())
    }

    /// The addresses that unsubscribed from a project's messages, lower-cased.
    pub async fn do_not_contact(&self, project_id: i64) -> Result<Vec<String>, StoreError> {
        Ok(do_not_contact::Entity::find()
            .select_only()
            .column(do_not_contact::Column::Email)
            .filter(do_not_contact::Column::ProjectId.eq(project_id))
            .into_tuple::<String>()
            .all(self.db())
            .await?
            .iter()
            .map(|e| normal_or_lower(e))
            .collect())
    }

    /// Messages each address got from a project since `since`, by lower-cased address.
    pub async fn messages_since(
        &self,
        project_id: i64,
        since: i64,
    ) -> Result<HashMap<String, i64>, StoreError> {
        messages_since(self.db(), project_id, since).await
    }

    /// Queues `messages` of project `project_id` from `sent_by` with their outbox rows,
    /// in one transaction that checks each against the do-not-contact list, the weekly
    /// cap (`weekly_limit` per address per 7 days; the project's row is locked, so two
    /// collectors queuing at once take turns) and once per user and issue (a unique
    /// index). Returns, per message,
    /// the queued row or why not.
    pub async fn queue_outreach(
        &self,
        project_id: i64,
        sent_by: &str,
        weekly_limit: i64,
        messages: Vec<NewMessage>,
    ) -> Result<Vec<Result<outreach_message::Model, Refusal>>, StoreError> {
        let sent_by = sent_by.to_owned();
        self.write(async |txn| {
            let now = now_ms();
            // One queuing per project at a time (SQLite's write turn does this by
            // itself), so that the weekly most holds across collectors.
            if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
                project::Entity::find_by_id(project_id)
                    .lock_exclusive()
                    .one(txn)
                    .await?;
            }
            let blocked: Vec<String> = do_not_contact::Entity::find()
                .select_only()
                .column(do_not_contact::Column::Email)
                .filter(do_not_contact::Column::ProjectId.eq(project_id))
                .into_tuple::<String>()
                .all(txn)
                .await?
                .iter()
                .map(|e| normal_or_lower(e))
                .collect();
            let mut sent = messages_since(txn, project_id, now - WEEK_MS).await?;
            // Once per person and issue, whichever form of the address each event had.
            let issues: BTreeSet<i64> = messages.iter().map(|m| m.issue_id).collect();
            let mut written: HashSet<(i64, String)> = outreach_message::Entity::find()
                .select_only()
                .column(outreach_message::Column::IssueId)
                .column(outreach_message::Column::Email)
                .filter(outreach_message::Column::IssueId.is_in(issues))
                .into_tuple::<(i64, String)>()
                .all(txn)
                .await?
                .into_iter()
                .map(|(issue, email)| (issue, normal_or_lower(&email)))
                .collect();
            let mut results = Vec::with_capacity(messages.len());
            for message in messages {
                let address = normal_or_lower(&message.email);
                if blocked.contains(&address) {
                    results.push(Err(Refusal::DoNotContact));
                    continue;
                }
                if written.contains(&(message.issue_id, address.clone())) {
                    results.push(Err(Refusal::AlreadyContacted));
                    continue;
                }
                let count = sent.entry(address.clone()).or_insert(0);
                if *count >= weekly_limit {
                    results.push(Err(Refusal::WeeklyLimit));
                    continue;
                }
                let insert = Query::insert()
                    .into_table(outreach_message::Entity)
                    .columns([
                        outreach_message::Column::ProjectId,
                        outreach_message::Column::IssueId,
                        outreach_message::Column::UserKey,
                        outreach_message::Column::Email,
                        outreach_message::Column::Name,
                        outreach_message::Column::Kind,
                        outreach_message::Column::Subject,
                        outreach_message::Column::Body,
                        outreach_message::Column::SentBy,
                        outreach_message::Column::UnsubscribeToken,
                        outreach_message::Column::CreatedAt,
                    ])
                    .values_panic([
                        project_id.into(),
                        message.issue_id.into(),
                        message.user_key.clone().into(),
                        message.email.clone().into(),
                        message.name.clone().into(),
                        message.kind.into(),
                        message.subject.clone().into(),
                        message.body.clone().into(),
                        sent_by.clone().into(),
                        random_hex(1).into(),
                        now.into(),
                    ])
                    .on_conflict(
                        OnConflict::columns([
                            outreach_message::Column::IssueId,
                            outreach_message::Column::UserKey,
                        ])
                        .do_nothing()
                        .to_owned(),
                    )
                    .returning_all()
                    .to_owned();
                let statement = txn.get_database_backend().build(&insert);
                let Some(row) = outreach_message::Entity::find()
                    .from_raw_sql(statement)
                    .one(txn)
                    .await?
                else {
                    results.push(Err(Refusal::AlreadyContacted));
                    continue;
                };
                *count += 1;
                written.insert((message.issue_id, address));
                let kind = match message.kind {
                    OutreachKind::Personal => NotificationKind::Outreach,
                    OutreachKind::Fixed => NotificationKind::OutreachFixed,
                };
                let mut delivery = super::outbox::pending(project_id, kind, Channel::Email, now);
                delivery.issue_id = Set(Some(message.issue_id));
                delivery.outreach_id = Set(Some(row.id));
                delivery.insert(txn).await?;
                results.push(Ok(row));
            }
            Ok(results)
        })
        .await
    }

    /// The message with unsubscribe token `token`.
    pub async fn message_by_unsubscribe_token(
        &self,
        token: &str,
    ) -> Result<Option<outreach_message::Model>, StoreError> {
        Ok(outreach_message::Entity::find()
            .filter(outreach_message::Column::UnsubscribeToken.eq(token))
            .one(self.db())
            .await?)
    }

    /// The message a delivery carries.
    pub async fn outreach_message(
        &self,
        id: i64,
    ) -> Result<Option<outreach_message::Model>, StoreError> {
        Ok(outreach_message::Entity::find_by_id(id)
            .one(self.db())
            .await?)
    }

    /// Puts `email` on project `project_id`'s do-not-contact list (again is fine).
    pub async fn add_do_not_contact(&self, project_id: i64, email: &str) -> Result<(), StoreError> {
        let email = normal_or_lower(email);
        self.write(async |txn| {
            do_not_contact::Entity::insert(do_not_contact::ActiveModel {
                project_id: Set(project_id),
                email: Set(email),
                created_at: Set(now_ms()),
                ..Default::default()
            })
            .on_conflict(
                OnConflict::columns([
                    do_not_contact::Column::ProjectId,
                    do_not_contact::Column::Email,
                ])
                .do_nothing()
                .to_owned(),
            )
            .do_nothing()
            .exec(txn)
            .await?;
            Ok(())
        })
        .await
    }

    /// A project's outreach settings.
    pub fn outreach_settings(project: &project::Model) -> OutreachSettings {
        OutreachSettings {
            enabled: project.outreach_enabled,
            from: project.outreach_from.clone(),
            reply_to: project.outreach_reply_to.clone(),
            weekly_limit: project.outreach_weekly_limit,
            subject: project.outreach_subject.clone(),
            template: project.outreach_template.clone(),
            fixed_subject: project.outreach_fixed_subject.clone(),
            fixed_template: project.outreach_fixed_template.clone(),
        }
    }

    /// Saves a project's outreach settings.
    pub async fn set_outreach_settings(
        &self,
        project_id: i64,
        settings: OutreachSettings,
    ) -> Result<(), StoreError> {
        self.write(async |txn| {
            let found = project::Entity::find_by_id(project_id)
                .one(txn)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("project {project_id}")))?;
            let mut active: project::ActiveModel = found.into();
            active.outreach_enabled = Set(settings.enabled);
            active.outreach_from = Set(settings.from);
            active.outreach_reply_to = Set(settings.reply_to);
            active.outreach_weekly_limit = Set(settings.weekly_limit);
            active.outreach_subject = Set(settings.subject);
            active.outreach_template = Set(settings.template);
            active.outreach_fixed_subject = Set(settings.fixed_subject);
            active.outreach_fixed_template = Set(settings.fixed_template);
            active.update(txn).await?;
            Ok(())
        })
        .await
    }

    /// Asks for the fixed follow-up of an issue (again: asked anew, by whoever asks).
    pub async fn request_fix_follow_up(&self, row: outreach_fix::Model) -> Result<(), StoreError> {
        self.write(async |txn| {
            let mut active: outreach_fix::ActiveModel = row.into();
            active.id = sea_orm::NotSet;
            outreach_fix::Entity::insert(active)
                .on_conflict(
                    OnConflict::column(outreach_fix::Column::IssueId)
                        .update_columns([
                            outreach_fix::Column::AfterRelease,
                            outreach_fix::Column::Environment,
                            outreach_fix::Column::RequestedBy,
                            outreach_fix::Column::RequestedAt,
                            outreach_fix::Column::LiveAt,
                        ])
                        .to_owned(),
                )
                .exec(txn)
                .await?;
            Ok(())
        })
        .await
    }

    /// An issue's follow-up request, if any.
    pub async fn fix_follow_up(
        &self,
        issue_id: i64,
    ) -> Result<Option<outreach_fix::Model>, StoreError> {
        Ok(outreach_fix::Entity::find()
            .filter(outreach_fix::Column::IssueId.eq(issue_id))
            .one(self.db())
            .await?)
    }

    /// Follow-ups still waiting for their fix.
    pub async fn pending_fix_follow_ups(&self) -> Result<Vec<outreach_fix::Model>, StoreError> {
        Ok(outreach_fix::Entity::find()
            .filter(outreach_fix::Column::LiveAt.is_null())
            .order_by_asc(outreach_fix::Column::Id)
            .limit(100)
            .all(self.db())
            .await?)
    }

    /// Marks a follow-up's fix live at `now` unless it already is; `true` for the one
    /// caller that did (several collectors may see the fix at once).
    pub async fn mark_fix_live(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        self.write(async |txn| {
            let done = outreach_fix::Entity::update_many()
                .col_expr(outreach_fix::Column::LiveAt, now.into())
                .filter(outreach_fix::Column::Id.eq(id))
                .filter(outreach_fix::Column::LiveAt.is_null())
                .exec(txn)
                .await?;
            Ok(done.rows_affected == 1)
        })
        .await
    }

    /// Releases a project reported since `since` (from the filter values kept at ingest).
    pub async fn releases_seen_since(
        &self,
        project_id: i64,
        since: i64,
    ) -> Result<Vec<String>, StoreError> {
        Ok(filter_value::Entity::find()
            .select_only()
            .column(filter_value::Column::Value)
            .filter(filter_value::Column::ProjectId.eq(project_id))
            .filter(filter_value::Column::Kind.eq(FilterKind::Release))
            .filter(filter_value::Column::LastSeen.gte(since))
            .into_tuple()
            .all(self.db())
            .await?)
    }

    /// Whether an event of `release` came from `environment` (any, when `None`) in
    /// project `project_id` since `since`.
    pub async fn release_reported_in(
        &self,
        project_id: i64,
        release: &str,
        environment: Option<&str>,
        since: i64,
    ) -> Result<bool, StoreError> {
        let mut select = event::Entity::find()
            .select_only()
            .column(event::Column::Id)
            .filter(event::Column::ProjectId.eq(project_id))
            .filter(event::Column::Release.eq(release))
            .filter(event::Column::ReceivedAt.gte(since));
        if let Some(environment) = environment {
            select = select.filter(event::Column::Environment.eq(environment));
        }
        let found: Option<i64> = select.into_tuple().one(self.db()).await?;
        Ok(found.is_some())
    }
}

async fn messages_since(
    db: &impl ConnectionTrait,
    project_id: i64,
    since: i64,
) -> Result<HashMap<String, i64>, StoreError> {
    let rows: Vec<String> = outreach_message::Entity::find()
        .select_only()
        .column(outreach_message::Column::Email)
        .filter(outreach_message::Column::ProjectId.eq(project_id))
        .filter(outreach_message::Column::CreatedAt.gte(since))
        .into_tuple()
        .all(db)
        .await?;
    let mut counts = HashMap::new();
    for email in rows {
        *counts.entry(normal_or_lower(&email)).or_insert(0) += 1;
    }
    Ok(counts)
}
