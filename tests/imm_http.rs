//! IMM over real HTTP against the real binary: signature freshness and tampering, the
//! clustering algorithm on synthetic identities (through the admin ingestion route), tasks
//! that survive kill -9, the optimistic lock under concurrency, and a crash test for cluster
//! updates.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use common::imm::Tweak;
use common::*;
use serde_json::{json, Value};

const P: &str = "proj";
const D: &str = "faces";

fn ingest(s: &Server, uri: &str, figures: Value) {
    let (code, body) = admin_post(
        &s.base,
        "/_cloudtwin/imm/faces",
        Some(ADMIN_TOKEN),
        &json!({"AccountId": ACCOUNT_1, "ProjectName": P, "DatasetName": D, "File": {"URI": uri, "Figures": figures}}),
    );
    assert_eq!(code, 200, "{body}");
}

/// Deterministic Gaussian noise (xorshift + Box-Muller), kept apart from the server's tests.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64 + 1e-12
    }
    fn gauss(&mut self) -> f64 {
        let (a, b) = (self.next(), self.next());
        (-2.0 * a.ln()).sqrt() * (2.0 * std::f64::consts::PI * b).cos()
    }
}

fn unit(rng: &mut Rng, dim: usize) -> Vec<f64> {
    let v: Vec<f64> = (0..dim).map(|_| rng.gauss()).collect();
    let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    v.into_iter().map(|x| x / n).collect()
}

fn pair_scores(truth: &[usize], got: &[String]) -> (f64, f64) {
    let (mut tp, mut fp, mut fneg) = (0f64, 0f64, 0f64);
    for i in 0..truth.len() {
        for j in i + 1..truth.len() {
            match (truth[i] == truth[j], got[i] == got[j]) {
                (true, true) => tp += 1.0,
                (false, true) => fp += 1.0,
                (true, false) => fneg += 1.0,
                _ => {}
            }
        }
    }
    (tp / (tp + fp).max(1.0), tp / (tp + fneg).max(1.0))
}

#[test]
fn clustering_recovers_synthetic_identities_with_high_precision_and_recall() {
    let s = Server::start(Opts::default());
    let c = s.imm();
    c.dataset(P, D);
    let (identities, per, dim, noise) = (30usize, 8usize, 128usize, 0.8f64);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let centroids: Vec<Vec<f64>> = (0..identities).map(|_| unit(&mut rng, dim)).collect();
    let sigma = noise / (dim as f64).sqrt();
    let mut truth = Vec::new();
    let mut faces = Vec::new();
    for round in 0..per {
        for (id, cen) in centroids.iter().enumerate() {
            let e: Vec<f64> = cen.iter().map(|x| x + sigma * rng.gauss()).collect();
            let uri = format!("oss://b/{id}-{round}.jpg");
            ingest(
                &s,
                &uri,
                json!([{"FigureId": "f", "Embedding": e, "Age": 20 + id, "FaceQuality": 0.5}]),
            );
            truth.push(id);
            faces.push(uri);
        }
        if round == per / 2 - 1 {
            // Half the faces first: the second half must join the clusters already formed.
            c.cluster(P, D);
        }
    }
    let before = c
        .call(
            "QueryFigureClusters",
            &[
                ("ProjectName", P.into()),
                ("DatasetName", D.into()),
                ("WithTotalCount", "true".into()),
            ],
        )
        .expect_ok()["TotalCount"]
        .as_u64()
        .expect("total");
    c.cluster(P, D);
    let got: Vec<String> = faces.iter().map(|u| c.cluster_of(P, D, u, "f")).collect();
    assert!(
        got.iter().all(|g| g.starts_with("Cluster-")),
        "every face is clustered"
    );
    let (precision, recall) = pair_scores(&truth, &got);
    let clusters = got.iter().collect::<std::collections::HashSet<_>>().len();
    println!(
        "clustering quality: {identities} identities x {per} faces, dim {dim}, noise {noise}: {clusters} clusters (before the second run {before}), pairwise precision {precision:.4}, recall {recall:.4}"
    );
    assert!(precision >= 0.98, "precision {precision}");
    assert!(recall >= 0.95, "recall {recall}");
    assert!(
        clusters as u64 <= before + 2,
        "the second run joined existing clusters instead of making new ones"
    );
}

