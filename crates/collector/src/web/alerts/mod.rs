//! A project's alerts page (project admins): each alert rule in words, a form to add
//! one and to change or remove each, going through [`alerts`](crate::alerts) like the
//! API (the form has a field per kind of condition, filter and destination; lists take
//! one entry per line); the ownership rules that assign new issues, and the "new
//! ticket" template.

use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

mod form;

use crate::access::{self, Need};
use crate::alerts::rule::{Condition, Filter, Match, RuleSpec, channel_name};
use crate::alerts::{self, AlertRuleError};
use crate::state::AppState;
use crate::store::entities::{alert_rule, project};
use crate::web::layout::{self, html, html_with_status};
use crate::web::session::SignedIn;
use crate::web::{WebError, forms, forms::check_csrf};
use crate::{ownership, tickets};
use form::{RuleForm, form_of, spec_of};

/// `GET /projects/{id}/alerts`.
pub(super) async fn page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<i64>,
) -> Result<Response, WebError> {
    render(&state, &signed_in, project_id, None, None).await
}

/// The page; `refused` is a refused form's message and what it sent (answered 400).
async fn render(
    state: &AppState,
    signed_in: &SignedIn,
    project_id: i64,
    done: Option<&str>,
    refused: Option<(String, Option<i64>, RuleForm)>,
) -> Result<Response, WebError> {
    let project =
        access::project_for(&state.store, &signed_in.account, project_id, Need::Manage).await?;
    let rules = state.store.alert_rules(project_id).await?;
    let default_throttle = state.config.notify_window_minutes;
    let failed = refused.is_some();
    let page = markup(&project, signed_in, &rules, default_throttle, done, refused);
    Ok(if failed {
        html_with_status(StatusCode::BAD_REQUEST, page)
    } else {
        html(page)
    })
}

/// What the rule form asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum AlertsAction {
    Save,
    Remove,
    Ownership,
    ApplyOwnership,
    TicketTemplate,
}

/// `POST /projects/{id}/alerts`: save (add or change) or remove a rule.
pub(super) async fn change(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<i64>,
    Form(form): Form<RuleForm>,
) -> Result<Response, WebError> {
    check_csrf(&signed_in, &form.csrf)?;
    access::project_for(&state.store, &signed_in.account, project_id, Need::Manage).await?;
    let existing = match form.rule_id {
        Some(id) => match state.store.alert_rule(id).await {
            Ok(rule) if rule.project_id == project_id => Some(rule),
            _ => return Err(WebError::NotFound),
        },
        None => None,
    };
    let target = format!("/projects/{project_id}/alerts");
    let me = &signed_in.account;
    match forms::action::<AlertsAction>(&form.action)? {
        AlertsAction::Ownership => {
            let done = ownership::set_rules(&state.store, me, project_id, &form.rules).await;
            match done {
                Ok(()) => {
                    render(
                        &state,
                        &signed_in,
                        project_id,
                        Some("Ownership rules saved."),
                        None,
                    )
                    .await
                }
                Err(ownership::SetError::Store(e)) => Err(e.into()),
                Err(e) => {
                    let message = format!("ownership rules: {e}");
                    render(
                        &state,
                        &signed_in,
                        project_id,
                        None,
                        Some((message, Some(0), form)),
                    )
                    .await
                }
            }
        }
        AlertsAction::ApplyOwnership => {
            let count = ownership::apply_to_existing(&state.store, me, project_id).await?;
            let done = format!("{count} open issues assigned by the ownership rules.");
            render(&state, &signed_in, project_id, Some(&done), None).await
        }
        AlertsAction::TicketTemplate => {
            let template = Some(form.template.as_str());
            match tickets::set_template(&state.store, me, project_id, template).await {
                Ok(()) => {
                    render(
                        &state,
                        &signed_in,
                        project_id,
                        Some("Ticket template saved."),
                        None,
                    )
                    .await
                }
                Err(tickets::TicketError::Store(e)) => Err(e.into()),
                Err(e) => {
                    let message = format!("ticket template: {e}");
                    render(
                        &state,
                        &signed_in,
                        project_id,
                        None,
                        Some((message, Some(-1), form)),
                    )
                    .await
                }
            }
        }
        AlertsAction::Remove => {
            let rule = existing.ok_or(WebError::NotFound)?;
            alerts::remove(&state.store, &signed_in.account, &rule).await?;
            Ok(Redirect::to(&target).into_response())
        }
        AlertsAction::Save => {
            let saved = match spec_of(&form) {
                Err(message) => Err(message),
                Ok(spec) => {
                    let result = match &existing {
                        Some(rule) => {
                            alerts::change(
                                &state.store,
                                &state.config,
                                &signed_in.account,
                                rule,
                                &spec,
                            )
                            .await
                        }
                        None => {
                            alerts::add(
                                &state.store,
                                &state.config,
                                &signed_in.account,
                                project_id,
                                &spec,
                            )
                            .await
                        }
                    };
                    match result {
                        Ok(_) => Ok(()),
                        Err(AlertRuleError::Store(e)) => return Err(e.into()),
                        Err(e) => Err(e.to_string()),
                    }
                }
            };
            match saved {
                Ok(()) => render(&state, &signed_in, project_id, Some("Rule saved."), None).await,
                Err(message) => {
                    let rule_id = form.rule_id;
                    render(
                        &state,
                        &signed_in,
                        project_id,
                        None,
                        Some((message, rule_id, form)),
                    )
                    .await
                }
            }
        }
    }
}

