//! The Mayday collector: receives events over Sentry's protocol, groups them into issues,
//! stores them in SQLite or PostgreSQL, notifies, watches monitors, and serves a web UI
//! and a JSON API.
//!
//! Layers, top to bottom (`docs/architecture.md` has the rules and the few exceptions):
//! a module imports only from its own layer or the layers below it.
//!
//! - **wiring**: [`router`] (every route), `main.rs` (start, serve, stop);
//! - **edges**, which parse requests and render answers, or run what is due, and never
//!   call each other: [`ingest`] (Sentry's endpoints and check-ins), [`web`] (the UI),
//!   [`api`] (the JSON API), [`cli`] (commands), [`scheduler`] (monitor checks and the
//!   housekeeping loops);
//! - **shared by the edges**: [`state`] (what handlers share), [`pipeline`] (the ingest
//!   steps that are not HTTP: prepare, the group-commit writer, limits, rejections,
//!   events the collector makes itself), [`request`] (the client's address), [`error`]
//!   (the API's error shape), [`config`], [`metrics`];
//! - **domain**, the rules: [`accounts`], [`access`] (who may do what), [`audit`] (who
//!   changed what), [`membership`], [`projects`] (a project's settings), [`webhooks`],
//!   [`issues`] (status changes, the list's query, merges), [`search`], [`release`],
//!   [`grouping`], [`notify`] (what a notification says, the outbox worker),
//!   [`monitors`], [`outreach`] (writing to affected users), [`throttle`] (sign-in
//!   attempts); and what they share: [`outbound`] (requests to user-given targets),
//!   [`encode`] (event data in other formats than HTML), [`address`] (email addresses:
//!   one parser, one normal form);
//! - **store**: [`store`], every query.

pub mod access;
pub mod accounts;
pub mod address;
pub mod alerts;
pub mod api;
pub mod assignment;
pub mod audit;
pub mod cli;
pub mod config;
pub mod debug_files;
pub mod encode;
pub mod error;
pub mod feedback;
pub mod grouping;
pub mod ingest;
pub mod issues;
pub mod membership;
pub mod metrics;
pub mod monitors;
pub mod notify;
pub mod outbound;
pub mod outreach;
pub mod ownership;
pub mod pipeline;
pub mod projects;
pub mod release;
pub mod release_health;
pub mod request;
pub mod router;
pub mod scheduler;
pub mod search;
pub mod state;
pub mod store;
pub mod throttle;
pub mod tickets;
pub mod two_factor;
pub mod web;
pub mod webhooks;

pub use router::router;
pub use state::{AppInner, AppState};
