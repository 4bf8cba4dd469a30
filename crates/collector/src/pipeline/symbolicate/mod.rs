//! Naming the frames a stripped binary could not: an event's frames that carry only an
//! address are looked up in the debug file of their image (`debug_meta`), uploaded to
//! the project, before the event is grouped, so a crash groups the same from a stripped
//! and an unstripped build; and, where the image's source bundle is uploaded too, the
//! app's frames get the source lines around them.
//!
//! Lookups use `addr2line` (DWARF lines and inlined functions; the ELF symbol table for
//! full names where line tables name functions by their last segment) over the debug
//! file ([`lookup`]); the symbols found go through the reporter's own `frames::process`
//! (names, in-app by the app's source folder, trimming), so the frames are what the
//! reporter would have sent from an unstripped build. Files are read from a bounded
//! cache folder ([`cache`]).

mod after_upload;
mod cache;
mod lookup;

use std::collections::HashMap;
use std::path::PathBuf;

use mayday_protocol::{DebugImage, Event, Frame, parse_addr};
use mayday_reporter::frames::{self, AppSource, InAppRules, RawSymbol};
use serde_json::Value;

pub use after_upload::after_upload;
use cache::{Cache, SharedLoader};
use lookup::{App, as_raw, lookup, unnamed};

use crate::debug_files::source_bundle::Context;
use crate::store::{Store, StoreError};

/// One frame of a stack to name: as it is, its run-time address, and the debug file
/// and address (in the file's own terms) to look it up at, when there is one.
type Ask = (Frame, u64, Option<(SharedLoader, u64)>);

/// Names frames and adds source lines from a project's uploaded files.
pub struct Symbolicator {
    cache: Cache,
}

impl std::fmt::Debug for Symbolicator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Symbolicator")
            .field("dir", &self.cache.dir())
            .finish_non_exhaustive()
    }
}

/// What symbolicating an event did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Frames named.
    pub resolved: usize,
    /// Debug ids of images with frames to name whose file is not uploaded.
    pub missing: Vec<String>,
}

impl Symbolicator {
    /// A symbolicator writing debug files under `dir`.
    pub fn new(dir: PathBuf) -> Symbolicator {
        Symbolicator {
            cache: Cache::new(dir),
        }
    }

    /// Names the unnamed frames of `event` from `project_id`'s debug files; returns how
    /// many, and which files were missing.
    pub async fn symbolicate(
        &self,
        store: &Store,
        project_id: i64,
        event: &mut Event,
    ) -> Result<Outcome, StoreError> {
        let mut outcome = Outcome::default();
        // Most events name every frame: nothing to copy or look up for them.
        let images: &[DebugImage] = event.debug_meta.as_ref().map_or(&[], |m| &m.images);
        let any_unnamed = event
            .exceptions()
            .iter()
            .filter_map(|e| e.stacktrace.as_ref())
            .flat_map(|s| s.frames.iter())
            .any(|frame| unnamed(frame, images).is_some());
        if !any_unnamed {
            return Ok(outcome);
        }
        let images: Vec<DebugImage> = images.to_vec();
        let app = App::of(event);
        let mut loaders: HashMap<String, Option<SharedLoader>> = HashMap::new();
        let stacks = event
            .exception
            .iter_mut()
            .flat_map(|e| e.values.iter_mut())
            .filter_map(|e| e.stacktrace.as_mut());
        for stack in stacks {
            // What to look up, innermost first: each frame as it is, or its debug file
            // and the address in the file's own terms.
            let mut asks: Vec<Ask> = Vec::new();
            for frame in stack.frames.iter().rev() {
                let ip = frame
                    .instruction_addr
                    .as_deref()
                    .and_then(parse_addr)
                    .unwrap_or(0);
                let mut ask = None;
                if let Some((image, address)) = unnamed(frame, &images)
                    && let Some(debug_id) = image.debug_id.clone()
                {
                    if !loaders.contains_key(&debug_id) {
                        let loader = self.cache.loader(store, project_id, &debug_id).await?;
                        if loader.is_none() && !outcome.missing.contains(&debug_id) {
                            outcome.missing.push(debug_id.clone());
                        }
                        loaders.insert(debug_id.clone(), loader);
                    }
                    if let Some(Some(loader)) = loaders.get(&debug_id) {
                        let base = image
                            .image_addr
                            .as_deref()
                            .and_then(parse_addr)
                            .unwrap_or(0);
                        let vmaddr = image
                            .image_vmaddr
                            .as_deref()
                            .and_then(parse_addr)
                            .unwrap_or(0);
                        // A return address points after the call: look up the call.
                        let probe = address
                            .wrapping_sub(base)
                            .wrapping_add(vmaddr)
                            .saturating_sub(1);
                        ask = Some((loader.clone(), probe));
                    }
                }
                asks.push((frame.clone(), ip, ask));
            }
            if asks.iter().all(|(_, _, ask)| ask.is_none()) {
                continue;
            }
            // The stack as the reporter's resolution gives it, innermost first: frames it
            // named as they are, the unnamed ones from their debug file; all lookups of
            // the stack in one blocking task.
            let (raw, named) = tokio::task::spawn_blocking(move || {
                let mut raw: Vec<RawSymbol> = Vec::with_capacity(asks.len());
                let mut named = 0;
                for (frame, ip, ask) in asks {
                    let found = ask.map_or_else(Vec::new, |(loader, probe)| {
                        let loader = loader.lock().unwrap_or_else(|e| e.into_inner());
                        lookup(&loader, probe, ip)
                    });
                    if found.is_empty() {
                        raw.push(as_raw(&frame, ip));
                    } else {
                        named += 1;
                        raw.extend(found);
                    }
                }
                (raw, named)
            })
            .await
            .unwrap_or_default();
            if named == 0 {
                continue;
            }
            outcome.resolved += named;
            let source = AppSource {
                krate: &app.krate,
                manifest_dir: &app.manifest_dir,
                reporter_dir: &app.reporter_dir,
            };
            let mut processed = frames::process(&raw, &source, &InAppRules::default());
            for frame in &mut processed.frames {
                frame
                    .other
                    .insert("symbolicated".into(), serde_json::Value::Bool(true));
            }
            *stack = processed;
        }
        let found: Vec<String> = loaders
            .into_iter()
            .filter_map(|(id, loader)| loader.map(|_| id))
            .collect();
        if outcome.resolved > 0 {
            self.add_sources(store, project_id, event, &found).await?;
        }
        Ok(outcome)
    }

