//! Hardening regressions, each through real HTTP the way it was found: a signed request of any
//! shape cannot end the process, a file's faces are bounded, an empty state document is not
//! "delete everything", replay protection covers what the SDKs sign, and numbers that enter
//! the service stay in ranges where their arithmetic cannot overflow.

mod common;

use std::process::{Command, Stdio};

use base64::Engine;
use common::imm::{rpc_signed, Tweak};
use common::*;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

/// A v1 (HmacSHA256) signed CVM request with `business` parameters, over GET or a form POST.
fn v1_call(s: &Server, method: &str, action: &str, business: &[(String, String)]) -> Value {
    let mut all: Vec<(String, String)> = business.to_vec();
    for (k, v) in [
        ("Action", action.to_string()),
        ("Version", "2017-03-12".to_string()),
        ("Region", REGION.to_string()),
        ("Timestamp", now().to_string()),
        ("Nonce", "4711".to_string()),
        ("SecretId", SECRET_ID_1.to_string()),
        ("SignatureMethod", "HmacSHA256".to_string()),
    ] {
        all.push((k.into(), v));
    }
    all.sort();
    let joined = all
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let sts = format!("{method}{}/?{joined}", s.host());
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET_KEY_1.as_bytes()).expect("key");
    mac.update(sts.as_bytes());
    all.push((
        "Signature".into(),
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()),
    ));
    let form = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&all)
        .finish();
    let resp = if method == "GET" {
        ureq::get(&format!("{}/?{form}", s.base)).call()
    } else {
        ureq::post(&format!("{}/", s.base))
            .set("Content-Type", "application/x-www-form-urlencoded")
            .send_string(&form)
    };
    let resp = match resp {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport error (did the server die?): {e}"),
    };
    let v: Value = resp.into_json().expect("json");
    v["Response"].clone()
}

fn healthy(s: &Server) -> bool {
    get_json(&format!("{}/_cloudtwin/health", s.base)).0 == 200
}

fn admin(s: &Server, method: &str, path: &str, body: &str) -> (u16, Value) {
    let r = ureq::request(method, &format!("{}{path}", s.base))
        .set("Authorization", &format!("Bearer {ADMIN_TOKEN}"))
        .send_string(body);
    match r {
        Ok(r) => (r.status(), r.into_json().unwrap_or(Value::Null)),
        Err(ureq::Error::Status(c, r)) => (c, r.into_json().unwrap_or(Value::Null)),
        Err(e) => panic!("transport error (did the server die?): {e}"),
    }
}

fn state(s: &Server) -> Value {
    let (code, v) = admin(s, "GET", "/_cloudtwin/state", "");
    assert_eq!(code, 200);
    v
}

// --- 1. deep parameters ------------------------------------------------------------------------

#[test]
fn a_flattened_name_with_thousands_of_segments_is_invalid_parameter_and_the_server_lives() {
    let s = Server::start(Opts::default());
    // About 6 KB, under the 32 KB query limit: this overflowed a worker's stack before.
    let deep = vec!["A"; 3000].join(".");
    for method in ["GET", "POST"] {
        let r = v1_call(
            &s,
            method,
            "DescribeImages",
            &[(deep.clone(), "x".to_string())],
        );
        assert_eq!(r["Error"]["Code"], "InvalidParameter", "{method}: {r}");
        assert!(
            r["Error"]["Message"]
                .as_str()
                .expect("message")
                .contains("segments"),
            "{r}"
        );
        assert!(healthy(&s), "the server answers after a {method}");
    }
    // A name within the bound still decodes (and is then an unknown parameter).
    let r = v1_call(
        &s,
        "GET",
        "DescribeImages",
        &[("Filters.0.Values.0".into(), "x".into())],
    );
    assert_eq!(r["Error"]["Code"], "MissingParameter", "{r}");
}

#[test]
fn deeply_nested_json_in_an_imm_parameter_or_an_admin_body_is_refused_not_fatal() {
    let s = Server::start(Opts::default());
    let c = s.imm();
    c.dataset("p", "d");
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let r = c.call(
        "IndexFileMeta",
        &[
            ("ProjectName", "p".into()),
            ("DatasetName", "d".into()),
            ("File", deep.clone()),
        ],
    );
    r.expect(400, "InvalidArgument");
    assert!(healthy(&s));
    for (method, path) in [
        ("PUT", "/_cloudtwin/state"),
        ("POST", "/_cloudtwin/seed"),
        ("POST", "/_cloudtwin/imm/faces"),
        ("PUT", "/_cloudtwin/settings"),
    ] {
        let (code, _) = admin(&s, method, path, &deep);
        assert_eq!(code, 400, "{method} {path}");
        assert!(healthy(&s), "alive after {method} {path}");
    }
}

