//! The service's own routes under `/_cloudtwin/`. Every route but `health` needs
//! `Authorization: Bearer <admin_token>`; a wrong or missing token is 401 and changes nothing.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::server::App;
use crate::store::StoreError;

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

fn authorized(app: &App, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let expected = app.config.admin_token.as_bytes();
    if !given.is_empty() && bool::from(given.as_bytes().ct_eq(expected)) {
        Ok(())
    } else {
        Err(Box::new(error(
            StatusCode::UNAUTHORIZED,
            "admin routes need `Authorization: Bearer <admin_token>` with the token from the config",
        )))
    }
}

/// `GET /_cloudtwin/health`: status, version, schema version, uptime. No token needed.
pub async fn health(State(app): State<Arc<App>>) -> Response {
    match app.store.schema_version() {
        Ok(schema) => Json(json!({
            "status": "ok",
            "version": env!("CARGO_PKG_VERSION"),
            "schema_version": schema,
            "uptime_seconds": app.started.elapsed().as_secs(),
        }))
        .into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BackupRequest {
    dir: PathBuf,
}

/// `POST /_cloudtwin/backup` with `{"dir": "/path"}`: writes a consistent copy of the store
/// into a new or empty directory; `serve --data-dir /path` opens it.
pub async fn backup(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = authorized(&app, &headers) {
        return *r;
    }
    let req: BackupRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("the body must be {{\"dir\": \"/path/to/new/dir\"}}: {e}"),
            )
        }
    };
    let store = app.store.clone();
    let started = Instant::now();
    let result = tokio::task::spawn_blocking(move || store.copy_to(&req.dir)).await;
    match result {
        Ok(Ok(stats)) => Json(json!({
            "dir": stats.dir,
            "records": stats.records,
            "seconds": started.elapsed().as_secs_f64(),
        }))
        .into_response(),
        Ok(Err(StoreError::Target(m))) => error(StatusCode::BAD_REQUEST, m),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
