//! `cloudtwin convert` through the binary: a data dir with images, a dataset and its clusters
//! goes into a PostgreSQL database, a node on that database serves the same state, and the way
//! back gives a data dir that passes `cloudtwin check` and serves it too. Needs the private
//! PostgreSQL of tests/run.sh (`CLOUDTWIN_TEST_PG_URL`), as the store suite does.

mod common;

use std::path::Path;
use std::process::Command;

use common::pg::{admin_url, Db};
use common::*;
use serde_json::{json, Value};

const P: &str = "proj";
const D: &str = "faces";

fn convert(from: &str, to: &str) -> (bool, String) {
    let out = Command::new(bin())
        .args(["convert", "--from", from, "--to", to])
        .env("CLOUDTWIN_LOG", "warn")
        .output()
        .expect("run convert");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// `cloudtwin check --data-dir DIR` exits 0.
fn assert_check_passes(dir: &Path) {
    let check = Command::new(bin())
        .args(["check", "--data-dir"])
        .arg(dir)
        .env("CLOUDTWIN_LOG", "warn")
        .output()
        .expect("check");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

fn ingest(s: &Server, uri: &str, figures: Value) {
    let (code, body) = admin_post(
        &s.base,
        "/_cloudtwin/imm/faces",
        Some(ADMIN_TOKEN),
        &json!({"AccountId": ACCOUNT_1, "ProjectName": P, "DatasetName": D, "File": {"URI": uri, "Figures": figures}}),
    );
    assert_eq!(code, 200, "{body}");
}

/// The image names of account 1, sorted.
fn image_names(s: &Server) -> Vec<String> {
    let a = s.client().call(
        "DescribeImages",
        json!({"Limit": 100, "Filters": [{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}]}),
    );
    assert!(a.ok(), "{:?}", a.response);
    let mut names: Vec<String> = a.response["ImageSet"]
        .as_array()
        .expect("images")
        .iter()
        .map(|i| i["ImageName"].as_str().unwrap_or_default().to_string())
        .collect();
    names.sort();
    names
}

/// The cluster ids of the dataset with their image counts, sorted.
fn clusters(s: &Server) -> Vec<(String, u64)> {
    let q = s
        .imm()
        .call(
            "QueryFigureClusters",
            &[("ProjectName", P.into()), ("DatasetName", D.into())],
        )
        .expect_ok();
    let mut out: Vec<(String, u64)> = q["FigureClusters"]
        .as_array()
        .expect("clusters")
        .iter()
        .map(|c| {
            (
                c["ObjectId"].as_str().unwrap_or_default().to_string(),
                c["ImageCount"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    out.sort();
    out
}

/// A node over the database `url`, with its config and data dir in `dir`.
fn node_on(dir: &Path, url: &str) -> Server {
    let data = dir.join("data");
    let config = dir.join("config.toml");
    let text = config_text(&data, &Opts::default())
        + &format!("[store]\nbackend = \"postgres\"\nurl = \"{url}\"\n");
    std::fs::write(&config, text).expect("config");
    Server::spawn(&config, &data)
}

#[test]
fn a_data_dir_converts_to_postgres_and_back_with_every_record() {
    let Some(admin) = admin_url() else {
        return;
    };
    let db = Db::create(&admin, "convert");
    let url = db.url.clone();
    let tmp = tempfile::tempdir().expect("tempdir");
    let sled_dir = tmp.path().join("sled");
    std::fs::create_dir_all(&sled_dir).expect("dir");
    // The source: three images and a dataset with two clusters, on sled.
    let mut s = Server::start_at(&sled_dir, &sled_dir.join("data"), &Opts::default());
    for name in ["alpha", "beta", "gamma"] {
        let a = s.client().call(
            "CreateImage",
            json!({"ImageName": name, "InstanceId": "ins-abcdefgh"}),
        );
        assert!(a.ok(), "{:?}", a.response);
    }
    s.imm().dataset(P, D);
    for (i, who) in ["ann", "ann", "bob"].iter().enumerate() {
        ingest(
            &s,
            &format!("oss://b/{i}.jpg"),
            json!([{"FigureId": "f", "IdentityHint": who}]),
        );
    }
    let task = s.imm().cluster(P, D);
    assert_eq!(task["Status"], "Succeeded", "{task}");
    let names = image_names(&s);
    let groups = clusters(&s);
    assert_eq!(names.len(), 3);
    assert_eq!(groups.len(), 2, "{groups:?}");
    assert!(s.terminate().success());
    let data = sled_dir.join("data");
    let data = data.to_str().expect("utf-8 path");

    // Into PostgreSQL: copied, verified and checked.
    let (ok, out) = convert(data, &url);
    assert!(ok, "{out}");
    assert!(out.contains("verified"), "{out}");
    assert!(out.contains("checked"), "{out}");
    // A second conversion into the same (now full) database is refused.
    let (ok, out) = convert(data, &url);
    assert!(!ok, "a full target must be refused: {out}");
    assert!(out.contains("already holds records"), "{out}");

    // A node on the database serves the same state.
    let pg_dir = tmp.path().join("pg");
    std::fs::create_dir_all(&pg_dir).expect("dir");
    let mut n = node_on(&pg_dir, &url);
    assert_eq!(image_names(&n), names);
    assert_eq!(clusters(&n), groups);
    // A write there, then back into a new data dir.
    let a = n.client().call(
        "CreateImage",
        json!({"ImageName": "delta", "InstanceId": "ins-abcdefgh"}),
    );
    assert!(a.ok(), "{:?}", a.response);
    assert!(n.terminate().success());
    let back = tmp.path().join("back");
    let back_s = back.to_str().expect("utf-8 path");
    let (ok, out) = convert(&url, back_s);
    assert!(ok, "{out}");
    assert_check_passes(&back);
    let back_cfg = tmp.path().join("back.toml");
    std::fs::write(&back_cfg, config_text(&back, &Opts::default())).expect("config");
    let b = Server::spawn(&back_cfg, &back);
    let mut expected = names.clone();
    expected.push("delta".into());
    expected.sort();
    assert_eq!(image_names(&b), expected);
    assert_eq!(clusters(&b), groups);
}

#[test]
fn convert_refuses_a_non_empty_data_dir_and_the_same_store() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let full = tmp.path().join("full");
    std::fs::create_dir_all(&full).expect("dir");
    std::fs::write(full.join("something"), "x").expect("file");
    let src = tmp.path().join("src");
    let (ok, out) = convert(src.to_str().expect("path"), full.to_str().expect("path"));
    assert!(!ok);
    assert!(out.contains("is not empty"), "{out}");
    let (ok, out) = convert(src.to_str().expect("path"), src.to_str().expect("path"));
    assert!(!ok);
    assert!(out.contains("the same store"), "{out}");
}

/// `GET` of an admin route with the token.
fn admin_get(base: &str, path: &str) -> (u16, Value) {
    match ureq::get(&format!("{base}{path}"))
        .set("Authorization", &format!("Bearer {ADMIN_TOKEN}"))
        .call()
    {
        Ok(r) => (r.status(), r.into_json().unwrap_or(Value::Null)),
        Err(ureq::Error::Status(code, r)) => (code, r.into_json().unwrap_or(Value::Null)),
        Err(e) => panic!("transport: {e}"),
    }
}

#[test]
fn backup_export_reset_import_and_seed_work_on_a_database() {
    let Some(admin) = admin_url() else {
        return;
    };
    let db = Db::create(&admin, "ops");
    let url = db.url.clone();
    let tmp = tempfile::tempdir().expect("tempdir");
    let n = node_on(tmp.path(), &url);
    for name in ["one", "two"] {
        let a = n.client().call(
            "CreateImage",
            json!({"ImageName": name, "InstanceId": "ins-abcdefgh"}),
        );
        assert!(a.ok(), "{:?}", a.response);
    }
    // The online backup of a database is a sled data dir that passes the check and serves it.
    let backup = tmp.path().join("backup");
    let (code, answer) = admin_post(
        &n.base,
        "/_cloudtwin/backup",
        Some(ADMIN_TOKEN),
        &json!({"dir": backup}),
    );
    assert_eq!(code, 200, "{answer}");
    assert_check_passes(&backup);
    // Export, reset, import: the database holds the exported state again.
    let (code, state) = admin_get(&n.base, "/_cloudtwin/state");
    assert_eq!(code, 200, "{state}");
    let (code, answer) = admin_post(&n.base, "/_cloudtwin/reset", Some(ADMIN_TOKEN), &json!({}));
    assert_eq!(code, 200, "{answer}");
    assert!(image_names(&n).is_empty(), "the reset emptied the database");
    let (code, answer) = admin_send("PUT", &n.base, "/_cloudtwin/state", &state);
    assert_eq!(code, 200, "{answer}");
    assert_eq!(image_names(&n), vec!["one".to_string(), "two".to_string()]);
    // A seed merges: the existing images stay, the new one is added.
    let mut seed = state.clone();
    seed["cvm"]["Images"] =
        json!([{"AccountId": ACCOUNT_1, "Region": REGION, "ImageName": "three"}]);
    let (code, answer) = admin_post(&n.base, "/_cloudtwin/seed", Some(ADMIN_TOKEN), &seed);
    assert_eq!(code, 200, "{answer}");
    assert_eq!(
        image_names(&n),
        vec!["one".to_string(), "three".to_string(), "two".to_string()]
    );
    // The backup serves the state of its moment.
    let cfg = tmp.path().join("backup.toml");
    std::fs::write(&cfg, config_text(&backup, &Opts::default())).expect("config");
    let b = Server::spawn(&cfg, &backup);
    assert_eq!(image_names(&b), vec!["one".to_string(), "two".to_string()]);
}
