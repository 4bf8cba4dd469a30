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

/// `text` as one segment of a URL path: everything but RFC 3986's unreserved
/// characters percent-encoded, so a release named `1.0 beta/2` or `a+b` stays one
/// segment and reads back as it was (form encoding would turn a space into `+`, which a
/// path keeps as a plus).
pub fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
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

/// `text` for Markdown chats (Discord, Mattermost, Teams): Markdown's marks escaped
/// with a backslash, so event data cannot format, link or hide text; an `@` that
/// starts a word followed by a zero-width space, so it cannot mention `@everyone`,
/// `@channel` or `@all` (an address's `@` stays as it is).
pub fn markdown_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 8);
    let mut previous = ' ';
    for c in text.chars() {
        let in_word = previous.is_alphanumeric() || "._-+".contains(previous);
        previous = c;
        match c {
            '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '<' | '#' | '[' | ']' | '(' | ')' | '!' => {
                escaped.push('\\');
                escaped.push(c);
            }
            '@' if !in_word => escaped.push_str("@\u{200B}"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// `text` with HTML's special characters escaped (Google Chat's card text, which
/// reads a few HTML tags).
pub fn html_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// At most `max` characters of `text`, with `…` when cut (chats refuse longer fields).
pub fn capped(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut = first_chars(text, max.saturating_sub(1)).to_owned();
    cut.push('…');
    cut
}

/// The first `max` characters of `text` (all of it when shorter), borrowed: ingest cuts
/// every column it stores from an event this way, and nearly all are short, so the
/// common case is one length check, not a walk over the characters.
pub fn first_chars(text: &str, max: usize) -> &str {
    // A character is at least one byte: text of at most `max` bytes is kept whole.
    if text.len() <= max {
        return text;
    }
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
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
    fn first_chars_counts_characters_not_bytes() {
        assert_eq!(first_chars("héllo wörld", 5), "héllo");
        assert_eq!(first_chars("héllo", 5), "héllo");
        assert_eq!(first_chars("hé", 5), "hé");
        assert_eq!(first_chars("日本語テキスト", 3), "日本語");
        assert_eq!(first_chars("abc", 0), "");
        assert_eq!(capped("日本語テキスト", 4), "日本語…");
    }

    #[test]
    fn a_path_segment_keeps_spaces_plus_and_slashes_inside_it() {
        assert_eq!(
            path_segment("shop@1.0 beta+2/x"),
            "shop%401.0%20beta%2B2%2Fx"
        );
        assert_eq!(path_segment("2.4.0-rc.1_a~b"), "2.4.0-rc.1_a~b");
    }

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
    fn markdown_and_html_cannot_format_or_mention() {
        assert_eq!(
            markdown_text("**x** [a](http://e) @everyone <@1> jane@example.com"),
            "\\*\\*x\\*\\* \\[a\\]\\(http://e\\) @\u{200B}everyone \\<@\u{200B}1\\> jane@example.com"
        );
        assert_eq!(
            html_text("<b>\"x\" & 'y'</b>"),
            "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;"
        );
        assert_eq!(capped("abcdef", 4), "abc…");
        assert_eq!(capped("abc", 4), "abc");
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
