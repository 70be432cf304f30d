//! The service's own routes under `/_cloudtwin/`. Every route but `health` needs
//! `Authorization: Bearer <admin_token>`; a wrong or missing token is 401 and changes nothing.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::app::App;
use crate::store::StoreError;

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// Prefix of the service's own routes.
pub const PREFIX: &str = "/_cloudtwin/";

/// Largest state document accepted by `PUT /_cloudtwin/state` and `POST /_cloudtwin/seed`.
pub const MAX_STATE_BYTES: usize = 1 << 30;

/// The routes that take a whole state document.
const STATE_PATH: &str = "/_cloudtwin/state";
const SEED_PATH: &str = "/_cloudtwin/seed";

/// The body limit of an admin route that allows more than the service's default (the router
/// below and the accept loop's early 413 both read it).
pub fn larger_body_limit(path: &str) -> Option<usize> {
    (path == STATE_PATH || path == SEED_PATH).then_some(MAX_STATE_BYTES)
}

/// The admin routes: `health` open, every other route behind the one token layer.
pub fn router(app: Arc<App>) -> Router<Arc<App>> {
    let guarded = Router::new()
        .route("/_cloudtwin/backup", post(backup))
        .route("/_cloudtwin/imm/faces", post(ingest_faces))
        .route(
            STATE_PATH,
            get(get_state)
                .put(put_state)
                .layer(DefaultBodyLimit::max(MAX_STATE_BYTES)),
        )
        .route(
            SEED_PATH,
            post(post_seed).layer(DefaultBodyLimit::max(MAX_STATE_BYTES)),
        )
        .route("/_cloudtwin/reset", post(reset))
        .route("/_cloudtwin/cvm/images/{id}/state", post(set_image_state))
        .route("/_cloudtwin/imm/tasks/{task_id}/finish", post(finish_task))
        .route("/_cloudtwin/settings", get(get_settings).put(put_settings))
        .route(
            "/_cloudtwin/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/_cloudtwin/faults/{id}", delete(delete_fault))
        .route("/_cloudtwin/metrics", get(metrics))
        .route("/_cloudtwin/request-log", get(get_journal).put(put_journal))
        .route("/_cloudtwin/request-log/entries", get(journal_entries))
        .route_layer(middleware::from_fn_with_state(app, require_token));
    Router::new()
        .route("/_cloudtwin/health", get(health))
        .merge(guarded)
}

/// The token layer: `Authorization: Bearer <admin_token>`, compared in constant time; a wrong
/// or missing token is 401 before the handler runs, so it changes nothing.
async fn require_token(
    State(app): State<Arc<App>>,
    req: axum::extract::Request,
    next: Next,
) -> Response {
    let given = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let expected = app.config.admin_token.as_bytes();
    if !given.is_empty() && bool::from(given.as_bytes().ct_eq(expected)) {
        next.run(req).await
    } else {
        error(
            StatusCode::UNAUTHORIZED,
            "admin routes need `Authorization: Bearer <admin_token>` with the token from the config",
        )
    }
}

/// `GET /_cloudtwin/health`: status, version, schema version, uptime. No token needed.
pub async fn health(State(app): State<Arc<App>>) -> Response {
    // Nothing here reads the store: a long write transaction holds sled's commit lock, and a
    // health probe must not wait behind it.
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "schema_version": app.schema_version,
        "uptime_seconds": app.started.elapsed().as_secs(),
        "node": app.cluster.node_id(),
        "store": if app.store.is_local() { "sled" } else { "postgres" },
    }))
    .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BackupRequest {
    dir: PathBuf,
}

/// `POST /_cloudtwin/backup` with `{"dir": "/path"}`: writes a consistent copy of the store
/// into a new or empty directory; `serve --data-dir /path` opens it.
pub async fn backup(State(app): State<Arc<App>>, body: Bytes) -> Response {
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
pub async fn ingest_faces(State(app): State<Arc<App>>, body: Bytes) -> Response {
    use crate::dialect::aliyun::actions::{file_input, FaceMode};
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

fn state_error(e: crate::fixture::StateError) -> Response {
    match e {
        crate::fixture::StateError::Invalid(m) => error(StatusCode::BAD_REQUEST, m.0),
        crate::fixture::StateError::Store(e) => {
            error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
        }
    }
}

fn json_body(body: &Bytes) -> Result<serde_json::Value, Box<Response>> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            format!("the body is not valid JSON: {e}"),
        ))
    })
}

