//! Operator surface over the real binary: state control, runtime delays, fault injection,
//! metrics, the request journal, the wait helper, and the admin token on every admin route.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

fn admin(
    method: &str,
    base: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, String) {
    let mut req = ureq::request(method, &format!("{base}{path}"));
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    let r = match body {
        Some(b) => req.send_string(&b.to_string()),
        None => req.call(),
    };
    match r {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(c, r)) => (c, r.into_string().unwrap_or_default()),
        Err(e) => panic!("{e}"),
    }
}

fn ok_json(method: &str, base: &str, path: &str, body: Option<&Value>) -> Value {
    let (code, text) = admin(method, base, path, Some(ADMIN_TOKEN), body);
    assert_eq!(code, 200, "{method} {path}: {text}");
    serde_json::from_str(&text).expect("json")
}

#[test]
fn every_admin_route_but_health_needs_the_token_and_a_refusal_changes_nothing() {
    let s = Server::start(Opts::default());
    let id = s.client().create("guarded");
    let routes: &[(&str, &str, Option<Value>)] = &[
        ("GET", "/_cloudtwin/state", None),
        ("PUT", "/_cloudtwin/state", Some(json!({}))),
        ("POST", "/_cloudtwin/seed", Some(json!({}))),
        ("POST", "/_cloudtwin/reset", Some(json!({}))),
        (
            "POST",
            "/_cloudtwin/backup",
            Some(json!({"dir": "/tmp/never-written-by-cloudtwin-test"})),
        ),
        (
            "POST",
            &format!("/_cloudtwin/cvm/images/{id}/state"),
            Some(json!({"state": "CREATEFAILED"})),
        ),
        (
            "POST",
            "/_cloudtwin/imm/tasks/x/finish",
            Some(json!({"status": "Failed"})),
        ),
        ("POST", "/_cloudtwin/imm/faces", Some(json!({}))),
        ("GET", "/_cloudtwin/settings", None),
        (
            "PUT",
            "/_cloudtwin/settings",
            Some(json!({"cvm": {"image_ready_after_ms": 99}})),
        ),
        ("GET", "/_cloudtwin/faults", None),
        (
            "POST",
            "/_cloudtwin/faults",
            Some(json!({"error": {"code": "InternalError"}})),
        ),
        ("DELETE", "/_cloudtwin/faults", None),
        ("GET", "/_cloudtwin/metrics", None),
        ("GET", "/_cloudtwin/request-log", None),
        ("GET", "/_cloudtwin/request-log/entries", None),
        (
            "PUT",
            "/_cloudtwin/request-log",
            Some(json!({"path": "/tmp/never-written-by-cloudtwin-test.log"})),
        ),
    ];
    for (m, p, b) in routes {
        for token in [None, Some("wrong")] {
            let (code, _) = admin(m, &s.base, p, token, b.as_ref());
            assert_eq!(code, 401, "{m} {p} with {token:?}");
        }
    }
    assert_eq!(
        s.client().image(&id).expect("still there")["ImageState"],
        "NORMAL"
    );
    assert_eq!(
        ok_json("GET", &s.base, "/_cloudtwin/settings", None)["cvm"]["image_ready_after_ms"],
        0
    );
    assert!(ok_json("GET", &s.base, "/_cloudtwin/faults", None)["rules"]
        .as_array()
        .expect("rules")
        .is_empty());
    assert!(!std::path::Path::new("/tmp/never-written-by-cloudtwin-test").exists());
    let (code, _) = admin("GET", &s.base, "/_cloudtwin/health", None, None);
    assert_eq!(code, 200);
}

