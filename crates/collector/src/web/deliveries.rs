//! Where each notification stands (sent, retrying with its last error, failed), on the
//! settings page (a project's latest) and the issue page (the issue's): a notification
//! that never arrives shows here instead of failing silently.

use maud::{Markup, html};

use crate::store::entities::{outbox, webhook};
use crate::store::{Channel, DeliveryStatus};

/// The notifications as a table; `issue_links` links each to its issue (project id).
/// `webhooks` names each webhook by its URL: only for project admins (a chat webhook's
/// URL is its password); without them a webhook is just "webhook".
pub(super) fn table(
    rows: &[outbox::Model],
    webhooks: Option<&[webhook::Model]>,
    issue_links: Option<i64>,
) -> Markup {
    if rows.is_empty() {
        return html! { p.muted { "No notifications yet." } };
    }
    html! {
        table.deliveries {
            thead { tr {
                th { "Queued" } @if issue_links.is_some() { th { "About" } }
                th { "Why" } th { "To" } th { "Status" }
            } }
            tbody { @for row in rows {
                tr {
                    td { (super::format::when(row.created_at)) }
                    @if let Some(project_id) = issue_links {
                        td { (subject(project_id, row)) }
                    }
                    td { (row.kind) }
                    td.wrap { (destination(row, webhooks)) }
                    td { (status(row)) }
                }
            } }
        }
    }
}

/// A link to the issue or monitor a notification is about.
fn subject(project_id: i64, row: &outbox::Model) -> Markup {
    match (row.issue_id, row.monitor_id) {
        (Some(issue), _) => {
            html! { a href={ "/projects/" (project_id) "/issues/" (issue) } { "#" (issue) } }
        }
        (None, Some(monitor)) => html! {
            a href={ "/projects/" (project_id) "/monitors/" (monitor) } { "monitor " (monitor) }
        },
        (None, None) => html! {},
    }
}

fn destination(row: &outbox::Model, webhooks: Option<&[webhook::Model]>) -> Markup {
    let action = row
        .action
        .as_deref()
        .and_then(|json| serde_json::from_str::<crate::alerts::rule::Action>(json).ok());
    if let Some(action) = action {
        // Without the URL's path or key: those are the destination's password.
        return html! { (action.describe()) };
    }
    match (row.channel, webhooks) {
        (Channel::Email, _) => html! { "email" },
        (Channel::Webhook, None) => html! { "webhook" },
        (Channel::Webhook, Some(hooks)) => {
            match hooks.iter().find(|hook| Some(hook.id) == row.webhook_id) {
                Some(hook) => html! { "webhook " code { (hook.url) } },
                None => html! { "webhook " span.muted { "(removed)" } },
            }
        }
        (channel, _) => html! { (crate::alerts::rule::channel_name(channel)) },
    }
}

/// Where one delivery stands: sent (when), waiting, being sent, retrying (why, and
/// when next), failed (why).
pub(super) fn status(row: &outbox::Model) -> Markup {
    let error = row.last_error.as_deref().unwrap_or_default();
    match (row.status, row.attempts) {
        // Claimed by a worker and not failed yet: on its way.
        (DeliveryStatus::Pending, _) if row.last_error.is_none() && row.attempts > 0 => {
            html! { span.muted { "sending" } }
        }
        (DeliveryStatus::Sent, _) => html! {
            span.status-sent { "sent" }
            @if let Some(at) = row.sent_at { " " (super::format::when(at)) }
        },
        (DeliveryStatus::Pending, 0) => html! { span.muted { "waiting" } },
        (DeliveryStatus::Pending, attempts) => html! {
            span.status-retrying { "retrying" } " after " (attempts) " attempts, next "
            (super::format::when(row.next_attempt_at)) ": " span.wrap { (error) }
        },
        (DeliveryStatus::Failed, attempts) => html! {
            span.status-failed { "failed" } " after " (attempts) " attempts: " span.wrap { (error) }
        },
    }
}
