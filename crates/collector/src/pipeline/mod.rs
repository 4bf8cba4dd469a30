//! The ingest pipeline's parts that are not HTTP, shared by every edge that records
//! events or reads what ingest counted: normalizing, grouping and compressing an event
//! (`prepare`), the group-commit writers of events (`writer`) and check-ins
//! (`check_in_writer`), rate limits per key
//! (`rate_limit`), the body bytes held at once (`in_flight`), events refused per
//! project for the last hour (`rejections`), and the events the collector makes itself
//! (`sample`: "send a test event", a sitemap run's failing pages).

pub mod check_in_writer;
pub mod in_flight;
pub mod prepare;
pub mod rate_limit;
pub mod rejections;
pub mod sample;
pub mod symbolicate;
pub mod writer;
