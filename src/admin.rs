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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(non_snake_case)]
struct IngestRequest {
    AccountId: String,
    Region: Option<String>,
    ProjectName: String,
    DatasetName: String,
    File: serde_json::Map<String, serde_json::Value>,
}

/// `POST /_cloudtwin/imm/faces`: indexes a file with the faces real IMM would have detected
/// (`Age`, `Gender`, `FaceQuality`, `Boundary`, `HeadPose`, ..., plus an optional `Embedding`
/// and `IdentityHint`). The faces wait for the next clustering task.
///
/// # Format
/// `{"AccountId": "100000000001", "Region": "cn-hangzhou", "ProjectName": "p", "DatasetName": "d",
///   "File": {"URI": "oss://b/a.jpg", "Figures": [{"FigureId": "f1", "Age": 30, "Embedding": [..]}]}}`
/// -> `{"URI": "oss://b/a.jpg", "FigureIds": ["f1"]}`
pub async fn ingest_faces(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use crate::dialect::aliyun::actions::{file_input, FaceMode};
    if let Err(r) = authorized(&app, &headers) {
        return *r;
    }
    let req: IngestRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("the body must be {{\"AccountId\", \"ProjectName\", \"DatasetName\", \"File\"}}: {e}")),
    };
    if app.accounts.by_id(&req.AccountId).is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            format!("AccountId {} is not a configured account", req.AccountId),
        );
    }
    let region = req
        .Region
        .clone()
        .unwrap_or_else(|| app.config.imm.default_region.clone());
    let mut file = match file_input(&req.File, FaceMode::Ingest) {
        Ok(f) => f,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.message),
    };
    // Ingested faces need ids to be found again: give the missing ones an id here.
    for f in file.faces.iter_mut().flatten() {
        if f.figure_id.is_none() {
            f.figure_id = Some(uuid::Uuid::new_v4().to_string());
        }
    }
    let ids: Vec<String> = file
        .faces
        .iter()
        .flatten()
        .filter_map(|f| f.figure_id.clone())
        .collect();
    let caller = crate::imm::Caller {
        account: &req.AccountId,
        region: &region,
    };
    match app
        .imm
        .index_files(
            caller,
            &req.ProjectName,
            &req.DatasetName,
            std::slice::from_ref(&file),
        )
        .await
    {
        Ok(()) => Json(json!({"URI": file.uri, "FigureIds": ids})).into_response(),
        Err(crate::imm::ImmError::NotFound { kind, name }) => {
            error(StatusCode::NOT_FOUND, format!("{kind} {name} not found"))
        }
        Err(crate::imm::ImmError::Store(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
        Err(e) => error(StatusCode::BAD_REQUEST, e.to_string()),
    }
}
