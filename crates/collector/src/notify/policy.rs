//! When an event causes a notification: a new issue and a regression always do; a spike
//! (more than the project's threshold of events in its window) does, at most once per
//! quiet time per issue. A pure function of what ingest did, applied by the store in the
//! event's transaction.

use crate::store::{IngestFacts, NotificationKind, NotificationRule};

/// The collector's rule.
#[derive(Debug, Clone, Copy, Default)]
pub struct Policy;

impl NotificationRule for Policy {
    fn count_since(&self, facts: &IngestFacts) -> Option<i64> {
        let spike = facts.spike;
        let quiet = facts
            .last_notified_at
            .is_some_and(|at| facts.received_at - at < spike.quiet_ms);
        let counts = spike.threshold > 0 && !facts.new_issue && !facts.regression && !quiet;
        counts.then(|| facts.received_at - spike.window_ms)
    }

    fn decide(&self, facts: &IngestFacts, recent: Option<u64>) -> Option<NotificationKind> {
        if facts.new_issue {
            return Some(NotificationKind::NewIssue);
        }
        if facts.regression {
            return Some(NotificationKind::Regression);
        }
        let threshold = u64::try_from(facts.spike.threshold).unwrap_or(0);
        match recent {
            Some(events) if threshold > 0 && events > threshold => Some(NotificationKind::Spike),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SpikeSettings;

    fn facts(new_issue: bool, regression: bool, last_notified_at: Option<i64>) -> IngestFacts {
        IngestFacts {
            new_issue,
            regression,
            received_at: 1_000_000,
            last_notified_at,
            spike: SpikeSettings {
                threshold: 10,
                window_ms: 60_000,
                quiet_ms: 3_600_000,
            },
        }
    }

    /// One row per case: facts, events counted, the notification.
    #[test]
    fn decides_from_what_ingest_did() {
        let cases = [
            (
                facts(true, false, None),
                None,
                Some(NotificationKind::NewIssue),
            ),
            (
                facts(false, true, Some(999_000)),
                None,
                Some(NotificationKind::Regression),
            ),
            (
                facts(false, false, None),
                Some(11),
                Some(NotificationKind::Spike),
            ),
            (facts(false, false, None), Some(10), None),
            (facts(false, false, None), None, None),
        ];
        for (facts, recent, expected) in cases {
            assert_eq!(
                Policy.decide(&facts, recent),
                expected,
                "{facts:?} {recent:?}"
            );
        }
    }

    #[test]
    fn counts_only_when_a_spike_can_be_notified() {
        assert_eq!(
            Policy.count_since(&facts(false, false, None)),
            Some(940_000)
        );
        // New issues and regressions notify anyway; a recent notification is quiet time.
        assert_eq!(Policy.count_since(&facts(true, false, None)), None);
        assert_eq!(Policy.count_since(&facts(false, true, None)), None);
        assert_eq!(
            Policy.count_since(&facts(false, false, Some(999_000))),
            None
        );
        let mut off = facts(false, false, None);
        off.spike.threshold = 0;
        assert_eq!(Policy.count_since(&off), None);
    }
}
