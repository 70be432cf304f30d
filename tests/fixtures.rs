//! Test-fixture surface over the real binary: portable export/import (exact round trip, all or
//! nothing), seeds at start (JSON and TOML, idempotent, errors naming the entry and field), and
//! reset (everything, one account, one dialect).

mod common;

use std::process::Command;
use std::time::Instant;

use common::*;
use serde_json::{json, Value};

fn admin_get(base: &str, path: &str) -> (u16, Value) {
    match ureq::get(&format!("{base}{path}"))
        .set("Authorization", &format!("Bearer {ADMIN_TOKEN}"))
        .call()
    {
        Ok(r) => (r.status(), r.into_json().unwrap_or(Value::Null)),
        Err(ureq::Error::Status(c, r)) => (c, r.into_json().unwrap_or(Value::Null)),
        Err(e) => panic!("{e}"),
    }
}

fn admin_put(base: &str, path: &str, body: &Value) -> (u16, Value) {
    match ureq::put(&format!("{base}{path}"))
        .set("Authorization", &format!("Bearer {ADMIN_TOKEN}"))
        .send_string(&body.to_string())
    {
        Ok(r) => (r.status(), r.into_json().unwrap_or(Value::Null)),
        Err(ureq::Error::Status(c, r)) => (c, r.into_json().unwrap_or(Value::Null)),
        Err(e) => panic!("{e}"),
    }
}

fn state(s: &Server) -> Value {
    let (code, v) = admin_get(&s.base, "/_cloudtwin/state");
    assert_eq!(code, 200, "{v}");
    v
}

/// A rich state made through the cloud APIs: images in several states and regions, sharing,
/// sync, import, an export task; IMM projects, datasets, files with faces (hints, embeddings,
/// independent), clusters with names and labels, a merge, tasks.
fn populate(s: &Server) {
    let c = s.client();
    let a = c.create("alpha");
    c.call("ModifyImageAttribute", json!({"ImageId": a, "ImageDescription": "the first", "ImageFamily": "fam", "ImageDeprecated": true})).expect_ok();
    c.call(
        "ModifyImageSharePermission",
        json!({"ImageId": a, "AccountIds": [ACCOUNT_2], "Permission": "SHARE"}),
    )
    .expect_ok();
    c.call(
        "SyncImages",
        json!({"ImageIds": [a], "DestinationRegions": ["ap-shanghai"]}),
    )
    .expect_ok();
    c.call("ImportImage", json!({"Architecture": "arm_64", "OsType": "Ubuntu", "OsVersion": "16", "ImageUrl": "https://b/u.raw", "ImageName": "imported",
        "TagSpecification": [{"ResourceType": "image", "Tags": [{"Key": "k", "Value": "v"}]}]})).expect_ok();
    c.call(
        "ExportImages",
        json!({"BucketName": "b-1300000001", "ImageIds": [a]}),
    )
    .expect_ok();
    s.client2().create("theirs");
    let imm = s.imm();
    imm.dataset("proj", "faces");
    imm.call(
        "CreateDataset",
        &[
            ("ProjectName", "proj".into()),
            ("DatasetName", "empty".into()),
            ("Description", "nothing here".into()),
        ],
    )
    .expect_ok();
    for (uri, figs) in [
        (
            "oss://b/1.jpg",
            json!([{"FigureId": "a1", "IdentityHint": "ann", "Age": 30, "Gender": "female", "FaceQuality": 0.9, "Boundary": {"Left": 1}}]),
        ),
        (
            "oss://b/2.jpg",
            json!([{"FigureId": "a2", "IdentityHint": "ann"}, {"FigureId": "b1", "IdentityHint": "bob"}]),
        ),
        (
            "oss://b/3.mp4",
            json!([{"FigureId": "e1", "Embedding": [0.25, 0.5, 1.0, -0.125]}]),
        ),
        (
            "oss://b/4.jpg",
            json!([{"FigureId": "c1", "IdentityHint": "cy"}, {"FigureId": "x", "FigureClusterId": "figure-cluster-id-independent"}]),
        ),
    ] {
        let (code, body) = admin_post(
            &s.base,
            "/_cloudtwin/imm/faces",
            Some(ADMIN_TOKEN),
            &json!({"AccountId": ACCOUNT_1, "ProjectName": "proj", "DatasetName": "faces", "File": {"URI": uri, "Figures": figs, "Title": "t"}}),
        );
        assert_eq!(code, 200, "{body}");
    }
    imm.cluster("proj", "faces");
    let ann = imm.cluster_of("proj", "faces", "oss://b/1.jpg", "a1");
    let cy = imm.cluster_of("proj", "faces", "oss://b/4.jpg", "c1");
    imm.call(
        "UpdateFigureCluster",
        &[
            ("ProjectName", "proj".into()),
            ("DatasetName", "faces".into()),
            (
                "FigureCluster",
                json!({"ObjectId": ann, "Name": "Ann", "CustomLabels": {"role": "friend", "n": 5}})
                    .to_string(),
            ),
        ],
    )
    .expect_ok();
    let t = imm
        .call(
            "CreateFigureClustersMergingTask",
            &[
                ("ProjectName", "proj".into()),
                ("DatasetName", "faces".into()),
                ("From", cy),
                ("To", ann),
            ],
        )
        .expect_ok();
    let id = t["TaskId"].as_str().expect("id").to_string();
    poll_until("the merging task ends", || {
        let g = imm
            .call(
                "GetTask",
                &[
                    ("ProjectName", "proj".into()),
                    ("TaskId", id.clone()),
                    ("TaskType", "FigureClustersMerging".into()),
                ],
            )
            .expect_ok();
        (g["Status"] != "Running").then_some(())
    });
    // A face left for the next clustering run, with a hint.
    admin_post(
        &s.base,
        "/_cloudtwin/imm/faces",
        Some(ADMIN_TOKEN),
        &json!({"AccountId": ACCOUNT_1, "ProjectName": "proj", "DatasetName": "faces", "File": {"URI": "oss://b/5.jpg", "Figures": [{"FigureId": "p", "IdentityHint": "later"}]}}),
    );
}

