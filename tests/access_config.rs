//! Principals declared in `config.toml` are live after start: a RAM user's key and a CAM
//! user's key sign requests, their policies decide, and a restart creates nothing twice.

mod common;

use common::imm::ImmClient;
use common::{admin_send, config_text, Client, Opts, Server, ACCOUNT_1, ACCOUNT_2};

const READER_ID: &str = "LTAIREADER00000000000001";
const READER_SECRET: &str = "readerSecret000000000000000001";
const BARE_ID: &str = "LTAIBARE0000000000000001";
const BARE_SECRET: &str = "bareSecret00000000000000000001";
const DEV_ID: &str = "AKIDDEV000000000000000000000000000001";
const DEV_SECRET: &str = "devSecretKey000000000000000000001";
const NOBODY_ID: &str = "AKIDNOBODY00000000000000000000000001";
const NOBODY_SECRET: &str = "nobodySecretKey00000000000000001";

fn principals() -> String {
    format!(
        r#"[[accounts.ram_users]]
name = "reader"
access_key_id = "{READER_ID}"
access_key_secret = "{READER_SECRET}"
policies = ["AliyunIMMReadOnlyAccess"]
[[accounts.ram_users]]
name = "bare"
access_key_id = "{BARE_ID}"
access_key_secret = "{BARE_SECRET}"
[[accounts.ram_policies]]
name = "list-only"
document = '{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"imm:ListProjects","Resource":"*"}}]}}'
[[accounts.ram_roles]]
name = "ops"
trust = '{{"Statement":[{{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{{"RAM":["acs:ram::{ACCOUNT_1}:root"]}}}}],"Version":"1"}}'
policies = ["list-only"]
[[accounts.cam_users]]
name = "dev"
secret_id = "{DEV_ID}"
secret_key = "{DEV_SECRET}"
policies = ["QcloudCVMReadOnlyAccess"]
[[accounts.cam_users]]
name = "nobody"
secret_id = "{NOBODY_ID}"
secret_key = "{NOBODY_SECRET}"
"#
    )
}

fn start() -> Server {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let text = config_text(&data, &Opts::default()).replacen(
        "[[accounts]]\nid = \"100000000002\"",
        &format!("{}[[accounts]]\nid = \"{ACCOUNT_2}\"", principals()),
        1,
    );
    assert!(text.contains("ram_users"), "the principals went in");
    let config = tmp.path().join("config.toml");
    std::fs::write(&config, text).expect("write config");
    let mut s = Server::spawn(&config, &data);
    s._tmp = Some(tmp);
    s
}

fn state(s: &Server) -> serde_json::Value {
    let (status, body) = admin_send(
        "GET",
        &s.base,
        "/_cloudtwin/state",
        &serde_json::Value::Null,
    );
    assert_eq!(status, 200, "{body}");
    body["access"]["Accounts"][ACCOUNT_1].clone()
}

#[test]
fn principals_declared_in_the_config_sign_requests_with_their_policies_after_start() {
    let s = start();
    // RAM: the reader's system policy allows ListProjects; the bare user has no policy.
    let reader = ImmClient::new(&s.base, READER_ID, READER_SECRET);
    reader.call("ListProjects", &[]).expect_ok();
    let bare = ImmClient::new(&s.base, BARE_ID, BARE_SECRET);
    bare.call("ListProjects", &[]).expect(403, "AccessDenied");
    // CAM: the dev's preset policy allows DescribeImages; nobody has no policy.
    let dev = Client::new(&s.base, DEV_ID, DEV_SECRET);
    dev.call("DescribeImages", serde_json::json!({}))
        .expect_ok();
    let nobody = Client::new(&s.base, NOBODY_ID, NOBODY_SECRET);
    let denied = nobody.call("DescribeImages", serde_json::json!({}));
    assert!(!denied.ok(), "a CAM user without policies is refused");
    let before = state(&s);
    let ram = &before["ram"];
    assert_eq!(ram["Users"].as_array().map(Vec::len), Some(2));
    assert_eq!(ram["Policies"][0]["PolicyName"], "list-only");
    assert_eq!(ram["Roles"][0]["RoleName"], "ops");
    assert_eq!(before["cam"]["Users"].as_array().map(Vec::len), Some(2));
}

#[test]
fn a_restart_keeps_the_declared_principals_as_they_are() {
    let mut s = start();
    let before = state(&s);
    s.terminate();
    let s = s.restart();
    assert_eq!(state(&s), before, "the second start created nothing");
    ImmClient::new(&s.base, READER_ID, READER_SECRET)
        .call("ListProjects", &[])
        .expect_ok();
}

fn state_with(policies: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"format": "cloudtwin-state", "version": 1,
        "access": {"Accounts": {ACCOUNT_1: {"ram": {"Users": [{"UserName": "loaded",
            "AccessKeys": [{"AccessKeyId": "LTAILOADED0000000001", "AccessKeySecret": "loadedSecret1"}],
            "Policies": policies}]}}}}})
}

#[test]
fn imports_and_resets_through_the_admin_routes_take_effect_at_once() {
    let s = Server::start(Opts::default());
    let loaded = ImmClient::new(&s.base, "LTAILOADED0000000001", "loadedSecret1");
    let (status, body) = admin_send(
        "PUT",
        &s.base,
        "/_cloudtwin/state",
        &state_with(serde_json::json!([])),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["added"]["users"], 1);
    loaded.call("ListProjects", &[]).expect(403, "AccessDenied");
    // The same user, now with a policy: the cached grant of the denied request is gone.
    let with = state_with(serde_json::json!([
        {"PolicyType": "System", "PolicyName": "AliyunIMMReadOnlyAccess"}]));
    let (status, body) = admin_send("PUT", &s.base, "/_cloudtwin/state", &with);
    assert_eq!(status, 200, "{body}");
    loaded.call("ListProjects", &[]).expect_ok();
    let (status, body) = admin_send(
        "POST",
        &s.base,
        "/_cloudtwin/reset",
        &serde_json::json!({"part": "access"}),
    );
    assert_eq!(status, 200, "{body}");
    let gone = loaded.call("ListProjects", &[]);
    assert_ne!(gone.status, 200, "a reset key signs nothing: {}", gone.body);
    // Root keys are untouched.
    s.imm().call("ListProjects", &[]).expect_ok();
    let (status, _) = admin_send(
        "POST",
        &s.base,
        "/_cloudtwin/reset",
        &serde_json::json!({"part": "nothing"}),
    );
    assert_eq!(status, 400);
}