#[test]
fn state_control_sets_image_states_and_the_delays_at_run_time() {
    let s = Server::start(Opts::default());
    let c = s.client();
    let id = c.create("controlled");
    ok_json(
        "POST",
        &s.base,
        &format!("/_cloudtwin/cvm/images/{id}/state"),
        Some(&json!({"state": "CREATEFAILED"})),
    );
    assert_eq!(c.image(&id).expect("img")["ImageState"], "CREATEFAILED");
    c.call(
        "ModifyImageAttribute",
        json!({"ImageId": id, "ImageName": "x"}),
    )
    .expect_code("InvalidImageId.IncorrectState");
    ok_json(
        "POST",
        &s.base,
        &format!("/_cloudtwin/cvm/images/{id}/state"),
        Some(&json!({"state": "SYNCING", "then": "NORMAL", "after_ms": 60_000})),
    );
    assert_eq!(c.image(&id).expect("img")["ImageState"], "SYNCING");
    // A short timer replaces the long one: SYNCING until it has run out, then NORMAL.
    let t0 = TimerStart::now();
    ok_json(
        "POST",
        &s.base,
        &format!("/_cloudtwin/cvm/images/{id}/state"),
        Some(&json!({"state": "SYNCING", "then": "NORMAL", "after_ms": 300})),
    );
    watch_transition(t0, 300, "SYNCING", "NORMAL", || c.image(&id).expect("img"));
    for bad in [
        json!({"state": "RUNNING"}),
        json!({"state": "NORMAL", "after_ms": 5}),
        json!({"nope": 1}),
    ] {
        let (code, _) = admin(
            "POST",
            &s.base,
            &format!("/_cloudtwin/cvm/images/{id}/state"),
            Some(ADMIN_TOKEN),
            Some(&bad),
        );
        assert_eq!(code, 400, "{bad}");
    }
    let (code, _) = admin(
        "POST",
        &s.base,
        "/_cloudtwin/cvm/images/img-00000000/state",
        Some(ADMIN_TOKEN),
        Some(&json!({"state": "NORMAL"})),
    );
    assert_eq!(code, 404);
    // Delays at run time.
    let set = ok_json(
        "PUT",
        &s.base,
        "/_cloudtwin/settings",
        Some(
            &json!({"cvm": {"image_ready_after_ms": 60000}, "imm": {"task_min_duration_ms": 60000}}),
        ),
    );
    assert_eq!(set["cvm"]["image_ready_after_ms"], 60000);
    let slow = c.create("slow");
    assert_eq!(c.image(&slow).expect("img")["ImageState"], "CREATING");
    // A clustering task that would run for a minute is finished (or failed) now.
    let imm = s.imm();
    imm.dataset("p", "d");
    admin_post(
        &s.base,
        "/_cloudtwin/imm/faces",
        Some(ADMIN_TOKEN),
        &json!({"AccountId": ACCOUNT_1, "ProjectName": "p", "DatasetName": "d",
        "File": {"URI": "oss://b/1.jpg", "Figures": [{"FigureId": "f", "IdentityHint": "h"}]}}),
    );
    let task = |imm: &common::imm::ImmClient| {
        imm.call(
            "CreateFigureClusteringTask",
            &[("ProjectName", "p".into()), ("DatasetName", "d".into())],
        )
        .expect_ok()["TaskId"]
            .as_str()
            .expect("id")
            .to_string()
    };
    let status = |id: &str| {
        imm.call(
            "GetTask",
            &[
                ("ProjectName", "p".into()),
                ("TaskId", id.into()),
                ("TaskType", "FaceClustering".into()),
            ],
        )
        .expect_ok()
    };
    let t1 = task(&imm);
    assert_eq!(status(&t1)["Status"], "Running");
    ok_json(
        "POST",
        &s.base,
        &format!("/_cloudtwin/imm/tasks/{t1}/finish"),
        Some(&json!({"status": "Failed", "code": "ResourceNotFound", "message": "made to fail"})),
    );
    let g = status(&t1);
    assert_eq!(
        (g["Status"].as_str(), g["Code"].as_str()),
        (Some("Failed"), Some("ResourceNotFound"))
    );
    assert_eq!(
        imm.cluster_of("p", "d", "oss://b/1.jpg", "f"),
        "figure-cluster-id-unavailable",
        "a failed task clusters nothing"
    );
    let t2 = task(&imm);
    ok_json(
        "POST",
        &s.base,
        &format!("/_cloudtwin/imm/tasks/{t2}/finish"),
        Some(&json!({"status": "Succeeded"})),
    );
    assert_eq!(status(&t2)["Status"], "Succeeded");
    assert!(imm
        .cluster_of("p", "d", "oss://b/1.jpg", "f")
        .starts_with("Cluster-"));
    let (code, _) = admin(
        "POST",
        &s.base,
        &format!("/_cloudtwin/imm/tasks/{t2}/finish"),
        Some(ADMIN_TOKEN),
        Some(&json!({"status": "Succeeded"})),
    );
    assert_eq!(code, 404, "a finished task cannot be finished again");
}