#[test]
fn a_replayed_nonce_an_old_date_and_a_tampered_query_are_refused() {
    let s = Server::start(Opts::default());
    let c = s.imm();
    let t = Tweak {
        nonce: Some("fixed-nonce-1".into()),
        ..Tweak::default()
    };
    assert_eq!(
        c.try_call("ListProjects", &[], &t).expect("first").status,
        200
    );
    c.try_call("ListProjects", &[], &t)
        .expect("second")
        .expect(400, "SignatureNonceUsed");
    c.try_call(
        "ListProjects",
        &[],
        &Tweak {
            date_offset_secs: -901,
            ..Tweak::default()
        },
    )
    .expect("old")
    .expect(400, "InvalidTimeStamp.Expired");
    c.try_call(
        "ListProjects",
        &[],
        &Tweak {
            date_offset_secs: 600,
            ..Tweak::default()
        },
    )
    .expect("skew ok")
    .expect_ok();
    let r = c
        .try_call(
            "ListProjects",
            &[("Prefix", "a".into())],
            &Tweak {
                tamper_query: Some("&MaxResults=1".into()),
                ..Tweak::default()
            },
        )
        .expect("tampered");
    r.expect(400, "SignatureDoesNotMatch");
    assert!(r.body["Message"]
        .as_str()
        .expect("msg")
        .contains("server string to sign is:ACS3-HMAC-SHA256\n"));
    assert!(r.body["RequestId"]
        .as_str()
        .expect("id")
        .chars()
        .all(|c| !c.is_ascii_lowercase()));
    assert_eq!(r.body["HostId"], s.host());
    let (code, _) = admin_post(&s.base, "/_cloudtwin/imm/faces", None, &json!({}));
    assert_eq!(code, 401);
}

#[test]
fn unknown_action_wrong_version_and_missing_parameters() {
    let s = Server::start(Opts::default());
    let c = s.imm();
    c.call("NoSuchApi", &[])
        .expect(404, "InvalidAction.NotFound");
    c.call("GetProject", &[]).expect(400, "MissingProjectName");
    c.call("GetProject", &[("ProjectName", "p".into())])
        .expect(404, "ResourceNotFound");
    c.call(
        "GetProject",
        &[("ProjectName", "p".into()), ("RegionId", "mars-1".into())],
    )
    .expect(400, "InvalidRegionId");
}

#[test]
fn a_clustering_task_interrupted_by_kill_9_finishes_after_the_restart() {
    // The task may not finish for 8 s, so it is still running after the restart (well under a
    // second, even on a loaded machine); the resumed runner then finishes it on its own.
    let s = Server::start(Opts {
        imm_task_ms: 8_000,
        ..Opts::default()
    });
    let c = s.imm();
    c.dataset(P, D);
    ingest(
        &s,
        "oss://b/1.jpg",
        json!([{"FigureId": "a", "IdentityHint": "ann"}]),
    );
    ingest(
        &s,
        "oss://b/2.jpg",
        json!([{"FigureId": "b", "IdentityHint": "ann"}]),
    );
    let t = c
        .call(
            "CreateFigureClusteringTask",
            &[("ProjectName", P.into()), ("DatasetName", D.into())],
        )
        .expect_ok();
    let id = t["TaskId"].as_str().expect("id").to_string();
    let mut s = s;
    s.kill9();
    let s = s.restart();
    let c = s.imm();
    let get = || {
        c.call(
            "GetTask",
            &[
                ("ProjectName", P.into()),
                ("TaskId", id.clone()),
                ("TaskType", "FaceClustering".into()),
            ],
        )
        .expect_ok()
    };
    assert_eq!(
        get()["Status"],
        "Running",
        "an acknowledged task survives the crash"
    );
    let status = poll_until("the resumed task ends", || {
        let status = get()["Status"].clone();
        (status != "Running").then_some(status)
    });
    assert_eq!(status, "Succeeded");
    assert_eq!(
        c.cluster_of(P, D, "oss://b/1.jpg", "a"),
        c.cluster_of(P, D, "oss://b/2.jpg", "b")
    );
}

