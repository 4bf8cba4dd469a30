//! Email over SMTP (lettre): the transport from `MAYDAY_SMTP_URL`, and the message.

use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use maud::{DOCTYPE, html};

use super::facts::Facts;
use super::message::Message;
use crate::encode;
use crate::store::NotificationKind;

/// Why mail could not be set up or sent.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    /// `MAYDAY_SMTP_URL` is not usable.
    #[error("MAYDAY_SMTP_URL: {0}")]
    Url(String),
    /// An address does not parse.
    #[error("invalid email address {0:?}")]
    Address(String),
    /// Building the message failed.
    #[error("cannot build the message: {0}")]
    Build(String),
    /// The SMTP server refused or could not be reached.
    #[error("SMTP: {0}")]
    Smtp(String),
}

/// Sends notification emails.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer for `smtp://user:pass@host:587` (STARTTLS required), `smtps://...` (TLS),
    /// or `smtp://host:port?tls=none` (plain, for a local relay), sending as `from`.
    pub fn new(url: &str, from: &str) -> Result<Mailer, EmailError> {
        let parsed = url::Url::parse(url).map_err(|e| EmailError::Url(e.to_string()))?;
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| EmailError::Url("no host".into()))?
            .to_owned();
        let tls = parsed
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.to_ascii_lowercase());
        let mut builder = match (parsed.scheme(), tls.as_deref()) {
            ("smtps", _) => AsyncSmtpTransport::<Tokio1Executor>::relay(&host)
                .map_err(|e| EmailError::Url(e.to_string()))?
                .port(parsed.port().unwrap_or(465)),
            ("smtp", Some("none")) => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host)
                    .port(parsed.port().unwrap_or(25))
            }
            ("smtp", None | Some("starttls") | Some("required")) => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host)
                    .map_err(|e| EmailError::Url(e.to_string()))?
                    .port(parsed.port().unwrap_or(587))
            }
            ("smtp", Some(other)) => {
                return Err(EmailError::Url(format!(
                    "tls={other} (expected none or starttls)"
                )));
            }
            (scheme, _) => {
                return Err(EmailError::Url(format!(
                    "scheme {scheme} (expected smtp or smtps)"
                )));
            }
        };
        if !parsed.username().is_empty() {
            let decode = |s: &str| percent_decode(s);
            builder = builder.credentials(Credentials::new(
                decode(parsed.username()),
                decode(parsed.password().unwrap_or("")),
            ));
        }
        let transport = builder.timeout(Some(Duration::from_secs(15))).build();
        let from = from
            .parse()
            .map_err(|_| EmailError::Address(from.to_owned()))?;
        Ok(Mailer { transport, from })
    }

    /// Sends `message` to `recipients`, in one email; returns the SMTP server's answer
    /// (`250 2.0.0 Ok: queued as ...`).
    pub async fn send(
        &self,
        message: &dyn Message,
        recipients: &[String],
    ) -> Result<String, EmailError> {
        let message = compose(&self.from, message, recipients)?;
        let response = self
            .transport
            .send(message)
            .await
            .map_err(|e| EmailError::Smtp(with_hint(&e.to_string())))?;
        let text: Vec<&str> = response.message().collect();
        Ok(format!("{} {}", response.code(), text.join(" ")))
    }
}

/// The SMTP error `text`, with what to change when the cause is a setting: a local
/// server without TLS needs `?tls=none`, a TLS-only port `smtps://`.
fn with_hint(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    if lower.contains("starttls") {
        format!(
            "{text} (a server without TLS, such as a local relay, needs ?tls=none at the end of \
             MAYDAY_SMTP_URL: smtp://HOST:PORT?tls=none)"
        )
    } else if lower.contains("connection refused") {
        format!("{text} (nothing listens at MAYDAY_SMTP_URL's host and port)")
    } else if lower.contains("corrupt message") || lower.contains("invalid peer certificate") {
        format!("{text} (for a TLS-only port such as 465, write smtps://HOST:465)")
    } else {
        text.to_owned()
    }
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The email: plain-text and HTML parts saying the same, event data escaped in HTML.
pub fn compose(
    from: &Mailbox,
    message: &dyn Message,
    recipients: &[String],
) -> Result<lettre::Message, EmailError> {
    let sender = message
        .from()
        .and_then(|own| own.parse::<Mailbox>().ok())
        .unwrap_or_else(|| match message.sender_name() {
            Some(name) => Mailbox::new(Some(encode::header_line(name)), from.email.clone()),
            None => from.clone(),
        });
    let mut builder = lettre::Message::builder()
        .from(sender)
        .subject(message.subject());
    if let Some(reply_to) = message.reply_to().and_then(|r| r.parse::<Mailbox>().ok()) {
        builder = builder.reply_to(reply_to);
    }
    if let Some(link) = message.unsubscribe() {
        // RFC 8058: one click, a POST to the link, unsubscribes.
        builder = builder
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{link}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_owned(),
            ));
    }
    let mut any = false;
    for recipient in recipients {
        match recipient.parse::<Mailbox>() {
            Ok(mailbox) => {
                builder = builder.to(mailbox);
                any = true;
            }
            Err(_) => tracing::warn!(recipient, "skipping an invalid recipient"),
        }
    }
    if !any {
        return Err(EmailError::Address(recipients.join(", ")));
    }
    builder
        .multipart(MultiPart::alternative_plain_html(
            message.plain_text(),
            message.html_body(),
        ))
        .map_err(|e| EmailError::Build(e.to_string()))
}

