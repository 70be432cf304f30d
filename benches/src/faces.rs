//! `faces`: clustering faces by embedding (issue #15, bar 1). In process, the pure algorithm
//! ([`cloudtwin::imm::clustering`]): the exact and the indexed run side by side at 10k, 50k
//! and 100k faces (precision and recall of the indexed run against the exact one and against
//! the truth), the indexed run at 1M faces against the truth, and 10k new faces into the
//! clustered million; each with the bench's peak RSS (`VmHWM`, reset before each run through
//! `/proc/self/clear_refs`). Then through the server: CreateFigureClusteringTask over faces
//! imported with embeddings (`--e2e-faces N`, default 100k), and 10k more ingested faces.
//!
//! Faces: 10 a synthetic identity (a random unit centroid), dimension 128, noise 0.8 as in
//! the clustering quality test, round by round (one face of every identity, then the next).
//!
//! `--faces-sizes 10000,50000` sets the side-by-side sizes, `--faces-big N` the big run's size
//! (to see how the cost per face grows without waiting for the million).

use std::time::Instant;

use cloudtwin::imm::clustering::{
    assign_exact, assign_indexed, labels, pair_scores,
    synthetic::{around, centres, Rng},
    Group,
};
use serde_json::{json, Value};

use super::{admin, clustering_task, config, put_state, Opts, Server};
use crate::report::Report;

const DIM: usize = 128;
const NOISE: f32 = 0.8;
const THRESHOLD: f32 = 0.5;
const PER: usize = 10;

/// Peak RSS of this process since the last reset, in MB.
fn peak_mb(pid: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = Instant::now();
    let v = f();
    (v, t.elapsed().as_secs_f64())
}

pub async fn run(o: &Opts, r: &mut Report) {
    tokio::task::block_in_place(|| pure(o, r));
    let args: Vec<String> = std::env::args().collect();
    let n = args
        .iter()
        .position(|a| a == "--e2e-faces")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    if n > 0 {
        end_to_end(r, n).await;
    }
}

/// The value after `flag` on the command line.
fn arg(flag: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == flag)?;
    args.get(i + 1).cloned()
}