fn setup_clusters(s: &Server, n: usize) -> Vec<String> {
    let c = s.imm();
    c.dataset(P, D);
    for i in 0..n {
        ingest(
            s,
            &format!("oss://b/{i}.jpg"),
            json!([{"FigureId": "f", "IdentityHint": format!("who-{i}")}]),
        );
    }
    c.cluster(P, D);
    (0..n)
        .map(|i| c.cluster_of(P, D, &format!("oss://b/{i}.jpg"), "f"))
        .collect()
}

fn update(
    c: &common::imm::ImmClient,
    id: &str,
    name: &str,
    lock: Option<i64>,
) -> Result<common::imm::Reply, String> {
    let mut fc = json!({"ObjectId": id, "Name": name});
    if let Some(v) = lock {
        fc["MetaLockVersion"] = json!(v);
    }
    c.try_call(
        "UpdateFigureCluster",
        &[
            ("ProjectName", P.into()),
            ("DatasetName", D.into()),
            ("FigureCluster", fc.to_string()),
        ],
        &Tweak::default(),
    )
}

fn get_cluster(c: &common::imm::ImmClient, id: &str) -> Value {
    c.call(
        "GetFigureCluster",
        &[
            ("ProjectName", P.into()),
            ("DatasetName", D.into()),
            ("ObjectId", id.into()),
        ],
    )
    .expect_ok()["FigureCluster"]
        .clone()
}

#[test]
fn concurrent_updates_with_one_meta_lock_version_let_exactly_one_win() {
    let s = Server::start(Opts::default());
    let id = setup_clusters(&s, 1).remove(0);
    let c = s.imm();
    let barrier = Arc::new(Barrier::new(16));
    let handles: Vec<_> = (0..16)
        .map(|i| {
            let (c, id, b) = (c.clone(), id.clone(), barrier.clone());
            std::thread::spawn(move || {
                b.wait();
                update(&c, &id, &format!("n{i}"), Some(0))
                    .expect("transport")
                    .status
            })
        })
        .collect();
    let statuses: Vec<u16> = handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(statuses.iter().all(|s| *s == 200 || *s == 400));
    assert_eq!(get_cluster(&c, &id)["MetaLockVersion"], 1);
}

#[test]
fn acknowledged_cluster_updates_survive_kill_9_with_a_consistent_meta_lock_version() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let mut server = Server::start_at(tmp.path(), &data, &Opts::default());
    let ids = setup_clusters(&server, 4);
    // Per cluster: (acknowledged MetaLockVersion after the update, the name it set).
    let acked: Arc<Mutex<HashMap<String, (i64, String)>>> = Arc::new(Mutex::new(
        ids.iter()
            .map(|i| (i.clone(), (0, String::new())))
            .collect(),
    ));
    let mut acknowledged = 0usize;
    for round in 0..10 {
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = ids
            .iter()
            .cloned()
            .map(|id| {
                let (c, acked, stop) = (server.imm(), acked.clone(), stop.clone());
                std::thread::spawn(move || {
                    let mut n = 0usize;
                    let mut k = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let version = acked.lock().expect("lock")[&id].0;
                        let name = format!("r{round}-{k}");
                        k += 1;
                        match update(&c, &id, &name, Some(version)) {
                            Ok(r) if r.status == 200 => {
                                acked
                                    .lock()
                                    .expect("lock")
                                    .insert(id.clone(), (version + 1, name));
                                n += 1;
                            }
                            Ok(r) => panic!("unexpected answer {}", r.body),
                            Err(_) => return n,
                        }
                    }
                    n
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(100 + (round as u64 * 37) % 300));
        server.kill9();
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            acknowledged += w.join().expect("writer");
        }
        server = server.restart();
        let c = server.imm();
        for id in &ids {
            let (version, name) = acked.lock().expect("lock")[id].clone();
            let got = get_cluster(&c, id);
            let v = got["MetaLockVersion"].as_i64().expect("version");
            // Every acknowledged update is there; at most one more landed unacknowledged.
            assert!(
                v == version || v == version + 1,
                "round {round}: {id} acknowledged v{version}, found v{v}"
            );
            if v == version {
                assert_eq!(
                    got["Name"],
                    json!(name),
                    "round {round}: the acknowledged name"
                );
            }
            acked.lock().expect("lock").insert(
                id.clone(),
                (v, got["Name"].as_str().unwrap_or("").to_string()),
            );
        }
    }
    println!(
        "cluster-update crash test: {acknowledged} acknowledged updates over 10 kill -9 rounds"
    );
    assert!(
        acknowledged > 40,
        "too few updates to prove anything: {acknowledged}"
    );
}

