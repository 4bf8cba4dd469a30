//! Request counts per route and outcome, for release health: the layer and the
//! middleware add one to a route's counter as each request ends (`ok`, `errored` for
//! a 5xx, `crashed` for a panic; a request whose client went away before the answer
//! counts as neither), and the worker sends them every minute and at a flush as one
//! Sentry `sessions` item (request mode: `exited`, `errored`, `crashed` per route, the
//! route as Mayday's own `route` field). On the request path: a read lock, a hash of
//! the route and one atomic add.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// The most routes counted apart; more go under [`OTHER`].
const MAX_ROUTES: usize = 500;
/// Where routes past [`MAX_ROUTES`] are counted.
const OTHER: &str = "(other routes)";

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Answered, not with a 5xx.
    Ok,
    /// Answered with a 5xx (or the service failed).
    Errored,
    /// The handler panicked.
    Crashed,
}

/// One route's counts since the last send.
#[derive(Debug, Default)]
pub(crate) struct RouteCounter {
    ok: AtomicU64,
    errored: AtomicU64,
    crashed: AtomicU64,
}

impl RouteCounter {
    /// Counts one request that ended as `outcome`.
    pub(crate) fn add(&self, outcome: Outcome) {
        let counter = match outcome {
            Outcome::Ok => &self.ok,
            Outcome::Errored => &self.errored,
            Outcome::Crashed => &self.crashed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Every route's counter: by path template, then method (a lookup borrows both, so a
/// request allocates nothing once its route was seen).
#[derive(Debug, Default)]
pub(crate) struct RequestCounts {
    // foldhash, not SipHash: the keys are the app's own route templates, not input an
    // attacker picks (unmatched paths count under ""), and hashing is most of a lookup.
    routes: RwLock<HashMap<String, Methods, foldhash::fast::RandomState>>,
}

/// A route's counters, by method.
type Methods = Vec<(String, Arc<RouteCounter>)>;

/// One route's counts, taken for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Taken {
    pub(crate) route: String,
    pub(crate) ok: u64,
    pub(crate) errored: u64,
    pub(crate) crashed: u64,
}

impl RequestCounts {
    /// The counter of `method` on route `path` (`/checkout`; "" when no route
    /// matched).
    pub(crate) fn counter(&self, method: &str, path: &str) -> Arc<RouteCounter> {
        let find = |methods: &Methods, method: &str| {
            methods
                .iter()
                .find(|(m, _)| m == method)
                .map(|(_, c)| c.clone())
        };
        if let Some(found) = self
            .routes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(path)
            .and_then(|methods| find(methods, method))
        {
            return found;
        }
        let mut routes = self.routes.write().unwrap_or_else(|e| e.into_inner());
        let (method, path) = if routes.len() >= MAX_ROUTES && !routes.contains_key(path) {
            ("", OTHER)
        } else {
            (method, path)
        };
        let methods = routes.entry(path.to_owned()).or_default();
        if let Some(found) = find(methods, method) {
            return found;
        }
        let counter = Arc::new(RouteCounter::default());
        methods.push((method.to_owned(), counter.clone()));
        counter
    }

    /// Each route's counts since the last take (routes with none left out), reset.
    pub(crate) fn take(&self) -> Vec<Taken> {
        let routes = self.routes.read().unwrap_or_else(|e| e.into_inner());
        let mut taken: Vec<Taken> = routes
            .iter()
            .flat_map(|(path, methods)| {
                methods.iter().map(move |(method, c)| Taken {
                    route: match (method.is_empty(), path.is_empty()) {
                        (true, _) => path.clone(),
                        (false, true) => method.clone(),
                        (false, false) => format!("{method} {path}"),
                    },
                    ok: c.ok.swap(0, Ordering::Relaxed),
                    errored: c.errored.swap(0, Ordering::Relaxed),
                    crashed: c.crashed.swap(0, Ordering::Relaxed),
                })
            })
            .filter(|t| t.ok + t.errored + t.crashed > 0)
            .collect();
        taken.sort_by(|a, b| a.route.cmp(&b.route));
        taken
    }
}

/// The `sessions` item of `taken`, counted in the minute starting at `started`
/// (RFC 3339), for `release` and `environment`.
pub(crate) fn sessions_item(
    taken: &[Taken],
    release: &str,
    environment: &str,
    started: &str,
) -> serde_json::Value {
    serde_json::json!({
        "attrs": {"release": release, "environment": environment},
        "aggregates": taken.iter().map(|t| serde_json::json!({
            "started": started,
            "route": t.route,
            "exited": t.ok,
            "errored": t.errored,
            "crashed": t.crashed,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_route_are_taken_once() {
        let counts = RequestCounts::default();
        let checkout = counts.counter("POST", "/checkout");
        for outcome in [Outcome::Ok, Outcome::Ok, Outcome::Errored, Outcome::Crashed] {
            checkout.add(outcome);
        }
        counts.counter("GET", "/").add(Outcome::Ok);
        let taken = counts.take();
        assert_eq!(taken.len(), 2);
        assert_eq!(
            taken[1],
            Taken {
                route: "POST /checkout".into(),
                ok: 2,
                errored: 1,
                crashed: 1
            }
        );
        assert!(counts.take().is_empty(), "sent once");
        for n in 0..MAX_ROUTES + 5 {
            counts.counter("GET", &format!("/{n}")).add(Outcome::Ok);
        }
        let taken = counts.take();
        assert!(taken.len() <= MAX_ROUTES + 1, "{}", taken.len());
        assert!(taken.iter().any(|t| t.route == OTHER));
        assert_eq!(
            taken.iter().map(|t| t.ok).sum::<u64>(),
            MAX_ROUTES as u64 + 5
        );
        let item = sessions_item(&taken[1..2], "1.0", "production", "2026-12-05T10:00:00Z");
        assert_eq!(item["attrs"]["release"], "1.0");
        assert_eq!(item["aggregates"][0]["exited"], 1);
    }
}
