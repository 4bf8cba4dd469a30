//! Chat and paging destinations of alert rules, each in the format its service
//! documents (one file each), with event text escaped for that format and capped to
//! its limits; posted through the outbound policy (no private addresses unless
//! allowed, no redirects, a timeout), like webhooks.

mod discord;
mod google_chat;
mod mattermost;
mod ntfy;
mod pagerduty;
mod slack;
mod teams;

use super::facts::Facts;
use crate::alerts::rule::{Action, PAGERDUTY_URL};
use crate::outbound::Outbound;

/// One POST: where, extra headers, the JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    /// The URL.
    pub url: String,
    /// Headers besides `Content-Type: application/json`.
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: serde_json::Value,
}

/// What `action` posts about `facts`; `None` for actions that are not chats (email,
/// webhooks).
pub fn render(action: &Action, facts: &Facts) -> Option<Post> {
    let plain = |url: &str, body| Post {
        url: url.to_owned(),
        headers: Vec::new(),
        body,
    };
    Some(match action {
        Action::Slack { url } => plain(url, slack::body(facts)),
        Action::Discord { url } => plain(url, discord::body(facts)),
        Action::Teams { url } => plain(url, teams::body(facts)),
        Action::GoogleChat { url } => plain(url, google_chat::body(facts)),
        Action::Mattermost { url } => plain(url, mattermost::body(facts)),
        Action::Ntfy { url, token } => ntfy::post(url, token.as_deref(), facts)?,
        Action::Pagerduty { routing_key, url } => plain(
            url.as_deref().unwrap_or(PAGERDUTY_URL),
            pagerduty::body(routing_key, facts),
        ),
        Action::Email { .. } | Action::Webhook => return None,
    })
}

/// Posts what `action` says about `facts`; any 2xx is delivered. The error names what
/// failed, never the URL (a chat's URL is its password).
pub async fn post(outbound: &Outbound, action: &Action, facts: &Facts) -> Result<u16, String> {
    let post = render(action, facts).ok_or_else(|| "not a chat action".to_owned())?;
    let body = serde_json::to_vec(&post.body).map_err(|e| e.to_string())?;
    outbound
        .post_json(&post.url, &post.headers, body)
        .await
        .map_err(|error| error.to_string())
}

/// The facts chats list under the headline, unescaped: (label, value).
fn fields(facts: &Facts) -> Vec<(&'static str, String)> {
    let mut fields = vec![("Project", facts.project.clone())];
    fields.extend(facts.environment.clone().map(|e| ("Environment", e)));
    fields.extend(facts.release.clone().map(|r| ("Release", r)));
    fields.push(("Users", facts.user_count.to_string()));
    fields.push(("Events", facts.event_count.to_string()));
    fields.extend(facts.culprit.clone().map(|c| ("Culprit", c)));
    fields.extend(facts.url.clone().map(|u| ("URL", u)));
    fields
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::notify::facts::Person;
    use crate::store::NotificationKind;

    /// Facts full of hostile text: every destination must carry it as text.
    pub(crate) fn hostile() -> Facts {
        Facts {
            kind: NotificationKind::NewIssue,
            project: "shop".into(),
            environment: Some("production".into()),
            issue_id: 7,
            title: "PaymentError: <!channel> @everyone **bold** [x](https://evil.example) <b>&"
                .into(),
            culprit: Some("shop::checkout::pay".into()),
            user: Person {
                name: Some("Jane Doe".into()),
                email: Some("jane@example.com".into()),
                ..Person::default()
            },
            method: Some("POST".into()),
            url: Some("https://shop.example.com/checkout".into()),
            route: None,
            browser: None,
            release: Some("2.4.0".into()),
            server_name: None,
            time_utc: "2026-12-05 12:00:00 UTC".into(),
            frames: Vec::new(),
            user_count: 3,
            event_count: 12,
            event_id: None,
            link: "https://mayday.example.com/projects/1/issues/7".into(),
            level: "fatal".into(),
            said: None,
        }
    }

    #[test]
    fn every_chat_names_the_person_and_links_the_issue() {
        let facts = hostile();
        // (destination, marks that must not reach it raw: its formatting and mentions)
        let cases: [(Action, &[&str]); 7] = [
            (
                Action::Slack {
                    url: "https://hooks.slack.com/services/T/B/X".into(),
                },
                &["<!channel>", "<b>"],
            ),
            (
                Action::Discord {
                    url: "https://discord.com/api/webhooks/1/x".into(),
                },
                &["@everyone", "**bold**", "[x](https"],
            ),
            (
                Action::Teams {
                    url: "https://example.logic.azure.com/workflows/x".into(),
                },
                &["**bold**", "[x](https"],
            ),
            (
                Action::GoogleChat {
                    url: "https://chat.googleapis.com/v1/spaces/x/messages".into(),
                },
                &["<!channel>", "<b>"],
            ),
            (
                Action::Mattermost {
                    url: "https://chat.example.com/hooks/x".into(),
                },
                &["@everyone", "**bold**", "[x](https"],
            ),
            // Plain text: nothing is formatted.
            (
                Action::Ntfy {
                    url: "https://ntfy.sh/shop-alerts".into(),
                    token: None,
                },
                &[],
            ),
            (
                Action::Pagerduty {
                    routing_key: "R0UTING".into(),
                    url: None,
                },
                &[],
            ),
        ];
        for (action, forbidden) in cases {
            let post = render(&action, &facts).expect("a chat");
            let text = post.body.to_string();
            assert!(text.contains("jane@example.com"), "{action:?}: {text}");
            assert!(text.contains(&facts.link), "{action:?}: {text}");
            // A Google Chat card's header is plain text; its sections read HTML.
            let formatted = match action {
                Action::GoogleChat { .. } => {
                    post.body["cardsV2"][0]["card"]["sections"].to_string()
                }
                _ => text.clone(),
            };
            for mark in forbidden {
                assert!(
                    !formatted.contains(mark),
                    "{action:?} carries {mark:?}: {text}"
                );
            }
        }
    }
}
