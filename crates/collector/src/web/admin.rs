//! Project settings and account management pages.

use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::pages::SettingsNotice;
use super::session::SignedIn;
use super::{WebError, check_csrf, html, pages};
use crate::access::Need;
use crate::notify::{self, Destination, facts::Facts};
use crate::store::entities::project_key;
use crate::store::{AuditAction, ProjectRole, UnknownName};
use crate::{AppState, access, accounts, audit, webhooks};

/// How many recent notifications the settings page lists.
const DELIVERIES_SHOWN: u64 = 20;

pub(super) async fn settings_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<i64>,
) -> Result<Response, WebError> {
    access::project_for(&state.store, &signed_in.account, project_id, Need::Manage).await?;
    render_settings(&state, &signed_in, project_id, None).await
}

/// The settings page, with what the last action said.
async fn render_settings(
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
    Ok(html(pages::settings_page(&pages::SettingsView {
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
            &state
                .rejections
                .last_hour(project_id, crate::store::now_ms()),
        ),
    })))
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

/// A template field: empty (or the default text) means the default.
fn template_field(value: Option<&str>, default: &str) -> Option<String> {
    value
        .map(|v| v.replace("\r\n", "\n").trim().to_owned())
        .filter(|v| !v.is_empty() && v != default)
}

pub(super) async fn change_settings(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<i64>,
    Form(form): Form<SettingsForm>,
) -> Result<Response, WebError> {
    check_csrf(&signed_in, &form.csrf)?;
    access::project_for(&state.store, &signed_in.account, project_id, Need::Manage).await?;
    let store = &state.store;
    let me = &signed_in.account;
    let (action, target) = match (form.action.as_str(), form.key_id, form.email.as_deref()) {
        ("create_key", _, _) => {
            store.create_key(project_id).await?;
            (AuditAction::KeyCreated, "a new key".to_owned())
        }
        ("disable_key", Some(key), _) => {
            store.set_key_active(project_id, key, false).await?;
            (AuditAction::KeyDisabled, format!("key {key}"))
        }
        ("enable_key", Some(key), _) => {
            store.set_key_active(project_id, key, true).await?;
            (AuditAction::KeyEnabled, format!("key {key}"))
        }
        ("add_recipient", _, Some(email)) => {
            accounts::check_email(email)?;
            store.add_recipient(project_id, email).await?;
            (AuditAction::RecipientAdded, email.to_owned())
        }
        ("remove_recipient", _, Some(email)) => {
            store.remove_recipient(project_id, email).await?;
            (AuditAction::RecipientRemoved, email.to_owned())
        }
        ("limits", _, _) => {
            let rate = form.rate_limit.unwrap_or(0);
            let (events, minutes) = (
                form.spike_events.unwrap_or(0),
                form.spike_minutes.unwrap_or(10),
            );
            store.set_rate_limit(project_id, rate).await?;
            store.set_spike(project_id, events, minutes).await?;
            (
                AuditAction::LimitsChanged,
                format!("{rate} events/min per key; spike at {events} events in {minutes} min"),
            )
        }
        ("add_member", _, Some(email)) => {
            // Recorded by `audit::add_member` itself, like the other places members change.
            let role = parse_role(form.role.as_deref())?;
            audit::add_member(store, me, project_id, email, role).await?;
            return Ok(Redirect::to(&format!("/projects/{project_id}/settings")).into_response());
        }
        ("remove_member", _, Some(email)) => {
            if !audit::remove_member(store, me, project_id, email).await? {
                return Err(WebError::NotFound);
            }
            return Ok(Redirect::to(&format!("/projects/{project_id}/settings")).into_response());
        }
        ("test_email", _, _) => {
            let notice = send_test(&state, &signed_in, project_id, None).await?;
            return render_settings(&state, &signed_in, project_id, Some(notice)).await;
        }
        ("test_webhook", _, _) => {
            let id = form.webhook_id.ok_or(WebError::NotFound)?;
            let notice = send_test(&state, &signed_in, project_id, Some(id)).await?;
            return render_settings(&state, &signed_in, project_id, Some(notice)).await;
        }
        ("add_webhook", _, _) => {
            let url = form.url.as_deref().unwrap_or_default().trim();
            let notice = match webhooks::add(store, &state.config, me, project_id, url, None).await
            {
                Ok(hook) => SettingsNotice::WebhookAdded {
                    url: hook.url,
                    secret: hook.secret,
                },
                Err(webhooks::WebhookError::Target(error)) => {
                    SettingsNotice::Failed(format!("Webhook not added: {error}."))
                }
                Err(webhooks::WebhookError::Store(error)) => return Err(error.into()),
            };
            return render_settings(&state, &signed_in, project_id, Some(notice)).await;
        }
        ("remove_webhook", _, _) => {
            let id = form.webhook_id.ok_or(WebError::NotFound)?;
            if !webhooks::remove(store, me, project_id, id).await? {
                return Err(WebError::NotFound);
            }
            return Ok(Redirect::to(&format!("/projects/{project_id}/settings")).into_response());
        }
        ("outreach", _, _) => {
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
                        let notice =
                            SettingsNotice::Failed("Messages per week must be a number.".into());
                        return render_settings(&state, &signed_in, project_id, Some(notice)).await;
                    }
                },
                None => 2,
            };
            let settings = crate::store::OutreachSettings {
                enabled: form.outreach_enabled.is_some(),
                from: text(&form.outreach_from),
                reply_to: text(&form.outreach_reply_to),
                weekly_limit,
                subject: template_field(
                    form.outreach_subject.as_deref(),
                    template::DEFAULT_SUBJECT,
                ),
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
            match crate::outreach::save_settings(store, project_id, settings).await {
                Ok(()) => {}
                Err(crate::outreach::OutreachError::Store(error)) => return Err(error.into()),
                Err(other) => {
                    let notice = SettingsNotice::Failed(format!("Not saved: {other}."));
                    return render_settings(&state, &signed_in, project_id, Some(notice)).await;
                }
            }
            (AuditAction::OutreachSettingsChanged, "outreach".to_owned())
        }
        ("retention", _, _) => {
            let (events, days) = (
                form.retention_events.unwrap_or(0),
                form.retention_days.unwrap_or(0),
            );
            store.set_retention(project_id, events, days).await?;
            (
                AuditAction::RetentionChanged,
                format!("{events} events per issue, {days} days"),
            )
        }
        _ => return Err(WebError::BadRequest("Unknown change.".into())),
    };
    audit::record(store, me, project_id, action, target).await?;
    Ok(Redirect::to(&format!("/projects/{project_id}/settings")).into_response())
}

