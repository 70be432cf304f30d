//! Nothing acknowledged is lost: the real binary under concurrent writes is SIGKILLed at
//! random moments, restarted, and every acknowledged write is found. Ten rounds.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use serde_json::json;

const ROUNDS: usize = 10;
const WRITERS: usize = 6;

/// Per image: the highest description sequence number acknowledged.
type Acked = Arc<Mutex<HashMap<String, u64>>>;

fn jitter_ms(lo: u64, hi: u64) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(7);
    lo + (nanos.wrapping_mul(2654435761) % (hi - lo))
}

fn seq_of(desc: &str) -> u64 {
    desc.strip_prefix("seq-")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[test]
fn acknowledged_writes_survive_kill_9_at_random_moments() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let mut server = Server::start_at(tmp.path(), &data, &Opts::default());
    let acked: Acked = Arc::new(Mutex::new(HashMap::new()));
    let mut total_acked_writes = 0usize;

    for round in 0..ROUNDS {
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let c = server.client();
                let acked = acked.clone();
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut n = 0usize;
                    // Each writer creates its own image, then keeps rewriting its description.
                    let name = format!("r{round}-w{w}");
                    let id = match c.try_call(
                        "CreateImage",
                        json!({"ImageName": name, "InstanceId": "ins-abcdefgh"}),
                    ) {
                        Ok(a) if a.ok() => a.response["ImageId"].as_str().expect("id").to_string(),
                        _ => return n,
                    };
                    acked.lock().expect("lock").insert(id.clone(), 0);
                    n += 1;
                    let mut seq = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        seq += 1;
                        let r = c.try_call(
                            "ModifyImageAttribute",
                            json!({"ImageId": id, "ImageDescription": format!("seq-{seq}")}),
                        );
                        match r {
                            Ok(a) if a.ok() => {
                                acked.lock().expect("lock").insert(id.clone(), seq);
                                n += 1;
                            }
                            Ok(a) => panic!("unexpected error answer {}", a.response),
                            Err(_) => return n,
                        }
                    }
                    n
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(jitter_ms(80, 500)));
        server.kill9();
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            total_acked_writes += w.join().expect("writer");
        }
        server = server.restart();
        let c = server.client();
        let expected = acked.lock().expect("lock").clone();
        for (id, seq) in &expected {
            let img = c
                .image(id)
                .unwrap_or_else(|| panic!("round {round}: acknowledged image {id} is gone"));
            let stored = seq_of(img["ImageDescription"].as_str().unwrap_or(""));
            // The stored value is the last acknowledged one, or one write later that landed
            // without its answer reaching the client before the kill.
            assert!(
                stored == *seq || stored == seq + 1,
                "round {round}: image {id} acknowledged seq {seq}, found {stored}"
            );
            acked.lock().expect("lock").insert(id.clone(), stored);
        }
    }
    assert!(
        total_acked_writes > ROUNDS * WRITERS,
        "too few writes to prove anything: {total_acked_writes}"
    );
    let listed = server
        .client()
        .call(
            "DescribeImages",
            json!({"Filters": [{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}], "Limit": 100}),
        )
        .expect_ok();
    // Every acknowledged image is listed; a CreateImage that landed but whose answer the kill
    // cut off may be listed too (at most one per writer and round).
    let (listed, acked) = (
        listed["TotalCount"].as_u64().expect("count") as usize,
        acked.lock().expect("lock").len(),
    );
    assert!(
        listed >= acked && listed <= acked + ROUNDS * WRITERS,
        "{listed} images listed, {acked} acknowledged"
    );
}

/// A document with `n` files in one dataset, all named after `tag`.
fn files_doc(tag: &str, n: usize) -> serde_json::Value {
    let place = json!({"AccountId": ACCOUNT_1, "Region": "cn-hangzhou", "ProjectName": "p", "DatasetName": "d"});
    let files: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let mut f = place.clone();
            f["URI"] = json!(format!("oss://b/{tag}/{i}.jpg"));
            f
        })
        .collect();
    json!({"format": "cloudtwin-state", "version": 1, "imm": {
        "Projects": [{"AccountId": ACCOUNT_1, "Region": "cn-hangzhou", "ProjectName": "p"}],
        "Datasets": [place], "Files": files}})
}

/// The file URIs of the exported state, sorted.
fn exported_uris(server: &Server) -> Vec<String> {
    let v: serde_json::Value = ureq::get(&format!("{}/_cloudtwin/state", server.base))
        .set("Authorization", &format!("Bearer {ADMIN_TOKEN}"))
        .call()
        .expect("export")
        .into_json()
        .expect("json");
    let mut uris: Vec<String> = v["imm"]["Files"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["URI"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    uris.sort();
    uris
}

fn put_state(base: &str, doc: &serde_json::Value) -> Result<u16, String> {
    ureq::put(&format!("{base}/_cloudtwin/state"))
        .set("Authorization", &format!("Bearer {ADMIN_TOKEN}"))
        .send_string(&doc.to_string())
        .map(|r| r.status())
        .map_err(|e| e.to_string())
}

/// Large imports are applied in parts behind a journal: a `kill -9` at any moment leaves the
/// state that was there before, or the whole imported one, never a mix.
#[test]
fn an_import_killed_at_any_moment_leaves_the_old_state_or_the_whole_new_one() {
    const FILES: usize = 6_000; // about 12k changes: more than one part
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let mut server = Server::start_at(tmp.path(), &data, &Opts::default());
    let first = files_doc("r0", FILES);
    let t = std::time::Instant::now();
    assert_eq!(put_state(&server.base, &first), Ok(200));
    let took = t.elapsed().as_millis().max(20) as u64;
    let mut current = exported_uris(&server);
    assert_eq!(current.len(), FILES);
    let (mut old_kept, mut new_whole) = (0, 0);
    for round in 1..=6 {
        let doc = files_doc(&format!("r{round}"), FILES + round);
        let base = server.base.clone();
        let put = std::thread::spawn(move || put_state(&base, &doc));
        std::thread::sleep(Duration::from_millis(jitter_ms(1, took + took / 2)));
        server.kill9();
        let _ = put.join().expect("import thread");
        server = server.restart();
        let after = exported_uris(&server);
        let wanted: Vec<String> = {
            let mut w: Vec<String> = (0..FILES + round)
                .map(|i| format!("oss://b/r{round}/{i}.jpg"))
                .collect();
            w.sort();
            w
        };
        if after == current {
            old_kept += 1;
        } else {
            assert_eq!(
                after.len(),
                wanted.len(),
                "round {round}: a mix of the old and the new state"
            );
            assert_eq!(after, wanted, "round {round}: not the imported state");
            new_whole += 1;
        }
        current = after;
    }
    eprintln!("old state kept {old_kept} times, new state whole {new_whole} times");
}
