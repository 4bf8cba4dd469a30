//! Records the compiler, target and profile of the build, and the axum version the build
//! resolved, for the event's runtime and framework contexts.

use std::path::{Path, PathBuf};
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
    let axum = locked_version("axum").unwrap_or_else(|| "0.8".into());
    println!("cargo:rustc-env=MAYDAY_AXUM_VERSION={axum}");
    let actix = locked_version("actix-web").unwrap_or_else(|| "4".into());
    println!("cargo:rustc-env=MAYDAY_ACTIX_VERSION={actix}");
    println!("cargo:rerun-if-env-changed=RUSTC");
}

/// The version of `package` in the nearest Cargo.lock above the manifest or the output dir.
///
/// The lock file is the only place a build script can learn which version of a sibling
/// dependency the build picked; when there is none (a registry build), the caller falls
/// back to the version requirement.
fn locked_version(package: &str) -> Option<String> {
    let starts = ["CARGO_MANIFEST_DIR", "OUT_DIR"]
        .into_iter()
        .filter_map(|var| std::env::var_os(var).map(PathBuf::from));
    for start in starts {
        for dir in start.ancestors() {
            let lock = dir.join("Cargo.lock");
            if lock.is_file() {
                println!("cargo:rerun-if-changed={}", lock.display());
                return find_in_lock(&lock, package);
            }
        }
    }
    None
}

fn find_in_lock(lock: &Path, package: &str) -> Option<String> {
    let text = std::fs::read_to_string(lock).ok()?;
    let needle = format!("name = \"{package}\"\n");
    let at = text.find(&needle)? + needle.len();
    let line = text[at..].lines().next()?;
    let version = line.strip_prefix("version = \"")?.strip_suffix('"')?;
    Some(version.to_owned())
}
