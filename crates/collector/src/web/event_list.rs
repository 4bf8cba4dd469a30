//! An issue's events, newest first, a page at a time, filtered by release, environment
//! and user: to see whether a crash is one user's or everyone's, one release's or all.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::layout::{self, html};
use super::session::SignedIn;
use super::{WebError, format, forms};
use crate::store::EventFilter;
use crate::{access, state::AppState};

/// Events per page.
const PAGE: u64 = 50;

/// The list's query parameters.
#[derive(Debug, Default, Deserialize)]
pub(super) struct EventQuery {
    #[serde(default)]
    release: Option<String>,
    #[serde(default)]
    environment: Option<String>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

impl EventQuery {
    fn filter(&self) -> EventFilter {
        let text = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
        EventFilter {
            release: text(&self.release),
            environment: text(&self.environment),
            user: text(&self.user).map(|u| u.trim().to_owned()),
        }
    }

    fn offset(&self) -> Result<u64, WebError> {
        match self.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => Ok(0),
            Some(c) => c
                .parse::<u64>()
                .ok()
                .filter(|o| *o <= i64::MAX as u64)
                .ok_or_else(|| WebError::BadRequest(format!("cursor {c:?} is not valid"))),
        }
    }

    /// This list at `offset`, same filters.
    fn link(&self, base: &str, offset: u64) -> String {
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("release", &self.release),
            ("environment", &self.environment),
            ("user", &self.user),
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

/// `GET /projects/{id}/issues/{id}/events`.
pub(super) async fn page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((project_id, issue_id)): Path<(i64, i64)>,
    Query(query): Query<EventQuery>,
) -> Result<Response, WebError> {
    let (project, issue) =
        access::visible_issue_in(&state.store, &signed_in.account, project_id, issue_id).await?;
    let offset = query.offset()?;
    let filter = query.filter();
    let mut rows = state
        .store
        .event_list(issue_id, &filter, offset, PAGE + 1)
        .await?;
    let more = rows.len() as u64 > PAGE;
    rows.truncate(PAGE as usize);
    let breakdown = state.store.breakdown(issue_id).await?;
    let values = |rows: &[(Option<String>, i64)]| -> Vec<String> {
        rows.iter().filter_map(|(v, _)| v.clone()).collect()
    };
    let (releases, environments) = (values(&breakdown.releases), values(&breakdown.environments));
    let issue_url = format!("/projects/{project_id}/issues/{issue_id}");
    let base = format!("{issue_url}/events");
    let keys: Vec<&str> = rows.iter().filter_map(|r| r.user_key.as_deref()).collect();
    let users = state.store.users_by_key(issue.id, &keys).await?;
    let previous = (offset > 0).then(|| query.link(&base, offset.saturating_sub(PAGE)));
    let next = more.then(|| query.link(&base, offset + PAGE));
    let body = html! {
        p { a.wrap href=(issue_url) { "← " (issue.title) } }
        h1 { "Events of " (project.name) " issue #" (issue.id) }
        form.filters method="get" action=(base) {
            (forms::value_select("Release", "release", filter.release.as_deref(), &releases))
            (forms::value_select("Environment", "environment", filter.environment.as_deref(), &environments))
            label { span.label { "User (id, email, username or IP)" }
                input type="text" name="user" value=(filter.user.clone().unwrap_or_default()); }
            button type="submit" { "Filter" }
        }
        @if rows.is_empty() {
            p.muted { "No stored events match." }
        } @else {
            table.events {
                thead { tr { th { "When" } th { "Event" } th { "Release" } th.wide { "Environment" } th { "User" } th.wide { "Level" } } }
                tbody { @for row in &rows {
                    tr {
                        td data-label="When" { (format::when(row.timestamp)) }
                        td data-label="Event" { a href={ (issue_url) "/events/" (row.event_id) } { code { (row.event_id.get(..8).unwrap_or(&row.event_id)) } } }
                        td.wrap data-label="Release" { (row.release.clone().unwrap_or_default()) }
                        td.wide.wrap { (row.environment.clone().unwrap_or_default()) }
                        td.wrap { @match row.user_key.as_ref().and_then(|key| users.get(key)) {
                            Some(user) => {
                                @if let Some(name) = user.name.as_ref().or(user.username.as_ref()) { (name) " " }
                                @if let Some(email) = &user.email { span.muted { (email) } }
                                @else if let Some(id) = &user.user_id { span.muted { "id " (id) } }
                            }
                            None => { span.muted { (row.user_key.clone().unwrap_or_default()) } }
                        } }
                        td.wide { (row.level) }
                    }
                } }
            }
        }
        nav.pager aria-label="Pages" {
            @if let Some(previous) = &previous { a href=(previous) rel="prev" { "← Newer" } " " }
            @if let Some(next) = &next { a href=(next) rel="next" { "Older →" } }
        }
    };
    Ok(html(layout::page(
        &format!("Events of {}", issue.title),
        &signed_in,
        body,
    )))
}