/// RPC HMAC-SHA1 signing of `params` with account 1's AccessKey and a fresh nonce.
fn rpc_signed(method: &str, params: &[(&str, &str)]) -> Vec<(String, String)> {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    common::imm::rpc_signed(method, params, AK_ID_1, AK_SECRET_1, Some(&nonce))
}

fn form(all: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(all)
        .finish()
}

#[test]
fn rpc_signatures_over_get_and_a_form_post_are_accepted_and_regions_come_from_region_id() {
    let s = Server::start(Opts::default());
    let get = rpc_signed(
        "GET",
        &[
            ("Action", "CreateProject"),
            ("ProjectName", "viaget"),
            ("RegionId", "cn-shanghai"),
        ],
    );
    let r = ureq::get(&format!("{}/?{}", s.base, form(&get)))
        .call()
        .expect("get");
    assert_eq!(r.status(), 200);
    let post = rpc_signed(
        "POST",
        &[
            ("Action", "GetProject"),
            ("ProjectName", "viaget"),
            ("RegionId", "cn-shanghai"),
        ],
    );
    let r = ureq::post(&format!("{}/", s.base))
        .set("Content-Type", "application/x-www-form-urlencoded")
        .send_string(&form(&post))
        .expect("form post");
    let body: Value = r.into_json().expect("json");
    assert_eq!(body["Project"]["ProjectName"], "viaget");
    // Projects are per region: the default region (cn-hangzhou) does not have it.
    s.imm()
        .call("GetProject", &[("ProjectName", "viaget".into())])
        .expect(404, "ResourceNotFound");
    let mut bad = rpc_signed("GET", &[("Action", "ListProjects")]);
    bad.retain(|(k, _)| k != "SignatureMethod");
    bad.push(("SignatureMethod".into(), "HMAC-MD5".into()));
    match ureq::get(&format!("{}/?{}", s.base, form(&bad))).call() {
        Err(ureq::Error::Status(400, r)) => {
            let v: Value = r.into_json().expect("json");
            assert_eq!(v["Code"], "InvalidSignatureMethod");
        }
        other => panic!("expected 400, got {:?}", other.map(|r| r.status())),
    }
}

