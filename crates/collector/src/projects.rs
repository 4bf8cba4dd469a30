//! A project and its settings, changed one way by the UI, the API and the command line:
//! the value checked, stored, and the change recorded in the audit log. Edges parse
//! their input, call one of these, and render what it returns.

use crate::audit::{self, Actor};
use crate::membership;
use crate::store::{AuditAction, ProjectRole, ProjectWithKeys, Store, StoreError};

/// Why a settings change was refused.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A value is not allowed; the text names it and what is.
    #[error("{0}")]
    Invalid(String),
    /// The store failed, or what the change names does not exist.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Longest project name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// Accepts a project name: 1 to 100 characters, no control characters.
pub fn check_name(name: &str) -> Result<&str, SettingsError> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(SettingsError::Invalid(format!(
            "A project name is 1 to {MAX_NAME_CHARS} characters, without control characters."
        )));
    }
    Ok(name)
}

/// Creates the project `name` with its first key; an account that creates it becomes
/// its admin. A name that is taken is [`StoreError::Conflict`].
pub async fn create<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    name: &str,
) -> Result<ProjectWithKeys, SettingsError> {
    let actor = actor.into();
    let name = check_name(name)?;
    let created = store.create_project(name).await?;
    let project_id = created.project.id;
    audit::record(store, actor, project_id, AuditAction::ProjectCreated, name).await?;
    if let Actor::Account(account) = actor {
        membership::add(store, actor, project_id, &account.email, ProjectRole::Admin).await?;
    }
    Ok(created)
}

/// Renames the project; its DSNs and links keep working (they name it by id).
pub async fn rename<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
    name: &str,
) -> Result<(), SettingsError> {
    let name = check_name(name)?;
    store.rename_project(project_id, name).await?;
    let target = format!("name {name:?}");
    audit::record(
        store,
        actor,
        project_id,
        AuditAction::ProjectChanged,
        target,
    )
    .await?;
    Ok(())
}

/// Sets the name customers know the app by (empty: the project's name) and what each
/// page is in their words (`POST /checkout = checking out`, a line each), for messages
/// to affected users.
pub async fn set_customer_words<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
    sender_name: &str,
    route_names: &str,
) -> Result<(), SettingsError> {
    let sender_name = sender_name.trim();
    if sender_name.chars().count() > MAX_NAME_CHARS || sender_name.chars().any(char::is_control) {
        return Err(SettingsError::Invalid(format!(
            "The sender name is at most {MAX_NAME_CHARS} characters, on one line."
        )));
    }
    let route_names = route_names.replace("\r\n", "\n");
    crate::outreach::words::parse_route_names(&route_names)
        .map_err(|error| SettingsError::Invalid(format!("{error}.")))?;
    let text = |value: &str| (!value.trim().is_empty()).then(|| value.trim().to_owned());
    store
        .set_customer_words(project_id, text(sender_name), text(&route_names))
        .await?;
    let target = format!("sender name {sender_name:?}, route names");
    audit::record(
        store,
        actor,
        project_id,
        AuditAction::ProjectChanged,
        target,
    )
    .await?;
    Ok(())
}

/// Adds a DSN key to the project.
pub async fn create_key<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
) -> Result<(), SettingsError> {
    store.create_key(project_id).await?;
    audit::record(
        store,
        actor,
        project_id,
        AuditAction::KeyCreated,
        "a new key",
    )
    .await?;
    Ok(())
}

/// Enables or disables key `key_id` of the project (events with a disabled key are
/// refused).
pub async fn set_key_active<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
    key_id: i64,
    active: bool,
) -> Result<(), SettingsError> {
    store.set_key_active(project_id, key_id, active).await?;
    let action = if active {
        AuditAction::KeyEnabled
    } else {
        AuditAction::KeyDisabled
    };
    audit::record(store, actor, project_id, action, format!("key {key_id}")).await?;
    Ok(())
}

/// Adds `email` to the project's notification recipients.
pub async fn add_recipient<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
    email: &str,
) -> Result<(), SettingsError> {
    let email = crate::address::check(email)
        .map_err(|error| SettingsError::Invalid(format!("{error}.")))?;
    store.add_recipient(project_id, &email).await?;
    audit::record(
        store,
        actor,
        project_id,
        AuditAction::RecipientAdded,
        &email,
    )
    .await?;
    Ok(())
}

/// Takes `email` off the project's recipients; whether it was one.
pub async fn remove_recipient<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
    email: &str,
) -> Result<bool, SettingsError> {
    let email = crate::address::normal_or_lower(email);
    let email = email.as_str();
    if !store.remove_recipient(project_id, email).await? {
        return Ok(false);
    }
    audit::record(
        store,
        actor,
        project_id,
        AuditAction::RecipientRemoved,
        email,
    )
    .await?;
    Ok(true)
}

/// A number a setting takes: 0 or more.
fn at_least_zero(value: i64, what: &str) -> Result<i64, SettingsError> {
    if value < 0 {
        return Err(SettingsError::Invalid(format!(
            "{what} is 0 or more, not {value}."
        )));
    }
    Ok(value)
}

/// Sets the events per minute per key the project accepts (0: the collector's
/// default).
pub async fn set_rate_limit<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
    per_minute: i64,
) -> Result<(), SettingsError> {
    let per_minute = at_least_zero(per_minute, "Events per minute per key")?;
    store.set_rate_limit(project_id, per_minute).await?;
    let target = format!("{per_minute} events/min per key");
    audit::record(store, actor, project_id, AuditAction::LimitsChanged, target).await?;
    Ok(())
}

/// Notifies when an issue gets more than `events` events within `minutes` (0 events:
/// off).
pub async fn set_spike<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
    events: i64,
    minutes: i64,
) -> Result<(), SettingsError> {
    let events = at_least_zero(events, "Spike events")?;
    if minutes < 1 {
        return Err(SettingsError::Invalid(format!(
            "Spike minutes is 1 or more, not {minutes}."
        )));
    }
    store.set_spike(project_id, events, minutes).await?;
    let target = format!("spike at {events} events in {minutes} min");
    audit::record(store, actor, project_id, AuditAction::LimitsChanged, target).await?;
    Ok(())
}

/// Sets how many events per issue, and for how many days, the project keeps (0: the
/// collector's defaults); counts are kept either way.
pub async fn set_retention<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
    events_per_issue: i64,
    days: i64,
) -> Result<(), SettingsError> {
    let events_per_issue = at_least_zero(events_per_issue, "Events kept per issue")?;
    let days = at_least_zero(days, "Days events are kept")?;
    store
        .set_retention(project_id, events_per_issue, days)
        .await?;
    let target = format!("{events_per_issue} events per issue, {days} days");
    audit::record(
        store,
        actor,
        project_id,
        AuditAction::RetentionChanged,
        target,
    )
    .await?;
    Ok(())
}

/// The name of the project a new database starts with.
pub const DEFAULT_NAME: &str = "default";

/// Creates the project `default` when the database has no project at all (a new
/// database), so that every command, not only `serve`, finds it; whether it did.
pub async fn ensure_default(store: &Store) -> Result<bool, StoreError> {
    if !store.list_projects().await?.is_empty() {
        return Ok(false);
    }
    match store.create_project(DEFAULT_NAME).await {
        Ok(_) => Ok(true),
        // Another process made it first.
        Err(StoreError::Conflict(_)) => Ok(false),
        Err(error) => Err(error),
    }
}
