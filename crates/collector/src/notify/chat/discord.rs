//! Discord webhooks: `content` (one line) and one embed (`title` at most 256
//! characters, `url`, `description`, `fields` with values of at most 1,024, `color`,
//! `timestamp`). Text is Markdown with its marks escaped, and `allowed_mentions` is
//! empty, so nothing in an event pings anyone.

use serde_json::{Value, json};

use super::fields;
use crate::encode::{capped, markdown_text};
use crate::notify::facts::Facts;

/// The message.
pub fn body(facts: &Facts) -> Value {
    let fields: Vec<Value> = fields(facts)
        .into_iter()
        .map(|(label, value)| {
            json!({"name": label, "value": markdown_text(&capped(&value, 900)), "inline": true})
        })
        .take(25)
        .collect();
    json!({
        "content": capped(&markdown_text(&facts.headline()), 1900),
        "embeds": [{
            "title": capped(&markdown_text(&facts.title), 256),
            "url": facts.link,
            "description": markdown_text(&capped(&format!("{} · {}", facts.who(), facts.scope()), 3000)),
            "color": 0xc0392b,
            "fields": fields,
        }],
        "allowed_mentions": {"parse": []},
    })
}