#[test]
fn export_then_import_into_an_empty_store_then_export_is_identical() {
    let s = Server::start(Opts::default());
    populate(&s);
    // Timed transitions travel too: one image CREATING for a minute more.
    let slow = s.client().create("slow");
    let (code, _) = admin_post(
        &s.base,
        &format!("/_cloudtwin/cvm/images/{slow}/state"),
        Some(ADMIN_TOKEN),
        &json!({"state": "CREATING", "then": "NORMAL", "after_ms": 60_000}),
    );
    assert_eq!(code, 200);
    let first = state(&s);
    assert_eq!(first["format"], "cloudtwin-state");
    assert_eq!(first["version"], 1);
    assert!(first["cvm"]["Images"].as_array().expect("images").len() >= 5);
    assert!(!first["imm"]["Clusters"]
        .as_array()
        .expect("clusters")
        .is_empty());
    let fresh = Server::start(Opts::default());
    let (code, body) = admin_put(&fresh.base, "/_cloudtwin/state", &first);
    assert_eq!(code, 200, "{body}");
    let second = state(&fresh);
    assert_eq!(first, second, "online round trip");
    // The imported state behaves: names are taken, shares are visible, clusters answer.
    fresh
        .client()
        .call(
            "CreateImage",
            json!({"ImageName": "alpha", "InstanceId": "ins-abcdefgh"}),
        )
        .expect_code("InvalidImageName.Duplicate");
    let shared = fresh
        .client2()
        .call(
            "DescribeImages",
            json!({"Filters": [{"Name": "image-type", "Values": ["SHARED_IMAGE"]}]}),
        )
        .expect_ok();
    assert_eq!(shared["TotalCount"], 1);
    let clusters = fresh
        .imm()
        .call(
            "QueryFigureClusters",
            &[
                ("ProjectName", "proj".into()),
                ("DatasetName", "faces".into()),
                ("WithTotalCount", "true".into()),
            ],
        )
        .expect_ok();
    assert_eq!(
        clusters["TotalCount"].as_u64(),
        Some(first["imm"]["Clusters"].as_array().expect("c").len() as u64)
    );

    // Offline: export -> import into a new data dir -> export gives the same bytes.
    let mut s = s;
    s.terminate();
    let tmp = tempfile::tempdir().expect("tmp");
    let f1 = tmp.path().join("one.json");
    let f2 = tmp.path().join("two.json");
    let run = |args: &[&str], data: &std::path::Path| {
        let out = Command::new(bin())
            .args(args)
            .arg("--config")
            .arg(&s.config)
            .arg("--data-dir")
            .arg(data)
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["export", "--to", f1.to_str().expect("p")], &s.data_dir);
    let other = tmp.path().join("other");
    run(&["import", f1.to_str().expect("p")], &other);
    run(&["export", "--to", f2.to_str().expect("p")], &other);
    assert_eq!(
        std::fs::read(&f1).expect("f1"),
        std::fs::read(&f2).expect("f2"),
        "offline round trip"
    );
    let offline: Value = serde_json::from_slice(&std::fs::read(&f1).expect("f1")).expect("json");
    assert_eq!(offline, first);
}

