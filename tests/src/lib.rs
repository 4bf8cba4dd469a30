//! A small, real HTTP server that accepts Sentry envelopes and records them, for tests
//! that need to see what a reporter sent.
//!
//! It answers 200 by default; tests can script other answers (429, 503) for the next
//! requests to check rate limiting and retries. Request counts (`sessions` envelopes,
//! which a reporter sends at each flush when it served requests) are kept apart from
//! the other envelopes ([`Receiver::sessions`]), so tests about events count events.

use std::collections::VecDeque;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use mayday_protocol::{Envelope, Event};

/// One request the receiver accepted.
#[derive(Debug, Clone)]
pub struct Received {
    /// The `X-Sentry-Auth` header.
    pub auth: Option<String>,
    /// The `Content-Encoding` header.
    pub content_encoding: Option<String>,
    /// The envelope, decompressed and parsed.
    pub envelope: Envelope,
}

impl Received {
    /// The single event inside.
    pub fn event(&self) -> Event {
        let mut events = self.envelope.events().expect("event parses");
        assert_eq!(events.len(), 1, "one event per envelope");
        events.remove(0)
    }
}

/// An answer to give instead of 200.
#[derive(Debug, Clone)]
pub struct Scripted {
    /// The status.
    pub status: StatusCode,
    /// Extra headers, such as `Retry-After`.
    pub headers: Vec<(&'static str, String)>,
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    sessions: Mutex<Vec<Received>>,
    hits: Mutex<u64>,
    script: Mutex<VecDeque<Scripted>>,
}

/// The running receiver. Stops when dropped.
pub struct Receiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    /// Starts on 127.0.0.1 on an ephemeral port.
    pub async fn start() -> Self {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/api/{project}/envelope/", post(receive))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { addr, shared, task }
    }

    /// The DSN that reports here (project 1, key `public`).
    pub fn dsn(&self) -> String {
        format!("http://public@{}/1", self.addr)
    }

    /// Answers the next requests with these, in order, then 200 again.
    pub fn script(&self, answers: impl IntoIterator<Item = Scripted>) {
        self.shared.script.lock().unwrap().extend(answers);
    }

    /// Everything accepted so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// The `sessions` envelopes (request counts) accepted so far.
    pub fn sessions(&self) -> Vec<Received> {
        self.shared.sessions.lock().unwrap().clone()
    }

    /// Requests that reached the receiver, accepted or not.
    pub fn hits(&self) -> u64 {
        *self.shared.hits.lock().unwrap()
    }

    /// Waits until at least `count` envelopes were accepted, or `timeout` passes.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let received = self.received();
            if received.len() >= count || Instant::now() >= deadline {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A DSN whose port nothing listens on: the collector is down.
pub async fn dead_dsn() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    drop(listener);
    format!("http://public@{addr}/1")
}

async fn receive(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    *shared.hits.lock().unwrap() += 1;
    if let Some(answer) = shared.script.lock().unwrap().pop_front() {
        let mut response = answer.status.into_response();
        for (name, value) in answer.headers {
            response
                .headers_mut()
                .insert(name, value.parse().expect("header value"));
        }
        return response;
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_encoding = header("content-encoding");
    let bytes = match content_encoding.as_deref() {
        Some("gzip") => {
            let mut out = Vec::new();
            if flate2::read::GzDecoder::new(&body[..])
                .read_to_end(&mut out)
                .is_err()
            {
                return (StatusCode::BAD_REQUEST, "bad gzip").into_response();
            }
            out
        }
        _ => body.to_vec(),
    };
    let envelope = match Envelope::parse(&bytes) {
        Ok(envelope) => envelope,
        Err(error) => return (StatusCode::BAD_REQUEST, error.to_string()).into_response(),
    };
    let id = envelope
        .header
        .event_id
        .map(|id| id.to_string())
        .unwrap_or_default();
    let counts_only = !envelope.items.is_empty()
        && envelope
            .items
            .iter()
            .all(|item| item.ty == mayday_protocol::ItemType::Sessions);
    let kept = if counts_only {
        &shared.sessions
    } else {
        &shared.received
    };
    kept.lock().unwrap().push(Received {
        auth: header("x-sentry-auth"),
        content_encoding,
        envelope,
    });
    (StatusCode::OK, format!("{{\"id\":\"{id}\"}}")).into_response()
}
