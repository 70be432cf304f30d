//! The response envelope: always HTTP 200, `Content-Type: application/json` exactly (the
//! Python SDK skips its error check for any other value, cvm.md §3.3), and
//! `{"Response": {...fields, "RequestId"}}` or `{"Response": {"Error": {...}, "RequestId"}}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::actions::Output;
use super::error::TcError;
use crate::dialect::Lang;

/// Response header carrying the request id, as the real gateway sends on some APIs.
pub const X_TC_REQUEST_ID: &str = "x-tc-requestid";

fn respond(request_id: &str, inner: Map<String, Value>) -> Response {
    respond_text(
        request_id,
        json!({ "Response": Value::Object(inner) }).to_string(),
    )
}

fn respond_text(request_id: &str, body: String) -> Response {
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
pub fn success(request_id: &str, out: Output) -> Response {
    respond_text(request_id, success_body(request_id, out))
}

fn success_body(request_id: &str, out: Output) -> String {
    out.into_wrapped_text(request_id, "{\"Response\":", "}")
}

/// An error answer, its message in the language the request asked for.
pub fn error(request_id: &str, e: &TcError, lang: Lang) -> Response {
    let mut fields = Map::new();
    fields.insert(
        "Error".into(),
        json!({ "Code": e.code_str(), "Message": e.message_in(lang) }),
    );
    fields.insert("RequestId".into(), Value::String(request_id.to_string()));
    respond(request_id, fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_success_body_holds_the_value_fields_the_serialised_fields_and_the_request_id() {
        let mut out = Output::new();
        out.insert("TotalCount".into(), json!(2));
        out.insert_serialized("ImageSet", &vec![json!({"ImageId": "img-12345678"})]);
        out.insert_serialized("Image", &Option::<u8>::None);
        let v: Value = serde_json::from_str(&success_body("rid-1", out)).expect("valid JSON");
        assert_eq!(
            v,
            json!({"Response": {"TotalCount": 2, "ImageSet": [{"ImageId": "img-12345678"}],
                "Image": null, "RequestId": "rid-1"}})
        );
        let plain: Value =
            serde_json::from_str(&success_body("rid-2", Output::new())).expect("json");
        assert_eq!(plain, json!({"Response": {"RequestId": "rid-2"}}));
    }
}
