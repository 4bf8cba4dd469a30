//! The bytes of request bodies all requests may hold at once (`MAYDAY_MAX_BYTES_IN_FLIGHT`):
//! a request reserves what it reads, and past the budget it is answered 503 with
//! `Retry-After` before (more of) its body is read.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The budget is spent: retry shortly.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("too many bytes in flight; retry shortly")]
pub struct Busy;

/// The bytes all requests may hold at once.
#[derive(Debug)]
pub struct InFlight {
    used: AtomicUsize,
    limit: usize,
}

impl InFlight {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(InFlight {
            used: AtomicUsize::new(0),
            limit,
        })
    }

    /// Bytes held right now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// An empty reservation, grown as a body is read.
    pub fn reservation(self: &Arc<Self>) -> Reservation {
        Reservation {
            budget: self.clone(),
            bytes: 0,
        }
    }
}

/// Bytes a request holds; given back when dropped.
#[derive(Debug)]
pub struct Reservation {
    budget: Arc<InFlight>,
    bytes: usize,
}

impl Reservation {
    /// Holds `more` bytes, if the budget has them.
    pub fn grow(&mut self, more: usize) -> Result<(), Busy> {
        let budget = &self.budget;
        let mut used = budget.used.load(Ordering::Relaxed);
        loop {
            let next = used.checked_add(more).ok_or(Busy)?;
            if next > budget.limit {
                return Err(Busy);
            }
            match budget
                .used
                .compare_exchange_weak(used, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => {
                    self.bytes += more;
                    return Ok(());
                }
                Err(current) => used = current,
            }
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_shared_and_given_back() {
        let budget = InFlight::new(100);
        let mut first = budget.reservation();
        first.grow(60).unwrap();
        let mut second = budget.reservation();
        assert!(matches!(second.grow(50), Err(Busy)));
        second.grow(40).unwrap();
        assert_eq!(budget.used(), 100);
        drop(first);
        assert_eq!(budget.used(), 40);
        drop(second);
        assert_eq!(budget.used(), 0);
    }
}
