//! The stylesheet and the one script, served from the binary (`static/`), as the
//! Content-Security-Policy allows: no inline style or script anywhere.

use axum::http::header;
use axum::response::IntoResponse;

/// `GET /static/mayday.css`.
pub(super) async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("static/mayday.css"),
    )
}

/// `GET /static/copy.js`: copy buttons (`data-copy`).
pub(super) async fn copy_script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("static/copy.js"),
    )
}