/// A rule in words: when, if, then.
fn summary(spec: &RuleSpec, default_throttle: u64) -> Markup {
    let conditions: Vec<String> = spec
        .conditions
        .iter()
        .map(|c| match c {
            Condition::FirstSeen => "a new issue".into(),
            Condition::Regression => "a regression".into(),
            Condition::Reappeared => "an ignored issue comes back".into(),
            Condition::EventFrequency {
                value,
                interval_minutes,
            } => format!("more than {value} events in {interval_minutes} min"),
            Condition::UserFrequency {
                value,
                interval_minutes,
            } => format!("more than {value} users in {interval_minutes} min"),
        })
        .collect();
    let filters: Vec<String> = spec
        .filters
        .iter()
        .map(|f| match f {
            Filter::Environment { value } => format!("environment is {value}"),
            Filter::LevelAtLeast { value } => format!("level is {value} or worse"),
            Filter::Release { value } if value == "latest" => "the latest release".into(),
            Filter::Release { value } => format!("release is {value}"),
            Filter::Tag { key, value } => format!("tag {key} = {value}"),
            Filter::Path { value } => format!("an in-app file matches {value}"),
            Filter::Url { value } => format!("the URL matches {value}"),
        })
        .collect();
    let joiner = match spec.match_mode {
        Match::Any => " or ",
        Match::All => " and ",
    };
    let throttle = spec.throttle_minutes.map_or(default_throttle, u64::from);
    html! {
        dl.rule {
            dt { "When" } dd { (conditions.join(joiner)) }
            @if !filters.is_empty() { dt { "If" } dd { (filters.join("; ")) } }
            dt { "Then" } dd {
                ul { @for action in &spec.actions { li.wrap { (action.describe()) } } }
            }
            @if spec.conditions.iter().any(|c| matches!(c, Condition::EventFrequency { .. } | Condition::UserFrequency { .. })) {
                dt { "At most" } dd { "one frequency alert per issue every " (throttle) " min" }
            }
        }
    }
}

fn checkbox(name: &str, label: &str, checked: bool) -> Markup {
    html! { label.check { input type="checkbox" name=(name) checked[checked]; " " (label) } }
}