// --- 2. faces per file -------------------------------------------------------------------------

fn figures(n: usize, prefix: &str) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"FigureId": format!("{prefix}-{i}"), "FigureClusterId": "hint-a"}))
        .collect()
}

#[test]
fn a_file_with_more_faces_than_the_maximum_is_refused_and_changes_nothing() {
    let s = Server::start(Opts::default());
    let c = s.imm();
    c.dataset("p", "d");
    let file = |figs: Vec<Value>| json!({"URI": "oss://b/crowd.jpg", "Figures": figs}).to_string();
    // A long File goes in a form body, as the 3.7 MB request that found the quadratic cost.
    let index = |figs: Vec<Value>, nonce: &str| {
        let f = file(figs);
        let params = [
            ("Action", "IndexFileMeta"),
            ("ProjectName", "p"),
            ("DatasetName", "d"),
            ("File", f.as_str()),
        ];
        rpc_post(
            &s,
            &rpc_signed("POST", &params, AK_ID_1, AK_SECRET_1, Some(nonce)),
        )
    };
    let (code, v) = index(figures(1001, "f"), "n-1");
    assert_eq!(
        (code, v["Code"].as_str()),
        (400, Some("InvalidArgument")),
        "{v}"
    );
    assert!(
        v["Message"]
            .as_str()
            .expect("message")
            .contains("at most 1000"),
        "{v}"
    );
    c.call(
        "GetFileMeta",
        &[
            ("ProjectName", "p".into()),
            ("DatasetName", "d".into()),
            ("URI", "oss://b/crowd.jpg".into()),
        ],
    )
    .expect(404, "ResourceNotFound");
    // The maximum itself is fine, and re-indexing it with other faces replaces them.
    assert_eq!(index(figures(1000, "f"), "n-2").0, 200);
    assert_eq!(index(figures(1000, "g"), "n-3").0, 200);
    let got = c
        .call(
            "GetFileMeta",
            &[
                ("ProjectName", "p".into()),
                ("DatasetName", "d".into()),
                ("URI", "oss://b/crowd.jpg".into()),
            ],
        )
        .expect_ok();
    let figs = got["Files"][0]["Figures"].as_array().expect("figures");
    assert_eq!(figs.len(), 1000);
    assert!(figs.iter().all(|f| f["FigureId"]
        .as_str()
        .is_some_and(|id| id.starts_with("g-"))));
}

#[test]
fn a_figure_id_named_twice_in_one_file_is_invalid_argument() {
    let s = Server::start(Opts::default());
    let c = s.imm();
    c.dataset("p", "d");
    let file =
        json!({"URI": "oss://b/twice.jpg", "Figures": [{"FigureId": "x"}, {"FigureId": "x"}]});
    c.call(
        "IndexFileMeta",
        &[
            ("ProjectName", "p".into()),
            ("DatasetName", "d".into()),
            ("File", file.to_string()),
        ],
    )
    .expect(400, "InvalidArgument");
}

#[test]
fn faces_that_join_and_leave_a_cluster_in_one_write_keep_the_cluster_exact() {
    let s = Server::start(Opts::default());
    let c = s.imm();
    c.dataset("p", "d");
    let index = |uri: &str, figs: Value| {
        c.call(
            "IndexFileMeta",
            &[
                ("ProjectName", "p".into()),
                ("DatasetName", "d".into()),
                ("File", json!({"URI": uri, "Figures": figs}).to_string()),
            ],
        )
        .expect_ok();
    };
    index(
        "oss://b/seed.jpg",
        json!([{"FigureId": "s-0", "FigureClusterId": "hint-seed"}]),
    );
    c.cluster("p", "d");
    let id = c.cluster_of("p", "d", "oss://b/seed.jpg", "s-0");
    let before = 1;
    let figs: Vec<Value> = (0..300)
        .map(|i| json!({"FigureId": format!("m-{i}"), "FigureClusterId": id}))
        .collect();
    index("oss://b/many.jpg", Value::Array(figs));
    let get = || {
        c.call(
            "GetFigureCluster",
            &[
                ("ProjectName", "p".into()),
                ("DatasetName", "d".into()),
                ("ObjectId", id.clone()),
            ],
        )
    };
    let got = get().expect_ok();
    assert_eq!(got["FigureCluster"]["FaceCount"], before + 300);
    // Re-index with half of them: the others leave in the same write.
    let half: Vec<Value> = (0..150)
        .map(|i| json!({"FigureId": format!("m-{i}"), "FigureClusterId": id}))
        .collect();
    index("oss://b/many.jpg", Value::Array(half));
    let got = get().expect_ok();
    assert_eq!(got["FigureCluster"]["FaceCount"], before + 150);
    assert_eq!(got["FigureCluster"]["ImageCount"], 2);
    // Deleting the file takes its faces out; the cluster keeps its own first face.
    c.call(
        "DeleteFileMeta",
        &[
            ("ProjectName", "p".into()),
            ("DatasetName", "d".into()),
            ("URI", "oss://b/many.jpg".into()),
        ],
    )
    .expect_ok();
    let got = get().expect_ok();
    assert_eq!(got["FigureCluster"]["FaceCount"], before);
}

