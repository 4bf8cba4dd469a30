//! Comparing releases, for "resolved in the next release": is an event's release newer
//! than the one an issue was resolved in?
//!
//! Releases are compared as versions where they look like versions (`shop@2.10.0` after
//! `shop@2.9.1`, `1.4.0-rc2` before `1.4.0` is not attempted: pre-release tags compare
//! as text); a release of another package, or text that is not comparable, counts as
//! newer, so that a real regression is never hidden.

use std::cmp::Ordering;

/// Whether `candidate` is a newer release than `than`.
pub fn is_newer(candidate: &str, than: &str) -> bool {
    let (package_a, version_a) = split_package(candidate);
    let (package_b, version_b) = split_package(than);
    if package_a != package_b {
        return true;
    }
    if !looks_like_version(version_a) || !looks_like_version(version_b) {
        return candidate != than;
    }
    compare(version_a, version_b) == Ordering::Greater
}

/// `1.4.2`, `v2.0`, `2024.05.01`, `1.4.0-rc2`: digits and dots first (a commit hash
/// such as `9f8e7d` is not a version).
fn looks_like_version(version: &str) -> bool {
    let core = version
        .trim_start_matches(['v', 'V'])
        .split(['-', '+'])
        .next()
        .unwrap_or_default();
    !core.is_empty()
        && core.chars().any(|c| c.is_ascii_digit())
        && core.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// `shop@2.4.1` → (`shop`, `2.4.1`); without `@`, no package.
fn split_package(release: &str) -> (&str, &str) {
    match release.rsplit_once('@') {
        Some((package, version)) => (package, version),
        None => ("", release),
    }
}

/// Compares runs of digits as numbers and other runs as text, left to right; a version
/// that is a prefix of the other is older (`2.4` before `2.4.1`).
fn compare(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (chunks(a), chunks(b));
    loop {
        match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(x), Ok(y)) => x.cmp(&y),
                    _ => x.cmp(y),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

/// Runs of digits and runs of letters; separators (`.`, `-`, `+`) dropped.
fn chunks(version: &str) -> impl Iterator<Item = &str> {
    let mut rest = version.trim_start_matches(['v', 'V']);
    std::iter::from_fn(move || {
        rest = rest.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
        if rest.is_empty() {
            return None;
        }
        let digits = rest.starts_with(|c: char| c.is_ascii_digit());
        let end = rest
            .find(|c: char| !c.is_ascii_alphanumeric() || c.is_ascii_digit() != digits)
            .unwrap_or(rest.len());
        let (chunk, tail) = rest.split_at(end);
        rest = tail;
        Some(chunk)
    })
}

#[cfg(test)]
mod tests {
    use super::is_newer;

    #[test]
    fn versions_compare_as_numbers() {
        assert!(is_newer("shop@2.10.0", "shop@2.9.1"));
        assert!(!is_newer("shop@2.9.1", "shop@2.10.0"));
        assert!(!is_newer("shop@2.4.0", "shop@2.4.0"));
        assert!(is_newer("shop@2.4.1", "shop@2.4"));
        assert!(is_newer("v1.2", "1.1.9"));
        assert!(!is_newer("2024.05.01", "2024.11.30"));
        // Another package, or nothing comparable: newer, so nothing is hidden.
        assert!(is_newer("api@1.0.0", "shop@2.0.0"));
        assert!(is_newer("abc123f", "9f8e7d"));
        assert!(is_newer("9f8e7d", "abc123f"));
        assert!(!is_newer("9f8e7d", "9f8e7d"));
    }
}
