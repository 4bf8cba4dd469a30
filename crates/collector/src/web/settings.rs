//! A project's settings page (project admins): keys and DSNs, recipients, webhooks and
//! test notifications, members, limits, retention, writing to affected users. Each form
//! posts an action that goes through the domain function that checks, stores and
//! audits it (`projects`, `membership`, `webhooks`, `outreach`), the same the API and
//! the command line use.

use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{self, html, html_with_status};
use super::session::SignedIn;
use super::{WebError, forms, forms::check_csrf};
use crate::access::{self, Need};
use crate::notify::{self, Destination, facts::Facts};
use crate::projects::{self, SettingsError};
use crate::state::AppState;
use crate::store::entities::{account, project, project_key};
use crate::store::{Store, now_ms};
use crate::{membership, webhooks};

/// How many recent notifications the settings page lists.
const DELIVERIES_SHOWN: u64 = 20;

/// `GET /projects/{id}/settings` (project admins).
pub(super) async fn page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<i64>,
) -> Result<Response, WebError> {
    access::project_for(&state.store, &signed_in.account, project_id, Need::Manage).await?;
    render(&state, &signed_in, project_id, None).await
}

/// The settings page, with what the last action said (a refusal answers 400).
async fn render(
    state: &AppState,
    signed_in: &SignedIn,
    project_id: i64,
    notice: Option<SettingsNotice>,
) -> Result<Response, WebError> {
    let project =
        access::project_for(&state.store, &signed_in.account, project_id, Need::Manage).await?;
    let keys = state.store.project_keys(project_id).await?;
    let recipients = state.store.recipients(project_id).await?;
    let members = state.store.members(project_id).await?;
    let webhooks = state.store.webhooks(project_id).await?;
    let deliveries = state
        .store
        .notifications(project_id, None, DELIVERIES_SHOWN)
        .await?;
    let dsns: Vec<(project_key::Model, String)> = keys
        .into_iter()
        .map(|key| {
            let dsn = state.config.dsn(&key.public_key, project_id);
            (key, dsn)
        })
        .collect();
    let refused = matches!(notice, Some(SettingsNotice::Refused(_)));
    let page = markup(&SettingsView {
        signed_in,
        project: &project,
        keys: &dsns,
        recipients: &recipients,
        members: &members,
        default_rate_limit: state.config.rate_limit,
        retention_events: state.config.retention_events_per_issue,
        retention_days: state.config.retention_days,
        webhooks: &webhooks,
        deliveries: &deliveries,
        smtp_configured: state.config.smtp_url.is_some(),
        notice,
        rejected: super::onboarding::rejected_notice(
            project_id,
            &state.rejections.last_hour(project_id, now_ms()),
        ),
    });
    Ok(if refused {
        html_with_status(StatusCode::BAD_REQUEST, page)
    } else {
        html(page)
    })
}

/// What a settings form asks for: its `action` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum SettingsAction {
    CreateKey,
    DisableKey,
    EnableKey,
    AddRecipient,
    RemoveRecipient,
    Limits,
    Retention,
    AddMember,
    RemoveMember,
    AddWebhook,
    RemoveWebhook,
    TestEmail,
    TestWebhook,
    Outreach,
    Project,
}

/// Every field any settings form sends; each action reads its own.
#[derive(Deserialize)]
pub(super) struct SettingsForm {
    #[serde(default)]
    csrf: String,
    action: String,
    #[serde(default)]
    key_id: Option<i64>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    rate_limit: Option<i64>,
    #[serde(default)]
    spike_events: Option<i64>,
    #[serde(default)]
    spike_minutes: Option<i64>,
    #[serde(default)]
    retention_events: Option<i64>,
    #[serde(default)]
    retention_days: Option<i64>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    webhook_id: Option<i64>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    sender_name: Option<String>,
    #[serde(default)]
    route_names: Option<String>,
    #[serde(default)]
    outreach_enabled: Option<String>,
    #[serde(default)]
    outreach_from: Option<String>,
    #[serde(default)]
    outreach_reply_to: Option<String>,
    #[serde(default)]
    outreach_weekly_limit: Option<String>,
    #[serde(default)]
    outreach_subject: Option<String>,
    #[serde(default)]
    outreach_template: Option<String>,
    #[serde(default)]
    outreach_fixed_subject: Option<String>,
    #[serde(default)]
    outreach_fixed_template: Option<String>,
}

