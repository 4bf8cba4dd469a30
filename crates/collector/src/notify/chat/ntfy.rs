//! ntfy topics, published as JSON to the server's root (`topic`, `title`, `message`,
//! `priority`, `click`, `tags`), so titles may hold any Unicode, with the topic's
//! access token as `Authorization: Bearer` when one is set. The message is plain text.

use serde_json::json;

use super::Post;
use crate::encode::capped;
use crate::notify::facts::Facts;
use crate::store::NotificationKind;

/// The publish request for the topic at `topic_url` (`https://ntfy.sh/my-topic`), or
/// `None` when the URL names no topic.
pub fn post(topic_url: &str, token: Option<&str>, facts: &Facts) -> Option<Post> {
    let mut url = url::Url::parse(topic_url).ok()?;
    let topic = url.path_segments()?.rfind(|s| !s.is_empty())?.to_owned();
    // The server's root, under any path prefix a self-hosted server has.
    url.path_segments_mut().ok()?.pop_if_empty().pop().push("");
    url.set_query(None);
    let priority = match facts.kind {
        NotificationKind::NewIssue | NotificationKind::Regression => 4,
        _ => 3,
    };
    let body = json!({
        "topic": topic,
        "title": capped(&facts.headline(), 250),
        "message": capped(&format!("{}\n{}", facts.scope(), facts.link), 4000),
        "priority": priority,
        "click": facts.link,
        "tags": ["rotating_light"],
    });
    let mut headers = Vec::new();
    if let Some(token) = token {
        headers.push(("authorization", format!("Bearer {token}")));
    }
    Some(Post {
        url: url.to_string(),
        headers,
        body,
    })
}