    /// Adds the source lines around each in-app frame of `event` that has none, from
    /// the source bundles of `debug_ids` uploaded to `project_id`; returns how many
    /// frames got them.
    pub async fn add_sources(
        &self,
        store: &Store,
        project_id: i64,
        event: &mut Event,
        debug_ids: &[String],
    ) -> Result<usize, StoreError> {
        let mut bundles = Vec::new();
        for debug_id in debug_ids {
            if let Some(bundle) = self.cache.bundle(store, project_id, debug_id).await? {
                bundles.push(bundle);
            }
        }
        let frames = || {
            event
                .exceptions()
                .iter()
                .filter_map(|e| e.stacktrace.as_ref())
                .flat_map(|s| s.frames.iter())
                .filter(|f| lacks_sources(f))
        };
        let wanted: Vec<(String, u64)> = frames()
            .filter_map(|f| Some((f.abs_path.clone()?, f.lineno?)))
            .collect();
        if bundles.is_empty() || wanted.is_empty() {
            return Ok(0);
        }
        // Reading the archives blocks: off the async threads.
        let found: HashMap<(String, u64), Context> = tokio::task::spawn_blocking(move || {
            let mut found = HashMap::new();
            for (path, line) in wanted {
                for bundle in &bundles {
                    let mut bundle = bundle.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(context) = bundle.context(&path, line) {
                        found.insert((path.clone(), line), context);
                        break;
                    }
                }
            }
            found
        })
        .await
        .unwrap_or_default();
        let mut added = 0;
        let stacks = event
            .exception
            .iter_mut()
            .flat_map(|e| e.values.iter_mut())
            .filter_map(|e| e.stacktrace.as_mut());
        for frame in stacks.flat_map(|s| s.frames.iter_mut()) {
            if !lacks_sources(frame) {
                continue;
            }
            let (Some(path), Some(line)) = (frame.abs_path.clone(), frame.lineno) else {
                continue;
            };
            let Some(context) = found.get(&(path, line)) else {
                continue;
            };
            let lines = |l: &[String]| Value::from(l.to_vec());
            frame
                .other
                .insert("pre_context".into(), lines(&context.pre));
            frame
                .other
                .insert("context_line".into(), Value::from(context.line.clone()));
            frame
                .other
                .insert("post_context".into(), lines(&context.post));
            added += 1;
        }
        Ok(added)
    }
}

/// Whether `frame` is the app's own, with a file and line, and without source lines.
fn lacks_sources(frame: &Frame) -> bool {
    frame.in_app == Some(true)
        && frame.abs_path.is_some()
        && frame.lineno.is_some()
        && !frame.other.contains_key("context_line")
}