pub(super) async fn users_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, WebError> {
    if !signed_in.account.is_admin {
        return Err(WebError::NotFound);
    }
    let accounts = state.store.accounts().await?;
    let projects = state.store.projects().await?;
    Ok(html(pages::users_page(
        &signed_in, &accounts, &projects, None,
    )))
}

#[derive(Deserialize)]
pub(super) struct UserForm {
    #[serde(default)]
    csrf: String,
    action: String,
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    admin: Option<String>,
    #[serde(default)]
    project: Option<String>,
    #[serde(default)]
    role: Option<String>,
}

pub(super) async fn change_users(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(form): Form<UserForm>,
) -> Result<Response, WebError> {
    check_csrf(&signed_in, &form.csrf)?;
    if !signed_in.account.is_admin {
        return Err(WebError::NotFound);
    }
    match form.action.as_str() {
        "create" => {
            accounts::create_account(
                &state.store,
                &form.email,
                Some(&form.name),
                &form.password,
                form.admin.is_some(),
            )
            .await?;
        }
        "add_member" => {
            let project = form
                .project
                .as_deref()
                .ok_or_else(|| WebError::BadRequest("Choose a project.".into()))?;
            let project = state.store.project_by_name(project).await?;
            let role = parse_role(form.role.as_deref())?;
            audit::add_member(
                &state.store,
                &signed_in.account,
                project.id,
                &form.email,
                role,
            )
            .await?;
        }
        "deactivate" | "activate" | "remove" => {
            let account = state.store.account_by_email(&form.email).await?;
            if account.id == signed_in.account.id {
                return Err(WebError::BadRequest(
                    "You cannot deactivate or remove your own account.".into(),
                ));
            }
            match form.action.as_str() {
                "deactivate" => state.store.set_account_active(account.id, false).await?,
                "activate" => state.store.set_account_active(account.id, true).await?,
                _ => state.store.remove_account(account.id).await?,
            };
        }
        "remove_member" => {
            let project = form
                .project
                .as_deref()
                .ok_or_else(|| WebError::BadRequest("Choose a project.".into()))?;
            let project = state.store.project_by_name(project).await?;
            if !audit::remove_member(&state.store, &signed_in.account, project.id, &form.email)
                .await?
            {
                return Err(WebError::NotFound);
            }
        }
        _ => return Err(WebError::BadRequest("Unknown change.".into())),
    }
    Ok(Redirect::to("/admin/users").into_response())
}

/// The project's latest changes (project admins).
pub(super) async fn audit_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<i64>,
) -> Result<Response, WebError> {
    let project =
        access::project_for(&state.store, &signed_in.account, project_id, Need::Manage).await?;
    let entries = state.store.audit_log(project_id, 200).await?;
    Ok(html(pages::audit_page(&signed_in, &project, &entries)))
}

/// A role from a form: `member` when none is chosen.
fn parse_role(role: Option<&str>) -> Result<ProjectRole, WebError> {
    match role {
        None | Some("") => Ok(ProjectRole::Member),
        Some(role) => role
            .parse()
            .map_err(|e: UnknownName| WebError::BadRequest(e.to_string())),
    }
}
