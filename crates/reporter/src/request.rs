//! The request as it arrived, kept for the error path: method, URI, headers, the
//! matched route, the client's address when the app opted in. Framework-free: each
//! adapter (tower, actix-web) fills it from its own request type.

use http::{HeaderName, HeaderValue, Method, Uri};

/// The request as it arrived, kept for the error path.
#[derive(Debug, Clone)]
pub(crate) struct RequestSnapshot {
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    /// The headers, kept in the framework's own types; converted only when reported.
    pub(crate) headers: Headers,
    /// The matched route, such as `/orders/{id}`.
    pub(crate) route: Option<String>,
    /// The client's address, only when the app opted in to sending IPs.
    pub(crate) client_ip: Option<String>,
    /// The web framework and its version, such as (`axum`, `0.8.9`).
    pub(crate) framework: (&'static str, &'static str),
    /// The body as the handler read it, when the app asked for bodies.
    pub(crate) body: Option<std::sync::Arc<crate::body::CapturedBody>>,
}

/// Request headers, as the framework gave them; converted to text only when reported.
#[derive(Debug)]
pub(crate) enum Headers {
    /// `http` 1.x (tower, axum): a flat list, one allocation to copy; values are shared
    /// with the request, not copied.
    Http(Vec<(HeaderName, HeaderValue)>),
    /// Another framework's own header map (actix-web has its own types), kept as is.
    #[cfg_attr(not(feature = "actix"), allow(dead_code))] // Built by the actix adapter.
    Other(Box<dyn HeaderList>),
}

/// A framework's own header map, kept on the request path and read only when a failure
/// is reported.
pub(crate) trait HeaderList: std::fmt::Debug + Send + Sync {
    /// Names and values as text, in order (values that are not UTF-8 converted lossily).
    fn pairs(&self) -> Vec<(String, String)>;
    /// A copy, for the snapshot of a scope or a report.
    fn clone_box(&self) -> Box<dyn HeaderList>;
}

impl Clone for Headers {
    fn clone(&self) -> Self {
        match self {
            Headers::Http(list) => Headers::Http(list.clone()),
            Headers::Other(map) => Headers::Other(map.clone_box()),
        }
    }
}

impl Headers {
    /// Names and values as text, in order (values that are not UTF-8 are converted
    /// lossily).
    pub(crate) fn pairs(&self) -> Vec<(String, String)> {
        match self {
            Headers::Http(list) => list
                .iter()
                .map(|(name, value)| {
                    (
                        name.as_str().to_owned(),
                        String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            Headers::Other(map) => map.pairs(),
        }
    }
}

impl RequestSnapshot {
    /// The first value of header `name`, if it is text.
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.headers
            .pairs()
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// `GET /orders/{id}`: the matched route, else the path.
    pub(crate) fn transaction(&self) -> String {
        let route = self.route.as_deref().unwrap_or_else(|| self.uri.path());
        format!("{} {}", self.method, route)
    }
}
