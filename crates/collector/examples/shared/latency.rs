//! Latency percentiles, as every benchmark reports them.

use std::time::Duration;

/// The `p` percentile (0 to 1, nearest rank) of `sorted`, in milliseconds; 0 when
/// nothing was measured.
pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    let Some(last) = sorted.len().checked_sub(1) else {
        return 0.0;
    };
    let index = ((last as f64) * p).round() as usize;
    sorted[index.min(last)].as_secs_f64() * 1000.0
}
