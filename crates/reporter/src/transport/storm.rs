//! Storm control: when one failure repeats many times a minute (a bad deploy, a broken
//! dependency), send the first ones and then one summary with the count, instead of
//! flooding the collector and the app's own network with copies.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use crate::capture::Capture;
use crate::failure::{Failure, Trace};

/// The window over which failures are counted.
pub(crate) const WINDOW: Duration = Duration::from_secs(60);

/// Instruction addresses that identify where a failure happened: enough to tell call
/// sites apart, few enough that the outer frames (which differ by thread) do not count.
const KEY_FRAMES: usize = 16;

/// What to do with a capture.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // Short-lived, on the worker's stack; boxing buys nothing.
pub(crate) enum Verdict {
    /// Send it.
    Send(Capture),
    /// Held back: counted into the summary of its window.
    Suppressed,
}

#[derive(Debug)]
struct Window {
    started: Instant,
    seen: u32,
    /// The latest held-back capture and how many were held back.
    held: Option<(Capture, u32)>,
}

/// Counts failures per key within a window.
#[derive(Debug, Default)]
pub(crate) struct Storms {
    limit: u32,
    windows: HashMap<u64, Window>,
}

impl Storms {
    /// At most `limit` captures per key and window are sent as they come (0: no limit).
    pub(crate) fn new(limit: u32) -> Self {
        Storms {
            limit,
            windows: HashMap::new(),
        }
    }

    /// Decides on `capture`, seen at `now`. A capture that ends a window first makes the
    /// window's summary due; collect it with [`Storms::due`].
    pub(crate) fn admit(&mut self, capture: Capture, now: Instant) -> Verdict {
        if self.limit == 0 {
            return Verdict::Send(capture);
        }
        let window = self.windows.entry(key(&capture)).or_insert(Window {
            started: now,
            seen: 0,
            held: None,
        });
        if now.duration_since(window.started) >= WINDOW && window.held.is_none() {
            window.started = now;
            window.seen = 0;
        }
        window.seen = window.seen.saturating_add(1);
        if window.seen <= self.limit {
            return Verdict::Send(capture);
        }
        let count = window.held.as_ref().map_or(0, |(_, count)| *count);
        window.held = Some((capture, count + 1));
        Verdict::Suppressed
    }

    /// Summaries due at `now` (their window is over), or every pending one when `all`:
    /// the latest held-back capture of each, carrying how many were held back.
    pub(crate) fn due(&mut self, now: Instant, all: bool) -> Vec<Capture> {
        let mut summaries = Vec::new();
        self.windows.retain(|_, window| {
            let over = now.duration_since(window.started) >= WINDOW;
            if over || all {
                if let Some((mut capture, count)) = window.held.take() {
                    capture.repeats = count;
                    summaries.push(capture);
                }
            }
            // A window that is over and summarized is forgotten.
            !over
        });
        summaries
    }
}

/// The identity of a failure, from what is known before symbols are resolved: its kind,
/// its type or message, and where it happened (the panic location, the innermost
/// instruction addresses). Values inside a panic message do not count, so `index 3` and
/// `index 4` at the same place are one failure.
fn key(capture: &Capture) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let trace = |hasher: &mut std::collections::hash_map::DefaultHasher,
                 trace: Option<&backtrace::Backtrace>| {
        if let Some(trace) = trace {
            for frame in trace.frames().iter().take(KEY_FRAMES) {
                (frame.ip() as usize).hash(hasher);
            }
        }
    };
    match &capture.failure {
        Failure::Panic(panic) => {
            0u8.hash(&mut hasher);
            panic.location.hash(&mut hasher);
            if panic.location.is_none() {
                panic.message.hash(&mut hasher);
            }
            trace(&mut hasher, panic.backtrace.as_ref());
        }
        Failure::Error(error) => {
            1u8.hash(&mut hasher);
            for link in &error.chain {
                link.ty.hash(&mut hasher);
            }
            if let Some(Trace::Unresolved(backtrace)) = &error.trace {
                trace(&mut hasher, Some(backtrace));
            }
        }
        Failure::Status { status, error } => {
            2u8.hash(&mut hasher);
            status.as_u16().hash(&mut hasher);
            capture
                .request
                .as_ref()
                .map(|r| r.transaction())
                .hash(&mut hasher);
            if let Some(error) = error {
                for link in &error.chain {
                    link.ty.hash(&mut hasher);
                }
            }
        }
        Failure::Message { text, .. } => {
            3u8.hash(&mut hasher);
            text.hash(&mut hasher);
        }
        Failure::Log { text, logger, .. } => {
            4u8.hash(&mut hasher);
            logger.hash(&mut hasher);
            text.hash(&mut hasher);
        }
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::ScopeData;
    use crate::failure::PanicCapture;
    use mayday_protocol::{EventId, Timestamp};

    fn panic_at(line: u32, value: u32) -> Capture {
        Capture {
            event_id: EventId::new(),
            failure: Failure::Panic(PanicCapture {
                message: format!("index out of bounds: the len is 3 but the index is {value}"),
                location: Some(format!("src/cart.rs:{line}:9")),
                backtrace: None,
                thread: None,
            }),
            timestamp: Timestamp::now(),
            request: None,
            data: ScopeData::default(),
            repeats: 0,
        }
    }

    #[test]
    fn repeats_past_the_limit_become_one_summary_with_the_count() {
        let start = Instant::now();
        let mut storms = Storms::new(3);
        let mut sent = 0;
        for i in 0..10 {
            if let Verdict::Send(_) = storms.admit(panic_at(10, i), start) {
                sent += 1;
            }
        }
        assert_eq!(sent, 3, "the first three go out");
        // Another place is another failure.
        assert!(matches!(
            storms.admit(panic_at(20, 0), start),
            Verdict::Send(_)
        ));
        assert!(storms.due(start + Duration::from_secs(5), false).is_empty());
        let summaries = storms.due(start + WINDOW, false);
        assert_eq!(summaries.len(), 1);
        assert_eq!(summaries[0].repeats, 7);
        // A new window starts over.
        assert!(matches!(
            storms.admit(panic_at(10, 1), start + WINDOW),
            Verdict::Send(_)
        ));
    }

    #[test]
    fn a_flush_takes_pending_summaries_early() {
        let start = Instant::now();
        let mut storms = Storms::new(1);
        for i in 0..4 {
            storms.admit(panic_at(10, i), start);
        }
        let summaries = storms.due(start, true);
        assert_eq!(summaries.len(), 1);
        assert_eq!(summaries[0].repeats, 3);
        assert!(storms.due(start, true).is_empty());
    }

    #[test]
    fn no_limit_sends_everything() {
        let mut storms = Storms::new(0);
        let now = Instant::now();
        for i in 0..100 {
            assert!(matches!(
                storms.admit(panic_at(10, i), now),
                Verdict::Send(_)
            ));
        }
    }
}
