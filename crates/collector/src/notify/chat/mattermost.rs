//! Mattermost incoming webhooks: `text` plus one Slack-style `attachments` entry
//! (`fallback`, `color`, `title`, `title_link`, `fields`). Text is Markdown with its
//! marks escaped and `@` mentions broken, so no `@channel` or `@all`.

use serde_json::{Value, json};

use super::fields;
use crate::encode::{capped, markdown_text};
use crate::notify::facts::Facts;

/// The message.
pub fn body(facts: &Facts) -> Value {
    let headline = markdown_text(&capped(&facts.headline(), 2000));
    let fields: Vec<Value> = fields(facts)
        .into_iter()
        .map(|(label, value)| {
            json!({"short": true, "title": label, "value": markdown_text(&capped(&value, 1000))})
        })
        .collect();
    json!({
        "text": format!("{headline}\n{}", facts.link),
        "attachments": [{
            "fallback": format!("{headline} {}", facts.link),
            "color": "#c0392b",
            "title": headline,
            "title_link": facts.link,
            "fields": fields,
            "footer": markdown_text(&facts.time_utc),
        }],
    })
}