/// The add-or-change form, filled from `form`.
fn rule_form(csrf: &str, target: &str, form: &RuleForm, submit: &str) -> Markup {
    let id = form.rule_id.map_or("new".to_owned(), |id| id.to_string());
    let field = |name: &str| format!("rule-{id}-{name}");
    html! {
        form.stack method="post" action=(target) {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="action" value="save";
            @if let Some(rule_id) = form.rule_id { input type="hidden" name="rule_id" value=(rule_id); }
            label { span.label { "Name" } input name="name" value=(form.name) maxlength="100" required; }
            fieldset {
                legend { "When" }
                label { span.label { "Fire on" }
                    select name="match_mode" {
                        option value="any" selected[form.match_mode != "all"] { "any of these" }
                        option value="all" selected[form.match_mode == "all"] { "all of these, for the same event" }
                    }
                }
                (checkbox("first_seen", "a new issue", form.first_seen.is_some()))
                (checkbox("regression", "a regression (a resolved issue is seen again)", form.regression.is_some()))
                (checkbox("reappeared", "an ignored issue comes back", form.reappeared.is_some()))
                p.inline-fields {
                    label for=(field("ev")) { "More than " }
                    input #(field("ev")) type="number" min="0" name="events_value" value=(form.events_value) aria-label="events";
                    label for=(field("evm")) { " events in " }
                    input #(field("evm")) type="number" min="1" name="events_minutes" value=(form.events_minutes) aria-label="minutes for events";
                    " minutes"
                }
                p.inline-fields {
                    label for=(field("us")) { "More than " }
                    input #(field("us")) type="number" min="0" name="users_value" value=(form.users_value) aria-label="users";
                    label for=(field("usm")) { " users in " }
                    input #(field("usm")) type="number" min="1" name="users_minutes" value=(form.users_minutes) aria-label="minutes for users";
                    " minutes"
                }
            }
            fieldset {
                legend { "If (all must hold; empty: any event)" }
                label { span.label { "Environment" } input name="environment" value=(form.environment) placeholder="production"; }
                label { span.label { "Level at least" }
                    select name="level" {
                        option value="" selected[form.level.is_empty()] { "any level" }
                        @for level in ["warning", "error", "fatal"] {
                            option value=(level) selected[form.level == level] { (level) }
                        }
                    }
                }
                label { span.label { "Release (or latest)" } input name="release" value=(form.release) placeholder="latest"; }
                label { span.label { "Tags, key=value, one per line" } textarea name="tags" rows="2" { (form.tags) } }
                label { span.label { "In-app files matching, one glob per line" } textarea name="paths" rows="2" placeholder="src/billing/*" { (form.paths) } }
                label { span.label { "Request URLs matching, one glob per line" } textarea name="urls" rows="2" placeholder="*/checkout*" { (form.urls) } }
            }
            fieldset {
                legend { "Then" }
                (checkbox("email_recipients", "email the project's recipients", form.email_recipients.is_some()))
                (checkbox("email_assignee", "email the issue's assignee", form.email_assignee.is_some()))
                (checkbox("webhooks", "post to the project's webhooks", form.webhooks.is_some()))
                label { span.label { "Email these addresses (comma-separated)" } input name="email_list" value=(form.email_list); }
                @for (name, channel, value, hint) in [
                    ("slack", "Slack", &form.slack, "incoming webhook URLs, one per line"),
                    ("discord", "Discord", &form.discord, "webhook URLs, one per line"),
                    ("teams", "Microsoft Teams", &form.teams, "workflow webhook URLs, one per line"),
                    ("google_chat", "Google Chat", &form.google_chat, "space webhook URLs, one per line"),
                    ("mattermost", "Mattermost", &form.mattermost, "incoming webhook URLs, one per line"),
                    ("ntfy", "ntfy", &form.ntfy, "topic URL, then its token if any, one per line"),
                    ("pagerduty", "PagerDuty", &form.pagerduty, "Events API v2 routing key, one per line"),
                ] {
                    label { span.label { (channel) ": " (hint) } textarea name=(name) rows="1" { (value) } }
                }
            }
            label { span.label { "Throttle: minutes between frequency alerts per issue (empty: the collector's default)" }
                input type="number" min="0" name="throttle_minutes" value=(form.throttle_minutes); }
            button type="submit" { (submit) }
        }
    }
}

