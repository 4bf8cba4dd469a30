//! Stored events, changed in the background when a file that helps them is uploaded.

use mayday_protocol::Event;

use super::{Symbolicator, lacks_sources};
use crate::store::entities::DebugFileKind;
use crate::store::{Store, StoreError};

/// Issues looked at after an upload (the most recently seen), and events changed in each.
const AFTER_UPLOAD_ISSUES: u64 = 500;
const AFTER_UPLOAD_EVENTS: u64 = 1000;

/// Whether `event` was stored without the debug file `debug_id`.
fn lacks(event: &Event, debug_id: &str) -> bool {
    event
        .other
        .get("mayday_missing_debug_files")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|ids| ids.iter().any(|id| id.as_str() == Some(debug_id)))
}

/// After a file of `debug_id` was uploaded to `project_id`, the stored events it
/// helps are stored again with its help. After an ELF debug file, the events that arrived
/// without it (in the project's 500 most recently seen issues, 1,000 events each) are
/// named and stored again, and each such issue takes the identity its named events
/// have: merged into the issue that already has it (counts kept exact, as a merge
/// keeps them), else given its fingerprint, title and culprit. Returns the events
/// named. After a source bundle, the in-app frames of the events with that image get
/// their source lines (same bounds); returns the events changed. Runs in the
/// background after an upload.
pub async fn after_upload(
    store: &Store,
    symbolicator: &Symbolicator,
    project_id: i64,
    debug_id: &str,
    kind: DebugFileKind,
) -> Result<usize, StoreError> {
    match kind {
        DebugFileKind::Elf => name_events(store, symbolicator, project_id, debug_id).await,
        DebugFileKind::Sources => add_sources(store, symbolicator, project_id, debug_id).await,
    }
}

async fn name_events(
    store: &Store,
    symbolicator: &Symbolicator,
    project_id: i64,
    debug_id: &str,
) -> Result<usize, StoreError> {
    let mut named = 0;
    for issue in issues_where(store, project_id, |e| lacks(e, debug_id)).await? {
        let mut identity = None;
        for stored in store.issue_events(issue.id, 0, AFTER_UPLOAD_EVENTS).await? {
            let mut event = stored.event;
            if !lacks(&event, debug_id) {
                continue;
            }
            let outcome = symbolicator
                .symbolicate(store, project_id, &mut event)
                .await?;
            if outcome.resolved == 0 {
                continue;
            }
            if outcome.missing.is_empty() {
                event.other.remove("mayday_missing_debug_files");
            } else {
                event.other.insert(
                    "mayday_missing_debug_files".into(),
                    serde_json::json!(outcome.missing),
                );
            }
            identity.get_or_insert_with(|| crate::grouping::group(&event));
            store
                .replace_event_payload(stored.row.id, encoded(&event)?)
                .await?;
            named += 1;
        }
        let Some(identity) = identity else { continue };
        if identity.fingerprint == issue.fingerprint {
            continue;
        }
        match store
            .issue_by_fingerprint(project_id, &identity.fingerprint)
            .await?
        {
            Some(target) if target.id != issue.id => {
                store
                    .merge_issues(project_id, target.id, &[issue.id])
                    .await?;
                crate::audit::record(
                    store,
                    crate::audit::Actor::Collector,
                    project_id,
                    crate::store::AuditAction::IssuesMerged,
                    format!(
                        "issue {} into issue {}: their frames named by debug file {debug_id}",
                        issue.id, target.id
                    ),
                )
                .await?;
            }
            _ => {
                store
                    .regroup_issue(
                        issue.id,
                        &identity.fingerprint,
                        &identity.title,
                        identity.culprit.as_deref(),
                    )
                    .await?;
            }
        }
    }
    Ok(named)
}

/// Whether `event` has the image `debug_id` and in-app frames without source lines.
fn wants_sources(event: &Event, debug_id: &str) -> bool {
    let has_image = event.debug_meta.as_ref().is_some_and(|meta| {
        meta.images
            .iter()
            .any(|image| image.debug_id.as_deref() == Some(debug_id))
    });
    has_image
        && event
            .exceptions()
            .iter()
            .filter_map(|e| e.stacktrace.as_ref())
            .flat_map(|s| s.frames.iter())
            .any(lacks_sources)
}

async fn add_sources(
    store: &Store,
    symbolicator: &Symbolicator,
    project_id: i64,
    debug_id: &str,
) -> Result<usize, StoreError> {
    let mut changed = 0;
    let ids = [debug_id.to_owned()];
    for issue in issues_where(store, project_id, |e| wants_sources(e, debug_id)).await? {
        for stored in store.issue_events(issue.id, 0, AFTER_UPLOAD_EVENTS).await? {
            let mut event = stored.event;
            if !wants_sources(&event, debug_id) {
                continue;
            }
            if symbolicator
                .add_sources(store, project_id, &mut event, &ids)
                .await?
                == 0
            {
                continue;
            }
            store
                .replace_event_payload(stored.row.id, encoded(&event)?)
                .await?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// The project's most recently seen issues (at most [`AFTER_UPLOAD_ISSUES`]) whose
/// newest event is `wanted`.
async fn issues_where(
    store: &Store,
    project_id: i64,
    wanted: impl Fn(&Event) -> bool,
) -> Result<Vec<crate::store::entities::issue::Model>, StoreError> {
    let filter = crate::store::IssueFilter {
        limit: AFTER_UPLOAD_ISSUES,
        ..Default::default()
    };
    let mut found = Vec::new();
    for issue in store.list_issues(project_id, &filter).await? {
        let newest = store.issue_events(issue.id, 0, 1).await?;
        if newest.first().is_some_and(|e| wanted(&e.event)) {
            found.push(issue);
        }
    }
    Ok(found)
}

/// `event` as stored.
fn encoded(event: &Event) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(event)
        .map_err(|e| e.to_string())
        .and_then(|json| crate::store::encode_payload(&json).map_err(|e| e.to_string()))
        .map_err(StoreError::Payload)
}
