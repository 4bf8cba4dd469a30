//! The notification outbox: rows written with the event that caused them, claimed by
//! workers with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL), marked sent or failed.

use mayday_protocol::Event;
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement,
};

use super::entities::{
    Channel, DeliveryStatus, NotificationKind, account, alert_fire, alert_rule, event, issue,
    monitor, outbox, outreach_message, project, recipient, webhook,
};
use super::events::decode_event;
use super::{Store, StoreError, now_ms};

/// Everything needed to write one notification.
#[derive(Debug, Clone)]
pub struct NotificationContext {
    /// The outbox row.
    pub row: outbox::Model,
    /// The project.
    pub project: project::Model,
    /// What it is about.
    pub about: About,
    /// Email recipients (channel `email`).
    pub recipients: Vec<String>,
    /// The webhook (channel `webhook`).
    pub webhook: Option<webhook::Model>,
    /// The issue's assignee's email, when it has one.
    pub assignee: Option<String>,
}

/// What a notification is about.
#[derive(Debug, Clone)]
pub enum About {
    /// An issue, and the event that caused the notification (an empty one when
    /// retention removed it).
    Issue {
        /// The issue.
        issue: Box<issue::Model>,
        /// The event.
        event: Box<Event>,
    },
    /// A message to a user an issue affected (the recipient is that user).
    Outreach {
        /// The message.
        message: Box<outreach_message::Model>,
    },
    /// A monitor (gone when it was deleted since), and what the notification says,
    /// as written when its state changed.
    Monitor {
        /// The monitor.
        monitor: Option<Box<monitor::Model>>,
        /// The `detail` JSON.
        detail: String,
    },
}

impl Store {
    /// The rules that alerted about any of `issue_ids`, with the issue: for the
    /// alerts that follow the issue (PagerDuty's resolve).
    pub async fn rules_fired_for(
        &self,
        issue_ids: &[i64],
    ) -> Result<Vec<(i64, alert_rule::Model)>, StoreError> {
        if issue_ids.is_empty() {
            return Ok(Vec::new());
        }
        let fires = alert_fire::Entity::find()
            .filter(alert_fire::Column::IssueId.is_in(issue_ids.iter().copied()))
            .all(self.db())
            .await?;
        let rules: std::collections::HashMap<i64, alert_rule::Model> = alert_rule::Entity::find()
            .filter(alert_rule::Column::Id.is_in(fires.iter().map(|f| f.rule_id)))
            .all(self.db())
            .await?
            .into_iter()
            .map(|rule| (rule.id, rule))
            .collect();
        Ok(fires
            .into_iter()
            .filter_map(|fire| Some((fire.issue_id, rules.get(&fire.rule_id)?.clone())))
            .collect())
    }

    /// Queues one delivery of `kind` about issue `issue_id` of `project_id` per
    /// `(channel, action JSON)`, for alert rule `rule_id` if one asked, due now.
    pub async fn queue_issue_actions(
        &self,
        project_id: i64,
        issue_id: i64,
        rule_id: Option<i64>,
        kind: NotificationKind,
        actions: Vec<(Channel, String)>,
    ) -> Result<(), StoreError> {
        if actions.is_empty() {
            return Ok(());
        }
        let notice = Notice {
            project_id,
            issue_id,
            event_row_id: None,
            kind,
            at: now_ms(),
            rule_id,
            targets: actions
                .into_iter()
                .map(|(channel, json)| Target::Action(channel, json))
                .collect(),
        };
        self.write(async |txn| {
            queue(txn, [&notice]).await?;
            Ok(())
        })
        .await
    }

