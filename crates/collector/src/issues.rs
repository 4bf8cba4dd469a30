//! Issues: what a team does with them (the status changes offered from each status), and
//! the issue list's query (tab, filters, order, pages), parsed once for the web UI and
//! the API.

use serde::Deserialize;

use crate::search;
use crate::store::entities::issue;
use crate::store::{IssueFilter, IssueSort, IssueStatus, Store, StoreError};

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

/// The issue list's query parameters, as the web UI's links and the API's callers send
/// them (all optional).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    /// Tab: `unresolved` (default), `resolved` or `ignored`.
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

impl ListQuery {
    /// The status asked for, if any.
    pub fn status(&self) -> Result<Option<IssueStatus>, QueryError> {
        self.status
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|name| {
                name.parse()
                    .map_err(|e: crate::store::UnknownName| QueryError::Invalid(e.to_string()))
            })
            .transpose()
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
    /// `release:` and `environment:` apply when the selects leave them open.
    pub fn filter(&self, default_status: Option<IssueStatus>) -> Result<IssueFilter, QueryError> {
        let text = |value: &Option<String>| value.clone().filter(|v| !v.trim().is_empty());
        let search = search::parse(self.query.as_deref().unwrap_or_default())
            .map_err(|e| QueryError::Invalid(e.to_string()))?;
        Ok(IssueFilter {
            status: self.status()?.or(default_status),
            environment: text(&self.environment).or(search.environment),
            release: text(&self.release).or(search.release),
            words: search.words,
            user_email: search.user_email,
            level: search.level,
            regressed: search.regressed,
            sort: self.sort()?,
            offset: self.offset()?,
            limit: PAGE_SIZE + 1,
        })
    }

    /// The same query on another page (`cursor` from `offset`), for the list's links.
    pub fn link(&self, base: &str, status: IssueStatus, offset: u64) -> String {
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        url.append_pair("status", &status.to_string());
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
#[derive(Debug, Clone)]
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
    fn list_queries_parse_or_name_the_problem() {
        let query = ListQuery {
            status: Some("resolved".into()),
            sort: Some("events".into()),
            cursor: Some("100".into()),
            environment: Some(" ".into()),
            ..Default::default()
        };
        let filter = query.filter(None).unwrap();
        assert_eq!(filter.status, Some(IssueStatus::Resolved));
        assert_eq!(filter.sort, IssueSort::Events);
        assert_eq!((filter.offset, filter.limit), (100, PAGE_SIZE + 1));
        assert_eq!(filter.environment, None);
        let default = ListQuery::default()
            .filter(Some(IssueStatus::Unresolved))
            .unwrap();
        assert_eq!(default.sort, IssueSort::LastSeen);
        assert_eq!(default.status, Some(IssueStatus::Unresolved));
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
            assert!(bad.filter(None).is_err(), "{bad:?}");
        }
    }
}
