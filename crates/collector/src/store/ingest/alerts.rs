//! Step 8 of a batch: the project's alert rules decide about each issue the batch
//! touched (`alerts::rule` decides, this file reads and writes), in the batch's
//! transaction, after the issues are locked: so with several collectors on one
//! PostgreSQL each alert fires once, and each count includes every event committed
//! before it.
//!
//! A handful of statements per batch: the projects' rules, when they last fired for
//! these issues, the latest release when a rule asks for it, one count per window a
//! frequency condition asks about, then the outbox rows and the fire times.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use sea_orm::sea_query::{OnConflict, Query, Value};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};

use super::shapes;

use crate::alerts::rule::decide::{Compiled, First, Seen};
use crate::alerts::rule::{Action, Ask, EmailGroup, EmailTo};
use crate::store::entities::{
    FilterKind, affected_user, alert_fire, alert_rule, event, filter_value,
};
use crate::store::outbox::{Notice, Target};

/// How alerts are decided, from the collector's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alerting {
    /// The throttle of rules that set none (`MAYDAY_NOTIFY_WINDOW_MINUTES`).
    pub default_throttle: Duration,
}

impl Default for Alerting {
    fn default() -> Self {
        Alerting {
            default_throttle: Duration::from_secs(3600),
        }
    }
}

/// One issue the batch touched, as a rule sees it.
pub(super) struct Touched<'a> {
    /// The batch's newest stored event of the issue.
    pub(super) trigger: usize,
    pub(super) project_id: i64,
    pub(super) issue_id: i64,
    pub(super) event_row_id: Option<i64>,
    pub(super) received_at: i64,
    pub(super) seen: Seen<'a>,
}

