//! Pieces every form uses: the session's CSRF check, and the labelled select of a
//! project's values that the filters share.

use maud::{Markup, html};

use serde::de::DeserializeOwned;

use super::WebError;
use super::session::SignedIn;
use crate::store::{ProjectRole, UnknownName};

/// Rejects a form without the session's CSRF token.
pub(super) fn check_csrf(signed_in: &SignedIn, sent: &str) -> Result<(), WebError> {
    // Constant-time comparison: the token must not leak through timing.
    let expected = signed_in.csrf.as_bytes();
    let sent = sent.as_bytes();
    let same = expected.len() == sent.len()
        && expected
            .iter()
            .zip(sent)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(WebError::Forbidden(
            "This form has expired or did not come from this site. Reload the page and try again.",
        ))
    }
}

/// A labelled select of the project's values for a filter, "All" first; a value asked
/// for but not among them stays selected.
pub(super) fn value_select(
    label: &str,
    name: &str,
    current: Option<&str>,
    values: &[String],
) -> Markup {
    let current = current.filter(|c| !c.is_empty());
    html! {
        label { span.label { (label) }
            select name=(name) {
                option value="" selected[current.is_none()] { "All" }
                @if let Some(current) = current.filter(|c| !values.iter().any(|v| v == c)) {
                    option value=(current) selected { (current) }
                }
                @for value in values {
                    option value=(value) selected[current == Some(value.as_str())] { (value) }
                }
            }
        }
    }
}

/// A role from a form: `member` when none is chosen.
pub(super) fn parse_role(role: Option<&str>) -> Result<ProjectRole, WebError> {
    match role {
        None | Some("") => Ok(ProjectRole::Member),
        Some(role) => role
            .parse()
            .map_err(|e: UnknownName| WebError::BadRequest(e.to_string())),
    }
}

/// A form's `action` field as the handler's action enum (unit variants, snake_case
/// names): forms with several buttons post to one route, and each action is its own
/// arm. An unknown one is a 400 naming it.
pub(super) fn action<A: DeserializeOwned>(action: &str) -> Result<A, WebError> {
    A::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(action))
        .map_err(|_| WebError::BadRequest(format!("Unknown change {action:?}.")))
}