impl SettingsForm {
    fn key_id(&self) -> Result<i64, WebError> {
        self.key_id
            .ok_or_else(|| WebError::BadRequest("Which key? The form sent no key_id.".into()))
    }

    fn email(&self) -> Result<&str, WebError> {
        self.email
            .as_deref()
            .ok_or_else(|| WebError::BadRequest("The form sent no email.".into()))
    }

    fn webhook_id(&self) -> Result<i64, WebError> {
        self.webhook_id.ok_or_else(|| {
            WebError::BadRequest("Which webhook? The form sent no webhook_id.".into())
        })
    }
}

/// What an action did: back to the page, or the page with a notice.
enum Outcome {
    Saved,
    Notice(SettingsNotice),
}

impl From<Result<(), SettingsError>> for Outcome {
    fn from(result: Result<(), SettingsError>) -> Self {
        match result {
            Ok(()) => Outcome::Saved,
            Err(error) => Outcome::Notice(SettingsNotice::Refused(error.to_string())),
        }
    }
}

/// `POST /projects/{id}/settings`: one action of the page's forms, each through the
/// domain function that checks, stores and audits it.
pub(super) async fn change(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<i64>,
    Form(form): Form<SettingsForm>,
) -> Result<Response, WebError> {
    check_csrf(&signed_in, &form.csrf)?;
    access::project_for(&state.store, &signed_in.account, project_id, Need::Manage).await?;
    let action: SettingsAction = forms::action(&form.action)?;
    let store = &state.store;
    let me = &signed_in.account;
    let outcome: Outcome = match action {
        SettingsAction::CreateKey => projects::create_key(store, me, project_id).await.into(),
        SettingsAction::DisableKey | SettingsAction::EnableKey => {
            let active = action == SettingsAction::EnableKey;
            projects::set_key_active(store, me, project_id, form.key_id()?, active)
                .await
                .into()
        }
        SettingsAction::AddRecipient => {
            projects::add_recipient(store, me, project_id, form.email()?)
                .await
                .into()
        }
        SettingsAction::RemoveRecipient => {
            projects::remove_recipient(store, me, project_id, form.email()?)
                .await
                .map(|_| ())
                .into()
        }
        SettingsAction::Limits => limits(store, me, project_id, &form).await.into(),
        SettingsAction::Retention => projects::set_retention(
            store,
            me,
            project_id,
            form.retention_events.unwrap_or(0),
            form.retention_days.unwrap_or(0),
        )
        .await
        .into(),
        SettingsAction::AddMember => {
            let role = forms::parse_role(form.role.as_deref())?;
            membership::add(store, me, project_id, form.email()?, role).await?;
            Outcome::Saved
        }
        SettingsAction::RemoveMember => {
            if !membership::remove(store, me, project_id, form.email()?).await? {
                return Err(WebError::NotFound);
            }
            Outcome::Saved
        }
        SettingsAction::AddWebhook => add_webhook(&state, me, project_id, &form).await?,
        SettingsAction::RemoveWebhook => {
            if !webhooks::remove(store, me, project_id, form.webhook_id()?).await? {
                return Err(WebError::NotFound);
            }
            Outcome::Saved
        }
        SettingsAction::TestEmail => {
            Outcome::Notice(send_test(&state, &signed_in, project_id, None).await?)
        }
        SettingsAction::TestWebhook => {
            let id = form.webhook_id()?;
            Outcome::Notice(send_test(&state, &signed_in, project_id, Some(id)).await?)
        }
        SettingsAction::Outreach => outreach(store, me, project_id, &form).await?,
        SettingsAction::Project => project_words(store, me, project_id, &form).await.into(),
    };
    match outcome {
        Outcome::Saved => {
            Ok(Redirect::to(&format!("/projects/{project_id}/settings")).into_response())
        }
        Outcome::Notice(notice) => render(&state, &signed_in, project_id, Some(notice)).await,
    }
}