// --- 5. empty state documents ------------------------------------------------------------------

#[test]
fn an_empty_or_unlabelled_state_document_is_refused_and_deletes_nothing() {
    let s = Server::start(Opts::default());
    let id = s.client().create("survivor");
    let before = state(&s);
    for body in [
        "",
        "   \n",
        "{}",
        r#"{"cvm": {"Images": []}}"#,
        r#"{"version": 1}"#,
    ] {
        for (method, path) in [("PUT", "/_cloudtwin/state"), ("POST", "/_cloudtwin/seed")] {
            let (code, v) = admin(&s, method, path, body);
            assert_eq!(code, 400, "{method} {path} {body:?}: {v}");
            let msg = v["error"].as_str().expect("error");
            assert!(msg.contains("format") || msg.contains("version"), "{msg}");
        }
    }
    assert_eq!(state(&s), before, "nothing changed");
    assert!(s.client().image(&id).is_some());
}

#[test]
fn the_import_command_refuses_a_document_without_format_and_version() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let cfg = tmp.path().join("config.toml");
    std::fs::write(&cfg, config_text(&data, &Opts::default())).expect("cfg");
    let doc = tmp.path().join("empty.json");
    std::fs::write(&doc, "{}").expect("doc");
    let out = Command::new(bin())
        .args(["import", doc.to_str().expect("p"), "--config"])
        .arg(&cfg)
        .arg("--data-dir")
        .arg(&data)
        .stdout(Stdio::null())
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("format"));
}

// --- 7. replay protection ----------------------------------------------------------------------

#[test]
fn acs3_requests_must_carry_and_sign_the_nonce_date_action_version_and_host() {
    let s = Server::start(Opts::default());
    let c = s.imm();
    let t = |unsigned: Vec<&'static str>, omit: Vec<&'static str>| Tweak {
        unsigned,
        omit,
        ..Tweak::default()
    };
    c.try_call(
        "ListProjects",
        &[],
        &t(vec![], vec!["x-acs-signature-nonce"]),
    )
    .expect("reply")
    .expect(400, "MissingSignatureNonce");
    for h in [
        "x-acs-signature-nonce",
        "x-acs-date",
        "x-acs-action",
        "x-acs-version",
        "host",
        "x-acs-content-sha256",
    ] {
        let r = c
            .try_call("ListProjects", &[], &t(vec![h], vec![]))
            .expect("reply");
        r.expect(400, "IncompleteSignature");
        assert!(
            r.body["Message"].as_str().expect("message").contains(h),
            "{}",
            r.body
        );
    }
    c.try_call("ListProjects", &[], &Tweak::default())
        .expect("reply")
        .expect_ok();
}

#[test]
fn a_get_project_signed_without_its_action_cannot_be_resent_as_update_project() {
    let s = Server::start(Opts::default());
    let c = s.imm();
    c.call("CreateProject", &[("ProjectName", "p".into())])
        .expect_ok();
    let r = c
        .try_call(
            "GetProject",
            &[
                ("ProjectName", "p".into()),
                ("Description", "changed".into()),
            ],
            &Tweak {
                unsigned: vec!["x-acs-action"],
                resend_as: vec![("x-acs-action", "UpdateProject".into())],
                ..Tweak::default()
            },
        )
        .expect("reply");
    r.expect(400, "IncompleteSignature");
    let p = c
        .call("GetProject", &[("ProjectName", "p".into())])
        .expect_ok();
    assert_ne!(p["Project"]["Description"], "changed");
}

#[test]
fn an_acs3_request_replayed_with_the_same_date_and_nonce_is_refused() {
    let s = Server::start(Opts::default());
    let c = s.imm();
    let t = Tweak {
        date: Some(common::imm::now_iso(0)),
        nonce: Some("0123456789abcdef0123456789abcdef".into()),
        ..Tweak::default()
    };
    c.try_call("ListProjects", &[], &t)
        .expect("reply")
        .expect_ok();
    c.try_call("ListProjects", &[], &t)
        .expect("reply")
        .expect(400, "SignatureNonceUsed");
}

