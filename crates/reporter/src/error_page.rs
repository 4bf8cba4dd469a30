//! The opt-in error page ([`ErrorPage`]): when a request that accepts HTML fails, the
//! 500 answer is a small page with the event id and a form ("What were you doing?")
//! that posts to a route the layer (or the actix-web middleware) answers itself, which
//! forwards the words to the collector as feedback on that event. No script: a plain
//! HTML form, every value from the request or the user escaped.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};
use mayday_protocol::{EventId, User};

use crate::client::{Feedback, Reporter};

/// The largest feedback form read.
pub(crate) const MAX_FORM: usize = 16 * 1024;

/// The error page and its feedback route; `reporter.layer().error_page(ErrorPage::default())`.
///
/// ```
/// use mayday_reporter::ErrorPage;
///
/// let page = ErrorPage::default()
///     .title("Sorry, the shop broke")
///     .path("/support/feedback");
/// # let _ = page;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorPage {
    path: String,
    title: String,
    prompt: String,
    thanks: String,
}

impl Default for ErrorPage {
    fn default() -> Self {
        ErrorPage {
            path: "/_mayday/feedback".into(),
            title: "Something went wrong".into(),
            prompt: "What were you doing? We'll write back.".into(),
            thanks: "Thank you: your words reached the team.".into(),
        }
    }
}

/// Who is signed in, to fill in the form.
#[derive(Debug, Clone, Default)]
pub(crate) struct Prefill {
    name: Option<String>,
    email: Option<String>,
}

impl Prefill {
    pub(crate) fn of(user: Option<&User>) -> Prefill {
        Prefill {
            name: user.and_then(|u| u.name.clone().or_else(|| u.username.clone())),
            email: user.and_then(|u| u.email.clone()),
        }
    }
}

impl ErrorPage {
    /// The route the form posts to (default `/_mayday/feedback`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// The page's heading (default "Something went wrong").
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// The form's question (default "What were you doing? We'll write back.").
    pub fn prompt(mut self, prompt: impl Into<String>) -> Self {
        self.prompt = prompt.into();
        self
    }

    /// What the page says once the words are sent.
    pub fn thanks(mut self, thanks: impl Into<String>) -> Self {
        self.thanks = thanks.into();
        self
    }

    /// Whether a request with `headers` reads HTML (a browser's page load).
    pub(crate) fn wanted_by(headers: &HeaderMap) -> bool {
        headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
    }

    /// Whether a request is the form's post.
    pub(crate) fn is_feedback_post(&self, method: &Method, path: &str) -> bool {
        method == Method::POST && path == self.path
    }

    /// The 500 page for event `event_id`.
    pub(crate) fn page(&self, event_id: Option<EventId>, prefill: &Prefill) -> Response<Bytes> {
        let id = event_id.map(|id| id.to_string()).unwrap_or_default();
        let form = match event_id {
            Some(_) => format!(
                r#"<form method="post" action="{action}">
<input type="hidden" name="event_id" value="{id}">
<p><label for="mayday-message">{prompt}</label><br>
<textarea id="mayday-message" name="message" rows="5" required maxlength="5000"></textarea></p>
<p><label for="mayday-name">Name</label><br><input id="mayday-name" name="name" autocomplete="name" value="{name}"></p>
<p><label for="mayday-email">Email</label><br><input id="mayday-email" name="email" type="email" autocomplete="email" value="{email}"></p>
<p><button type="submit">Send</button></p>
</form>"#,
                action = escape(&self.path),
                prompt = escape(&self.prompt),
                name = escape(prefill.name.as_deref().unwrap_or_default()),
                email = escape(prefill.email.as_deref().unwrap_or_default()),
            ),
            None => String::new(),
        };
        let reference = match event_id {
            Some(_) => format!("<p>Reference: <code>{id}</code></p>"),
            None => String::new(),
        };
        html(
            StatusCode::INTERNAL_SERVER_ERROR,
            &self.title,
            &format!("{reference}\n{form}"),
        )
    }

    /// Reads the posted form, forwards it, and answers the thank-you page (or a 400
    /// page saying what is missing).
    pub(crate) fn receive(&self, reporter: &Reporter, form: &[u8]) -> Response<Bytes> {
        let mut feedback = Feedback::default();
        for (key, value) in url::form_urlencoded::parse(form) {
            let value = value.trim();
            let text = (!value.is_empty()).then(|| value.chars().take(5_000).collect::<String>());
            match &*key {
                "event_id" => feedback.event_id = value.parse().ok(),
                "name" => feedback.name = text,
                "email" => feedback.email = text,
                "message" => feedback.message = text.unwrap_or_default(),
                _ => {}
            }
        }
        if feedback.message.is_empty() {
            return html(
                StatusCode::BAD_REQUEST,
                &self.title,
                "<p>The message is empty: go back and write what you were doing.</p>",
            );
        }
        reporter.capture_feedback(feedback);
        html(
            StatusCode::OK,
            &self.title,
            &format!("<p role=\"status\">{}</p>", escape(&self.thanks)),
        )
    }
}

impl ErrorPage {
    /// The answer when the form's body cannot be read here (a body type other than
    /// axum's).
    pub(crate) fn unreadable(&self) -> Response<Bytes> {
        html(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &self.title,
            "<p>This server cannot read the form.</p>",
        )
    }
}

/// A small, self-contained HTML page.
fn html(status: StatusCode, title: &str, body: &str) -> Response<Bytes> {
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}}\
textarea,input{{width:100%;box-sizing:border-box;font:inherit;padding:.4rem}}\
button{{font:inherit;padding:.5rem 1rem}}</style></head>\
<body><main><h1>{title}</h1>\n{body}\n</main></body></html>\n",
        title = escape(title),
    );
    let mut response = Response::new(Bytes::from(page));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `text` for HTML text and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_escapes_and_the_form_needs_a_message() {
        let page = ErrorPage::default();
        let user = User {
            name: Some("<b>Jane</b>".into()),
            email: Some("jane@example.com\"><script>".into()),
            ..User::default()
        };
        let id = EventId::new();
        let response = page.page(Some(id), &Prefill::of(Some(&user)));
        assert_eq!(response.status(), 500);
        let text = String::from_utf8_lossy(response.body());
        assert!(text.contains(&id.to_string()));
        assert!(text.contains("&lt;b&gt;Jane&lt;/b&gt;"));
        assert!(!text.contains("<script>"));
        assert!(text.contains(r#"action="/_mayday/feedback""#));
        let empty = page.receive(&Reporter::disabled(), b"event_id=x&message=+");
        assert_eq!(empty.status(), 400);
        let sent = page.receive(&Reporter::disabled(), b"message=it+broke");
        assert_eq!(sent.status(), 200);
        let mut headers = HeaderMap::new();
        assert!(!ErrorPage::wanted_by(&headers));
        headers.insert(header::ACCEPT, HeaderValue::from_static("text/html,*/*"));
        assert!(ErrorPage::wanted_by(&headers));
    }
}