fn pure(o: &Opts, r: &mut Report) {
    // `--faces-sizes 10000,50000`: the side-by-side sizes (`--faces-sizes ''` for none);
    // `--faces-big N`: the big run's size (default 1M, 200k with `--quick`).
    let sizes: Vec<usize> = match arg("--faces-sizes") {
        Some(list) => list
            .split(',')
            .filter_map(|v| v.trim().parse().ok())
            .collect(),
        None if o.quick => vec![10_000, 50_000],
        None => vec![10_000, 50_000, 100_000],
    };
    for &n in &sizes {
        let mut rng = Rng::new(n as u64);
        let centroids = centres(&mut rng, n / PER, DIM);
        let (faces, truth) = around(&mut rng, &centroids, PER, NOISE);
        reset_peak();
        // `--no-exact`: the indexed run alone, against the truth (the exact one takes minutes).
        // The exact run only up to 10k faces unless `--exact-all` (50k takes minutes).
        let skip = std::env::args().any(|a| a == "--no-exact")
            || (n > 10_000 && !std::env::args().any(|a| a == "--exact-all"));
        let (exact, te) = if skip {
            (Vec::new(), f64::NAN)
        } else {
            timed(|| {
                let mut g = Vec::new();
                assign_exact(&mut g, &faces, THRESHOLD);
                g
            })
        };
        let (fast, ti) = timed(|| {
            let mut g = Vec::new();
            assign_indexed(&mut g, &faces, THRESHOLD);
            g
        });
        let rss = peak_mb("self");
        let (e, f) = (labels(&exact, n), labels(&fast, n));
        let (p, rc) = pair_scores(&e, &f);
        let (ep, er) = pair_scores(&truth, &e);
        let (tp, tr) = pair_scores(&truth, &f);
        let exact_part = if skip {
            "exact not run".to_string()
        } else {
            format!(
                "exact {te:.1}s {} clusters (vs truth p {ep:.4} r {er:.4})",
                exact.len()
            )
        };
        let vs_exact = if skip {
            String::new()
        } else {
            format!("vs exact p {p:.4} r {rc:.4}, ")
        };
        eprintln!(
            "  {n} faces ({} identities): {exact_part}; indexed {ti:.2}s {} clusters, {vs_exact}vs truth p {tp:.4} r {tr:.4}; peak RSS {rss:.0} MB",
            n / PER,
            fast.len()
        );
        let k = n / 1000;
        if te.is_finite() {
            r.value_at(
                &format!("clustering {k}k faces x {DIM}, exact (in process)"),
                "faces_exact",
                n as f64,
                te,
                "s",
            );
        }
        r.value_at(
            &if te.is_finite() {
                format!("same, indexed: precision {p:.4} recall {rc:.4} vs exact")
            } else {
                format!("clustering {k}k faces x {DIM}, indexed: precision {tp:.4} recall {tr:.4} vs truth (exact not run)")
            },
            "faces_indexed",
            n as f64,
            ti,
            "s",
        );
        if te.is_finite() {
            r.value_at(
                &format!(
                    "{k}k faces: indexed vs exact, the lower of pairwise precision and recall"
                ),
                "faces_quality_vs_exact",
                n as f64,
                p.min(rc),
                "ratio",
            );
        }
    }
    let n = arg("--faces-big")
        .and_then(|v| v.parse().ok())
        .unwrap_or(if o.quick { 200_000 } else { 1_000_000 });
    let mut rng = Rng::new(0x15);
    let centroids = centres(&mut rng, n / PER, DIM);
    let (faces, truth) = around(&mut rng, &centroids, PER, NOISE);
    reset_peak();
    let (groups, t) = timed(|| {
        let mut g = Vec::new();
        assign_indexed(&mut g, &faces, THRESHOLD);
        g
    });
    let rss = peak_mb("self");
    let (p, rc) = pair_scores(&truth, &labels(&groups, n));
    eprintln!(
        "  {n} faces ({} identities): indexed {t:.1}s, {} clusters, vs truth p {p:.4} r {rc:.4}; peak RSS {rss:.0} MB (the faces themselves included)",
        n / PER,
        groups.len()
    );
    let m = n / 1000;
    r.value_at(
        &format!(
            "clustering {m}k faces x {DIM}, indexed: precision {p:.4} recall {rc:.4} vs truth"
        ),
        "faces_indexed",
        n as f64,
        t,
        "s",
    );
    r.value_at(
        &format!("{m}k faces: indexed vs truth, the lower of pairwise precision and recall"),
        "faces_quality_vs_truth",
        n as f64,
        p.min(rc),
        "ratio",
    );
    r.value_at(
        &format!("peak RSS clustering {m}k faces (in process, faces included)"),
        "faces_rss",
        n as f64,
        rss,
        "MB",
    );
    // 10k new faces, one more of each of 10k identities, into the clustered run.
    let mut stored: Vec<Group> = groups
        .iter()
        .enumerate()
        .map(|(g, grp)| Group::stored(format!("c{g}"), grp.centroid.clone(), grp.weight))
        .collect();
    let old = labels(&groups, n);
    drop(groups);
    let (more, more_truth) = around(&mut rng, &centroids[..(n / PER).min(10_000)], 1, NOISE);
    let (_, t) = timed(|| assign_indexed(&mut stored, &more, THRESHOLD));
    // A new face counts as right when it joined the cluster holding most of its identity.
    let mut home = vec![usize::MAX; n / PER];
    for (i, &id) in truth.iter().enumerate().take(n / PER) {
        home[id] = old[i];
    }
    let mut right = 0;
    for grp in &stored {
        let Some(id) = &grp.existing else { continue };
        let g: usize = id[1..].parse().unwrap_or(usize::MAX);
        right += grp
            .faces
            .iter()
            .filter(|&&i| home[more_truth[i]] == g)
            .count();
    }
    eprintln!(
        "  10k new faces into {n}: {t:.2}s, {right} of 10000 joined their identity's cluster"
    );
    r.value_at(
        &format!("10k new faces into {m}k clustered (in process): {right} of 10000 right"),
        "faces_incremental",
        n as f64,
        t,
        "s",
    );
}

/// A file of dataset `emb` with one face.
fn file(i: usize, e: &[f32]) -> Value {
    let e: Vec<f64> = e.iter().map(|x| (*x as f64 * 1e4).round() / 1e4).collect();
    json!({"AccountId": "100000000001", "Region": "cn-hangzhou", "ProjectName": "bench", "DatasetName": "emb",
        "URI": format!("oss://b/emb/{i}.jpg"), "Figures": [{"FigureId": "f", "Embedding": e}]})
}

