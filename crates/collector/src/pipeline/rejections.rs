//! Events turned away before being stored (a key that does not exist, a disabled key, a
//! key of another project, the rate limit): logged once per key and reason per minute,
//! with the key's first characters and the client's address, and counted per project
//! for the last hour, so that a wrong DSN is seen on both sides instead of losing every
//! event silently.
//!
//! Counts are this process's (several collectors each show their own share); they are
//! kept in memory, bounded, and forgotten after an hour.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;

/// Why an event was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rejection {
    /// The key does not exist.
    UnknownKey,
    /// The key is disabled.
    DisabledKey,
    /// The key belongs to another project than the URL's.
    OtherProject,
    /// The key's rate limit was reached.
    RateLimit,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Rejection::UnknownKey => "unknown key",
            Rejection::DisabledKey => "disabled key",
            Rejection::OtherProject => "key of another project",
            Rejection::RateLimit => "rate limit",
        })
    }
}

/// Minutes of counts kept.
const WINDOW_MINUTES: i64 = 60;
/// Most (project, reason) series, and most (key, reason) log marks, kept: a flood of
/// made-up project ids or keys cannot grow memory without bound.
const MAX_SERIES: usize = 10_000;
/// Characters of a key shown in the log.
const KEY_PREFIX: usize = 8;

#[derive(Debug, Default)]
struct Inner {
    /// Per project and reason: (minute, events) for the last hour, oldest first.
    counts: HashMap<(i64, Rejection), VecDeque<(i64, u64)>>,
    /// Per key prefix and reason: the minute it was last logged.
    logged: HashMap<(String, Rejection), i64>,
}

/// The rejections of this process.
#[derive(Debug, Default)]
pub struct Rejections {
    inner: Mutex<Inner>,
}

impl Rejections {
    /// Counts `events` turned away from `project_id` for `reason`, and logs it unless
    /// this key was logged for this reason in the same minute; returns whether it logged.
    pub fn record(
        &self,
        project_id: i64,
        reason: Rejection,
        key: &str,
        client: Option<IpAddr>,
        events: u64,
        now_ms: i64,
    ) -> bool {
        let minute = now_ms.div_euclid(60_000);
        let prefix: String = key
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(KEY_PREFIX)
            .collect();
        let log = {
            let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            let series = (project_id, reason);
            if inner.counts.contains_key(&series) || inner.counts.len() < MAX_SERIES {
                let series = inner.counts.entry(series).or_default();
                match series.back_mut() {
                    Some((at, count)) if *at == minute => *count += events,
                    _ => series.push_back((minute, events)),
                }
                while series
                    .front()
                    .is_some_and(|(at, _)| *at <= minute - WINDOW_MINUTES)
                {
                    series.pop_front();
                }
            }
            if inner.logged.len() >= MAX_SERIES {
                inner.logged.retain(|_, at| *at == minute);
            }
            match inner.logged.get(&(prefix.clone(), reason)) {
                Some(at) if *at == minute => false,
                _ => {
                    if inner.logged.len() < MAX_SERIES {
                        inner.logged.insert((prefix.clone(), reason), minute);
                    }
                    true
                }
            }
        };
        if log {
            let client = client.map(|ip| ip.to_string()).unwrap_or_default();
            tracing::warn!(
                project_id,
                key = %format!("{prefix}…"),
                %client,
                %reason,
                "events rejected (logged once per key and reason per minute)"
            );
        }
        log
    }

    /// Events turned away from `project_id` in the last hour, per reason, most first.
    pub fn last_hour(&self, project_id: i64, now_ms: i64) -> Vec<(Rejection, u64)> {
        let minute = now_ms.div_euclid(60_000);
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut totals: Vec<(Rejection, u64)> = inner
            .counts
            .iter()
            .filter(|((project, _), _)| *project == project_id)
            .map(|((_, reason), series)| {
                let total = series
                    .iter()
                    .filter(|(at, _)| *at > minute - WINDOW_MINUTES)
                    .map(|(_, count)| count)
                    .sum();
                (*reason, total)
            })
            .filter(|(_, total)| *total > 0)
            .collect();
        totals.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        totals
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_last_hour_per_project_and_reason() {
        let rejections = Rejections::default();
        let start = 1_700_000_000_000;
        rejections.record(1, Rejection::RateLimit, "abcdef0123456789", None, 3, start);
        rejections.record(
            1,
            Rejection::RateLimit,
            "abcdef0123456789",
            None,
            2,
            start + 1000,
        );
        rejections.record(1, Rejection::UnknownKey, "zzz", None, 1, start + 61_000);
        rejections.record(2, Rejection::DisabledKey, "k", None, 7, start);
        assert_eq!(
            rejections.last_hour(1, start + 61_000),
            vec![(Rejection::RateLimit, 5), (Rejection::UnknownKey, 1)]
        );
        assert_eq!(
            rejections.last_hour(2, start),
            vec![(Rejection::DisabledKey, 7)]
        );
        // An hour later the first minute is gone.
        assert_eq!(
            rejections.last_hour(1, start + 3_600_000 + 30_000),
            vec![(Rejection::UnknownKey, 1)]
        );
    }

    #[test]
    fn logs_once_per_key_and_reason_per_minute() {
        let rejections = Rejections::default();
        let start = 1_700_000_000_000 - 1_700_000_000_000 % 60_000;
        assert!(rejections.record(1, Rejection::UnknownKey, "abc", None, 1, start));
        assert!(!rejections.record(1, Rejection::UnknownKey, "abc", None, 1, start + 30_000));
        assert!(rejections.record(1, Rejection::UnknownKey, "other", None, 1, start + 30_000));
        assert!(rejections.record(1, Rejection::RateLimit, "abc", None, 1, start + 30_000));
        assert!(rejections.record(1, Rejection::UnknownKey, "abc", None, 1, start + 60_000));
    }

    #[test]
    fn made_up_projects_cannot_grow_it_without_bound() {
        let rejections = Rejections::default();
        for project in 0..(MAX_SERIES as i64 + 500) {
            rejections.record(project, Rejection::UnknownKey, "k", None, 1, 0);
        }
        let inner = rejections.inner.lock().unwrap();
        assert_eq!(inner.counts.len(), MAX_SERIES);
        assert!(inner.logged.len() <= MAX_SERIES);
    }
}
