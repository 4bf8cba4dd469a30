//! End-to-end tests of the reporter, one binary: the demo apps and small routers over
//! loopback, reporting to a real receiver (`mayday_tests::Receiver`).
//!
//! A few tests need the process to themselves (a panic outside any request reaches every
//! live reporter; a global tracing subscriber; the backtrace setting read once; memory
//! measured for the whole process). They are `#[ignore]`d here and run by a wrapper
//! test in a child process of this binary ([`isolated`]).

mod abort;
mod actix;
mod axum_app;
mod collector_down;
mod controls;
mod detached_panic;
mod errors;
mod examples;
mod layer;
mod tracing_layer;

/// Runs the ignored test `name` (its full path, `module::test`) of this binary in a
/// process of its own, with `env` set, and fails when it fails.
pub fn isolated(name: &str, env: &[(&str, &str)]) {
    let binary = std::env::current_exe().expect("the test binary's path");
    let output = std::process::Command::new(binary)
        .args([name, "--exact", "--ignored", "--test-threads=1"])
        .envs(env.iter().copied())
        .output()
        .expect("the test binary runs again");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("1 passed"),
        "{name} in its own process:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