fn rpc_post(s: &Server, all: &[(String, String)]) -> (u16, Value) {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(all)
        .finish();
    match ureq::post(&format!("{}/", s.base))
        .set("Content-Type", "application/x-www-form-urlencoded")
        .send_string(&body)
    {
        Ok(r) => (r.status(), r.into_json().expect("json")),
        Err(ureq::Error::Status(c, r)) => (c, r.into_json().expect("json")),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn rpc_requests_need_a_nonce_and_a_replay_is_refused() {
    let s = Server::start(Opts::default());
    let params = [("Action", "ListProjects")];
    let (code, v) = rpc_post(&s, &rpc_signed("POST", &params, AK_ID_1, AK_SECRET_1, None));
    assert_eq!(
        (code, v["Code"].as_str()),
        (400, Some("MissingSignatureNonce")),
        "{v}"
    );
    let once = rpc_signed("POST", &params, AK_ID_1, AK_SECRET_1, Some("n-rpc-1"));
    assert_eq!(rpc_post(&s, &once).0, 200);
    let (code, v) = rpc_post(&s, &once);
    assert_eq!(
        (code, v["Code"].as_str()),
        (400, Some("SignatureNonceUsed")),
        "{v}"
    );
}

#[test]
fn at_the_nonce_cache_bound_an_evicted_nonce_still_cannot_be_replayed() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let cfg = tmp.path().join("config.toml");
    let text = config_text(&data, &Opts::default()).replacen(
        "[cvm]\n",
        "[auth]\nnonce_cache_capacity = 1000\n[cvm]\n",
        1,
    );
    std::fs::write(&cfg, text).expect("cfg");
    let s = Server::spawn(&cfg, &data);
    let c = s.imm();
    // The first request is signed a minute ago (inside the 15-minute window).
    let first = Tweak {
        date: Some(common::imm::now_iso(-60)),
        nonce: Some("first-nonce".into()),
        ..Tweak::default()
    };
    c.try_call("ListProjects", &[], &first)
        .expect("reply")
        .expect_ok();
    for i in 0..1000 {
        let t = Tweak {
            nonce: Some(format!("later-{i}")),
            ..Tweak::default()
        };
        c.try_call("ListProjects", &[], &t)
            .expect("reply")
            .expect_ok();
    }
    // The first nonce was evicted: its replay is refused by the horizon, not accepted.
    c.try_call("ListProjects", &[], &first)
        .expect("reply")
        .expect(400, "InvalidTimeStamp.Expired");
    // A nonce still held is refused as used; a fresh request goes through.
    c.try_call(
        "ListProjects",
        &[],
        &Tweak {
            nonce: Some("later-999".into()),
            ..Tweak::default()
        },
    )
    .expect("reply")
    .expect(400, "SignatureNonceUsed");
    c.try_call("ListProjects", &[], &Tweak::default())
        .expect("reply")
        .expect_ok();
}

// --- 8. ranges and overflow --------------------------------------------------------------------

#[test]
fn a_config_delay_beyond_a_year_is_refused_naming_the_key() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    for (from, to, key) in [
        (
            "image_ready_after_ms = 0",
            "image_ready_after_ms = 9223372036854775807",
            "cvm.image_ready_after_ms",
        ),
        (
            "[cvm]\n",
            "[auth]\nmax_skew_seconds = 9223372036854775807\n[cvm]\n",
            "auth.max_skew_seconds",
        ),
        (
            "task_min_duration_ms = 0",
            "task_min_duration_ms = 99999999999999",
            "imm.task_min_duration_ms",
        ),
    ] {
        let cfg = tmp.path().join("config.toml");
        let text = config_text(&data, &Opts::default()).replacen(from, to, 1);
        assert!(text.contains(to));
        std::fs::write(&cfg, text).expect("cfg");
        let out = Command::new(bin())
            .args(["serve", "--config"])
            .arg(&cfg)
            .stdout(Stdio::null())
            .output()
            .expect("run");
        assert!(!out.status.success(), "{key}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(key) && err.contains("out of range"), "{err}");
    }
}

#[test]
fn state_control_and_settings_refuse_delays_that_would_overflow() {
    let s = Server::start(Opts::default());
    let id = s.client().create("slow");
    let (code, v) = admin(
        &s,
        "POST",
        &format!("/_cloudtwin/cvm/images/{id}/state"),
        &json!({"state": "CREATING", "then": "NORMAL", "after_ms": u64::MAX}).to_string(),
    );
    assert_eq!(code, 400, "{v}");
    assert!(v["error"].as_str().expect("error").contains("after_ms"));
    let (code, _) = admin(
        &s,
        "PUT",
        "/_cloudtwin/settings",
        &json!({"cvm": {"image_ready_after_ms": u64::MAX}}).to_string(),
    );
    assert_eq!(code, 400);
    // A delay within range pins the state as asked.
    let (code, _) = admin(
        &s,
        "POST",
        &format!("/_cloudtwin/cvm/images/{id}/state"),
        &json!({"state": "CREATING", "then": "NORMAL", "after_ms": 3_600_000}).to_string(),
    );
    assert_eq!(code, 200);
    let img = s.client().image(&id).expect("image");
    assert_eq!(img["ImageState"], "CREATING");
}

#[test]
fn meta_lock_version_at_its_largest_value_refuses_the_update_instead_of_wrapping() {
    let s = Server::start(Opts::default());
    let doc = json!({"format": "cloudtwin-state", "version": 1, "imm": {
        "Projects": [{"AccountId": ACCOUNT_1, "Region": "cn-hangzhou", "ProjectName": "p"}],
        "Datasets": [{"AccountId": ACCOUNT_1, "Region": "cn-hangzhou", "ProjectName": "p", "DatasetName": "d"}],
        "Files": [{"AccountId": ACCOUNT_1, "Region": "cn-hangzhou", "ProjectName": "p", "DatasetName": "d",
                   "URI": "oss://b/a.jpg", "Figures": [{"FigureId": "f", "FigureClusterId": "Cluster-max"}]}],
        "Clusters": [{"AccountId": ACCOUNT_1, "Region": "cn-hangzhou", "ProjectName": "p", "DatasetName": "d",
                      "ObjectId": "Cluster-max", "MetaLockVersion": i64::MAX}]}});
    let (code, v) = admin(&s, "PUT", "/_cloudtwin/state", &doc.to_string());
    assert_eq!(code, 200, "{v}");
    let c = s.imm();
    let update = json!({"ObjectId": "Cluster-max", "Name": "n"}).to_string();
    let r = c.call(
        "UpdateFigureCluster",
        &[
            ("ProjectName", "p".into()),
            ("DatasetName", "d".into()),
            ("FigureCluster", update),
        ],
    );
    r.expect(400, "InvalidArgument");
    let got = c
        .call(
            "GetFigureCluster",
            &[
                ("ProjectName", "p".into()),
                ("DatasetName", "d".into()),
                ("ObjectId", "Cluster-max".into()),
            ],
        )
        .expect_ok();
    assert_eq!(got["FigureCluster"]["MetaLockVersion"], i64::MAX);
    let mut negative = doc.clone();
    negative["imm"]["Clusters"][0]["MetaLockVersion"] = json!(-1);
    let (code, v) = admin(&s, "PUT", "/_cloudtwin/state", &negative.to_string());
    assert_eq!(code, 400);
    assert!(v["error"]
        .as_str()
        .expect("error")
        .contains("MetaLockVersion"));
}

#[test]
fn importing_more_images_than_the_quota_is_refused() {
    let s = Server::start(Opts {
        quota: 3,
        ..Opts::default()
    });
    let images = |n: usize| -> Vec<Value> {
        (0..n)
            .map(
                |i| json!({"AccountId": ACCOUNT_1, "Region": REGION, "ImageName": format!("i{i}")}),
            )
            .collect()
    };
    let doc = |n| json!({"format": "cloudtwin-state", "version": 1, "cvm": {"Images": images(n)}});
    let (code, v) = admin(&s, "PUT", "/_cloudtwin/state", &doc(4).to_string());
    assert_eq!(code, 400, "{v}");
    assert!(v["error"].as_str().expect("error").contains("quota"), "{v}");
    let (code, v) = admin(&s, "PUT", "/_cloudtwin/state", &doc(3).to_string());
    assert_eq!(code, 200, "{v}");
    // A seed that would add a fourth is refused as a whole.
    let extra = json!({"format": "cloudtwin-state", "version": 1, "cvm": {"Images": [
        {"AccountId": ACCOUNT_1, "Region": REGION, "ImageName": "fourth"}]}});
    let (code, _) = admin(&s, "POST", "/_cloudtwin/seed", &extra.to_string());
    assert_eq!(code, 400);
    let q = s.client().call("DescribeImageQuota", json!({})).expect_ok();
    assert_eq!(q["ImageNumQuota"], 3);
    let listed = s
        .client()
        .call(
            "DescribeImages",
            json!({"Filters": [{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}]}),
        )
        .expect_ok();
    assert_eq!(listed["TotalCount"], 3);
}
