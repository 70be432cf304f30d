//! A damaged store never serves a silent partial state. One flipped byte in the part of sled's
//! log written since the last start made sled end its log there, and the server used to start
//! and serve a fraction of the acknowledged images without a word. Now every trial ends either
//! with every acknowledged image served or with a refusal to start that names
//! `cloudtwin restore`. `cloudtwin check` tells a clean data dir from a damaged one.

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;
use serde_json::json;

/// Images written before the damage.
const IMAGES: usize = 150;
/// Offsets tried per data dir (each on a fresh copy of it).
const TRIALS: usize = 8;

/// How a start on a damaged data dir ended.
#[derive(Debug)]
enum Outcome {
    /// It started and served these of the acknowledged images.
    Served { found: usize, of: usize },
    /// It refused to start; its error output.
    Refused(String),
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read") {
        let e = e.expect("entry");
        let dest = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).expect("copy");
        }
    }
}

/// sled 0.34 keeps its log in one file, `db`, in the store folder.
fn sled_log(data_dir: &Path) -> PathBuf {
    data_dir.join("store").join("db")
}

/// `n` positions, spread evenly, the last one included, of the bytes of the log that differ
/// from `before` (the log as the run started): the part written since the start, where a
/// torn or rotted byte lands.
fn damage_offsets(log: &Path, before: &[u8], n: usize) -> Vec<u64> {
    let after = std::fs::read(log).expect("read log");
    let written: Vec<u64> = (0..after.len())
        .filter(|&i| before.get(i) != Some(&after[i]))
        .map(|i| i as u64)
        .collect();
    assert!(
        written.len() >= n,
        "only {} bytes of the log were written since the start",
        written.len()
    );
    let step = written.len() / n;
    (0..n)
        .map(|k| written[written.len() - 1 - k * step])
        .collect()
}

fn flip_byte(log: &Path, offset: u64) {
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(log)
        .expect("open log");
    let mut b = [0u8; 1];
    f.seek(SeekFrom::Start(offset)).expect("seek");
    f.read_exact(&mut b).expect("read");
    b[0] ^= 0x5a;
    f.seek(SeekFrom::Start(offset)).expect("seek");
    f.write_all(&b).expect("write");
    f.sync_all().expect("sync");
}

/// Every private image id the server lists, paging through all of them.
fn listed_ids(c: &Client) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut offset = 0;
    loop {
        let r = c.call(
            "DescribeImages",
            json!({"Filters": [{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}],
                   "Offset": offset, "Limit": 100}),
        );
        let r = r.expect_ok();
        let page = r["ImageSet"].as_array().cloned().unwrap_or_default();
        if page.is_empty() {
            return ids;
        }
        offset += page.len();
        for img in page {
            ids.insert(img["ImageId"].as_str().expect("id").to_string());
        }
    }
}

/// Starts `serve` on the data dir; reports what it served of `acked` or why it refused.
fn start_and_count(config: &Path, data_dir: &Path, acked: &BTreeSet<String>) -> Outcome {
    let mut child = Command::new(bin())
        .args(["serve", "--config"])
        .arg(config)
        .arg("--data-dir")
        .arg(data_dir)
        .env("CLOUDTWIN_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cloudtwin");
    let mut stderr = child.stderr.take().expect("stderr piped");
    let drain = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let line = first_line(&mut child);
    let Some(base) = line.trim().strip_prefix("cloudtwin listening on ") else {
        let status = child.wait().expect("wait");
        let err = drain.join().expect("stderr");
        assert!(!status.success(), "exited 0 without serving: {err}");
        return Outcome::Refused(err);
    };
    let c = Client::new(base, SECRET_ID_1, SECRET_KEY_1);
    let listed = listed_ids(&c);
    let _ = child.kill();
    let _ = child.wait();
    let _ = drain.join();
    Outcome::Served {
        found: acked.intersection(&listed).count(),
        of: acked.len(),
    }
}

