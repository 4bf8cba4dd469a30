//! Envelopes: the container format of Sentry's `/envelope/` endpoint.
//!
//! An envelope is a JSON header line followed by items; each item is a JSON header line
//! and a payload. A payload is either exactly `length` bytes (when the item header says)
//! or runs to the next newline. Item types this crate does not know are kept as
//! [`ItemType::Unknown`] and skipped by [`Envelope::events`], so a newer SDK never breaks
//! ingestion.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::dsn::Dsn;
use crate::event::{Event, EventId};
use crate::known_fields::deserialize_keeping_other;

/// Why an envelope could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// The body was empty.
    #[error("envelope is empty")]
    Empty,
    /// The first line is not a JSON object.
    #[error("envelope header is not valid JSON: {0}")]
    InvalidHeader(#[source] serde_json::Error),
    /// An item header is not a JSON object with a `type`.
    #[error("item {index}: header is not valid JSON: {source}")]
    InvalidItemHeader {
        /// Position of the item, from 0.
        index: usize,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// An item's `length` runs past the end of the body.
    #[error("item {index}: length {length} exceeds the {available} bytes left")]
    LengthOutOfBounds {
        /// Position of the item, from 0.
        index: usize,
        /// The declared length.
        length: u64,
        /// Bytes left in the body.
        available: usize,
    },
    /// An event item's payload is not a valid event.
    #[error("item {index}: event payload is invalid: {source}")]
    InvalidEvent {
        /// Position of the item, from 0.
        index: usize,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
}

/// The envelope's first line.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EnvelopeHeader {
    /// The id of the event inside, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// The DSN the sender used; collectors may authenticate with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dsn: Option<String>,
    /// When the sender sent it, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<String>,
    /// Other header fields, kept verbatim.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

deserialize_keeping_other!(EnvelopeHeader {
    "event_id" => event_id,
    "dsn" => dsn,
    "sent_at" => sent_at,
});

/// The type of an envelope item.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ItemType {
    /// An error event.
    Event,
    /// A performance transaction.
    Transaction,
    /// A file attached to an event.
    Attachment,
    /// A release-health session update.
    Session,
    /// Aggregated sessions.
    Sessions,
    /// The SDK's report of events it discarded.
    ClientReport,
    /// A cron monitor check-in.
    CheckIn,
    /// Structured log records.
    Log,
    /// User feedback.
    UserReport,
    /// Any other type, by name.
    Unknown(String),
}

impl ItemType {
    /// The name used on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            ItemType::Event => "event",
            ItemType::Transaction => "transaction",
            ItemType::Attachment => "attachment",
            ItemType::Session => "session",
            ItemType::Sessions => "sessions",
            ItemType::ClientReport => "client_report",
            ItemType::CheckIn => "check_in",
            ItemType::Log => "log",
            ItemType::UserReport => "user_report",
            ItemType::Unknown(name) => name,
        }
    }

    fn from_name(name: &str) -> Self {
        match name {
            "event" => ItemType::Event,
            "transaction" => ItemType::Transaction,
            "attachment" => ItemType::Attachment,
            "session" => ItemType::Session,
            "sessions" => ItemType::Sessions,
            "client_report" => ItemType::ClientReport,
            "check_in" => ItemType::CheckIn,
            "log" => ItemType::Log,
            "user_report" => ItemType::UserReport,
            other => ItemType::Unknown(other.to_owned()),
        }
    }
}

/// One item: its header (kept whole) and its payload bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The item's type, from the header's `type`.
    pub ty: ItemType,
    /// The full item header, including `type` and `length`.
    pub header: Map<String, Value>,
    /// The payload.
    pub payload: Vec<u8>,
}

impl Item {
    /// An item of type `ty` with a payload; `length` is set when written.
    pub fn new(ty: ItemType, payload: Vec<u8>) -> Self {
        let mut header = Map::new();
        header.insert("type".into(), Value::String(ty.as_str().to_owned()));
        Item {
            ty,
            header,
            payload,
        }
    }
}

