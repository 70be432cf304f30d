//! Tencent CAM and STS through real HTTP: a sub-user made by AddUser signs CVM calls and is
//! denied until a preset policy allows them; role sessions from STS AssumeRole sign with the
//! `X-TC-Token` header (TC3, not signed) and the `Token` parameter (v1); a tampered token, an
//! Inactive key and a deleted user's key are refused at once; CAM's own codes.

mod common;

use base64::Engine;
use common::*;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

/// Credentials to sign with.
#[derive(Clone)]
struct Cred {
    id: String,
    key: String,
    token: Option<String>,
}

impl Cred {
    fn root() -> Cred {
        Cred {
            id: SECRET_ID_1.into(),
            key: SECRET_KEY_1.into(),
            token: None,
        }
    }
}

/// A TC3 POST JSON call of any product (`service`, `version`); the token goes in
/// `X-TC-Token`, outside the signed headers, as the SDK sends it.
fn tc3(s: &Server, c: &Cred, service: &str, version: &str, action: &str, body: Value) -> Value {
    tc3_in(s, c, service, version, REGION, action, body)
}

fn tc3_in(
    s: &Server,
    c: &Cred,
    service: &str,
    version: &str,
    region: &str,
    action: &str,
    body: Value,
) -> Value {
    let ts = now();
    let payload = body.to_string();
    let date = date_of(ts);
    let host = s.host();
    let canonical = format!(
        "POST\n/\n\ncontent-type:application/json\nhost:{host}\n\ncontent-type;host\n{}",
        hexsha(payload.as_bytes())
    );
    let sts = format!(
        "TC3-HMAC-SHA256\n{ts}\n{date}/{service}/tc3_request\n{}",
        hexsha(canonical.as_bytes())
    );
    let k = hmac(format!("TC3{}", c.key).as_bytes(), &date);
    let k = hmac(&k, service);
    let k = hmac(&k, "tc3_request");
    let sig = hex::encode(hmac(&k, &sts));
    let auth = format!(
        "TC3-HMAC-SHA256 Credential={}/{date}/{service}/tc3_request, SignedHeaders=content-type;host, Signature={sig}",
        c.id
    );
    let mut req = ureq::post(&format!("{}/", s.base))
        .set("Content-Type", "application/json")
        .set("X-TC-Action", action)
        .set("X-TC-Version", version)
        .set("X-TC-Region", region)
        .set("X-TC-Timestamp", &ts.to_string())
        .set("Authorization", &auth);
    if let Some(t) = &c.token {
        req = req.set("X-TC-Token", t);
    }
    let resp = match req.send_string(&payload) {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport error: {e}"),
    };
    assert_eq!(resp.status(), 200, "every API answer is HTTP 200");
    let v: Value = resp.into_json().expect("json");
    v["Response"].clone()
}

/// A v1 (HmacSHA256) form POST of CVM; the token is the signed `Token` parameter.
fn v1_cvm(s: &Server, c: &Cred, action: &str, business: &[(&str, &str)]) -> Value {
    let mut all: Vec<(String, String)> = business
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (k, v) in [
        ("Action", action.to_string()),
        ("Version", "2017-03-12".to_string()),
        ("Region", REGION.to_string()),
        ("Timestamp", now().to_string()),
        ("Nonce", "4711".to_string()),
        ("SecretId", c.id.clone()),
        ("SignatureMethod", "HmacSHA256".to_string()),
    ] {
        all.push((k.into(), v));
    }
    if let Some(t) = &c.token {
        all.push(("Token".into(), t.clone()));
    }
    all.sort();
    let joined = all
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let sts = format!("POST{}/?{joined}", s.host());
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(c.key.as_bytes()).expect("key");
    mac.update(sts.as_bytes());
    all.push((
        "Signature".into(),
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()),
    ));
    let form = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&all)
        .finish();
    let resp = ureq::post(&format!("{}/", s.base))
        .set("Content-Type", "application/x-www-form-urlencoded")
        .send_string(&form);
    let resp = match resp {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport error: {e}"),
    };
    let v: Value = resp.into_json().expect("json");
    v["Response"].clone()
}

fn cam(s: &Server, c: &Cred, action: &str, body: Value) -> Value {
    tc3(s, c, "cam", "2019-01-16", action, body)
}

fn sts(s: &Server, c: &Cred, action: &str, body: Value) -> Value {
    tc3(s, c, "sts", "2018-08-13", action, body)
}

