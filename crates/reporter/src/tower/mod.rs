//! The tower adapter: a [`ReporterLayer`] holding only configuration, the
//! [`ReporterService`] it builds, and the [`ResponseFuture`] that catches panics and
//! looks at the response on the way out.

#[cfg(test)]
mod counting_tests;
mod future;
mod layer;
mod route;
mod service;
mod settings;

pub use future::ResponseFuture;
pub use layer::ReporterLayer;
pub use service::ReporterService;
