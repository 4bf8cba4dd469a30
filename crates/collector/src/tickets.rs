//! Links to issue trackers without tokens: a project's "new ticket" URL template
//! (GitHub, GitLab, Jira or any tracker) with `{title}`, `{body}` and `{url}`
//! placeholders, filled in URL-encoded for an issue's "Create ticket" link; and the
//! ticket's URL, pasted back by the team, kept on the issue; and links from in-app
//! frames to their line in the repository at the build's commit.
//!
//! ```text
//! https://github.com/acme/shop/issues/new?title={title}&body={body}
//! https://gitlab.com/acme/shop/-/issues/new?issue[title]={title}&issue[description]={body}
//! https://acme.atlassian.net/secure/CreateIssueDetails!init.jspa?pid=10000&issuetype=10004&summary={title}&description={body}
//! ```

use crate::audit::{self, Actor};
use crate::store::entities::issue;
use crate::store::{AuditAction, Store, StoreError};

/// The longest template or ticket URL.
const MAX_URL: usize = 2000;

/// Why a template or a ticket URL was refused.
#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    /// Not an http(s) URL (with the placeholders filled in).
    #[error("{0:?} is not an http(s) URL of at most 2,000 characters")]
    NotUrl(String),
    /// A template with no placeholder would open the same empty ticket every time.
    #[error("the template uses none of {{title}}, {{body}}, {{url}}")]
    NoPlaceholder,
    /// A source link template that says nowhere which file.
    #[error("the template does not use {{path}}")]
    NoPath,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn http_url(text: &str) -> bool {
    text.len() <= MAX_URL
        && url::Url::parse(text)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// Checks a template: an http(s) URL once filled in, with at least one placeholder.
pub fn check_template(template: &str) -> Result<(), TicketError> {
    let template = template.trim();
    if !["{title}", "{body}", "{url}"]
        .iter()
        .any(|p| template.contains(p))
    {
        return Err(TicketError::NoPlaceholder);
    }
    let filled = fill(template, "x", "x", "x");
    if !http_url(&filled) {
        return Err(TicketError::NotUrl(template.to_owned()));
    }
    Ok(())
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn fill(template: &str, title: &str, body: &str, link: &str) -> String {
    template
        .replace("{title}", &encode(title))
        .replace("{body}", &encode(body))
        .replace("{url}", &encode(link))
}

/// The "Create ticket" URL for `issue`, whose page is `link`: the title, and a body
/// with the culprit, the users and events, first and last seen, and the link.
pub fn new_ticket_url(template: &str, issue: &issue::Model, link: &str) -> String {
    let when = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default()
    };
    let title: String = issue.title.chars().take(200).collect();
    let mut body = String::new();
    if let Some(culprit) = &issue.culprit {
        body.push_str(&format!("Culprit: {culprit}\n"));
    }
    body.push_str(&format!(
        "Users affected: {}\nEvents: {}\nFirst seen: {}\nLast seen: {}\n\n{link}\n",
        issue.user_count,
        issue.event_count,
        when(issue.first_seen),
        when(issue.last_seen)
    ));
    fill(template, &title, &body, link)
}

/// Sets `project_id`'s template (none: no "Create ticket" link).
pub async fn set_template<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
    template: Option<&str>,
) -> Result<(), TicketError> {
    let template = template.map(str::trim).filter(|t| !t.is_empty());
    if let Some(template) = template {
        check_template(template)?;
    }
    store.set_ticket_template(project_id, template).await?;
    audit::record(
        store,
        actor,
        project_id,
        AuditAction::TicketTemplateChanged,
        template.unwrap_or("none"),
    )
    .await?;
    Ok(())
}

/// Checks a source link template: an http(s) URL once filled, with `{path}`.
pub fn check_source_template(template: &str) -> Result<(), TicketError> {
    let template = template.trim();
    if !template.contains("{path}") {
        return Err(TicketError::NoPath);
    }
    let filled = source_link(template, "0123abc", "src/lib.rs", 1);
    if !http_url(&filled) {
        return Err(TicketError::NotUrl(template.to_owned()));
    }
    Ok(())
}

