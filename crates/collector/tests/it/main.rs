//! The collector's integration tests, one binary (as cargo's own test suite): a module
//! per area, the shared set-ups in `common`. Each test starts what it needs (a collector
//! on an ephemeral port, an SQLite file, a PostgreSQL database when
//! `MAYDAY_TEST_POSTGRES_URL` is set, an SMTP server, Chromium) and stops it.

mod common;

mod alerts;
mod api;
mod browser;
mod cli;
mod debug_files;
mod feedback;
mod hardening;
mod ingest;
mod monitors;
mod notify;
mod operations;
mod outreach;
mod owners;
mod release_apps;
mod releases;
mod reporter_warnings;
mod roles;
mod sdks;
mod security;
mod shutdown;
mod store;
mod two_collectors;
mod two_factor;
mod upgrade;
mod web;
