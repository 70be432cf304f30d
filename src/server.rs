//! The HTTP server: one listener for every dialect and the `/_cloudtwin/` routes (and an
//! optional second, HTTPS, listener with the same routes), the store's open and close around
//! them, and graceful shutdown (finish in-flight requests, flush, exit 0). The accept loop
//! with its timeouts and connection cap is `connections.rs`; the TLS listener's certificate,
//! configured or generated, is `tls.rs`.

mod connections;
mod tls;

pub use connections::ConnInfo;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::json;

use crate::admin;
use crate::app::App;
use crate::config::Config;
use crate::dialect::pipeline::{self, Request};
use crate::dialect::{self, tencent, Dialect, RequestLog};
use crate::store::Store;

/// The largest body a request to `path` may carry (the router's `DefaultBodyLimit`s): a
/// larger declared `Content-Length` is answered 413 before any of the body is read.
pub fn body_limit(path: &str) -> usize {
    admin::larger_body_limit(path).unwrap_or(DEFAULT_BODY_LIMIT)
}

/// Every other request's body limit: the cloud APIs' (one byte over is the dialect's own
/// `RequestSizeLimitExceeded`).
const DEFAULT_BODY_LIMIT: usize = tencent::MAX_BODY_BYTES + 1;

/// The axum router of the whole service: the admin routes, and every other request to the
/// dialect that claims it.
pub fn router(app: Arc<App>) -> Router {
    admin::router(app.clone())
        .merge(crate::console::router())
        .fallback(dispatch)
        .layer(DefaultBodyLimit::max(DEFAULT_BODY_LIMIT))
        .with_state(app)
}

fn form_pairs(data: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(data)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Every request that is not a `/_cloudtwin/` route: find the dialect and let it answer.
async fn dispatch(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
    conn: Option<axum::Extension<ConnInfo>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let conn = conn.map(|c| c.0);
    let started = Instant::now();
    if uri.path() != "/" {
        let what = if uri.path().starts_with(admin::PREFIX) {
            "no such cloudtwin route"
        } else {
            "cloud API requests are served on path /"
        };
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": what, "path": uri.path() })),
        )
            .into_response();
    }
    let big = body.len() + uri.query().map_or(0, str::len) >= crate::blocking::HEAVY_REQUEST_BYTES;
    crate::blocking::heavy(
        big,
        answer(&app, &method, &uri, conn, &headers, &body, started),
    )
    .await
}

/// Decodes the parameters and hands the request to the dialect that claims it.
async fn answer(
    app: &App,
    method: &Method,
    uri: &Uri,
    conn: Option<ConnInfo>,
    headers: &HeaderMap,
    body: &Bytes,
    started: Instant,
) -> Response {
    let raw_query = uri.query().unwrap_or("");
    let query = form_pairs(raw_query.as_bytes());
    let form = if method == Method::POST
        && pipeline::content_type_is(headers, "application/x-www-form-urlencoded")
    {
        form_pairs(body)
    } else {
        Vec::new()
    };
    let req = Request {
        method,
        path: uri.path(),
        raw_query,
        headers,
        body,
        query: &query,
        form: &form,
        peer: conn.map(|c| c.peer.ip()),
        secure: conn.is_some_and(|c| c.secure),
    };
    let shared = app.shared();
    let all: Vec<(String, String)> = query.iter().chain(form.iter()).cloned().collect();
    match dialect::classify(headers, &all) {
        Some(Dialect::Tencent) => pipeline::handle(&app.tencent, &shared, &req).await,
        Some(Dialect::Aliyun) => pipeline::handle(&app.aliyun, &shared, &req).await,
        None => {
            let log = RequestLog {
                request_id: uuid::Uuid::new_v4().to_string(),
                dialect: "none",
                code: "Unrecognised".into(),
                ..RequestLog::default()
            };
            let response = (
                StatusCode::BAD_REQUEST,
                Json(json!({
                    "error": "the request speaks no dialect cloudtwin knows: a Tencent Cloud API 3.0 request has an X-TC-Action header or Version=2017-03-12; an Alibaba Cloud IMM request has an x-acs-action header or Version=2020-09-30"
                })),
            )
                .into_response();
            pipeline::finish(&shared, &req, &log, started, response).await
        }
    }
}

