//! The response envelope: always HTTP 200, `Content-Type: application/json` exactly (the
//! Python SDK skips its error check for any other value, cvm.md §3.3), and
//! `{"Response": {...fields, "RequestId"}}` or `{"Response": {"Error": {...}, "RequestId"}}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::error::TcError;

/// Response header carrying the request id, as the real gateway sends on some APIs.
pub const X_TC_REQUEST_ID: &str = "x-tc-requestid";

fn respond(request_id: &str, inner: Map<String, Value>) -> Response {
    let body = json!({ "Response": Value::Object(inner) }).to_string();
    let mut resp = (StatusCode::OK, body).into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert(X_TC_REQUEST_ID, v);
    }
    resp
}

/// A success answer with the action's output fields.
pub fn success(request_id: &str, mut fields: Map<String, Value>) -> Response {
    fields.insert("RequestId".into(), Value::String(request_id.to_string()));
    respond(request_id, fields)
}

/// An error answer.
pub fn error(request_id: &str, e: &TcError) -> Response {
    let mut fields = Map::new();
    fields.insert(
        "Error".into(),
        json!({ "Code": e.code_str(), "Message": e.message }),
    );
    fields.insert("RequestId".into(), Value::String(request_id.to_string()));
    respond(request_id, fields)
}
