//! Message templates: `{name}`, `{when}`, `{what}` and `{issue}` filled in per
//! recipient. A placeholder the collector does not know is refused when the template is
//! saved or used, so no message goes out with `{nmae}` in it.

use chrono::{DateTime, Utc};

/// The placeholders, for pages and errors.
pub const PLACEHOLDERS: [&str; 4] = ["{name}", "{when}", "{what}", "{issue}"];

/// The personal message's subject, when the project set none.
pub const DEFAULT_SUBJECT: &str = "Sorry about the error on {what}";
/// The personal message's text, when the project set none.
pub const DEFAULT_TEXT: &str = "Hi {name},\n\n\
I'm so sorry: {when}, something went wrong on our side while you were on {what}. \
I saw it in our error reports and we are on it. You don't need to do anything; if you \
want to tell me more, just reply to this email.\n\n\
Sorry again,\nThe team";
/// The fixed follow-up's subject, when the project set none.
pub const DEFAULT_FIXED_SUBJECT: &str = "Fixed: the error you hit on {what}";
/// The fixed follow-up's text, when the project set none.
pub const DEFAULT_FIXED_TEXT: &str = "Hi {name},\n\n\
{when} you ran into an error on {what}. It is fixed now, and you can try again.\n\n\
Thank you for your patience,\nThe team";

/// What fills the placeholders for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Values {
    /// `{name}`: their name, else username, else "there".
    pub name: String,
    /// `{when}`: when they hit it, in words.
    pub when: String,
    /// `{what}`: the page or route: `GET /checkout?bundle=team`.
    pub what: String,
    /// `{issue}`: the issue's title.
    pub issue: String,
}

/// Why a template cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A `{...}` that is none of the placeholders.
    #[error("unknown placeholder {0}; use {{name}}, {{when}}, {{what}} or {{issue}}")]
    Unknown(String),
    /// Empty, or too long.
    #[error("{0}")]
    Size(&'static str),
}

/// Checks `template`: known placeholders only, 1 to 10,000 characters.
pub fn check(template: &str) -> Result<(), TemplateError> {
    if template.trim().is_empty() {
        return Err(TemplateError::Size("a message needs some text"));
    }
    if template.chars().count() > 10_000 {
        return Err(TemplateError::Size(
            "a message is at most 10,000 characters",
        ));
    }
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open..];
        let Some(close) = after.find('}') else { break };
        let placeholder = &after[..=close];
        let inner = &placeholder[1..placeholder.len() - 1];
        let is_word =
            !inner.is_empty() && inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if is_word && !PLACEHOLDERS.contains(&placeholder) {
            return Err(TemplateError::Unknown(placeholder.to_owned()));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

/// `template` with the placeholders filled in (after [`check`]).
pub fn render(template: &str, values: &Values) -> String {
    template
        .replace("{name}", &values.name)
        .replace("{when}", &values.when)
        .replace("{what}", &values.what)
        .replace("{issue}", &values.issue)
}

/// When, in a person's words, as seen at `now` (UTC, the user's zone being unknown):
/// `earlier today at 14:05 UTC`, `yesterday at 09:30 UTC`, `on 24 November at 14:05 UTC`.
pub fn when_in_words(at: i64, now: i64) -> String {
    let (Some(at), Some(now)) = (
        DateTime::<Utc>::from_timestamp_millis(at),
        DateTime::<Utc>::from_timestamp_millis(now),
    ) else {
        return "recently".into();
    };
    let time = at.format("%H:%M UTC");
    let days = (now.date_naive() - at.date_naive()).num_days();
    match days {
        0 => format!("earlier today at {time}"),
        1 => format!("yesterday at {time}"),
        _ => format!("on {} at {time}", at.format("%-d %B")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_in_and_refuses_unknown_placeholders() {
        let values = Values {
            name: "Jane".into(),
            when: "earlier today at 14:05 UTC".into(),
            what: "GET /checkout?bundle=team".into(),
            issue: "PaymentError".into(),
        };
        assert_eq!(
            render("Hi {name}, {when} on {what} ({issue})", &values),
            "Hi Jane, earlier today at 14:05 UTC on GET /checkout?bundle=team (PaymentError)"
        );
        assert!(check(DEFAULT_TEXT).is_ok() && check(DEFAULT_FIXED_TEXT).is_ok());
        assert_eq!(
            check("Hi {nmae}"),
            Err(TemplateError::Unknown("{nmae}".into()))
        );
        // Braces that are not placeholders are text.
        assert!(check("a JSON {\"x\": 1} and {} stay").is_ok());
        assert!(check("  ").is_err());
    }

    #[test]
    fn when_in_a_persons_words() {
        let at = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .unwrap()
                .timestamp_millis()
        };
        let now = at("2026-11-26T18:00:00Z");
        assert_eq!(
            when_in_words(at("2026-11-26T14:05:00Z"), now),
            "earlier today at 14:05 UTC"
        );
        assert_eq!(
            when_in_words(at("2026-11-25T09:30:00Z"), now),
            "yesterday at 09:30 UTC"
        );
        assert_eq!(
            when_in_words(at("2026-11-24T14:05:00Z"), now),
            "on 24 November at 14:05 UTC"
        );
    }
}
