//! The envelope reader and writer on hand-written input.

use mayday_protocol::{Dsn, Envelope, EnvelopeError, Event, ItemType, Level};

#[test]
fn items_without_length_and_unknown_types() {
    let body = concat!(
        "{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\",\"dsn\":\"http://k@h/1\"}\n",
        "{\"type\":\"future_thing\"}\n",
        "{\"whatever\":1}\n",
        "{\"type\":\"event\"}\n",
        "{\"message\":\"hello\",\"level\":\"warn\"}\n",
        "{\"type\":\"client_report\",\"length\":2}\n",
        "{}",
    );
    let envelope = Envelope::parse(body.as_bytes()).unwrap();
    assert_eq!(envelope.header.dsn.as_deref(), Some("http://k@h/1"));
    let types: Vec<_> = envelope.items.iter().map(|i| i.ty.clone()).collect();
    assert_eq!(
        types,
        [
            ItemType::Unknown("future_thing".into()),
            ItemType::Event,
            ItemType::ClientReport
        ]
    );
    let events = envelope.events().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].message_text(), Some("hello"));
    assert_eq!(events[0].level, Some(Level::Warning));
}

#[test]
fn writer_output_reads_back() {
    let dsn: Dsn = "http://public@127.0.0.1:8300/3".parse().unwrap();
    let mut event = Event::new();
    event.message = Some("multi\nline".into());
    let envelope = Envelope::from_event(&event, Some(&dsn)).unwrap();
    let back = Envelope::parse(&envelope.to_bytes()).unwrap();
    assert_eq!(
        back.header.dsn.as_deref(),
        Some("http://public@127.0.0.1:8300/3")
    );
    assert_eq!(back.events().unwrap(), vec![event]);
}

#[test]
fn legacy_shapes_are_accepted() {
    let json = br#"{
        "event_id": "9ec79c33-ec99-42ab-8353-589fcb2e04dc",
        "timestamp": "2026-11-24T10:00:00.5Z",
        "exception": [{"type": "ValueError", "value": "bad"}],
        "request": {"headers": [["Host", "a"], ["X-N", 1]], "query_string": {"a": "1"}},
        "user": {"id": 7},
        "tags": [["k", "v"], ["n", 2]],
        "breadcrumbs": [{"message": "m", "timestamp": 1700000000}],
        "logentry": {"message": "user %s", "params": ["x"]},
        "frames_omitted": [1, 2]
    }"#;
    let event = Event::from_json(json).unwrap();
    assert_eq!(event.exceptions()[0].ty.as_deref(), Some("ValueError"));
    let request = event.request.as_ref().unwrap();
    assert_eq!(request.headers.get("x-n"), Some("1"));
    assert_eq!(request.query_string.as_deref(), Some("a=1"));
    assert_eq!(event.user.as_ref().unwrap().id.as_deref(), Some("7"));
    assert_eq!(event.tags.as_ref().unwrap()["n"], "2");
    assert_eq!(event.message_text(), Some("user %s"));
    let ts = event.timestamp.unwrap().to_datetime().unwrap();
    assert_eq!(ts.to_rfc3339(), "2026-11-24T10:00:00.500+00:00");
    assert!(event.other.contains_key("frames_omitted"));
    let id = event.event_id.unwrap().to_string();
    assert_eq!(id, "9ec79c33ec9942ab8353589fcb2e04dc");
}

#[test]
fn errors_name_the_problem() {
    let cases: [(&[u8], &str); 4] = [
        (b"", "empty"),
        (b"not json\n", "envelope header"),
        (
            b"{}\n{\"type\":\"event\",\"length\":100}\n{}",
            "length 100 exceeds",
        ),
        (
            b"{}\n{\"type\":\"event\"}\n{\"level\":5}",
            "item 0: event payload",
        ),
    ];
    for (body, expected) in cases {
        let result = Envelope::parse(body).and_then(|e| e.events().map(|_| ()));
        let err: EnvelopeError = result.unwrap_err();
        assert!(err.to_string().contains(expected), "{err}");
    }
}
