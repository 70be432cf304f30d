//! The HTTP server: one listener for every dialect, the `/_cloudtwin/` routes, the request
//! log line, and graceful shutdown (finish in-flight requests, flush, exit 0). The accept loop
//! with its timeouts and connection cap is `connections.rs`.

mod connections;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::accounts::Accounts;
use crate::admin;
use crate::config::Config;
use crate::cvm::Cvm;
use crate::dialect::aliyun::verify::NonceCache;
use crate::dialect::{self, aliyun, tencent, Dialect, RequestLog};
use crate::imm::{Imm, ImmSettings};
use crate::ratelimit::RateLimits;
use crate::store::Store;

/// Largest state document accepted by `PUT /_cloudtwin/state` and `POST /_cloudtwin/seed`.
pub const MAX_STATE_BYTES: usize = 1 << 30;

/// The largest body a request to `path` may carry (the router's `DefaultBodyLimit`s): a
/// larger declared `Content-Length` is answered 413 before any of the body is read.
pub fn body_limit(path: &str) -> usize {
    match path {
        "/_cloudtwin/state" | "/_cloudtwin/seed" => MAX_STATE_BYTES,
        _ => tencent::MAX_BODY_BYTES + 1,
    }
}

/// Prefix of the service's own routes.
pub const ADMIN_PREFIX: &str = "/_cloudtwin/";

/// Everything a request handler can reach.
pub struct App {
    /// The configuration in force (after CLI and environment overrides).
    pub config: Config,
    /// Accounts by credential.
    pub accounts: Accounts,
    /// The store.
    pub store: Store,
    /// The image service.
    pub cvm: Cvm,
    /// The face service.
    pub imm: Arc<Imm>,
    /// Alibaba Cloud signature nonces seen recently.
    pub nonces: NonceCache,
    /// Request limits.
    pub limits: RateLimits,
    /// Fault-injection rules.
    pub faults: crate::faults::Faults,
    /// Request counters and latencies.
    pub metrics: crate::metrics::Metrics,
    /// The request journal.
    pub journal: crate::journal::Journal,
    /// When the server started.
    pub started: Instant,
}

impl App {
    /// Builds the application over an open store.
    pub fn new(config: Config, store: Store) -> App {
        App {
            accounts: Accounts::new(&config.accounts),
            cvm: Cvm::new(
                store.clone(),
                config.cvm.image_ready_after_ms,
                config.cvm.image_quota,
            ),
            imm: Arc::new(Imm::new(
                store.clone(),
                ImmSettings {
                    similarity_threshold: config.imm.cluster_similarity_threshold,
                    task_retention_ms: config.imm.task_retention_seconds.saturating_mul(1000),
                    task_min_duration_ms: config.imm.task_min_duration_ms,
                },
            )),
            nonces: NonceCache::default(),
            limits: RateLimits::new(&config.rate_limit),
            faults: crate::faults::Faults::default(),
            metrics: crate::metrics::Metrics::default(),
            journal: crate::journal::Journal::default(),
            store,
            config,
            started: Instant::now(),
        }
    }
}

/// The axum router of the whole service.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/_cloudtwin/health", get(admin::health))
        .route("/_cloudtwin/backup", post(admin::backup))
        .route("/_cloudtwin/imm/faces", post(admin::ingest_faces))
        .route(
            "/_cloudtwin/state",
            get(admin::get_state)
                .put(admin::put_state)
                .layer(DefaultBodyLimit::max(MAX_STATE_BYTES)),
        )
        .route(
            "/_cloudtwin/seed",
            post(admin::post_seed).layer(DefaultBodyLimit::max(MAX_STATE_BYTES)),
        )
        .route("/_cloudtwin/reset", post(admin::reset))
        .route(
            "/_cloudtwin/cvm/images/{id}/state",
            post(admin::set_image_state),
        )
        .route(
            "/_cloudtwin/imm/tasks/{task_id}/finish",
            post(admin::finish_task),
        )
        .route(
            "/_cloudtwin/settings",
            get(admin::get_settings).put(admin::put_settings),
        )
        .route(
            "/_cloudtwin/faults",
            get(admin::list_faults)
                .post(admin::add_fault)
                .delete(admin::clear_faults),
        )
        .route(
            "/_cloudtwin/faults/{id}",
            axum::routing::delete(admin::delete_fault),
        )
        .route("/_cloudtwin/metrics", get(admin::metrics))
        .route(
            "/_cloudtwin/request-log",
            get(admin::get_journal).put(admin::put_journal),
        )
        .fallback(dispatch)
        .layer(DefaultBodyLimit::max(tencent::MAX_BODY_BYTES + 1))
        .with_state(app)
}

fn form_pairs(data: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(data)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
        .unwrap_or(false)
}