/// The ownership rules and the ticket template forms (a refused one comes back as
/// sent: rule id 0 is the ownership form, -1 the template's).
fn owners_and_tickets(
    project: &project::Model,
    csrf: &str,
    target: &str,
    refused_id: Option<Option<i64>>,
    refused: Option<&RuleForm>,
) -> Markup {
    let rules = match (refused_id, refused) {
        (Some(Some(0)), Some(form)) => form.rules.clone(),
        _ => project.ownership_rules.clone().unwrap_or_default(),
    };
    let template = match (refused_id, refused) {
        (Some(Some(-1)), Some(form)) => form.template.clone(),
        _ => project.ticket_template.clone().unwrap_or_default(),
    };
    html! {
        section #ownership {
            h2 { "Ownership rules" }
            p.muted { "Assign each new issue to its owner: one rule per line, the first that matches wins. "
                code { "path:" } " in-app files, " code { "module:" } " in-app modules, " code { "url:" } " the request's URL, "
                code { "tag:key=value" } " a tag; " code { "*" } " matches anything. The owner is a member of the project." }
            form.stack method="post" action=(target) {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="action" value="ownership";
                label { span.label { "Rules" }
                    textarea name="rules" rows="5" placeholder="path:src/billing/* jane@example.com\nmodule:shop::checkout::* omar@example.com\nurl:*/checkout* jane@example.com\ntag:tenant=acme omar@example.com" { (rules) } }
                button type="submit" { "Save rules" }
            }
            form method="post" action=(target) {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="action" value="apply_ownership";
                button type="submit" { "Apply to open issues nobody is assigned to" }
            }
        }
        section #tickets {
            h2 { "Issue tracker" }
            p.muted { "A \"Create ticket\" link on each issue: the tracker's new-ticket URL with " code { "{title}" } ", " code { "{body}" } " and " code { "{url}" } " where the issue's title, a summary and its link go." }
            form.stack method="post" action=(target) {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="action" value="ticket_template";
                label { span.label { "New ticket URL (empty: no link)" }
                    input name="template" value=(template) placeholder="https://github.com/acme/shop/issues/new?title={title}&body={body}"; }
                button type="submit" { "Save template" }
            }
        }
    }
}

fn markup(
    project: &project::Model,
    signed_in: &SignedIn,
    rules: &[alert_rule::Model],
    default_throttle: u64,
    done: Option<&str>,
    refused: Option<(String, Option<i64>, RuleForm)>,
) -> Markup {
    let target = format!("/projects/{}/alerts", project.id);
    let csrf = &signed_in.csrf;
    let (message, refused_id, refused_form) = match refused {
        Some((message, id, form)) => (Some(message), Some(id), Some(form)),
        None => (None, None, None),
    };
    // A refused form comes back as it was sent, under its rule (or as the new rule).
    let form_for = |id: Option<i64>, spec: Option<&RuleSpec>| -> RuleForm {
        match (&refused_form, refused_id) {
            (Some(form), Some(refused)) if refused == id => form.clone(),
            _ => spec.map(|s| form_of(s, id)).unwrap_or_else(|| {
                form_of(
                    &RuleSpec {
                        name: String::new(),
                        conditions: Vec::new(),
                        actions: Vec::new(),
                        ..RuleSpec::default_rule()
                    },
                    None,
                )
            }),
        }
    };
    layout::page(
        &format!("{} alerts", project.name),
        signed_in,
        html! {
            p { a href={ "/projects/" (project.id) "/settings" } { "← " (project.name) " settings" } }
            h1 { (project.name) " alerts and owners" }
            p.muted { "Each rule decides about every event as it is stored: when its conditions hold and its filters match, it alerts where it says. New issues, regressions and comebacks always alert; frequency alerts wait out the rule's throttle." }
            @if let Some(text) = done { p.notice role="status" { (text) } }
            @if let Some(text) = &message { p.notice.failed role="alert" { "Not saved: " (text) } }
            @if rules.is_empty() { p { "No rules: nobody is alerted about this project's issues." } }
            @for rule in rules {
                section.rule {
                    h2 { (rule.name) }
                    @match RuleSpec::from_row(rule) {
                        Ok(spec) => {
                            (summary(&spec, default_throttle))
                            details open[refused_id == Some(Some(rule.id))] {
                                summary { "Change" }
                                (rule_form(csrf, &target, &form_for(Some(rule.id), Some(&spec)), "Save"))
                            }
                        }
                        Err(error) => { p.notice.failed { "This rule no longer reads: " (error.to_string()) } }
                    }
                    form method="post" action=(target) {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="action" value="remove";
                        input type="hidden" name="rule_id" value=(rule.id);
                        button.danger type="submit" { "Remove " (rule.name) }
                    }
                }
            }
            section {
                h2 { "Add a rule" }
                details open[refused_id == Some(None)] {
                    summary { "New rule" }
                    (rule_form(csrf, &target, &form_for(None, None), "Add rule"))
                }
            }
            (owners_and_tickets(project, csrf, &target, refused_id, refused_form.as_ref()))
            p.muted { "Destinations: " (["Slack", "Discord", "Microsoft Teams", "Google Chat", "Mattermost", "ntfy", "PagerDuty"].join(", ")) ", email and the project's webhooks. "
                "PagerDuty incidents resolve when the issue is resolved. " (channel_name(crate::store::Channel::Email)) " needs MAYDAY_SMTP_URL." }
        },
    )
}
