//! Table-driven grouping tests: what must group together, and what must not.

use mayday_protocol::Event;
use serde_json::{Value, json};

use super::*;

fn event(value: Value) -> Event {
    serde_json::from_value(value).expect("valid event")
}

/// A Rust panic event in `function` (in-app), called from `caller`, at `line`.
fn panic_in(function: &str, caller: &str, line: u64, release: &str, message: &str) -> Event {
    event(json!({
        "release": release,
        "exception": {"values": [{
            "type": "panic",
            "value": message,
            "stacktrace": {"frames": [
                {"function": "tokio::runtime::task::harness::poll", "module": "tokio::runtime::task::harness", "in_app": false, "lineno": 100},
                {"function": caller, "module": "shop::checkout", "in_app": true, "lineno": line + 40},
                {"function": function, "module": "shop::checkout", "in_app": true, "lineno": line,
                 "instruction_addr": format!("0x{:x}", 0x5500_0000u64 + line)}
            ]}
        }]}
    }))
}

fn fingerprint(event: &Event) -> String {
    group(event).fingerprint
}

#[test]
fn same_bug_from_another_line_build_or_release_groups_together() {
    let base = panic_in(
        "shop::checkout::apply_coupon",
        "shop::checkout::handler",
        10,
        "shop@1.0.0",
        "coupon A not found",
    );
    let cases = [
        (
            "another line",
            panic_in(
                "shop::checkout::apply_coupon",
                "shop::checkout::handler",
                57,
                "shop@1.0.0",
                "coupon A not found",
            ),
        ),
        (
            "another release",
            panic_in(
                "shop::checkout::apply_coupon",
                "shop::checkout::handler",
                10,
                "shop@1.4.2",
                "coupon A not found",
            ),
        ),
        (
            "another build (symbol hash)",
            panic_in(
                "shop::checkout::apply_coupon::h0123456789abcdef",
                "shop::checkout::handler::hfedcba9876543210",
                10,
                "shop@1.0.0",
                "coupon A not found",
            ),
        ),
        (
            "another message value",
            panic_in(
                "shop::checkout::apply_coupon",
                "shop::checkout::handler",
                10,
                "shop@1.0.0",
                "coupon B not found",
            ),
        ),
        (
            "closure numbering",
            panic_in(
                "shop::checkout::apply_coupon",
                "shop::checkout::handler",
                10,
                "shop@1.0.0",
                "x",
            ),
        ),
    ];
    for (why, other) in cases {
        assert_eq!(fingerprint(&base), fingerprint(&other), "{why}");
    }
}

#[test]
fn different_bugs_do_not_group() {
    let base = panic_in(
        "shop::checkout::apply_coupon",
        "shop::checkout::handler",
        10,
        "shop@1.0.0",
        "m",
    );
    let cases = [
        (
            "another function",
            panic_in(
                "shop::checkout::charge_card",
                "shop::checkout::handler",
                10,
                "shop@1.0.0",
                "m",
            ),
        ),
        (
            "another caller",
            panic_in(
                "shop::checkout::apply_coupon",
                "shop::cart::handler",
                10,
                "shop@1.0.0",
                "m",
            ),
        ),
    ];
    for (why, other) in cases {
        assert_ne!(fingerprint(&base), fingerprint(&other), "{why}");
    }
    let mut other_type = base.clone();
    if let Some(e) = other_type.exception.as_mut() {
        e.values[0].ty = Some("PaymentError".into());
    }
    assert_ne!(fingerprint(&base), fingerprint(&other_type), "another type");
}

#[test]
fn normalizes_function_names() {
    let cases = [
        ("shop::f::h0123456789abcdef", "shop::f"),
        (
            "<shop::Cart<u8> as core::fmt::Debug>::fmt",
            "shop::Cart::fmt",
        ),
        ("shop::run::{closure#3}", "shop::run::{closure}"),
        ("shop::run::{{closure}}", "shop::run::{closure}"),
        ("alloc::vec::Vec<T,A>::push", "alloc::vec::Vec::push"),
        ("handler_0x7ffd1234", "handler_"),
        ("process_order", "process_order"),
    ];
    for (input, expected) in cases {
        assert_eq!(normalize_function(input), expected, "{input}");
    }
}

#[test]
fn normalizes_messages() {
    let cases = [
        ("user 42 not found", "user <int> not found"),
        (
            "order 9ec79c33-ec99-42ab-8353-589fcb2e04dc failed",
            "order <uuid> failed",
        ),
        (
            "bad pointer 0x7ffd5e8c and digest 3f9a2b7c1d",
            "bad pointer <hex> and digest <hex>",
        ),
        (
            "unknown key 'coupon' in \"cart\"",
            "unknown key <str> in <str>",
        ),
        ("took 1.5 seconds", "took <int> seconds"),
        ("deadbeef stays a word", "deadbeef stays a word"),
    ];
    for (input, expected) in cases {
        assert_eq!(normalize_text(input), expected, "{input}");
    }
}

