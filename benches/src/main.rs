//! `cargo run --release -p cloudtwin-bench -- all`: benchmarks of the real release binary over
//! loopback, with signature checks on and rate limits off, side by side with moto.
//!
//! Prints one table, writes `benches/results/latest.json` and `benches/results/latest.png`.
//! Scenarios: `cvm`, `imm`, `ceiling`, `reset`, `conns`, `hardening`, `moto`, or `all`
//! (`postgres` and `imm-scale` run only when named: see docs/benchmarks.md);
//! `--quick` stops at 100k images;
//! `--seconds N` sets the measuring time per figure (default 5); `--out DIR` writes the JSON and
//! the chart there instead of `benches/results/`.

mod access;
mod faces;
mod hardening;
mod imm_scale;
mod load;
mod pairs;
mod postgres;
mod report;
mod requests;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use load::{blast, drive, once, Build, Check};
use report::Report;

const ID: &str = "AKIDBENCH0000000000000000000000000001";
const KEY: &str = "benchSecretKey0000000000000000001";
const AK: &str = "LTAIBENCH00000000000001";
const AK_SECRET: &str = "benchAccessKeySecret000000000001";
const REGION: &str = "ap-guangzhou";
/// Interleaved (ceiling, figure) pairs per ratio bar.
const PAIRS: usize = 3;

struct Opts {
    seconds: u64,
    quick: bool,
    out: PathBuf,
}

fn bin() -> PathBuf {
    let me = std::env::current_exe().unwrap_or_default();
    me.parent()
        .map(|d| d.join("cloudtwin"))
        .unwrap_or_else(|| PathBuf::from("target/release/cloudtwin"))
}

fn config(dir: &Path, durability: &str) -> PathBuf {
    let path = dir.join("bench.toml");
    let text = format!(
        r#"listen = "127.0.0.1:0"
data_dir = "{}"
admin_token = "bench"
durability = "{durability}"
cache_mb = {cache_mb}
[[accounts]]
id = "100000000001"
name = "bench"
[accounts.tencent]
app_id = 1300000001
secret_id = "{ID}"
secret_key = "{KEY}"
[accounts.aliyun]
access_key_id = "{AK}"
access_key_secret = "{AK_SECRET}"
[cvm]
image_ready_after_ms = 0
image_quota = 100000000
[imm]
task_min_duration_ms = 0
[rate_limit]
enabled = false
"#,
        dir.join("data").display(),
        cache_mb = bench_cache_mb(),
    );
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    path
}

/// The servers' sled cache in MiB: 128 (the default of `cache_mb`), or
/// `CLOUDTWIN_BENCH_CACHE_MB` to see what a larger cache changes.
fn bench_cache_mb() -> u64 {
    std::env::var("CLOUDTWIN_BENCH_CACHE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(128)
}

struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(cfg: &Path) -> Server {
        Self::start_limited(cfg, None)
    }

    /// Starts the server, under an open-file limit (soft and hard, set by the shell) if given.
    fn start_limited(cfg: &Path, nofile: Option<u32>) -> Server {
        let mut command = match nofile {
            None => Command::new(bin()),
            Some(n) => {
                let mut c = Command::new("sh");
                c.arg("-c")
                    .arg(format!("ulimit -n {n} && exec \"$0\" \"$@\""))
                    .arg(bin());
                c
            }
        };
        let mut child = command
            .args(["serve", "--config"])
            .arg(cfg)
            // CLOUDTWIN_BENCH_LOG sets the server's log filter (a profile's phases at debug).
            .env(
                "CLOUDTWIN_LOG",
                std::env::var("CLOUDTWIN_BENCH_LOG").unwrap_or_else(|_| "warn".to_string()),
            )
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {}: {e} (build it with cargo build --release)",
                    bin().display()
                )
            });
        let mut line = String::new();
        let out = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        BufReader::new(out).read_line(&mut line).unwrap_or_default();
        let addr = line
            .trim()
            .trim_start_matches("cloudtwin listening on http://")
            .to_string();
        Server { child, addr }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }

    fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(0.0)
    }
}

/// Sockets the server process has open (its connections, the listener, the signal pipe).
fn sockets(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.flatten()
                .filter(|e| {
                    std::fs::read_link(e.path())
                        .map(|t| t.to_string_lossy().starts_with("socket:"))
                        .unwrap_or(false)
                })
                .count()
        })
        .unwrap_or(0)
}

