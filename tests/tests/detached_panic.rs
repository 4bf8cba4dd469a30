//! Panics outside any request reach the reporter through its panic hook.
//!
//! In a test binary of its own: a detached panic goes to every live reporter in the
//! process, which would disturb the exact counts other tests check.

use std::time::Duration;

use mayday_protocol::Level;
use mayday_reporter::Reporter;
use mayday_tests::Receiver;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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
    let received = receiver.wait_for(1, Duration::from_secs(10)).await;
    let event = received
        .iter()
        .map(|r| r.event())
        .find(|e| {
            e.exceptions()
                .iter()
                .any(|x| x.value.as_deref() == Some("report job exploded"))
        })
        .expect("the thread's panic was reported");
    assert_eq!(event.level, Some(Level::Fatal));
    assert!(event.request.is_none());
    let mechanism = event.exceptions()[0].mechanism.as_ref().unwrap();
    assert_eq!(mechanism.data.as_ref().unwrap()["thread"], "nightly-report");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panics_in_detached_tasks_are_reported() {
    let receiver = Receiver::start().await;
    let _reporter = Reporter::builder(axum_app::build_info())
        .dsn(receiver.dsn())
        .build()
        .unwrap();
    let task = tokio::spawn(async { panic!("background sync exploded") });
    assert!(task.await.is_err());
    let received = receiver.wait_for(1, Duration::from_secs(10)).await;
    let event = received
        .iter()
        .map(|r| r.event())
        .find(|e| {
            e.exceptions()
                .iter()
                .any(|x| x.value.as_deref() == Some("background sync exploded"))
        })
        .expect("the task's panic was reported");
    assert_eq!(event.level, Some(Level::Fatal));
    assert!(event.request.is_none());
}