/// The project form: its name, and what customers see of it.
async fn project_words(
    store: &Store,
    me: &account::Model,
    project_id: i64,
    form: &SettingsForm,
) -> Result<(), SettingsError> {
    if let Some(name) = form.name.as_deref() {
        let current = store
            .project(project_id)
            .await?
            .map(|p| p.name)
            .unwrap_or_default();
        if name.trim() != current {
            projects::rename(store, me, project_id, name).await?;
        }
    }
    projects::set_customer_words(
        store,
        me,
        project_id,
        form.sender_name.as_deref().unwrap_or_default(),
        form.route_names.as_deref().unwrap_or_default(),
    )
    .await
}

/// The limits form: the rate limit and the spike notification, both or neither.
async fn limits(
    store: &Store,
    me: &account::Model,
    project_id: i64,
    form: &SettingsForm,
) -> Result<(), SettingsError> {
    let rate = form.rate_limit.unwrap_or(0);
    let (events, minutes) = (
        form.spike_events.unwrap_or(0),
        form.spike_minutes.unwrap_or(10),
    );
    projects::set_rate_limit(store, me, project_id, rate).await?;
    projects::set_spike(store, me, project_id, events, minutes).await
}

/// Adds a webhook; its secret is shown once, on the page that answers.
async fn add_webhook(
    state: &AppState,
    me: &account::Model,
    project_id: i64,
    form: &SettingsForm,
) -> Result<Outcome, WebError> {
    let url = form.url.as_deref().unwrap_or_default().trim();
    Ok(Outcome::Notice(
        match webhooks::add(&state.store, &state.config, me, project_id, url, None).await {
            Ok(hook) => SettingsNotice::WebhookAdded {
                url: hook.url,
                secret: hook.secret,
            },
            Err(webhooks::WebhookError::Target(error)) => {
                SettingsNotice::Refused(format!("Webhook not added: {error}."))
            }
            Err(webhooks::WebhookError::Store(error)) => return Err(error.into()),
        },
    ))
}

/// A template field: empty (or the default text) means the default.
fn template_field(value: Option<&str>, default: &str) -> Option<String> {
    value
        .map(|v| v.replace("\r\n", "\n").trim().to_owned())
        .filter(|v| !v.is_empty() && v != default)
}

/// The outreach form: on or off, sender, reply-to, weekly most, templates.
async fn outreach(
    store: &Store,
    me: &account::Model,
    project_id: i64,
    form: &SettingsForm,
) -> Result<Outcome, WebError> {
    use crate::outreach::template;
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let weekly_limit = match form.outreach_weekly_limit.as_deref().map(str::trim) {
        Some(limit) => match limit.parse::<i64>() {
            Ok(limit) => limit,
            Err(_) => {
                return Ok(Outcome::Notice(SettingsNotice::Refused(format!(
                    "Messages per week must be a number, not {limit:?}."
                ))));
            }
        },
        None => 2,
    };
    let settings = crate::store::OutreachSettings {
        enabled: form.outreach_enabled.is_some(),
        from: text(&form.outreach_from),
        reply_to: text(&form.outreach_reply_to),
        weekly_limit,
        subject: template_field(form.outreach_subject.as_deref(), template::DEFAULT_SUBJECT),
        template: template_field(form.outreach_template.as_deref(), template::DEFAULT_TEXT),
        fixed_subject: template_field(
            form.outreach_fixed_subject.as_deref(),
            template::DEFAULT_FIXED_SUBJECT,
        ),
        fixed_template: template_field(
            form.outreach_fixed_template.as_deref(),
            template::DEFAULT_FIXED_TEXT,
        ),
    };
    match crate::outreach::save_settings(store, me, project_id, settings).await {
        Ok(()) => Ok(Outcome::Saved),
        Err(crate::outreach::OutreachError::Store(error)) => Err(error.into()),
        Err(other) => Ok(Outcome::Notice(SettingsNotice::Refused(format!(
            "Not saved: {other}."
        )))),
    }
}