fn dir_mb(p: &Path) -> f64 {
    fn walk(p: &Path) -> u64 {
        std::fs::read_dir(p)
            .map(|rd| {
                rd.flatten()
                    .map(|e| match e.metadata() {
                        Ok(m) if m.is_dir() => walk(&e.path()),
                        Ok(m) => m.len(),
                        Err(_) => 0,
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    walk(p) as f64 / 1_048_576.0
}

/// One measurement: `conns` connections, 1 s of warm-up, then `seconds`; a good answer is
/// HTTP 200 without a Tencent `"Error":` body.
async fn measure(addr: &str, conns: usize, seconds: u64, build: Build) -> load::Run {
    drive(
        addr,
        conns,
        Duration::from_secs(1),
        Duration::from_secs(seconds),
        build,
        ok_200(),
    )
    .await
}

/// A 200 answer that is not an error envelope. The search is memchr's SIMD one: a byte-window
/// scan of every 16 KB page cost the load client a fifth of its CPU, taken from the server it
/// shares the two cores with.
fn ok_200() -> Check {
    let error = memchr::memmem::Finder::new(b"\"Error\":").into_owned();
    Arc::new(move |status, body| status == 200 && error.find(body).is_none())
}

fn describe_build(host: String) -> Build {
    signed_each_second(move || {
        requests::tencent(
            &host,
            ID,
            KEY,
            "DescribeImages",
            REGION,
            r#"{"Filters":[{"Name":"image-type","Values":["PRIVATE_IMAGE"]}],"Limit":20}"#,
        )
    })
}

/// A load of one fixed request, signed once a second and sent again within that second (TC3
/// has no nonce; the server verifies every copy's signature as it verifies every request), as
/// a load tool sends one prepared request: signing each copy cost the load client about a
/// third of its CPU, taken from the server it shares the two cores with.
fn signed_each_second(sign: impl Fn() -> Vec<u8> + Send + Sync + 'static) -> Build {
    let signed: Mutex<(u64, Arc<Vec<u8>>)> = Mutex::new((u64::MAX, Arc::new(Vec::new())));
    Arc::new(move |_, _| {
        let second = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut held = signed.lock().unwrap_or_else(|p| p.into_inner());
        if held.0 != second {
            *held = (second, Arc::new(sign()));
        }
        held.1.as_ref().clone()
    })
}

async fn load_images(addr: &str, from: u64, to: u64) {
    let host = addr.to_string();
    let build: Build = Arc::new(move |_, i| {
        let body = format!(
            r#"{{"ImageName":"bench-{}","InstanceId":"ins-abcdefgh"}}"#,
            from + i
        );
        requests::tencent(&host, ID, KEY, "CreateImage", REGION, &body)
    });
    let t = Instant::now();
    let failed = blast(addr, 64, to - from, build, ok_200()).await;
    eprintln!(
        "  loaded images {from}..{to} in {:.1}s ({failed} failed)",
        t.elapsed().as_secs_f64()
    );
}

/// Ids of up to `n` of the account's own images (one DescribeImages).
async fn private_image_ids(addr: &str, n: usize) -> Vec<String> {
    let body = format!(
        r#"{{"Filters":[{{"Name":"image-type","Values":["PRIVATE_IMAGE"]}}],"Limit":{n}}}"#
    );
    let listing = once(
        addr,
        &requests::tencent(addr, ID, KEY, "DescribeImages", REGION, &body),
    )
    .await
    .map(|(_, b)| b)
    .unwrap_or_default();
    let v: Value = serde_json::from_slice(&listing).unwrap_or(Value::Null);
    v["Response"]["ImageSet"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["ImageId"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Starts the server and measures the time from spawning it to its first answered API request.
async fn start_timed(cfg: &Path) -> (Server, f64) {
    let t = Instant::now();
    let server = Server::start(cfg);
    let probe = requests::tencent(
        &server.addr,
        ID,
        KEY,
        "DescribeImages",
        REGION,
        r#"{"Limit":1}"#,
    );
    while t.elapsed() < Duration::from_secs(120) {
        if let Ok((200, _)) = once(&server.addr, &probe).await {
            return (server, t.elapsed().as_secs_f64());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    (server, f64::NAN)
}

async fn cvm(o: &Opts, r: &mut Report) {
    let tmp = std::env::temp_dir().join(format!("cloudtwin-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap_or_default();
    // Load with interval durability (reads do not care); measure each size on a server started
    // afresh after a clean stop (so no size is measured while sled still writes back the load).
    let interval = config(&tmp, "interval");
    let mut server = Server::start(&interval);
    let sizes: &[u64] = if o.quick {
        &[1_000, 10_000, 100_000]
    } else {
        &[1_000, 10_000, 100_000, 1_000_000]
    };
    let mut have = 0;
    for &n in sizes {
        load_images(&server.addr, have, n).await;
        have = n;
        server.stop();
        let (s, first) = start_timed(&interval).await;
        server = s;
        r.value(
            &format!("start to first answered request, {n} images, after a clean stop"),
            "startup",
            first,
            "s",
        );
        let run = measure(
            &server.addr,
            16,
            o.seconds,
            describe_build(server.addr.clone()),
        )
        .await;
        r.run(
            &format!("DescribeImages, {n} images, 16 conns"),
            "describe",
            n as f64,
            &run,
        );
    }
    // The request path against the trivial axum handler, interleaved, at the largest size.
    let axum = trivial_axum().await;
    let p = pairs::interleaved(
        PAIRS,
        || async { axum_run(&axum, o.seconds).await.rps },
        || {
            measure(
                &server.addr,
                16,
                o.seconds,
                describe_build(server.addr.clone()),
            )
        },
    )
    .await;
    r.pairs(
        &format!("DescribeImages, {have} images, 16 conns"),
        "describe_pair",
        have as f64,
        "trivial axum handler, 16 conns",
        "axum_pair",
        "describe_axum_ratio",
        &p,
    );
    // The worst case: kill -9, so the next start replays sled's log.
    server.kill9();
    let (server, first) = start_timed(&config(&tmp, "sync")).await;
    r.value(
        &format!("start to first answered request, {have} images, after kill -9"),
        "startup_kill9",
        first,
        "s",
    );
    // Writes: each connection renames its own image, durably.
    let ids = private_image_ids(&server.addr, 64).await;
    let ids = Arc::new(ids);
    for conns in [1usize, 16, 64] {
        let (host, ids) = (server.addr.clone(), ids.clone());
        let build: Build = Arc::new(move |c, seq| {
            let id = &ids[c % ids.len().max(1)];
            let body = format!(r#"{{"ImageId":"{id}","ImageDescription":"rev-{seq}"}}"#);
            requests::tencent(&host, ID, KEY, "ModifyImageAttribute", REGION, &body)
        });
        let run = measure(&server.addr, conns, o.seconds, build).await;
        r.run(
            &format!("ModifyImageAttribute durable, {conns} conns"),
            "modify",
            conns as f64,
            &run,
        );
    }
    // Durable writes against the sled insert+flush loop, interleaved, at 16 connections.
    let (host, list) = (server.addr.clone(), ids.clone());
    let modify: Build = Arc::new(move |c, seq| {
        let id = &list[c % list.len().max(1)];
        let body = format!(r#"{{"ImageId":"{id}","ImageDescription":"pair-{seq}"}}"#);
        requests::tencent(&host, ID, KEY, "ModifyImageAttribute", REGION, &body)
    });
    let p = pairs::interleaved(
        PAIRS,
        || sled_run(o.seconds),
        || measure(&server.addr, 16, o.seconds, modify.clone()),
    )
    .await;
    r.pairs(
        "ModifyImageAttribute durable, 16 conns",
        "modify_pair",
        16.0,
        "sled insert+flush loop",
        "sled_pair",
        "modify_sled_ratio",
        &p,
    );
    r.value(&format!("RSS, {have} images"), "rss", server.rss_mb(), "MB");
    r.value(
        &format!("data dir size, {have} images"),
        "disk",
        dir_mb(&tmp.join("data")),
        "MB",
    );
    server.stop();
    let _ = std::fs::remove_dir_all(&tmp);
}

fn ceiling_sled(seconds: u64) -> f64 {
    let dir = std::env::temp_dir().join(format!("cloudtwin-bench-sled-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let db = sled::Config::new()
        .path(&dir)
        .flush_every_ms(None)
        .open()
        .unwrap_or_else(|e| panic!("sled: {e}"));
    // Every insert writes new bytes (as a rename does), so every flush has something to write.
    let mut value = vec![7u8; 300];
    let t = Instant::now();
    let mut n = 0u64;
    while t.elapsed() < Duration::from_secs(seconds) {
        value[..8].copy_from_slice(&n.to_be_bytes());
        if let Err(e) = db.insert(format!("key-{}", n % 64), value.as_slice()) {
            panic!("sled insert: {e}");
        }
        if let Err(e) = db.flush() {
            panic!("sled flush: {e}");
        }
        n += 1;
    }
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
    n as f64 / t.elapsed().as_secs_f64()
}

/// The trivial axum handler (`GET /` answers "ok"), served from this process; its address.
async fn trivial_axum() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let app = axum::Router::new().fallback(|| async { "ok" });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// One measurement of the trivial axum handler at 16 connections.
async fn axum_run(addr: &str, seconds: u64) -> load::Run {
    let host = addr.to_string();
    let build: Build =
        Arc::new(move |_, _| format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes());
    measure(addr, 16, seconds, build).await
}

/// One measurement of the sled insert+flush loop, off the async workers.
async fn sled_run(seconds: u64) -> f64 {
    tokio::task::spawn_blocking(move || ceiling_sled(seconds))
        .await
        .unwrap_or(f64::NAN)
}

async fn ceiling(o: &Opts, r: &mut Report) {
    let rate = sled_run(o.seconds).await;
    r.value("raw ceiling: sled insert+flush loop", "sled", rate, "req/s");
    let addr = trivial_axum().await;
    let run = axum_run(&addr, o.seconds).await;
    r.run(
        "raw ceiling: trivial axum handler, 16 conns",
        "axum",
        16.0,
        &run,
    );
}

/// Idle connections: `/_cloudtwin/health` over 4 keep-alive connections with no other
/// connection open, then while 2000 idle ones are held (half silent, half keep-alive idle;
/// 200 new ones a second replace the oldest), then the same on a server limited to 1024 open
/// files (its cap drops to 960, so it evicts an idle connection for every new one).
async fn conns(o: &Opts, r: &mut Report) {
    const IDLE: usize = 2000;
    for (nofile, what) in [
        (None, ""),
        (Some(1024), ", server limited to 1024 open files"),
    ] {
        let tmp = std::env::temp_dir().join(format!(
            "cloudtwin-bench-conns-{}-{}",
            std::process::id(),
            nofile.unwrap_or(0)
        ));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).unwrap_or_default();
        let cfg = config(&tmp, "sync");
        // Timeouts out of the way: the connections stay idle for the whole measurement.
        let text = std::fs::read_to_string(&cfg).unwrap_or_default()
            + "[server]\nheader_read_timeout_ms = 600000\nidle_timeout_ms = 600000\n";
        std::fs::write(&cfg, text)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", cfg.display()));
        let server = Server::start_limited(&cfg, nofile);
        let host = server.addr.clone();
        let health: Build = Arc::new(move |_, _| {
            format!("GET /_cloudtwin/health HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes()
        });
        let ok: Check = Arc::new(|status, _| status == 200);
        let warmup = Duration::from_secs(1);
        let secs = Duration::from_secs(o.seconds);
        if nofile.is_none() {
            let quiet = drive(&server.addr, 4, warmup, secs, health.clone(), ok.clone()).await;
            r.run(
                "GET /_cloudtwin/health, 4 conns, no idle connections",
                "health_quiet",
                0.0,
                &quiet,
            );
        }
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let holder = tokio::spawn(load::hold_idle(
            server.addr.clone(),
            IDLE,
            200,
            stop.clone(),
        ));
        // Until the 2000 are open (bounded: 60 s).
        let t = Instant::now();
        let full = if nofile.is_some() { 960 } else { IDLE };
        while sockets(server.child.id()) < full && t.elapsed() < Duration::from_secs(60) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        let held = sockets(server.child.id());
        let flooded = drive(&server.addr, 4, warmup, secs, health.clone(), ok.clone()).await;
        let held_after = sockets(server.child.id());
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let opened = holder.await.unwrap_or(0);
        r.run(
            &format!("same, {IDLE} idle connections held{what}"),
            if nofile.is_none() {
                "health_idle"
            } else {
                "health_idle_1024"
            },
            IDLE as f64,
            &flooded,
        );
        r.value(
            &format!("server sockets during that run (before, after; {opened} idle connections opened){what}"),
            if nofile.is_none() { "idle_held" } else { "idle_held_1024" },
            held.min(held_after) as f64,
            "open",
        );
        eprintln!("  server sockets: {held} before, {held_after} after the health run");
        server.stop();
        let _ = std::fs::remove_dir_all(&tmp);
    }
}

async fn admin(addr: &str, method: &str, path: &str, doc: &Value) -> (u16, Vec<u8>) {
    let body = doc.to_string();
    let req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len());
    once(addr, req.as_bytes()).await.unwrap_or((0, Vec::new()))
}

async fn put_state(addr: &str, doc: &Value) -> (u16, Vec<u8>) {
    admin(addr, "PUT", "/_cloudtwin/state", doc).await
}

/// `POST /_cloudtwin/reset` between tests: 10k images (about 40k keys) of one account, then
/// everything, each timed over HTTP after an import of the images.
async fn reset(r: &mut Report) {
    let tmp = std::env::temp_dir().join(format!("cloudtwin-bench-reset-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap_or_default();
    let server = Server::start(&config(&tmp, "sync"));
    let images: Vec<Value> = (0..10_000)
        .map(|i| json!({"AccountId": "100000000001", "Region": REGION, "ImageName": format!("bulk-{i}")}))
        .collect();
    let doc = json!({"format": "cloudtwin-state", "version": 1, "cvm": {"Images": images}});
    for (what, key, body) in [
        (
            "one account",
            "reset_account",
            json!({"account": "100000000001"}),
        ),
        ("everything", "reset_all", json!({})),
    ] {
        let (code, _) = put_state(&server.addr, &doc).await;
        let t = Instant::now();
        let (reset_code, answer) = admin(&server.addr, "POST", "/_cloudtwin/reset", &body).await;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        if code != 200 || reset_code != 200 {
            eprintln!(
                "  reset of {what}: import {code}, reset {reset_code} {}",
                String::from_utf8_lossy(&answer)
            );
            continue;
        }
        r.value(
            &format!("POST /_cloudtwin/reset, {what}, 10k images (40k keys)"),
            key,
            ms,
            "ms",
        );
    }
    server.stop();
    let _ = std::fs::remove_dir_all(&tmp);
}

/// `n` clusters in one dataset: cluster i has 1 + (i % 4) image files.
fn clusters_doc(dataset: &str, n: usize, files: &mut Vec<Value>, clusters: &mut Vec<Value>) {
    let base = json!({"AccountId": "100000000001", "Region": "cn-hangzhou", "ProjectName": "bench", "DatasetName": dataset});
    for i in 0..n {
        let id = format!("Cluster-{dataset}-{i:07}");
        for k in 0..(1 + i % 4) {
            let mut f = base.clone();
            f["URI"] = json!(format!("oss://b/{dataset}/{i}-{k}.jpg"));
            f["Figures"] = json!([{"FigureId": "f", "FigureClusterId": id, "Age": 20 + (i % 50), "FaceQuality": 0.5}]);
            files.push(f);
        }
        let mut c = base.clone();
        c["ObjectId"] = json!(id);
        c["Name"] = json!(format!("person {i}"));
        clusters.push(c);
    }
}

/// A QueryFigureClusters request of project `bench`, sorted by ImageCount, descending.
fn by_image_count(host: &str, dataset: &str, max_results: u32, with_total: bool) -> Vec<u8> {
    let mut params: Vec<(String, String)> = vec![
        ("ProjectName".into(), "bench".into()),
        ("DatasetName".into(), dataset.into()),
        ("Sort".into(), "ImageCount".into()),
        ("Order".into(), "desc".into()),
        ("MaxResults".into(), max_results.to_string()),
    ];
    if with_total {
        params.push(("WithTotalCount".into(), "true".into()));
    }
    requests::aliyun(host, AK, AK_SECRET, "QueryFigureClusters", &params)
}

/// QueryFigureClusters sorted by ImageCount, descending, 20 a page, 16 connections, per dataset.
async fn query_clusters(o: &Opts, r: &mut Report, addr: &str, sets: &[(&'static str, usize)]) {
    for &(dataset, n) in sets {
        let host = addr.to_string();
        let build: Build = Arc::new(move |_, _| by_image_count(&host, dataset, 20, false));
        let run = measure(addr, 16, o.seconds, build).await;
        r.run(
            &format!("QueryFigureClusters by ImageCount, {n} clusters, 16 conns"),
            "query",
            n as f64,
            &run,
        );
    }
}

/// `n` clusters in one dataset, loaded the way a user's program would: `BatchIndexFileMeta`
/// (100 files a call, 4 faces a file) with identity hints in `FigureClusterId`, then one
/// `CreateFigureClusteringTask` that turns each hint into a cluster. Cluster i gets
/// 1 + (i % 4) faces, each in a different file, so ImageCount runs from 1 to 4 as in
/// [`clusters_doc`]. Returns the seconds the indexing and the clustering took.
async fn clusters_through_api(addr: &str, dataset: &'static str, n: usize) -> (f64, f64) {
    clusters_through_api_after(addr, dataset, n, 0).await
}

/// [`clusters_through_api`], waiting `pause` seconds between the indexing and the task.
async fn clusters_through_api_after(
    addr: &str,
    dataset: &'static str,
    n: usize,
    pause: u64,
) -> (f64, f64) {
    // Lane l holds face l of every cluster that has more than l faces; a file takes 4
    // consecutive clusters of one lane, so no file holds two faces of one cluster.
    let mut files: Vec<(u8, u32, Vec<u32>)> = Vec::new();
    for lane in 0..4u8 {
        let members: Vec<u32> = (0..n as u32).filter(|i| i % 4 >= lane as u32).collect();
        for (j, chunk) in members.chunks(4).enumerate() {
            files.push((lane, j as u32, chunk.to_vec()));
        }
    }
    let files = Arc::new(files);
    let batches = files.len().div_ceil(100) as u64;
    let (host, list) = (addr.to_string(), files.clone());
    let build: Build = Arc::new(move |_, b| {
        let from = b as usize * 100;
        let batch: Vec<Value> = list[from..(from + 100).min(list.len())]
            .iter()
            .map(|(lane, j, members)| {
                let figures: Vec<Value> = members
                    .iter()
                    .enumerate()
                    .map(|(k, i)| {
                        json!({"FigureId": format!("f{k}"), "FigureType": "face",
                        "FigureClusterId": format!("Cluster-{dataset}-{i:07}")})
                    })
                    .collect();
                json!({"URI": format!("oss://b/{dataset}/l{lane}-{j}.jpg"), "Figures": figures})
            })
            .collect();
        requests::aliyun(
            &host,
            AK,
            AK_SECRET,
            "BatchIndexFileMeta",
            &[
                ("ProjectName".into(), "bench".into()),
                ("DatasetName".into(), dataset.into()),
                ("Files".into(), Value::Array(batch).to_string()),
            ],
        )
    });
    let t = Instant::now();
    let failed = blast(addr, 8, batches, build, ok_200()).await;
    let indexing = t.elapsed().as_secs_f64();
    eprintln!(
        "  indexed {} files ({} faces) into {dataset} in {indexing:.1}s ({failed} of {batches} calls failed)",
        files.len(),
        files.iter().map(|f| f.2.len()).sum::<usize>()
    );
    if pause > 0 {
        eprintln!("  clustering in {pause} s");
        tokio::time::sleep(Duration::from_secs(pause)).await;
    }
    let clustering = clustering_task(addr, dataset).await;
    let count = by_image_count(addr, dataset, 1, true);
    let (_, body) = once(addr, &count).await.unwrap_or_default();
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    eprintln!(
        "  clustered {dataset} in {clustering:.1}s: {} clusters (expected {n}), the first by ImageCount has {} images (expected 4)",
        v["TotalCount"], v["FigureClusters"][0]["ImageCount"]
    );
    (indexing, clustering)
}

/// Runs CreateFigureClusteringTask on a dataset of project `bench`; seconds until GetTask
/// says Succeeded (NaN if it does not within 30 minutes).
async fn clustering_task(addr: &str, dataset: &str) -> f64 {
    let create = requests::aliyun(
        addr,
        AK,
        AK_SECRET,
        "CreateFigureClusteringTask",
        &[
            ("ProjectName".into(), "bench".into()),
            ("DatasetName".into(), dataset.into()),
        ],
    );
    let t = Instant::now();
    let (_, body) = once(addr, &create).await.unwrap_or_default();
    let task: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let task_id = task["TaskId"].as_str().unwrap_or_default().to_string();
    while t.elapsed() < Duration::from_secs(1800) {
        let get = requests::aliyun(
            addr,
            AK,
            AK_SECRET,
            "GetTask",
            &[
                ("ProjectName".into(), "bench".into()),
                ("TaskId".into(), task_id.clone()),
                ("TaskType".into(), "FaceClustering".into()),
            ],
        );
        if let Ok((200, b)) = once(addr, &get).await {
            let v: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
            if v["Status"] == "Succeeded" {
                return t.elapsed().as_secs_f64();
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    f64::NAN
}

async fn imm(o: &Opts, r: &mut Report) {
    let tmp = std::env::temp_dir().join(format!("cloudtwin-bench-imm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap_or_default();
    let cfg = config(&tmp, "sync");
    let mut server = Server::start(&cfg);
    let big = if o.quick { 20_000 } else { 100_000 };
    let (mut files, mut clusters) = (Vec::new(), Vec::new());
    clusters_doc("k1", 1_000, &mut files, &mut clusters);
    clusters_doc("kbig", big, &mut files, &mut clusters);
    // Faces with 128-dimension embeddings: 1000 identities, centroid + noise.
    let (faces, identities, dim) = (big, 1000usize, 128usize);
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut gauss = || {
        let mut u = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64 + 1e-12
        };
        let (a, b) = (u(), u());
        (-2.0 * a.ln()).sqrt() * (2.0 * std::f64::consts::PI * b).cos()
    };
    let centroids: Vec<Vec<f64>> = (0..identities)
        .map(|_| {
            let v: Vec<f64> = (0..dim).map(|_| gauss()).collect();
            let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            v.into_iter().map(|x| x / n).collect()
        })
        .collect();
    let sigma = 0.7 / (dim as f64).sqrt();
    for i in 0..faces {
        let e: Vec<f64> = centroids[i % identities]
            .iter()
            .map(|x| ((x + sigma * gauss()) * 1e4).round() / 1e4)
            .collect();
        files.push(json!({"AccountId": "100000000001", "Region": "cn-hangzhou", "ProjectName": "bench", "DatasetName": "emb",
            "URI": format!("oss://b/emb/{i}.jpg"), "Figures": [{"FigureId": "f", "Embedding": e}]}));
    }
    let ds = |d: &str| json!({"AccountId": "100000000001", "Region": "cn-hangzhou", "ProjectName": "bench", "DatasetName": d});
    let doc = json!({"format": "cloudtwin-state", "version": 1, "imm": {
        "Projects": [{"AccountId": "100000000001", "Region": "cn-hangzhou", "ProjectName": "bench"}],
        "Datasets": [ds("k1"), ds("kbig"), ds("emb"), ds("kapi")], "Files": files, "Clusters": clusters}});
    let t = Instant::now();
    let (code, body) = put_state(&server.addr, &doc).await;
    eprintln!(
        "  imported {} clusters and {faces} embedded faces in {:.1}s: {code} {}",
        1_000 + big,
        t.elapsed().as_secs_f64(),
        String::from_utf8_lossy(&body[..body.len().min(200)])
    );
    drop(doc);
    // A million clusters do not fit one import document in memory: they come in through the
    // API, as a user's program would load them.
    let api = if o.quick { 50_000 } else { 1_000_000 };
    let (indexing, clustering) = clusters_through_api(&server.addr, "kapi", api).await;
    r.value(
        &format!(
            "BatchIndexFileMeta, {} faces with identity hints, 8 conns",
            api * 5 / 2
        ),
        "index_hints",
        indexing,
        "s",
    );
    r.value_at(
        &format!("CreateFigureClusteringTask, {api} identity hints"),
        "clustering_hints",
        (api * 5 / 2) as f64,
        clustering,
        "s",
    );
    // Measure on a fresh start, not while sled still writes back the import.
    server.stop();
    server = Server::start(&cfg);
    query_clusters(
        o,
        r,
        &server.addr,
        &[("k1", 1_000usize), ("kbig", big), ("kapi", api)],
    )
    .await;
    let rss = server.rss_mb();
    r.value(
        &format!("RSS after querying {} clusters", 1_000 + big + api),
        "rss_clusters",
        rss,
        "MB",
    );
    let secs = clustering_task(&server.addr, "emb").await;
    r.value_at(
        &format!("CreateFigureClusteringTask, {faces} faces x {dim} dims"),
        "clustering",
        faces as f64,
        secs,
        "s",
    );
    server.stop();
    let _ = std::fs::remove_dir_all(&tmp);
}

async fn moto(o: &Opts, r: &mut Report) {
    let moto_bin = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(5555);
    let Ok(mut child) = Command::new(&moto_bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        eprintln!(
            "  moto: cannot start {moto_bin} (pip install 'moto[server,ec2]'; MOTO_SERVER=path)"
        );
        return;
    };
    let addr = format!("127.0.0.1:{port}");
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(30)
        && tokio::net::TcpStream::connect(&addr).await.is_err()
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // One request alone first: moto loads its EC2 backend lazily, and concurrent first
    // requests can stall it.
    let warm = requests::ec2(&addr, "Action=DescribeRegions&Version=2016-11-15");
    let _ = once(&addr, &warm).await;
    let n = 10_000u64;
    let host = addr.clone();
    let build: Build = Arc::new(move |_, i| {
        requests::ec2(&host, &format!("Action=RegisterImage&Version=2016-11-15&Name=bench-{i}&Architecture=x86_64&RootDeviceName=%2Fdev%2Fsda1"))
    });
    let t = Instant::now();
    let failed = blast(&addr, 16, n, build, Arc::new(|s, _| s == 200)).await;
    eprintln!(
        "  moto: registered {n} images in {:.1}s ({failed} failed)",
        t.elapsed().as_secs_f64()
    );
    let host = addr.clone();
    let build: Build = Arc::new(move |_, _| {
        requests::ec2(
            &host,
            "Action=DescribeImages&Version=2016-11-15&Owner.1=self&MaxResults=20",
        )
    });
    // moto ignores MaxResults and renders all 10k images (6.5 MB, ~5 s each): a short window
    // would see no answer at all.
    let window = o.seconds.max(60);
    let run = measure(&addr, 16, window, build).await;
    r.run(
        &format!("moto DescribeImages, {n} images, 16 conns"),
        "moto_describe",
        n as f64,
        &run,
    );
    if run.count == 0 {
        r.value(
            "moto DescribeImages, 10k images: no answer within the window",
            "moto_describe_window",
            window as f64,
            "s",
        );
    }
    let listing = once(
        &addr,
        &requests::ec2(
            &addr,
            "Action=DescribeImages&Version=2016-11-15&Owner.1=self",
        ),
    )
    .await
    .map(|(_, b)| b)
    .unwrap_or_default();
    let text = String::from_utf8_lossy(&listing);
    let ami: Vec<String> = text
        .split("<imageId>")
        .skip(1)
        .filter_map(|s| s.split('<').next().map(String::from))
        .take(64)
        .collect();
    let ami = Arc::new(ami);
    let host = addr.clone();
    let build: Build = Arc::new(move |c, seq| {
        let id = ami.get(c % ami.len().max(1)).cloned().unwrap_or_default();
        requests::ec2(&host, &format!("Action=ModifyImageAttribute&Version=2016-11-15&ImageId={id}&Description.Value=rev-{seq}"))
    });
    let run = measure(&addr, 64, o.seconds, build).await;
    r.run(
        "moto ModifyImageAttribute, 64 conns",
        "moto_modify",
        64.0,
        &run,
    );
    let _ = child.kill();
    let _ = child.wait();
}

/// The small store of the access and profile scenarios: 1000 clusters in dataset `k1` of
/// project `bench` (imported), then 1000 images (loaded after the import, which replaces the
/// whole state).
async fn small_store(addr: &str) {
    let (mut files, mut clusters) = (Vec::new(), Vec::new());
    clusters_doc("k1", 1_000, &mut files, &mut clusters);
    let ds = json!({"AccountId": "100000000001", "Region": "cn-hangzhou", "ProjectName": "bench", "DatasetName": "k1"});
    let doc = json!({"format": "cloudtwin-state", "version": 1, "imm": {
        "Projects": [{"AccountId": "100000000001", "Region": "cn-hangzhou", "ProjectName": "bench"}],
        "Datasets": [ds], "Files": files, "Clusters": clusters}});
    let (code, _) = put_state(addr, &doc).await;
    eprintln!("  imported 1000 clusters: {code}");
    load_images(addr, 0, 1_000).await;
}

/// `profile describe|query|modify|hints`: only one load on a small store, for a profiler
/// attached to the server's pid (printed): DescribeImages over 1000 images,
/// QueryFigureClusters by ImageCount over 1000 clusters, or durable ModifyImageAttribute, 16
/// connections; or one clustering task over identity hints ([`profile_hints`]).
async fn profile(o: &Opts, what: &str) {
    let tmp = std::env::temp_dir().join(format!("cloudtwin-bench-profile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap_or_default();
    let server = Server::start(&config(&tmp, "sync"));
    let addr = server.addr.clone();
    if what == "hints" {
        profile_hints(&server, o).await;
        server.stop();
        let _ = std::fs::remove_dir_all(&tmp);
        return;
    }
    small_store(&addr).await;
    let host = addr.clone();
    let build: Build = match what {
        "query" => Arc::new(move |_, _| by_image_count(&host, "k1", 20, false)),
        "modify" => {
            let ids = private_image_ids(&addr, 16).await;
            Arc::new(move |c, seq| {
                let id = ids.get(c % ids.len().max(1)).cloned().unwrap_or_default();
                let body = format!(r#"{{"ImageId":"{id}","ImageDescription":"p-{seq}"}}"#);
                requests::tencent(&host, ID, KEY, "ModifyImageAttribute", REGION, &body)
            })
        }
        _ => describe_build(host),
    };
    eprintln!("  server pid {}: {what} for {} s", server.pid(), o.seconds);
    let run = measure(&addr, 16, o.seconds, build).await;
    eprintln!(
        "  {:.0} req/s, p50 {:.3} ms, p99 {:.3} ms, {} errors",
        run.rps, run.p50_ms, run.p99_ms, run.errors
    );
    server.stop();
    let _ = std::fs::remove_dir_all(&tmp);
}

/// `profile hints`: loads `--hints N` (default 100k) hinted clusters into dataset `kh`,
/// prints the server's pid, waits `--seconds` for a profiler to attach, then times one
/// CreateFigureClusteringTask over them.
async fn profile_hints(server: &Server, o: &Opts) {
    let n = std::env::args()
        .skip_while(|a| a != "--hints")
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000usize);
    let doc = json!({"format": "cloudtwin-state", "version": 1, "imm": {
        "Projects": [{"AccountId": "100000000001", "Region": "cn-hangzhou", "ProjectName": "bench"}],
        "Datasets": [{"AccountId": "100000000001", "Region": "cn-hangzhou", "ProjectName": "bench", "DatasetName": "kh"}]}});
    let (code, _) = put_state(&server.addr, &doc).await;
    eprintln!("  project and dataset: {code}");
    eprintln!("  server pid {}: hints, {n} clusters", server.pid());
    let (_, clustering) = clusters_through_api_after(&server.addr, "kh", n, o.seconds).await;
    eprintln!("  clustering {n} identity hints: {clustering:.2} s");
}

/// The server's allocator, so that in-process runs and ceilings allocate as the server does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let has = |s: &str| args.iter().any(|a| a == s);
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
    };
    let seconds = value("--seconds").and_then(|v| v.parse().ok()).unwrap_or(5);
    let out = value("--out")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("results"));
    let o = Opts {
        seconds,
        quick: has("--quick"),
        out,
    };
    let all = has("all")
        || ![
            "cvm",
            "imm",
            "ceiling",
            "moto",
            "reset",
            "conns",
            "hardening",
            "access",
            "access-profile",
            "profile",
            "imm-scale",
            "faces",
            "postgres",
        ]
        .iter()
        .any(|s| has(s));
    let mut r = Report::default();
    eprintln!(
        "cloudtwin bench: {} (release binary {})",
        if o.quick { "quick" } else { "full" },
        bin().display()
    );
    if all || has("ceiling") {
        ceiling(&o, &mut r).await;
    }
    if all || has("reset") {
        reset(&mut r).await;
    }
    if all || has("conns") {
        conns(&o, &mut r).await;
    }
    if all || has("cvm") {
        cvm(&o, &mut r).await;
    }
    if all || has("imm") {
        imm(&o, &mut r).await;
    }
    if has("imm-scale") {
        imm_scale::run(&o, &mut r).await;
    }
    if has("postgres") {
        postgres::run(&o, &mut r).await;
    }
    if all || has("faces") {
        faces::run(&o, &mut r).await;
    }
    if all || has("hardening") {
        hardening::run(&o, &mut r).await;
    }
    if let Some(what) = value("profile") {
        profile(&o, what).await;
        return;
    }
    if has("access-profile") {
        access::profile(&o).await;
        return;
    }
    if all || has("access") {
        access::run(&o, &mut r).await;
    }
    if all || has("moto") {
        moto(&o, &mut r).await;
    }
    r.finish(&o.out);
}
