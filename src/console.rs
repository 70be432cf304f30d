//! The web console at `/console/`: a static page, one JS module and one stylesheet, embedded
//! in the binary. It is only a client: it holds no session and reads no data here; its script
//! signs each cloud API request (TC3-HMAC-SHA256, with the key pair the user typed, kept in the
//! browser's `sessionStorage`) and sends it to `POST /` like any SDK, so the answers and the
//! refusals are the APIs' own. Its Operations view sends the admin token (also kept in
//! `sessionStorage`) as `Authorization: Bearer` to the routes under `/_cloudtwin/`.
//! See docs/console.md.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

/// Where the console is served.
pub const PREFIX: &str = "/console/";

/// Self only: no inline script or style, no other origin, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; \
frame-ancestors 'none'";

const INDEX_HTML: &str = include_str!("console/index.html");
const CONSOLE_JS: &str = include_str!("console/console.js");
const CONSOLE_CSS: &str = include_str!("console/console.css");
const FAVICON_SVG: &str = include_str!("console/favicon.svg");

/// The console's routes, merged into the service's router.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/console", get(|| async { Redirect::permanent(PREFIX) }))
        .route(
            PREFIX,
            get(|| async { asset(INDEX_HTML, "text/html; charset=utf-8") }),
        )
        .route(
            "/console/console.js",
            get(|| async { asset(CONSOLE_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/console/console.css",
            get(|| async { asset(CONSOLE_CSS, "text/css; charset=utf-8") }),
        )
        .route(
            "/console/favicon.svg",
            get(|| async { asset(FAVICON_SVG, "image/svg+xml") }),
        )
        .route("/console/{*rest}", get(not_found))
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    secure_headers(h);
    res
}

fn secure_headers(h: &mut axum::http::HeaderMap) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

async fn not_found() -> Response {
    let mut res = (StatusCode::NOT_FOUND, "no such console page\n").into_response();
    secure_headers(res.headers_mut());
    res
}