#[test]
fn a_bad_document_is_refused_with_its_path_and_changes_nothing() {
    let s = Server::start(Opts::default());
    let id = s.client().create("keep-me");
    let before = state(&s);
    let with_header = |mut v: Value| {
        v["format"] = json!("cloudtwin-state");
        v["version"] = json!(1);
        v
    };
    for (doc, path) in [
        (json!({}), "format"),
        (json!({"version": 1}), "format"),
        (json!({"format": "cloudtwin-state"}), "version"),
        (
            json!({"format": "cloudtwin-state", "version": 99}),
            "version",
        ),
        (
            with_header(
                json!({"cvm": {"Images": [{"AccountId": ACCOUNT_1, "Region": "ap-guangzhou", "ImageName": "x", "ImageState": "BROKEN"}]}}),
            ),
            "cvm.Images[0].ImageState",
        ),
        (
            with_header(
                json!({"cvm": {"Images": [{"AccountId": "42", "Region": "ap-guangzhou", "ImageName": "x"}]}}),
            ),
            "cvm.Images[0].AccountId",
        ),
        (
            with_header(
                json!({"cvm": {"Images": [{"AccountId": ACCOUNT_1, "Region": "ap-guangzhou"}]}}),
            ),
            "cvm.Images[0]",
        ),
        (
            with_header(
                json!({"imm": {"Datasets": [{"AccountId": ACCOUNT_1, "Region": "cn-hangzhou", "ProjectName": "nope", "DatasetName": "d"}]}}),
            ),
            "imm.Datasets[0].ProjectName",
        ),
        (
            with_header(
                json!({"imm": {"Projects": [{"AccountId": ACCOUNT_1, "Region": "cn-hangzhou", "ProjectName": "p"}],
                        "Datasets": [{"AccountId": ACCOUNT_1, "Region": "cn-hangzhou", "ProjectName": "p", "DatasetName": "d"}],
                        "Files": [{"AccountId": ACCOUNT_1, "Region": "cn-hangzhou", "ProjectName": "p", "DatasetName": "d", "URI": "oss://b/a.jpg",
                                   "Figures": [{"FigureId": "f", "FigureClusterId": "Cluster-missing"}]}]}}),
            ),
            "Cluster-missing",
        ),
        (with_header(json!({"cvm": {"Imagez": []}})), "cvm.Imagez"),
    ] {
        let (code, body) = admin_put(&s.base, "/_cloudtwin/state", &doc);
        assert_eq!(code, 400, "{doc}");
        let msg = body["error"].as_str().expect("error");
        assert!(msg.contains(path), "{msg} should name {path}");
        let (code, _) = admin_post(&s.base, "/_cloudtwin/seed", Some(ADMIN_TOKEN), &doc);
        assert_eq!(code, 400);
    }
    let raw = ureq::put(&format!("{}/_cloudtwin/state", s.base))
        .set("Authorization", &format!("Bearer {ADMIN_TOKEN}"))
        .send_string("{not json");
    assert!(matches!(raw, Err(ureq::Error::Status(400, _))));
    assert_eq!(state(&s), before, "nothing changed");
    assert!(s.client().image(&id).is_some());
    let (code, _) = match ureq::get(&format!("{}/_cloudtwin/state", s.base)).call() {
        Err(ureq::Error::Status(c, r)) => (c, r.into_string().unwrap_or_default()),
        Ok(r) => (r.status(), String::new()),
        Err(e) => panic!("{e}"),
    };
    assert_eq!(code, 401);
}

