//! The demo shop on actix-web: the same routes, header and port as `examples/axum-app`.
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

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{HeaderMap, HeaderName};
use actix_web::middleware::{self, Next};
use actix_web::{App, Error, HttpMessage, HttpResponse, HttpServer, web};
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

/// Serves the app on `listener` with one worker, reporting to `reporter`.
pub fn server(listener: std::net::TcpListener, reporter: Reporter) -> std::io::Result<Server> {
    Ok(HttpServer::new(move || {
        App::new()
            .route(
                "/",
                web::get().to(|| async { "Welcome to the demo shop\n" }),
            )
            .route("/panic", web::get().to(checkout::handler))
            .route("/cart/{line}", web::get().to(cart::show_line))
            .route("/error", web::get().to(orders::failing))
            .route("/orders/{id}", web::get().to(orders::show))
            // The reporter's user resolver reads what the auth middleware set; in
            // actix-web the last `wrap` runs first, so auth (below) runs before it.
            // A browser gets the reporter's error page, with the event id and a form
            // asking what the person was doing (posted to /_mayday/feedback).
            .wrap(
                reporter
                    .actix()
                    .user(|request| {
                        request.extensions().get::<CurrentUser>().map(|user| User {
                            id: Some(user.id.clone()),
                            email: Some(user.email.clone()),
                            name: Some(user.name.clone()),
                            ..Default::default()
                        })
                    })
                    .error_page(ErrorPage::default()),
            )
            .wrap(middleware::from_fn(demo_auth))
            // Outermost (the last `wrap`): the page users see when something failed.
            .wrap(middleware::from_fn(error_page))
    })
    .workers(1)
    .listen(listener)?
    .run())
}

/// Replaces the body of failed responses with a page that names the event: the
/// reporter sets `X-Mayday-Event-Id` on every response it reported. A panic arrives
/// as an error (actix-web renders it later), so both are handled. Browsers already
/// got the reporter's HTML error page, kept as it is.
async fn error_page(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let browser = request
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .is_some_and(|v| v.to_str().is_ok_and(|v| v.contains("text/html")));
    if browser {
        return next
            .call(request)
            .await
            .map(|response| response.map_body(|_, body| body.boxed()));
    }
    match next.call(request).await {
        Ok(response) if response.status().is_server_error() => {
            let page = page_for(response.response().headers());
            Ok(response.map_body(|_, _| page))
        }
        Ok(response) => Ok(response.map_body(|_, body| body.boxed())),
        Err(error) => {
            let rendered = error.error_response();
            let mut answer = HttpResponse::build(rendered.status())
                .content_type("text/plain; charset=utf-8")
                .body(page_for(rendered.headers()));
            if let Some(id) = rendered.headers().get(EVENT_ID_HEADER) {
                answer
                    .headers_mut()
                    .insert(HeaderName::from_static(EVENT_ID_HEADER), id.clone());
            }
            Err(InternalError::from_response(error.to_string(), answer).into())
        }
    }
}

fn page_for(headers: &HeaderMap) -> BoxBody {
    let reference = headers
        .get(EVENT_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(|id| format!("\nReference: {id}"))
        .unwrap_or_default();
    format!("Sorry, something went wrong on our side.{reference}\n").boxed()
}

/// Signs in whoever `X-Demo-User: <id>:<email>:<full name>` names. A real app checks a
/// session or a token here.
async fn demo_auth(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
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
    next.call(request).await
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

    pub(crate) async fn show_line(line: web::Path<usize>) -> String {
        let line = line.into_inner();
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

    pub(crate) async fn show(id: web::Path<u64>) -> String {
        format!("order {id}\n")
    }
}