    /// A project's notifications (of one issue when `issue_id` is given), newest first, at
    /// most `limit`: where each stands in its delivery (settings and issue pages, API).
    pub async fn notifications(
        &self,
        project_id: i64,
        issue_id: Option<i64>,
        limit: u64,
    ) -> Result<Vec<outbox::Model>, StoreError> {
        let mut select = outbox::Entity::find().filter(outbox::Column::ProjectId.eq(project_id));
        if let Some(issue_id) = issue_id {
            select = select.filter(outbox::Column::IssueId.eq(issue_id));
        }
        Ok(select
            .order_by_desc(outbox::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?)
    }

    /// Claims up to `limit` due notifications for `lease_ms`, so that no other worker
    /// (in this process or another) takes them meanwhile. On PostgreSQL rows locked by
    /// another claim are skipped (`FOR UPDATE SKIP LOCKED`); SQLite serializes writers.
    pub async fn claim_notifications(
        &self,
        limit: u64,
        lease_ms: i64,
    ) -> Result<Vec<outbox::Model>, StoreError> {
        let now = now_ms();
        let backend = self.db().get_database_backend();
        let sql = match backend {
            DbBackend::Postgres => {
                "UPDATE outbox SET claimed_until = $1, attempts = attempts + 1 \
                 WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $2 \
                 AND (claimed_until IS NULL OR claimed_until < $2) ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED) \
                 RETURNING *"
            }
            _ => {
                "UPDATE outbox SET claimed_until = ?, attempts = attempts + 1 \
                 WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? \
                 AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY id LIMIT ?) \
                 RETURNING *"
            }
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let values: Vec<sea_orm::Value> = match backend {
            DbBackend::Postgres => vec![(now + lease_ms).into(), now.into(), limit.into()],
            _ => vec![
                (now + lease_ms).into(),
                now.into(),
                now.into(),
                limit.into(),
            ],
        };
        let statement = Statement::from_sql_and_values(backend, sql, values);
        self.write(async |txn| {
            Ok(outbox::Entity::find()
                .from_raw_sql(statement)
                .all(txn)
                .await?)
        })
        .await
    }

    /// Marks a notification delivered.
    pub async fn mark_sent(&self, id: i64) -> Result<(), StoreError> {
        self.update_outbox(id, |row| {
            row.status = Set(DeliveryStatus::Sent);
            row.sent_at = Set(Some(now_ms()));
            row.claimed_until = Set(None);
            row.last_error = Set(None);
        })
        .await
    }

    /// Records a failed attempt: retried at `retry_at`, or given up when `None`.
    pub async fn mark_attempt_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<i64>,
    ) -> Result<(), StoreError> {
        let error: String = error.chars().take(1000).collect();
        self.update_outbox(id, move |row| {
            row.last_error = Set(Some(error));
            row.claimed_until = Set(None);
            match retry_at {
                Some(at) => row.next_attempt_at = Set(at),
                None => row.status = Set(DeliveryStatus::Failed),
            }
        })
        .await
    }

    async fn update_outbox(
        &self,
        id: i64,
        change: impl FnOnce(&mut outbox::ActiveModel),
    ) -> Result<(), StoreError> {
        self.write(async |txn| {
            let row = outbox::Entity::find_by_id(id)
                .one(txn)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("notification {id}")))?;
            let mut active: outbox::ActiveModel = row.into();
            change(&mut active);
            active.update(txn).await?;
            Ok(())
        })
        .await
    }

    /// Loads what a notification talks about.
    pub async fn notification_context(
        &self,
        row: outbox::Model,
    ) -> Result<NotificationContext, StoreError> {
        let project = project::Entity::find_by_id(row.project_id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("project {}", row.project_id)))?;
        if let Some(message_id) = row.outreach_id {
            let message = outreach_message::Entity::find_by_id(message_id)
                .one(self.db())
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("message {message_id}")))?;
            return Ok(NotificationContext {
                recipients: vec![message.email.clone()],
                row,
                project,
                about: About::Outreach {
                    message: Box::new(message),
                },
                webhook: None,
                assignee: None,
            });
        }
        let about = match (row.issue_id, row.monitor_id) {
            (Some(issue_id), _) => {
                let issue = issue::Entity::find_by_id(issue_id)
                    .one(self.db())
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("issue {issue_id}")))?;
                // Retention may have removed the event; the notification still goes out.
                let event = match row.event_row_id {
                    Some(id) => event::Entity::find_by_id(id).one(self.db()).await?,
                    None => None,
                };
                let event = match event {
                    Some(event) => decode_event(&event)?,
                    None => Event::default(),
                };
                About::Issue {
                    issue: Box::new(issue),
                    event: Box::new(event),
                }
            }
            (None, Some(monitor_id)) => About::Monitor {
                monitor: monitor::Entity::find_by_id(monitor_id)
                    .one(self.db())
                    .await?
                    .map(Box::new),
                detail: row.detail.clone().unwrap_or_default(),
            },
            (None, None) => {
                return Err(StoreError::NotFound(format!(
                    "the subject of notification {}",
                    row.id
                )));
            }
        };
        let recipients = if row.channel == Channel::Email {
            self.recipients(row.project_id).await?
        } else {
            Vec::new()
        };
        let webhook = match row.webhook_id {
            Some(id) => webhook::Entity::find_by_id(id).one(self.db()).await?,
            None => None,
        };
        let assignee = match &about {
            About::Issue { issue, .. } => match issue.assignee_id {
                Some(id) => account::Entity::find_by_id(id)
                    .one(self.db())
                    .await?
                    .map(|a| a.email),
                None => None,
            },
            _ => None,
        };
        Ok(NotificationContext {
            row,
            project,
            about,
            recipients,
            webhook,
            assignee,
        })
    }
}

