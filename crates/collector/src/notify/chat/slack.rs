//! Slack incoming webhooks: `text` (the notification's fallback) and Block Kit
//! `blocks` (a section with the headline linked, the facts as fields, a context line).
//! Text is `mrkdwn` with `&`, `<` and `>` escaped, so no `<!channel>` and no disguised
//! link; a section's text is at most 3,000 characters, a field's 2,000.

use serde_json::{Value, json};

use super::fields;
use crate::encode::{capped, slack_text};
use crate::notify::facts::Facts;

/// The message.
pub fn body(facts: &Facts) -> Value {
    let headline = slack_text(&capped(&facts.headline(), 2500));
    let fields: Vec<Value> = fields(facts)
        .into_iter()
        .map(|(label, value)| {
            json!({"type": "mrkdwn", "text": format!("*{label}*\n{}", slack_text(&capped(&value, 1900)))})
        })
        .take(10)
        .collect();
    json!({
        "text": format!("{headline} ({})", slack_text(&facts.scope())),
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": format!("*<{}|{headline}>*", facts.link)},
            },
            {"type": "section", "fields": fields},
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": slack_text(&format!("{} · {}", facts.scope(), facts.time_utc))}],
            },
        ],
    })
}