/// Runs `cloudtwin check`; returns whether it passed and what it printed (stdout and stderr).
fn check(config: &Path, data_dir: &Path) -> (bool, String) {
    let out = Command::new(bin())
        .args(["check", "--config"])
        .arg(config)
        .arg("--data-dir")
        .arg(data_dir)
        .env("CLOUDTWIN_LOG", "warn")
        .output()
        .expect("run check");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// Writes [`IMAGES`] images through signed CreateImage; returns their ids.
fn write_images(s: &Server, tag: &str) -> BTreeSet<String> {
    let c = s.client();
    (0..IMAGES)
        .map(|i| c.create(&format!("{tag}-{i}")))
        .collect()
}

/// Damages fresh copies of `pristine` at [`TRIALS`] offsets of its log that differ from
/// `before` and asserts that no start serves part of `acked`. Returns the outcomes.
fn assert_never_partial(
    dir: &Path,
    pristine: &Path,
    before: &[u8],
    acked: &BTreeSet<String>,
) -> Vec<(u64, Outcome)> {
    let offsets = damage_offsets(&sled_log(pristine), before, TRIALS);
    let mut outcomes = Vec::new();
    for (k, off) in offsets.into_iter().enumerate() {
        let trial = dir.join(format!("trial-{k}"));
        copy_dir(pristine, &trial);
        flip_byte(&sled_log(&trial), off);
        let config = dir.join(format!("trial-{k}.toml"));
        std::fs::write(&config, config_text(&trial, &Opts::default())).expect("config");
        let outcome = start_and_count(&config, &trial, acked);
        eprintln!("byte {off} flipped: {outcome:?}");
        // `cloudtwin check` agrees: damage where the server refused, clean where it served all.
        let (clean, out) = check(&config, &trial);
        assert_eq!(
            clean,
            matches!(outcome, Outcome::Served { .. }),
            "byte {off} flipped: the server's verdict was {outcome:?}, check says:\n{out}"
        );
        outcomes.push((off, outcome));
        let _ = std::fs::remove_dir_all(&trial);
    }
    for (off, outcome) in &outcomes {
        match outcome {
            Outcome::Served { found, of } => assert_eq!(
                found, of,
                "byte {off} flipped: served {found} of {of} acknowledged images without a word"
            ),
            Outcome::Refused(err) => assert!(
                err.contains("cloudtwin restore"),
                "byte {off} flipped: refused without naming `cloudtwin restore`: {err}"
            ),
        }
    }
    outcomes
}

/// A first run that ends cleanly leaves a snapshot; a second run writes more and ends by
/// `end`; then bytes of what the second run wrote are flipped, one trial each.
fn flip_what_a_second_run_wrote(end: fn(&mut Server)) {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let mut s = Server::start_at(tmp.path(), &data, &Opts::default());
    let mut acked = write_images(&s, "first");
    assert!(s.terminate().success());
    let before = std::fs::read(sled_log(&data)).expect("log");
    let mut s = s.restart();
    acked.extend(write_images(&s, "second"));
    end(&mut s);
    assert_never_partial(tmp.path(), &data, &before, &acked);
}

#[test]
fn a_flipped_byte_after_kill_9_never_serves_part_of_the_acknowledged_images() {
    flip_what_a_second_run_wrote(Server::kill9);
}

#[test]
fn a_flipped_byte_after_a_graceful_stop_never_serves_part_of_the_acknowledged_images() {
    flip_what_a_second_run_wrote(|s| assert!(s.terminate().success()));
}

#[test]
fn a_flipped_byte_in_a_fresh_data_dir_killed_with_9_never_serves_part_of_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let mut s = Server::start_at(tmp.path(), &data, &Opts::default());
    let acked = write_images(&s, "fresh");
    s.kill9();
    assert!(
        !std::fs::read_dir(data.join("store"))
            .expect("store dir")
            .any(|e| e
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .starts_with("snap.")),
        "a fresh data dir killed with -9 has no snapshot file"
    );
    assert_never_partial(tmp.path(), &data, &[], &acked);
}

/// Writes/s of signed CreateImage from 16 clients (by default) for 10 s (`durability = "sync"`: each answer
/// waits for its group flush). A measurement, not a check: run with
/// `cargo test --release --test integrity create_image_write_rate -- --ignored --nocapture`;
/// `CLOUDTWIN_RATE_BIN` names another binary to measure (an older build, say),
/// `CLOUDTWIN_RATE_CLIENTS` another number of clients.
#[test]
#[ignore = "a measurement, not a check"]
fn create_image_write_rate() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let config = tmp.path().join("config.toml");
    let opts = Opts {
        quota: 1_000_000,
        ..Opts::default()
    };
    std::fs::write(&config, config_text(&data, &opts)).expect("config");
    let binary = std::env::var("CLOUDTWIN_RATE_BIN").unwrap_or_else(|_| bin().to_string());
    let mut child = Command::new(&binary)
        .args(["serve", "--config"])
        .arg(&config)
        .env("CLOUDTWIN_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let base = read_base(&mut child);
    let clients: usize = std::env::var("CLOUDTWIN_RATE_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let writers: Vec<_> = (0..clients)
        .map(|w| {
            let c = Client::new(&base, SECRET_ID_1, SECRET_KEY_1);
            std::thread::spawn(move || {
                let mut n = 0u64;
                while std::time::Instant::now() < deadline {
                    c.create(&format!("rate-{w}-{n}"));
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: u64 = writers.into_iter().map(|w| w.join().expect("writer")).sum();
    let _ = child.kill();
    let _ = child.wait();
    println!(
        "{binary}: CreateImage, {clients} clients: {:.0} writes/s",
        total as f64 / 10.0
    );
}