/// Where one of a notice's deliveries goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// One email to the project's recipients (none when it has none).
    Recipients,
    /// One signed POST to each of the project's webhooks.
    Webhooks,
    /// One delivery of a rule's action: its channel and its JSON.
    Action(Channel, String),
}

/// A notification to queue: `kind`, about `issue_id`, triggered by event row
/// `event_row_id`, raised by alert rule `rule_id`, to `targets`.
#[derive(Debug, Clone)]
pub(crate) struct Notice {
    pub(crate) project_id: i64,
    pub(crate) issue_id: i64,
    pub(crate) event_row_id: Option<i64>,
    pub(crate) kind: NotificationKind,
    pub(crate) at: i64,
    pub(crate) rule_id: Option<i64>,
    pub(crate) targets: Vec<Target>,
}

/// Writes the outbox rows of `notices`, one per target (one per webhook for
/// [`Target::Webhooks`]), in the transaction of the events that caused them (a handful
/// of statements however many notices). Returns the rows written per notice.
pub(crate) async fn queue<'n>(
    txn: &impl ConnectionTrait,
    notices: impl IntoIterator<Item = &'n Notice>,
) -> Result<Vec<usize>, DbErr> {
    let notices: Vec<&Notice> = notices.into_iter().collect();
    if notices.is_empty() {
        return Ok(Vec::new());
    }
    let projects: Vec<i64> = notices.iter().map(|n| n.project_id).collect();
    let (with_recipients, webhooks) = destinations(txn, projects).await?;
    let mut insert = Query::insert();
    insert.into_table(outbox::Entity).columns([
        outbox::Column::ProjectId,
        outbox::Column::IssueId,
        outbox::Column::EventRowId,
        outbox::Column::Kind,
        outbox::Column::Channel,
        outbox::Column::WebhookId,
        outbox::Column::RuleId,
        outbox::Column::Action,
        outbox::Column::Status,
        outbox::Column::Attempts,
        outbox::Column::NextAttemptAt,
        outbox::Column::CreatedAt,
    ]);
    let mut written = Vec::with_capacity(notices.len());
    for notice in &notices {
        let mut rows: Vec<(Channel, Option<i64>, Option<&str>)> = Vec::new();
        for target in &notice.targets {
            match target {
                Target::Recipients | Target::Webhooks => rows.extend(
                    channels_of(notice.project_id, &with_recipients, &webhooks)
                        .into_iter()
                        .filter(|(channel, _)| {
                            (*channel == Channel::Email) == (*target == Target::Recipients)
                        })
                        .map(|(channel, hook)| (channel, hook, None)),
                ),
                Target::Action(channel, json) => rows.push((*channel, None, Some(json))),
            }
        }
        for (channel, webhook_id, action) in &rows {
            insert
                .values([
                    notice.project_id.into(),
                    Some(notice.issue_id).into(),
                    notice.event_row_id.into(),
                    notice.kind.into(),
                    (*channel).into(),
                    (*webhook_id).into(),
                    notice.rule_id.into(),
                    action.map(str::to_owned).into(),
                    DeliveryStatus::Pending.into(),
                    0i64.into(),
                    notice.at.into(),
                    notice.at.into(),
                ])
                .map_err(|e| DbErr::Custom(e.to_string()))?;
        }
        written.push(rows.len());
    }
    if written.iter().sum::<usize>() > 0 {
        txn.execute(txn.get_database_backend().build(&insert))
            .await?;
    }
    let at = notices.iter().map(|n| n.at).max().unwrap_or_default();
    let notified = Query::update()
        .table(issue::Entity)
        .value(issue::Column::LastNotifiedAt, at)
        .and_where(issue::Column::Id.is_in(notices.iter().map(|n| n.issue_id)))
        .to_owned();
    txn.execute(txn.get_database_backend().build(&notified))
        .await?;
    Ok(written)
}

