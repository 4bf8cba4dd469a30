//! Feedback from the person a crash hit ("I was applying a coupon"): checked and
//! capped the same way however it came (a `user_report` item, a `feedback` event, the
//! crash-report dialog), then stored for the event it names. Everything in it is the
//! sender's text: stored as text, escaped where shown.

use mayday_protocol::EventId;

use crate::store::entities::{FeedbackSource, feedback};
use crate::store::{NewFeedback, Store, StoreError};

/// The most characters kept of a name.
pub const MAX_NAME: usize = 128;
/// Of an email address.
pub const MAX_EMAIL: usize = 256;
/// Of the message.
pub const MAX_MESSAGE: usize = 5_000;
/// Of the page's address.
pub const MAX_URL: usize = 1_000;
/// Feedback accepted per DSN key per minute.
pub const PER_KEY_PER_MINUTE: u64 = 60;
/// Feedback accepted per client address per minute (people write one or two).
pub const PER_CLIENT_PER_MINUTE: u64 = 10;

/// Feedback as it came, every field the sender's.
#[derive(Debug, Clone, Default)]
pub struct Sent<'a> {
    pub event_id: Option<&'a str>,
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub message: Option<&'a str>,
    pub url: Option<&'a str>,
}

/// Why feedback was refused; each names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedbackError {
    /// Nothing written.
    #[error("the feedback has no message (comments): write what happened")]
    NoMessage,
    /// Not an event id.
    #[error("event_id {0:?} is not an event id (32 hex digits)")]
    BadEventId(String),
    /// Not an email address.
    #[error("email {0:?} is not an email address")]
    BadEmail(String),
}

/// `text` trimmed, at most `max` characters, `None` when empty.
fn capped(text: Option<&str>, max: usize) -> Option<String> {
    let text = text?.trim();
    (!text.is_empty()).then(|| text.chars().take(max).collect())
}

/// Checks and caps `sent`.
pub fn check(sent: &Sent<'_>) -> Result<NewFeedback, FeedbackError> {
    let message = capped(sent.message, MAX_MESSAGE).ok_or(FeedbackError::NoMessage)?;
    let event_id = match sent.event_id.map(str::trim).filter(|id| !id.is_empty()) {
        Some(id) => Some(
            id.parse::<EventId>()
                .map_err(|_| FeedbackError::BadEventId(id.chars().take(64).collect()))?
                .to_string(),
        ),
        None => None,
    };
    let email = capped(sent.email, MAX_EMAIL);
    if let Some(email) = &email
        && (!email.contains('@') || email.chars().any(char::is_whitespace))
    {
        return Err(FeedbackError::BadEmail(email.clone()));
    }
    Ok(NewFeedback {
        event_id,
        name: capped(sent.name, MAX_NAME),
        email,
        message,
        url: capped(sent.url, MAX_URL),
    })
}

/// Checks and stores `sent` for `project_id`, and tells the team when its event is
/// stored (feedback that arrives before its event is shown, not announced).
pub async fn record(
    store: &Store,
    project_id: i64,
    source: FeedbackSource,
    sent: &Sent<'_>,
) -> Result<Result<feedback::Model, FeedbackError>, StoreError> {
    let new = match check(sent) {
        Ok(new) => new,
        Err(refused) => return Ok(Err(refused)),
    };
    let row = store.add_feedback(project_id, source, new).await?;
    store.notify_feedback(&row).await?;
    Ok(Ok(row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feedback_is_capped_and_refused_by_field() {
        let long = "x".repeat(MAX_MESSAGE + 10);
        let ok = check(&Sent {
            event_id: Some("0F3A6B8C-1D2E-4F50-8A9B-0C1D2E3F4A5B"),
            name: Some("  Jane <b>Doe</b> "),
            email: Some("jane@example.com"),
            message: Some(&long),
            url: None,
        })
        .unwrap();
        assert_eq!(
            ok.event_id.as_deref(),
            Some("0f3a6b8c1d2e4f508a9b0c1d2e3f4a5b")
        );
        assert_eq!(ok.name.as_deref(), Some("Jane <b>Doe</b>"));
        assert_eq!(ok.message.chars().count(), MAX_MESSAGE);
        let refused = |sent: Sent<'_>| check(&sent).unwrap_err().to_string();
        assert!(refused(Sent::default()).contains("no message"));
        assert!(
            refused(Sent {
                message: Some("hi"),
                event_id: Some("nope"),
                ..Sent::default()
            })
            .contains("event_id \"nope\"")
        );
        assert!(
            refused(Sent {
                message: Some("hi"),
                email: Some("jane at example"),
                ..Sent::default()
            })
            .contains("email")
        );
    }
}
