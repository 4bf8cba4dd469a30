//! Request bodies, when the app opts in ([`BodyCapture`]): a JSON or form body is copied
//! as the handler reads it, up to a limit, and sent with a failure's event as the
//! request's `data`, its fields scrubbed by name like headers. Multipart, binary and
//! other bodies are never kept. The handler receives the body unchanged: the copy is
//! taken from the chunks on their way to it, and nothing is read that it does not read.

use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::scrub::Scrubber;

/// Which request bodies a failure's event carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyCapture {
    /// None (the default): bodies often hold what people typed.
    #[default]
    Off,
    /// JSON (`application/json`, `*+json`) and form (`application/x-www-form-urlencoded`)
    /// bodies, their first `max_bytes` bytes as the handler read them. A body cut at
    /// the limit that no longer parses is left out (it could not be scrubbed).
    Json {
        /// The most bytes kept per request.
        max_bytes: usize,
    },
}

/// How a captured body is read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    Json,
    Form,
}

impl BodyCapture {
    /// What to keep of a body with this `Content-Type`, if anything.
    pub(crate) fn sink_for(self, content_type: Option<&str>) -> Option<Arc<CapturedBody>> {
        let BodyCapture::Json { max_bytes } = self else {
            return None;
        };
        let essence = content_type?
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let kind = if essence == "application/json" || essence.ends_with("+json") {
            BodyKind::Json
        } else if essence == "application/x-www-form-urlencoded" {
            BodyKind::Form
        } else {
            return None;
        };
        Some(Arc::new(CapturedBody {
            kind,
            max_bytes,
            kept: Mutex::new(Kept::default()),
        }))
    }
}

#[derive(Debug, Default)]
struct Kept {
    bytes: Vec<u8>,
    cut: bool,
}

/// The body as far as the handler read it (up to the limit).
#[derive(Debug)]
pub(crate) struct CapturedBody {
    kind: BodyKind,
    max_bytes: usize,
    kept: Mutex<Kept>,
}

impl CapturedBody {
    /// Keeps what fits of `chunk`.
    pub(crate) fn push(&self, chunk: &[u8]) {
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        let room = self.max_bytes.saturating_sub(kept.bytes.len());
        if chunk.len() > room {
            kept.cut = true;
        }
        let take = chunk.len().min(room);
        kept.bytes.extend_from_slice(&chunk[..take]);
    }

    /// The body for the event, its sensitive fields filtered; `None` when nothing was
    /// read or what was kept does not parse.
    pub(crate) fn to_data(&self, scrubber: &Scrubber) -> Option<Value> {
        let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        if kept.bytes.is_empty() {
            return None;
        }
        let mut value = match self.kind {
            BodyKind::Json => serde_json::from_slice::<Value>(&kept.bytes).ok()?,
            // A cut form can end in the middle of a value: that field is left out.
            BodyKind::Form => {
                let text = std::str::from_utf8(&kept.bytes).ok()?;
                let text = match (kept.cut, text.rfind('&')) {
                    (true, Some(at)) => &text[..at],
                    (true, None) => return None,
                    (false, _) => text,
                };
                let mut fields = Map::new();
                for (name, value) in url::form_urlencoded::parse(text.as_bytes()) {
                    fields.insert(name.into_owned(), Value::String(value.into_owned()));
                }
                Value::Object(fields)
            }
        };
        scrubber.scrub_value(&mut value);
        Some(value)
    }
}

pin_project_lite::pin_project! {
    /// A body that copies its data frames into a [`CapturedBody`] as they are read.
    pub(crate) struct Tee<B> {
        #[pin]
        inner: B,
        sink: Arc<CapturedBody>,
    }
}

impl<B> Tee<B> {
    pub(crate) fn new(inner: B, sink: Arc<CapturedBody>) -> Self {
        Tee { inner, sink }
    }
}

impl<B> http_body::Body for Tee<B>
where
    B: http_body::Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                this.sink.push(data);
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn captured(capture: BodyCapture, content_type: &str, chunks: &[&[u8]]) -> Option<Value> {
        let sink = capture.sink_for(Some(content_type))?;
        for chunk in chunks {
            sink.push(chunk);
        }
        sink.to_data(&Scrubber::default())
    }

    #[test]
    fn json_and_forms_scrubbed_by_field_name() {
        let on = BodyCapture::Json { max_bytes: 1024 };
        let json = captured(
            on,
            "application/json; charset=utf-8",
            &[
                br#"{"coupon":"BLACKFRIDAY","card":{"number":"4111"},"account":{"name":"j","#,
                br#""password":"x"},"items":[{"token":"t"}]}"#,
            ],
        )
        .unwrap();
        assert_eq!(json["coupon"], "BLACKFRIDAY");
        assert_eq!(json["card"], "[Filtered]");
        assert_eq!(json["account"]["password"], "[Filtered]");
        assert_eq!(json["account"]["name"], "j");
        assert_eq!(json["items"][0]["token"], "[Filtered]");
        let form = captured(
            on,
            "application/x-www-form-urlencoded",
            &[b"email=jane%40example.com&password=hunter2&qty=2"],
        )
        .unwrap();
        assert_eq!(form["email"], "jane@example.com");
        assert_eq!(form["password"], "[Filtered]");
        assert_eq!(form["qty"], "2");
    }

    #[test]
    fn only_json_and_forms_and_never_when_off_or_cut_unparsable() {
        let on = BodyCapture::Json { max_bytes: 10 };
        assert!(
            on.sink_for(Some("multipart/form-data; boundary=x"))
                .is_none()
        );
        assert!(on.sink_for(Some("application/octet-stream")).is_none());
        assert!(on.sink_for(None).is_none());
        assert!(
            BodyCapture::Off
                .sink_for(Some("application/json"))
                .is_none()
        );
        // Cut at 10 bytes: the JSON no longer parses, so nothing is sent.
        assert_eq!(
            captured(on, "application/json", &[br#"{"a":"0123456789"}"#]),
            None
        );
        // A cut form keeps its whole fields only.
        let form = captured(
            on,
            "application/x-www-form-urlencoded",
            &[b"a=1&b=2&c=3456789"],
        )
        .unwrap();
        assert_eq!(form, serde_json::json!({"a": "1", "b": "2"}));
        assert!(
            captured(
                BodyCapture::Json { max_bytes: 100 },
                "application/problem+json",
                &[br#"{"ok":true}"#]
            )
            .is_some()
        );
    }
}