/// The alerts the rules fire for `touched`: the notices to queue, and the fire times
/// written.
pub(super) async fn decide(
    txn: &impl ConnectionTrait,
    touched: &[Touched<'_>],
    alerting: Alerting,
) -> Result<Vec<(usize, Notice)>, DbErr> {
    if touched.is_empty() {
        return Ok(Vec::new());
    }
    let projects: Vec<Value> = (touched.iter().map(|t| t.project_id))
        .collect::<BTreeSet<i64>>()
        .into_iter()
        .map(Value::from)
        .collect();
    let statement = shapes::statement(
        txn.get_database_backend(),
        "alert rules",
        [projects.len(), 0],
        projects,
        |projects| {
            Ok(alert_rule::Entity::find()
                .filter(alert_rule::Column::ProjectId.is_in(projects.iter().cloned()))
                .order_by_asc(alert_rule::Column::Id)
                .into_query())
        },
    )?;
    let rules: Vec<Compiled> = alert_rule::Entity::find()
        .from_raw_sql(statement)
        .all(txn)
        .await?
        .iter()
        .filter_map(|row| match Compiled::new(row) {
            Ok(rule) => Some(rule),
            Err(error) => {
                tracing::warn!(rule = row.id, %error, "alert rule skipped: it no longer reads");
                None
            }
        })
        .collect();
    if rules.is_empty() {
        return Ok(Vec::new());
    }
    let fired = fire_times(txn, &rules, touched).await?;
    let latest = latest_releases(txn, &rules).await?;
    let seen: Vec<Seen<'_>> = touched
        .iter()
        .map(|touch| Seen {
            latest_release: latest.get(&touch.project_id).map(String::as_str),
            ..touch.seen
        })
        .collect();

    // Without counts first; then one count per window asked about.
    let mut verdicts: Vec<(usize, &Compiled, First)> = Vec::new();
    for (index, touch) in touched.iter().enumerate() {
        for rule in rules.iter().filter(|r| r.project_id == touch.project_id) {
            let throttled = fired.get(&(rule.id, touch.issue_id)).is_some_and(|at| {
                touch.received_at - at < rule.throttle(alerting.default_throttle)
            });
            let verdict = rule.first(&seen[index], throttled);
            if verdict != First::No {
                verdicts.push((index, rule, verdict));
            }
        }
    }
    let mut asked: HashMap<Ask, Vec<usize>> = HashMap::new();
    for (index, _, verdict) in &verdicts {
        if let First::Needs(asks) = verdict {
            for ask in asks {
                asked.entry(*ask).or_default().push(*index);
            }
        }
    }
    let mut counts: HashMap<(Ask, i64), u64> = HashMap::new();
    for (ask, indices) in asked {
        let of: Vec<&Touched<'_>> = indices.iter().map(|&i| &touched[i]).collect();
        for (issue, count) in count(txn, ask, &of).await? {
            counts.insert((ask, issue), count);
        }
    }

    let mut notices = Vec::new();
    let mut fires = Vec::new();
    for (index, rule, verdict) in verdicts {
        let touch = &touched[index];
        let kind = match verdict {
            First::Fires(kind) => Some(kind),
            First::Needs(_) => rule.then(&seen[index], |ask| {
                counts.get(&(ask, touch.issue_id)).copied().unwrap_or(0)
            }),
            First::No => None,
        };
        let Some(kind) = kind else { continue };
        if rule.keeps_fires() {
            fires.push((rule.id, touch.issue_id, touch.received_at));
        }
        notices.push((
            touch.trigger,
            Notice {
                project_id: touch.project_id,
                issue_id: touch.issue_id,
                event_row_id: touch.event_row_id,
                kind,
                at: touch.received_at,
                rule_id: Some(rule.id),
                targets: targets(&rule.spec.actions),
            },
        ));
    }
    record_fires(txn, &fires).await?;
    Ok(notices)
}

impl crate::store::Store {
    /// Queues rule `rule_id`'s `actions` about issue `issue_id` of `project_id` as
    /// `kind`, caused by event row `event_row_id`, and records when it fired: an alert
    /// raised outside ingest (an ignored issue back by its date).
    pub async fn queue_rule_alert(
        &self,
        project_id: i64,
        issue_id: i64,
        rule: &Compiled,
        kind: crate::store::NotificationKind,
        event_row_id: Option<i64>,
    ) -> Result<(), crate::store::StoreError> {
        let now = crate::store::now_ms();
        let notice = Notice {
            project_id,
            issue_id,
            event_row_id,
            kind,
            at: now,
            rule_id: Some(rule.id),
            targets: targets(&rule.spec.actions),
        };
        let keeps = rule.keeps_fires();
        self.write(async |txn| {
            crate::store::outbox::queue(txn, [&notice]).await?;
            if keeps {
                record_fires(txn, &[(rule.id, issue_id, now)]).await?;
            }
            Ok(())
        })
        .await
    }
}

/// Where a rule's actions go, as outbox targets.
pub(crate) fn targets(actions: &[Action]) -> Vec<Target> {
    actions
        .iter()
        .map(|action| match action {
            Action::Email {
                to: EmailTo::Group(EmailGroup::Recipients),
            } => Target::Recipients,
            Action::Webhook => Target::Webhooks,
            other => Target::Action(
                other.channel(),
                serde_json::to_string(other).unwrap_or_default(),
            ),
        })
        .collect()
}

/// When each rule last fired for each touched issue.
async fn fire_times(
    txn: &impl ConnectionTrait,
    rules: &[Compiled],
    touched: &[Touched<'_>],
) -> Result<HashMap<(i64, i64), i64>, DbErr> {
    let kept: Vec<i64> = rules
        .iter()
        .filter(|r| r.keeps_fires())
        .map(|r| r.id)
        .collect();
    if kept.is_empty() {
        return Ok(HashMap::new());
    }
    let issues: BTreeSet<i64> = touched.iter().map(|t| t.issue_id).collect();
    let statement = shapes::two_lists(
        txn.get_database_backend(),
        "alert fire times",
        kept.into_iter().map(Value::from).collect(),
        issues.into_iter().map(Value::from),
        |rules, issues| {
            Ok(alert_fire::Entity::find()
                .select_only()
                .columns([
                    alert_fire::Column::RuleId,
                    alert_fire::Column::IssueId,
                    alert_fire::Column::FiredAt,
                ])
                .filter(alert_fire::Column::RuleId.is_in(rules.iter().cloned()))
                .filter(alert_fire::Column::IssueId.is_in(issues.iter().cloned()))
                .into_query())
        },
    )?;
    let mut fired = HashMap::new();
    for row in txn.query_all(statement).await? {
        let (rule, issue, at) = row.try_get_many_by_index::<(i64, i64, i64)>()?;
        fired.insert((rule, issue), at);
    }
    Ok(fired)
}

/// The latest release of each project a rule asks about (`"release": "latest"`): the
/// newest version among the 50 most recently seen releases.
async fn latest_releases(
    txn: &impl ConnectionTrait,
    rules: &[Compiled],
) -> Result<HashMap<i64, String>, DbErr> {
    let mut latest = HashMap::new();
    let projects: BTreeSet<i64> = rules
        .iter()
        .filter(|r| r.spec.wants_latest_release())
        .map(|r| r.project_id)
        .collect();
    for project_id in projects {
        let releases: Vec<String> = filter_value::Entity::find()
            .select_only()
            .column(filter_value::Column::Value)
            .filter(filter_value::Column::ProjectId.eq(project_id))
            .filter(filter_value::Column::Kind.eq(FilterKind::Release))
            .order_by_desc(filter_value::Column::LastSeen)
            .limit(50)
            .into_tuple()
            .all(txn)
            .await?;
        let newest = releases.into_iter().reduce(|best, release| {
            if crate::release::is_newer(&release, &best)
                && !crate::release::is_newer(&best, &release)
            {
                release
            } else {
                best
            }
        });
        if let Some(newest) = newest {
            latest.insert(project_id, newest);
        }
    }
    Ok(latest)
}

/// Each issue's events (by receive time) or distinct users (by their latest event's
/// time) in `ask`'s window before its batch's time: one query.
async fn count(
    txn: &impl ConnectionTrait,
    ask: Ask,
    of: &[&Touched<'_>],
) -> Result<Vec<(i64, u64)>, DbErr> {
    let rows: Vec<(i64, i64)> = match ask {
        Ask::Events(_) => {
            let mut any = Condition::any();
            for touch in of {
                any = any.add(
                    event::Column::IssueId
                        .eq(touch.issue_id)
                        .and(event::Column::ReceivedAt.gte(ask.since(touch.received_at))),
                );
            }
            event::Entity::find()
                .select_only()
                .column(event::Column::IssueId)
                .column_as(event::Column::Id.count(), "events")
                .filter(any)
                .group_by(event::Column::IssueId)
                .into_tuple()
                .all(txn)
                .await?
        }
        Ask::Users(_) => {
            let mut any = Condition::any();
            for touch in of {
                any = any.add(
                    affected_user::Column::IssueId
                        .eq(touch.issue_id)
                        .and(affected_user::Column::LastSeen.gte(ask.since(touch.received_at))),
                );
            }
            affected_user::Entity::find()
                .select_only()
                .column(affected_user::Column::IssueId)
                .column_as(affected_user::Column::Id.count(), "users")
                .filter(any)
                .group_by(affected_user::Column::IssueId)
                .into_tuple()
                .all(txn)
                .await?
        }
    };
    Ok(rows
        .into_iter()
        .map(|(issue, count)| (issue, u64::try_from(count).unwrap_or(0)))
        .collect())
}

/// Writes when each rule fired for each issue (the throttle's start).
async fn record_fires(txn: &impl ConnectionTrait, fires: &[(i64, i64, i64)]) -> Result<(), DbErr> {
    if fires.is_empty() {
        return Ok(());
    }
    let mut insert = Query::insert();
    insert.into_table(alert_fire::Entity).columns([
        alert_fire::Column::RuleId,
        alert_fire::Column::IssueId,
        alert_fire::Column::FiredAt,
    ]);
    for (rule, issue, at) in fires {
        insert
            .values([(*rule).into(), (*issue).into(), (*at).into()])
            .map_err(|e| DbErr::Custom(e.to_string()))?;
    }
    insert.on_conflict(
        OnConflict::columns([alert_fire::Column::RuleId, alert_fire::Column::IssueId])
            .update_column(alert_fire::Column::FiredAt)
            .to_owned(),
    );
    txn.execute(txn.get_database_backend().build(&insert))
        .await?;
    Ok(())
}
