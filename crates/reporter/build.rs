//! Records the compiler, target and profile of the build, for the event's runtime context.

use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| "rustc unknown".into());
    println!("cargo:rustc-env=MAYDAY_RUSTC_VERSION={version}");
    for (name, var) in [("TARGET", "MAYDAY_TARGET"), ("PROFILE", "MAYDAY_PROFILE")] {
        let value = std::env::var(name).unwrap_or_else(|_| "unknown".into());
        println!("cargo:rustc-env={var}={value}");
    }
    println!("cargo:rerun-if-env-changed=RUSTC");
}
