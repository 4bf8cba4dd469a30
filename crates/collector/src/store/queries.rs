//! The queries the rest of the collector calls.

use std::fmt;
use std::str::FromStr;

use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseTransaction, DbErr, EntityTrait, NotSet,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};

use super::entities::{
    account, affected_user, api_token, event, issue, membership, outbox, project, project_key,
    recipient, webhook,
};
use super::{Store, StoreError, now_ms};

/// An issue's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IssueStatus {
    /// Open: new, or seen again after being resolved.
    Unresolved,
    /// Fixed; a new event reopens it as a regression.
    Resolved,
    /// Muted; new events are counted but it stays ignored.
    Ignored,
}

impl IssueStatus {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            IssueStatus::Unresolved => "unresolved",
            IssueStatus::Resolved => "resolved",
            IssueStatus::Ignored => "ignored",
        }
    }
}

impl fmt::Display for IssueStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IssueStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "unresolved" => Ok(IssueStatus::Unresolved),
            "resolved" => Ok(IssueStatus::Resolved),
            "ignored" => Ok(IssueStatus::Ignored),
            other => Err(format!(
                "unknown status {other:?} (expected unresolved, resolved or ignored)"
            )),
        }
    }
}

/// A project with its keys.
#[derive(Debug, Clone)]
pub struct ProjectWithKeys {
    /// The project.
    pub project: project::Model,
    /// Its keys.
    pub keys: Vec<project_key::Model>,
}

/// What the ingest path needs to know about a key.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    /// The key.
    pub key: project_key::Model,
    /// Its project.
    pub project: project::Model,
}

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
    /// Level name.
    pub level: String,
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
    /// When and how to queue notifications.
    pub notify: NotifyPolicy,
}

/// When an event queues a notification: a new issue and a regression always do; a spike
/// (more than `spike_threshold` events in `spike_window_ms`) does at most once per
/// `window_ms` per issue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotifyPolicy {
    /// Spike threshold; 0 turns spike notifications off.
    pub spike_threshold: i64,
    /// Spike window.
    pub spike_window_ms: i64,
    /// Quiet time per issue after a spike notification.
    pub window_ms: i64,
}

/// What storing an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// Sort orders of the issue list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueSort {
    /// Most recently seen first (default).
    #[default]
    LastSeen,
    /// Newest issues first.
    FirstSeen,
    /// Most events first.
    Events,
    /// Most affected users first.
    Users,
}

/// Filters of the issue list.
#[derive(Debug, Clone, Default)]
pub struct IssueFilter {
    /// Only this status.
    pub status: Option<IssueStatus>,
    /// Only issues with events in this environment.
    pub environment: Option<String>,
    /// Only issues with events in this release.
    pub release: Option<String>,
    /// Substring of the title or culprit.
    pub query: Option<String>,
    /// Order.
    pub sort: IssueSort,
    /// Rows to skip.
    pub offset: u64,
    /// Rows to return.
    pub limit: u64,
}

fn db_conflict(err: DbErr, what: &str) -> StoreError {
    let text = err.to_string().to_lowercase();
    if text.contains("unique") || text.contains("duplicate") {
        StoreError::Conflict(what.to_owned())
    } else {
        StoreError::Db(err)
    }
}

/// A new random public key or token: 32 hex digits per UUID.
pub fn random_hex(uuids: usize) -> String {
    (0..uuids)
        .map(|_| uuid::Uuid::new_v4().simple().to_string())
        .collect()
}

