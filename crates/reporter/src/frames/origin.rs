//! Where a frame's code comes from, read from its source path: the app's workspace, a
//! dependency (any Cargo registry, git checkout or vendor folder), the Rust standard
//! library, this reporter, or C code.
//!
//! The path decides, not the function's name: a generic function of tokio instantiated
//! with an app type is named after the app type, but its code (and its file) is tokio's.

/// The reporter's own source folder, as this build saw it.
pub const REPORTER_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// Where code comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A file of the app's workspace (anything not classified below).
    App,
    /// This reporter.
    Reporter,
    /// A dependency: a Cargo registry, a git checkout or a vendor folder.
    Dependency,
    /// The Rust standard library (`std`, `core`, `alloc`, ...).
    Std,
    /// C or assembly (libc, the loader, the unwinder).
    Native,
    /// No file: a build without line tables; the name has to decide.
    Unknown,
}

/// What a source path tells about a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Where the code comes from.
    pub origin: Origin,
    /// The crate, as it appears in paths (`tokio`, `axum_app`), when the path says.
    pub krate: Option<String>,
    /// The module the file defines (`tokio::runtime::task::core`), when the path says.
    pub module: Option<String>,
    /// A short, machine-independent file name: relative to the app's manifest, the crate
    /// folder of a dependency, or the standard library's source root.
    pub filename: Option<String>,
}

/// The app a backtrace belongs to.
#[derive(Debug, Clone)]
pub struct AppSource<'a> {
    /// The app crate's name in paths (`axum_app`).
    pub krate: &'a str,
    /// The app crate's manifest folder.
    pub manifest_dir: &'a str,
    /// The reporter's source folder ([`REPORTER_DIR`] outside tests).
    pub reporter_dir: &'a str,
}

impl AppSource<'_> {
    /// Classifies `path` (as the debug info spells it).
    pub fn locate(&self, path: Option<&str>) -> Location {
        let Some(path) = path else {
            return Location {
                origin: Origin::Unknown,
                krate: None,
                module: None,
                filename: None,
            };
        };
        if is_native(path) {
            return Location {
                origin: Origin::Native,
                krate: None,
                module: None,
                filename: Some(path.to_owned()),
            };
        }
        if let Some(rest) = std_source(path) {
            // `std/src/panicking.rs`
            let (krate, in_crate) = rest.split_once('/').unwrap_or((rest, ""));
            return Location {
                origin: Origin::Std,
                krate: Some(krate.to_owned()),
                module: module_of(krate, in_crate),
                filename: Some(format!("library/{rest}")),
            };
        }
        if let Some((folder, in_crate)) = dependency_source(path) {
            // `tokio-1.54.1`, `src/runtime/task/core.rs`
            let krate = crate_of_folder(folder);
            let origin = if krate == "mayday_reporter" {
                Origin::Reporter
            } else {
                Origin::Dependency
            };
            return Location {
                origin,
                module: module_of(&krate, in_crate),
                krate: Some(krate),
                filename: Some(format!("{folder}/{in_crate}")),
            };
        }
        if under(path, self.reporter_dir) {
            let in_crate = &path[self.reporter_dir.len()..].trim_start_matches('/');
            return Location {
                origin: Origin::Reporter,
                krate: Some("mayday_reporter".to_owned()),
                module: module_of("mayday_reporter", in_crate),
                filename: Some(format!("mayday-reporter/{in_crate}")),
            };
        }
        if under(path, self.manifest_dir) {
            let in_crate = path[self.manifest_dir.len()..].trim_start_matches('/');
            return Location {
                origin: Origin::App,
                krate: Some(self.krate.to_owned()),
                module: module_of(self.krate, in_crate),
                filename: Some(in_crate.to_owned()),
            };
        }
        // Another crate of the app's workspace: its folder is the one holding `src/`.
        let (krate, module) = match path.rsplit_once("/src/") {
            Some((folder, in_src)) => {
                let name = folder.rsplit('/').next().unwrap_or(folder);
                let krate = crate_of_folder(name);
                let module = module_of(&krate, &format!("src/{in_src}"));
                (Some(krate), module)
            }
            None => (None, None),
        };
        Location {
            origin: Origin::App,
            krate,
            module,
            filename: Some(workspace_relative(path, self.manifest_dir)),
        }
    }
}