fn cvm(s: &Server, c: &Cred, action: &str, body: Value) -> Value {
    tc3(s, c, "cvm", "2017-03-12", action, body)
}

fn ok(r: Value) -> Value {
    assert!(r.get("Error").is_none(), "expected success, got {r}");
    r
}

fn code(r: &Value) -> &str {
    r["Error"]["Code"].as_str().unwrap_or("")
}

/// A sub-user with an API key (AddUser UseApi=1): (Uin, key).
fn sub_user(s: &Server, name: &str) -> (u64, Cred) {
    let r = ok(cam(
        s,
        &Cred::root(),
        "AddUser",
        json!({"Name": name, "Remark": "test", "UseApi": 1}),
    ));
    let uin = r["Uin"].as_u64().expect("Uin is a number");
    assert!(r["Uid"].as_u64().is_some(), "Uid is a number: {r}");
    let id = r["SecretId"].as_str().expect("SecretId").to_string();
    let key = r["SecretKey"].as_str().expect("SecretKey").to_string();
    assert!(!id.is_empty() && !key.is_empty(), "{r}");
    (
        uin,
        Cred {
            id,
            key,
            token: None,
        },
    )
}

/// CVM's denial, exactly (access.md §3.5).
fn assert_denied(r: &Value, action: &str, resource: &str) {
    assert_eq!(code(r), "UnauthorizedOperation", "{r}");
    let rid = r["RequestId"].as_str().expect("RequestId");
    assert_eq!(
        r["Error"]["Message"].as_str().unwrap_or(""),
        format!("[request id:{rid}]you are not authorized to perform operation (cvm:{action})\nresource ({resource}) has no permission\n")
    );
}

#[test]
fn a_sub_user_is_denied_until_a_preset_policy_allows_reads_and_writes_stay_denied() {
    let s = Server::start(Opts::default());
    let root = Cred::root();
    let image = cvm(
        &s,
        &root,
        "CreateImage",
        json!({"ImageName": "base", "InstanceId": "ins-abcdefgh"}),
    );
    let image = ok(image)["ImageId"].as_str().expect("ImageId").to_string();
    let (uin, key) = sub_user(&s, "reader");

    let denied = cvm(&s, &key, "DescribeImages", json!({}));
    assert_denied(
        &denied,
        "DescribeImages",
        &format!("qcs::cvm:{REGION}:uin/{ACCOUNT_1}:image/*"),
    );

    // QcloudCVMReadOnlyAccess, by its PolicyId from ListPolicies.
    let list = ok(cam(
        &s,
        &root,
        "ListPolicies",
        json!({"Scope": "QCS", "Rp": 200}),
    ));
    let ro = list["List"]
        .as_array()
        .expect("List")
        .iter()
        .find(|p| p["PolicyName"] == "QcloudCVMReadOnlyAccess")
        .expect("the preset policy is listed")["PolicyId"]
        .as_u64()
        .expect("PolicyId");
    ok(cam(
        &s,
        &root,
        "AttachUserPolicy",
        json!({"PolicyId": ro, "AttachUin": uin}),
    ));
    let attached = ok(cam(
        &s,
        &root,
        "ListAttachedUserPolicies",
        json!({"TargetUin": uin}),
    ));
    assert_eq!(attached["TotalNum"], 1);
    assert_eq!(attached["List"][0]["PolicyType"], "QCS");

    let seen = ok(cvm(
        &s,
        &key,
        "DescribeImages",
        json!({"ImageIds": [image]}),
    ));
    assert_eq!(seen["TotalCount"], 1);
    let denied = cvm(
        &s,
        &key,
        "ModifyImageAttribute",
        json!({"ImageId": image, "ImageName": "renamed"}),
    );
    assert_denied(
        &denied,
        "ModifyImageAttribute",
        &format!("qcs::cvm:{REGION}:uin/{ACCOUNT_1}:image/{image}"),
    );

    // The sub-user sees itself through STS.
    let me = ok(sts(&s, &key, "GetCallerIdentity", json!({})));
    assert_eq!(me["Type"], "CAMUser");
    assert_eq!(me["AccountId"], ACCOUNT_1);
    assert_eq!(me["UserId"], uin.to_string());
}

