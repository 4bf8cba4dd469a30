//! Message templates: `{name}`, `{when}`, `{doing}`, `{page}`, `{issue}`, `{project}`
//! and `{said}` filled in per recipient, in one pass (a value is never read as a template: a user
//! named `{doing}` stays `{doing}`). A placeholder the collector does not know is refused
//! when the template is saved or used, so no message goes out with `{nmae}` in it.
//! `{what}`, the name of `{page}` before, is still understood.

use chrono::{DateTime, Utc};

/// The placeholders, for pages and errors.
pub const PLACEHOLDERS: [&str; 7] = [
    "{name}",
    "{when}",
    "{doing}",
    "{page}",
    "{issue}",
    "{project}",
    "{said}",
];

/// Understood too: what `{page}` was called before.
const OLD_PLACEHOLDERS: [&str; 1] = ["{what}"];

/// The personal message's subject, when the project set none.
pub const DEFAULT_SUBJECT: &str = "Sorry about the error while you were {doing}";
/// The personal message's text, when the project set none.
pub const DEFAULT_TEXT: &str = "Hi {name},\n\n\
{said}I'm so sorry: {when}, something went wrong on our side while you were {doing}. \
I saw it in our error reports and we are on it. You don't need to do anything; if you \
want to tell me more, just reply to this email.\n\n\
Sorry again,\nThe {project} team";
/// The fixed follow-up's subject, when the project set none.
pub const DEFAULT_FIXED_SUBJECT: &str = "Fixed: the error you ran into while {doing}";
/// The fixed follow-up's text, when the project set none.
pub const DEFAULT_FIXED_TEXT: &str = "Hi {name},\n\n\
{when} you ran into an error while you were {doing}. It is fixed now, and you can try \
again.\n\n\
Thank you for your patience,\nThe {project} team";

/// What fills the placeholders for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Values {
    /// `{name}`: their name, else username, else "there".
    pub name: String,
    /// `{when}`: when they hit it, in words.
    pub when: String,
    /// `{doing}`: what they were doing, in their words: "checking out", "on the cart
    /// page" (see [`super::words`]).
    pub doing: String,
    /// `{page}`: the page's path, `/checkout`.
    pub page: String,
    /// `{issue}`: the issue's title.
    pub issue: String,
    /// `{project}`: the name customers know the app by.
    pub project: String,
    /// `{said}`: their own words when they wrote about it ("You wrote: “…” Thank you
    /// for telling us." and a blank line), else nothing.
    pub said: String,
}

impl Values {
    fn get(&self, placeholder: &str) -> Option<&str> {
        Some(match placeholder {
            "{name}" => &self.name,
            "{when}" => &self.when,
            "{doing}" => &self.doing,
            "{page}" | "{what}" => &self.page,
            "{issue}" => &self.issue,
            "{project}" => &self.project,
            "{said}" => &self.said,
            _ => return None,
        })
    }
}

/// Why a template cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A `{...}` that is none of the placeholders.
    #[error(
        "unknown placeholder {0}; use {{name}}, {{when}}, {{doing}}, {{page}}, {{issue}} or {{project}}"
    )]
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
        if is_word
            && !PLACEHOLDERS.contains(&placeholder)
            && !OLD_PLACEHOLDERS.contains(&placeholder)
        {
            return Err(TemplateError::Unknown(placeholder.to_owned()));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

/// `template` with the placeholders filled in (after [`check`]), in one pass: what a
/// value brings in is never filled in again.
pub fn render(template: &str, values: &Values) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open..];
        match after
            .find('}')
            .and_then(|close| values.get(&after[..=close]).map(|v| (close, v)))
        {
            Some((close, value)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
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
            said: String::new(),
            doing: "checking out".into(),
            page: "/checkout".into(),
            issue: "PaymentError".into(),
            project: "Acme Shop".into(),
        };
        assert_eq!(
            render(
                "Hi {name}, {when} while {doing} on {page} ({issue}, {project})",
                &values
            ),
            "Hi Jane, earlier today at 14:05 UTC while checking out on /checkout (PaymentError, Acme Shop)"
        );
        assert_eq!(render("{what}", &values), "/checkout");
        // A value that looks like a placeholder stays as it is: one pass.
        let hostile = Values {
            name: "{doing} {issue}".into(),
            ..values.clone()
        };
        assert_eq!(render("Hi {name}!", &hostile), "Hi {doing} {issue}!");
        for default in [
            DEFAULT_SUBJECT,
            DEFAULT_TEXT,
            DEFAULT_FIXED_SUBJECT,
            DEFAULT_FIXED_TEXT,
        ] {
            let text = render(default, &values);
            assert!(!text.contains("GET") && !text.contains('{'), "{text}");
        }
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
