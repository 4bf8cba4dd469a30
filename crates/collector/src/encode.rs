//! Event data written into formats other than HTML (maud escapes HTML): `mailto:`
//! links, email header lines and Slack-style `text`. Everything from an event is untrusted; each format
//! gets its own encoding here, so that no caller builds one by hand.

use std::str::FromStr;

/// A `mailto:` URI for `address`, or `None` when it is not a valid email address (then
/// it is shown, never linked). Characters an address may hold but a URI must not carry
/// as they are (`?`, `&`, `=`, `%`, `#`, …) are percent-encoded (RFC 6068), so an
/// address can never add `cc`, `bcc` or `body` parameters.
pub fn mailto(address: &str) -> Option<String> {
    let address = lettre::Address::from_str(address.trim()).ok()?;
    let mut uri = String::from("mailto:");
    let address: &str = address.as_ref();
    for byte in address.bytes() {
        let keep = byte.is_ascii_alphanumeric() || b"-._~!$'()*+,;:@".contains(&byte);
        if keep {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    Some(uri)
}

/// `text` for Slack-style webhooks: `&`, `<` and `>` escaped, so event data cannot
/// mention `<!channel>` or disguise a link as `<https://elsewhere|label>`.
pub fn slack_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// `text` as one email header line of at most 250 characters: control characters
/// (line breaks included) become spaces, so event data cannot add headers.
pub fn header_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(250)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailto_links_only_valid_addresses_and_carries_no_parameters() {
        assert_eq!(
            mailto("jane@example.com").as_deref(),
            Some("mailto:jane@example.com")
        );
        // Valid local parts may hold `?`, `&` and `=`: encoded, they stay in the address.
        assert_eq!(
            mailto("a?cc=boss&body=x@example.com").as_deref(),
            Some("mailto:a%3Fcc%3Dboss%26body%3Dx@example.com")
        );
        assert_eq!(mailto("jane@example.com?cc=evil@example.com"), None);
        assert_eq!(mailto("javascript:alert(1)"), None);
        assert_eq!(mailto("jane@example.com\r\nBcc: evil@example.com"), None);
        assert_eq!(mailto(""), None);
    }

    #[test]
    fn header_lines_stay_one_line() {
        assert_eq!(
            header_line("a\r\nBcc: x@example.com"),
            "a  Bcc: x@example.com"
        );
        assert_eq!(header_line(&"x".repeat(300)).len(), 250);
    }

    #[test]
    fn slack_text_cannot_mention_or_disguise_links() {
        assert_eq!(
            slack_text("<!channel> see <https://evil.example|your bank> & more"),
            "&lt;!channel&gt; see &lt;https://evil.example|your bank&gt; &amp; more"
        );
    }
}
