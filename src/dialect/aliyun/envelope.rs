//! The response envelope: a JSON object with `RequestId`; errors carry `HostId`, `Code`,
//! `Message`, `Recommend` with the code's HTTP status, and `x-acs-retry-after` when throttled
//! (so the Tea SDK raises its ThrottlingException).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::actions::Output;
use super::error::AliError;
use crate::dialect::Lang;

/// Content type of every answer.
pub const CONTENT_TYPE: &str = "application/json;charset=utf-8";

fn respond(status: u16, request_id: &str, body: Value) -> Response {
    respond_text(status, request_id, body.to_string())
}

fn respond_text(status: u16, request_id: &str, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-acs-request-id", v);
    }
    resp
}

/// A success answer.
pub fn success(request_id: &str, out: Output) -> Response {
    respond_text(200, request_id, out.into_object_text(request_id))
}

/// An error answer, its message in the language the request asked for.
pub fn error(request_id: &str, host: &str, e: &AliError, lang: Lang) -> Response {
    let code = e.code.as_str();
    let mut body = json!({
        "RequestId": request_id,
        "HostId": host,
        "Code": code,
        "Message": e.message_in(lang),
        "Recommend": format!("https://api.aliyun.com/troubleshoot?q={code}&product=imm&requestId={request_id}"),
    });
    if let (Some(detail), Some(obj)) = (&e.access_denied_detail, body.as_object_mut()) {
        obj.insert("AccessDeniedDetail".into(), detail.clone());
    }
    let mut resp = respond(e.code.status(), request_id, body);
    if let Some(ms) = e.retry_after_ms {
        if let Ok(v) = HeaderValue::from_str(&ms.max(1).to_string()) {
            resp.headers_mut().insert("x-acs-retry-after", v);
        }
    }
    resp
}
