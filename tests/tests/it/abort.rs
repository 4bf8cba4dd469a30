//! A binary built with `panic = "abort"` (`examples/abort-app` in the `abort` profile)
//! panics: the panic hook delivers the event before the process aborts. The example is
//! built once, by this test, with cargo.

use std::process::Command;
use std::time::Duration;

use mayday_protocol::Level;
use mayday_tests::Receiver;

fn build_example() -> std::path::PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["build", "--profile", "abort", "--message-format=json"])
        .args(["-p", "abort-app"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("cargo runs");
    assert!(output.status.success(), "the abort example builds");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find_map(|message| {
            (message["target"]["name"] == "abort-app")
                .then(|| message["executable"].as_str().map(Into::into))
                .flatten()
        })
        .expect("the example's executable")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_an_abort_build_is_delivered_before_the_process_ends() {
    let binary = build_example();
    let receiver = Receiver::start().await;
    let dsn = receiver.dsn();
    let status = tokio::task::spawn_blocking(move || {
        Command::new(binary)
            .env("MAYDAY_DSN", dsn)
            .env("MAYDAY_ENVIRONMENT", "test")
            .stderr(std::process::Stdio::null())
            .status()
            .expect("the example runs")
    })
    .await
    .unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(6), "aborted (SIGABRT): {status:?}");

    // The process is gone; what it delivered is all there is.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let received = receiver.received();
    assert_eq!(
        received.len(),
        1,
        "the panic was delivered before the abort"
    );
    let event = received[0].event();
    assert_eq!(event.level, Some(Level::Fatal));
    let exception = &event.exceptions()[0];
    assert_eq!(
        exception.value.as_deref(),
        Some("the job queue is empty (0 jobs)")
    );
    assert!(
        exception.stacktrace.is_some(),
        "with the panic site's backtrace"
    );
}