/// Of `projects`, those with email recipients, and every `(webhook, project)`.
async fn destinations(
    txn: &impl ConnectionTrait,
    projects: Vec<i64>,
) -> Result<(Vec<i64>, Vec<(i64, i64)>), DbErr> {
    let with_recipients: Vec<i64> = recipient::Entity::find()
        .select_only()
        .column(recipient::Column::ProjectId)
        .filter(recipient::Column::ProjectId.is_in(projects.clone()))
        .distinct()
        .into_tuple()
        .all(txn)
        .await?;
    let webhooks: Vec<(i64, i64)> = webhook::Entity::find()
        .select_only()
        .column(webhook::Column::Id)
        .column(webhook::Column::ProjectId)
        .filter(webhook::Column::ProjectId.is_in(projects))
        .order_by_asc(webhook::Column::Id)
        .into_tuple()
        .all(txn)
        .await?;
    Ok((with_recipients, webhooks))
}

/// Where a notification of `project_id` goes: one email (when it has recipients) and
/// each of its webhooks.
fn channels_of(
    project_id: i64,
    with_recipients: &[i64],
    webhooks: &[(i64, i64)],
) -> Vec<(Channel, Option<i64>)> {
    let mut channels: Vec<(Channel, Option<i64>)> = Vec::new();
    if with_recipients.contains(&project_id) {
        channels.push((Channel::Email, None));
    }
    channels.extend(
        webhooks
            .iter()
            .filter(|(_, project)| *project == project_id)
            .map(|(id, _)| (Channel::Webhook, Some(*id))),
    );
    channels
}

/// Queues a monitor's notification `kind` saying `detail` (JSON), in the transaction
/// that changed the monitor, to the same destinations as the project's issues.
pub(crate) async fn queue_monitor(
    txn: &impl ConnectionTrait,
    monitor: &monitor::Model,
    kind: NotificationKind,
    detail: &str,
) -> Result<(), DbErr> {
    let (with_recipients, webhooks) = destinations(txn, vec![monitor.project_id]).await?;
    let now = super::now_ms();
    for (channel, webhook_id) in channels_of(monitor.project_id, &with_recipients, &webhooks) {
        let mut row = pending(monitor.project_id, kind, channel, now);
        row.monitor_id = Set(Some(monitor.id));
        row.detail = Set(Some(detail.to_owned()));
        row.webhook_id = Set(webhook_id);
        row.insert(txn).await?;
    }
    Ok(())
}

impl Store {
    /// Queues the notification that someone wrote about issue `issue_id` (their event
    /// row `event_row_id`), their words as `detail` (JSON), to `targets`. Unlike an
    /// alert it leaves the issue's last-notified time alone.
    pub(crate) async fn queue_feedback_notice(
        &self,
        project_id: i64,
        issue_id: i64,
        event_row_id: i64,
        detail: &str,
        targets: &[Target],
    ) -> Result<usize, StoreError> {
        self.write(async |txn| {
            let (with_recipients, webhooks) = destinations(txn, vec![project_id]).await?;
            let now = super::now_ms();
            let mut rows: Vec<(Channel, Option<i64>, Option<&str>)> = Vec::new();
            for target in targets {
                match target {
                    Target::Recipients | Target::Webhooks => rows.extend(
                        channels_of(project_id, &with_recipients, &webhooks)
                            .into_iter()
                            .filter(|(channel, _)| {
                                (*channel == Channel::Email) == (*target == Target::Recipients)
                            })
                            .map(|(channel, hook)| (channel, hook, None)),
                    ),
                    Target::Action(channel, json) => rows.push((*channel, None, Some(json))),
                }
            }
            for (channel, webhook_id, action) in &rows {
                let mut row = pending(project_id, NotificationKind::Feedback, *channel, now);
                row.issue_id = Set(Some(issue_id));
                row.event_row_id = Set(Some(event_row_id));
                row.detail = Set(Some(detail.to_owned()));
                row.webhook_id = Set(*webhook_id);
                row.action = Set(action.map(str::to_owned));
                row.insert(txn).await?;
            }
            Ok(rows.len())
        })
        .await
    }
}

/// A new outbox row of `kind` for `channel`, due at `now`, about nothing yet (the
/// caller sets the issue, monitor or message it carries).
pub(crate) fn pending(
    project_id: i64,
    kind: NotificationKind,
    channel: Channel,
    now: i64,
) -> outbox::ActiveModel {
    outbox::ActiveModel {
        project_id: Set(project_id),
        issue_id: Set(None),
        event_row_id: Set(None),
        monitor_id: Set(None),
        detail: Set(None),
        outreach_id: Set(None),
        kind: Set(kind),
        channel: Set(channel),
        webhook_id: Set(None),
        rule_id: Set(None),
        action: Set(None),
        status: Set(DeliveryStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now),
        claimed_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        ..Default::default()
    }
}