fn under(path: &str, dir: &str) -> bool {
    !dir.is_empty() && path.starts_with(dir) && path[dir.len()..].starts_with('/') && dir != "/"
}

/// C sources of libc and friends are compiled with paths like `./nptl/x.c`.
fn is_native(path: &str) -> bool {
    path.starts_with("./")
        || path.starts_with("../")
        || [".c", ".h", ".S", ".s", ".cc", ".cpp", ".asm"]
            .iter()
            .any(|ext| path.ends_with(ext))
}

/// The part after `library/` for the standard library's sources: `/rustc/<hash>/library/`
/// (the official builds), `<sysroot>/lib/rustlib/src/rust/library/` (with rust-src), or a
/// relative `library/` (remapped paths).
fn std_source(path: &str) -> Option<&str> {
    if let Some(rest) = path.strip_prefix("/rustc/") {
        return rest.split_once("/library/").map(|(_, r)| r);
    }
    if let Some(at) = path.find("/lib/rustlib/src/rust/library/") {
        return Some(&path[at + "/lib/rustlib/src/rust/library/".len()..]);
    }
    path.strip_prefix("library/")
        .filter(|rest| rest.contains("/src/"))
}

/// The crate's folder and the path inside it, for code under any `$CARGO_HOME`
/// (`~/.cargo`, `/usr/local/cargo` in Docker images) or a vendor folder.
fn dependency_source(path: &str) -> Option<(&str, &str)> {
    if let Some(at) = path.find("/registry/src/") {
        // `<index>-<hash>/<crate>-<version>/...`
        let rest = &path[at + "/registry/src/".len()..];
        let (_, rest) = rest.split_once('/')?;
        return rest.split_once('/');
    }
    if let Some(at) = path.find("/git/checkouts/") {
        // `<repo>-<hash>/<rev>/...`, the crate at the root or in a folder of its own.
        let rest = &path[at + "/git/checkouts/".len()..];
        let (repo, rest) = rest.split_once('/')?;
        let (_, in_repo) = rest.split_once('/')?;
        if in_repo.starts_with("src/") {
            let repo = repo.rsplit_once('-').map_or(repo, |(name, _)| name);
            return Some((repo, in_repo));
        }
        return in_repo.split_once('/');
    }
    if let Some(at) = path.find("/vendor/") {
        return path[at + "/vendor/".len()..].split_once('/');
    }
    None
}

/// `tokio-1.54.1` gives `tokio`; `tower-http-0.7.0` gives `tower_http`; a folder without
/// a version keeps its name.
fn crate_of_folder(folder: &str) -> String {
    let name = match folder.rsplit_once('-') {
        Some((name, version)) if version.starts_with(|c: char| c.is_ascii_digit()) => name,
        _ => folder,
    };
    name.replace('-', "_")
}

/// The module a file defines: `src/runtime/task/core.rs` in `tokio` gives
/// `tokio::runtime::task::core`; `src/lib.rs`, `src/main.rs` and `mod.rs` name their
/// folder. A path without `src/` is taken from the crate's root (examples, binaries
/// with their own folder).
fn module_of(krate: &str, in_crate: &str) -> Option<String> {
    let in_src = in_crate
        .strip_prefix("src/")
        .or_else(|| in_crate.split_once("/src/").map(|(_, r)| r))
        .unwrap_or(in_crate);
    let without_ext = in_src.strip_suffix(".rs")?;
    let mut parts: Vec<&str> = without_ext.split('/').collect();
    if matches!(parts.last(), Some(&"lib" | &"main" | &"mod")) {
        parts.pop();
    }
    if parts.first() == Some(&"bin") {
        parts.remove(0);
    }
    let mut module = krate.to_owned();
    for part in parts {
        module.push_str("::");
        module.push_str(part);
    }
    Some(module)
}