/// A parsed or to-be-written envelope.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Envelope {
    /// The first line.
    pub header: EnvelopeHeader,
    /// The items, in order.
    pub items: Vec<Item>,
}

impl Envelope {
    /// An envelope holding one event item, with the DSN in the header when given.
    pub fn from_event(event: &Event, dsn: Option<&Dsn>) -> Result<Self, serde_json::Error> {
        let payload = serde_json::to_vec(event)?;
        let mut item = Item::new(ItemType::Event, payload);
        item.header.insert(
            "content_type".into(),
            Value::String("application/json".into()),
        );
        Ok(Envelope {
            header: EnvelopeHeader {
                event_id: event.event_id,
                dsn: dsn.map(ToString::to_string),
                sent_at: None,
                other: Map::new(),
            },
            items: vec![item],
        })
    }

    /// Reads an envelope.
    pub fn parse(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        let (first, mut rest) = split_line(bytes);
        if first.iter().all(u8::is_ascii_whitespace) {
            return Err(EnvelopeError::Empty);
        }
        let header: EnvelopeHeader =
            serde_json::from_slice(first).map_err(EnvelopeError::InvalidHeader)?;
        let mut items = Vec::new();
        while !rest.is_empty() {
            let (line, after) = split_line(rest);
            rest = after;
            if line.iter().all(u8::is_ascii_whitespace) {
                // Blank lines between or after items carry nothing.
                continue;
            }
            let index = items.len();
            let item_header: Map<String, Value> = serde_json::from_slice(line)
                .map_err(|source| EnvelopeError::InvalidItemHeader { index, source })?;
            let ty = ItemType::from_name(
                item_header
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
            );
            let payload = match item_header.get("length").and_then(Value::as_u64) {
                Some(length) => {
                    let available = rest.len();
                    let len = usize::try_from(length)
                        .ok()
                        .filter(|len| *len <= available)
                        .ok_or(EnvelopeError::LengthOutOfBounds {
                            index,
                            length,
                            available,
                        })?;
                    let (payload, after) = rest.split_at(len);
                    rest = after.strip_prefix(b"\n").unwrap_or(after);
                    payload
                }
                None => {
                    let (payload, after) = split_line(rest);
                    rest = after;
                    payload
                }
            };
            items.push(Item {
                ty,
                header: item_header,
                payload: payload.to_vec(),
            });
        }
        Ok(Envelope { header, items })
    }

    /// Writes the envelope, with an explicit `length` on every item.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            128 + self
                .items
                .iter()
                .map(|i| i.payload.len() + 64)
                .sum::<usize>(),
        );
        // Serializing maps of JSON values and plain structs cannot fail.
        let header = serde_json::to_vec(&self.header).unwrap_or_else(|_| b"{}".to_vec());
        out.extend_from_slice(&header);
        out.push(b'\n');
        for item in &self.items {
            let mut item_header = item.header.clone();
            item_header.insert("type".into(), Value::String(item.ty.as_str().to_owned()));
            item_header.insert("length".into(), Value::from(item.payload.len() as u64));
            let line = serde_json::to_vec(&item_header).unwrap_or_else(|_| b"{}".to_vec());
            out.extend_from_slice(&line);
            out.push(b'\n');
            out.extend_from_slice(&item.payload);
            out.push(b'\n');
        }
        out
    }

    /// The events inside, parsed; other item types are skipped.
    pub fn events(&self) -> Result<Vec<Event>, EnvelopeError> {
        self.items
            .iter()
            .enumerate()
            .filter(|(_, item)| item.ty == ItemType::Event)
            .map(|(index, item)| {
                Event::from_json(&item.payload)
                    .map_err(|source| EnvelopeError::InvalidEvent { index, source })
            })
            .collect()
    }
}

/// Splits at the first `\n`: the line (without it) and the rest (after it).
fn split_line(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.iter().position(|b| *b == b'\n') {
        Some(pos) => (&bytes[..pos], &bytes[pos + 1..]),
        None => (bytes, &[]),
    }
}
