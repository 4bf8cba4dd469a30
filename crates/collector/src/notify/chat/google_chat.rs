//! Google Chat space webhooks: `text` (what happened, from the collector's words and
//! the project's name only) and a `cardsV2` card: a header (plain text), the facts as
//! `decoratedText` widgets and a button to the issue. Card text reads a few HTML tags,
//! so event text is HTML-escaped there.

use serde_json::{Value, json};

use super::fields;
use crate::encode::{capped, html_text};
use crate::notify::facts::Facts;

/// The message.
pub fn body(facts: &Facts) -> Value {
    let mut widgets: Vec<Value> = vec![json!({
        "textParagraph": {"text": html_text(&capped(&facts.headline(), 2000))},
    })];
    widgets.extend(fields(facts).into_iter().map(|(label, value)| {
        json!({"decoratedText": {"topLabel": label, "text": html_text(&capped(&value, 1000))}})
    }));
    widgets.push(json!({
        "buttonList": {"buttons": [{"text": "Open the issue", "onClick": {"openLink": {"url": facts.link}}}]},
    }));
    json!({
        "text": format!("{}: {}", kind_words(facts), facts.link),
        "cardsV2": [{
            "cardId": format!("issue-{}", facts.issue_id),
            "card": {
                "header": {
                    "title": capped(&facts.title, 200),
                    "subtitle": capped(&format!("{} · {}", facts.who(), facts.scope()), 200),
                },
                "sections": [{"widgets": widgets}],
            },
        }],
    })
}

/// What happened, in the collector's words (no event text, so nothing to escape in
/// Chat's own `*bold*` and `<url|label>` syntax).
fn kind_words(facts: &Facts) -> &'static str {
    use crate::store::NotificationKind as K;
    match facts.kind {
        K::Regression => "A regression",
        K::Spike => "An issue is spiking",
        K::UserFrequency => "An issue hits many users",
        K::Reappeared => "An ignored issue is back",
        K::Test => "A test alert",
        _ => "A new issue",
    }
}
