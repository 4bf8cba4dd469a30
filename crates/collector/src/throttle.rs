//! Slowing down password guessing without locking the owner out.
//!
//! Each attempt is counted before its password is checked, under one lock, so that
//! parallel guesses cannot slip past the count while Argon2 runs. Past a few free
//! failures, the next attempt must wait, and the wait doubles with every failure: per
//! client address (up to 15 minutes) and per account (up to one minute, so that the
//! owner, from elsewhere, is slowed down but never shut out by someone else's guesses).
//! Refused attempts do not count: hammering does not lengthen the wait.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use crate::store::now_ms;

/// Failures allowed per account or client before waits begin.
pub const FREE_FAILURES: u32 = 5;
/// The first wait; each further failure doubles it.
const FIRST_WAIT_MS: i64 = 1_000;
/// The longest wait for a client address.
const CLIENT_MAX_WAIT_MS: i64 = 15 * 60 * 1000;
/// The longest wait for an account, whoever tries.
const ACCOUNT_MAX_WAIT_MS: i64 = 60 * 1000;
/// Failures older than this are forgotten.
const MEMORY_MS: i64 = 60 * 60 * 1000;
/// Most buckets kept; beyond it, old ones are dropped first.
const MAX_BUCKETS: usize = 100_000;

/// What a bucket counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Client(IpAddr),
}

impl Key {
    fn max_wait_ms(&self) -> i64 {
        match self {
            Key::Account(_) => ACCOUNT_MAX_WAIT_MS,
            Key::Client(_) => CLIENT_MAX_WAIT_MS,
        }
    }
}

/// Failures of one account or client.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    failures: u32,
    last_ms: i64,
}

impl Bucket {
    /// When the next attempt may be made.
    fn next_allowed_ms(&self, max_wait_ms: i64) -> i64 {
        if self.failures < FREE_FAILURES {
            return i64::MIN;
        }
        let doublings = (self.failures - FREE_FAILURES).min(30);
        let wait = FIRST_WAIT_MS
            .saturating_mul(1 << doublings)
            .min(max_wait_ms);
        self.last_ms.saturating_add(wait)
    }
}

/// Counts sign-in attempts per account and per client address.
#[derive(Debug, Default)]
pub struct SignInThrottle {
    buckets: Mutex<HashMap<Key, Bucket>>,
}

/// An attempt that was let through and counted as a failure until it succeeds.
#[derive(Debug)]
#[must_use = "a successful sign-in must call `succeeded`"]
pub struct Attempt {
    keys: Vec<Key>,
}

impl SignInThrottle {
    fn keys(email: &str, client: Option<IpAddr>) -> Vec<Key> {
        let mut keys = vec![Key::Account(email.trim().to_lowercase())];
        keys.extend(client.map(Key::Client));
        keys
    }

    /// Lets an attempt through and counts it as a failure, or says how many seconds to
    /// wait first.
    pub fn attempt(&self, email: &str, client: Option<IpAddr>) -> Result<Attempt, u64> {
        let now = now_ms();
        let keys = Self::keys(email, client);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let allowed_at = keys
            .iter()
            .filter_map(|key| {
                let bucket = buckets.get(key)?;
                (now - bucket.last_ms < MEMORY_MS)
                    .then(|| bucket.next_allowed_ms(key.max_wait_ms()))
            })
            .max()
            .unwrap_or(i64::MIN);
        if allowed_at > now {
            let wait_ms = allowed_at - now;
            return Err(u64::try_from((wait_ms + 999) / 1000).unwrap_or(1));
        }
        if buckets.len() >= MAX_BUCKETS {
            buckets.retain(|_, b| now - b.last_ms < MEMORY_MS);
        }
        for key in &keys {
            let bucket = buckets.entry(key.clone()).or_insert(Bucket {
                failures: 0,
                last_ms: now,
            });
            if now - bucket.last_ms >= MEMORY_MS {
                bucket.failures = 0;
            }
            bucket.failures += 1;
            bucket.last_ms = now;
        }
        Ok(Attempt { keys })
    }

    /// The attempt failed: it is counted already, and the wait runs from now, when the
    /// answer is known. Run from the attempt's start, a password check slowed by load
    /// (Argon2 on busy cores) used up the first second's wait before the failure was
    /// even answered, and the next guess went straight through.
    pub fn failed(&self, attempt: Attempt) {
        let now = now_ms();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        for key in attempt.keys {
            if let Some(bucket) = buckets.get_mut(&key) {
                bucket.last_ms = bucket.last_ms.max(now);
            }
        }
    }

    /// The attempt signed in: the account's failures are forgotten, and this attempt
    /// no longer counts against its client.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        for key in attempt.keys {
            match key {
                Key::Account(_) => {
                    buckets.remove(&key);
                }
                Key::Client(_) => {
                    if let Some(bucket) = buckets.get_mut(&key) {
                        bucket.failures = bucket.failures.saturating_sub(1);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_and_are_capped() {
        let bucket = |failures| Bucket {
            failures,
            last_ms: 0,
        };
        assert_eq!(bucket(4).next_allowed_ms(60_000), i64::MIN);
        assert_eq!(bucket(5).next_allowed_ms(60_000), 1_000);
        assert_eq!(bucket(7).next_allowed_ms(60_000), 4_000);
        assert_eq!(bucket(40).next_allowed_ms(60_000), 60_000);
        assert_eq!(
            bucket(40).next_allowed_ms(CLIENT_MAX_WAIT_MS),
            CLIENT_MAX_WAIT_MS
        );
    }

    #[test]
    fn attempts_are_counted_before_the_check_and_success_forgets_the_account() {
        let throttle = SignInThrottle::default();
        let client: Option<IpAddr> = "203.0.113.7".parse().ok();
        let attempts: Vec<_> = (0..40)
            .map(|_| throttle.attempt("Owner@example.com", client))
            .collect();
        assert_eq!(attempts.iter().filter(|a| a.is_ok()).count(), 5);
        let other: Option<IpAddr> = "198.51.100.2".parse().ok();
        let wait = throttle.attempt("owner@example.com", other).unwrap_err();
        assert!(wait <= 1, "the account waits a second, not fifteen minutes");
        // Another account from a fresh client is not slowed; from the guessing one it is.
        assert!(throttle.attempt("someone@example.com", other).is_ok());
        assert!(throttle.attempt("someone@example.com", client).is_err());
        // A failure's wait runs from when it was answered: the fifth check took ten
        // seconds, so a wait counted from its start would be over already.
        let key = Key::Account("slow@example.com".into());
        let mut fifth = None;
        for _ in 0..FREE_FAILURES {
            fifth = throttle.attempt("slow@example.com", None).ok();
        }
        let slow = |throttle: &SignInThrottle| throttle.buckets.lock().unwrap()[&key];
        throttle
            .buckets
            .lock()
            .unwrap()
            .get_mut(&key)
            .unwrap()
            .last_ms -= 10_000;
        assert!(slow(&throttle).next_allowed_ms(ACCOUNT_MAX_WAIT_MS) < now_ms());
        throttle.failed(fifth.unwrap());
        assert!(throttle.attempt("slow@example.com", None).is_err());
        assert_eq!(
            slow(&throttle).failures,
            FREE_FAILURES,
            "refusals do not count"
        );
        // Failures are remembered per account and per client, whatever the case.
        let attempt = throttle.attempt("fresh@example.com", None).unwrap();
        throttle.succeeded(attempt);
        for _ in 0..FREE_FAILURES {
            let _counted = throttle.attempt("FRESH@example.com", None).unwrap();
        }
        assert!(throttle.attempt("fresh@example.com", None).is_err());
    }
}