/// Pending connections the kernel queues before the accept loop takes them.
const LISTEN_BACKLOG: u32 = 1024;

/// The shutdown signals, listened for from the moment this is called: made before the
/// listening line is printed, so a SIGTERM sent as soon as a reader sees that line is a
/// graceful shutdown, never the default action (death by the signal, exit status 143).
struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn listen() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let open = |kind: SignalKind, name: &str| match signal(kind) {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::error!(error = %e, signal = name, "cannot listen for the signal");
                    None
                }
            };
            Signals {
                term: open(SignalKind::terminate(), "SIGTERM"),
                int: open(SignalKind::interrupt(), "SIGINT"),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// Resolves when SIGINT or SIGTERM arrives.
    async fn recv(self) {
        #[cfg(unix)]
        {
            async fn one(s: Option<tokio::signal::unix::Signal>) {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            tokio::select! {
                _ = one(self.term) => {}
                _ = one(self.int) => {}
            }
        }
        #[cfg(not(unix))]
        {
            if let Err(e) = tokio::signal::ctrl_c().await {
                tracing::error!(error = %e, "cannot listen for Ctrl-C");
                std::future::pending::<()>().await;
            }
        }
        tracing::info!("shutdown signal received; finishing in-flight requests");
    }
}

/// Binds a socket to the first of `addrs` that takes it, without listening yet: the port is
/// taken (an address in use fails here, before the data dir is touched), but connections are
/// refused until [`serve`] calls `listen` with the store open.
fn bind(listen: &str, addrs: &[SocketAddr]) -> Result<tokio::net::TcpSocket, String> {
    let mut errors = Vec::new();
    for addr in addrs {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()
        } else {
            tokio::net::TcpSocket::new_v6()
        };
        let attempt = socket.and_then(|s| {
            s.set_reuseaddr(true)?;
            s.bind(*addr)?;
            Ok(s)
        });
        match attempt {
            Ok(s) => return Ok(s),
            Err(e) => errors.push(format!("{addr}: {e}")),
        }
    }
    Err(format!("cannot listen on {listen}: {}", errors.join("; ")))
}

