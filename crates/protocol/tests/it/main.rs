//! The protocol crate's integration tests, one binary: envelopes by hand and from the
//! official `sentry` crate.

mod envelope;
mod sentry_compat;
