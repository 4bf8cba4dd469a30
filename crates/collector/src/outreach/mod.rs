//! Writing to the users a crash hit: "sorry, this crashed" from the issue page, and "it
//! is fixed now" when the fix is live. The rules live here: who may be written to (an
//! email, not unsubscribed, not written to about this issue yet, under the project's
//! weekly most), what each message says (templates, filled in per user), and when a fix
//! counts as live (a newer release reports from the same environment).

pub mod template;
pub mod words;

use mayday_protocol::Event;

use crate::audit::{self, Actor};
use crate::notify::facts::describe_user_agent;
use crate::release;
use crate::store::entities::{affected_user, issue, outreach_fix, outreach_message, project};
use crate::store::{
    AuditAction, NewMessage, OutreachKind, Refusal, Store, StoreError, WEEK_MS, now_ms,
};
use template::{TemplateError, Values};

/// Most users listed on an issue's outreach page and written to at once.
pub const MAX_USERS: u64 = 500;

/// Why outreach cannot go ahead.
#[derive(Debug, thiserror::Error)]
pub enum OutreachError {
    /// The project's admins turned outreach off.
    #[error("outreach is off for this project; its admins can turn it on in its settings")]
    Off,
    /// A template cannot be used.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A setting is not usable.
    #[error("{0}")]
    Invalid(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A user of an issue, as the outreach page and the API show them.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The user.
    pub user: affected_user::Model,
    /// What they requested, for the team: `GET /checkout?bundle=team`.
    pub what: Option<String>,
    /// What they were doing, in their words: "checking out" (see [`words::doing`]).
    pub doing: String,
    /// The page's path: `/checkout`.
    pub page: Option<String>,
    /// Their browser and OS: `Firefox 86 on Windows 10`.
    pub browser: Option<String>,
    /// What they wrote about this issue themselves (their latest feedback), if they did.
    pub said: Option<String>,
    /// When they were written to about this issue.
    pub contacted_at: Option<i64>,
    /// Why they cannot be written to now, if so.
    pub blocked: Option<Refusal>,
}

impl Candidate {
    /// Whether they can be written to now.
    pub fn contactable(&self) -> bool {
        self.blocked.is_none()
    }
}

/// The name customers know the project by: its sender name, else its name.
pub fn sender_name(project: &project::Model) -> &str {
    project
        .sender_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(&project.name)
}

/// `GET /checkout?bundle=team` from an event's request (path and query, no host), else
/// its route.
pub fn what_they_did(event: &Event) -> Option<String> {
    let request = event.request.as_ref();
    let page = request.and_then(|r| r.url.as_deref()).map(|url| {
        let path = url::Url::parse(url)
            .map(|u| u.path().to_owned())
            .unwrap_or_else(|_| url.to_owned());
        match request
            .and_then(|r| r.query_string.as_deref())
            .filter(|q| !q.is_empty())
        {
            Some(query) => format!("{path}?{query}"),
            None => match url::Url::parse(url)
                .ok()
                .and_then(|u| u.query().map(str::to_owned))
            {
                Some(query) => format!("{path}?{query}"),
                None => path,
            },
        }
    });
    match (request.and_then(|r| r.method.as_deref()), page) {
        (Some(method), Some(page)) => Some(format!("{method} {page}")),
        (None, Some(page)) => Some(page),
        (_, None) => event.transaction.clone(),
    }
}

/// The users of `issue` (at most [`MAX_USERS`]), each with whether and why not they can
/// be written to at `now`.
pub async fn candidates(
    store: &Store,
    project: &project::Model,
    issue: &issue::Model,
    now: i64,
) -> Result<Vec<Candidate>, StoreError> {
    let users = store.users_with_latest_event(issue.id, MAX_USERS).await?;
    candidates_of(store, project, issue, users, now).await
}

/// `users` of `issue` (with their latest event, when loaded) as candidates at `now`.
pub async fn candidates_of(
    store: &Store,
    project: &project::Model,
    issue: &issue::Model,
    users: Vec<(affected_user::Model, Option<Event>)>,
    now: i64,
) -> Result<Vec<Candidate>, StoreError> {
    let sent: Vec<outreach_message::Model> = store
        .outreach_messages(issue.id)
        .await?
        .into_iter()
        .map(|(message, _)| message)
        .collect();
    let blocked_addresses = store.do_not_contact(project.id).await?;
    // Newest first: the first match is their latest word.
    let feedback = store.issue_feedback(project.id, issue.id, 500).await?;
    let this_week = store.messages_since(project.id, now - WEEK_MS).await?;
    // Checked when saved; a list that no longer parses names no route.
    let route_names = words::parse_route_names(project.route_names.as_deref().unwrap_or_default())
        .unwrap_or_default();
    Ok(users
        .into_iter()
        .map(|(user, event)| {
            // One address whatever its form (`Name <a@b>`, case): every rule compares it.
            let address = user.email.as_deref().and_then(crate::address::normalize);
            let contacted_at = sent
                .iter()
                .find(|m| {
                    m.user_key == user.user_key
                        || address.as_deref() == Some(&*crate::address::normal_or_lower(&m.email))
                })
                .map(|m| m.created_at);
            let blocked = if !project.outreach_enabled {
                Some(Refusal::OutreachOff)
            } else if contacted_at.is_some() {
                Some(Refusal::AlreadyContacted)
            } else {
                match address.as_deref() {
                    None => Some(Refusal::NoEmail),
                    Some(a) if blocked_addresses.iter().any(|b| b == a) => {
                        Some(Refusal::DoNotContact)
                    }
                    Some(a)
                        if this_week.get(a).copied().unwrap_or(0)
                            >= project.outreach_weekly_limit =>
                    {
                        Some(Refusal::WeeklyLimit)
                    }
                    Some(_) => None,
                }
            };
            let what = event.as_ref().and_then(what_they_did);
            let doing = event.as_ref().map_or_else(
                || "using the site".to_owned(),
                |e| words::doing(e, &route_names),
            );
            let page = event.as_ref().and_then(words::page);
            let browser = event
                .as_ref()
                .and_then(|e| e.request.as_ref())
                .and_then(|r| r.headers.get("user-agent"))
                .and_then(describe_user_agent);
            let said = address.as_deref().and_then(|address| {
                feedback
                    .iter()
                    .find(|f| {
                        f.email
                            .as_deref()
                            .and_then(crate::address::normalize)
                            .as_deref()
                            == Some(address)
                    })
                    .map(|f| f.message.clone())
            });
            Candidate {
                user,
                what,
                doing,
                page,
                browser,
                said,
                contacted_at,
                blocked,
            }
        })
        .collect())
}

/// Which users to write to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every contactable user.
    All,
    /// These users (`user_key`s).
    Users(Vec<String>),
}