/// Every request that is not a `/_cloudtwin/` route: find the dialect and let it answer.
async fn dispatch(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    if uri.path() != "/" {
        let what = if uri.path().starts_with(ADMIN_PREFIX) {
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
    let raw_query = uri.query().unwrap_or("");
    let query = form_pairs(raw_query.as_bytes());
    let form = if method == Method::POST && is_form(&headers) {
        form_pairs(&body)
    } else {
        Vec::new()
    };
    let all: Vec<(String, String)> = query.iter().chain(form.iter()).cloned().collect();
    let mut log = RequestLog {
        request_id: uuid::Uuid::new_v4().to_string(),
        ..RequestLog::default()
    };
    let response = match dialect::classify(&headers, &all) {
        Some(Dialect::Tencent) => {
            log.dialect = Dialect::Tencent.name();
            // Tencent reads only the query of a GET and only the body of a POST.
            let incoming = tencent::Incoming {
                method: &method,
                raw_query,
                headers: &headers,
                body: &body,
                pairs: if method == Method::POST {
                    &form
                } else {
                    &query
                },
            };
            tencent::handle(&app, incoming, &mut log).await
        }
        Some(Dialect::Aliyun) => {
            log.dialect = Dialect::Aliyun.name();
            let incoming = aliyun::Incoming {
                method: &method,
                headers: &headers,
                body: &body,
                query: &query,
                form: &form,
            };
            aliyun::handle(&app, incoming, &mut log).await
        }
        None => {
            log.dialect = "none";
            log.code = "Unrecognised".into();
            (
                StatusCode::BAD_REQUEST,
                Json(json!({
                    "error": "the request speaks no dialect cloudtwin knows: a Tencent Cloud API 3.0 request has an X-TC-Action header or Version=2017-03-12; an Alibaba Cloud IMM request has an x-acs-action header or Version=2020-09-30"
                })),
            )
                .into_response()
        }
    };
    let elapsed = started.elapsed();
    let known = match log.dialect {
        "tencent" => tencent::router::Action::from_name(&log.action).is_some(),
        "aliyun" => aliyun::router::Action::from_name(&log.action).is_some(),
        _ => false,
    };
    app.metrics.observe(
        log.dialect,
        if known { &log.action } else { "unknown" },
        &log.code,
        elapsed,
    );
    tracing::info!(
        request_id = %log.request_id,
        dialect = log.dialect,
        action = %log.action,
        account = %log.account,
        region = %log.region,
        code = %log.code,
        latency_us = elapsed.as_micros() as u64,
        "request"
    );
    if app.journal.enabled() {
        let (parts, body_out) = response.into_parts();
        let bytes = axum::body::to_bytes(body_out, usize::MAX)
            .await
            .unwrap_or_default();
        app.journal.record(&crate::journal::Exchange {
            request_id: &log.request_id,
            dialect: log.dialect,
            method: method.as_str(),
            path: uri.path(),
            query: raw_query,
            headers: &headers,
            body: &body,
            form: method == Method::POST && is_form(&headers),
            status: parts.status.as_u16(),
            response: &bytes,
        });
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    }
    response
}

/// Resolves when SIGINT or SIGTERM arrives.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}

/// Opens the store, binds, prints the bound address, serves until a signal, then flushes.
pub async fn serve(config: Config) -> Result<(), String> {
    let addr: SocketAddr = config.listen_addr().map_err(|e| e.0)?;
    let durability = config.durability_mode().map_err(|e| e.0)?;
    let data_dir = config.data_dir.clone();
    let cache_mb = config.cache_mb;
    let store =
        tokio::task::spawn_blocking(move || Store::open_sized(&data_dir, durability, cache_mb))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    let flusher = store.start_flusher();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let seed = config.seed.clone();
    let journal_path = config.request_log.clone();
    let app = Arc::new(App::new(config, store.clone()));
    if let Some(p) = journal_path {
        app.journal.set(Some(&p))?;
    }
    if let Some(path) = seed {
        let summary = crate::fixture::load_file(&app.store, &path, &app.accounts, true)
            .map_err(|e| format!("seed {}: {e}", path.display()))?;
        tracing::info!(seed = %path.display(), added = ?summary.added, skipped = summary.skipped, "seed loaded");
    }
    let resumed = app.imm.resume_tasks().map_err(|e| e.to_string())?;
    if resumed > 0 {
        tracing::info!(
            tasks = resumed,
            "resumed IMM tasks left running by the previous process"
        );
    }
    // The one line on stdout: scripts and tests read the bound address from it.
    println!("cloudtwin listening on http://{bound}");
    tracing::info!(
        addr = %bound,
        data_dir = %store.path().display(),
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
    connections::serve(listener, router(app), limits, body_limit, shutdown_signal()).await;
    store.close().map_err(|e| e.to_string())?;
    let _ = flusher.await;
    let dir = store.path().to_path_buf();
    drop(store);
    tracing::info!("store flushed");
    // Background work (a clustering task) may still hold the store: then the snapshot waits
    // for the next start, which replays the log instead.
    match tokio::task::spawn_blocking(move || Store::write_recovery_snapshot(&dir)).await {
        Ok(Ok(())) => tracing::info!("recovery snapshot written; bye"),
        Ok(Err(e)) => tracing::info!(reason = %e, "recovery snapshot left to the next start; bye"),
        Err(e) => tracing::info!(reason = %e, "recovery snapshot left to the next start; bye"),
    }
    Ok(())
}
