//! The request as it arrived, kept for the error path: method, URI, headers, the
//! matched route, the client's address when the app opted in.

use http::{HeaderName, HeaderValue, Method, Request, Uri};

/// The request as it arrived, kept for the error path.
#[derive(Debug, Clone)]
pub(crate) struct RequestSnapshot {
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    /// The headers, kept in the framework's own types; converted only when reported.
    pub(crate) headers: Headers,
    /// The matched route, such as `/orders/{id}`.
    pub(crate) route: Option<Route>,
    /// The client's address, only when the app opted in to sending IPs.
    pub(crate) client_ip: Option<String>,
    /// The web framework and its version, such as (`axum`, `0.8.9`).
    pub(crate) framework: (&'static str, &'static str),
}

/// Request headers, as the framework gave them.
#[derive(Debug, Clone)]
pub(crate) enum Headers {
    /// `http` 1.x (tower, axum): a flat list, one allocation to copy; values are shared
    /// with the request, not copied.
    Http(Vec<(HeaderName, HeaderValue)>),
    /// actix-web's own map (it uses `http` 0.2), cloned as is.
    #[cfg(feature = "actix")]
    Actix(actix_web::http::header::HeaderMap),
}

impl Headers {
    /// Names and values as text, in order (values that are not UTF-8 are converted
    /// lossily).
    pub(crate) fn pairs(&self) -> Vec<(String, String)> {
        fn text(name: &str, value: &[u8]) -> (String, String) {
            (name.to_owned(), String::from_utf8_lossy(value).into_owned())
        }
        match self {
            Headers::Http(list) => list
                .iter()
                .map(|(name, value)| text(name.as_str(), value.as_bytes()))
                .collect(),
            #[cfg(feature = "actix")]
            Headers::Actix(map) => map
                .iter()
                .map(|(name, value)| text(name.as_str(), value.as_bytes()))
                .collect(),
        }
    }
}

/// A matched route, such as `/orders/{id}`.
#[derive(Debug, Clone)]
pub(crate) enum Route {
    /// axum's matched path: a shared string, so keeping it costs no allocation.
    #[cfg(feature = "axum")]
    Axum(axum::extract::MatchedPath),
    /// A route pattern as text.
    #[allow(dead_code)] // Built by framework integrations behind features.
    Text(String),
}

impl Route {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            #[cfg(feature = "axum")]
            Route::Axum(path) => path.as_str(),
            Route::Text(text) => text,
        }
    }
}

impl RequestSnapshot {
    pub(crate) fn of<B>(request: &Request<B>, with_ip: bool) -> Self {
        RequestSnapshot {
            method: request.method().clone(),
            uri: request.uri().clone(),
            headers: Headers::Http(
                request
                    .headers()
                    .iter()
                    .map(|(name, value)| (name.clone(), value.clone()))
                    .collect(),
            ),
            route: matched_route(request),
            client_ip: if with_ip { client_ip(request) } else { None },
            framework: ("axum", crate::build_info::AXUM_VERSION),
        }
    }

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
        let route = self
            .route
            .as_ref()
            .map_or_else(|| self.uri.path(), |r| r.as_str());
        format!("{} {}", self.method, route)
    }
}

#[cfg(feature = "axum")]
fn matched_route<B>(request: &Request<B>) -> Option<Route> {
    request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .cloned()
        .map(Route::Axum)
}

#[cfg(not(feature = "axum"))]
fn matched_route<B>(_request: &Request<B>) -> Option<Route> {
    None
}

fn client_ip<B>(request: &Request<B>) -> Option<String> {
    let forwarded = request
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    #[cfg(feature = "axum")]
    let forwarded = forwarded.or_else(|| {
        request
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip().to_string())
    });
    forwarded
}
