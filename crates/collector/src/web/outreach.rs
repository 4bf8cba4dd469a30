//! "Contact affected users": an issue's users with what they did, a message composed
//! from the project's template and previewed per recipient, sent through the outbox;
//! the "it's fixed" follow-up; who was written to, when, by whom and the delivery; and
//! the unsubscribe page, which needs no sign-in.

use axum::extract::{Form, Path, State};
use axum::response::Response;
use maud::{Markup, html};

use super::forms::{self, check_csrf};
use super::layout::{self, html};
use super::session::SignedIn;
use super::{WebError, format};
use crate::access::{self, Need};
use crate::outreach::{self, Candidate, Draft, OutreachError, Selection, template};
use crate::state::AppState;
use crate::store::entities::{issue, project};
use crate::store::{OutreachKind, now_ms};

/// Recipients previewed at once.
const PREVIEWS: usize = 20;

/// What the page says after an action.
enum Notice {
    Done(String),
    Failed(String),
}

/// The outreach page of an issue.
pub(super) async fn page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((project_id, issue_id)): Path<(i64, i64)>,
) -> Result<Response, WebError> {
    let (project, issue) =
        access::visible_issue_in(&state.store, &signed_in.account, project_id, issue_id).await?;
    let draft = Draft::of(&project, OutreachKind::Personal);
    render(
        &state,
        &signed_in,
        &project,
        &issue,
        &draft,
        &[],
        false,
        None,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn render(
    state: &AppState,
    signed_in: &SignedIn,
    project: &project::Model,
    issue: &issue::Model,
    draft: &Draft,
    picked: &[String],
    preview: bool,
    notice: Option<Notice>,
) -> Result<Response, WebError> {
    let now = now_ms();
    let candidates = outreach::candidates(&state.store, project, issue, now).await?;
    let messages = state.store.outreach_messages(issue.id).await?;
    let follow_up = state.store.fix_follow_up(issue.id).await?;
    let may_send = access::may(&state.store, &signed_in.account, project.id, Need::Triage).await?;
    let base = format!("/projects/{}/issues/{}", project.id, issue.id);
    let action = format!("{base}/outreach");
    let is_picked = |c: &Candidate| {
        if picked.is_empty() {
            c.contactable()
        } else {
            picked.contains(&c.user.user_key)
        }
    };
    let previews: Vec<(&Candidate, (String, String))> = if preview {
        candidates
            .iter()
            .filter(|c| c.contactable() && is_picked(c))
            .take(PREVIEWS)
            .map(|c| (c, draft.fill(c, project, issue, now)))
            .collect()
    } else {
        Vec::new()
    };
    let contactable = candidates.iter().filter(|c| c.contactable()).count();
    let body = html! {
        h1.wrap { "Contact affected users" }
        p.wrap { a href=(base) { "← " (issue.title) } }
        @match &notice {
            Some(Notice::Done(text)) => { p.notice role="status" { (text) } }
            Some(Notice::Failed(text)) => { p.notice.failed role="alert" { (text) } }
            None => {}
        }
        @if !project.outreach_enabled {
            p.notice.failed { "Outreach is off for this project; its admins can turn it on in its settings." }
        }
        p {
            (candidates.len()) @if candidates.len() == 1 { " user, " } @else { " users, " } (contactable) " can be written to now. Each user gets at most one message per issue, and at most "
            (project.outreach_weekly_limit) " from this project in 7 days; every message has an unsubscribe link."
        }
        form method="post" action=(action) {
            input type="hidden" name="csrf" value=(signed_in.csrf);
            table.users {
                thead { tr { th { "Write" } th { "Name" } th { "Email" } th { "When" } th { "What they did" } th { "Browser" } th { "Status" } } }
                tbody { @for c in &candidates {
                    tr {
                        td { @if c.contactable() {
                            input type="checkbox" name="user" value=(c.user.user_key) checked[is_picked(c)] aria-label={ "Write to " (c.user.email.clone().unwrap_or_default()) };
                        } }
                        td.wrap { (c.user.name.clone().or_else(|| c.user.username.clone()).unwrap_or_default()) }
                        td.wrap { (c.user.email.clone().unwrap_or_default()) }
                        td { (format::when(c.user.last_seen)) }
                        td.wrap {
                            @if let Some(what) = &c.what { code { (what) } }
                            @if let Some(said) = &c.said { blockquote.said { "They wrote: " q { (said) } } }
                        }
                        td { (c.browser.clone().unwrap_or_default()) }
                        td { @match (c.contacted_at, c.blocked) {
                            (Some(at), _) => { "written to " (format::when(at)) }
                            (None, Some(refusal)) => { span.muted { (refusal.words()) } }
                            (None, None) => { "can be written to" }
                        } }
                    }
                } }
            }
            @if may_send && project.outreach_enabled {
                h2 { "Message" }
                p.muted { "Placeholders: " @for p in template::PLACEHOLDERS { code { (p) } " " } "(name, when in their words, the page they were on, the issue's title, their own words when they wrote)." }
                div.stack {
                    label { span.label { "Subject" } input name="subject" value=(draft.subject) maxlength="200" required; }
                    label { span.label { "Text" } textarea name="text" rows="10" maxlength="10000" required { (draft.text) } }
                }
                button type="submit" name="action" value="preview" { "Preview" }
                " "
                button type="submit" name="action" value="send" { "Send to the checked users" }
            }
        }
        @if !previews.is_empty() {
            h2 { "Preview" }
            @for (c, (subject, text)) in &previews {
                article.preview {
                    p { strong { "To: " } (c.user.email.clone().unwrap_or_default()) }
                    p { strong { "Subject: " } (subject) }
                    pre.wrap { (text) }
                }
            }
        }
        h2 { "It's fixed" }
        @match &follow_up {
            Some(request) if request.live_at.is_some() => {
                p { "The fix went live " (format::when(request.live_at.unwrap_or_default())) "; the follow-up went to the users who could be written to." }
            }
            Some(request) => {
                p {
                    "Asked by " (request.requested_by) " " (format::when(request.requested_at)) ": the users hear it is fixed when "
                    @match (&request.after_release, &request.environment) {
                        (Some(release), Some(env)) => { "a release newer than " code { (release) } " reports from " code { (env) } }
                        (Some(release), None) => { "a release newer than " code { (release) } " reports" }
                        _ => { "you say the fix is live" }
                    }
                    "."
                }
                @if may_send {
                    form method="post" action=(action) {
                        input type="hidden" name="csrf" value=(signed_in.csrf);
                        button type="submit" name="action" value="fix_live" { "The fix is live: send the follow-up now" }
                    }
                }
            }
            None => {
                p.muted { "Resolve the issue with \"tell the affected users when the fix is live\", or ask for it here." }
                @if may_send && project.outreach_enabled {
                    form method="post" action=(action) {
                        input type="hidden" name="csrf" value=(signed_in.csrf);
                        button type="submit" name="action" value="follow_up" { "Tell the affected users when the fix is live" }
                    }
                }
            }
        }
        h2 { "Messages sent" }
        @if messages.is_empty() { p.muted { "None yet." } } @else {
            table.results {
                thead { tr { th { "To" } th { "What" } th { "When" } th { "By" } th { "Delivery" } } }
                tbody { @for (message, delivery) in &messages {
                    tr {
                        td.wrap { (message.email) }
                        td.wrap { (message.kind) ": " (message.subject) }
                        td { (format::when(message.created_at)) }
                        td.wrap { (message.sent_by) }
                        td { (delivery_status(delivery.as_ref())) }
                    }
                } }
            }
        }
    };
    Ok(html(layout::page(
        "Contact affected users",
        signed_in,
        body,
    )))
}

fn delivery_status(row: Option<&crate::store::entities::outbox::Model>) -> Markup {
    match row {
        None => html! { span.muted { "unknown" } },
        Some(row) => super::deliveries::status(row),
    }
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Preview, send, ask for the follow-up, or say the fix is live.
/// What a button of the contact page asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum OutreachAction {
    Preview,
    Send,
    FollowUp,
    FixLive,
}

pub(super) async fn act(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((project_id, issue_id)): Path<(i64, i64)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    check_csrf(&signed_in, field(&fields, "csrf").unwrap_or_default())?;
    let (project, issue) =
        access::visible_issue_in(&state.store, &signed_in.account, project_id, issue_id).await?;
    access::project_for(&state.store, &signed_in.account, project_id, Need::Triage).await?;
    let store = &state.store;
    let draft = match (field(&fields, "subject"), field(&fields, "text")) {
        (Some(subject), Some(text)) => Draft {
            subject: subject.trim().to_owned(),
            text: text.replace("\r\n", "\n"),
        },
        _ => Draft::of(&project, OutreachKind::Personal),
    };
    let picked: Vec<String> = fields
        .iter()
        .filter(|(key, _)| key == "user")
        .map(|(_, value)| value.clone())
        .collect();
    let failed = |error: OutreachError| match error {
        OutreachError::Store(error) => Err(WebError::from(error)),
        other => Ok(Notice::Failed(format!("Not sent: {other}."))),
    };
    let (notice, preview) =
        match forms::action::<OutreachAction>(field(&fields, "action").unwrap_or_default())? {
            OutreachAction::Preview => match draft.check() {
                Ok(()) => (None, true),
                Err(error) => (Some(Notice::Failed(format!("Not sent: {error}."))), false),
            },
            OutreachAction::Send if picked.is_empty() => (
                Some(Notice::Failed(
                    "Check at least one user to write to.".into(),
                )),
                false,
            ),
            OutreachAction::Send => {
                let selection = Selection::Users(picked.clone());
                let notice = match outreach::send(
                    store,
                    &project,
                    &issue,
                    &signed_in.account,
                    OutreachKind::Personal,
                    &draft,
                    &selection,
                    now_ms(),
                )
                .await
                {
                    Ok(outcome) => {
                        let queued = outcome.queued.len();
                        let mut text = format!("{queued} message(s) queued.");
                        for (key, refusal) in &outcome.refused {
                            text.push_str(&format!(" {key}: not sent, {}.", refusal.words()));
                        }
                        Notice::Done(text)
                    }
                    Err(error) => failed(error)?,
                };
                (Some(notice), false)
            }
            OutreachAction::FollowUp => {
                let notice =
                    match outreach::request_follow_up(store, &signed_in.account, &project, &issue)
                        .await
                    {
                        Ok(()) => Notice::Done(
                            "The affected users will hear when the fix is live.".into(),
                        ),
                        Err(error) => failed(error)?,
                    };
                (Some(notice), false)
            }
            OutreachAction::FixLive => {
                let notice = match outreach::fix_is_live(store, &project, &issue, now_ms()).await {
                    Ok(Some(outcome)) => {
                        state.notify_wake.notify_one();
                        Notice::Done(format!("{} follow-up(s) queued.", outcome.queued.len()))
                    }
                    Ok(None) => Notice::Failed("The follow-up went out already.".into()),
                    Err(error) => failed(error)?,
                };
                (Some(notice), false)
            }
        };
    if matches!(notice, Some(Notice::Done(_))) {
        state.notify_wake.notify_one();
    }
    render(
        &state, &signed_in, &project, &issue, &draft, &picked, preview, notice,
    )
    .await
}

/// `GET /unsubscribe/{token}`: asks to confirm (mail scanners open links; only a POST
/// unsubscribes).
pub(super) async fn unsubscribe_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    let Some(sender) = outreach::sender_of(&state.store, &token).await? else {
        return Err(WebError::NotFound);
    };
    let body = html! {
        h1 { "Unsubscribe" }
        p { "Get no more messages from " (sender) " like the one you received?" }
        form method="post" action={ "/unsubscribe/" (token) } {
            button type="submit" { "Unsubscribe" }
        }
    };
    Ok(html(layout::branded_page(&sender, "Unsubscribe", body)))
}

/// `POST /unsubscribe/{token}`: the button, or a mail client's one-click unsubscribe
/// (RFC 8058); no sign-in, the token is the permission.
pub(super) async fn unsubscribe(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    match outreach::unsubscribe(&state.store, &token).await? {
        Some(sender) => {
            let body = html! {
                h1 { "Unsubscribed" }
                p { "You will get no more messages from " (sender) " about errors you ran into." }
            };
            Ok(html(layout::branded_page(&sender, "Unsubscribed", body)))
        }
        None => Err(WebError::NotFound),
    }
}
