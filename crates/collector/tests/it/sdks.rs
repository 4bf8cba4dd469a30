//! Real clients: the official Python SDK (`pip install sentry-sdk`), envelopes written by
//! the official Rust SDK, and mayday-reporter inside `examples/axum-app`.

use crate::common;

use std::time::Duration;

use crate::common::TestServer;

async fn issues(server: &TestServer) -> Vec<mayday_collector::store::entities::issue::Model> {
    server.issues_up_to(100).await
}

/// Ten distinct exceptions, each raised twice from different lines with different
/// values, and one message.
const PYTHON: &str = r#"
import sys, sentry_sdk
sentry_sdk.init(dsn=sys.argv[1], release="shop@1.0.0", environment="production")
sentry_sdk.set_user({"id": "7", "email": "jane@example.com", "username": "jane"})

class CartError(Exception): pass
class CouponError(Exception): pass
class PaymentError(Exception): pass
class StockError(Exception): pass
class ShippingError(Exception): pass

def checkout(kind, n):
    if kind == 0: raise CartError("cart %d is empty" % n)
    if kind == 1: raise CouponError("coupon %d expired" % n)
    if kind == 2: raise PaymentError("card %d declined" % n)
    if kind == 3: raise StockError("item %d out of stock" % n)
    if kind == 4: raise ShippingError("no route to %d" % n)
    if kind == 5: {}["missing-%d" % n]
    if kind == 6: int("x%d" % n)
    if kind == 7: [][n]
    if kind == 8: n / 0
    if kind == 9: None.attribute

for n in range(2):
    for kind in range(10):
        try:
            checkout(kind, n)
        except Exception as error:
            sentry_sdk.capture_exception(error)
sentry_sdk.capture_message("python says hello")
sentry_sdk.flush(10)
"#;

/// The official Python SDK, installed from PyPI under the target directory on first use.
async fn python_sdk() -> std::path::PathBuf {
    common::python_packages("python-sentry-sdk", "sentry-sdk>=2,<3", "sentry_sdk").await
}

#[tokio::test]
async fn ten_exceptions_from_the_python_sdk_give_ten_issues() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let dsn = server.dsn.clone();
    let output = tokio::process::Command::new("python3")
        .args(["-c", PYTHON, &dsn])
        .env("PYTHONPATH", python_sdk().await)
        .output()
        .await
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "the Python SDK script failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let issues = issues(&server).await;
    let exceptions: Vec<_> = issues
        .iter()
        .filter(|i| i.title != "python says hello")
        .collect();
    assert_eq!(
        exceptions.len(),
        10,
        "{:#?}",
        issues.iter().map(|i| &i.title).collect::<Vec<_>>()
    );
    assert!(
        exceptions
            .iter()
            .all(|i| i.event_count == 2 && i.user_count == 1)
    );
    let payment = issues
        .iter()
        .find(|i| i.title.starts_with("PaymentError"))
        .unwrap();
    assert_eq!(payment.title, "PaymentError: card 1 declined");
    assert!(
        payment
            .culprit
            .as_deref()
            .unwrap_or_default()
            .contains("checkout"),
        "{:?}",
        payment.culprit
    );
    let users = server.state.store.issue_users(payment.id).await.unwrap();
    assert_eq!(users[0].email.as_deref(), Some("jane@example.com"));
}

#[derive(Debug)]
struct Declined(u32);
impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "card {} declined", self.0)
    }
}
impl std::error::Error for Declined {}

#[tokio::test]
async fn envelopes_of_the_official_rust_sdk_are_stored() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let envelopes = sentry::test::with_captured_envelopes(|| {
        sentry::configure_scope(|scope| {
            scope.set_user(Some(sentry::User {
                id: Some("9".into()),
                email: Some("rust@example.com".into()),
                ..Default::default()
            }))
        });
        sentry::capture_error(&Declined(1));
        sentry::capture_error(&Declined(2));
        sentry::capture_message("rust says hello", sentry::Level::Info);
    });
    let client = reqwest::Client::new();
    for envelope in envelopes {
        let mut body = Vec::new();
        envelope.to_writer(&mut body).unwrap();
        let response = client
            .post(server.envelope_url())
            .header("x-sentry-auth", server.auth())
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let issues = issues(&server).await;
    assert_eq!(issues.len(), 2);
    let declined = issues
        .iter()
        .find(|i| i.title.starts_with("Declined"))
        .unwrap();
    assert_eq!(declined.event_count, 2);
    assert_eq!(declined.user_count, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_app_panic_reaches_the_collector_with_its_user() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let (reporter, app_url) = common::demo_app(&server, "test").await;

    let response = reqwest::Client::new()
        .get(format!("{app_url}/panic"))
        .header("x-demo-user", "42:jane@example.com:Jane Doe")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    assert!(reporter.flush(Duration::from_secs(10)).await);
    // The event, and the request counts (one request, crashed).
    assert_eq!(reporter.stats().sent, 2);

    let issues = issues(&server).await;
    assert_eq!(issues.len(), 1);
    let issue = &issues[0];
    assert_eq!(
        issue.title,
        "panic: coupon BLACKFRIDAY is not in the discount table"
    );
    assert_eq!(
        issue.culprit.as_deref(),
        Some("axum_app::checkout::apply_coupon")
    );
    assert_eq!(issue.level, mayday_collector::store::EventLevel::Fatal);
    assert!(
        issue
            .last_release
            .as_deref()
            .unwrap()
            .starts_with("axum-app@")
    );
    let users = server.state.store.issue_users(issue.id).await.unwrap();
    assert_eq!(users[0].name.as_deref(), Some("Jane Doe"));
    assert_eq!(users[0].email.as_deref(), Some("jane@example.com"));
}
