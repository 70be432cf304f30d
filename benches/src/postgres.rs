//! `postgres` (issue #12): DescribeImages and durable ModifyImageAttribute on sled, on one
//! node over PostgreSQL and on three nodes over the same PostgreSQL, in one run.
//!
//! The scenario starts its own PostgreSQL (Debian's packages, installed by `tests/pg.sh` when
//! missing) in a temp dir on a free loopback port, with `pg_stat_statements` loaded, and stops
//! it at the end (also when the bench panics). It imports the same images into a sled data
//! dir and into one database, then measures at 16 connections for `--seconds`:
//! - sled, one node, against PostgreSQL, one node: interleaved pairs (so the ratio holds on a
//!   noisy machine);
//! - PostgreSQL, one node, against three nodes over the same database (the load spread round
//!   robin over the three): interleaved pairs;
//! - the statements (round trips) and transactions per request: a fixed number of requests,
//!   with `pg_stat_statements` reset before and `pg_stat_database` read before and after,
//!   and the time the database itself spent executing them;
//! - the database's own limit for the same statements, with `pgbench` at 16 clients (the
//!   nodes idle), interleaved with one node's runs: the point read by `(tree, k)`, the first
//!   page of a scan, and the write transaction as the engine sends it (BEGIN, a read, the
//!   unnest upsert, COMMIT); turned into requests a second by the statements a request sends;
//! - the CPU a request costs in the node(s), in PostgreSQL and in the load generator.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use super::load::{blast_spread, drive_spread, once, Build, Run};
use super::pairs::{self, Pairs};
use super::report::Report;
use super::{config, ok_200, private_image_ids, put_state, requests, Opts, Server};
use super::{ID, KEY, PAIRS, REGION};

/// Connections of every measured load, and clients of pgbench.
const CONNS: usize = 16;
/// The database the nodes share.
const DB: &str = "bench";
/// The pseudo-tree of pgbench's rows in `cloudtwin_kv` (no tree of cloudtwin's).
const PGBENCH_TREE: &str = "pgbench";
const DESCRIBE: &str =
    r#"{"Filters":[{"Name":"image-type","Values":["PRIVATE_IMAGE"]}],"Limit":20}"#;

/// A private PostgreSQL in a temp dir; stopped and removed when dropped.
struct Pg {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    root: bool,
}

/// The newest `/usr/lib/postgresql/*/bin` with a `postgres` in it.
fn pg_bin() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("postgres").exists())
        .collect();
    dirs.sort();
    dirs.pop()
}

