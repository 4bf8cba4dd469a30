//! The demo shop: five routes and a pretend sign-in, wired to mayday-reporter.
//!
//! - `GET /` answers 200;
//! - `GET /panic` panics deep inside the app (`checkout::apply_coupon`);
//! - `GET /cart/{line}` panics for lines past the third (`cart::line_price`, an index
//!   out of bounds): another bug, another issue, however many lines people ask for;
//! - `GET /error` answers 500 with a typed error that has a source chain;
//! - `GET /orders/{id}` answers 200.
//!
//! Failures answer with a small error page that shows the event id (the reporter puts it
//! in the `X-Mayday-Event-Id` header), so a user's screenshot leads to their crash.
//!
//! Sign in by sending `X-Demo-User: <id>:<email>:<full name>`.

use std::fmt;

use axum::Router;
use axum::extract::{Path, Request};
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use mayday_reporter::{EVENT_ID_HEADER, ErrorPage, Reported, Reporter, Scope, User};

/// The signed-in user, as the auth middleware leaves it in the request's extensions.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// The user's id.
    pub id: String,
    /// The user's email address.
    pub email: String,
    /// The user's full name.
    pub name: String,
}

/// This app's build info (name, version, commit), captured in this crate.
pub fn build_info() -> mayday_reporter::BuildInfo {
    mayday_reporter::build_info!()
}

/// The app's router, reporting to `reporter`.
pub fn app(reporter: &Reporter) -> Router {
    Router::new()
        .route("/", get(|| async { "Welcome to the demo shop\n" }))
        .route("/panic", get(checkout::handler))
        .route("/cart/{line}", get(cart::show_line))
        .route("/error", get(orders::failing))
        .route("/orders/{id}", get(orders::show))
        // The reporter's user resolver reads what the auth middleware set; layers added
        // later run earlier, so auth (below) runs before the reporter (here).
        // A browser gets the reporter's error page, with the event id and a form
        // asking what the person was doing (posted to /_mayday/feedback).
        .layer(
            reporter
                .layer()
                .user(|extensions, _headers| {
                    extensions.get::<CurrentUser>().map(|user| User {
                        id: Some(user.id.clone()),
                        email: Some(user.email.clone()),
                        name: Some(user.name.clone()),
                        ..Default::default()
                    })
                })
                .error_page(ErrorPage::default()),
        )
        .layer(middleware::from_fn(demo_auth))
        // Outermost: the page users see when something failed.
        .layer(middleware::map_response(error_page))
}

/// Replaces the body of failed responses with a page that names the event: the
/// reporter sets `X-Mayday-Event-Id` on every response it reported. Browsers already
/// got the reporter's HTML error page, kept as it is.
async fn error_page(mut response: Response) -> Response {
    let html = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if !response.status().is_server_error() || html {
        return response;
    }
    let reference = response
        .headers()
        .get(EVENT_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(|id| format!("\nReference: {id}"))
        .unwrap_or_default();
    let page = format!("Sorry, something went wrong on our side.{reference}\n");
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.remove(CONTENT_LENGTH);
    *response.body_mut() = page.into();
    response
}

/// Signs in whoever `X-Demo-User: <id>:<email>:<full name>` names. A real app checks a
/// session or a token here.
async fn demo_auth(mut request: Request, next: Next) -> Response {
    let user = request
        .headers()
        .get("x-demo-user")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let mut parts = value.splitn(3, ':');
            Some(CurrentUser {
                id: parts.next()?.to_owned(),
                email: parts.next()?.to_owned(),
                name: parts.next()?.to_owned(),
            })
        });
    if let Some(user) = user {
        request.extensions_mut().insert(user);
    }
    next.run(request).await
}

mod checkout {
    use super::*;

    pub(crate) async fn handler(scope: Scope) -> String {
        scope.add_breadcrumb("checkout", "applying coupon BLACKFRIDAY");
        let total = apply_coupon("BLACKFRIDAY", 120);
        format!("total: {total}\n")
    }

    /// The bug of the day: the coupon table has no entry for this code.
    pub(crate) fn apply_coupon(code: &str, total: u32) -> u32 {
        let discounts: [(&str, u32); 1] = [("WELCOME", 10)];
        let discount = discounts
            .iter()
            .find(|(known, _)| *known == code)
            .map(|(_, percent)| *percent);
        match discount {
            Some(percent) => total - total * percent / 100,
            None => panic!("coupon {code} is not in the discount table"),
        }
    }
}

mod cart {
    use super::*;

    pub(crate) async fn show_line(Path(line): Path<usize>) -> String {
        format!("line {line}: {} cents\n", line_price(line))
    }

    /// Another bug: the cart has three lines, and nobody checks the index.
    pub(crate) fn line_price(line: usize) -> u32 {
        let prices = [1200, 450, 3100];
        prices[line]
    }
}

mod orders {
    use super::*;

    /// Why an order could not be loaded.
    #[derive(Debug)]
    pub struct OrderError {
        id: u64,
        source: DatabaseError,
    }

    /// The underlying storage failure.
    #[derive(Debug)]
    pub struct DatabaseError {
        reason: &'static str,
    }

    impl fmt::Display for OrderError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "could not load order {}", self.id)
        }
    }

    impl std::error::Error for OrderError {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.source)
        }
    }

    impl fmt::Display for DatabaseError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "database unavailable: {}", self.reason)
        }
    }

    impl std::error::Error for DatabaseError {}

    fn load_order(id: u64) -> Result<String, OrderError> {
        Err(OrderError {
            id,
            source: DatabaseError {
                reason: "connection pool timed out",
            },
        })
    }

    pub(crate) async fn failing(scope: Scope) -> Result<String, Reported<OrderError>> {
        scope.set_tag("order.kind", "archived");
        Ok(load_order(7)?)
    }

    pub(crate) async fn show(Path(id): Path<u64>) -> String {
        format!("order {id}\n")
    }
}