const SEED_JSON: &str = r#"{
  "format": "cloudtwin-state", "version": 1,
  "cvm": {"Images": [
    {"AccountId": "100000000001", "Region": "ap-guangzhou", "ImageName": "golden-base", "ImageFamily": "base",
     "Tags": [{"Key": "team", "Value": "infra"}]},
    {"AccountId": "100000000001", "Region": "ap-guangzhou", "ImageName": "broken", "ImageState": "CREATEFAILED"}
  ]},
  "imm": {
    "Projects": [{"AccountId": "100000000001", "Region": "cn-hangzhou", "ProjectName": "album"}],
    "Datasets": [{"AccountId": "100000000001", "Region": "cn-hangzhou", "ProjectName": "album", "DatasetName": "family"}],
    "Files": [
      {"AccountId": "100000000001", "Region": "cn-hangzhou", "ProjectName": "album", "DatasetName": "family", "URI": "oss://photos/a.jpg",
       "Figures": [{"FigureId": "mom-1", "FigureClusterId": "Cluster-mom", "Age": 41, "Gender": "female", "FaceQuality": 0.8}]},
      {"AccountId": "100000000001", "Region": "cn-hangzhou", "ProjectName": "album", "DatasetName": "family", "URI": "oss://photos/b.jpg",
       "Figures": [{"FigureId": "mom-2", "FigureClusterId": "Cluster-mom", "Age": 43, "FaceQuality": 0.95},
                   {"FigureId": "kid-1", "IdentityHint": "kid"}]}
    ],
    "Clusters": [{"AccountId": "100000000001", "Region": "cn-hangzhou", "ProjectName": "album", "DatasetName": "family",
                  "ObjectId": "Cluster-mom", "Name": "Mom", "CustomLabels": {"role": "parent"}}]
  }
}"#;

#[test]
fn a_seed_at_start_loads_once_and_a_second_start_changes_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let seed = tmp.path().join("seed.json");
    std::fs::write(&seed, SEED_JSON).expect("write");
    let data = tmp.path().join("data");
    let cfg = tmp.path().join("config.toml");
    std::fs::write(&cfg, config_text(&data, &Opts::default())).expect("cfg");
    let start = || {
        let mut child = Command::new(bin())
            .args(["serve", "--config"])
            .arg(&cfg)
            .arg("--seed")
            .arg(&seed)
            .env("CLOUDTWIN_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        let base = read_base(&mut child);
        (child, base)
    };
    let (mut child, base) = start();
    let c = Client::new(&base, SECRET_ID_1, SECRET_KEY_1);
    let listed = c
        .call(
            "DescribeImages",
            json!({"Filters": [{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}]}),
        )
        .expect_ok();
    assert_eq!(listed["TotalCount"], 2);
    let fam = c
        .call("DescribeImageFromFamily", json!({"ImageFamily": "base"}))
        .expect_ok();
    assert_eq!(fam["Image"]["ImageName"], "golden-base");
    let imm = common::imm::ImmClient::new(&base, AK_ID_1, AK_SECRET_1);
    let mom = imm
        .call(
            "GetFigureCluster",
            &[
                ("ProjectName", "album".into()),
                ("DatasetName", "family".into()),
                ("ObjectId", "Cluster-mom".into()),
            ],
        )
        .expect_ok();
    assert_eq!(mom["FigureCluster"]["Name"], "Mom");
    assert_eq!(mom["FigureCluster"]["FaceCount"], 2);
    assert_eq!(mom["FigureCluster"]["Cover"]["URI"], "oss://photos/b.jpg");
    assert_eq!(
        imm.cluster_of("album", "family", "oss://photos/b.jpg", "kid-1"),
        "figure-cluster-id-unavailable"
    );
    let before = admin_get(&base, "/_cloudtwin/state").1;
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(child.wait().expect("wait").success());
    let (mut child, base) = start();
    let after = admin_get(&base, "/_cloudtwin/state").1;
    assert_eq!(
        before, after,
        "a second start with the same seed changes nothing"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_toml_seed_works_and_a_bad_seed_stops_the_start_naming_the_entry() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let cfg = tmp.path().join("config.toml");
    std::fs::write(&cfg, config_text(&data, &Opts::default())).expect("cfg");
    let toml_seed = tmp.path().join("seed.toml");
    std::fs::write(
        &toml_seed,
        r#"
format = "cloudtwin-state"
version = 1
[[cvm.Images]]
AccountId = "100000000002"
Region = "ap-singapore"
ImageName = "from-toml"
"#,
    )
    .expect("write");
    let mut s = Server::spawn_with(&cfg, &data, &["--seed", toml_seed.to_str().expect("p")]);
    let listed = s
        .client2()
        .in_region("ap-singapore")
        .call(
            "DescribeImages",
            json!({"Filters": [{"Name": "image-name", "Values": ["from-toml"]}]}),
        )
        .expect_ok();
    assert_eq!(listed["TotalCount"], 1);
    s.terminate();
    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, r#"{"format": "cloudtwin-state", "version": 1, "imm": {"Projects": [{"AccountId": "100000000001", "Region": "cn-hangzhou", "ProjectName": "9 bad"}]}}"#).expect("write");
    let out = Command::new(bin())
        .args(["serve", "--config"])
        .arg(&cfg)
        .arg("--seed")
        .arg(&bad)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("imm.Projects[0].ProjectName"), "{err}");
}

