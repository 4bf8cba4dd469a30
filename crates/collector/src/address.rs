//! Email addresses, one way everywhere: parsed as the mail library parses a mailbox
//! (`Jane Doe <jane@example.com>` or `jane@example.com`), so that what entry checks
//! accept is what sending accepts, and compared by one normal form, so that
//! `Victim <victim@example.com>` and `victim@EXAMPLE.com` are one address to every rule
//! (once per user and issue, the weekly most, unsubscribe, do-not-contact).

use lettre::message::Mailbox;

/// Why an address cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// It does not parse as an address.
    #[error("{0:?} is not an email address (write jane@example.com)")]
    NotAnAddress(String),
    /// It parses, but no message could be addressed to it.
    #[error("{0:?} cannot be sent to (its mailbox name holds characters mail refuses)")]
    Unsendable(String),
}

/// The mailbox `text` names, if it names one.
fn mailbox(text: &str) -> Option<Mailbox> {
    text.trim().parse::<Mailbox>().ok()
}

/// The address every rule compares: the address part of the mailbox, lower-cased;
/// `None` when `text` is not an address.
pub fn normalize(text: &str) -> Option<String> {
    mailbox(text).map(|m| m.email.to_string().to_lowercase())
}

/// The normal form of `text`, or `text` itself lower-cased when it does not parse (for
/// rows stored before addresses were checked: they still compare equal to themselves).
pub fn normal_or_lower(text: &str) -> String {
    normalize(text).unwrap_or_else(|| text.trim().to_lowercase())
}

/// Accepts an address a message can be sent to; returns its normal form.
pub fn check(text: &str) -> Result<String, AddressError> {
    let mailbox = mailbox(text).ok_or_else(|| AddressError::NotAnAddress(text.to_owned()))?;
    // What sending will do with it: addressing a message must work.
    let addressed = lettre::Message::builder()
        .from(mailbox.clone())
        .to(mailbox.clone())
        .body(String::new());
    if addressed.is_err() || mailbox.email.to_string().contains(['<', '>', '"', '\\']) {
        return Err(AddressError::Unsendable(text.to_owned()));
    }
    Ok(mailbox.email.to_string().to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_whatever_its_form() {
        for form in [
            "victim2@example.com",
            "Victim Two <victim2@example.com>",
            "<victim2@example.com>",
            "  VICTIM2@Example.COM ",
        ] {
            assert_eq!(
                normalize(form).as_deref(),
                Some("victim2@example.com"),
                "{form}"
            );
        }
        assert_eq!(normalize("not an address"), None);
        assert_eq!(normal_or_lower(" Odd Value "), "odd value");
    }

    #[test]
    fn what_cannot_be_sent_is_refused_at_entry() {
        assert_eq!(
            check("Jane <jane@example.com>").as_deref(),
            Ok("jane@example.com")
        );
        assert!(matches!(
            check("\"<script>alert(1)</script>\"@x.y"),
            Err(AddressError::Unsendable(_) | AddressError::NotAnAddress(_))
        ));
        assert!(matches!(check("jane"), Err(AddressError::NotAnAddress(_))));
        assert!(check("jane@example.com\r\nBcc: x@y.z").is_err());
    }
}