#[test]
fn messages_group_by_normalized_text() {
    let a = event(json!({"message": "user 42 not found"}));
    let b = event(json!({"message": "user 7 not found"}));
    let c = event(json!({"message": "cart is empty"}));
    assert_eq!(fingerprint(&a), fingerprint(&b));
    assert_ne!(fingerprint(&a), fingerprint(&c));
    assert_eq!(group(&a).title, "user 42 not found");
}

#[test]
fn explicit_fingerprint_wins_and_default_extends() {
    let a = panic_in("shop::a", "shop::b", 1, "r", "m");
    let b = panic_in("shop::c", "shop::d", 1, "r", "m");
    let mut a_fixed = a.clone();
    a_fixed.fingerprint = Some(vec!["payments-down".into()]);
    let mut b_fixed = b.clone();
    b_fixed.fingerprint = Some(vec!["payments-down".into()]);
    assert_eq!(
        fingerprint(&a_fixed),
        fingerprint(&b_fixed),
        "explicit wins"
    );

    let mut a_ext = a.clone();
    a_ext.fingerprint = Some(vec!["{{ default }}".into(), "tenant-1".into()]);
    let mut a_ext2 = a.clone();
    a_ext2.fingerprint = Some(vec!["{{default}}".into(), "tenant-2".into()]);
    assert_ne!(fingerprint(&a_ext), fingerprint(&a), "extends the default");
    assert_ne!(
        fingerprint(&a_ext),
        fingerprint(&a_ext2),
        "by the extra part"
    );
    assert!(
        group(&a_ext)
            .components
            .iter()
            .any(|c| c.starts_with("frame:"))
    );
}

#[test]
fn without_in_app_frames_all_frames_count() {
    let vendor = |function: &str| {
        event(
            json!({"exception": {"values": [{"type": "Error", "value": "v", "stacktrace": {"frames": [
                {"function": "main", "in_app": false}, {"function": function, "in_app": false}
            ]}}]}}),
        )
    };
    assert_ne!(
        fingerprint(&vendor("lib::a")),
        fingerprint(&vendor("lib::b"))
    );
    assert_eq!(
        fingerprint(&vendor("lib::a")),
        fingerprint(&vendor("lib::a"))
    );
}

#[test]
fn without_frames_type_and_normalized_value() {
    let e = |ty: &str, value: &str| {
        event(json!({"exception": {"values": [{"type": ty, "value": value}]}}))
    };
    assert_eq!(
        fingerprint(&e("KeyError", "'user_42'")),
        fingerprint(&e("KeyError", "'user_7'"))
    );
    assert_ne!(
        fingerprint(&e("KeyError", "x")),
        fingerprint(&e("ValueError", "x"))
    );
    assert_ne!(
        fingerprint(&e("KeyError", "cart")),
        fingerprint(&e("KeyError", "order"))
    );
}

#[test]
fn title_and_culprit() {
    let e = panic_in(
        "shop::checkout::apply_coupon",
        "shop::checkout::handler",
        10,
        "r",
        "coupon X missing",
    );
    let grouping = group(&e);
    assert_eq!(grouping.title, "panic: coupon X missing");
    assert_eq!(
        grouping.culprit.as_deref(),
        Some("shop::checkout::apply_coupon")
    );
    let routed = event(
        json!({"message": "HTTP 500 on GET /orders/{id}", "transaction": "GET /orders/{id}"}),
    );
    assert_eq!(group(&routed).culprit.as_deref(), Some("GET /orders/{id}"));
    let long = event(json!({"message": "x".repeat(500)}));
    assert!(group(&long).title.chars().count() <= MAX_TITLE + 1);
}

#[derive(Debug)]
struct Numbered(u32);
impl std::fmt::Display for Numbered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "failure number {}", self.0)
    }
}
impl std::error::Error for Numbered {}

macro_rules! error_types {
    ($($name:ident),*) => {
        $(
            #[derive(Debug)]
            struct $name;
            impl std::fmt::Display for $name {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str(stringify!($name))
                }
            }
            impl std::error::Error for $name {}
        )*
    };
}
error_types!(E0, E1, E2, E3, E4, E5, E6, E7, E8, E9);

#[test]
fn ten_distinct_errors_from_the_official_rust_sdk_give_ten_groups() {
    let envelopes = sentry::test::with_captured_envelopes(|| {
        sentry::capture_error(&E0);
        sentry::capture_error(&E1);
        sentry::capture_error(&E2);
        sentry::capture_error(&E3);
        sentry::capture_error(&E4);
        sentry::capture_error(&E5);
        sentry::capture_error(&E6);
        sentry::capture_error(&E7);
        sentry::capture_error(&E8);
        sentry::capture_error(&E9);
        // The same error twice more, with other values: no new groups.
        sentry::capture_error(&Numbered(1));
        sentry::capture_error(&Numbered(2));
    });
    let mut fingerprints = std::collections::BTreeSet::new();
    for envelope in envelopes {
        let mut bytes = Vec::new();
        envelope.to_writer(&mut bytes).expect("serializes");
        let parsed = mayday_protocol::Envelope::parse(&bytes).expect("parses");
        for event in parsed.events().expect("events") {
            fingerprints.insert(fingerprint(&event));
        }
    }
    assert_eq!(
        fingerprints.len(),
        11,
        "ten types, plus one for both Numbered errors"
    );
}
