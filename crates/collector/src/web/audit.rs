//! A project's audit log page (project admins): who changed what, and when.

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{Markup, html};

use super::WebError;
use super::format::when;
use super::layout::{self, html};
use super::session::SignedIn;
use crate::access::{self, Need};
use crate::state::AppState;
use crate::store::AuditAction;
use crate::store::entities::project;

/// The project's latest changes (project admins).
pub(super) async fn page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<i64>,
) -> Result<Response, WebError> {
    let project =
        access::project_for(&state.store, &signed_in.account, project_id, Need::Manage).await?;
    let entries = state.store.audit_log(project_id, 200).await?;
    Ok(html(markup(&signed_in, &project, &entries)))
}

/// A project's audit log: who changed what, and when.
fn markup(
    signed_in: &SignedIn,
    project: &project::Model,
    entries: &[crate::store::entities::audit_entry::Model],
) -> Markup {
    layout::page(
        &format!("{} audit log", project.name),
        signed_in,
        html! {
            h1 { (project.name) " audit log" }
            p { a href={ "/projects/" (project.id) "/settings" } { "Back to settings" } }
            @if entries.is_empty() { p.muted { "No changes yet." } }
            @else {
                table {
                    thead { tr { th { "When" } th { "Who" } th { "What" } th { "About" } } }
                    tbody { @for entry in entries {
                        tr { td data-label="When" { (when(entry.at)) } td.wrap data-label="Who" { (entry.actor) }
                            td data-label="What" { (words(entry.action)) } td.wrap data-label="To" { (linked(project.id, &entry.target)) } }
                    } }
                }
            }
        },
    )
}

/// What an audit action says, in words.
fn words(action: AuditAction) -> &'static str {
    match action {
        AuditAction::ProjectCreated => "created the project",
        AuditAction::ProjectChanged => "renamed the project or its words for customers",
        AuditAction::KeyCreated => "added a DSN key",
        AuditAction::KeyDisabled => "disabled a DSN key",
        AuditAction::KeyEnabled => "enabled a DSN key",
        AuditAction::RecipientAdded => "added a recipient",
        AuditAction::RecipientRemoved => "removed a recipient",
        AuditAction::WebhookAdded => "added a webhook",
        AuditAction::WebhookRemoved => "removed a webhook",
        AuditAction::MonitorAdded => "added a monitor",
        AuditAction::MonitorChanged => "changed a monitor",
        AuditAction::MonitorRemoved => "removed a monitor",
        AuditAction::AlertRuleAdded => "added an alert rule",
        AuditAction::AlertRuleChanged => "changed an alert rule",
        AuditAction::AlertRuleRemoved => "removed an alert rule",
        AuditAction::IssueAssigned => "assigned an issue",
        AuditAction::OwnershipChanged => "changed the ownership rules",
        AuditAction::TicketTemplateChanged => "changed the ticket template",
        AuditAction::TicketLinked => "linked a ticket",
        AuditAction::DebugFileUploaded => "uploaded a debug file",
        AuditAction::DebugFileRemoved => "deleted a debug file",
        AuditAction::OutreachSent => "wrote to affected users",
        AuditAction::FixFollowUpRequested => "asked to tell users when fixed",
        AuditAction::OutreachSettingsChanged => "changed the messages to users",
        AuditAction::LimitsChanged => "changed the limits",
        AuditAction::RetentionChanged => "changed retention",
        AuditAction::MemberAdded => "added a member",
        AuditAction::MemberRemoved => "removed a member",
        AuditAction::StatusChanged => "changed an issue's status",
        AuditAction::IssuesMerged => "merged issues",
        AuditAction::IssueUnmerged => "unmerged an issue",
    }
}

/// An entry's target with every `issue N` (and `#N` of merges) linked to that issue.
fn linked(project_id: i64, target: &str) -> Markup {
    let mut parts: Vec<(String, Option<i64>)> = Vec::new();
    let mut rest = target;
    while let Some(at) = rest.find(['#', 'i']) {
        let (before, from) = rest.split_at(at);
        let (skip, digits_from) = if let Some(after) = from.strip_prefix("issue ") {
            ("issue ".len(), after)
        } else if let Some(after) = from.strip_prefix('#') {
            (1, after)
        } else {
            parts.push((rest[..at + 1].to_owned(), None));
            rest = &rest[at + 1..];
            continue;
        };
        let digits: String = digits_from
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        match digits.parse::<i64>() {
            Ok(id) => {
                parts.push((before.to_owned(), None));
                parts.push((from[..skip + digits.len()].to_owned(), Some(id)));
                rest = &from[skip + digits.len()..];
            }
            Err(_) => {
                parts.push((rest[..at + 1].to_owned(), None));
                rest = &rest[at + 1..];
            }
        }
    }
    parts.push((rest.to_owned(), None));
    html! {
        @for (text, issue) in &parts {
            @match issue {
                Some(id) => a href={ "/projects/" (project_id) "/issues/" (id) } { (text) },
                None => (text),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_references_become_links() {
        let html = linked(3, "issues #4, #5 into issue 12").into_string();
        assert_eq!(
            html,
            "issues <a href=\"/projects/3/issues/4\">#4</a>, <a href=\"/projects/3/issues/5\">#5</a> into <a href=\"/projects/3/issues/12\">issue 12</a>"
        );
        let plain = linked(3, "jane@example.com as member").into_string();
        assert_eq!(plain, "jane@example.com as member");
        let escaped = linked(3, "<b>issue 7</b>").into_string();
        assert!(escaped.starts_with("&lt;b&gt;<a href=\"/projects/3/issues/7\">issue 7</a>"));
    }
}
