//! Issues: what a team does with them (the status changes offered from each status), and
//! the issue list's query (tab, filters, order, pages), parsed once for the web UI and
//! the API.

use serde::Deserialize;

use crate::audit::{self, Actor};
use crate::search;
use crate::store::entities::issue;
use crate::store::{AuditAction, IssueFilter, IssueSort, IssueStatus, Snooze, Store, StoreError};

/// Issues per page of the list.
pub const PAGE_SIZE: u64 = 50;

/// The status changes a team makes from `status`, with their labels: an open issue is
/// resolved or ignored, a resolved or ignored one reopened.
pub fn actions(status: IssueStatus) -> &'static [(IssueStatus, &'static str)] {
    match status {
        IssueStatus::Unresolved => &[
            (IssueStatus::Resolved, "Resolve"),
            (IssueStatus::Ignored, "Ignore"),
        ],
        IssueStatus::Resolved | IssueStatus::Ignored => &[(IssueStatus::Unresolved, "Reopen")],
    }
}

/// What an event id, as someone pasted it, finds in a project.
#[derive(Debug, Clone)]
pub enum EventLookup {
    /// One event: the id, or a prefix only it has.
    Found(crate::store::entities::event::Model),
    /// No event has that id (or starts with that prefix).
    NotFound,
    /// Several events start with that prefix.
    Ambiguous,
    /// The text is not an event id.
    NotAnId,
}

/// Finds the event of `project_id` whose id is `text`: 32 hex digits (a UUID's dashes
/// allowed, any case) or the first 8 of them.
pub async fn find_event(
    store: &Store,
    project_id: i64,
    text: &str,
) -> Result<EventLookup, StoreError> {
    let Some(id) = search::EventIdQuery::parse(text) else {
        return Ok(EventLookup::NotAnId);
    };
    let mut found = store.events_by_id(project_id, &id.0).await?;
    Ok(match found.len() {
        0 => EventLookup::NotFound,
        1 => EventLookup::Found(found.remove(0)),
        _ => EventLookup::Ambiguous,
    })
}

/// The status changes the list's bulk actions offer on `tab`: on "all", every one.
pub fn bulk_actions(tab: Tab) -> &'static [(IssueStatus, &'static str)] {
    match tab {
        Tab::Only(status) => actions(status),
        Tab::All => &[
            (IssueStatus::Resolved, "Resolve"),
            (IssueStatus::Ignored, "Ignore"),
            (IssueStatus::Unresolved, "Reopen"),
        ],
    }
}

/// The most events or users an issue may be ignored for.
pub const MAX_SNOOZE_COUNT: i64 = 1_000_000;

/// A status change as the issue page and the API ask for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    /// Resolve, ignore or reopen, with no condition.
    Plain(IssueStatus),
    /// Resolved; only an event of a newer release than its latest reopens it.
    NextRelease,
    /// Ignored until more events, more users or a date.
    Snooze(Snooze),
}

impl StatusChange {
    /// Reads `status` with its condition: `until` is `next_release` (with `resolved`),
    /// `events` or `users` (with `count`) or `date` (`YYYY-MM-DD`, UTC, after `now`)
    /// with `ignored`; empty for none.
    pub fn parse(
        status: &str,
        until: Option<&str>,
        count: Option<i64>,
        date: Option<&str>,
        now: i64,
    ) -> Result<Self, QueryError> {
        let status: IssueStatus = status
            .parse()
            .map_err(|e: crate::store::UnknownName| QueryError::Invalid(e.to_string()))?;
        let count = || {
            count
                .filter(|c| (1..=MAX_SNOOZE_COUNT).contains(c))
                .ok_or_else(|| {
                    QueryError::Invalid(format!(
                        "the count is a number from 1 to {MAX_SNOOZE_COUNT}"
                    ))
                })
        };
        Ok(match (status, until.unwrap_or_default()) {
            (_, "") => StatusChange::Plain(status),
            (IssueStatus::Resolved, "next_release") => StatusChange::NextRelease,
            (IssueStatus::Ignored, "events") => StatusChange::Snooze(Snooze::MoreEvents(count()?)),
            (IssueStatus::Ignored, "users") => StatusChange::Snooze(Snooze::MoreUsers(count()?)),
            (IssueStatus::Ignored, "date") => {
                let at =
                    chrono::NaiveDate::parse_from_str(date.unwrap_or_default().trim(), "%Y-%m-%d")
                        .ok()
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                        .map(|t| t.and_utc().timestamp_millis())
                        .filter(|at| *at > now)
                        .ok_or_else(|| {
                            QueryError::Invalid(
                                "the date is a day after today, as YYYY-MM-DD".into(),
                            )
                        })?;
                StatusChange::Snooze(Snooze::Until(at))
            }
            (status, until) => {
                return Err(QueryError::Invalid(format!(
                    "{status} until {until:?} is not a status change (resolved until next_release; ignored until events, users or date)"
                )));
            }
        })
    }