/// Sends a test notification from the settings page at once (not through the outbox),
/// and says what the receiving server answered.
async fn send_test(
    state: &AppState,
    signed_in: &SignedIn,
    project_id: i64,
    webhook_id: Option<i64>,
) -> Result<SettingsNotice, WebError> {
    let project =
        access::project_for(&state.store, &signed_in.account, project_id, Need::Manage).await?;
    let sender = match notify::Sender::new(&state.config) {
        Ok(sender) => sender,
        Err(error) => return Ok(SettingsNotice::Failed(error.to_string())),
    };
    let facts = Facts::test(&project, &state.config.base_url(), &signed_in.account.email);
    let (what, result) = match webhook_id {
        None => {
            let recipients = state.store.recipients(project_id).await?;
            let what = format!("Test email to {}", recipients.join(", "));
            (
                what,
                sender.send(&facts, Destination::Email(&recipients)).await,
            )
        }
        Some(id) => {
            let hooks = state.store.webhooks(project_id).await?;
            let hook = hooks
                .iter()
                .find(|hook| hook.id == id)
                .ok_or(WebError::NotFound)?;
            let what = format!("Test webhook to {}", hook.url);
            (what, sender.send(&facts, Destination::Webhook(hook)).await)
        }
    };
    Ok(match result {
        Ok(answer) => SettingsNotice::Done(format!("{what}: sent; the server answered {answer}.")),
        Err(error) => SettingsNotice::Failed(format!("{what}: not sent: {error}.")),
    })
}

/// What the settings page shows.
struct SettingsView<'a> {
    /// Who is looking.
    signed_in: &'a SignedIn,
    /// The project.
    project: &'a project::Model,
    /// Keys with their DSNs.
    keys: &'a [(crate::store::entities::project_key::Model, String)],
    /// Notification recipients.
    recipients: &'a [String],
    /// Members with their roles.
    members: &'a [(
        crate::store::entities::account::Model,
        crate::store::ProjectRole,
    )],
    /// The collector's default rate limit.
    default_rate_limit: u64,
    /// Events kept per issue.
    retention_events: u64,
    /// Days events are kept.
    retention_days: u64,
    /// Webhooks.
    webhooks: &'a [crate::store::entities::webhook::Model],
    /// The latest notifications and where each stands.
    deliveries: &'a [crate::store::entities::outbox::Model],
    /// Whether email can go out at all (`MAYDAY_SMTP_URL` is set).
    smtp_configured: bool,
    /// What the last action said (a test's answer, a new webhook's secret).
    notice: Option<SettingsNotice>,
    /// Events turned away in the last hour, if any.
    rejected: Markup,
}

/// What the settings page says after an action.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SettingsNotice {
    /// It worked; the text says how (the server's answer).
    Done(String),
    /// It did not; the text says why.
    Failed(String),
    /// The change was refused; the text says what to fix.
    Refused(String),
    /// A webhook was added; its signing secret is shown this once.
    WebhookAdded {
        /// Its URL.
        url: String,
        /// Its secret.
        secret: String,
    },
}

fn action_form(
    csrf: &str,
    action: &str,
    fields: &[(&str, String)],
    label: &str,
    target: &str,
) -> Markup {
    html! {
        form.inline method="post" action=(target) {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="action" value=(action);
            @for (name, value) in fields { input type="hidden" name=(name) value=(value); }
            button type="submit" { (label) }
        }
    }
}

