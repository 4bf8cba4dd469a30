//! Accounts, for instance admins: create, deactivate, reactivate, remove, and add to or
//! remove from projects.

use axum::extract::{Form, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{self, html};
use super::session::SignedIn;
use super::{WebError, forms, forms::check_csrf};
use crate::state::AppState;
use crate::store::entities::project;
use crate::{accounts, membership};

/// `GET /admin/users` (instance admins).
pub(super) async fn page(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, WebError> {
    if !signed_in.account.is_admin {
        return Err(WebError::NotFound);
    }
    let accounts = state.store.accounts().await?;
    let projects = state.store.projects().await?;
    Ok(html(markup(&signed_in, &accounts, &projects, None)))
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

/// `POST /admin/users`: one action of the page's forms.
/// What a form of the users page asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum UserAction {
    Create,
    AddMember,
    RemoveMember,
    Deactivate,
    Activate,
    Remove,
}

impl UserForm {
    fn project(&self) -> Result<&str, WebError> {
        self.project
            .as_deref()
            .ok_or_else(|| WebError::BadRequest("Choose a project.".into()))
    }
}

pub(super) async fn change(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(form): Form<UserForm>,
) -> Result<Response, WebError> {
    check_csrf(&signed_in, &form.csrf)?;
    if !signed_in.account.is_admin {
        return Err(WebError::NotFound);
    }
    let store = &state.store;
    let me = &signed_in.account;
    match forms::action::<UserAction>(&form.action)? {
        UserAction::Create => {
            accounts::create_account(
                store,
                &form.email,
                Some(&form.name),
                &form.password,
                form.admin.is_some(),
            )
            .await?;
        }
        UserAction::AddMember => {
            let project = store.project_by_name(form.project()?).await?;
            let role = forms::parse_role(form.role.as_deref())?;
            membership::add(store, me, project.id, &form.email, role).await?;
        }
        UserAction::RemoveMember => {
            let project = store.project_by_name(form.project()?).await?;
            if !membership::remove(store, me, project.id, &form.email).await? {
                return Err(WebError::NotFound);
            }
        }
        action @ (UserAction::Deactivate | UserAction::Activate | UserAction::Remove) => {
            let account = store.account_by_email(&form.email).await?;
            if account.id == me.id {
                return Err(WebError::BadRequest(
                    "You cannot deactivate or remove your own account.".into(),
                ));
            }
            match action {
                UserAction::Deactivate => store.set_account_active(account.id, false).await?,
                UserAction::Activate => store.set_account_active(account.id, true).await?,
                _ => store.remove_account(account.id).await?,
            };
        }
    }
    Ok(Redirect::to("/admin/users").into_response())
}

/// Accounts, for admins: create, add to projects.
fn markup(
    signed_in: &SignedIn,
    accounts: &[crate::store::entities::account::Model],
    projects: &[project::Model],
    error: Option<&str>,
) -> Markup {
    layout::page(
        "Users",
        signed_in,
        html! {
            h1 { "Users" }
            @if let Some(error) = error { p.error { (error) } }
            table {
                thead { tr { th { "Email" } th { "Name" } th { "Role" } th { "Status" } th {} } }
                tbody { @for account in accounts {
                    tr { td.wrap data-label="Email" { (account.email) } td.wrap data-label="Name" { (account.name.clone().unwrap_or_default()) }
                        td data-label="Role" { @if account.is_admin { "instance admin" } @else { "user" } }
                        td data-label="Status" { @if account.active { "active" } @else { span.muted { "deactivated" } } }
                        td { @if account.id != signed_in.account.id {
                            form method="post" action="/admin/users" {
                                input type="hidden" name="csrf" value=(signed_in.csrf);
                                input type="hidden" name="email" value=(account.email);
                                @if account.active {
                                    button type="submit" name="action" value="deactivate" { "Deactivate" }
                                } @else {
                                    button type="submit" name="action" value="activate" { "Reactivate" }
                                }
                                " "
                                button type="submit" name="action" value="remove" { "Remove" }
                            }
                        } }
                    }
                } }
            }
            section {
                h2 { "Create a user" }
                form method="post" action="/admin/users" {
                    input type="hidden" name="csrf" value=(signed_in.csrf);
                    input type="hidden" name="action" value="create";
                    input type="email" name="email" placeholder="Email" aria-label="Email" required; " "
                    input type="text" name="name" placeholder="Name" aria-label="Name"; " "
                    input type="password" name="password" placeholder="Password (8+)" aria-label="Password (8 characters or more)" minlength="8" required; " "
                    label { input type="checkbox" name="admin" value="1"; " admin" } " "
                    button type="submit" { "Create" }
                }
            }
            section {
                h2 { "Add a user to a project" }
                form method="post" action="/admin/users" {
                    input type="hidden" name="csrf" value=(signed_in.csrf);
                    input type="hidden" name="action" value="add_member";
                    input type="email" name="email" placeholder="Email" aria-label="Email" required; " "
                    select name="project" aria-label="Project" { @for project in projects { option value=(project.name) { (project.name) } } } " "
                    select name="role" aria-label="Role" { option value="member" { "member" } option value="admin" { "project admin" } } " "
                    button type="submit" { "Add" }
                }
            }
            section {
                h2 { "Remove a user from a project" }
                form method="post" action="/admin/users" {
                    input type="hidden" name="csrf" value=(signed_in.csrf);
                    input type="hidden" name="action" value="remove_member";
                    input type="email" name="email" placeholder="Email" aria-label="Email" required; " "
                    select name="project" aria-label="Project" { @for project in projects { option value=(project.name) { (project.name) } } } " "
                    button type="submit" { "Remove" }
                }
            }
        },
    )
}
