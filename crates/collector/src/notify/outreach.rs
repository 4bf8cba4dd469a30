//! A message to a user an issue affected, as email: the team's words (placeholders
//! filled in when it was queued), from the project's sender with its reply-to, and an
//! unsubscribe link that needs no sign-in (also as `List-Unsubscribe`, one click).

use maud::{DOCTYPE, html};

use super::Message;
use crate::encode;
use crate::store::entities::{outreach_message, project};

/// One message to one user.
#[derive(Debug, Clone)]
pub struct Letter {
    subject: String,
    body: String,
    project: String,
    from: Option<String>,
    reply_to: Option<String>,
    unsubscribe: String,
}

impl Letter {
    /// The email of `message` from `project`; `base_url` makes the unsubscribe link.
    pub fn new(
        project: &project::Model,
        message: &outreach_message::Model,
        base_url: &str,
    ) -> Letter {
        Letter {
            subject: message.subject.clone(),
            body: message.body.clone(),
            project: crate::outreach::sender_name(project).to_owned(),
            from: project.outreach_from.clone(),
            reply_to: project.outreach_reply_to.clone(),
            unsubscribe: format!("{base_url}/unsubscribe/{}", message.unsubscribe_token),
        }
    }

    fn footer(&self) -> String {
        format!(
            "You get this because you were using {} when this happened. \
             To get no more messages like it: {}",
            self.project, self.unsubscribe
        )
    }
}

impl Message for Letter {
    fn subject(&self) -> String {
        encode::header_line(&self.subject)
    }

    fn plain_text(&self) -> String {
        format!("{}\n\n-- \n{}\n", self.body.trim_end(), self.footer())
    }

    fn html_body(&self) -> String {
        html! {
            (DOCTYPE)
            html {
                body style="font-family: sans-serif; color: #1f2328;" {
                    @for paragraph in self.body.split("\n\n") {
                        p {
                            @for (i, line) in paragraph.lines().enumerate() {
                                @if i > 0 { br; }
                                (line)
                            }
                        }
                    }
                    hr;
                    p style="color: #57606a; font-size: small;" {
                        "You get this because you were using " (self.project) " when this happened. "
                        a href=(self.unsubscribe) { "Get no more messages like it" } "."
                    }
                }
            }
        }
        .into_string()
    }

    fn payload(&self) -> serde_json::Value {
        // Messages to users go by email only.
        serde_json::json!({"subject": self.subject(), "text": self.body})
    }

    fn from(&self) -> Option<&str> {
        self.from.as_deref()
    }

    fn sender_name(&self) -> Option<&str> {
        Some(&self.project)
    }

    fn reply_to(&self) -> Option<&str> {
        self.reply_to.as_deref()
    }

    fn unsubscribe(&self) -> Option<&str> {
        Some(&self.unsubscribe)
    }
}