/// The body as `T`; an empty body counts as `{}`. `shape` says what is expected.
fn parse_body<T: serde::de::DeserializeOwned>(
    body: &Bytes,
    shape: &str,
) -> Result<T, Box<Response>> {
    let v = json_body(body)?;
    serde_json::from_value(v).map_err(|e| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            format!("the body must be {shape}: {e}"),
        ))
    })
}

/// `GET /_cloudtwin/state`: the whole state as a portable document.
pub async fn get_state(State(app): State<Arc<App>>) -> Response {
    let store = app.store.clone();
    match tokio::task::spawn_blocking(move || crate::fixture::export(&store)).await {
        Ok(Ok(doc)) => Json(doc).into_response(),
        Ok(Err(e)) => state_error(e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn load_state(app: Arc<App>, body: Bytes, merge: bool) -> Response {
    let doc = match json_body(&body) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    let store = app.store.clone();
    let started = Instant::now();
    let app2 = app.clone();
    let result = tokio::task::spawn_blocking(move || {
        if merge {
            crate::fixture::seed(
                &store,
                &doc,
                &app2.accounts,
                crate::fixture::Limits::of(&app2.config),
            )
        } else {
            crate::fixture::replace(
                &store,
                &doc,
                &app2.accounts,
                crate::fixture::Limits::of(&app2.config),
            )
        }
    })
    .await;
    app.access.invalidate();
    match result {
        Ok(Ok(summary)) => Json(json!({"added": summary.added, "skipped": summary.skipped, "seconds": started.elapsed().as_secs_f64()})).into_response(),
        Ok(Err(e)) => state_error(e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// `PUT /_cloudtwin/state`: replaces the whole state with a document (all or nothing).
pub async fn put_state(State(app): State<Arc<App>>, body: Bytes) -> Response {
    load_state(app, body, false).await
}

/// `POST /_cloudtwin/seed`: loads a fixture document, skipping what exists (idempotent).
pub async fn post_seed(State(app): State<Arc<App>>, body: Bytes) -> Response {
    load_state(app, body, true).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetRequest {
    account: Option<String>,
    dialect: Option<String>,
    part: Option<String>,
}

/// `POST /_cloudtwin/reset` with `{}`, `{"account": "..."}`, `{"dialect": "tencent"|"aliyun"}`
/// or `{"part": "cvm"|"imm"|"access"}`, or an account with one of those: removes that state.
pub async fn reset(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let req: ResetRequest = match parse_body(&body, "{\"account\"?, \"dialect\"? or \"part\"?}") {
        Ok(r) => r,
        Err(r) => return *r,
    };
    if req.dialect.is_some() && req.part.is_some() {
        return error(
            StatusCode::BAD_REQUEST,
            "give dialect or part, not both".to_string(),
        );
    }
    let part_name = req.part.as_deref();
    use crate::dialect::Dialect;
    let dialect = req.dialect.as_deref().map(|d| match d {
        "cvm" => Some(Dialect::Tencent),
        "imm" => Some(Dialect::Aliyun),
        d => Dialect::from_name(d),
    });
    let part = match dialect {
        None => match part_name.map(crate::fixture::Part::from_name) {
            None => None,
            Some(Some(p)) => Some(p),
            Some(None) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "part {:?} is not \"cvm\", \"imm\" or \"access\"",
                        part_name.unwrap_or_default()
                    ),
                )
            }
        },
        Some(Some(Dialect::Tencent)) => Some(crate::fixture::Part::Cvm),
        Some(Some(Dialect::Aliyun)) => Some(crate::fixture::Part::Imm),
        Some(None) => {
            let other = req.dialect.as_deref().unwrap_or_default();
            return error(
                StatusCode::BAD_REQUEST,
                format!(
                    "dialect {other:?} is not {:?} or {:?}",
                    Dialect::Tencent.name(),
                    Dialect::Aliyun.name()
                ),
            );
        }
    };
    if let Some(a) = &req.account {
        if app.accounts.by_id(a).is_none() {
            return error(
                StatusCode::BAD_REQUEST,
                format!("account {a} is not an account of the config"),
            );
        }
    }
    let store = app.store.clone();
    let started = Instant::now();
    let result = tokio::task::spawn_blocking(move || {
        crate::fixture::reset(&store, req.account.as_deref(), part)
    })
    .await;
    app.access.invalidate();
    match result {
        Ok(Ok(n)) => Json(json!({"changed_keys": n, "seconds": started.elapsed().as_secs_f64()}))
            .into_response(),
        Ok(Err(e)) => state_error(e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageStateRequest {
    state: String,
    then: Option<String>,
    after_ms: Option<u64>,
}

/// `POST /_cloudtwin/cvm/images/{id}/state` with `{"state": "CREATEFAILED"}` or
/// `{"state": "CREATING", "then": "NORMAL", "after_ms": 5000}`: sets an image's state now.
pub async fn set_image_state(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    use crate::cvm::ImageState;
    let req: ImageStateRequest = match parse_body(&body, "{\"state\", \"then\"?, \"after_ms\"?}") {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let parse = |s: &str| {
        ImageState::from_wire(s).ok_or_else(|| format!("{s:?} is not one of CREATING, NORMAL, CREATEFAILED, SYNCING, IMPORTING, IMPORTFAILED"))
    };
    let state = match parse(&req.state) {
        Ok(s) => s,
        Err(m) => return error(StatusCode::BAD_REQUEST, m),
    };
    let then = match (req.then.as_deref(), req.after_ms) {
        (None, None) => None,
        (Some(_), Some(ms)) if ms > crate::clock::MAX_DELAY_MS => {
            return error(
                StatusCode::BAD_REQUEST,
                format!(
                    "after_ms {ms} is out of range; it must be at most {}",
                    crate::clock::MAX_DELAY_MS
                ),
            )
        }
        (Some(t), after) => match parse(t) {
            Ok(t) => Some((t, after.unwrap_or(0))),
            Err(m) => return error(StatusCode::BAD_REQUEST, m),
        },
        (None, Some(_)) => return error(StatusCode::BAD_REQUEST, "after_ms goes with then"),
    };
    match app.cvm.force_state(&id, state, then).await {
        Ok(()) => Json(json!({"ImageId": id, "ImageState": state.as_wire()})).into_response(),
        Err(crate::cvm::CvmError::NotFound(_)) => {
            error(StatusCode::NOT_FOUND, format!("image {id} not found"))
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FinishRequest {
    status: String,
    code: Option<String>,
    message: Option<String>,
}

/// `POST /_cloudtwin/imm/tasks/{task_id}/finish` with `{"status": "Succeeded"}` (do the work
/// now) or `{"status": "Failed", "code": "...", "message": "..."}`.
pub async fn finish_task(
    State(app): State<Arc<App>>,
    Path(task_id): Path<String>,
    body: Bytes,
) -> Response {
    let req: FinishRequest = match parse_body(&body, "{\"status\", \"code\"?, \"message\"?}") {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let fail = match req.status.as_str() {
        "Succeeded" => None,
        "Failed" => Some((
            req.code.unwrap_or_else(|| "InternalError".into()),
            req.message
                .unwrap_or_else(|| "failed by cloudtwin state control".into()),
        )),
        other => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("status {other:?} is not Succeeded or Failed"),
            )
        }
    };
    match app.imm.finish_task_now(&task_id, fail).await {
        Ok(true) => Json(json!({"TaskId": task_id, "Status": req.status})).into_response(),
        Ok(false) => error(StatusCode::NOT_FOUND, format!("no running task {task_id}")),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

fn settings_body(app: &App) -> serde_json::Value {
    json!({
        "cvm": {"image_ready_after_ms": app.cvm.ready_after_ms()},
        "imm": {"task_min_duration_ms": app.imm.task_min_duration_ms()},
    })
}

/// `GET /_cloudtwin/settings`: the delays in force.
pub async fn get_settings(State(app): State<Arc<App>>) -> Response {
    Json(settings_body(&app)).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CvmSettings {
    image_ready_after_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImmSettingsBody {
    task_min_duration_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsRequest {
    cvm: Option<CvmSettings>,
    imm: Option<ImmSettingsBody>,
}

/// `PUT /_cloudtwin/settings` with `{"cvm": {"image_ready_after_ms": 0}, "imm":
/// {"task_min_duration_ms": 0}}`: changes the delays at run time (not saved in the config).
pub async fn put_settings(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let req: SettingsRequest = match parse_body(
        &body,
        "{\"cvm\"?: {\"image_ready_after_ms\"}, \"imm\"?: {\"task_min_duration_ms\"}}",
    ) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let ready = req.cvm.and_then(|c| c.image_ready_after_ms);
    let task = req.imm.and_then(|c| c.task_min_duration_ms);
    for (key, v) in [
        ("cvm.image_ready_after_ms", ready),
        ("imm.task_min_duration_ms", task),
    ] {
        if let Some(ms) = v.filter(|ms| *ms > crate::clock::MAX_DELAY_MS) {
            return error(
                StatusCode::BAD_REQUEST,
                format!(
                    "{key} {ms} is out of range; it must be at most {}",
                    crate::clock::MAX_DELAY_MS
                ),
            );
        }
    }
    if let Some(ms) = ready {
        app.cvm.set_ready_after_ms(ms);
    }
    if let Some(ms) = task {
        app.imm.set_task_min_duration_ms(ms);
    }
    Json(settings_body(&app)).into_response()
}

/// `POST /_cloudtwin/faults` with a rule (`dialect`, `action`, `account`, `probability`,
/// `count`, `error: {code, message, status}`, `latency_ms`): returns its id.
pub async fn add_fault(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let spec: crate::faults::FaultSpec = match parse_body(&body, "a fault rule") {
        Ok(s) => s,
        Err(r) => return *r,
    };
    match app.faults.add(spec) {
        Ok(id) => Json(json!({"id": id})).into_response(),
        Err(m) => error(StatusCode::BAD_REQUEST, m),
    }
}

/// `GET /_cloudtwin/faults`: the rules in force, with how often each fired.
pub async fn list_faults(State(app): State<Arc<App>>) -> Response {
    Json(json!({"rules": app.faults.list()})).into_response()
}

/// `DELETE /_cloudtwin/faults`: removes every rule.
pub async fn clear_faults(State(app): State<Arc<App>>) -> Response {
    Json(json!({"removed": app.faults.clear()})).into_response()
}

/// `DELETE /_cloudtwin/faults/{id}`: removes one rule.
pub async fn delete_fault(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    if app.faults.remove(&id) {
        Json(json!({"removed": 1})).into_response()
    } else {
        error(StatusCode::NOT_FOUND, format!("no fault rule {id}"))
    }
}

/// `GET /_cloudtwin/metrics`: Prometheus text format.
pub async fn metrics(State(app): State<Arc<App>>) -> Response {
    let (flushes, last) = app.store.flush_stats();
    let (batched_transactions, batches_applied) = app.store.batch_stats();
    let text = app.metrics.render(&crate::metrics::Gauges {
        store_bytes: app.store.size_on_disk().unwrap_or(0),
        flushes,
        last_flush_micros: last,
        batched_transactions,
        batches_applied,
        rate_limited: app.limits.rejected(),
        faults: app.faults.fired(),
    });
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        text,
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JournalRequest {
    path: Option<PathBuf>,
}

/// `GET /_cloudtwin/request-log`: where requests are journalled (`null` when off).
pub async fn get_journal(State(app): State<Arc<App>>) -> Response {
    Json(json!({"path": app.journal.path()})).into_response()
}

/// `GET /_cloudtwin/request-log/entries`: the latest journal lines (at most
/// [`crate::journal::RECENT`], oldest first) written since the server started, as
/// `{"path", "entries": [...]}`; empty while the journal was off.
pub async fn journal_entries(State(app): State<Arc<App>>) -> Response {
    Json(json!({"path": app.journal.path(), "entries": app.journal.recent()})).into_response()
}

/// `PUT /_cloudtwin/request-log` with `{"path": "/tmp/requests.jsonl"}` (on) or
/// `{"path": null}` (off).
pub async fn put_journal(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let req: JournalRequest = match parse_body(&body, "{\"path\": \"...\" | null}") {
        Ok(r) => r,
        Err(r) => return *r,
    };
    match app.journal.set(req.path.as_deref()) {
        Ok(()) => Json(json!({"path": app.journal.path()})).into_response(),
        Err(m) => error(StatusCode::BAD_REQUEST, m),
    }
}