    /// Applies it to `issue_id`; returns the issue as it is now.
    /// Changes issue `issue_id` of `project_id` so, and records who did it.
    pub async fn apply<'a>(
        self,
        store: &Store,
        actor: impl Into<Actor<'a>>,
        project_id: i64,
        issue_id: i64,
    ) -> Result<issue::Model, StoreError> {
        let changed = match self {
            StatusChange::Plain(status) => store.set_issue_status(issue_id, status).await?,
            StatusChange::NextRelease => store.resolve_in_next_release(issue_id).await?,
            StatusChange::Snooze(snooze) => store.snooze_issue(issue_id, snooze).await?,
        };
        audit::record_status(store, actor, project_id, issue_id, changed.status).await?;
        if changed.status == IssueStatus::Resolved {
            crate::alerts::issues_resolved(store, &[issue_id]).await?;
        }
        Ok(changed)
    }
}

/// Sets the status of the issues `ids` of `project_id` (bulk actions), recording each
/// that changed; returns those.
pub async fn set_statuses<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
    ids: &[i64],
    status: IssueStatus,
) -> Result<Vec<i64>, StoreError> {
    let actor = actor.into();
    let changed = store.set_issues_status(project_id, ids, status).await?;
    for &issue_id in &changed {
        audit::record_status(store, actor, project_id, issue_id, status).await?;
    }
    if status == IssueStatus::Resolved {
        crate::alerts::issues_resolved(store, &changed).await?;
    }
    Ok(changed)
}

/// Merges `ids` (two or more issues of `project_id`, none merged already) into the one
/// with the most events, the one the team knows best, and records it; returns it.
pub async fn merge<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
    ids: &[i64],
) -> Result<Result<issue::Model, QueryError>, StoreError> {
    let mut selected = Vec::with_capacity(ids.len());
    for &id in ids {
        match store.issue(id).await? {
            Some(issue) if issue.project_id == project_id && issue.merged_into.is_none() => {
                selected.push(issue);
            }
            _ => return Err(StoreError::NotFound(format!("issue {id}"))),
        }
    }
    selected.sort_by_key(|issue| (std::cmp::Reverse(issue.event_count), issue.id));
    selected.dedup_by_key(|issue| issue.id);
    if selected.len() < 2 {
        return Ok(Err(QueryError::Invalid(
            "select two issues or more to merge".into(),
        )));
    }
    let target = selected[0].id;
    let sources: Vec<i64> = selected[1..].iter().map(|issue| issue.id).collect();
    let merged = store.merge_issues(project_id, target, &sources).await?;
    let names: Vec<String> = sources.iter().map(|id| format!("#{id}")).collect();
    let target_text = format!("issues {} into issue {target}", names.join(", "));
    audit::record(
        store,
        actor,
        project_id,
        AuditAction::IssuesMerged,
        target_text,
    )
    .await?;
    Ok(Ok(merged))
}

/// Takes merged issue `issue_id` out of the issue it joined (its events, users and
/// counts go back), and records it; returns the issue. A conflict (the issue was not
/// merged) is [`StoreError::Conflict`].
pub async fn unmerge<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
    issue_id: i64,
) -> Result<issue::Model, StoreError> {
    let issue = store.unmerge_issue(project_id, issue_id).await?;
    let target = format!("issue {issue_id}");
    audit::record(store, actor, project_id, AuditAction::IssueUnmerged, target).await?;
    Ok(issue)
}