/// A workspace file relative to the app's workspace: the app's manifest folder or one of
/// its parents, whichever is a prefix of `path`.
fn workspace_relative(path: &str, manifest_dir: &str) -> String {
    let workspace = std::path::Path::new(manifest_dir);
    for base in workspace.ancestors().take(3) {
        if base == std::path::Path::new("/") || base.as_os_str().is_empty() {
            break;
        }
        if let Ok(relative) = std::path::Path::new(path).strip_prefix(base) {
            return relative.to_string_lossy().into_owned();
        }
    }
    path.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: AppSource<'static> = AppSource {
        krate: "shop",
        manifest_dir: "/work/shop/web",
        reporter_dir: "/work/shop/vendor-local/mayday/crates/reporter",
    };

    /// Path, origin, crate, module, short file name.
    type Case = (
        &'static str,
        Origin,
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
    );

    /// One row per kind of path.
    #[test]
    fn classifies_paths() {
        let cases: &[Case] = &[
            (
                "/work/shop/web/src/checkout.rs",
                Origin::App,
                Some("shop"),
                Some("shop::checkout"),
                Some("src/checkout.rs"),
            ),
            (
                "/work/shop/web/src/lib.rs",
                Origin::App,
                Some("shop"),
                Some("shop"),
                Some("src/lib.rs"),
            ),
            (
                "/work/shop/core/src/cart/mod.rs",
                Origin::App,
                Some("core"),
                Some("core::cart"),
                Some("core/src/cart/mod.rs"),
            ),
            (
                "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/tokio-1.54.1/src/runtime/task/core.rs",
                Origin::Dependency,
                Some("tokio"),
                Some("tokio::runtime::task::core"),
                Some("tokio-1.54.1/src/runtime/task/core.rs"),
            ),
            (
                "/usr/local/cargo/registry/src/index.crates.io-6f17d22bba15001f/tower-http-0.7.0/src/catch_panic.rs",
                Origin::Dependency,
                Some("tower_http"),
                Some("tower_http::catch_panic"),
                Some("tower-http-0.7.0/src/catch_panic.rs"),
            ),
            (
                "/home/ci/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/mayday-reporter-0.1.0/src/future.rs",
                Origin::Reporter,
                Some("mayday_reporter"),
                Some("mayday_reporter::future"),
                Some("mayday-reporter-0.1.0/src/future.rs"),
            ),
            (
                "/usr/local/cargo/git/checkouts/axum-1a2b3c4d5e6f7a8b/0f1e2d3/axum/src/routing/mod.rs",
                Origin::Dependency,
                Some("axum"),
                Some("axum::routing"),
                Some("axum/src/routing/mod.rs"),
            ),
            (
                "/rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/std/src/panicking.rs",
                Origin::Std,
                Some("std"),
                Some("std::panicking"),
                Some("library/std/src/panicking.rs"),
            ),
            (
                "/opt/rust/lib/rustlib/src/rust/library/core/src/option.rs",
                Origin::Std,
                Some("core"),
                Some("core::option"),
                Some("library/core/src/option.rs"),
            ),
            (
                "library/alloc/src/boxed.rs",
                Origin::Std,
                Some("alloc"),
                Some("alloc::boxed"),
                Some("library/alloc/src/boxed.rs"),
            ),
            (
                "/work/shop/vendor-local/mayday/crates/reporter/src/future.rs",
                Origin::Reporter,
                Some("mayday_reporter"),
                Some("mayday_reporter::future"),
                Some("mayday-reporter/src/future.rs"),
            ),
            (
                "./nptl/pthread_create.c",
                Origin::Native,
                None,
                None,
                Some("./nptl/pthread_create.c"),
            ),
        ];
        for (path, origin, krate, module, filename) in cases {
            let location = APP.locate(Some(path));
            assert_eq!(location.origin, *origin, "origin of {path}");
            assert_eq!(location.krate.as_deref(), *krate, "crate of {path}");
            assert_eq!(location.module.as_deref(), *module, "module of {path}");
            assert_eq!(location.filename.as_deref(), *filename, "file of {path}");
        }
        assert_eq!(APP.locate(None).origin, Origin::Unknown);
    }
}
