//! Microsoft Teams, through a workflow's webhook ("when a Teams webhook request is
//! received"): a `message` whose one attachment is an Adaptive Card (version 1.4):
//! the headline, a `FactSet` of the facts and an `Action.OpenUrl` to the issue. Card
//! text is Markdown, so its marks are escaped.

use serde_json::{Value, json};

use super::fields;
use crate::encode::{capped, markdown_text};
use crate::notify::facts::Facts;

/// The message.
pub fn body(facts: &Facts) -> Value {
    let facts_set: Vec<Value> = fields(facts)
        .into_iter()
        .map(
            |(label, value)| json!({"title": label, "value": markdown_text(&capped(&value, 1000))}),
        )
        .collect();
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {
                        "type": "TextBlock",
                        "text": markdown_text(&capped(&facts.headline(), 2000)),
                        "weight": "Bolder",
                        "size": "Medium",
                        "wrap": true,
                    },
                    {"type": "FactSet", "facts": facts_set},
                ],
                "actions": [{"type": "Action.OpenUrl", "title": "Open the issue", "url": facts.link}],
            },
        }],
    })
}
