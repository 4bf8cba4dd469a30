//! Puts the git commit into the release (`axum-app@0.1.0+<commit>`) when built from a
//! checkout, and keeps it current: cargo reruns this script when `HEAD` moves (a commit,
//! a checkout, a pull), not only when this crate's files change.

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout)
        .ok()
        .map(|s| s.trim().to_owned())
}

fn main() {
    println!("cargo:rerun-if-env-changed=MAYDAY_GIT_COMMIT");
    if std::env::var_os("MAYDAY_GIT_COMMIT").is_some() {
        // Set by the build (CI, a Dockerfile): build_info!() reads it as is.
        return;
    }
    let Some(commit) = git(&["rev-parse", "HEAD"]) else {
        return; // Not a git checkout: the release is name@version.
    };
    println!("cargo:rustc-env=MAYDAY_GIT_COMMIT={commit}");
    // What HEAD depends on: HEAD itself (a checkout), the branch it points to (a
    // commit), and packed-refs (where git moves refs on `gc` and fetches).
    if let Some(git_dir) = git(&["rev-parse", "--absolute-git-dir"]).map(PathBuf::from) {
        // Worktrees keep refs in the main repository's folder.
        let common = git(&["rev-parse", "--path-format=absolute", "--git-common-dir"])
            .map_or_else(|| git_dir.clone(), PathBuf::from);
        let mut watched = vec![git_dir.join("HEAD"), common.join("packed-refs")];
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watched.push(common.join(branch));
        }
        // A missing file would make cargo rerun this script on every build.
        for path in watched.iter().filter(|path| path.exists()) {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}
