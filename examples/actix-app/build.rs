//! Puts the git commit into the release (`axum-app@0.1.0+<commit>`) when built from a checkout.

fn main() {
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok());
    if let Some(commit) = commit {
        println!("cargo:rustc-env=MAYDAY_GIT_COMMIT={}", commit.trim());
    }
    println!("cargo:rerun-if-changed=../../.git/HEAD");
    println!("cargo:rerun-if-env-changed=MAYDAY_GIT_COMMIT");
}
