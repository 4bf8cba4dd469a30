//! What was built: the app's release and commit, and the compiler, target and profile.

/// Facts about the application build, captured where the application is compiled.
///
/// Create it with [`build_info!`](crate::build_info), which expands in the application's
/// crate, so `name@version` are the app's own, not this library's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildInfo {
    /// The application crate's name, such as `shop`.
    pub name: &'static str,
    /// The application crate's version, such as `1.4.2`.
    pub version: &'static str,
    /// The git commit, when the build set `MAYDAY_GIT_COMMIT` (or `GIT_COMMIT`).
    pub commit: Option<&'static str>,
    /// The application's manifest directory, used to shorten file paths in frames.
    pub manifest_dir: &'static str,
}

impl BuildInfo {
    /// The default release: `name@version`, plus `+commit` (12 digits) when known.
    pub fn release(&self) -> String {
        match self.commit {
            Some(commit) => {
                let short = commit.get(..12).unwrap_or(commit);
                format!("{}@{}+{}", self.name, self.version, short)
            }
            None => format!("{}@{}", self.name, self.version),
        }
    }

    /// The crate name as it appears in symbol paths (`-` becomes `_`).
    pub fn crate_ident(&self) -> String {
        self.name.replace('-', "_")
    }
}

/// The compiler that built this binary, such as `rustc 1.85.0 (4d91de4e4 2025-02-17)`.
pub const RUSTC_VERSION: &str = env!("MAYDAY_RUSTC_VERSION");
/// The target triple, such as `x86_64-unknown-linux-gnu`.
pub const TARGET: &str = env!("MAYDAY_TARGET");
/// The cargo profile family: `debug` or `release`.
pub const PROFILE: &str = env!("MAYDAY_PROFILE");
/// The axum version the build resolved (or the required series when unknown).
pub const AXUM_VERSION: &str = env!("MAYDAY_AXUM_VERSION");
/// The actix-web version the build resolved (or the required series when unknown).
pub const ACTIX_VERSION: &str = env!("MAYDAY_ACTIX_VERSION");

/// Captures the calling crate's [`BuildInfo`].
///
/// Set `MAYDAY_GIT_COMMIT` when building (for example from a `build.rs` or CI) to put the
/// commit into the release.
///
/// ```
/// let info = mayday_reporter::build_info!();
/// assert_eq!(info.name, env!("CARGO_PKG_NAME"));
/// assert!(info.release().starts_with(env!("CARGO_PKG_NAME")));
/// ```
#[macro_export]
macro_rules! build_info {
    () => {
        $crate::BuildInfo {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
            commit: match option_env!("MAYDAY_GIT_COMMIT") {
                Some(commit) => Some(commit),
                None => option_env!("GIT_COMMIT"),
            },
            manifest_dir: env!("CARGO_MANIFEST_DIR"),
        }
    };
}

/// The short compiler version, such as `1.85.0`, from [`RUSTC_VERSION`].
pub(crate) fn rustc_semver() -> &'static str {
    RUSTC_VERSION
        .split_whitespace()
        .nth(1)
        .unwrap_or(RUSTC_VERSION)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_includes_short_commit() {
        let mut info = crate::build_info!();
        info.commit = Some("0123456789abcdef0123");
        assert_eq!(
            info.release(),
            format!("mayday-reporter@{}+0123456789ab", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(info.crate_ident(), "mayday_reporter");
    }

    #[test]
    fn compiler_facts_are_known() {
        assert!(RUSTC_VERSION.starts_with("rustc "));
        assert!(
            rustc_semver()
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit())
        );
        assert!(!TARGET.is_empty() && TARGET != "unknown");
    }
}
