//! DSN key lookups, remembered for a few seconds (found or not), so that a flood of
//! events with a bogus key costs no query.

use std::collections::HashMap;

use super::entities::{project, project_key};

/// What the ingest path needs to know about a key.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    /// The key.
    pub key: project_key::Model,
    /// Its project.
    pub project: project::Model,
}

/// How long a key lookup is remembered.
pub const KEY_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// Recent key lookups, found or not (a flood of bogus keys is answered from memory too).
#[derive(Debug, Default)]
pub(crate) struct KeyCache {
    entries: std::sync::Mutex<HashMap<String, (std::time::Instant, Option<KeyInfo>)>>,
}

/// Lookups remembered at most; past it the cache starts over.
const KEY_CACHE_MAX: usize = 10_000;

impl KeyCache {
    pub(super) fn get(&self, public_key: &str) -> Option<Option<KeyInfo>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(public_key)
            .filter(|(at, _)| at.elapsed() < KEY_CACHE_TTL)
            .map(|(_, found)| found.clone())
    }

    pub(super) fn put(&self, public_key: &str, found: Option<KeyInfo>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= KEY_CACHE_MAX {
            entries.clear();
        }
        entries.insert(public_key.to_owned(), (std::time::Instant::now(), found));
    }

    pub(crate) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}