/// The words of a message: subject and text, with placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    /// The subject.
    pub subject: String,
    /// The text.
    pub text: String,
}

impl Draft {
    /// The project's draft of `kind` (its templates, else the defaults).
    pub fn of(project: &project::Model, kind: OutreachKind) -> Draft {
        let (subject, text, default_subject, default_text) = match kind {
            OutreachKind::Personal => (
                &project.outreach_subject,
                &project.outreach_template,
                template::DEFAULT_SUBJECT,
                template::DEFAULT_TEXT,
            ),
            OutreachKind::Fixed => (
                &project.outreach_fixed_subject,
                &project.outreach_fixed_template,
                template::DEFAULT_FIXED_SUBJECT,
                template::DEFAULT_FIXED_TEXT,
            ),
        };
        Draft {
            subject: subject
                .clone()
                .unwrap_or_else(|| default_subject.to_owned()),
            text: text.clone().unwrap_or_else(|| default_text.to_owned()),
        }
    }

    /// Checks both templates.
    pub fn check(&self) -> Result<(), TemplateError> {
        template::check(&self.subject)?;
        if self.subject.chars().count() > 200 {
            return Err(TemplateError::Size("a subject is at most 200 characters"));
        }
        template::check(&self.text)
    }

    /// The message to `candidate` about `issue` of `project`, seen at `now`: subject
    /// and text.
    pub fn fill(
        &self,
        candidate: &Candidate,
        project: &project::Model,
        issue: &issue::Model,
        now: i64,
    ) -> (String, String) {
        let user = &candidate.user;
        // Values from events stay on their line wherever they land.
        let one_line = |text: String| -> String {
            text.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect()
        };
        let name = user
            .name
            .clone()
            .or_else(|| user.username.clone())
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "there".into());
        let values = Values {
            name: one_line(name),
            when: template::when_in_words(user.last_seen, now),
            doing: one_line(candidate.doing.clone()),
            page: one_line(candidate.page.clone().unwrap_or_else(|| "/".into())),
            issue: one_line(issue.title.clone()),
            project: one_line(sender_name(project).to_owned()),
            said: candidate.said.as_ref().map_or_else(String::new, |said| {
                let quoted: String = one_line(said.clone()).chars().take(500).collect();
                format!(
                    "You wrote: \u{201c}{}\u{201d} Thank you for telling us.\n\n",
                    quoted.trim()
                )
            }),
        };
        (
            template::render(&self.subject, &values),
            template::render(&self.text, &values),
        )
    }
}

