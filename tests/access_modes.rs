//! The policy stage's modes (`[access] mode`): `enforce` refuses what no policy allows, `soft`
//! decides, logs the would-be denial with what decided it, and allows, `off` evaluates nothing;
//! in every mode the signature and the key's status are still checked.

mod common;

use std::process::{Command, Stdio};

use common::imm::ImmClient;
use common::{config_text, read_base, Client, Opts, Server, ACCOUNT_2};

const RAM_ID: &str = "LTAIMODES000000000000001";
const RAM_SECRET: &str = "modesSecret00000000000000000001";
const CAM_ID: &str = "AKIDMODES00000000000000000000000000001";
const CAM_SECRET: &str = "modesSecretKey000000000000000001";

/// A config with a RAM user and a CAM user that have no policies, in `mode`.
fn config(dir: &std::path::Path, mode: &str) -> std::path::PathBuf {
    let data = dir.join("data");
    let principals = format!(
        "[[accounts.ram_users]]\nname = \"bare\"\naccess_key_id = \"{RAM_ID}\"\naccess_key_secret = \"{RAM_SECRET}\"\n\
         [[accounts.cam_users]]\nname = \"bare\"\nsecret_id = \"{CAM_ID}\"\nsecret_key = \"{CAM_SECRET}\"\n"
    );
    let text = config_text(&data, &Opts::default()).replacen(
        "[[accounts]]\nid = \"100000000002\"",
        &format!("{principals}[[accounts]]\nid = \"{ACCOUNT_2}\""),
        1,
    ) + &format!("\n[access]\nmode = \"{mode}\"\n");
    let path = dir.join("config.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

fn start(mode: &str) -> Server {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = config(tmp.path(), mode);
    let mut s = Server::spawn(&path, &tmp.path().join("data"));
    s._tmp = Some(tmp);
    s
}

#[test]
fn enforce_refuses_a_user_without_policies_on_both_clouds() {
    let s = start("enforce");
    ImmClient::new(&s.base, RAM_ID, RAM_SECRET)
        .call("ListProjects", &[])
        .expect(403, "AccessDenied");
    let r = Client::new(&s.base, CAM_ID, CAM_SECRET).call("DescribeImages", serde_json::json!({}));
    assert_eq!(r.code(), Some("UnauthorizedOperation"), "{}", r.response);
}

#[test]
fn off_lets_a_user_without_policies_act_but_still_checks_signatures() {
    let s = start("off");
    ImmClient::new(&s.base, RAM_ID, RAM_SECRET)
        .call("ListProjects", &[])
        .expect_ok();
    Client::new(&s.base, CAM_ID, CAM_SECRET)
        .call("DescribeImages", serde_json::json!({}))
        .expect_ok();
    ImmClient::new(&s.base, RAM_ID, "not-the-secret")
        .call("ListProjects", &[])
        .expect(400, "SignatureDoesNotMatch");
}

#[test]
fn soft_allows_and_logs_the_denial_it_would_have_made_with_what_decided_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = config(tmp.path(), "soft");
    let log = tmp.path().join("stderr.log");
    let mut child = Command::new(common::bin())
        .args(["serve", "--config"])
        .arg(&path)
        .env_remove("CLOUDTWIN_TLS_LISTEN")
        .env("CLOUDTWIN_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("spawn");
    let base = read_base(&mut child);
    ImmClient::new(&base, RAM_ID, RAM_SECRET)
        .call("ListProjects", &[])
        .expect_ok();
    Client::new(&base, CAM_ID, CAM_SECRET)
        .call("DescribeImages", serde_json::json!({}))
        .expect_ok();
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).expect("read log");
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("access denied") && l.contains("soft mode"))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("imm:ListProjects") && l.contains("implicit deny")),
        "the IMM decision is logged: {text}"
    );
    assert!(
        lines.iter().any(|l| l.contains("cvm:DescribeImages")
            && l.contains("image/*")
            && l.contains("implicit deny")),
        "the CVM decision is logged with its resource: {text}"
    );
}