/// The issue list's query parameters, as the web UI's links and the API's callers send
/// them (all optional).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    /// Tab: `unresolved` (the UI's default), `resolved`, `ignored` or `all`.
    pub status: Option<String>,
    /// Only issues with events in this environment.
    pub environment: Option<String>,
    /// Only issues with events in this release.
    pub release: Option<String>,
    /// The search box: words in the title or culprit, and operators (see
    /// [`crate::search`]).
    pub query: Option<String>,
    /// `last_seen` (default), `first_seen`, `events` or `users`.
    pub sort: Option<String>,
    /// Where the page starts (from the previous page).
    pub cursor: Option<String>,
}

/// Why a list query was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// A parameter has a value it cannot have.
    #[error("{0}")]
    Invalid(String),
}

/// A tab of the issue list: the issues of one status, or all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tab {
    /// One status.
    Only(IssueStatus),
    /// Every status (`status=all`).
    All,
}

impl Tab {
    /// The tabs in the order the list shows them.
    pub const ALL: [Tab; 4] = [
        Tab::Only(IssueStatus::Unresolved),
        Tab::Only(IssueStatus::Resolved),
        Tab::Only(IssueStatus::Ignored),
        Tab::All,
    ];

    /// The status it shows, `None` for all.
    pub fn status(self) -> Option<IssueStatus> {
        match self {
            Tab::Only(status) => Some(status),
            Tab::All => None,
        }
    }

    /// Its name in URLs: the status's, or `all`.
    pub fn name(self) -> String {
        match self {
            Tab::Only(status) => status.to_string(),
            Tab::All => "all".to_owned(),
        }
    }
}

impl ListQuery {
    /// The tab asked for (`unresolved`, `resolved`, `ignored` or `all`), else `default`.
    pub fn tab(&self, default: Tab) -> Result<Tab, QueryError> {
        match self
            .status
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => Ok(default),
            Some(name) if name.eq_ignore_ascii_case("all") => Ok(Tab::All),
            Some(name) => name.parse().map(Tab::Only).map_err(|_| {
                QueryError::Invalid(format!(
                    "status {name:?} is not one of unresolved, resolved, ignored or all"
                ))
            }),
        }
    }

    /// The order (most recently seen first unless given).
    pub fn sort(&self) -> Result<IssueSort, QueryError> {
        match self.sort.as_deref().filter(|s| !s.is_empty()) {
            Some(name) => name.parse().map_err(QueryError::Invalid),
            None => Ok(IssueSort::LastSeen),
        }
    }

    /// The page's first row.
    pub fn offset(&self) -> Result<u64, QueryError> {
        match self.cursor.as_deref().filter(|c| !c.is_empty()) {
            Some(cursor) => cursor
                .parse::<u64>()
                .ok()
                .filter(|offset| *offset <= i64::MAX as u64)
                .ok_or_else(|| QueryError::Invalid(format!("cursor {cursor:?} is not valid"))),
            None => Ok(0),
        }
    }

    /// The store's filter for one page (and one row more, to know whether another page
    /// follows), with `default_status` when the query names none. The search box's
    /// `release:` and `environment:` apply when the selects leave them open;
    /// `assigned:me` is `viewer` (an email).
    pub fn filter(&self, default_tab: Tab, viewer: &str) -> Result<IssueFilter, QueryError> {
        let text = |value: &Option<String>| value.clone().filter(|v| !v.trim().is_empty());
        let search = search::parse(self.query.as_deref().unwrap_or_default())
            .map_err(|e| QueryError::Invalid(e.to_string()))?;
        Ok(IssueFilter {
            status: self.tab(default_tab)?.status(),
            environment: text(&self.environment).or(search.environment),
            release: text(&self.release).or(search.release),
            words: search.words,
            user_email: search.user_email,
            user: search.user,
            level: search.level,
            regressed: search.regressed,
            unassigned: search.unassigned,
            assigned_to: search.assigned.map(|who| {
                if who == "me" {
                    viewer.to_lowercase()
                } else {
                    who
                }
            }),
            sort: self.sort()?,
            offset: self.offset()?,
            limit: PAGE_SIZE + 1,
        })
    }

    /// The same query on another page (`cursor` from `offset`), for the list's links.
    pub fn link(&self, base: &str, tab: Tab, offset: u64) -> String {
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        url.append_pair("status", &tab.name());
        for (name, value) in [
            ("environment", &self.environment),
            ("release", &self.release),
            ("query", &self.query),
            ("sort", &self.sort),
        ] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                url.append_pair(name, value);
            }
        }
        if offset > 0 {
            url.append_pair("cursor", &offset.to_string());
        }
        format!("{base}?{}", url.finish())
    }
}