/// The cluster of every face of dataset `emb`, by file number, from an export.
async fn clusters_of(addr: &str, n: usize) -> Vec<usize> {
    let (_, body) = admin(addr, "GET", "/_cloudtwin/state", &Value::Null).await;
    let doc: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut ids = std::collections::HashMap::new();
    let mut out = vec![usize::MAX; n];
    for f in doc["imm"]["Files"].as_array().into_iter().flatten() {
        let uri = f["URI"].as_str().unwrap_or_default();
        let Some(i) = uri
            .strip_prefix("oss://b/emb/")
            .and_then(|s| s.strip_suffix(".jpg"))
            .and_then(|s| s.parse::<usize>().ok())
        else {
            continue;
        };
        let c = f["Figures"][0]["FigureClusterId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let next = ids.len();
        if i < n {
            out[i] = *ids.entry(c).or_insert(next);
        }
    }
    out
}

async fn end_to_end(r: &mut Report, n: usize) {
    let tmp = std::env::temp_dir().join(format!("cloudtwin-bench-faces-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap_or_default();
    let cfg = config(&tmp, "sync");
    let mut server = Server::start(&cfg);
    let mut rng = Rng::new(0xE2E);
    let centroids = centres(&mut rng, n / PER, DIM);
    let (faces, truth) = around(&mut rng, &centroids, PER, NOISE);
    let files: Vec<Value> = faces.iter().enumerate().map(|(i, e)| file(i, e)).collect();
    let doc = json!({"format": "cloudtwin-state", "version": 1, "imm": {
        "Projects": [{"AccountId": "100000000001", "Region": "cn-hangzhou", "ProjectName": "bench"}],
        "Datasets": [{"AccountId": "100000000001", "Region": "cn-hangzhou", "ProjectName": "bench", "DatasetName": "emb"}],
        "Files": files}});
    drop(faces);
    let t = Instant::now();
    let (code, body) = put_state(&server.addr, &doc).await;
    eprintln!(
        "  imported {n} embedded faces in {:.1}s: {code} {}",
        t.elapsed().as_secs_f64(),
        String::from_utf8_lossy(&body[..body.len().min(200)])
    );
    drop(doc);
    // Measure on a fresh start, not while sled still writes back the import.
    server.stop();
    server = Server::start(&cfg);
    let pid = server.child.id().to_string();
    let secs = clustering_task(&server.addr, "emb").await;
    let rss = peak_mb(&pid);
    let got = clusters_of(&server.addr, n).await;
    let (p, rc) = pair_scores(&truth, &got);
    eprintln!(
        "  CreateFigureClusteringTask over {n} faces: {secs:.1}s, vs truth p {p:.4} r {rc:.4}, server peak RSS {rss:.0} MB"
    );
    let k = n / 1000;
    r.value_at(
        &format!("CreateFigureClusteringTask, {k}k faces x {DIM}: precision {p:.4} recall {rc:.4} vs truth"),
        "clustering",
        n as f64,
        secs,
        "s",
    );
    r.value_at(
        &format!("server peak RSS, clustering {k}k faces"),
        "faces_task_rss",
        n as f64,
        rss,
        "MB",
    );
    // 10k more faces (one more of 10k identities, or of all when fewer) through admin ingestion.
    let add = (n / PER).min(10_000);
    let (more, _) = around(&mut rng, &centroids[..add], 1, NOISE);
    let t = Instant::now();
    for (j, e) in more.iter().enumerate() {
        let body = json!({"AccountId": "100000000001", "ProjectName": "bench", "DatasetName": "emb",
            "File": {"URI": format!("oss://b/emb/{}.jpg", n + j), "Figures": [{"FigureId": "f", "Embedding": e}]}});
        admin(&server.addr, "POST", "/_cloudtwin/imm/faces", &body).await;
    }
    eprintln!(
        "  ingested {add} more faces in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    let secs = clustering_task(&server.addr, "emb").await;
    let got = clusters_of(&server.addr, n + add).await;
    let right = (0..add).filter(|&j| got[n + j] == got[j]).count();
    eprintln!("  CreateFigureClusteringTask, {add} new faces into {n}: {secs:.2}s, {right} of {add} joined their identity's cluster");
    r.value_at(
        &format!("CreateFigureClusteringTask, {add} new faces into {k}k: {right} of {add} right"),
        "faces_task_incremental",
        n as f64,
        secs,
        "s",
    );
    server.stop();
    let _ = std::fs::remove_dir_all(&tmp);
}