#[test]
fn reset_removes_everything_or_one_account_or_one_dialect_quickly() {
    let s = Server::start(Opts {
        quota: 10_000,
        ..Opts::default()
    });
    populate(&s);
    let n_images = |c: &Client| {
        c.call(
            "DescribeImages",
            json!({"Filters": [{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}], "Limit": 100}),
        )
        .expect_ok()["TotalCount"]
            .as_u64()
            .expect("n")
    };
    assert!(n_images(&s.client()) > 0 && n_images(&s.client2()) > 0);
    let (code, body) = admin_post(
        &s.base,
        "/_cloudtwin/reset",
        Some(ADMIN_TOKEN),
        &json!({"account": ACCOUNT_2}),
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(n_images(&s.client2()), 0);
    assert!(n_images(&s.client()) > 0);
    assert_eq!(
        s.client2()
            .call(
                "DescribeImages",
                json!({"Filters": [{"Name": "image-type", "Values": ["SHARED_IMAGE"]}]})
            )
            .expect_ok()["TotalCount"],
        0
    );
    let (code, _) = admin_post(
        &s.base,
        "/_cloudtwin/reset",
        Some(ADMIN_TOKEN),
        &json!({"dialect": "aliyun"}),
    );
    assert_eq!(code, 200);
    s.imm()
        .call("GetProject", &[("ProjectName", "proj".into())])
        .expect(404, "ResourceNotFound");
    assert!(
        n_images(&s.client()) > 0,
        "a dialect reset leaves the other dialect"
    );
    let (code, _) = admin_post(
        &s.base,
        "/_cloudtwin/reset",
        Some(ADMIN_TOKEN),
        &json!({"dialect": "gcp"}),
    );
    assert_eq!(code, 400);
    let (code, _) = admin_post(&s.base, "/_cloudtwin/reset", None, &json!({}));
    assert_eq!(code, 401);
    let (code, _) = admin_post(&s.base, "/_cloudtwin/reset", Some(ADMIN_TOKEN), &json!({}));
    assert_eq!(code, 200);
    let doc = state(&s);
    assert!(
        doc["cvm"]["Images"].as_array().expect("i").is_empty()
            && doc["imm"]["Projects"].as_array().expect("p").is_empty()
    );
    // 10k records through the import route, then one timed full reset.
    let images: Vec<Value> = (0..10_000).map(|i| json!({"AccountId": ACCOUNT_1, "Region": "ap-guangzhou", "ImageName": format!("bulk-{i}")})).collect();
    let (code, body) = admin_put(
        &s.base,
        "/_cloudtwin/state",
        &json!({"format": "cloudtwin-state", "version": 1, "cvm": {"Images": images}}),
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(n_images(&s.client()), 10_000);
    let t = Instant::now();
    let (code, body) = admin_post(&s.base, "/_cloudtwin/reset", Some(ADMIN_TOKEN), &json!({}));
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(code, 200);
    println!("reset of 10k images (40k keys): {ms:.1} ms over HTTP, {:.1} ms in the server (debug build; the bench measures release)", body["seconds"].as_f64().unwrap_or(0.0) * 1000.0);
    assert_eq!(n_images(&s.client()), 0);
}
