//! Panics outside any request reach the reporter through its panic hook.
//!
//! In a process of its own (see `crate::isolated`): a detached panic goes to every live
//! reporter in the process, which would disturb the exact counts other tests check.

use std::time::Duration;

use mayday_protocol::Level;
use mayday_reporter::Reporter;
use mayday_tests::Receiver;

/// Waits for the event whose exception value is `value` (other tests' detached panics
/// reach this receiver too, since a detached panic goes to every live reporter).
async fn event_with_value(receiver: &Receiver, value: &str) -> mayday_protocol::Event {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let found = receiver.received().iter().map(|r| r.event()).find(|e| {
            e.exceptions()
                .iter()
                .any(|x| x.value.as_deref() == Some(value))
        });
        if let Some(event) = found {
            return event;
        }
        assert!(std::time::Instant::now() < deadline, "no event {value:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn panics_outside_requests_are_reported_in_a_process_of_their_own() {
    crate::isolated(
        "detached_panic::panics_in_threads_outside_requests_are_reported",
        &[],
    );
    crate::isolated("detached_panic::panics_in_detached_tasks_are_reported", &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a process of its own; run by the test above"]
async fn panics_in_threads_outside_requests_are_reported() {
    let receiver = Receiver::start().await;
    let _reporter = Reporter::builder(axum_app::build_info())
        .dsn(receiver.dsn())
        .build()
        .unwrap();
    let thread = std::thread::Builder::new()
        .name("nightly-report".into())
        .spawn(|| panic!("report job exploded"))
        .unwrap();
    assert!(thread.join().is_err());
    let event = event_with_value(&receiver, "report job exploded").await;
    assert_eq!(event.level, Some(Level::Fatal));
    assert!(event.request.is_none());
    let mechanism = event.exceptions()[0].mechanism.as_ref().unwrap();
    assert_eq!(mechanism.data.as_ref().unwrap()["thread"], "nightly-report");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a process of its own; run by the test above"]
async fn panics_in_detached_tasks_are_reported() {
    let receiver = Receiver::start().await;
    let _reporter = Reporter::builder(axum_app::build_info())
        .dsn(receiver.dsn())
        .build()
        .unwrap();
    let task = tokio::spawn(async { panic!("background sync exploded") });
    assert!(task.await.is_err());
    let event = event_with_value(&receiver, "background sync exploded").await;
    assert_eq!(event.level, Some(Level::Fatal));
    assert!(event.request.is_none());
}
