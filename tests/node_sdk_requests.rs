//! Hand-made requests reproducing what the official Node.js SDK (tencentcloud-sdk-nodejs)
//! sends when pointed at `endpoint: "127.0.0.1:PORT"`, `protocol: "http://"`: the scope's
//! service is `endpoint.split(".")[0]` (`127`), and `host` is signed as the URL's hostname
//! without the port that the Host header carries.

mod common;

use common::*;
use serde_json::{json, Value};

/// Sends `action` the way the Node SDK does, with the scope service and the signed host given.
fn node_style(
    s: &Server,
    method: &str,
    action: &str,
    params: &Value,
    service: &str,
    signed_host: &str,
) -> Value {
    let ts = now();
    let date = date_of(ts);
    let (content_type, query, payload) = if method == "GET" {
        let q: Vec<String> = params
            .as_object()
            .expect("object")
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().expect("string value")))
            .collect();
        (
            "application/x-www-form-urlencoded",
            q.join("&"),
            String::new(),
        )
    } else {
        ("application/json", String::new(), params.to_string())
    };
    let canonical = format!(
        "{method}\n/\n{query}\ncontent-type:{content_type}\nhost:{signed_host}\n\ncontent-type;host\n{}",
        hexsha(payload.as_bytes())
    );
    let sts = format!(
        "TC3-HMAC-SHA256\n{ts}\n{date}/{service}/tc3_request\n{}",
        hexsha(canonical.as_bytes())
    );
    let k = hmac(format!("TC3{SECRET_KEY_1}").as_bytes(), &date);
    let k = hmac(&k, service);
    let k = hmac(&k, "tc3_request");
    let sig = hex::encode(hmac(&k, &sts));
    let auth = format!(
        "TC3-HMAC-SHA256 Credential={SECRET_ID_1}/{date}/{service}/tc3_request, SignedHeaders=content-type;host, Signature={sig}"
    );
    let url = if query.is_empty() {
        format!("http://{}/", s.host())
    } else {
        format!("http://{}/?{query}", s.host())
    };
    let req = ureq::request(method, &url)
        .set("Content-Type", content_type)
        .set("X-TC-Action", action)
        .set("X-TC-Version", "2017-03-12")
        .set("X-TC-Region", REGION)
        .set("X-TC-Timestamp", &ts.to_string())
        .set("X-TC-RequestClient", "SDK_NODEJS_4.1.316")
        .set("X-TC-TraceId", "5f1b6c1e-0000-4000-8000-000000000000")
        .set("Authorization", &auth);
    let resp = if method == "GET" {
        req.call()
    } else {
        req.send_string(&payload)
    };
    let resp = match resp {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport error: {e}"),
    };
    let v: Value = resp.into_json().expect("json");
    v["Response"].clone()
}

fn bare_host(s: &Server) -> String {
    s.host().rsplit_once(':').expect("port").0.to_string()
}

#[test]
fn a_node_sdk_post_signed_for_service_127_and_the_host_without_port_is_accepted() {
    let s = Server::start(Opts::default());
    let host = bare_host(&s);
    assert_eq!(host, "127.0.0.1");
    let r = node_style(
        &s,
        "POST",
        "CreateImage",
        &json!({"ImageName": "node-made", "InstanceId": "ins-abcdefgh"}),
        "127",
        &host,
    );
    assert!(r.get("Error").is_none(), "{r}");
    let id = r["ImageId"].as_str().expect("ImageId");
    let img = s.client().image(id).expect("listed");
    assert_eq!(img["ImageName"], "node-made");
}

#[test]
fn a_node_sdk_get_signed_for_service_127_and_the_host_without_port_is_accepted() {
    let s = Server::start(Opts::default());
    let r = node_style(
        &s,
        "GET",
        "DescribeImages",
        &json!({"Limit": "5"}),
        "127",
        &bare_host(&s),
    );
    assert!(r.get("Error").is_none(), "{r}");
    assert!(r["ImageSet"].as_array().expect("set").len() <= 5);
}

#[test]
fn the_scope_service_cvm_and_the_host_with_its_port_still_work() {
    let s = Server::start(Opts::default());
    let r = node_style(&s, "POST", "DescribeImages", &json!({}), "cvm", &s.host());
    assert!(r.get("Error").is_none(), "{r}");
}

#[test]
fn a_scope_service_that_is_neither_cvm_nor_the_host_called_is_refused() {
    let s = Server::start(Opts::default());
    let r = node_style(
        &s,
        "POST",
        "DescribeImages",
        &json!({}),
        "cbs",
        &bare_host(&s),
    );
    assert_eq!(r["Error"]["Code"], "AuthFailure.SignatureFailure", "{r}");
}

#[test]
fn a_signed_host_that_differs_from_the_host_called_is_refused() {
    let s = Server::start(Opts::default());
    let r = node_style(&s, "POST", "DescribeImages", &json!({}), "127", "127.0.0.2");
    assert_eq!(r["Error"]["Code"], "AuthFailure.SignatureFailure", "{r}");
}