fn output(mut c: Command) -> Result<String, String> {
    let out = c.output().map_err(|e| format!("{c:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{c:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

impl Pg {
    /// initdb into a fresh temp dir (as user `postgres` when root, as tests/pg.sh does) and
    /// `pg_ctl start` on a free port.
    fn start() -> Result<Pg, String> {
        let bin = match pg_bin() {
            Some(b) => b,
            None => {
                let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
                let mut c = Command::new("bash");
                c.args(["-c", "source tests/pg.sh && pg_install"])
                    .current_dir(repo);
                output(c)?;
                pg_bin().ok_or("no PostgreSQL after tests/pg.sh's pg_install")?
            }
        };
        let root = output({
            let mut c = Command::new("id");
            c.arg("-u");
            c
        })? == "0";
        let dir = std::env::temp_dir().join(format!("cloudtwin-bench-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755));
        if root {
            let mut c = Command::new("chown");
            c.arg("postgres").arg(&dir);
            output(c)?;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| format!("no free port: {e}"))?;
        let pg = Pg {
            bin,
            dir,
            port,
            root,
        };
        let mut c = pg.as_postgres("initdb");
        c.arg("-D").arg(pg.dir.join("data")).args([
            "-U",
            "cloudtwin",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
        ]);
        output(c)?;
        let mut c = pg.as_postgres("pg_ctl");
        c.arg("-D")
            .arg(pg.dir.join("data"))
            .arg("-l")
            .arg(pg.dir.join("server.log"))
            .args(["-w", "-t", "60", "-o"])
            .arg(format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300 \
                 -c fsync=on -c synchronous_commit=on \
                 -c shared_preload_libraries=pg_stat_statements",
                pg.port,
                pg.dir.display()
            ))
            .arg("start")
            .stdout(Stdio::null());
        output(c)?;
        pg.sql(
            "postgres",
            "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
        )?;
        pg.sql("postgres", &format!("CREATE DATABASE {DB}"))?;
        let version = output({
            let mut c = Command::new(pg.bin.join("postgres"));
            c.arg("--version");
            c
        })?;
        eprintln!(
            "  {version} on 127.0.0.1:{} ({})",
            pg.port,
            pg.dir.display()
        );
        Ok(pg)
    }

    /// A command of the server's own binaries, as user `postgres` when root.
    fn as_postgres(&self, prog: &str) -> Command {
        let path = self.bin.join(prog);
        if self.root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://cloudtwin@127.0.0.1:{}/{db}", self.port)
    }

    /// One statement through psql; its rows, fields separated by tabs.
    fn sql(&self, db: &str, query: &str) -> Result<String, String> {
        let mut c = Command::new(self.bin.join("psql"));
        c.args([
            "-X",
            "-A",
            "-t",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-F",
            "\t",
            "-d",
        ])
        .arg(self.url(db))
        .arg("-c")
        .arg(query);
        output(c)
    }

    /// A single number from one statement (NaN when it fails).
    fn number(&self, db: &str, query: &str) -> f64 {
        match self.sql(db, query) {
            Ok(v) => v.parse().unwrap_or(f64::NAN),
            Err(e) => {
                eprintln!("  {e}");
                f64::NAN
            }
        }
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let mut c = self.as_postgres("pg_ctl");
        c.arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "fast", "-w", "-t", "60", "stop"])
            .stdout(Stdio::null());
        if let Err(e) = output(c) {
            eprintln!("  stopping PostgreSQL: {e}");
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Running servers, stopped when dropped (also when the bench panics).
#[derive(Default)]
struct Nodes(Vec<Server>);

impl Nodes {
    fn addrs(&self) -> Vec<String> {
        self.0.iter().map(|s| s.addr.clone()).collect()
    }
}

impl Drop for Nodes {
    fn drop(&mut self) {
        for s in self.0.drain(..) {
            s.stop();
        }
    }
}

/// CPU time (user + system) of a process so far, in clock ticks (fields 14 and 15 of
/// `/proc/PID/stat`, after the command name in parentheses).
fn ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // After ")": state is field 3 of the line, utime 14 and stime 15.
    field(11) + field(12)
}

/// The parent of a process (field 4 of `/proc/PID/stat`).
fn parent(pid: u32) -> u32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    rest.split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// CPU seconds so far of the nodes, of the private PostgreSQL (the postmaster and its
/// children: the nodes' backends among them) and of this process (the load generator).
fn cpu(pg: &Pg, nodes: &[u32]) -> [f64; 3] {
    let hz = 100.0; // USER_HZ on Linux
    let master: u32 = std::fs::read_to_string(pg.dir.join("data/postmaster.pid"))
        .ok()
        .and_then(|t| t.lines().next().and_then(|l| l.trim().parse().ok()))
        .unwrap_or(0);
    let mut db = ticks(master);
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            if let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) {
                if master != 0 && parent(pid) == master {
                    db += ticks(pid);
                }
            }
        }
    }
    let node: u64 = nodes.iter().map(|p| ticks(*p)).sum();
    [
        node as f64 / hz,
        db as f64 / hz,
        ticks(std::process::id()) as f64 / hz,
    ]
}

/// A node's configuration: the bench's (durability sync, rate limits off) over the database.
fn node_config(dir: &Path, url: &str, node: &str) -> PathBuf {
    let path = config(dir, "sync");
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    text.push_str(&format!(
        "[store]\nbackend = \"postgres\"\nurl = \"{url}\"\npool = 8\n[cluster]\nnode_id = \"{node}\"\n"
    ));
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    path
}

/// DescribeImages (a page of 20), connection `c` signed for `hosts[c % hosts.len()]`.
fn describe(hosts: &[String]) -> Build {
    let hosts = hosts.to_vec();
    Arc::new(move |c, _| {
        requests::tencent(
            &hosts[c % hosts.len()],
            ID,
            KEY,
            "DescribeImages",
            REGION,
            DESCRIBE,
        )
    })
}

/// Durable ModifyImageAttribute: connection `c` renames its own image.
fn modify(hosts: &[String], ids: &Arc<Vec<String>>) -> Build {
    let (hosts, ids) = (hosts.to_vec(), ids.clone());
    Arc::new(move |c, seq| {
        let id = &ids[c % ids.len().max(1)];
        let body = format!(r#"{{"ImageId":"{id}","ImageDescription":"pg-{c}-{seq}"}}"#);
        requests::tencent(
            &hosts[c % hosts.len()],
            ID,
            KEY,
            "ModifyImageAttribute",
            REGION,
            &body,
        )
    })
}

/// One measurement: 16 connections spread over `addrs`, 1 s of warm-up, then `seconds`.
async fn timed(addrs: &[String], seconds: u64, build: Build) -> Run {
    drive_spread(
        addrs,
        CONNS,
        Duration::from_secs(1),
        Duration::from_secs(seconds),
        build,
        ok_200(),
    )
    .await
}

/// The account's images as DescribeImages counts them.
async fn total(addr: &str) -> u64 {
    let req = requests::tencent(addr, ID, KEY, "DescribeImages", REGION, r#"{"Limit":1}"#);
    let (_, body) = once(addr, &req).await.unwrap_or_default();
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    v["Response"]["TotalCount"].as_u64().unwrap_or(0)
}

/// Imports `n` images of the bench account through `PUT /_cloudtwin/state`.
async fn import(addr: &str, n: u64, what: &str) {
    let images: Vec<Value> = (0..n)
        .map(|i| json!({"AccountId": "100000000001", "Region": REGION, "ImageName": format!("pg-{i}")}))
        .collect();
    let doc = json!({"format": "cloudtwin-state", "version": 1, "cvm": {"Images": images}});
    let t = std::time::Instant::now();
    let (code, body) = put_state(addr, &doc).await;
    eprintln!(
        "  {what}: imported {n} images in {:.1}s: {code} {}; DescribeImages counts {}",
        t.elapsed().as_secs_f64(),
        String::from_utf8_lossy(&body[..body.len().min(120)]),
        total(addr).await
    );
}

/// What the database did for a fixed number of requests.
struct Counted {
    /// Requests sent (and answered).
    requests: u64,
    /// Statements per request (`pg_stat_statements`: every statement, BEGIN and COMMIT
    /// included, is one round trip of the engine).
    statements: f64,
    /// Transactions per request (`pg_stat_database`: single statements outside a
    /// transaction count as one each).
    xacts: f64,
    /// Time the database spent executing per request, ms.
    db_ms: f64,
    /// Per statement: calls per request, mean ms, the statement.
    lines: Vec<(f64, f64, String)>,
    /// Requests a second of the counted blast.
    rps: f64,
    /// CPU ms per request: the node(s), PostgreSQL (every process of it), the load generator.
    cpu_ms: [f64; 3],
}

/// Sends `n` requests over 16 connections, with the database's counters read around them.
async fn count(pg: &Pg, nodes: &Nodes, build: Build, n: u64) -> Counted {
    let addrs = nodes.addrs();
    let pids: Vec<u32> = nodes.0.iter().map(|s| s.pid()).collect();
    let xacts = || {
        pg.number(
            "postgres",
            &format!(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '{DB}'"
            ),
        )
    };
    if let Err(e) = pg.sql("postgres", "SELECT pg_stat_statements_reset()") {
        eprintln!("  {e}");
    }
    // A backend reports its transactions to pg_stat_database when idle, but when it reported
    // less than a second ago it waits 10 s (PGSTAT_IDLE_INTERVAL): wait that out on both sides.
    let settle = Duration::from_millis(11_500);
    tokio::time::sleep(settle).await;
    let before = xacts();
    let cpu0 = cpu(pg, &pids);
    let t = std::time::Instant::now();
    let failed = blast_spread(&addrs, CONNS, n, build, ok_200()).await;
    let secs = t.elapsed().as_secs_f64();
    let cpu1 = cpu(pg, &pids);
    tokio::time::sleep(settle).await;
    let after = xacts();
    let rows = pg
        .sql(
            "postgres",
            &format!(
                "SELECT calls, total_exec_time, regexp_replace(query, '\\s+', ' ', 'g') \
                 FROM pg_stat_statements \
                 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '{DB}') \
                 ORDER BY calls DESC, total_exec_time DESC"
            ),
        )
        .unwrap_or_else(|e| {
            eprintln!("  {e}");
            String::new()
        });
    let per = n.max(1) as f64;
    let mut lines = Vec::new();
    let (mut calls, mut ms) = (0.0, 0.0);
    for row in rows.lines() {
        let mut f = row.splitn(3, '\t');
        let (Some(c), Some(t), Some(q)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let (c, t) = (c.parse().unwrap_or(0.0), t.parse().unwrap_or(0.0));
        calls += c;
        ms += t;
        lines.push((c / per, if c > 0.0 { t / c } else { 0.0 }, q.to_string()));
    }
    if failed > 0 {
        eprintln!("  {failed} of {n} counted requests failed");
    }
    Counted {
        requests: n,
        statements: calls / per,
        xacts: (after - before) / per,
        db_ms: ms / per,
        lines,
        rps: per / secs,
        cpu_ms: [0, 1, 2].map(|i| (cpu1[i] - cpu0[i]) * 1000.0 / per),
    }
}

/// Records what the database did per request of `op` on `nodes` nodes.
fn record(r: &mut Report, op: &str, key: &str, nodes: usize, c: &Counted, breakdown: bool) {
    let what = if nodes == 1 {
        "1 node".to_string()
    } else {
        format!("{nodes} nodes")
    };
    let suffix = if nodes == 1 { "" } else { "_3nodes" };
    r.value_at(
        &format!(
            "PostgreSQL, {what}: statements (round trips) per {op}, over {} requests",
            c.requests
        ),
        &format!("pg_statements_per_{key}{suffix}"),
        nodes as f64,
        c.statements,
        "statements",
    );
    r.value_at(
        &format!("PostgreSQL, {what}: transactions per {op}"),
        &format!("pg_xacts_per_{key}{suffix}"),
        nodes as f64,
        c.xacts,
        "transactions",
    );
    r.value_at(
        &format!("PostgreSQL, {what}: database execution time per {op}"),
        &format!("pg_db_ms_per_{key}{suffix}"),
        nodes as f64,
        c.db_ms,
        "ms",
    );
    for (i, part) in ["the node(s)", "PostgreSQL", "the load generator"]
        .iter()
        .enumerate()
    {
        r.value_at(
            &format!(
                "PostgreSQL, {what}: CPU per {op} in {part} (counted blast at {:.0} req/s)",
                c.rps
            ),
            &format!(
                "pg_cpu_ms_per_{key}{suffix}_{}",
                ["node", "db", "loadgen"][i]
            ),
            nodes as f64,
            c.cpu_ms[i],
            "ms",
        );
    }
    for (calls, mean, q) in &c.lines {
        let q: String = q.replace('|', "/").chars().take(110).collect();
        eprintln!("    {calls:>7.3} per request, {mean:.3} ms each: {q}");
        if breakdown && *calls >= 0.01 {
            r.value_at(
                &format!("  {op}, 1 node, per request ({mean:.3} ms each): {q}"),
                &format!("pg_statement_{key}"),
                nodes as f64,
                *calls,
                "calls",
            );
        }
    }
}

/// pgbench at 16 clients for `seconds` on one script; transactions per second (NaN when it
/// fails).
fn pgbench(pg: &Pg, name: &str, script: &str, seconds: u64) -> f64 {
    let file = pg.dir.join(format!("{name}.sql"));
    if let Err(e) = std::fs::write(&file, script) {
        eprintln!("  {}: {e}", file.display());
        return f64::NAN;
    }
    let mut c = Command::new(pg.bin.join("pgbench"));
    c.args(["-n", "-M", "prepared", "-r", "--max-tries=100"])
        .args([
            "-c",
            &CONNS.to_string(),
            "-j",
            "2",
            "-T",
            &seconds.to_string(),
        ])
        .arg("-f")
        .arg(&file)
        .arg(pg.url(DB));
    match output(c) {
        Ok(out) => {
            let tps = out
                .lines()
                .find(|l| l.starts_with("tps = "))
                .and_then(|l| l.split_whitespace().nth(2))
                .and_then(|v| v.parse().ok())
                .unwrap_or(f64::NAN);
            let failed = out
                .lines()
                .find(|l| l.starts_with("number of failed transactions"))
                .unwrap_or("");
            let retried = out
                .lines()
                .find(|l| l.starts_with("number of transactions retried"))
                .unwrap_or("");
            eprintln!("  pgbench {name}: {tps:.0} transactions/s; {failed}; {retried}");
            tps
        }
        Err(e) => {
            eprintln!("  pgbench {name}: {e}");
            f64::NAN
        }
    }
}

/// Interleaved pairs (`base`, `figure`); the base's runs are kept too.
async fn pairs_of(
    seconds: u64,
    base: (&[String], Build),
    figure: (&[String], Build),
) -> (Pairs, Pairs) {
    let kept = Arc::new(Mutex::new(Vec::new()));
    let p = pairs::interleaved(
        PAIRS,
        || {
            let (addrs, build, kept) = (base.0.to_vec(), base.1.clone(), kept.clone());
            async move {
                let run = timed(&addrs, seconds, build).await;
                let rps = run.rps;
                kept.lock().unwrap_or_else(|p| p.into_inner()).push(run);
                rps
            }
        },
        || timed(figure.0, seconds, figure.1.clone()),
    )
    .await;
    let runs = std::mem::take(&mut *kept.lock().unwrap_or_else(|p| p.into_inner()));
    (
        p,
        Pairs {
            ceilings: Vec::new(),
            runs,
        },
    )
}

pub async fn run(o: &Opts, r: &mut Report) {
    let pg = match Pg::start() {
        Ok(pg) => pg,
        Err(e) => {
            eprintln!("  postgres: no private PostgreSQL ({e}); skipped");
            return;
        }
    };
    let tmp = std::env::temp_dir().join(format!("cloudtwin-bench-pgnodes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    for d in ["sled", "node-1", "node-2", "node-3"] {
        std::fs::create_dir_all(tmp.join(d)).unwrap_or_default();
    }
    let n: u64 = if o.quick { 2_000 } else { 10_000 };
    let url = pg.url(DB);

    // sled: imported, then measured on a fresh start (not while sled writes the import back).
    let sled_cfg = config(&tmp.join("sled"), "sync");
    let mut sled = Nodes(vec![Server::start(&sled_cfg)]);
    import(&sled.0[0].addr, n, "sled").await;
    drop(sled);
    sled = Nodes(vec![Server::start(&sled_cfg)]);
    let mut pgn = Nodes(vec![Server::start(&node_config(
        &tmp.join("node-1"),
        &url,
        "node-1",
    ))]);
    import(&pgn.0[0].addr, n, "PostgreSQL").await;
    let (sled_addr, one) = (sled.addrs(), pgn.addrs());
    let sled_ids = Arc::new(private_image_ids(&sled_addr[0], 64).await);
    let pg_ids = Arc::new(private_image_ids(&one[0], 64).await);
    eprintln!(
        "  modify: {} sled images, {} PostgreSQL images, one per connection",
        sled_ids.len(),
        pg_ids.len()
    );

    // sled against PostgreSQL, one node each, interleaved.
    let ops: [(&str, &str); 2] = [
        ("DescribeImages (20 of {n} images)", "describe"),
        ("durable ModifyImageAttribute", "modify"),
    ];
    let build = |key: &str, hosts: &[String], ids: &Arc<Vec<String>>| -> Build {
        if key == "describe" {
            describe(hosts)
        } else {
            modify(hosts, ids)
        }
    };
    for (op, key) in ops {
        let op = op.replace("{n}", &n.to_string());
        let (p, sled_runs) = pairs_of(
            o.seconds,
            (&sled_addr, build(key, &sled_addr, &sled_ids)),
            (&one, build(key, &one, &pg_ids)),
        )
        .await;
        if let Some(run) = sled_runs.median_run() {
            r.run(
                &format!("sled, 1 node: {op}, 16 conns (median of {PAIRS} pairs)"),
                &format!("sled_{key}_1node"),
                1.0,
                run,
            );
        }
        r.pairs(
            &format!("PostgreSQL, 1 node: {op}, 16 conns"),
            &format!("pg_{key}_1node"),
            1.0,
            "sled, 1 node",
            &format!("sled_{key}_1node_pair"),
            &format!("pg_{key}_1node_vs_sled"),
            &p,
        );
    }
    drop(sled);
    let counts = if o.quick { 1_000 } else { 3_000 };
    let d1 = count(&pg, &pgn, describe(&one), counts).await;
    record(r, "DescribeImages", "describe", 1, &d1, true);
    let m1 = count(&pg, &pgn, modify(&one, &pg_ids), counts).await;
    record(r, "ModifyImageAttribute", "modify", 1, &m1, true);

    // The database alone against one node, interleaved: the same statements through pgbench
    // at 16 clients (the node idle meanwhile), turned into requests a second by the
    // statements a request sends.
    let [read, scan, write] = pgbench_scripts(&pg);
    let class = |c: &Counted, scans: bool| -> f64 {
        c.lines
            .iter()
            .filter(|l| l.2.starts_with("SELECT") && l.2.contains("LIMIT") == scans)
            .map(|l| l.0)
            .sum()
    };
    let (points, scans) = (class(&d1, false), class(&d1, true));
    let begins: f64 = m1
        .lines
        .iter()
        .filter(|l| l.2.starts_with("BEGIN"))
        .map(|l| l.0)
        .sum();
    let secs = o.seconds.max(3);
    let mut reads = Vec::new();
    let p = pairs::interleaved(
        PAIRS,
        || {
            let rd = pgbench(&pg, "read", &read, secs);
            let sc = pgbench(&pg, "scan", &scan, secs);
            reads.push((rd, sc));
            let v = 1.0 / (points / rd + scans / sc);
            async move { v }
        },
        || timed(&one, o.seconds, describe(&one)),
    )
    .await;
    r.pairs(
        &format!("PostgreSQL, 1 node: DescribeImages (20 of {n} images), 16 conns, beside pgbench"),
        "pg_describe_1node_dbpair",
        1.0,
        &format!(
            "what the database allows for it: 1 / ({points:.1} / pgbench's point SELECTs/s + {scans:.1} / its scan pages/s)"
        ),
        "pg_describe_db_ceiling",
        "pg_describe_1node_vs_db",
        &p,
    );
    let mut writes = Vec::new();
    let p = pairs::interleaved(
        PAIRS,
        || {
            let w = pgbench(&pg, "write", &write, secs);
            writes.push(w);
            let v = w / begins;
            async move { v }
        },
        || timed(&one, o.seconds, modify(&one, &pg_ids)),
    )
    .await;
    r.pairs(
        "PostgreSQL, 1 node: durable ModifyImageAttribute, 16 conns, beside pgbench",
        "pg_modify_1node_dbpair",
        1.0,
        &format!(
            "what the database allows for it: pgbench's write transactions/s / {begins:.2} per request"
        ),
        "pg_modify_db_ceiling",
        "pg_modify_1node_vs_db",
        &p,
    );
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    r.value(
        "pgbench, 16 clients: point SELECT by (tree, k), statements/s (median of the pairs)",
        "pgbench_statements_per_s",
        median(reads.iter().map(|x| x.0).collect()),
        "statements/s",
    );
    r.value(
        "pgbench, 16 clients: scan page (LIMIT 64), statements/s (median)",
        "pgbench_scan_statements_per_s",
        median(reads.iter().map(|x| x.1).collect()),
        "statements/s",
    );
    r.value(
        "pgbench, 16 clients: BEGIN + SELECT + unnest upsert + COMMIT, transactions/s (median)",
        "pgbench_write_xacts_per_s",
        median(writes.clone()),
        "transactions/s",
    );
    r.value(
        "pgbench, 16 clients: the same write transaction, statements/s (median)",
        "pgbench_write_statements_per_s",
        median(writes) * 4.0,
        "statements/s",
    );

    // One node against three over the same database, interleaved.
    for node in ["node-2", "node-3"] {
        pgn.0
            .push(Server::start(&node_config(&tmp.join(node), &url, node)));
    }
    let three = pgn.addrs();
    for (op, key) in ops {
        let op = op.replace("{n}", &n.to_string());
        let (p, _) = pairs_of(
            o.seconds,
            (&one, build(key, &one, &pg_ids)),
            (&three, build(key, &three, &pg_ids)),
        )
        .await;
        r.pairs(
            &format!("PostgreSQL, 3 nodes (load round robin): {op}, 16 conns"),
            &format!("pg_{key}_3nodes"),
            3.0,
            "PostgreSQL, 1 node",
            &format!("pg_{key}_1node_pair"),
            &format!("pg_{key}_3nodes_vs_1node"),
            &p,
        );
    }
    let d3 = count(&pg, &pgn, describe(&three), counts).await;
    record(r, "DescribeImages", "describe", 3, &d3, false);
    let m3 = count(&pg, &pgn, modify(&three, &pg_ids), counts).await;
    record(r, "ModifyImageAttribute", "modify", 3, &m3, false);
    drop(pgn);
    drop(pg);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// pgbench's rows (10000 of the mean size of the largest tree's values, in a tree of their
/// own of `cloudtwin_kv`) and its three scripts: the point read, the first page of a scan,
/// and the write transaction as the engine sends it.
fn pgbench_scripts(pg: &Pg) -> [String; 3] {
    let (tree, size) = pg
        .sql(
            DB,
            "SELECT tree, avg(length(v))::int FROM cloudtwin_kv GROUP BY tree \
             ORDER BY count(*) DESC LIMIT 1",
        )
        .ok()
        .and_then(|s| {
            let (t, v) = s.split_once('\t')?;
            Some((t.to_string(), v.parse::<u64>().ok()?))
        })
        .unwrap_or_else(|| ("?".into(), 400));
    eprintln!("  pgbench rows: 10000 of {size} bytes (the mean value of tree {tree})");
    let rows = format!(
        "INSERT INTO cloudtwin_kv (tree, k, v) SELECT '{PGBENCH_TREE}', int8send(i), \
         convert_to(repeat('x', {size}), 'UTF8') FROM generate_series(0, 9999) i"
    );
    for q in [rows.as_str(), "VACUUM ANALYZE cloudtwin_kv"] {
        if let Err(e) = pg.sql(DB, q) {
            eprintln!("  {e}");
        }
    }
    let read = format!(
        "\\set n random(0, 9999)\n\
         SELECT v FROM cloudtwin_kv WHERE tree = '{PGBENCH_TREE}' AND k = int8send(:n);\n"
    );
    let scan = format!(
        "\\set n random(0, 9900)\n\
         SELECT k, v FROM cloudtwin_kv WHERE tree = '{PGBENCH_TREE}' AND k >= int8send(:n) \
         ORDER BY k LIMIT 64;\n"
    );
    let write = format!(
        "\\set n random(0, 9999)\n\
         BEGIN ISOLATION LEVEL SERIALIZABLE;\n\
         SELECT v FROM cloudtwin_kv WHERE tree = '{PGBENCH_TREE}' AND k = int8send(:n);\n\
         INSERT INTO cloudtwin_kv (tree, k, v) SELECT * FROM unnest(ARRAY['{PGBENCH_TREE}']::text[], \
         ARRAY[int8send(:n)]::bytea[], ARRAY[convert_to(repeat('y', {size}), 'UTF8')]::bytea[]) \
         ON CONFLICT (tree, k) DO UPDATE SET v = excluded.v;\n\
         COMMIT;\n"
    );
    [read, scan, write]
}