/// One page of the issue list.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// The issues.
    pub issues: Vec<issue::Model>,
    /// Where the next page starts, if there is one.
    pub next_offset: Option<u64>,
}

/// One page of project `project_id`'s issues for `filter` (from [`ListQuery::filter`]).
pub async fn list(
    store: &Store,
    project_id: i64,
    filter: &IssueFilter,
) -> Result<Page, StoreError> {
    let mut issues = store.list_issues(project_id, filter).await?;
    let more = issues.len() as u64 > PAGE_SIZE;
    issues.truncate(PAGE_SIZE as usize);
    Ok(Page {
        next_offset: more.then_some(filter.offset + PAGE_SIZE),
        issues,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_offers_a_way_out() {
        for status in [
            IssueStatus::Unresolved,
            IssueStatus::Resolved,
            IssueStatus::Ignored,
        ] {
            let actions = actions(status);
            assert!(!actions.is_empty());
            assert!(actions.iter().all(|(to, _)| *to != status));
        }
    }

    #[test]
    fn status_changes_parse_or_say_why_not() {
        let now = 1_780_000_000_000; // 2026-05-28
        let parse =
            |status, until, count, date| StatusChange::parse(status, until, count, date, now);
        assert_eq!(
            parse("resolved", None, None, None),
            Ok(StatusChange::Plain(IssueStatus::Resolved))
        );
        assert_eq!(
            parse("resolved", Some("next_release"), None, None),
            Ok(StatusChange::NextRelease)
        );
        assert_eq!(
            parse("ignored", Some("events"), Some(100), None),
            Ok(StatusChange::Snooze(Snooze::MoreEvents(100)))
        );
        assert_eq!(
            parse("ignored", Some("date"), None, Some("2026-12-01")),
            Ok(StatusChange::Snooze(Snooze::Until(1_796_083_200_000)))
        );
        for (status, until, count, date) in [
            ("ignored", Some("events"), Some(0), None),
            ("ignored", Some("users"), None, None),
            ("ignored", Some("date"), None, Some("2020-01-01")),
            ("ignored", Some("date"), None, Some("soon")),
            ("resolved", Some("users"), Some(3), None),
            ("ignored", Some("next_release"), None, None),
            ("open", None, None, None),
        ] {
            assert!(
                parse(status, until, count, date).is_err(),
                "{status} {until:?}"
            );
        }
    }

    #[test]
    fn list_queries_parse_or_name_the_problem() {
        let query = ListQuery {
            status: Some("resolved".into()),
            sort: Some("events".into()),
            cursor: Some("100".into()),
            environment: Some(" ".into()),
            ..Default::default()
        };
        let filter = query.filter(Tab::All, "me@example.com").unwrap();
        assert_eq!(filter.status, Some(IssueStatus::Resolved));
        assert_eq!(filter.sort, IssueSort::Events);
        assert_eq!((filter.offset, filter.limit), (100, PAGE_SIZE + 1));
        assert_eq!(filter.environment, None);
        let default = ListQuery::default()
            .filter(Tab::Only(IssueStatus::Unresolved), "me@example.com")
            .unwrap();
        assert_eq!(default.sort, IssueSort::LastSeen);
        assert_eq!(default.status, Some(IssueStatus::Unresolved));
        let all = ListQuery {
            status: Some("all".into()),
            ..Default::default()
        };
        assert_eq!(all.tab(Tab::Only(IssueStatus::Unresolved)), Ok(Tab::All));
        assert_eq!(
            all.filter(Tab::Only(IssueStatus::Resolved), "me@example.com")
                .unwrap()
                .status,
            None
        );
        for bad in [
            ListQuery {
                status: Some("open".into()),
                ..Default::default()
            },
            ListQuery {
                sort: Some("random".into()),
                ..Default::default()
            },
            ListQuery {
                cursor: Some("9223372036854775808".into()),
                ..Default::default()
            },
            ListQuery {
                cursor: Some("-1".into()),
                ..Default::default()
            },
        ] {
            assert!(bad.filter(Tab::All, "me@example.com").is_err(), "{bad:?}");
        }
    }
}
