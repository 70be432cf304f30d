//! The store seam as the domains use it, through the library API (no server): the domains'
//! tree lists cover the store's catalogue, a reset drops only what they name, and an export
//! during concurrent writes is one consistent view.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cloudtwin::access::portable::TREES as ACCESS_TREES;
use cloudtwin::cvm::portable::{TASK_SEQ_KEY, TREES as CVM_TREES};
use cloudtwin::cvm::ExportTask;
use cloudtwin::imm::portable::TREES as IMM_TREES;
use cloudtwin::store::{encode, Durability, Store, Tree, TxError};

#[test]
fn the_domains_tree_lists_and_the_metadata_trees_cover_every_tree_exactly_once() {
    let listed: Vec<Tree> = CVM_TREES
        .iter()
        .chain(IMM_TREES.iter())
        .chain(ACCESS_TREES.iter())
        .chain(Tree::METADATA.iter())
        .copied()
        .collect();
    let unique: BTreeSet<Tree> = listed.iter().copied().collect();
    assert_eq!(
        unique.len(),
        listed.len(),
        "a tree is listed twice: {listed:?}"
    );
    assert_eq!(
        unique,
        Tree::ALL.into_iter().collect::<BTreeSet<_>>(),
        "every tree belongs to one domain or to the store"
    );
}

#[test]
fn a_whole_reset_empties_every_domain_tree_and_keeps_the_store_metadata() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path(), Durability::Sync).expect("open");
    store
        .transact(|tx| {
            for t in Tree::ALL {
                tx.insert(t, b"test.key", b"v")?;
            }
            Ok::<_, TxError<()>>(())
        })
        .expect("write");
    cloudtwin::fixture::reset(&store, None, None).expect("reset");
    for t in Tree::ALL {
        let kept = store.get(t, b"test.key").expect("get").is_some();
        assert_eq!(kept, Tree::METADATA.contains(&t), "{}", t.name());
    }
    assert!(store.schema_version().expect("schema") > 0);
}

fn task_seq(v: Option<Vec<u8>>) -> u64 {
    v.and_then(|v| v.try_into().ok())
        .map_or(0, u64::from_be_bytes)
}

#[test]
fn an_export_during_concurrent_writes_is_one_consistent_view() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path(), Durability::Sync).expect("open");
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    // Each write is what ExportImages does: the task and the task counter in `meta`, together.
    let writers: Vec<_> = (0..2)
        .map(|_| {
            let (store, stop, written) = (store.clone(), stop.clone(), written.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    store
                        .transact(|tx| {
                            let seq = task_seq(tx.get(Tree::Meta, TASK_SEQ_KEY)?) + 1;
                            tx.insert(Tree::Meta, TASK_SEQ_KEY, &seq.to_be_bytes())?;
                            let task = ExportTask {
                                task_id: seq,
                                owner: "100000000001".into(),
                                region: "ap-guangzhou".into(),
                                bucket: "b".into(),
                                format: "RAW".into(),
                                image_ids: vec!["img-00000001".into()],
                                cos_paths: vec![format!("/img-00000001_{seq}.raw")],
                                created_ms: 1,
                            };
                            let bytes = encode(&task).map_err(TxError::Abort)?;
                            tx.insert(Tree::ImageExports, &seq.to_be_bytes(), &bytes)?;
                            Ok(())
                        })
                        .expect("write");
                    written.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(Duration::from_micros(200));
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while written.load(Ordering::Relaxed) < 20 {
        assert!(Instant::now() < deadline, "the writers made no progress");
        std::thread::yield_now();
    }
    for _ in 0..10 {
        let doc = cloudtwin::fixture::export(&store).expect("export");
        let tasks = doc["cvm"]["ExportTasks"].as_array().expect("tasks").len() as u64;
        let seq = doc["cvm"]["ExportTaskSeq"].as_u64().expect("seq");
        assert_eq!(
            tasks, seq,
            "the task counter equals the tasks in the document"
        );
    }
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().expect("join");
    }
}