#[test]
fn role_sessions_sign_with_the_token_header_and_the_token_parameter() {
    let s = Server::start(Opts::default());
    let root = Cred::root();
    let trust =
        json!({"version": "2.0", "statement": [{"action": "name/sts:AssumeRole", "effect": "allow",
        "principal": {"qcs": [format!("qcs::cam::uin/{ACCOUNT_1}:root")]}}]})
        .to_string();
    let role_id = ok(cam(
        &s,
        &root,
        "CreateRole",
        json!({"RoleName": "ci", "PolicyDocument": trust, "SessionDuration": 3600}),
    ))["RoleId"]
        .as_str()
        .expect("RoleId is a string")
        .to_string();
    ok(cam(
        &s,
        &root,
        "AttachRolePolicy",
        json!({"PolicyName": "QcloudCVMReadOnlyAccess", "AttachRoleName": "ci"}),
    ));
    let info = ok(cam(&s, &root, "GetRole", json!({"RoleId": role_id})));
    assert_eq!(info["RoleInfo"]["RoleName"], "ci");
    assert_eq!(info["RoleInfo"]["SessionDuration"], 3600);

    let too_long = sts(
        &s,
        &root,
        "AssumeRole",
        json!({"RoleArn": format!("qcs::cam::uin/{ACCOUNT_1}:roleName/ci"), "RoleSessionName": "s1", "DurationSeconds": 7200}),
    );
    assert_eq!(
        code(&too_long),
        "InvalidParameter.OverTimeError",
        "{too_long}"
    );
    let missing = sts(
        &s,
        &root,
        "AssumeRole",
        json!({"RoleArn": format!("qcs::cam::uin/{ACCOUNT_1}:roleName/nope"), "RoleSessionName": "s1"}),
    );
    assert_eq!(code(&missing), "ResourceNotFound.RoleNotFound", "{missing}");

    let r = ok(sts(
        &s,
        &root,
        "AssumeRole",
        json!({"RoleArn": format!("qcs::cam::uin/{ACCOUNT_1}:role/{role_id}"), "RoleSessionName": "s1", "DurationSeconds": 900}),
    ));
    let expired = r["ExpiredTime"].as_u64().expect("ExpiredTime is a number");
    assert!(expired > now() as u64 + 800, "{r}");
    assert!(r["Expiration"].as_str().unwrap_or("").ends_with('Z'), "{r}");
    let session = Cred {
        id: r["Credentials"]["TmpSecretId"]
            .as_str()
            .expect("TmpSecretId")
            .into(),
        key: r["Credentials"]["TmpSecretKey"]
            .as_str()
            .expect("TmpSecretKey")
            .into(),
        token: Some(r["Credentials"]["Token"].as_str().expect("Token").into()),
    };

    ok(cvm(&s, &session, "DescribeImages", json!({})));
    let v1 = v1_cvm(&s, &session, "DescribeImages", &[]);
    assert!(v1.get("Error").is_none(), "v1 with Token: {v1}");
    let denied = cvm(
        &s,
        &session,
        "DeleteImages",
        json!({"ImageIds": ["img-aaaaaaaa"]}),
    );
    assert_eq!(code(&denied), "UnauthorizedOperation", "{denied}");
    let me = ok(sts(&s, &session, "GetCallerIdentity", json!({})));
    assert_eq!(me["Type"], "AssumedRoleUser");
    assert_eq!(me["UserId"], format!("{role_id}:s1"));

    let mut tampered = session.clone();
    tampered.token = Some(format!(
        "{}error",
        session.token.clone().unwrap_or_default()
    ));
    let r = cvm(&s, &tampered, "DescribeImages", json!({}));
    assert_eq!(code(&r), "AuthFailure.TokenFailure", "{r}");
    let r = v1_cvm(&s, &tampered, "DescribeImages", &[]);
    assert_eq!(code(&r), "AuthFailure.TokenFailure", "{r}");
}

