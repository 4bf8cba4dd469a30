//! The event id a reported response carries back to the client.

/// The header that carries a reported response's event id, unless configured otherwise.
pub const EVENT_ID_HEADER: &str = "x-mayday-event-id";