/// The link to `path` at `line` in the repository at `commit`, by `template`
/// (`https://github.com/acme/shop/blob/{commit}/{path}#L{line}`).
pub fn source_link(template: &str, commit: &str, path: &str, line: u64) -> String {
    let path: String = path
        .trim_start_matches("./")
        .split('/')
        .map(|segment| url::form_urlencoded::byte_serialize(segment.as_bytes()).collect::<String>())
        .collect::<Vec<_>>()
        .join("/");
    template
        .replace("{commit}", &encode(commit))
        .replace("{path}", &path)
        .replace("{line}", &line.to_string())
}

/// Sets `project_id`'s source link template (none: no links).
pub async fn set_source_template<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
    template: Option<&str>,
) -> Result<(), TicketError> {
    let template = template.map(str::trim).filter(|t| !t.is_empty());
    if let Some(template) = template {
        check_source_template(template)?;
    }
    store.set_source_link_template(project_id, template).await?;
    audit::record(
        store,
        actor,
        project_id,
        AuditAction::ProjectChanged,
        format!("source links: {}", template.unwrap_or("none")),
    )
    .await?;
    Ok(())
}

/// Links the ticket at `url` to issue `issue_id` of `project_id` (none: unlinks).
pub async fn link<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
    issue_id: i64,
    url: Option<&str>,
) -> Result<issue::Model, TicketError> {
    let url = url.map(str::trim).filter(|u| !u.is_empty());
    if let Some(url) = url
        && !http_url(url)
    {
        return Err(TicketError::NotUrl(url.to_owned()));
    }
    let issue = store.set_ticket_url(issue_id, url).await?;
    audit::record(
        store,
        actor,
        project_id,
        AuditAction::TicketLinked,
        format!("issue {issue_id}: {}", url.unwrap_or("none")),
    )
    .await?;
    Ok(issue)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_filled_url_encoded() {
        let issue = issue::Model {
            id: 7,
            project_id: 1,
            fingerprint: "f".into(),
            title: "PaymentError: card & \"declined\" #1".into(),
            culprit: Some("shop::checkout".into()),
            level: crate::store::EventLevel::Error,
            status: crate::store::IssueStatus::Unresolved,
            first_seen: 0,
            last_seen: 0,
            event_count: 12,
            user_count: 3,
            first_release: None,
            last_release: None,
            last_environment: None,
            regression_count: 0,
            last_regressed_at: None,
            resolved_at: None,
            last_notified_at: None,
            snooze_until: None,
            snooze_events: None,
            snooze_users: None,
            resolved_in_release: None,
            resolved_release: None,
            merged_into: None,
            assignee_id: None,
            owner_rule: None,
            ticket_url: None,
        };
        let template = "https://github.com/acme/shop/issues/new?title={title}&body={body}";
        check_template(template).expect("a template");
        let url = new_ticket_url(
            template,
            &issue,
            "https://mayday.example/projects/1/issues/7",
        );
        let parsed = url::Url::parse(&url).expect("a URL");
        let pairs: std::collections::HashMap<_, _> = parsed.query_pairs().collect();
        assert_eq!(pairs["title"], "PaymentError: card & \"declined\" #1");
        assert!(pairs["body"].contains("Users affected: 3"));
        assert!(pairs["body"].contains("https://mayday.example/projects/1/issues/7"));
        assert!(check_template("https://example.com/new").is_err());
        assert!(check_template("javascript:alert({title})").is_err());
        let source = "https://github.com/acme/shop/blob/{commit}/{path}#L{line}";
        check_source_template(source).expect("a source template");
        assert_eq!(
            source_link(source, "0315d27", "src/my file.rs", 127),
            "https://github.com/acme/shop/blob/0315d27/src/my+file.rs#L127"
        );
        assert!(check_source_template("https://github.com/acme/shop").is_err());
    }
}