#[test]
fn inactive_keys_and_a_deleted_users_keys_are_refused_at_once() {
    let s = Server::start(Opts::default());
    let root = Cred::root();
    let (uin, key) = sub_user(&s, "temp");
    ok(cam(
        &s,
        &root,
        "AttachUserPolicy",
        json!({"PolicyId": 3, "AttachUin": uin}),
    ));
    ok(cvm(&s, &key, "DescribeImages", json!({})));

    let keys = ok(cam(&s, &root, "ListAccessKeys", json!({"TargetUin": uin})));
    assert_eq!(keys["AccessKeys"][0]["AccessKeyId"], key.id.as_str());
    assert_eq!(keys["AccessKeys"][0]["Status"], "Active");

    ok(cam(
        &s,
        &root,
        "UpdateAccessKey",
        json!({"AccessKeyId": key.id, "Status": "Inactive", "TargetUin": uin}),
    ));
    let r = cvm(&s, &key, "DescribeImages", json!({}));
    assert!(code(&r).starts_with("AuthFailure."), "{r}");
    ok(cam(
        &s,
        &root,
        "UpdateAccessKey",
        json!({"AccessKeyId": key.id, "Status": "Active", "TargetUin": uin}),
    ));
    ok(cvm(&s, &key, "DescribeImages", json!({})));

    let r = cam(&s, &root, "DeleteUser", json!({"Name": "temp"}));
    assert_eq!(code(&r), "OperationDenied.HaveKeys", "{r}");
    ok(cam(
        &s,
        &root,
        "DeleteUser",
        json!({"Name": "temp", "Force": 1}),
    ));
    let r = cvm(&s, &key, "DescribeImages", json!({}));
    assert_eq!(code(&r), "AuthFailure.SecretIdNotFound", "{r}");
    let r = cam(&s, &root, "GetUser", json!({"Name": "temp"}));
    assert_eq!(code(&r), "ResourceNotFound.UserNotExist", "{r}");
}

#[test]
fn cam_answers_with_its_own_codes() {
    let s = Server::start(Opts::default());
    let root = Cred::root();
    sub_user(&s, "dup");
    let r = cam(&s, &root, "AddUser", json!({"Name": "dup"}));
    assert_eq!(code(&r), "InvalidParameter.SubUserNameInUse", "{r}");
    let r = cam(&s, &root, "AddUser", json!({"Name": "bad name"}));
    assert_eq!(code(&r), "InvalidParameter.UserNameIllegal", "{r}");

    for (doc, want) in [
        ("not json", "InvalidParameter.PolicyDocumentError"),
        (
            r#"{"version":"1.0","statement":[{"effect":"allow","action":["cvm:*"],"resource":["*"]}]}"#,
            "InvalidParameter.VersionError",
        ),
        (
            r#"{"version":"2.0","statement":[{"effect":"maybe","action":["cvm:*"],"resource":["*"]}]}"#,
            "InvalidParameter.EffectError",
        ),
    ] {
        let r = cam(
            &s,
            &root,
            "CreatePolicy",
            json!({"PolicyName": "p", "PolicyDocument": doc}),
        );
        assert_eq!(code(&r), want, "{doc}: {r}");
    }
    let doc = r#"{"version":"2.0","statement":[{"effect":"allow","action":["cvm:Describe*"],"resource":["*"]}]}"#;
    let id = ok(cam(
        &s,
        &root,
        "CreatePolicy",
        json!({"PolicyName": "p", "PolicyDocument": doc, "Description": "d"}),
    ))["PolicyId"]
        .as_u64()
        .expect("PolicyId is a number");
    let r = cam(
        &s,
        &root,
        "CreatePolicy",
        json!({"PolicyName": "p", "PolicyDocument": doc}),
    );
    assert_eq!(code(&r), "FailedOperation.PolicyNameInUse", "{r}");
    let got = ok(cam(&s, &root, "GetPolicy", json!({"PolicyId": id})));
    assert_eq!(got["Type"], 1);
    assert_eq!(got["PolicyDocument"], doc);
    let preset = ok(cam(&s, &root, "GetPolicy", json!({"PolicyId": 3})));
    assert_eq!(preset["Type"], 2);
    assert_eq!(preset["PolicyName"], "QcloudCVMReadOnlyAccess");
    ok(cam(&s, &root, "DeletePolicy", json!({"PolicyId": [id]})));
    let r = cam(&s, &root, "GetPolicy", json!({"PolicyId": id}));
    assert_eq!(code(&r), "ResourceNotFound.PolicyIdNotFound", "{r}");
    let r = cam(&s, &root, "GetRole", json!({"RoleName": "nobody"}));
    assert_eq!(code(&r), "InvalidParameter.RoleNotExist", "{r}");
    let r = cam(&s, &root, "GetUser", json!({}));
    assert_eq!(code(&r), "MissingParameter", "{r}");
}
