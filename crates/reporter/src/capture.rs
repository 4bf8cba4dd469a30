//! What the request path hands to the worker: one failure with its request and the
//! scope's data, and the id its event will have.

use std::collections::BTreeMap;
use std::sync::Arc;

use mayday_protocol::{Breadcrumb, EventId, Timestamp, User};

use crate::failure::Failure;
use crate::request::RequestSnapshot;

/// What the scope holds, copied into each event captured under it.
#[derive(Debug, Clone, Default)]
pub(crate) struct ScopeData {
    pub(crate) user: Option<User>,
    pub(crate) tags: BTreeMap<String, String>,
    pub(crate) breadcrumbs: Vec<Breadcrumb>,
}

/// One queued report, as the request path hands it over.
#[derive(Debug)]
pub(crate) struct Capture {
    pub(crate) event_id: EventId,
    pub(crate) failure: Failure,
    pub(crate) timestamp: Timestamp,
    pub(crate) request: Option<Arc<RequestSnapshot>>,
    pub(crate) data: ScopeData,
    /// How many more times this failure happened and was held back by storm control.
    pub(crate) repeats: u32,
}