/// Project settings: DSNs and keys, recipients, limits, retention.
fn markup(view: &SettingsView<'_>) -> Markup {
    let project = view.project;
    let csrf = &view.signed_in.csrf;
    let target = format!("/projects/{}/settings", project.id);
    layout::page(
        &format!("{} settings", project.name),
        view.signed_in,
        html! {
            p { a href={ "/projects/" (project.id) "/issues" } { "← " (project.name) } }
            h1 { (project.name) " settings" }
            p { a href={ "/projects/" (project.id) "/alerts" } { "Alert rules" } " · " a href={ "/projects/" (project.id) "/debug-files" } { "Debug files" } " · " a href={ "/projects/" (project.id) "/audit" } { "Audit log" } }
            @match &view.notice {
                Some(SettingsNotice::Done(text)) => { p.notice role="status" { (text) } }
                Some(SettingsNotice::Failed(text) | SettingsNotice::Refused(text)) => { p.notice.failed role="alert" { (text) } }
                Some(SettingsNotice::WebhookAdded { url, secret }) => {
                    p.notice role="status" { "Webhook " code.wrap { (url) } " added. Its signing secret, shown this once: " code { (secret) } " "
                        button type="button" data-copy=(secret) { "Copy" } }
                }
                None => {}
            }
            (view.rejected)
            section #project {
                h2 { "Project" }
                form.stack method="post" action=(target) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="action" value="project";
                    label { span.label { "Name (the team's; links and DSNs do not change)" }
                        input name="name" value=(project.name) maxlength="100" required; }
                    label { span.label { "Name customers know the app by (messages to them, the unsubscribe page; empty: the name above)" }
                        input name="sender_name" value=(project.sender_name.clone().unwrap_or_default()) maxlength="100" placeholder="Acme Shop"; }
                    label { span.label { "What each page is, in customers' words, a line each (for {doing} in messages; unnamed pages read \"on the checkout page\")" }
                        textarea name="route_names" rows="4" placeholder="POST /checkout = checking out\n/cart/:id = looking at your cart" { (project.route_names.clone().unwrap_or_default()) } }
                    button type="submit" { "Save" }
                }
            }
            section {
                h2 { "Keys" }
                table { tbody { @for (key, dsn) in view.keys {
                    tr {
                        td.wrap { code { (dsn) } }
                        td { @if key.active { "active" } @else { span.muted { "disabled" } } }
                        td {
                            button type="button" data-copy=(dsn) { "Copy DSN" } " "
                            @if key.active {
                                (action_form(csrf, "disable_key", &[("key_id", key.id.to_string())], "Disable", &target))
                            } @else {
                                (action_form(csrf, "enable_key", &[("key_id", key.id.to_string())], "Enable", &target))
                            }
                        }
                    }
                } } }
                p { (action_form(csrf, "create_key", &[], "Create a key", &target)) }
            }
            section #recipients {
                h2 { "Notification recipients" }
                @if !view.smtp_configured {
                    p.notice.failed role="alert" #smtp-missing {
                        strong { "Email is not configured." } " " code { "MAYDAY_SMTP_URL" }
                        " is not set, so these recipients get nothing: notifications wait in the outbox and fail. Set it (README, Notifications) and restart; webhooks work without it."
                    }
                }
                table { tbody { @for email in view.recipients {
                    tr { td.wrap { (email) } td { (action_form(csrf, "remove_recipient", &[("email", email.clone())], "Remove", &target)) } }
                } } }
                form method="post" action=(target) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="action" value="add_recipient";
                    label for="recipient-email" { "Email " }
                    input #recipient-email type="email" name="email" placeholder="team@example.com" required;
                    " " button type="submit" { "Add" }
                }
                @if !view.recipients.is_empty() {
                    p { (action_form(csrf, "test_email", &[], "Send a test email", &target)) " " span.muted { "to every recipient, now; the SMTP server's answer is shown here." } }
                }
            }
            section #webhooks {
                h2 { "Webhooks" }
                p.muted { "Each notification is POSTed as JSON, signed with the webhook's secret (" code { "X-Mayday-Signature" } "); Slack-compatible " code { "text" } " included." }
                table { tbody { @for hook in view.webhooks {
                    tr { td.wrap { code { (hook.url) } }
                        td { (action_form(csrf, "test_webhook", &[("webhook_id", hook.id.to_string())], "Send a test", &target)) " "
                            (action_form(csrf, "remove_webhook", &[("webhook_id", hook.id.to_string())], "Remove", &target)) } }
                } } }
                form method="post" action=(target) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="action" value="add_webhook";
                    label for="webhook-url" { "URL " }
                    input #webhook-url type="url" name="url" placeholder="https://hooks.example.com/mayday" required;
                    " " button type="submit" { "Add" }
                }
            }
            section #deliveries {
                h2 { "Recent notifications" }
                (super::deliveries::table(view.deliveries, Some(view.webhooks), Some(project.id)))
            }
            section {
                h2 { "Members" }
                p.muted { "Members see issues and events and resolve them; admins also change these settings." }
                table { tbody { @for (account, role) in view.members {
                    tr { td.wrap { (account.email) } td { (role) }
                        td { (action_form(csrf, "remove_member", &[("email", account.email.clone())], "Remove", &target)) } }
                } } }
                form method="post" action=(target) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="action" value="add_member";
                    input type="email" name="email" placeholder="Email of an account" aria-label="Email of an account" required; " "
                    select name="role" aria-label="Role" { option value="member" { "member" } option value="admin" { "admin" } }
                    " " button type="submit" { "Add or change role" }
                }
            }
            section {
                h2 { "Limits" }
                form method="post" action=(target) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="action" value="limits";
                    p { label { "Events per minute per key (0: the default, " (view.default_rate_limit) ") "
                        input type="number" min="0" name="rate_limit" value=(project.rate_limit_per_minute); } }
                    p { label { "Spike notification: more than " input type="number" min="0" name="spike_events" value=(project.spike_threshold);
                        " events in " input type="number" min="1" name="spike_minutes" value=(project.spike_window_minutes); " minutes (0 events: off; the Default alert rule's frequency condition)" } }
                    button type="submit" { "Save" }
                }
            }
            section {
                h2 { "Retention" }
                form method="post" action=(target) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="action" value="retention";
                    p { label { "Events kept per issue (0: the default, " (view.retention_events) ") "
                        input type="number" min="0" name="retention_events" value=(project.retention_events_per_issue); } }
                    p { label { "Days events are kept (0: the default, " (view.retention_days) ") "
                        input type="number" min="0" name="retention_days" value=(project.retention_days); } }
                    p.muted { "Issue counts include deleted events." }
                    button type="submit" { "Save" }
                }
            }
            (outreach_settings(project, &target, csrf))
        },
    )
}

