//! Why a monitor operation is refused.

use crate::outbound;
use crate::store::StoreError;

/// Why a monitor operation is refused.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    /// A setting or a check-in is not usable; the text says which and why.
    #[error("{0}")]
    Invalid(String),
    /// The URL is one the collector may not request.
    #[error(transparent)]
    Target(#[from] outbound::OutboundError),
    /// Storage failed (a taken name is a conflict).
    #[error(transparent)]
    Store(#[from] StoreError),
}
