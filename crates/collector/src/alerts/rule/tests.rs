//! How rules read, refuse mistakes and decide.
use super::decide::{Compiled, First, Seen};
use super::*;

fn rule(json: &str) -> Compiled {
    let spec: RuleSpec = serde_json::from_str(json).expect("rule");
    spec.check().expect("valid");
    let (conditions, filters, actions) = spec.columns();
    Compiled::new(&alert_rule::Model {
        id: 1,
        project_id: 1,
        name: spec.name.clone(),
        match_mode: spec.match_mode.as_str().into(),
        conditions,
        filters,
        actions,
        throttle_minutes: spec.throttle_minutes.map(i64::from),
        created_at: 0,
        updated_at: 0,
    })
    .expect("compiles")
}

fn seen() -> Seen<'static> {
    Seen {
        new_issue: false,
        regression: false,
        reappeared: false,
        level: EventLevel::Error,
        environment: Some("production"),
        release: Some("2.0.0"),
        tags: &[],
        paths: &[],
        url: Some("https://shop.example.com/checkout/pay"),
        latest_release: Some("2.0.0"),
    }
}

const ACTIONS: &str = r#""actions": [{"kind": "email", "to": "recipients"}]"#;

#[test]
fn frequency_fires_above_the_value_not_at_it() {
    let rule = rule(&format!(
        r#"{{"name": "busy", "conditions": [{{"kind": "event_frequency", "value": 5, "interval_minutes": 1}}], {ACTIONS}}}"#
    ));
    assert_eq!(
        rule.first(&seen(), false),
        First::Needs(vec![Ask::Events(1)])
    );
    assert_eq!(rule.then(&seen(), |_| 5), None);
    assert_eq!(rule.then(&seen(), |_| 6), Some(NotificationKind::Spike));
    assert_eq!(rule.first(&seen(), true), First::No, "throttled");
}

#[test]
fn all_needs_every_condition_for_the_same_event() {
    let rule = rule(&format!(
        r#"{{"name": "wide", "match": "all", "conditions": [
            {{"kind": "event_frequency", "value": 10, "interval_minutes": 60}},
            {{"kind": "user_frequency", "value": 2, "interval_minutes": 60}}], {ACTIONS}}}"#
    ));
    let count = |events: u64, users: u64| {
        move |ask: Ask| match ask {
            Ask::Events(_) => events,
            Ask::Users(_) => users,
        }
    };
    assert_eq!(rule.then(&seen(), count(11, 2)), None);
    assert_eq!(rule.then(&seen(), count(10, 3)), None);
    assert_eq!(
        rule.then(&seen(), count(11, 3)),
        Some(NotificationKind::Spike)
    );
    let any = self::rule(&format!(
        r#"{{"name": "users", "conditions": [{{"kind": "user_frequency", "value": 2, "interval_minutes": 60}}], {ACTIONS}}}"#
    ));
    assert_eq!(
        any.then(&seen(), count(0, 3)),
        Some(NotificationKind::UserFrequency)
    );
}

#[test]
fn state_conditions_fire_through_the_throttle() {
    let rule = rule(&format!(
        r#"{{"name": "new", "conditions": [{{"kind": "first_seen"}}, {{"kind": "regression"}}, {{"kind": "reappeared"}}], {ACTIONS}}}"#
    ));
    assert_eq!(rule.first(&seen(), false), First::No);
    for (new_issue, regression, reappeared, kind) in [
        (true, false, false, NotificationKind::NewIssue),
        (false, true, false, NotificationKind::Regression),
        (false, false, true, NotificationKind::Reappeared),
    ] {
        let event = Seen {
            new_issue,
            regression,
            reappeared,
            ..seen()
        };
        assert_eq!(rule.first(&event, true), First::Fires(kind));
    }
}

#[test]
fn filters_all_hold_or_nothing_fires() {
    let tags = [("tenant".to_owned(), "acme".to_owned())];
    let paths = ["src/billing/invoice.rs".to_owned()];
    let event = Seen {
        new_issue: true,
        tags: &tags,
        paths: &paths,
        ..seen()
    };
    for (filter, holds) in [
        (r#"{"kind": "environment", "value": "production"}"#, true),
        (r#"{"kind": "environment", "value": "staging"}"#, false),
        (r#"{"kind": "level_at_least", "value": "error"}"#, true),
        (r#"{"kind": "level_at_least", "value": "fatal"}"#, false),
        (r#"{"kind": "release", "value": "latest"}"#, true),
        (r#"{"kind": "release", "value": "1.9.0"}"#, false),
        (r#"{"kind": "tag", "key": "tenant", "value": "acme"}"#, true),
        (
            r#"{"kind": "tag", "key": "tenant", "value": "other"}"#,
            false,
        ),
        (r#"{"kind": "path", "value": "src/billing/*"}"#, true),
        (r#"{"kind": "path", "value": "src/shop/*"}"#, false),
        (r#"{"kind": "url", "value": "*/checkout*"}"#, true),
        (r#"{"kind": "url", "value": "*/cart*"}"#, false),
    ] {
        let rule = rule(&format!(
            r#"{{"name": "f", "conditions": [{{"kind": "first_seen"}}], "filters": [{filter}], {ACTIONS}}}"#
        ));
        let expected = if holds {
            First::Fires(NotificationKind::NewIssue)
        } else {
            First::No
        };
        assert_eq!(rule.first(&event, false), expected, "{filter}");
    }
}

#[test]
fn the_store_writes_the_default_rule_as_written_here() {
    let (conditions, filters, actions) = RuleSpec::default_rule().columns();
    assert_eq!(conditions, alert_rule::DEFAULT_CONDITIONS);
    assert_eq!(filters, "[]");
    assert_eq!(actions, alert_rule::DEFAULT_ACTIONS);
}

#[test]
fn mistakes_are_named() {
    let refused = |json: &str| -> String {
        match serde_json::from_str::<RuleSpec>(json) {
            Err(e) => e.to_string(),
            Ok(spec) => spec.check().expect_err("refused").to_string(),
        }
    };
    assert!(refused(r#"{"name": "x", "conditions": [{"kind": "sometimes"}], "actions": [{"kind": "webhook"}]}"#).contains("unknown variant `sometimes`"));
    assert!(
        refused(r#"{"name": "x", "conditions": [], "actions": [{"kind": "webhook"}]}"#)
            .contains("conditions: a rule has 1 to 10")
    );
    assert!(refused(r#"{"name": "x", "conditions": [{"kind": "first_seen"}], "actions": [{"kind": "slack", "url": "hooks"}]}"#).contains("Slack needs an http(s) URL"));
    assert!(refused(r#"{"name": "x", "conditions": [{"kind": "event_frequency", "value": 1, "interval_minutes": 0}], "actions": [{"kind": "webhook"}]}"#).contains("interval_minutes is 0"));
    assert!(refused(r#"{"name": "x", "conditions": [{"kind": "first_seen"}], "actions": [{"kind": "email", "to": ["not an address"]}]}"#).contains("not an address"));
}
