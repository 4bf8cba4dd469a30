//! Envelopes produced by the official `sentry` crate read back with this crate.

use std::error::Error as StdError;
use std::fmt;

use mayday_protocol::{Envelope, Event, ItemType, Level};

/// Runs `f` under a real Sentry client whose transport hands us the serialized envelopes.
fn envelopes_from_sdk(f: impl FnOnce()) -> Vec<Vec<u8>> {
    let mut options = sentry::ClientOptions::default();
    options.release = Some("shop@1.4.2".into());
    options.environment = Some("production".into());
    // The same default integrations (panic hook, OS and runtime contexts) as `sentry::init`.
    let options = sentry::apply_defaults(options);
    sentry::test::with_captured_envelopes_options(f, options)
        .into_iter()
        .map(|envelope| {
            let mut bytes = Vec::new();
            envelope
                .to_writer(&mut bytes)
                .expect("sentry writes envelopes");
            bytes
        })
        .collect()
}

fn single_event(bytes: &[u8]) -> (Envelope, Event) {
    let envelope = Envelope::parse(bytes).expect("our reader accepts the SDK's envelope");
    let mut events = envelope.events().expect("event payload parses");
    assert_eq!(events.len(), 1, "one event per envelope");
    let event = events.remove(0);
    (envelope, event)
}

#[derive(Debug)]
struct CardDeclined;
impl fmt::Display for CardDeclined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("card declined")
    }
}
impl StdError for CardDeclined {}

#[derive(Debug)]
struct PaymentError(CardDeclined);
impl fmt::Display for PaymentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("payment failed")
    }
}
impl StdError for PaymentError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn message_event_from_the_sdk() {
    let envelopes = envelopes_from_sdk(|| {
        sentry::capture_message("checkout took 9s", sentry::Level::Warning);
    });
    assert_eq!(envelopes.len(), 1);
    let (envelope, event) = single_event(&envelopes[0]);
    assert_eq!(event.message_text(), Some("checkout took 9s"));
    assert_eq!(event.level, Some(Level::Warning));
    assert_eq!(event.release.as_deref(), Some("shop@1.4.2"));
    assert_eq!(event.environment.as_deref(), Some("production"));
    assert_eq!(
        event.sdk.as_ref().and_then(|s| s.name.as_deref()),
        Some("sentry.rust")
    );
    assert_eq!(envelope.header.event_id, event.event_id);
    assert!(event.timestamp.is_some());
}

#[test]
fn error_chain_from_the_sdk() {
    let envelopes = envelopes_from_sdk(|| {
        sentry::capture_error(&PaymentError(CardDeclined));
    });
    let (_, event) = single_event(&envelopes[0]);
    let types: Vec<_> = event
        .exceptions()
        .iter()
        .map(|e| e.ty.as_deref().unwrap_or_default())
        .collect();
    // Sentry orders the chain innermost cause first.
    assert_eq!(types, ["CardDeclined", "PaymentError"]);
    assert_eq!(
        event.exceptions()[1].value.as_deref(),
        Some("payment failed")
    );
}

#[test]
fn panic_event_from_the_sdk() {
    let envelopes = envelopes_from_sdk(|| {
        let result = std::panic::catch_unwind(|| panic!("index out of range at step 3"));
        assert!(result.is_err());
    });
    let (_, event) = single_event(&envelopes[0]);
    assert_eq!(event.level, Some(Level::Fatal));
    let exception = event.exceptions().last().expect("one exception");
    assert_eq!(
        exception.value.as_deref(),
        Some("index out of range at step 3")
    );
    let mechanism = exception.mechanism.as_ref().expect("mechanism");
    assert_eq!(mechanism.ty.as_deref(), Some("panic"));
    assert_eq!(mechanism.handled, Some(false));
    let frames = &exception.stacktrace.as_ref().expect("stacktrace").frames;
    assert!(!frames.is_empty());
    assert!(
        frames.iter().any(|f| f
            .function
            .as_deref()
            .is_some_and(|n| n.contains("panic_event_from_the_sdk"))),
        "the test function is among the frames"
    );
}

#[test]
fn rich_event_round_trips_without_loss() {
    let envelopes = envelopes_from_sdk(|| {
        sentry::configure_scope(|scope| {
            scope.set_user(Some(sentry::User {
                id: Some("42".into()),
                email: Some("jane@example.com".into()),
                username: Some("jane".into()),
                ..Default::default()
            }));
            scope.set_tag("region", "eu");
            scope.set_extra("cart_items", 3.into());
            scope.set_fingerprint(Some(&["{{ default }}", "checkout"]));
            scope.set_context(
                "order",
                sentry::protocol::Context::Other(
                    [("id".to_owned(), serde_json::json!("o-1"))]
                        .into_iter()
                        .collect(),
                ),
            );
        });
        sentry::add_breadcrumb(sentry::Breadcrumb {
            category: Some("auth".into()),
            message: Some("signed in".into()),
            ..Default::default()
        });
        sentry::capture_error(&CardDeclined);
    });
    let (_, event) = single_event(&envelopes[0]);
    let user = event.user.as_ref().expect("user");
    assert_eq!(user.id.as_deref(), Some("42"));
    assert_eq!(user.email.as_deref(), Some("jane@example.com"));
    assert_eq!(
        event
            .tags
            .as_ref()
            .and_then(|t| t.get("region"))
            .map(String::as_str),
        Some("eu")
    );
    assert_eq!(
        event.fingerprint.as_deref(),
        Some(&["{{ default }}".to_owned(), "checkout".to_owned()][..])
    );
    let crumbs = &event.breadcrumbs.as_ref().expect("breadcrumbs").values;
    assert_eq!(crumbs[0].message.as_deref(), Some("signed in"));
    let contexts = event.contexts.as_ref().expect("contexts");
    assert!(contexts.other.contains_key("order"), "unknown context kept");
    let os = contexts.os.as_ref().expect("os context");
    assert_eq!(os.ty.as_deref(), Some("os"));
    assert!(os.name.is_some());
    // The Rust SDK files the compiler under the key `rust`, with type `runtime`.
    assert_eq!(contexts.other["rust"]["name"], "rustc");

    // Writing and reading again gives the same event, unknown fields included.
    let json = serde_json::to_vec(&event).unwrap();
    let again = Event::from_json(&json).unwrap();
    assert_eq!(again, event);
}

#[test]
fn attachments_are_kept_as_items_and_skipped_as_events() {
    let envelopes = envelopes_from_sdk(|| {
        sentry::configure_scope(|scope| {
            scope.add_attachment(sentry::protocol::Attachment {
                buffer: b"line one\nline two\n".to_vec(),
                filename: "log.txt".into(),
                ..Default::default()
            });
        });
        sentry::capture_message("with attachment", sentry::Level::Error);
    });
    let envelope = Envelope::parse(&envelopes[0]).unwrap();
    let attachment = envelope
        .items
        .iter()
        .find(|i| i.ty == ItemType::Attachment)
        .expect("attachment item");
    // The payload holds a newline; only `length` tells where it ends.
    assert_eq!(attachment.payload, b"line one\nline two\n");
    assert_eq!(envelope.events().unwrap().len(), 1);
}