impl Store {
    /// Creates a project and its first key.
    pub async fn create_project(&self, name: &str) -> Result<ProjectWithKeys, StoreError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::NotFound("a project name".into()));
        }
        let txn = self.db().begin().await?;
        let project = project::ActiveModel {
            id: NotSet,
            name: Set(name.to_owned()),
            rate_limit_per_minute: Set(0),
            spike_threshold: Set(0),
            spike_window_minutes: Set(10),
            retention_events_per_issue: Set(0),
            retention_days: Set(0),
            created_at: Set(now_ms()),
        }
        .insert(&txn)
        .await
        .map_err(|e| db_conflict(e, &format!("project {name:?}")))?;
        let key = project_key::ActiveModel {
            id: NotSet,
            project_id: Set(project.id),
            public_key: Set(random_hex(1)),
            active: Set(true),
            created_at: Set(now_ms()),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(ProjectWithKeys {
            project,
            keys: vec![key],
        })
    }

    /// Every project with its keys, by id.
    pub async fn list_projects(&self) -> Result<Vec<ProjectWithKeys>, StoreError> {
        let projects = project::Entity::find()
            .order_by_asc(project::Column::Id)
            .all(self.db())
            .await?;
        let keys = project_key::Entity::find()
            .order_by_asc(project_key::Column::Id)
            .all(self.db())
            .await?;
        Ok(projects
            .into_iter()
            .map(|project| ProjectWithKeys {
                keys: keys
                    .iter()
                    .filter(|k| k.project_id == project.id)
                    .cloned()
                    .collect(),
                project,
            })
            .collect())
    }

    /// The project named `name`.
    pub async fn project_by_name(&self, name: &str) -> Result<project::Model, StoreError> {
        project::Entity::find()
            .filter(project::Column::Name.eq(name))
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("project {name:?}")))
    }

    /// Sets a project's events-per-minute limit per key (0: the collector's default).
    pub async fn set_rate_limit(&self, name: &str, per_minute: i64) -> Result<(), StoreError> {
        let project = self.project_by_name(name).await?;
        let mut active: project::ActiveModel = project.into();
        active.rate_limit_per_minute = Set(per_minute.max(0));
        active.update(self.db()).await?;
        Ok(())
    }

    /// Looks up a public key and its project.
    pub async fn find_key(&self, public_key: &str) -> Result<Option<KeyInfo>, StoreError> {
        let Some(key) = project_key::Entity::find()
            .filter(project_key::Column::PublicKey.eq(public_key))
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        let project = project::Entity::find_by_id(key.project_id)
            .one(self.db())
            .await?;
        Ok(project.map(|project| KeyInfo { key, project }))
    }

    /// Creates an account.
    pub async fn create_account(
        &self,
        email: &str,
        name: Option<&str>,
        password_hash: &str,
        is_admin: bool,
    ) -> Result<account::Model, StoreError> {
        account::ActiveModel {
            id: NotSet,
            email: Set(email.trim().to_lowercase()),
            name: Set(name.map(str::to_owned)),
            password_hash: Set(password_hash.to_owned()),
            is_admin: Set(is_admin),
            created_at: Set(now_ms()),
        }
        .insert(self.db())
        .await
        .map_err(|e| db_conflict(e, &format!("account {email:?}")))
    }

    /// The account with `email`.
    pub async fn account_by_email(&self, email: &str) -> Result<account::Model, StoreError> {
        account::Entity::find()
            .filter(account::Column::Email.eq(email.trim().to_lowercase()))
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("account {email:?}")))
    }

    /// How many accounts exist.
    pub async fn count_accounts(&self) -> Result<u64, StoreError> {
        Ok(account::Entity::find().count(self.db()).await?)
    }

    /// Adds an account to a project.
    pub async fn add_member(&self, project_name: &str, email: &str) -> Result<(), StoreError> {
        let project = self.project_by_name(project_name).await?;
        let account = self.account_by_email(email).await?;
        let exists = membership::Entity::find_by_id((project.id, account.id))
            .one(self.db())
            .await?
            .is_some();
        if !exists {
            membership::ActiveModel {
                project_id: Set(project.id),
                account_id: Set(account.id),
            }
            .insert(self.db())
            .await?;
        }
        Ok(())
    }

    /// Stores a token's hash for `account_id`.
    pub async fn create_token(&self, account_id: i64, token_hash: &str) -> Result<(), StoreError> {
        api_token::ActiveModel {
            id: NotSet,
            account_id: Set(account_id),
            token_hash: Set(token_hash.to_owned()),
            created_at: Set(now_ms()),
        }
        .insert(self.db())
        .await?;
        Ok(())
    }

    /// The account a token hash belongs to.
    pub async fn account_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<account::Model>, StoreError> {
        let Some(token) = api_token::Entity::find()
            .filter(api_token::Column::TokenHash.eq(token_hash))
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        Ok(account::Entity::find_by_id(token.account_id)
            .one(self.db())
            .await?)
    }

    /// The projects `account` may see: every project for admins, else its memberships.
    pub async fn visible_projects(
        &self,
        account: &account::Model,
    ) -> Result<Vec<project::Model>, StoreError> {
        let mut query = project::Entity::find().order_by_asc(project::Column::Id);
        if !account.is_admin {
            query = query.filter(
                project::Column::Id.in_subquery(
                    Query::select()
                        .column(membership::Column::ProjectId)
                        .from(membership::Entity)
                        .and_where(membership::Column::AccountId.eq(account.id))
                        .to_owned(),
                ),
            );
        }
        Ok(query.all(self.db()).await?)
    }

    /// Whether `account` may see project `project_id`.
    pub async fn can_see(
        &self,
        account: &account::Model,
        project_id: i64,
    ) -> Result<bool, StoreError> {
        if account.is_admin {
            return Ok(project::Entity::find_by_id(project_id)
                .one(self.db())
                .await?
                .is_some());
        }
        Ok(membership::Entity::find_by_id((project_id, account.id))
            .one(self.db())
            .await?
            .is_some())
    }

    /// Stores a batch of events in one transaction (group commit). When the batch fails
    /// as a whole (say, a concurrent writer created the same issue first), each event is
    /// retried in its own transaction so one problem does not fail the others.
    pub async fn ingest_batch(&self, batch: &[NewEvent]) -> Vec<Result<Stored, StoreError>> {
        match self.ingest_together(batch).await {
            Ok(stored) => stored.into_iter().map(Ok).collect(),
            Err(error) => {
                tracing::debug!(%error, size = batch.len(), "batch failed; storing one by one");
                let mut results = Vec::with_capacity(batch.len());
                for event in batch {
                    results.push(
                        self.ingest_together(std::slice::from_ref(event))
                            .await
                            .map(|mut s| s.remove(0)),
                    );
                }
                results
            }
        }
    }

    async fn ingest_together(&self, batch: &[NewEvent]) -> Result<Vec<Stored>, StoreError> {
        let _turn = self.write_turn().await;
        let txn = self.db().begin().await?;
        let mut stored = Vec::with_capacity(batch.len());
        for event in batch {
            stored.push(ingest_one(&txn, event).await?);
        }
        txn.commit().await?;
        Ok(stored)
    }

    /// Issues of a project, filtered, sorted and paged.
    pub async fn list_issues(
        &self,
        project_id: i64,
        filter: &IssueFilter,
    ) -> Result<Vec<issue::Model>, StoreError> {
        let mut condition = Condition::all().add(issue::Column::ProjectId.eq(project_id));
        if let Some(status) = filter.status {
            condition = condition.add(issue::Column::Status.eq(status.as_str()));
        }
        for (column, value) in [
            (event::Column::Environment, &filter.environment),
            (event::Column::Release, &filter.release),
        ] {
            if let Some(value) = value {
                // Correlated EXISTS: walking issues in list order and probing each one's
                // events (index on issue_id, environment/release) stops after a page.
                condition = condition.add(Expr::exists(
                    Query::select()
                        .expr(Expr::val(1))
                        .from(event::Entity)
                        .and_where(
                            Expr::col((event::Entity, event::Column::IssueId))
                                .equals((issue::Entity, issue::Column::Id)),
                        )
                        .and_where(Expr::col((event::Entity, column)).eq(value.as_str()))
                        .to_owned(),
                ));
            }
        }
        if let Some(query) = filter.query.as_deref().filter(|q| !q.trim().is_empty()) {
            let pattern = format!("%{}%", escape_like(query.trim()));
            condition = condition.add(
                Condition::any()
                    .add(
                        Expr::col(issue::Column::Title)
                            .like(sea_orm::sea_query::LikeExpr::new(&pattern).escape('\\')),
                    )
                    .add(
                        Expr::col(issue::Column::Culprit)
                            .like(sea_orm::sea_query::LikeExpr::new(&pattern).escape('\\')),
                    ),
            );
        }
        let mut query = issue::Entity::find().filter(condition);
        query = match filter.sort {
            IssueSort::LastSeen => query.order_by_desc(issue::Column::LastSeen),
            IssueSort::FirstSeen => query.order_by_desc(issue::Column::FirstSeen),
            IssueSort::Events => query.order_by_desc(issue::Column::EventCount),
            IssueSort::Users => query.order_by_desc(issue::Column::UserCount),
        };
        Ok(query
            .order_by_desc(issue::Column::Id)
            .offset(filter.offset)
            .limit(filter.limit)
            .all(self.db())
            .await?)
    }

    /// One issue.
    pub async fn issue(&self, issue_id: i64) -> Result<Option<issue::Model>, StoreError> {
        Ok(issue::Entity::find_by_id(issue_id).one(self.db()).await?)
    }

    /// Sets an issue's status.
    pub async fn set_issue_status(
        &self,
        issue_id: i64,
        status: IssueStatus,
    ) -> Result<issue::Model, StoreError> {
        let _turn = self.write_turn().await;
        let issue = self
            .issue(issue_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("issue {issue_id}")))?;
        let mut active: issue::ActiveModel = issue.into();
        active.status = Set(status.as_str().to_owned());
        active.resolved_at = Set((status == IssueStatus::Resolved).then(now_ms));
        Ok(active.update(self.db()).await?)
    }

    /// An issue's stored events, newest first, with their payloads decompressed.
    pub async fn issue_events(
        &self,
        issue_id: i64,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<(event::Model, serde_json::Value)>, StoreError> {
        let rows = event::Entity::find()
            .filter(event::Column::IssueId.eq(issue_id))
            .order_by_desc(event::Column::Id)
            .offset(offset)
            .limit(limit)
            .all(self.db())
            .await?;
        rows.into_iter()
            .map(|row| {
                let json = decode_payload(&row.payload)?;
                Ok((row, json))
            })
            .collect()
    }

    /// An issue's affected users, most recent first.
    pub async fn issue_users(
        &self,
        issue_id: i64,
    ) -> Result<Vec<affected_user::Model>, StoreError> {
        Ok(affected_user::Entity::find()
            .filter(affected_user::Column::IssueId.eq(issue_id))
            .order_by_desc(affected_user::Column::LastSeen)
            .all(self.db())
            .await?)
    }

    /// How many events are stored for an issue (retention may have removed some).
    pub async fn stored_event_count(&self, issue_id: i64) -> Result<u64, StoreError> {
        Ok(event::Entity::find()
            .filter(event::Column::IssueId.eq(issue_id))
            .count(self.db())
            .await?)
    }

    /// Deletes, per project, events older than its retention and, per issue, all but
    /// the newest events it keeps. A project's own settings (non-zero) override the
    /// defaults given here. Issue counts are kept. Returns how many rows were deleted.
    pub async fn apply_retention(
        &self,
        default_per_issue: u64,
        default_age_ms: i64,
    ) -> Result<u64, StoreError> {
        let projects = project::Entity::find().all(self.db()).await?;
        let _turn = self.write_turn().await;
        let mut deleted = 0;
        for project in projects {
            let per_issue = u64::try_from(project.retention_events_per_issue)
                .ok()
                .filter(|n| *n > 0)
                .unwrap_or(default_per_issue);
            let age_ms = Some(project.retention_days)
                .filter(|d| *d > 0)
                .map_or(default_age_ms, |d| d.saturating_mul(86_400_000));
            deleted += event::Entity::delete_many()
                .filter(event::Column::ProjectId.eq(project.id))
                .filter(event::Column::ReceivedAt.lt(now_ms() - age_ms))
                .exec(self.db())
                .await?
                .rows_affected;
            let crowded: Vec<i64> = event::Entity::find()
                .select_only()
                .column(event::Column::IssueId)
                .filter(event::Column::ProjectId.eq(project.id))
                .group_by(event::Column::IssueId)
                .having(Expr::expr(Expr::col(event::Column::Id).count()).gt(per_issue))
                .into_tuple()
                .all(self.db())
                .await?;
            for issue_id in crowded {
                // The id of the oldest event to keep; everything older goes.
                let keep_from: Option<i64> = event::Entity::find()
                    .select_only()
                    .column(event::Column::Id)
                    .filter(event::Column::IssueId.eq(issue_id))
                    .order_by_desc(event::Column::Id)
                    .offset(per_issue.saturating_sub(1))
                    .limit(1)
                    .into_tuple()
                    .one(self.db())
                    .await?;
                if let Some(keep_from) = keep_from {
                    deleted += event::Entity::delete_many()
                        .filter(event::Column::IssueId.eq(issue_id))
                        .filter(event::Column::Id.lt(keep_from))
                        .exec(self.db())
                        .await?
                        .rows_affected;
                }
            }
        }
        Ok(deleted)
    }

    /// Sets a project's retention: events kept per issue and days (0: the defaults).
    pub async fn set_retention(
        &self,
        project_id: i64,
        per_issue: i64,
        days: i64,
    ) -> Result<(), StoreError> {
        let project = project::Entity::find_by_id(project_id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("project {project_id}")))?;
        let mut project: project::ActiveModel = project.into();
        project.retention_events_per_issue = Set(per_issue.max(0));
        project.retention_days = Set(days.max(0));
        project.update(self.db()).await?;
        Ok(())
    }
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Compresses an event's JSON for storage.
pub fn encode_payload(json: &[u8]) -> Result<Vec<u8>, std::io::Error> {
    zstd::stream::encode_all(json, 3)
}

