//! `hardening`: the figures of the hardening round, side by side in one run.
//!
//! - IndexFileMeta of one file with 5k..80k faces (`imm.max_figures_per_file` raised to
//!   100,000 for the measurement; the default is 1000), with `/_cloudtwin/health` probed every
//!   20 ms meanwhile (the bar: health p99 < 100 ms while it runs); then 1000-face files (the
//!   default bound) back to back, with health and an IMM read probed meanwhile;
//! - the Alibaba nonce cache: ListProjects req/s before and after 100k nonces are held, and
//!   the cost of one admission at 0 and at 1M held nonces, next to the previous algorithm
//!   (rebuilt here for the comparison: a map that is swept on every request once it holds more
//!   than 100k entries).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::load::{blast, drive, once, Build};
use crate::report::Report;
use crate::{config, ok_200, requests, Opts, Server, AK, AK_SECRET};

/// Runs every hardening figure.
pub async fn run(o: &Opts, r: &mut Report) {
    eprintln!("hardening: one file with many faces, health meanwhile, the nonce cache");
    let tmp = std::env::temp_dir().join(format!("cloudtwin-bench-hard-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap_or_default();
    let cfg = config(&tmp, "sync");
    let text = std::fs::read_to_string(&cfg).unwrap_or_default();
    let text = text.replace(
        "task_min_duration_ms = 0\n",
        "task_min_duration_ms = 0\nmax_figures_per_file = 100000\n",
    );
    std::fs::write(&cfg, text).unwrap_or_default();
    let server = Server::start(&cfg);
    let addr = server.addr.clone();
    for (action, params) in [
        ("CreateProject", vec![("ProjectName", "bench")]),
        (
            "CreateDataset",
            vec![("ProjectName", "bench"), ("DatasetName", "faces")],
        ),
    ] {
        let p: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let _ = once(&addr, &requests::aliyun(&addr, AK, AK_SECRET, action, &p)).await;
    }
    for n in [5_000usize, 20_000, 40_000, 80_000] {
        let req = index_file(&addr, &format!("oss://b/crowd-{n}.jpg"), n);
        let done = Arc::new(AtomicBool::new(false));
        let probe = tokio::spawn(health_probe(addr.clone(), done.clone()));
        let t = Instant::now();
        let (status, body) = once(&addr, &req).await.unwrap_or((0, Vec::new()));
        let secs = t.elapsed().as_secs_f64();
        done.store(true, Ordering::Relaxed);
        let lat = probe.await.unwrap_or_default();
        let ok = status == 200;
        if !ok {
            eprintln!(
                "  IndexFileMeta {n} faces answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        r.value(
            &format!(
                "IndexFileMeta, one file of {n} faces ({} KB body){}",
                req.len() / 1024,
                if ok { "" } else { " FAILED" }
            ),
            &format!("index_faces_{n}"),
            secs,
            "s",
        );
        let (p50, p99, max) = summary(&lat);
        r.value(
            &format!(
                "health during it: p50 {p50:.1} ms, max {max:.1} ms ({} probes); p99",
                lat.len()
            ),
            &format!("health_during_index_{n}_p99"),
            p99,
            "ms",
        );
    }

    // At the default bound (1000 faces a file): files indexed back to back for the measuring
    // time, health and an IMM read probed meanwhile.
    let done = Arc::new(AtomicBool::new(false));
    let health = tokio::spawn(health_probe(addr.clone(), done.clone()));
    let read = {
        let (addr, done) = (addr.clone(), done.clone());
        tokio::spawn(async move {
            let mut out = Vec::new();
            while !done.load(Ordering::Relaxed) {
                let req = requests::aliyun(&addr, AK, AK_SECRET, "ListProjects", &[]);
                let t = Instant::now();
                let _ = once(&addr, &req).await;
                out.push(t.elapsed().as_secs_f64() * 1000.0);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            out
        })
    };
    let t = Instant::now();
    let mut files = 0u32;
    while t.elapsed() < Duration::from_secs(o.seconds) {
        let req = index_file(&addr, &format!("oss://b/group-{files}.jpg"), 1000);
        let _ = once(&addr, &req).await;
        files += 1;
    }
    let per_file = t.elapsed().as_secs_f64() / f64::from(files.max(1));
    done.store(true, Ordering::Relaxed);
    let (h, q) = (
        health.await.unwrap_or_default(),
        read.await.unwrap_or_default(),
    );
    r.value(
        &format!("IndexFileMeta of 1000-face files back to back ({files} files), per file"),
        "index_faces_1000",
        per_file,
        "s",
    );
    let (hp50, hp99, _) = summary(&h);
    r.value(
        &format!(
            "health meanwhile: p50 {hp50:.2} ms ({} probes); p99",
            h.len()
        ),
        "health_during_index_1000_p99",
        hp99,
        "ms",
    );
    let (qp50, qp99, _) = summary(&q);
    r.value(
        &format!(
            "ListProjects meanwhile: p50 {qp50:.2} ms ({} probes); p99",
            q.len()
        ),
        "read_during_index_1000_p99",
        qp99,
        "ms",
    );

    // The nonce cache over HTTP: the same load before and after 100k nonces are held.
    let host = addr.clone();
    let list: Build =
        Arc::new(move |_, _| requests::aliyun(&host, AK, AK_SECRET, "ListProjects", &[]));
    let before = drive(
        &addr,
        16,
        Duration::from_secs(1),
        Duration::from_secs(o.seconds),
        list.clone(),
        ok_200(),
    )
    .await;
    r.run(
        "ListProjects, 16 conns, few nonces held",
        "nonce_http_fresh",
        0.0,
        &before,
    );
    let failed = blast(&addr, 16, 100_000, list.clone(), ok_200()).await;
    eprintln!("  sent 100k more signed requests ({failed} failed)");
    let after = drive(
        &addr,
        16,
        Duration::from_secs(1),
        Duration::from_secs(o.seconds),
        list,
        ok_200(),
    )
    .await;
    r.run(
        "ListProjects, 16 conns, over 100k nonces held",
        "nonce_http_100k",
        100_000.0,
        &after,
    );
    server.stop();
    let _ = std::fs::remove_dir_all(&tmp);

    // In process: one admission at 0 and at 1M held nonces, now and with the old sweep.
    let window = 900_000u64;
    let cache = cloudtwin::dialect::aliyun::verify::NonceCache::with_capacity(2_000_000);
    let now = cloudtwin::clock::now_ms();
    let per_op = |from: u64, to: u64, cache: &cloudtwin::dialect::aliyun::verify::NonceCache| {
        let t = Instant::now();
        for i in from..to {
            let _ = cache.admit("LTAIBENCH", &format!("{i:032x}"), now, now, window);
        }
        t.elapsed().as_nanos() as f64 / (to - from) as f64
    };
    let empty = per_op(0, 100_000, &cache);
    per_op(100_000, 1_000_000, &cache);
    let full = per_op(1_000_000, 1_100_000, &cache);
    r.value(
        "nonce admission, 0 held (ns per request)",
        "nonce_admit_0",
        empty,
        "ns",
    );
    r.value(
        "nonce admission, 1M held (ns per request)",
        "nonce_admit_1m",
        full,
        "ns",
    );
    let mut old: HashMap<String, u64> = HashMap::new();
    let old_op = |from: u64, to: u64, seen: &mut HashMap<String, u64>| {
        let t = Instant::now();
        for i in from..to {
            if seen.len() > 100_000 {
                seen.retain(|_, until| *until > now);
            }
            seen.insert(format!("LTAIBENCH\0{i:032x}"), now + window);
        }
        t.elapsed().as_nanos() as f64 / (to - from) as f64
    };
    old_op(0, 100_000, &mut old);
    let old_100k = old_op(100_000, 100_200, &mut old);
    r.value(
        "previous algorithm, 100k held (ns per request)",
        "nonce_admit_old_100k",
        old_100k,
        "ns",
    );
}

/// IndexFileMeta of one file `uri` with `faces` faces (50 identity hints), in a form body.
fn index_file(addr: &str, uri: &str, faces: usize) -> Vec<u8> {
    let figures: Vec<Value> = (0..faces)
        .map(|i| json!({"FigureId": format!("f{i}"), "FigureType": "face", "FigureClusterId": format!("hint-{}", i % 50)}))
        .collect();
    let file = json!({"URI": uri, "Figures": figures});
    requests::aliyun_form(
        addr,
        AK,
        AK_SECRET,
        "IndexFileMeta",
        &[
            ("ProjectName".into(), "bench".into()),
            ("DatasetName".into(), "faces".into()),
            ("File".into(), file.to_string()),
        ],
    )
}

/// Health latencies (ms), one probe every 20 ms on a fresh connection, until `done`.
async fn health_probe(addr: String, done: Arc<AtomicBool>) -> Vec<f64> {
    let req = format!("GET /_cloudtwin/health HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let mut out = Vec::new();
    while !done.load(Ordering::Relaxed) {
        let t = Instant::now();
        let _ = once(&addr, req.as_bytes()).await;
        out.push(t.elapsed().as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    out
}

/// (p50, p99, max) of latencies.
fn summary(lat: &[f64]) -> (f64, f64, f64) {
    let mut v = lat.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let at = |p: f64| {
        if v.is_empty() {
            return f64::NAN;
        }
        v[(((v.len() - 1) as f64) * p).round() as usize]
    };
    (at(0.5), at(0.99), v.last().copied().unwrap_or(f64::NAN))
}