#[test]
fn fault_rules_answer_chosen_errors_add_latency_and_can_be_listed_and_cleared() {
    let s = Server::start(Opts::default());
    let c = s.client();
    let r = ok_json(
        "POST",
        &s.base,
        "/_cloudtwin/faults",
        Some(
            &json!({"dialect": "tencent", "action": "DescribeImages", "count": 2,
        "error": {"code": "RequestLimitExceeded", "message": "slow down"}}),
        ),
    );
    let id = r["id"].as_str().expect("id").to_string();
    c.call("DescribeImages", json!({}))
        .expect_code("RequestLimitExceeded");
    let a = c.call("DescribeImages", json!({}));
    a.expect_code("RequestLimitExceeded");
    assert_eq!(a.response["Error"]["Message"], "slow down");
    assert_eq!(a.status, 200);
    c.call("DescribeImages", json!({})).expect_ok();
    assert!(
        ok_json("GET", &s.base, "/_cloudtwin/faults", None)["rules"]
            .as_array()
            .expect("r")
            .is_empty(),
        "a spent rule goes"
    );
    assert_eq!(
        admin(
            "DELETE",
            &s.base,
            &format!("/_cloudtwin/faults/{id}"),
            Some(ADMIN_TOKEN),
            None
        )
        .0,
        404
    );
    // Only the named account; latency.
    ok_json(
        "POST",
        &s.base,
        "/_cloudtwin/faults",
        Some(&json!({"account": ACCOUNT_2, "latency_ms": 1500})),
    );
    // The rule does not match another account (no hit), so its answer does not wait.
    let t = Instant::now();
    c.call("DescribeImages", json!({})).expect_ok();
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "another account is not slowed"
    );
    let listed = ok_json("GET", &s.base, "/_cloudtwin/faults", None);
    assert_eq!(
        listed["rules"][0]["hits"], 0,
        "another account is not matched"
    );
    let t = Instant::now();
    s.client2().call("DescribeImages", json!({})).expect_ok();
    assert!(t.elapsed() >= Duration::from_millis(1500));
    let listed = ok_json("GET", &s.base, "/_cloudtwin/faults", None);
    assert_eq!(listed["rules"][0]["hits"], 1);
    assert_eq!(
        ok_json("DELETE", &s.base, "/_cloudtwin/faults", None)["removed"],
        1
    );
    // The Alibaba dialect: a status and the code.
    ok_json(
        "POST",
        &s.base,
        "/_cloudtwin/faults",
        Some(&json!({"dialect": "aliyun", "error": {"code": "InternalError", "status": 500}})),
    );
    s.imm()
        .call("ListProjects", &[])
        .expect(500, "InternalError");
    // A probability fires about that often.
    ok_json("DELETE", &s.base, "/_cloudtwin/faults", None);
    ok_json(
        "POST",
        &s.base,
        "/_cloudtwin/faults",
        Some(
            &json!({"dialect": "tencent", "probability": 0.5, "error": {"code": "InternalError"}}),
        ),
    );
    let failed = (0..200)
        .filter(|_| c.call("DescribeImageQuota", json!({})).code() == Some("InternalError"))
        .count();
    assert!((50..150).contains(&failed), "{failed} of 200 at p=0.5");
    for bad in [
        json!({}),
        json!({"probability": 2, "latency_ms": 1}),
        json!({"dialect": "gcp", "latency_ms": 1}),
        json!({"error": {"code": ""}}),
        json!({"bogus": 1}),
    ] {
        assert_eq!(
            admin(
                "POST",
                &s.base,
                "/_cloudtwin/faults",
                Some(ADMIN_TOKEN),
                Some(&bad)
            )
            .0,
            400,
            "{bad}"
        );
    }
}