/// Reads a stored payload back.
pub fn decode_payload(payload: &[u8]) -> Result<serde_json::Value, StoreError> {
    let json = zstd::stream::decode_all(payload).map_err(|e| StoreError::Payload(e.to_string()))?;
    serde_json::from_slice(&json).map_err(|e| StoreError::Payload(e.to_string()))
}

async fn ingest_one(txn: &DatabaseTransaction, new: &NewEvent) -> Result<Stored, DbErr> {
    let existing = event::Entity::find()
        .filter(event::Column::ProjectId.eq(new.project_id))
        .filter(event::Column::EventId.eq(new.event_id.as_str()))
        .one(txn)
        .await?;
    if let Some(existing) = existing {
        return Ok(Stored {
            issue_id: existing.issue_id,
            new_issue: false,
            regression: false,
            duplicate: true,
            notifications: 0,
        });
    }
    let found = issue::Entity::find()
        .filter(issue::Column::ProjectId.eq(new.project_id))
        .filter(issue::Column::Fingerprint.eq(new.fingerprint.as_str()))
        .one(txn)
        .await?;
    let last_notified_at = found.as_ref().and_then(|f| f.last_notified_at);
    let (issue_id, new_issue, regression) = match found {
        None => {
            let created = issue::ActiveModel {
                id: NotSet,
                project_id: Set(new.project_id),
                fingerprint: Set(new.fingerprint.clone()),
                title: Set(new.title.clone()),
                culprit: Set(new.culprit.clone()),
                level: Set(new.level.clone()),
                status: Set(IssueStatus::Unresolved.as_str().to_owned()),
                first_seen: Set(new.timestamp),
                last_seen: Set(new.timestamp),
                event_count: Set(1),
                user_count: Set(0),
                first_release: Set(new.release.clone()),
                last_release: Set(new.release.clone()),
                last_environment: Set(new.environment.clone()),
                regression_count: Set(0),
                last_regressed_at: Set(None),
                resolved_at: Set(None),
                last_notified_at: Set(None),
            }
            .insert(txn)
            .await?;
            (created.id, true, false)
        }
        Some(found) => {
            let regression = found.status == IssueStatus::Resolved.as_str();
            let issue_id = found.id;
            let newer = new.timestamp >= found.last_seen;
            let mut active: issue::ActiveModel = found.clone().into();
            active.event_count = Set(found.event_count + 1);
            if newer {
                active.last_seen = Set(new.timestamp);
                active.level = Set(new.level.clone());
                active.title = Set(new.title.clone());
                active.culprit = Set(new.culprit.clone());
                if new.release.is_some() {
                    active.last_release = Set(new.release.clone());
                }
                if new.environment.is_some() {
                    active.last_environment = Set(new.environment.clone());
                }
            }
            if new.timestamp < found.first_seen {
                active.first_seen = Set(new.timestamp);
            }
            if regression {
                active.status = Set(IssueStatus::Unresolved.as_str().to_owned());
                active.regression_count = Set(found.regression_count + 1);
                active.last_regressed_at = Set(Some(new.received_at));
                active.resolved_at = Set(None);
            }
            active.update(txn).await?;
            (issue_id, false, regression)
        }
    };
    if let Some(user) = &new.user {
        record_user(txn, issue_id, user, new.timestamp).await?;
    }
    let row = event::ActiveModel {
        id: NotSet,
        project_id: Set(new.project_id),
        issue_id: Set(issue_id),
        event_id: Set(new.event_id.clone()),
        received_at: Set(new.received_at),
        timestamp: Set(new.timestamp),
        level: Set(new.level.clone()),
        environment: Set(new.environment.clone()),
        release: Set(new.release.clone()),
        user_key: Set(new.user.as_ref().map(|u| u.key.clone())),
        payload: Set(new.payload.clone()),
    }
    .insert(txn)
    .await?;
    let kind = if new_issue {
        Some("new_issue")
    } else if regression {
        Some("regression")
    } else if is_spike(txn, new, issue_id, last_notified_at).await? {
        Some("spike")
    } else {
        None
    };
    let notifications = match kind {
        Some(kind) => queue_notifications(txn, new, issue_id, row.id, kind).await?,
        None => 0,
    };
    Ok(Stored {
        issue_id,
        new_issue,
        regression,
        duplicate: false,
        notifications,
    })
}