#[test]
fn query_by_index_and_query_by_scan_agree_for_every_sort_and_order() {
    let s = Server::start(Opts::default());
    let c = s.imm();
    c.dataset(P, D);
    for i in 0..17 {
        for k in 0..(1 + i % 3) {
            let uri = if k == 2 {
                format!("oss://b/{i}-{k}.mp4")
            } else {
                format!("oss://b/{i}-{k}.jpg")
            };
            ingest(
                &s,
                &uri,
                json!([{"FigureId": "f", "IdentityHint": format!("p{i}"), "Gender": if i % 2 == 0 { "male" } else { "female" }}]),
            );
        }
    }
    c.cluster(P, D);
    let ids: Vec<String> = (0..17)
        .map(|i| c.cluster_of(P, D, &format!("oss://b/{i}-0.jpg"), "f"))
        .collect();
    for (i, id) in ids.iter().enumerate() {
        // Every cluster gets the label all=1 (the filter that forces the scan) and a name.
        let fc = json!({"ObjectId": id, "Name": format!("n{}", (i * 7) % 17), "CustomLabels": {"all": "1"}});
        c.call(
            "UpdateFigureCluster",
            &[
                ("ProjectName", P.into()),
                ("DatasetName", D.into()),
                ("FigureCluster", fc.to_string()),
            ],
        )
        .expect_ok();
    }
    let page_all = |extra: &[(&str, String)]| -> (Vec<String>, u64) {
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let mut params: Vec<(&str, String)> = vec![
                ("ProjectName", P.into()),
                ("DatasetName", D.into()),
                ("MaxResults", "4".into()),
                ("WithTotalCount", "true".into()),
            ];
            params.extend(extra.iter().cloned());
            if !token.is_empty() {
                params.push(("NextToken", token.clone()));
            }
            let r = c.call("QueryFigureClusters", &params).expect_ok();
            let total = r["TotalCount"].as_u64().expect("total");
            out.extend(
                r["FigureClusters"]
                    .as_array()
                    .expect("list")
                    .iter()
                    .map(|x| x["ObjectId"].as_str().expect("id").to_string()),
            );
            token = r["NextToken"].as_str().unwrap_or("").to_string();
            if token.is_empty() {
                return (out, total);
            }
        }
    };
    for sort in [
        "",
        "ImageCount",
        "VideoCount",
        "FaceCount",
        "CreateTime",
        "UpdateTime",
        "Gender",
        "Name",
        "ProjectName",
        "DatasetName",
    ] {
        for order in ["asc", "desc"] {
            let base = vec![("Sort", sort.to_string()), ("Order", order.to_string())];
            let (by_index, t1) = page_all(&base);
            let mut with_filter = base.clone();
            with_filter.push(("CustomLabels", "all=1".to_string()));
            let (by_scan, t2) = page_all(&with_filter);
            assert_eq!((t1, t2), (17, 17), "{sort} {order}");
            assert_eq!(by_index, by_scan, "{sort} {order}");
        }
    }
    // The count and the index follow deletions.
    c.call(
        "BatchDeleteFileMeta",
        &[
            ("ProjectName", P.into()),
            ("DatasetName", D.into()),
            (
                "URIs",
                json!(["oss://b/0-0.jpg", "oss://b/1-0.jpg", "oss://b/1-1.jpg"]).to_string(),
            ),
        ],
    )
    .expect_ok();
    let (left, total) = page_all(&[("Sort", "ImageCount".to_string())]);
    assert_eq!((left.len(), total), (15, 15));
    assert!(!left.contains(&ids[0]) && !left.contains(&ids[1]));
}

fn simple_query(c: &common::imm::ImmClient, query: Value, extra: &[(&str, String)]) -> Value {
    let mut params = vec![
        ("ProjectName", P.to_string()),
        ("DatasetName", D.to_string()),
        ("Query", query.to_string()),
    ];
    params.extend(extra.iter().cloned());
    c.call("SimpleQuery", &params).expect_ok()
}