#[test]
fn metrics_count_requests_by_dialect_action_and_code_with_latency_histograms() {
    let s = Server::start(Opts {
        rate_limits: true,
        ..Opts::default()
    });
    let c = s.client();
    c.create("m");
    for _ in 0..15 {
        c.call("ModifyImageAttribute", json!({"ImageId": "img-00000000"}));
    }
    s.imm().call("ListProjects", &[]).expect_ok();
    let (code, text) = admin(
        "GET",
        &s.base,
        "/_cloudtwin/metrics",
        Some(ADMIN_TOKEN),
        None,
    );
    assert_eq!(code, 200);
    assert!(
        text.contains(
            r#"cloudtwin_requests_total{dialect="tencent",action="CreateImage",code="Success"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"action="ModifyImageAttribute",code="InvalidImageId.NotFound"}"#));
    assert!(text.contains(r#"action="ModifyImageAttribute",code="RequestLimitExceeded"}"#));
    assert!(text.contains(
        r#"cloudtwin_requests_total{dialect="aliyun",action="ListProjects",code="Success"} 1"#
    ));
    assert!(text.contains(r#"cloudtwin_request_duration_seconds_bucket{dialect="tencent",action="CreateImage",le="+Inf"} 1"#));
    let limited: f64 = text
        .lines()
        .find(|l| l.starts_with("cloudtwin_rate_limited_total "))
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|v| v.parse().ok())
        .expect("gauge");
    assert!(limited >= 1.0);
    assert!(text.contains("cloudtwin_store_size_bytes "));
    assert!(
        text.lines()
            .any(|l| l.starts_with("cloudtwin_store_flushes_total ") && !l.ends_with(" 0")),
        "the create flushed"
    );
}

#[test]
fn the_request_journal_records_requests_and_answers_with_secrets_redacted() {
    let s = Server::start(Opts::default());
    let tmp = tempfile::tempdir().expect("tmp");
    let log = tmp.path().join("requests.jsonl");
    ok_json(
        "PUT",
        &s.base,
        "/_cloudtwin/request-log",
        Some(&json!({"path": log})),
    );
    let id = s.client().create("journalled");
    s.imm().call("ListProjects", &[]).expect_ok();
    ok_json(
        "PUT",
        &s.base,
        "/_cloudtwin/request-log",
        Some(&json!({"path": null})),
    );
    s.client().call("DescribeImages", json!({})).expect_ok();
    let text = std::fs::read_to_string(&log).expect("log");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 2, "only requests while the journal was on");
    assert_eq!(lines[0]["dialect"], "tencent");
    assert!(lines[0]["response"]["body"]
        .as_str()
        .expect("body")
        .contains(&id));
    assert!(lines[0]["request"]["body"]
        .as_str()
        .expect("body")
        .contains("journalled"));
    let auth = lines[0]["request"]["headers"]["authorization"]
        .as_str()
        .expect("auth");
    assert!(
        auth.contains(SECRET_ID_1) && auth.ends_with("Signature=<redacted>"),
        "{auth}"
    );
    assert!(lines[1]["request"]["headers"]["authorization"]
        .as_str()
        .expect("auth")
        .ends_with("Signature=<redacted>"));
    assert!(!text.contains(SECRET_KEY_1) && !text.contains(AK_SECRET_1));
    // The same lines, oldest first, from the journal's memory (the console's journal view).
    let recent = ok_json("GET", &s.base, "/_cloudtwin/request-log/entries", None);
    assert_eq!(recent["path"], Value::Null);
    assert_eq!(recent["entries"].as_array().expect("entries"), &lines);
    let (code, _) = admin(
        "PUT",
        &s.base,
        "/_cloudtwin/request-log",
        Some(ADMIN_TOKEN),
        Some(&json!({"path": "/nonexistent-dir/x.log"})),
    );
    assert_eq!(code, 400);
}

#[test]
fn wait_exits_zero_when_the_server_is_ready_and_non_zero_after_the_timeout() {
    let s = Server::start(Opts::default());
    let out = Command::new(bin())
        .args(["wait", "--url", &s.base, "--timeout", "5"])
        .output()
        .expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = free.local_addr().expect("addr").port();
    drop(free);
    let t = Instant::now();
    let out = Command::new(bin())
        .args([
            "wait",
            "--url",
            &format!("http://127.0.0.1:{port}"),
            "--timeout",
            "0.5",
        ])
        .output()
        .expect("wait");
    assert!(!out.status.success());
    assert!(t.elapsed() >= Duration::from_millis(500));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not ready"));
}
