//! Per-key rate limits: events per minute, in fixed one-minute windows.

use std::collections::HashMap;
use std::sync::Mutex;

/// Counts events per key in the current minute.
#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, (i64, u64)>>,
}

/// The outcome of asking to accept events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead.
    Accept,
    /// Over the limit; retry after this many seconds.
    Limited {
        /// Seconds until the next window.
        retry_after: u64,
    },
}

impl RateLimiter {
    /// Asks to accept `count` events for `key` under `limit` per minute (0: no limit) at
    /// `now_ms`.
    pub fn admit(&self, key: &str, count: u64, limit: u64, now_ms: i64) -> Admission {
        if limit == 0 || count == 0 {
            return Admission::Accept;
        }
        let minute = now_ms.div_euclid(60_000);
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > 100_000 {
            // Keys seen in older minutes no longer matter.
            windows.retain(|_, (window, _)| *window == minute);
        }
        let entry = windows.entry(key.to_owned()).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        if entry.1 + count > limit {
            let next = (minute + 1) * 60_000;
            let retry_after = u64::try_from((next - now_ms + 999) / 1000)
                .unwrap_or(1)
                .max(1);
            return Admission::Limited { retry_after };
        }
        entry.1 += count;
        Admission::Accept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_key_per_minute() {
        let limiter = RateLimiter::default();
        let t = 1_700_000_080_000; // 40 s into a minute
        assert_eq!(limiter.admit("a", 2, 3, t), Admission::Accept);
        assert_eq!(limiter.admit("a", 1, 3, t), Admission::Accept);
        assert_eq!(
            limiter.admit("a", 1, 3, t),
            Admission::Limited { retry_after: 20 }
        );
        assert_eq!(
            limiter.admit("b", 1, 3, t),
            Admission::Accept,
            "other keys unaffected"
        );
        assert_eq!(
            limiter.admit("a", 1, 3, t + 20_000),
            Admission::Accept,
            "next minute"
        );
        assert_eq!(
            limiter.admit("a", 1_000_000, 0, t),
            Admission::Accept,
            "0 = unlimited"
        );
    }
}
