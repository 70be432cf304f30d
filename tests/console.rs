//! The web console's routes (`/console/`): every asset embedded and served with its type,
//! `Cache-Control: no-cache` and a self-only Content-Security-Policy; no auth needed and no data
//! revealed (the page's data comes only through signed API calls); unknown pages 404. What the
//! console does in a browser is tests/console/run.mjs.

mod common;

use common::*;

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().redirects(0).build()
}

/// Status, headers of interest and body of a GET (any status).
fn get(base: &str, path: &str) -> (u16, ureq::Response) {
    match agent().get(&format!("{base}{path}")).call() {
        Ok(r) => (r.status(), r),
        Err(ureq::Error::Status(code, r)) => (code, r),
        Err(e) => panic!("GET {path}: {e}"),
    }
}

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

#[test]
fn assets_are_served_with_their_types_no_cache_and_a_self_only_csp() {
    let s = Server::start(Opts::default());
    for (path, ty, needle) in [
        (
            "/console/",
            "text/html; charset=utf-8",
            "<title>cloudtwin console</title>",
        ),
        (
            "/console/console.js",
            "text/javascript; charset=utf-8",
            "TC3-HMAC-SHA256",
        ),
        ("/console/console.css", "text/css; charset=utf-8", "@media"),
        ("/console/favicon.svg", "image/svg+xml", "<svg"),
    ] {
        let (code, r) = get(&s.base, path);
        assert_eq!(code, 200, "{path}");
        assert_eq!(r.header("content-type"), Some(ty), "{path}");
        assert_eq!(r.header("cache-control"), Some("no-cache"), "{path}");
        assert_eq!(r.header("content-security-policy"), Some(CSP), "{path}");
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        let body = r.into_string().expect("body");
        assert!(body.contains(needle), "{path} lacks {needle}");
    }
}

#[test]
fn the_page_needs_no_auth_and_reveals_no_data() {
    let s = Server::start(Opts::default());
    let c = s.client();
    let id = c.create("console-secret-name");
    let (code, r) = get(&s.base, "/console/");
    assert_eq!(code, 200);
    let page = r.into_string().expect("body");
    // The page is the same static text for everyone: no image, account or key in it.
    for secret in [
        id.as_str(),
        "console-secret-name",
        SECRET_ID_1,
        SECRET_KEY_1,
    ] {
        assert!(!page.contains(secret), "the page reveals {secret}");
    }
    // No inline script or style that the CSP would have to allow.
    assert!(!page.contains("<script>") && !page.contains("style="));
    for path in ["/console/console.js", "/console/console.css"] {
        let asset = get(&s.base, path).1.into_string().expect("body");
        assert!(
            !asset.contains(&id) && !asset.contains(SECRET_KEY_1),
            "{path}"
        );
    }
}

#[test]
fn console_redirects_to_the_slash_and_unknown_pages_are_404() {
    let s = Server::start(Opts::default());
    let (code, r) = get(&s.base, "/console");
    assert_eq!(code, 308);
    assert_eq!(r.header("location"), Some("/console/"));
    for path in [
        "/console/x",
        "/console/console.js/more",
        "/console/a/b/c",
        "/console/index.html",
    ] {
        let (code, _) = get(&s.base, path);
        assert_eq!(code, 404, "{path}");
    }
    // The cloud API is still on `/` only.
    let (code, _) = get(&s.base, "/consolex");
    assert_eq!(code, 404);
}