#[test]
fn simple_query_by_figure_cluster_id_pages_the_files_of_a_cluster() {
    let s = Server::start(Opts::default());
    let c = s.imm();
    c.dataset(P, D);
    for i in 0..5 {
        ingest(
            &s,
            &format!("oss://b/same-{i}.jpg"),
            json!([{"FigureId": format!("a{i}"), "IdentityHint": "same"}]),
        );
    }
    ingest(
        &s,
        "oss://b/other.jpg",
        json!([{"FigureId": "o", "IdentityHint": "other"}]),
    );
    c.cluster(P, D);
    let id = c.cluster_of(P, D, "oss://b/same-0.jpg", "a0");
    let q = json!({"Field": "FigureClusterId", "Operation": "eq", "Value": id});

    let first = simple_query(&c, q.clone(), &[("MaxResults", "3".into())]);
    assert_eq!(first["TotalHits"], 5);
    let uris = |v: &Value| -> Vec<String> {
        v["Files"]
            .as_array()
            .expect("files")
            .iter()
            .map(|f| f["URI"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(
        uris(&first),
        [
            "oss://b/same-0.jpg",
            "oss://b/same-1.jpg",
            "oss://b/same-2.jpg"
        ]
    );
    assert_eq!(first["Files"][0]["Figures"][0]["FigureClusterId"], id);
    let token = first["NextToken"].as_str().expect("token").to_string();
    assert!(!token.is_empty());
    let second = simple_query(
        &c,
        q.clone(),
        &[("MaxResults", "3".into()), ("NextToken", token)],
    );
    assert_eq!(uris(&second), ["oss://b/same-3.jpg", "oss://b/same-4.jpg"]);
    assert_eq!(second["NextToken"], "");
    let quiet = simple_query(&c, q, &[("WithoutTotalHits", "true".into())]);
    assert!(quiet.get("TotalHits").is_none());
    assert_eq!(uris(&quiet).len(), 5);

    // Any other query is refused as such; an unknown cluster is not found.
    let r = c
        .try_call(
            "SimpleQuery",
            &[
                ("ProjectName", P.into()),
                ("DatasetName", D.into()),
                (
                    "Query",
                    json!({"Field": "Size", "Operation": "gt", "Value": "1"}).to_string(),
                ),
            ],
            &Tweak::default(),
        )
        .expect("answer");
    r.expect(400, "InvalidArgument");
    let r = c
        .try_call(
            "SimpleQuery",
            &[
                ("ProjectName", P.into()),
                ("DatasetName", D.into()),
                (
                    "Query",
                    json!({"Field": "FigureClusterId", "Operation": "eq", "Value": "Cluster-none"})
                        .to_string(),
                ),
            ],
            &Tweak::default(),
        )
        .expect("answer");
    assert!(r.status == 404 || r.status == 400, "status {}", r.status);
    assert!(
        r.code().is_some_and(|c| c.contains("NotFound")),
        "{:?}",
        r.code()
    );
}

/// The clusters of one QueryFigureClusters page (by ImageCount, 100 a page) and of a
/// BatchGetFigureCluster of `ids`, by ObjectId.
fn listed_clusters(c: &common::imm::ImmClient, ids: &[String]) -> (Value, Value) {
    let by_id = |list: &Value| -> Value {
        let mut m = serde_json::Map::new();
        for cl in list.as_array().expect("clusters") {
            m.insert(cl["ObjectId"].as_str().expect("id").to_string(), cl.clone());
        }
        Value::Object(m)
    };
    let q = c
        .call(
            "QueryFigureClusters",
            &[
                ("ProjectName", P.into()),
                ("DatasetName", D.into()),
                ("Sort", "ImageCount".into()),
                ("MaxResults", "100".into()),
            ],
        )
        .expect_ok();
    let b = c
        .call(
            "BatchGetFigureCluster",
            &[
                ("ProjectName", P.into()),
                ("DatasetName", D.into()),
                ("ObjectIds", serde_json::to_string(ids).expect("ids")),
            ],
        )
        .expect_ok();
    (by_id(&q["FigureClusters"]), by_id(&b["FigureClusters"]))
}

#[test]
fn listed_clusters_show_a_change_to_the_cluster_or_its_cover_file_at_once() {
    // Pages and batches are written from decoded clusters and their rendered text kept between
    // requests, and a whole QueryFigureClusters answer is kept while the store is unchanged
    // (kept.rs): a changed cluster, or a changed cover file under an unchanged cluster, must
    // show in the very next answer, as GetFigureCluster (rendered afresh) shows it.
    let s = Server::start(Opts::default());
    let c = s.imm();
    let ids = setup_clusters(&s, 3);
    for _ in 0..2 {
        let (q, b) = listed_clusters(&c, &ids);
        assert_eq!(q, b);
        assert_eq!(q[&ids[0]], get_cluster(&c, &ids[0]));
    }
    update(&c, &ids[0], "renamed", None).expect("update");
    let (q, b) = listed_clusters(&c, &ids);
    assert_eq!(q[&ids[0]]["Name"], "renamed");
    assert_eq!(b[&ids[0]]["Name"], "renamed");
    assert_eq!(q[&ids[0]], get_cluster(&c, &ids[0]));
    // The cover file of the second cluster is updated (UpdateFileMeta: labels, no faces): the
    // cluster is unchanged, and its cover shows the file as it is now (its UpdateTime).
    let before = get_cluster(&c, &ids[1]);
    c.call(
        "UpdateFileMeta",
        &[
            ("ProjectName", P.into()),
            ("DatasetName", D.into()),
            (
                "File",
                json!({"URI": "oss://b/1.jpg", "CustomLabels": {"seen": "yes"}}).to_string(),
            ),
        ],
    )
    .expect_ok();
    let now = get_cluster(&c, &ids[1]);
    assert_ne!(now, before, "the cover file changed");
    let (q, b) = listed_clusters(&c, &ids);
    assert_eq!(q[&ids[1]], now);
    assert_eq!(b[&ids[1]], now);
    assert_eq!(q, b);
}
