//! The page frame every UI page shares (header, navigation, skip link, stylesheet), the
//! HTML response helpers, and the headers every UI response carries.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

/// Who the page frame greets: the signed-in account's email, whether it is an instance
/// admin (the Users link), and the session's CSRF token (the sign-out form).
#[derive(Debug, Clone, Copy)]
pub(super) struct Viewer<'a> {
    pub(super) email: &'a str,
    pub(super) is_admin: bool,
    pub(super) csrf: &'a str,
}

/// A signed-in page with the common header, for other page modules.
pub(super) fn page<'a>(title: &str, viewer: impl Into<Viewer<'a>>, body: Markup) -> Markup {
    layout(title, Some(viewer.into()), body)
}

/// The frame around `body`; with a `viewer`, the header's links and sign-out form.
pub(super) fn layout(title: &str, viewer: Option<Viewer<'_>>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Mayday" }
                link rel="stylesheet" href="/static/mayday.css";
                script src="/static/copy.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header {
                    a href="/" { "Mayday" }
                    @if let Some(viewer) = viewer {
                        @if viewer.is_admin { a href="/admin/users" { "Users" } }
                        a href="/account" { "Account" }
                        form method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(viewer.csrf);
                            span.who { (viewer.email) " " }
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main #main tabindex="-1" { (body) }
            }
        }
    }
}

/// A page of a project's own for its customers (the unsubscribe page): its name in the
/// title and header, no mention of the collector.
pub(super) fn branded_page(brand: &str, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (brand) }
                link rel="stylesheet" href="/static/mayday.css";
            }
            body {
                header { span.brand { (brand) } }
                main #main { (body) }
            }
        }
    }
}

/// A page that only says something.
pub(super) fn message_page(status: StatusCode, message: &str) -> Markup {
    layout(
        status.canonical_reason().unwrap_or("Error"),
        None,
        html! { h1 { (status.as_u16()) } p { (message) } p { a href="/" { "Back to projects" } } },
    )
}

pub(super) fn html(markup: maud::Markup) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

/// A page with its status (a form shown again with what was wrong, say).
pub(super) fn html_with_status(status: StatusCode, markup: maud::Markup) -> Response {
    (status, html(markup)).into_response()
}

/// Forbids inline script and framing on every UI response.
pub(super) async fn security_headers(response: Response) -> Response {
    with_security_headers(response)
}

/// `response` with the headers every UI response carries.
pub(super) fn with_security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}
