//! The language of error messages: the same failing request answers the same code, its message
//! in Chinese when the request asks for it (Tencent `X-TC-Language` or the v1 `Language`
//! parameter, Alibaba `Accept-Language`) and in English otherwise (docs/cvm.md and docs/imm.md,
//! "Error message language").

mod common;

use base64::Engine;
use common::imm::Tweak;
use common::*;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

const MISSING_IMAGE: &str = "img-00000000";
const EN_NOT_FOUND: &str = "ImageId img-00000000 is not found";
const ZH_NOT_FOUND: &str = "未找到该镜像：img-00000000。";

/// ModifyImageAttribute of an image that does not exist, signed TC3.
fn tc3(c: &Client) -> Value {
    let a = c.call(
        "ModifyImageAttribute",
        json!({"ImageId": MISSING_IMAGE, "ImageName": "x"}),
    );
    a.expect_code("InvalidImageId.NotFound");
    a.response
}

/// The same request signed v1 (HmacSHA256, GET), `Language` among the signed parameters.
fn v1(s: &Server, language: Option<&str>) -> Value {
    let mut all: Vec<(String, String)> = [
        ("Action", "ModifyImageAttribute".to_string()),
        ("Version", "2017-03-12".to_string()),
        ("Region", REGION.to_string()),
        ("Timestamp", now().to_string()),
        ("Nonce", "4711".to_string()),
        ("SecretId", SECRET_ID_1.to_string()),
        ("SignatureMethod", "HmacSHA256".to_string()),
        ("ImageId", MISSING_IMAGE.to_string()),
        ("ImageName", "x".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    if let Some(l) = language {
        all.push(("Language".into(), l.into()));
    }
    all.sort();
    let joined = all
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let sts = format!("GET{}/?{joined}", s.host());
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET_KEY_1.as_bytes()).expect("key");
    mac.update(sts.as_bytes());
    all.push((
        "Signature".into(),
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()),
    ));
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&all)
        .finish();
    let resp = match ureq::get(&format!("{}/?{query}", s.base)).call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport error: {e}"),
    };
    let v: Value = resp.into_json().expect("json");
    let r = v["Response"].clone();
    assert_eq!(r["Error"]["Code"], "InvalidImageId.NotFound", "{r}");
    r
}

fn message(r: &Value) -> &str {
    r["Error"]["Message"].as_str().unwrap_or_default()
}

#[test]
fn tencent_answers_in_the_language_the_request_asks_for() {
    let s = Server::start(Opts::default());
    let c = s.client();
    // TC3: the X-TC-Language header.
    assert_eq!(message(&tc3(&c)), EN_NOT_FOUND, "no language: English");
    assert_eq!(message(&tc3(&c.clone().in_language("en-US"))), EN_NOT_FOUND);
    assert_eq!(message(&tc3(&c.clone().in_language("zh-CN"))), ZH_NOT_FOUND);
    assert_eq!(message(&tc3(&c.clone().in_language("zh"))), ZH_NOT_FOUND);
    assert_eq!(
        message(&tc3(&c.clone().in_language("klingon"))),
        EN_NOT_FOUND
    );
    // v1: the signed Language parameter.
    assert_eq!(message(&v1(&s, None)), EN_NOT_FOUND);
    assert_eq!(message(&v1(&s, Some("en-US"))), EN_NOT_FOUND);
    assert_eq!(message(&v1(&s, Some("zh-CN"))), ZH_NOT_FOUND);
}

#[test]
fn tencent_errors_of_the_signature_routing_and_rules_follow_the_language_too() {
    let s = Server::start(Opts::default());
    let zh = s.client().in_language("zh-CN");
    let bad_key = Client::new(&s.base, "AKIDnosuchkey", "x").in_language("zh-CN");
    let a = bad_key.call("DescribeImages", json!({}));
    a.expect_code("AuthFailure.SecretIdNotFound");
    assert!(
        message(&a.response).starts_with("密钥不存在"),
        "{}",
        a.response
    );
    let a = zh.call("NoSuchAction", json!({}));
    a.expect_code("InvalidAction");
    assert!(
        message(&a.response).starts_with("接口不存在"),
        "{}",
        a.response
    );
    let a = zh.call("ModifyImageAttribute", json!({"ImageId": "bad"}));
    a.expect_code("InvalidImageId.Malformed");
    assert!(
        message(&a.response).starts_with("错误的镜像Id格式"),
        "{}",
        a.response
    );
}

#[test]
fn imm_answers_in_the_language_of_accept_language() {
    let s = Server::start(Opts::default());
    let c = s.imm();
    let get = |lang: Option<&str>| {
        let t = Tweak {
            extra: lang
                .map(|l| vec![("Accept-Language", l.to_string())])
                .unwrap_or_default(),
            ..Tweak::default()
        };
        let r = c
            .try_call("GetProject", &[("ProjectName", "nope".into())], &t)
            .expect("transport");
        r.expect(404, "ResourceNotFound");
        r.body["Message"].as_str().unwrap_or_default().to_string()
    };
    let en = "The specified resource project is not found: nope.";
    assert_eq!(get(None), en);
    assert_eq!(get(Some("en-US")), en);
    assert_eq!(get(Some("zh-CN")), "指定的资源 project 不存在：nope。");
    assert_eq!(get(Some("zh-Hans")), "指定的资源 project 不存在：nope。");
    assert_eq!(get(Some("fr")), en);
}