/// Writing to affected users: on or off, sender, reply-to, weekly most, templates.
fn outreach_settings(project: &project::Model, target: &str, csrf: &str) -> Markup {
    use crate::outreach::{Draft, template};
    use crate::store::OutreachKind;
    let personal = Draft::of(project, OutreachKind::Personal);
    let fixed = Draft::of(project, OutreachKind::Fixed);
    html! {
        section #outreach {
            h2 { "Writing to affected users" }
            form.stack method="post" action=(target) {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="action" value="outreach";
                label { input type="checkbox" name="outreach_enabled" value="1" checked[project.outreach_enabled]; " The team may write to the users an issue affected" }
                label { span.label { "From (empty: the collector's sender)" } input name="outreach_from" value=(project.outreach_from.clone().unwrap_or_default()) placeholder="Shop <help@shop.example>"; }
                label { span.label { "Reply-to" } input name="outreach_reply_to" value=(project.outreach_reply_to.clone().unwrap_or_default()) placeholder="owner@shop.example"; }
                label { span.label { "Most messages per address in 7 days" } input type="number" min="0" max="100" name="outreach_weekly_limit" value=(project.outreach_weekly_limit); }
                p.muted { "Placeholders: " @for p in template::PLACEHOLDERS { code { (p) } " " } }
                label { span.label { "Message subject" } input name="outreach_subject" value=(personal.subject) maxlength="200"; }
                label { span.label { "Message text" } textarea name="outreach_template" rows="8" { (personal.text) } }
                label { span.label { "\"It's fixed\" subject" } input name="outreach_fixed_subject" value=(fixed.subject) maxlength="200"; }
                label { span.label { "\"It's fixed\" text" } textarea name="outreach_fixed_template" rows="6" { (fixed.text) } }
                button type="submit" { "Save" }
            }
        }
    }
}