/// What writing to users did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The messages queued.
    pub queued: Vec<outreach_message::Model>,
    /// The users not written to, and why.
    pub refused: Vec<(String, Refusal)>,
}

/// Writes `draft` to the `selection` of `issue`'s users on behalf of `actor`; each
/// message goes through the outbox, and the audit log says how many. Users who cannot
/// be written to are refused with the reason, the others queued.
#[allow(clippy::too_many_arguments)]
pub async fn send<'a>(
    store: &Store,
    project: &project::Model,
    issue: &issue::Model,
    actor: impl Into<Actor<'a>>,
    kind: OutreachKind,
    draft: &Draft,
    selection: &Selection,
    now: i64,
) -> Result<Outcome, OutreachError> {
    if !project.outreach_enabled {
        return Err(OutreachError::Off);
    }
    draft.check()?;
    let candidates = candidates(store, project, issue, now).await?;
    let mut outcome = Outcome::default();
    let chosen: Vec<&Candidate> = match selection {
        Selection::All => candidates.iter().filter(|c| c.contactable()).collect(),
        Selection::Users(keys) => {
            let mut chosen = Vec::new();
            for key in keys {
                match candidates.iter().find(|c| &c.user.user_key == key) {
                    Some(candidate) => match candidate.blocked {
                        Some(refusal) => outcome.refused.push((key.clone(), refusal)),
                        None => chosen.push(candidate),
                    },
                    None => outcome.refused.push((key.clone(), Refusal::NotAffected)),
                }
            }
            chosen
        }
    };
    let messages: Vec<NewMessage> = chosen
        .iter()
        .filter_map(|candidate| {
            let email = candidate
                .user
                .email
                .as_deref()
                .and_then(crate::address::normalize)?;
            let (subject, body) = draft.fill(candidate, project, issue, now);
            Some(NewMessage {
                issue_id: issue.id,
                user_key: candidate.user.user_key.clone(),
                email,
                name: candidate.user.name.clone(),
                kind,
                subject,
                body,
            })
        })
        .collect();
    let actor = actor.into();
    let keys: Vec<String> = messages.iter().map(|m| m.user_key.clone()).collect();
    let results = store
        .queue_outreach(
            project.id,
            actor.name(),
            project.outreach_weekly_limit,
            messages,
        )
        .await?;
    for (key, result) in keys.into_iter().zip(results) {
        match result {
            Ok(message) => outcome.queued.push(message),
            Err(refusal) => outcome.refused.push((key, refusal)),
        }
    }
    if !outcome.queued.is_empty() {
        let target = format!("issue {}: {} user(s)", issue.id, outcome.queued.len());
        audit::record(store, actor, project.id, AuditAction::OutreachSent, target).await?;
    }
    Ok(outcome)
}

/// Asks for the "it's fixed" follow-up of `issue`: sent when a release newer than the
/// one the issue was last seen in reports from the same environment, or when the team
/// says the fix is live.
pub async fn request_follow_up<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project: &project::Model,
    issue: &issue::Model,
) -> Result<(), OutreachError> {
    let actor = actor.into();
    if !project.outreach_enabled {
        return Err(OutreachError::Off);
    }
    let latest = store.issue_latest_event(issue.id).await?;
    store
        .request_fix_follow_up(outreach_fix::Model {
            id: 0,
            project_id: project.id,
            issue_id: issue.id,
            after_release: latest.as_ref().and_then(|e| e.release.clone()),
            environment: latest.and_then(|e| e.environment),
            requested_by: actor.name().to_owned(),
            requested_at: now_ms(),
            live_at: None,
        })
        .await?;
    let target = format!("issue {}", issue.id);
    audit::record(
        store,
        actor,
        project.id,
        AuditAction::FixFollowUpRequested,
        target,
    )
    .await?;
    Ok(())
}

/// The fix of `issue` is live (the team says so, or a newer release reported): the
/// follow-up goes to every user who can be written to. Only the first caller sends it.
pub async fn fix_is_live(
    store: &Store,
    project: &project::Model,
    issue: &issue::Model,
    now: i64,
) -> Result<Option<Outcome>, OutreachError> {
    let Some(request) = store.fix_follow_up(issue.id).await? else {
        return Ok(None);
    };
    if request.live_at.is_some() || !store.mark_fix_live(request.id, now).await? {
        return Ok(None);
    }
    let draft = Draft::of(project, OutreachKind::Fixed);
    let outcome = send(
        store,
        project,
        issue,
        Actor::Collector,
        OutreachKind::Fixed,
        &draft,
        &Selection::All,
        now,
    )
    .await?;
    Ok(Some(outcome))
}

