//! What every notification is, whatever it is about: how each destination renders it.

/// One notification as each destination renders it: an email's subject and parts, a
/// webhook's JSON (with a `text` field chat tools show).
pub trait Message: Send + Sync {
    /// The email's subject, one line.
    fn subject(&self) -> String;
    /// The email's plain-text part.
    fn plain_text(&self) -> String;
    /// The email's HTML part, every outside value escaped.
    fn html_body(&self) -> String;
    /// The webhook's JSON body.
    fn payload(&self) -> serde_json::Value;
    /// The sender, when not the collector's `MAYDAY_EMAIL_FROM`.
    fn from(&self) -> Option<&str> {
        None
    }
    /// The name the sender shows, with the collector's address, when [`from`](Self::from)
    /// gives no sender of its own (a project's messages to its users: its name, not the
    /// collector's).
    fn sender_name(&self) -> Option<&str> {
        None
    }
    /// Where replies go, when not to the sender.
    fn reply_to(&self) -> Option<&str> {
        None
    }
    /// A link that unsubscribes the recipient (`List-Unsubscribe`, one click).
    fn unsubscribe(&self) -> Option<&str> {
        None
    }
}