async fn is_spike(
    txn: &DatabaseTransaction,
    new: &NewEvent,
    issue_id: i64,
    last_notified_at: Option<i64>,
) -> Result<bool, DbErr> {
    let policy = new.notify;
    if policy.spike_threshold <= 0 {
        return Ok(false);
    }
    if last_notified_at.is_some_and(|at| new.received_at - at < policy.window_ms) {
        return Ok(false);
    }
    let recent = event::Entity::find()
        .filter(event::Column::IssueId.eq(issue_id))
        .filter(event::Column::ReceivedAt.gte(new.received_at - policy.spike_window_ms))
        .count(txn)
        .await?;
    Ok(i64::try_from(recent).unwrap_or(i64::MAX) > policy.spike_threshold)
}

/// Writes the outbox rows for a notification: one email (when the project has
/// recipients) and one per webhook. Same transaction as the event.
async fn queue_notifications(
    txn: &DatabaseTransaction,
    new: &NewEvent,
    issue_id: i64,
    event_row_id: i64,
    kind: &str,
) -> Result<usize, DbErr> {
    let has_recipients = recipient::Entity::find()
        .filter(recipient::Column::ProjectId.eq(new.project_id))
        .count(txn)
        .await?
        > 0;
    let webhooks = webhook::Entity::find()
        .filter(webhook::Column::ProjectId.eq(new.project_id))
        .all(txn)
        .await?;
    let mut channels: Vec<(&str, Option<i64>)> = Vec::new();
    if has_recipients {
        channels.push(("email", None));
    }
    channels.extend(webhooks.iter().map(|w| ("webhook", Some(w.id))));
    for (channel, webhook_id) in &channels {
        outbox::ActiveModel {
            id: NotSet,
            project_id: Set(new.project_id),
            issue_id: Set(issue_id),
            event_row_id: Set(event_row_id),
            kind: Set(kind.to_owned()),
            channel: Set((*channel).to_owned()),
            webhook_id: Set(*webhook_id),
            status: Set("pending".into()),
            attempts: Set(0),
            next_attempt_at: Set(new.received_at),
            claimed_until: Set(None),
            last_error: Set(None),
            created_at: Set(new.received_at),
            sent_at: Set(None),
        }
        .insert(txn)
        .await?;
    }
    issue::Entity::update_many()
        .col_expr(issue::Column::LastNotifiedAt, Expr::value(new.received_at))
        .filter(issue::Column::Id.eq(issue_id))
        .exec(txn)
        .await?;
    Ok(channels.len())
}

