//! Rate limits the collector asks for: `Retry-After` and `X-Sentry-Rate-Limits`.
//!
//! `X-Sentry-Rate-Limits: 60:error;transaction:key, 2700:default:organization` means
//! "no errors or transactions for 60 s, nothing of category default for 2700 s". An empty
//! category list means every category. The longest limit per category wins.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use http::{HeaderMap, StatusCode};

/// Used when a 429 carries no readable `Retry-After`.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Categories that are paused, and until when.
#[derive(Debug, Default)]
pub(crate) struct RateLimits {
    all: Option<Instant>,
    categories: HashMap<String, Instant>,
}

impl RateLimits {
    /// Whether `category` (such as `error`) is paused at `now`.
    pub(crate) fn is_limited(&self, category: &str, now: Instant) -> bool {
        self.all.is_some_and(|until| until > now)
            || self
                .categories
                .get(category)
                .is_some_and(|until| *until > now)
    }

    /// Records the limits a response asks for.
    pub(crate) fn update(&mut self, status: StatusCode, headers: &HeaderMap, now: Instant) {
        if let Some(value) = headers
            .get("x-sentry-rate-limits")
            .and_then(|v| v.to_str().ok())
        {
            for limit in value.split(',') {
                let mut parts = limit.trim().split(':');
                let Some(seconds) = parts.next().and_then(|s| s.trim().parse::<f64>().ok()) else {
                    continue;
                };
                let until = now + Duration::from_secs_f64(seconds.clamp(0.0, 86_400.0));
                let categories = parts.next().unwrap_or("");
                if categories.trim().is_empty() {
                    extend(&mut self.all, until);
                } else {
                    for category in categories.split(';').filter(|c| !c.is_empty()) {
                        let entry = self.categories.entry(category.to_owned()).or_insert(until);
                        if *entry < until {
                            *entry = until;
                        }
                    }
                }
            }
        } else if status == StatusCode::TOO_MANY_REQUESTS {
            let wait = headers
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after)
                .unwrap_or(DEFAULT_RETRY_AFTER);
            extend(&mut self.all, now + wait);
        }
    }
}

fn extend(slot: &mut Option<Instant>, until: Instant) {
    if slot.is_none_or(|current| current < until) {
        *slot = Some(until);
    }
}

/// `Retry-After` is seconds (possibly fractional) or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return Some(Duration::from_secs_f64(seconds.clamp(0.0, 86_400.0)));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(SystemTime::now()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn retry_after_pauses_everything() {
        let now = Instant::now();
        let mut limits = RateLimits::default();
        limits.update(
            StatusCode::TOO_MANY_REQUESTS,
            &headers(&[("retry-after", "30")]),
            now,
        );
        assert!(limits.is_limited("error", now + Duration::from_secs(29)));
        assert!(!limits.is_limited("error", now + Duration::from_secs(31)));
    }

    #[test]
    fn sentry_header_per_category_keeps_the_longest() {
        let now = Instant::now();
        let mut limits = RateLimits::default();
        let value = "60:error;transaction:key, 10:error:key, 5:session:org";
        limits.update(
            StatusCode::TOO_MANY_REQUESTS,
            &headers(&[("x-sentry-rate-limits", value)]),
            now,
        );
        assert!(limits.is_limited("error", now + Duration::from_secs(59)));
        assert!(limits.is_limited("transaction", now + Duration::from_secs(59)));
        assert!(!limits.is_limited("session", now + Duration::from_secs(6)));
        assert!(!limits.is_limited("attachment", now));
        // A shorter limit later does not shorten the longer one.
        limits.update(
            StatusCode::OK,
            &headers(&[("x-sentry-rate-limits", "1:error")]),
            now,
        );
        assert!(limits.is_limited("error", now + Duration::from_secs(59)));
    }

    #[test]
    fn empty_categories_mean_all() {
        let now = Instant::now();
        let mut limits = RateLimits::default();
        limits.update(
            StatusCode::TOO_MANY_REQUESTS,
            &headers(&[("x-sentry-rate-limits", "20::organization")]),
            now,
        );
        assert!(limits.is_limited("anything", now + Duration::from_secs(19)));
    }

    #[test]
    fn unreadable_retry_after_uses_default() {
        let now = Instant::now();
        let mut limits = RateLimits::default();
        limits.update(StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new(), now);
        assert!(limits.is_limited("error", now + Duration::from_secs(59)));
        assert_eq!(parse_retry_after("2.5"), Some(Duration::from_millis(2500)));
    }
}
