//! Step 7 of a batch: each new issue's owner, by the project's ownership rules
//! (`ownership` decides), in the batch's transaction, so the alerts that follow
//! (step 8) already see the assignee. No statement at all when no new issue of the
//! batch has a project with rules.

use std::collections::HashMap;

use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use crate::ownership::rules::{Ownership, Subject};
use crate::store::entities::{account, issue};

/// A new issue the rules may assign: its id, the project's rules as written, and what
/// its event says.
pub(super) struct NewIssue<'a> {
    pub(super) issue_id: i64,
    pub(super) rules: &'a str,
    pub(super) subject: Subject,
}

/// Assigns each of `issues` to its owner, when a rule matches and the owner has an
/// account; returns the assignees by issue.
pub(super) async fn assign(
    txn: &impl ConnectionTrait,
    issues: Vec<NewIssue<'_>>,
) -> Result<HashMap<i64, i64>, DbErr> {
    let mut parsed: HashMap<&str, Option<Ownership>> = HashMap::new();
    let mut wanted: Vec<(i64, String, String)> = Vec::new();
    for new in &issues {
        let ownership = parsed
            .entry(new.rules)
            .or_insert_with(|| Ownership::parse(new.rules).ok());
        if let Some(rule) = ownership.as_ref().and_then(|o| o.owner_of(&new.subject)) {
            wanted.push((new.issue_id, rule.owner.clone(), rule.text.clone()));
        }
    }
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    let accounts: HashMap<String, i64> = account::Entity::find()
        .select_only()
        .column(account::Column::Email)
        .column(account::Column::Id)
        .filter(account::Column::Email.is_in(wanted.iter().map(|(_, email, _)| email.clone())))
        .into_tuple::<(String, i64)>()
        .all(txn)
        .await?
        .into_iter()
        .collect();
    let mut assigned = HashMap::new();
    for (issue_id, email, rule) in wanted {
        let Some(&account_id) = accounts.get(&email) else {
            continue;
        };
        let update = Query::update()
            .table(issue::Entity)
            .value(issue::Column::AssigneeId, account_id)
            .value(issue::Column::OwnerRule, rule)
            .and_where(issue::Column::Id.eq(issue_id))
            .to_owned();
        txn.execute(txn.get_database_backend().build(&update))
            .await?;
        assigned.insert(issue_id, account_id);
    }
    Ok(assigned)
}
