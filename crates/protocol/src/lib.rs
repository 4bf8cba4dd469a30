//! The part of Sentry's ingestion protocol (version 7) that Mayday speaks, with no I/O.
//!
//! Both the reporter (which writes events) and the collector (which reads them, also
//! from official Sentry SDKs) depend on this crate, so the wire format lives in one place:
//!
//! - [`event`]: the event model, a typed subset of Sentry's event schema that keeps every
//!   field it does not know so that a round trip loses nothing;
//! - [`envelope`]: the envelope reader and writer;
//! - [`dsn`]: DSN parsing and the ingest URLs derived from it;
//! - [`auth`]: the `X-Sentry-Auth` header;
//! - [`check_in`]: cron check-ins and the monitor configuration they carry.
//!
//! ```
//! use mayday_protocol::{Dsn, Envelope, Event, Level};
//!
//! let dsn: Dsn = "http://public@127.0.0.1:8300/1".parse()?;
//! let mut event = Event::new();
//! event.level = Some(Level::Error);
//! event.message = Some("card declined".into());
//! let envelope = Envelope::from_event(&event, Some(&dsn))?;
//! let bytes = envelope.to_bytes();
//! let back = Envelope::parse(&bytes)?;
//! assert_eq!(back.events()?.len(), 1);
//! assert_eq!(dsn.envelope_url().as_str(), "http://127.0.0.1:8300/api/1/envelope/");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod auth;
pub mod check_in;
pub mod debug_meta;
pub mod dsn;
pub mod envelope;
pub mod event;
mod known_fields;
mod lenient;

pub use auth::{AuthError, SentryAuth};
pub use check_in::{CheckIn, CheckInError, CheckInStatus, IntervalUnit, MonitorConfig, Schedule};
pub use debug_meta::{DebugImage, DebugMeta, debug_id_of_build_id, parse_addr};
pub use dsn::{Dsn, DsnError};
pub use envelope::{Envelope, EnvelopeError, EnvelopeHeader, Item, ItemType};
pub use event::*;