/// Sends the follow-ups whose fix went live: a release newer than the one each issue
/// was last seen in reported from the same environment since it was asked for. Returns
/// how many follow-ups went out.
pub async fn check_fixes(store: &Store, now: i64) -> Result<usize, OutreachError> {
    let mut sent = 0;
    for request in store.pending_fix_follow_ups().await? {
        let Some(after) = request.after_release.as_deref() else {
            continue;
        };
        let mut live = false;
        for seen in store
            .releases_seen_since(request.project_id, request.requested_at)
            .await?
        {
            if release::is_newer(&seen, after)
                && store
                    .release_reported_in(
                        request.project_id,
                        &seen,
                        request.environment.as_deref(),
                        request.requested_at,
                    )
                    .await?
            {
                live = true;
                break;
            }
        }
        if !live {
            continue;
        }
        let (Some(project), Some(issue)) = (
            store.project(request.project_id).await?,
            store.issue(request.issue_id).await?,
        ) else {
            continue;
        };
        if fix_is_live(store, &project, &issue, now).await?.is_some() {
            sent += 1;
        }
    }
    Ok(sent)
}

/// Unsubscribes the address of the message with `token` from its project's messages;
/// returns the project's name, or `None` for an unknown token.
pub async fn unsubscribe(store: &Store, token: &str) -> Result<Option<String>, StoreError> {
    if token.len() != 32 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let Some(message) = store.message_by_unsubscribe_token(token).await? else {
        return Ok(None);
    };
    store
        .add_do_not_contact(message.project_id, &message.email)
        .await?;
    Ok(store
        .project(message.project_id)
        .await?
        .map(|p| sender_name(&p).to_owned()))
}

/// The name customers know the project of the message with `token` by, if there is
/// such a message (for the unsubscribe page).
pub async fn sender_of(store: &Store, token: &str) -> Result<Option<String>, StoreError> {
    if token.len() != 32 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let Some(message) = store.message_by_unsubscribe_token(token).await? else {
        return Ok(None);
    };
    Ok(store
        .project(message.project_id)
        .await?
        .map(|p| sender_name(&p).to_owned()))
}

/// Checks and saves a project's outreach settings.
pub async fn save_settings<'a>(
    store: &Store,
    actor: impl Into<crate::audit::Actor<'a>>,
    project_id: i64,
    settings: crate::store::OutreachSettings,
) -> Result<(), OutreachError> {
    for (what, address) in [("sender", &settings.from), ("reply-to", &settings.reply_to)] {
        if let Some(address) = address
            && let Err(error) = crate::address::check(address)
        {
            return Err(OutreachError::Invalid(format!(
                "the {what}: {error}; write `Shop <help@shop.example>` or `help@shop.example`"
            )));
        }
    }
    if !(0..=100).contains(&settings.weekly_limit) {
        return Err(OutreachError::Invalid(
            "messages per week must be 0 to 100".into(),
        ));
    }
    for template in [
        &settings.subject,
        &settings.template,
        &settings.fixed_subject,
        &settings.fixed_template,
    ]
    .into_iter()
    .flatten()
    {
        template::check(template)?;
    }
    store.set_outreach_settings(project_id, settings).await?;
    crate::audit::record(
        store,
        actor,
        project_id,
        crate::store::AuditAction::OutreachSettingsChanged,
        "outreach",
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_they_did_in_plain_words() {
        let event: Event = serde_json::from_value(serde_json::json!({
            "request": {"method": "POST", "url": "https://shop.example/checkout", "query_string": "bundle=team"},
            "transaction": "POST /checkout"
        }))
        .unwrap();
        assert_eq!(
            what_they_did(&event).as_deref(),
            Some("POST /checkout?bundle=team")
        );
        let event: Event = serde_json::from_value(serde_json::json!({
            "request": {"method": "GET", "url": "https://shop.example/cart?x=1"}
        }))
        .unwrap();
        assert_eq!(what_they_did(&event).as_deref(), Some("GET /cart?x=1"));
        let event: Event =
            serde_json::from_value(serde_json::json!({"transaction": "GET /cart"})).unwrap();
        assert_eq!(what_they_did(&event).as_deref(), Some("GET /cart"));
    }
}