/// Binds, opens the store (and loads a seed), listens, prints the bound address, serves until
/// a signal, then flushes.
pub async fn serve(config: Config) -> Result<(), String> {
    let addrs = config.listen_addrs().map_err(|e| e.0)?;
    let socket = bind(&config.listen, &addrs)?;
    // The TLS listener, when there is one: bound (and a configured certificate read) before
    // the store opens, so that neither failure leaves a data dir behind.
    let tls_socket = match config.tls_listen_addrs().map_err(|e| e.0)? {
        Some(tls_addrs) => {
            let listen = config.tls.listen.as_deref().unwrap_or_default();
            Some(bind(listen, &tls_addrs).map_err(|e| format!("tls.listen: {e}"))?)
        }
        None => None,
    };
    let configured_tls = match (&config.tls.cert, &config.tls.key) {
        (Some(cert), Some(key)) if tls_socket.is_some() => Some(tls::configured(cert, key)?),
        _ => None,
    };
    let durability = config.durability_mode().map_err(|e| e.0)?;
    let target = config.store_target().map_err(|e| e.0)?;
    let cache_mb = config.cache_mb;
    let store = tokio::task::spawn_blocking(move || target.open(durability, cache_mb))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let flusher = store.start_flusher();
    let seed = config.seed.clone();
    let journal_path = config.request_log.clone();
    let app = Arc::new(App::new(config, store.clone()).map_err(|e| e.to_string())?);
    if let Some(p) = journal_path {
        app.journal.set(Some(&p))?;
    }
    if let Some(path) = seed {
        let summary = crate::fixture::load_file(
            &app.store,
            &path,
            &app.accounts,
            crate::fixture::Limits::of(&app.config),
            true,
        )
        .map_err(|e| format!("seed {}: {e}", path.display()))?;
        tracing::info!(seed = %path.display(), added = ?summary.added, skipped = summary.skipped, "seed loaded");
    }
    if let Some(doc) = crate::fixture::declared(&app.config) {
        let summary = crate::fixture::seed(
            &app.store,
            &doc,
            &app.accounts,
            crate::fixture::Limits::of(&app.config),
        )
        .map_err(|e| format!("the principals of the config: {e}"))?;
        tracing::info!(added = ?summary.added, skipped = summary.skipped, "config principals loaded");
    }
    app.access.invalidate();
    let resumed = app.imm.resume_tasks().map_err(|e| e.to_string())?;
    app.imm.start_takeover();
    if resumed > 0 {
        tracing::info!(
            tasks = resumed,
            "resumed IMM tasks left running by the previous process"
        );
    }
    let listener = socket
        .listen(LISTEN_BACKLOG)
        .map_err(|e| format!("cannot listen on {}: {e}", app.config.listen))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let mut listeners = vec![connections::Listener::plain(listener)];
    let mut https = None;
    if let Some(socket) = tls_socket {
        let (server_config, ca) = match configured_tls {
            Some(c) => (c, None),
            None => {
                let listen = app.config.tls.listen.as_deref().unwrap_or_default();
                let names = tls::subject_names(&app.config.tls.names, listen);
                let dir = app.config.data_dir.clone();
                let made = tokio::task::spawn_blocking(move || tls::generated(&dir, &names))
                    .await
                    .map_err(|e| e.to_string())??;
                (made.config, Some((made.ca, made.issued)))
            }
        };
        let tcp = socket
            .listen(LISTEN_BACKLOG)
            .map_err(|e| format!("tls.listen: cannot listen: {e}"))?;
        let tls_bound = tcp.local_addr().map_err(|e| e.to_string())?;
        listeners.push(connections::Listener::tls(tcp, server_config));
        https = Some((tls_bound, ca));
    }
    // The first line on stdout: scripts and tests read the bound address from it.
    let signals = Signals::listen();
    println!("cloudtwin listening on http://{bound}");
    if let Some((tls_bound, ca)) = &https {
        // A second line; a reader that took only the first may have closed the pipe.
        let _ = writeln!(
            std::io::stdout(),
            "cloudtwin listening on https://{tls_bound}"
        );
        match ca {
            Some((ca, issued)) => tracing::info!(
                addr = %format!("https://{tls_bound}"),
                ca = %ca.display(),
                issued = *issued,
                "TLS listener: a client trusts the generated CA file"
            ),
            None => tracing::info!(
                addr = %format!("https://{tls_bound}"),
                cert = %app.config.tls.cert.as_deref().unwrap_or(std::path::Path::new("")).display(),
                "TLS listener: the configured certificate"
            ),
        }
    }
    tracing::info!(
        addr = %bound,
        store = %store.describe(),
        node = %app.config.node_id(),
        schema_version = store.schema_version().unwrap_or(0),
        "cloudtwin started"
    );
    let open_files = connections::raise_open_file_limit();
    let limits = connections::Limits::new(&app.config.server, open_files);
    tracing::info!(
        max_connections = limits.max_connections,
        configured = app.config.server.max_connections,
        open_file_limit = open_files,
        "connection cap (server.max_connections, at most the open-file limit minus {})",
        connections::FD_RESERVE
    );
    connections::serve(listeners, router(app), limits, body_limit, signals.recv()).await;
    store.close().map_err(|e| e.to_string())?;
    let _ = flusher.await;
    let dir = store.path().to_path_buf();
    let local = store.is_local();
    drop(store);
    tracing::info!("store flushed");
    if !local {
        tracing::info!("bye");
        return Ok(());
    }
    // Background work (a clustering task) may still hold the store: then the snapshot waits
    // for the next start, which replays the log instead.
    match tokio::task::spawn_blocking(move || Store::write_recovery_snapshot(&dir)).await {
        Ok(Ok(())) => tracing::info!("recovery snapshot written; bye"),
        Ok(Err(e)) => tracing::info!(reason = %e, "recovery snapshot left to the next start; bye"),
        Err(e) => tracing::info!(reason = %e, "recovery snapshot left to the next start; bye"),
    }
    Ok(())
}
