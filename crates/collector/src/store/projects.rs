//! Projects: their keys, members and settings (rate limit, spike notifications,
//! retention).

use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, NotSet, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};

use super::entities::{IssueStatus, alert_rule, event, issue, membership, project, project_key};
use super::error::db_conflict;
use super::keys::KeyInfo;
use super::{Store, StoreError, now_ms, random_hex};

/// A project with its keys.
#[derive(Debug, Clone)]
pub struct ProjectWithKeys {
    /// The project.
    pub project: project::Model,
    /// Its keys.
    pub keys: Vec<project_key::Model>,
}

/// A project's numbers for the projects page.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProjectSummary {
    /// Unresolved issues.
    pub unresolved_issues: u64,
    /// Events received in the last 24 hours.
    pub events_last_day: u64,
}

impl Store {
    /// Creates a project and its first key.
    pub async fn create_project(&self, name: &str) -> Result<ProjectWithKeys, StoreError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::NotFound("a project name".into()));
        }
        self.keys.clear();
        self.write(async |txn| {
            let project = project::ActiveModel {
                id: NotSet,
                name: Set(name.to_owned()),
                rate_limit_per_minute: Set(0),
                spike_threshold: Set(0),
                spike_window_minutes: Set(10),
                retention_events_per_issue: Set(0),
                retention_days: Set(0),
                created_at: Set(now_ms()),
                outreach_enabled: Set(true),
                outreach_from: Set(None),
                outreach_reply_to: Set(None),
                outreach_weekly_limit: Set(2),
                outreach_subject: Set(None),
                outreach_template: Set(None),
                outreach_fixed_subject: Set(None),
                outreach_fixed_template: Set(None),
                sender_name: Set(None),
                route_names: Set(None),
                ownership_rules: Set(None),
                ticket_template: Set(None),
                source_link_template: Set(None),
            }
            .insert(txn)
            .await
            .map_err(|e| db_conflict(e, &format!("project {name:?}")))?;
            let key = insert_key(txn, project.id).await?;
            let now = now_ms();
            alert_rule::ActiveModel {
                id: NotSet,
                project_id: Set(project.id),
                name: Set("Default".into()),
                match_mode: Set("any".into()),
                conditions: Set(alert_rule::DEFAULT_CONDITIONS.into()),
                filters: Set("[]".into()),
                actions: Set(alert_rule::DEFAULT_ACTIONS.into()),
                throttle_minutes: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(txn)
            .await?;
            Ok(ProjectWithKeys {
                project,
                keys: vec![key],
            })
        })
        .await
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

    /// Every project, by id.
    pub async fn projects(&self) -> Result<Vec<project::Model>, StoreError> {
        Ok(project::Entity::find()
            .order_by_asc(project::Column::Id)
            .all(self.db())
            .await?)
    }

    /// The project named `name`.
    pub async fn project_by_name(&self, name: &str) -> Result<project::Model, StoreError> {
        project::Entity::find()
            .filter(project::Column::Name.eq(name))
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("project {name:?}")))
    }

    /// A project by id.
    pub async fn project(&self, project_id: i64) -> Result<Option<project::Model>, StoreError> {
        Ok(project::Entity::find_by_id(project_id)
            .one(self.db())
            .await?)
    }

    /// Looks up a public key and its project, from a short-lived cache when it can: every
    /// ingest request asks, and keys change rarely. Changes made through this store show
    /// at once; changes by another process (the CLI, another collector) within
    /// [`KEY_CACHE_TTL`].
    pub async fn find_key(&self, public_key: &str) -> Result<Option<KeyInfo>, StoreError> {
        if let Some(found) = self.keys.get(public_key) {
            return Ok(found);
        }
        let found = self.find_key_uncached(public_key).await?;
        self.keys.put(public_key, found.clone());
        Ok(found)
    }

    async fn find_key_uncached(&self, public_key: &str) -> Result<Option<KeyInfo>, StoreError> {
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

    /// The projects `account_id` is a member of, by id.
    pub async fn member_projects(
        &self,
        account_id: i64,
    ) -> Result<Vec<project::Model>, StoreError> {
        Ok(project::Entity::find()
            .filter(
                project::Column::Id.in_subquery(
                    Query::select()
                        .column(membership::Column::ProjectId)
                        .from(membership::Entity)
                        .and_where(membership::Column::AccountId.eq(account_id))
                        .to_owned(),
                ),
            )
            .order_by_asc(project::Column::Id)
            .all(self.db())
            .await?)
    }

    /// Whether `account_id` is a member of project `project_id`.
    pub async fn is_member(&self, project_id: i64, account_id: i64) -> Result<bool, StoreError> {
        Ok(membership::Entity::find_by_id((project_id, account_id))
            .one(self.db())
            .await?
            .is_some())
    }

    /// Unresolved issues and events of the last day of a project.
    pub async fn project_summary(&self, project_id: i64) -> Result<ProjectSummary, StoreError> {
        let unresolved_issues = issue::Entity::find()
            .filter(issue::Column::ProjectId.eq(project_id))
            .filter(issue::Column::MergedInto.is_null())
            .filter(issue::Column::Status.eq(IssueStatus::Unresolved))
            .count(self.db())
            .await?;
        let events_last_day = event::Entity::find()
            .filter(event::Column::ProjectId.eq(project_id))
            .filter(event::Column::ReceivedAt.gte(now_ms() - 86_400_000))
            .count(self.db())
            .await?;
        Ok(ProjectSummary {
            unresolved_issues,
            events_last_day,
        })
    }

    /// A project's keys, oldest first.
    pub async fn project_keys(
        &self,
        project_id: i64,
    ) -> Result<Vec<project_key::Model>, StoreError> {
        use sea_orm::QueryOrder;
        Ok(project_key::Entity::find()
            .filter(project_key::Column::ProjectId.eq(project_id))
            .order_by_asc(project_key::Column::Id)
            .all(self.db())
            .await?)
    }

    /// Adds a key to a project.
    pub async fn create_key(&self, project_id: i64) -> Result<(), StoreError> {
        self.keys.clear();
        self.write(async |txn| {
            insert_key(txn, project_id).await?;
            Ok(())
        })
        .await
    }

    /// Enables or disables a key of a project.
    pub async fn set_key_active(
        &self,
        project_id: i64,
        key_id: i64,
        active: bool,
    ) -> Result<(), StoreError> {
        self.keys.clear();
        self.write(async |txn| {
            let key = project_key::Entity::find_by_id(key_id)
                .filter(project_key::Column::ProjectId.eq(project_id))
                .one(txn)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("key {key_id}")))?;
            let mut key: project_key::ActiveModel = key.into();
            key.active = Set(active);
            key.update(txn).await?;
            Ok(())
        })
        .await
    }

    /// Sets a project's ownership rules (checked by the caller); none: no rules. Ingest
    /// reads them with the project's key, so the key cache is cleared.
    pub async fn set_ownership_rules(
        &self,
        project_id: i64,
        rules: Option<&str>,
    ) -> Result<(), StoreError> {
        let rules = rules.map(str::to_owned);
        self.update_project(project_id, |project| {
            project.ownership_rules = Set(rules);
        })
        .await?;
        self.keys.clear();
        Ok(())
    }

    /// Sets a project's "new ticket" URL template (checked by the caller); none: no
    /// "Create ticket" link.
    pub async fn set_ticket_template(
        &self,
        project_id: i64,
        template: Option<&str>,
    ) -> Result<(), StoreError> {
        let template = template.map(str::to_owned);
        self.update_project(project_id, |project| {
            project.ticket_template = Set(template);
        })
        .await
    }

    /// Sets a project's source link template (checked by the caller); none: no links.
    pub async fn set_source_link_template(
        &self,
        project_id: i64,
        template: Option<&str>,
    ) -> Result<(), StoreError> {
        let template = template.map(str::to_owned);
        self.update_project(project_id, |project| {
            project.source_link_template = Set(template);
        })
        .await
    }

    /// Sets a project's events-per-minute limit per key (0: the collector's default).
    pub async fn set_rate_limit(&self, project_id: i64, per_minute: i64) -> Result<(), StoreError> {
        self.update_project(project_id, |project| {
            project.rate_limit_per_minute = Set(per_minute.max(0));
        })
        .await
    }

    /// Sets the spike setting: more than `threshold` events in `minutes` (0: off). The
    /// setting is the `event_frequency` condition of the project's rule named "Default"
    /// (the rule every project starts with), which is changed with it; a project whose
    /// Default rule was removed keeps only the setting.
    pub async fn set_spike(
        &self,
        project_id: i64,
        threshold: i64,
        minutes: i64,
    ) -> Result<(), StoreError> {
        let threshold = threshold.max(0);
        let minutes = minutes.clamp(1, 7 * 24 * 60);
        self.update_project(project_id, |project| {
            project.spike_threshold = Set(threshold);
            project.spike_window_minutes = Set(minutes);
        })
        .await?;
        let Some(rule) = alert_rule::Entity::find()
            .filter(alert_rule::Column::ProjectId.eq(project_id))
            .filter(alert_rule::Column::Name.eq("Default"))
            .order_by_asc(alert_rule::Column::Id)
            .one(self.db())
            .await?
        else {
            return Ok(());
        };
        let mut conditions: Vec<serde_json::Value> =
            serde_json::from_str(&rule.conditions).unwrap_or_default();
        conditions.retain(|c| c["kind"] != "event_frequency");
        if threshold > 0 {
            conditions.push(serde_json::json!({
                "kind": "event_frequency", "value": threshold, "interval_minutes": minutes,
            }));
        }
        let conditions = serde_json::Value::from(conditions).to_string();
        self.write(async |txn| {
            let mut rule = rule.into_active_model();
            rule.conditions = Set(conditions);
            rule.updated_at = Set(now_ms());
            rule.update(txn).await?;
            Ok(())
        })
        .await
    }

    /// Renames a project (the name must be free: [`StoreError::Conflict`] otherwise).
    pub async fn rename_project(&self, project_id: i64, name: &str) -> Result<(), StoreError> {
        let name = name.to_owned();
        self.keys.clear();
        self.write(async |txn| {
            let project = project::Entity::find_by_id(project_id)
                .one(txn)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("project {project_id}")))?;
            let mut active: project::ActiveModel = project.into();
            active.name = Set(name.clone());
            active
                .update(txn)
                .await
                .map_err(|e| db_conflict(e, &format!("project {name:?}")))?;
            Ok(())
        })
        .await
    }

    /// Sets what customers see: the sender name and the route names (`None`: unset).
    pub async fn set_customer_words(
        &self,
        project_id: i64,
        sender_name: Option<String>,
        route_names: Option<String>,
    ) -> Result<(), StoreError> {
        self.update_project(project_id, |project| {
            project.sender_name = Set(sender_name);
            project.route_names = Set(route_names);
        })
        .await
    }

    /// Sets a project's retention: events kept per issue and days (0: the defaults).
    pub async fn set_retention(
        &self,
        project_id: i64,
        per_issue: i64,
        days: i64,
    ) -> Result<(), StoreError> {
        self.update_project(project_id, |project| {
            project.retention_events_per_issue = Set(per_issue.max(0));
            project.retention_days = Set(days.max(0));
        })
        .await
    }

    /// Changes project `project_id`'s settings with `change`.
    async fn update_project(
        &self,
        project_id: i64,
        change: impl FnOnce(&mut project::ActiveModel),
    ) -> Result<(), StoreError> {
        self.keys.clear();
        self.write(async |txn| {
            let project = project::Entity::find_by_id(project_id)
                .one(txn)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("project {project_id}")))?;
            let mut active: project::ActiveModel = project.into();
            change(&mut active);
            active.update(txn).await?;
            Ok(())
        })
        .await
    }
}

/// A new active key with a random public key, for project `project_id`.
async fn insert_key(
    db: &impl sea_orm::ConnectionTrait,
    project_id: i64,
) -> Result<project_key::Model, sea_orm::DbErr> {
    project_key::ActiveModel {
        id: NotSet,
        project_id: Set(project_id),
        public_key: Set(random_hex(1)),
        active: Set(true),
        created_at: Set(now_ms()),
    }
    .insert(db)
    .await
}
