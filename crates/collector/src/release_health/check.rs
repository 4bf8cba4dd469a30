//! The deploy check's rule, pure: is a release's failure rate significantly worse
//! than the previous release's?
//!
//! Rule: both have at least [`MIN_REQUESTS`] requests in the window, and the release's
//! failure rate (5xx and panics over all requests) is above twice the previous one's
//! *and* more than one percentage point above it. The same per route, against the
//! route's rate in the previous release (or the previous release's overall rate when
//! the route had too few requests there). A fixed rule rather than a statistical test:
//! it is easy to state in a CI log and hard to trip by noise at 200+ requests (1% to 2%
//! at 200 requests is 2 vs 4 failures, which also needs the +1 point).

use serde::{Deserialize, Serialize};

/// Requests needed, in the release and in the one compared with.
pub const MIN_REQUESTS: i64 = 200;

/// Requests and failures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Rates {
    pub requests: i64,
    pub failed: i64,
}

impl Rates {
    /// Failures over requests (0 without requests).
    pub fn rate(self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.failed as f64 / self.requests as f64
        }
    }

    /// Whether there are enough requests to judge.
    pub fn enough(self) -> bool {
        self.requests >= MIN_REQUESTS
    }
}

/// Whether `current` is significantly worse than `previous` (see the module's rule).
pub fn worse(current: Rates, previous: Rates) -> bool {
    current.enough()
        && previous.enough()
        && current.rate() > 2.0 * previous.rate()
        && current.rate() - previous.rate() > 0.01
}

/// The verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Nothing worse: exit 0.
    Pass,
    /// Something is worse: exit 1.
    Fail,
    /// Too few requests to say (and nothing else failed): exit 2.
    NotEnoughData,
}

impl Verdict {
    /// The command's exit code.
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Pass => 0,
            Verdict::Fail => 1,
            Verdict::NotEnoughData => 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rates(requests: i64, failed: i64) -> Rates {
        Rates { requests, failed }
    }

    #[test]
    fn worse_needs_requests_twice_the_rate_and_a_point_more() {
        assert!(worse(rates(1000, 100), rates(1000, 10)), "10% against 1%");
        assert!(!worse(rates(1000, 12), rates(1000, 10)), "1.2% against 1%");
        assert!(
            !worse(rates(1000, 10), rates(1000, 1)),
            "1.0% vs 0.1%: under +1 point"
        );
        assert!(worse(rates(1000, 25), rates(1000, 1)), "2.5% vs 0.1%");
        assert!(!worse(rates(100, 50), rates(1000, 10)), "too few requests");
        assert!(
            !worse(rates(1000, 100), rates(100, 1)),
            "too few to compare with"
        );
        assert!(
            !worse(rates(1000, 100), rates(1000, 60)),
            "10% vs 6%: not twice"
        );
        assert_eq!(Verdict::NotEnoughData.exit_code(), 2);
    }
}