async fn record_user(
    txn: &DatabaseTransaction,
    issue_id: i64,
    user: &EventUser,
    at: i64,
) -> Result<(), DbErr> {
    let found = affected_user::Entity::find()
        .filter(affected_user::Column::IssueId.eq(issue_id))
        .filter(affected_user::Column::UserKey.eq(user.key.as_str()))
        .one(txn)
        .await?;
    match found {
        Some(found) => {
            let mut active: affected_user::ActiveModel = found.clone().into();
            active.event_count = Set(found.event_count + 1);
            active.last_seen = Set(found.last_seen.max(at));
            // Keep what the latest event says, without losing what older ones said.
            for (column, value) in [
                (&mut active.user_id, &user.id),
                (&mut active.email, &user.email),
                (&mut active.username, &user.username),
                (&mut active.name, &user.name),
                (&mut active.ip_address, &user.ip_address),
            ] {
                if value.is_some() {
                    *column = Set(value.clone());
                }
            }
            active.update(txn).await?;
        }
        None => {
            affected_user::ActiveModel {
                id: NotSet,
                issue_id: Set(issue_id),
                user_key: Set(user.key.clone()),
                user_id: Set(user.id.clone()),
                email: Set(user.email.clone()),
                username: Set(user.username.clone()),
                name: Set(user.name.clone()),
                ip_address: Set(user.ip_address.clone()),
                event_count: Set(1),
                first_seen: Set(at),
                last_seen: Set(at),
            }
            .insert(txn)
            .await?;
            issue::Entity::update_many()
                .col_expr(
                    issue::Column::UserCount,
                    Expr::col(issue::Column::UserCount).add(1),
                )
                .filter(issue::Column::Id.eq(issue_id))
                .exec(txn)
                .await?;
        }
    }
    Ok(())
}