fn headline(facts: &Facts) -> &'static str {
    match facts.kind {
        NotificationKind::NewIssue => "New issue",
        NotificationKind::Regression => "A resolved issue is back",
        NotificationKind::Spike => "An issue is spiking",
        NotificationKind::Test => "A test notification",
        NotificationKind::Reappeared => "An ignored issue is back",
        NotificationKind::UserFrequency => "An issue hits many users",
        NotificationKind::Resolved => "An issue was resolved",
        NotificationKind::Assigned => "An issue was assigned to you",
        NotificationKind::Feedback => "Someone wrote about an issue",
        // Monitors' notifications are written by `notify::monitor`.
        _ => "A monitor changed",
    }
}

/// The plain-text part.
pub fn plain_text(facts: &Facts) -> String {
    let mut out = String::new();
    let mut line = |label: &str, value: Option<&str>| {
        if let Some(value) = value {
            out.push_str(&format!("{label:<9} {value}\n"));
        }
    };
    line("What", Some(&facts.title));
    line("Who", Some(&facts.user.long()));
    let doing = match (&facts.method, &facts.url) {
        (Some(method), Some(url)) => Some(format!("{method} {url}")),
        (None, Some(url)) => Some(url.clone()),
        _ => None,
    };
    line("Request", doing.as_deref());
    line("Route", facts.route.as_deref());
    line("Browser", facts.browser.as_deref());
    line("Release", facts.release.as_deref());
    line("Env", facts.environment.as_deref());
    line("Server", facts.server_name.as_deref());
    line("When", Some(&facts.time_utc));
    line("Where", facts.culprit.as_deref());
    let mut text = format!("{}: {}\n\n", headline(facts), facts.title);
    if let Some(said) = &facts.said {
        text.push_str(&format!("{} wrote:\n", facts.user.short()));
        for line in said.lines() {
            text.push_str(&format!("> {line}\n"));
        }
        text.push('\n');
    }
    text.push_str(&out);
    if !facts.frames.is_empty() {
        text.push_str("\nStack (innermost first):\n");
        for frame in &facts.frames {
            text.push_str(&format!("  {frame}\n"));
        }
    }
    text.push_str(&format!(
        "\nThis issue has affected {} user{} in {} event{} so far.\n\nSee it: {}\n",
        facts.user_count,
        if facts.user_count == 1 { "" } else { "s" },
        facts.event_count,
        if facts.event_count == 1 { "" } else { "s" },
        facts.link
    ));
    if let Some(link) = facts.user.email.as_deref().and_then(encode::mailto) {
        text.push_str(&format!("Write to them: {link}\n"));
    }
    text
}

/// The HTML part (maud escapes every value).
pub fn html_body(facts: &Facts) -> String {
    let rows: Vec<(&str, Option<String>)> = vec![
        ("Who", Some(facts.user.long())),
        (
            "Request",
            match (&facts.method, &facts.url) {
                (Some(m), Some(u)) => Some(format!("{m} {u}")),
                (None, Some(u)) => Some(u.clone()),
                _ => None,
            },
        ),
        ("Route", facts.route.clone()),
        ("Browser", facts.browser.clone()),
        ("Release", facts.release.clone()),
        ("Environment", facts.environment.clone()),
        ("Server", facts.server_name.clone()),
        ("When", Some(facts.time_utc.clone())),
        ("Where", facts.culprit.clone()),
    ];
    html! {
        (DOCTYPE)
        html {
            body style="font-family: sans-serif; color: #1f2328;" {
                p style="color: #b42318; font-weight: bold;" { (headline(facts)) }
                h2 style="font-family: monospace;" { (facts.title) }
                @if let Some(said) = &facts.said {
                    p { (facts.user.short()) " wrote:" }
                    blockquote style="border-left: 4px solid #d0d7de; margin: 0 0 1em; padding: 4px 12px; white-space: pre-wrap;" { (said) }
                }
                table cellpadding="4" {
                    @for (label, value) in &rows {
                        @if let Some(value) = value {
                            tr { th align="left" { (label) } td { (value) } }
                        }
                    }
                }
                @if !facts.frames.is_empty() {
                    p { "Stack (innermost first):" }
                    pre style="background: #f6f8fa; padding: 8px;" {
                        @for frame in &facts.frames { (frame) "\n" }
                    }
                }
                p {
                    "This issue has affected " (facts.user_count)
                    @if facts.user_count == 1 { " user" } @else { " users" }
                    " in " (facts.event_count)
                    @if facts.event_count == 1 { " event" } @else { " events" }
                    " so far."
                }
                p { a href=(facts.link) { "Open the event" } }
                @if let Some(email) = &facts.user.email {
                    @if let Some(link) = encode::mailto(email) {
                        p { "Write to them: " a href=(link) { (email) } }
                    }
                }
            }
        }
    }
    .into_string()
}
