//! The store's shared suite: one function per behaviour, each given a way to open a data dir
//! with the engine under test. [`engine_suite!`] turns the list into one `#[test]` per behaviour
//! and engine; every engine must pass all of it, but for what only a data dir has (its lock
//! file, the `ACKED` record and sled's flushes), which the PostgreSQL engine has not.
//!
//! The PostgreSQL suite needs a server: `CLOUDTWIN_TEST_PG_URL` names a superuser connection
//! (`tests/run.sh` starts a private one, `tests/pg.sh`); each test gets a database of its own,
//! named after its temp dir. Without the variable these tests fail, unless
//! `CLOUDTWIN_SKIP_PG=1` says to skip them.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::rewrite::{encode_change, REWRITE_CHUNK, REWRITE_KEY, SINGLE_REWRITE_MAX};
use super::*;

/// Opens a data dir with the engine under test.
pub(crate) type Opener = fn(&Path, Durability) -> Result<Store, StoreError>;

/// A generous deadline for anything a test waits for.
const PATIENCE: Duration = Duration::from_secs(30);

fn sync(open: Opener, dir: &Path) -> Store {
    open(dir, Durability::Sync).expect("open")
}

fn put(s: &Store, tree: Tree, key: &[u8], value: &[u8]) {
    s.transact(|tx| tx.insert(tree, key, value).map_err(TxError::<()>::from))
        .expect("write");
}

fn keys(scan: Scan) -> Vec<Vec<u8>> {
    scan.map(|r| r.expect("scan").0).collect()
}

fn numbered(n: usize, value: Option<&[u8]>) -> Vec<Change> {
    (0..n)
        .map(|i| Change {
            tree: if i % 2 == 0 {
                Tree::Images
            } else {
                Tree::ImmFiles
            },
            key: format!("k{i:06}").into_bytes(),
            value: value.map(<[u8]>::to_vec),
        })
        .collect()
}

fn journal_exists(s: &Store) -> bool {
    s.engine().journal_len().expect("journal").is_some()
}

/// The write generation (what `kept::KeptAnswers` keeps answers by) is known only where this
/// process is the only writer: on a data dir it stays the same across reads and changes with
/// every write, a bulk rewrite and a drop included; over a database it is never known.
pub(crate) fn the_write_generation_is_known_only_to_a_data_dirs_only_writer(open: Opener) {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = sync(open, dir.path());
    put(&s, Tree::Images, b"a", b"1");
    // A first read hands the batch of committed writes to the engine (`pending.rs`), which is
    // a write too.
    s.get(Tree::Images, b"a").expect("get");
    let Some(first) = s.generation() else {
        assert!(!s.is_local(), "a data dir knows its generation");
        put(&s, Tree::Images, b"b", b"2");
        assert_eq!(s.generation(), None, "a database never does");
        return;
    };
    s.get(Tree::Images, b"a").expect("get");
    let _ = keys(s.scan_prefix(Tree::Images, b""));
    assert_eq!(s.generation(), Some(first), "reads leave it");
    put(&s, Tree::Images, b"b", b"2");
    let second = s.generation().expect("known");
    assert_ne!(second, first, "a transaction changes it");
    s.rewrite(|_: &ReadView<'_>| Ok::<_, ()>(numbered(3, Some(b"x"))))
        .expect("rewrite");
    let third = s.generation().expect("known");
    assert_ne!(third, second, "a rewrite changes it");
    s.drop_trees(&[Tree::ImmFiles]).expect("drop");
    assert_ne!(s.generation().expect("known"), third, "a drop changes it");
}

/// A transaction writes every tree it touches or none; an abort after writes leaves nothing.
pub(crate) fn transactions_are_all_or_nothing_across_trees(open: Opener) {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = sync(open, dir.path());
    s.transact(|tx| {
        tx.insert(Tree::Images, b"a", b"1")?;
        tx.insert(Tree::ImageCounts, b"n", &1u64.to_be_bytes())?;
        tx.insert(Tree::ImmFiles, b"f", b"x")?;
        Ok::<_, TxError<()>>(())
    })
    .expect("write");
    let r = s.transact(|tx| {
        tx.insert(Tree::Images, b"b", b"2")?;
        tx.insert(Tree::ImageCounts, b"n", &2u64.to_be_bytes())?;
        tx.remove(Tree::ImmFiles, b"f")?;
        assert_eq!(
            tx.get(Tree::Images, b"b")?,
            Some(b"2".to_vec()),
            "reads its writes"
        );
        Err::<(), _>(TxError::Abort("no"))
    });
    assert!(matches!(r, Err(TxFailure::Abort("no"))));
    assert_eq!(s.get(Tree::Images, b"b").expect("get"), None);
    assert_eq!(
        s.get(Tree::ImageCounts, b"n").expect("get"),
        Some(1u64.to_be_bytes().to_vec())
    );
    assert_eq!(
        s.get(Tree::ImmFiles, b"f").expect("get"),
        Some(b"x".to_vec())
    );
    let v = s
        .transact(|tx| Ok::<_, TxError<()>>(tx.get(Tree::Images, b"a")?))
        .expect("read");
    assert_eq!(v, Some(b"1".to_vec()), "a body's value is returned");
}

/// Concurrent transactions that read and write the same key serialize: no increment is lost.
pub(crate) fn concurrent_transactions_serialize(open: Opener) {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = sync(open, dir.path());
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let s = s.clone();
            std::thread::spawn(move || {
                for _ in 0..50 {
                    s.transact(|tx| {
                        let n = tx
                            .get(Tree::ImageCounts, b"n")?
                            .map_or(0, |v| u64::from_be_bytes(v.try_into().unwrap_or([0; 8])));
                        tx.insert(Tree::ImageCounts, b"n", &(n + 1).to_be_bytes())?;
                        Ok::<_, TxError<()>>(())
                    })
                    .expect("increment");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("join");
    }
    assert_eq!(
        s.get(Tree::ImageCounts, b"n").expect("get"),
        Some(200u64.to_be_bytes().to_vec())
    );
}

/// Prefix scans stay within the prefix; `scan_after` pages forwards and backwards.
pub(crate) fn prefix_scans_and_scan_after_page_both_directions(open: Opener) {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = sync(open, dir.path());
    let all: [&[u8]; 6] = [b"a\x01", b"b\x01", b"b\x02", b"b\x03", b"b\xff", b"c\x01"];
    s.transact(|tx| {
        for k in all {
            tx.insert(Tree::Images, k, b"")?;
        }
        Ok::<_, TxError<()>>(())
    })
    .expect("write");
    let b: Vec<Vec<u8>> = all[1..5].iter().map(|k| k.to_vec()).collect();
    assert_eq!(keys(s.scan_prefix(Tree::Images, b"b")), b);
    assert_eq!(keys(s.scan_prefix(Tree::Images, b"")).len(), 6);
    assert!(keys(s.scan_prefix(Tree::ImageNames, b"")).is_empty());
    let page =
        |after: Option<&[u8]>, desc: bool| keys(s.scan_after(Tree::Images, b"b", after, desc));
    assert_eq!(page(None, false), b);
    assert_eq!(page(Some(b"b\x02"), false), b[2..].to_vec());
    let mut rev = b.clone();
    rev.reverse();
    assert_eq!(page(None, true), rev);
    assert_eq!(page(Some(b"b\x03"), true), rev[2..].to_vec());
    // Paging two at a time reaches every key once, both ways.
    for desc in [false, true] {
        let mut seen = Vec::new();
        let mut cursor: Option<Vec<u8>> = None;
        loop {
            let next: Vec<Vec<u8>> =
                keys(s.scan_after(Tree::Images, b"b", cursor.as_deref(), desc))
                    .into_iter()
                    .take(2)
                    .collect();
            let Some(last) = next.last().cloned() else {
                break;
            };
            seen.extend(next);
            cursor = Some(last);
        }
        assert_eq!(seen, if desc { rev.clone() } else { b.clone() });
    }
    assert_eq!(scan::prefix_end(b"\x01\xff"), Some(b"\x02".to_vec()));
    assert_eq!(scan::prefix_end(b"\xff"), None);
}

/// `get_many` answers every key in the order asked, `None` where there is none.
pub(crate) fn get_many_answers_in_the_order_asked(open: Opener) {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = sync(open, dir.path());
    put(&s, Tree::Images, b"a", b"1");
    put(&s, Tree::Images, b"c", b"3");
    put(&s, Tree::ImmFiles, b"b", b"other tree");
    let keys: Vec<Vec<u8>> = [&b"c"[..], b"b", b"a", b"c"]
        .iter()
        .map(|k| k.to_vec())
        .collect();
    assert_eq!(
        s.get_many(Tree::Images, &keys).expect("get_many"),
        vec![
            Some(b"3".to_vec()),
            None,
            Some(b"1".to_vec()),
            Some(b"3".to_vec())
        ]
    );
    assert!(s.get_many(Tree::Images, &[]).expect("none").is_empty());
}

/// `durable()` returns after a recorded flush that began after the write committed.
pub(crate) fn durable_acknowledges_after_a_recorded_flush(open: Opener) {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = sync(open, dir.path());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let flusher = s.start_flusher();
        let before = ack::read_side(dir.path()).expect("side").expect("seq");
        put(&s, Tree::Images, b"a", b"v");
        s.durable().await.expect("durable");
        let after = ack::read_side(dir.path()).expect("side").expect("seq");
        assert!(after > before, "side file {before} -> {after}");
        s.close().expect("close");
        flusher.await.expect("flusher");
    });
}

/// `interval` mode acknowledges at once and records a flush per period with writes only.
pub(crate) fn interval_mode_records_a_flush_every_period_with_writes(open: Opener) {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(dir.path(), Durability::Interval { ms: 20 }).expect("open");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let flusher = s.start_flusher();
        let start = s.ack_seq();
        put(&s, Tree::Images, b"a", b"v");
        s.durable().await.expect("acknowledged at once");
        let deadline = Instant::now() + PATIENCE;
        while s.ack_seq() <= start {
            assert!(Instant::now() < deadline, "no periodic flush recorded");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let recorded = s.ack_seq();
        assert_eq!(ack::read_side(dir.path()).expect("side"), Some(recorded));
        // Idle: nothing committed, nothing recorded.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(s.ack_seq(), recorded, "an idle store records no flushes");
        s.close().expect("close");
        flusher.await.expect("flusher");
    });
}

/// Every recorded flush (a plain one, a rewrite's, a drop's) advances both sequences.
pub(crate) fn every_recorded_flush_advances_both_sequences(open: Opener) {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = sync(open, dir.path());
    let first = s.ack_seq();
    assert_eq!(ack::read_side(dir.path()).expect("side"), Some(first));
    put(&s, Tree::Images, b"a", b"v");
    s.flush().expect("flush");
    assert_eq!(s.ack_seq(), first + 1);
    assert_eq!(
        ack::read_store_seq(s.engine()).expect("seq"),
        Some(first + 1)
    );
    assert_eq!(ack::read_side(dir.path()).expect("side"), Some(first + 1));
    s.rewrite(|_| Ok::<_, ()>(numbered(4, Some(b"v"))))
        .expect("rewrite");
    s.drop_trees(&[Tree::ImmFiles]).expect("drop");
    assert!(
        s.ack_seq() >= first + 4,
        "a rewrite and a drop record their flushes"
    );
    assert_eq!(ack::read_side(dir.path()).expect("side"), Some(s.ack_seq()));
    s.close().expect("close");
    drop(s);
    let s = sync(open, dir.path());
    assert!(!s.ack_at_open().lost_acknowledged_writes());
    assert_eq!(s.ack_at_open().store, s.ack_at_open().acknowledged);
}

/// A store behind its `ACKED` record is refused, naming `cloudtwin restore`; check still opens.
pub(crate) fn a_store_behind_its_acknowledged_sequence_is_refused(open: Opener) {
    let dir = tempfile::tempdir().expect("tempdir");
    let seq = {
        let s = sync(open, dir.path());
        put(&s, Tree::Images, b"a", b"v");
        s.close().expect("close");
        s.ack_seq()
    };
    drop(ack::create_side(dir.path(), seq + 3).expect("side"));
    let err = open(dir.path(), Durability::Sync)
        .err()
        .expect("must refuse");
    let text = err.to_string();
    assert!(matches!(err, StoreError::Damaged { .. }), "{text}");
    assert!(text.contains("cloudtwin restore"), "{text}");
    assert!(
        text.contains(&format!("store sequence is {seq}"))
            && text.contains(&format!("acknowledged sequence {}", seq + 3)),
        "{text}"
    );
    let c = Store::open_for_check(dir.path(), 16).expect("inspect");
    assert!(c.ack_at_open().lost_acknowledged_writes());
    assert!(c.flush().is_err(), "inspection never records");
    drop(c);
    assert_eq!(ack::read_side(dir.path()).expect("side"), Some(seq + 3));
}

/// A store one ahead of its side file (a crash between the flush and the record) opens.
pub(crate) fn a_store_ahead_of_its_side_file_opens(open: Opener) {
    let dir = tempfile::tempdir().expect("tempdir");
    let seq = {
        let s = sync(open, dir.path());
        put(&s, Tree::Images, b"a", b"v");
        s.close().expect("close");
        s.ack_seq()
    };
    drop(ack::create_side(dir.path(), seq - 1).expect("side"));
    let s = sync(open, dir.path());
    assert_eq!(s.ack_seq(), seq);
    s.flush().expect("flush");
    assert_eq!(ack::read_side(dir.path()).expect("side"), Some(seq + 1));
}

/// A data dir of the release before the record opens and starts recording.
pub(crate) fn a_data_dir_without_a_record_opens_and_starts_recording(open: Opener) {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let s = sync(open, dir.path());
        put(&s, Tree::Images, b"a", b"v");
        s.close().expect("close");
        s.engine()
            .put(Tree::Meta, ack::ACK_KEY, None)
            .expect("unrecord");
        s.engine().flush().expect("flush without recording");
    }
    std::fs::remove_file(ack::side_path(dir.path())).expect("remove side file");
    let s = sync(open, dir.path());
    assert_eq!(ack::read_side(dir.path()).expect("side"), Some(0));
    assert_eq!(s.get(Tree::Images, b"a").expect("get"), Some(b"v".to_vec()));
    s.flush().expect("flush");
    assert_eq!(ack::read_store_seq(s.engine()).expect("seq"), Some(1));
    assert_eq!(ack::read_side(dir.path()).expect("side"), Some(1));
}

/// A second open of an open data dir is refused as in use.
pub(crate) fn a_second_open_is_refused_as_in_use(open: Opener) {
    let dir = tempfile::tempdir().expect("tempdir");
    let _first = sync(open, dir.path());
    let err = open(dir.path(), Durability::Sync)
        .err()
        .expect("second open must fail");
    assert!(matches!(err, StoreError::InUse(_)), "{err}");
    assert!(err.to_string().contains("in use"));
}

/// A fresh data dir gets this build's schema; a newer one is refused.
pub(crate) fn schema_is_recorded_and_a_newer_one_refused(open: Opener) {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let s = sync(open, dir.path());
        assert_eq!(
            s.schema_version().expect("schema"),
            cloudtwin_migrations::CURRENT_SCHEMA
        );
        s.set_schema_for_test(cloudtwin_migrations::CURRENT_SCHEMA + 1);
    }
    let err = open(dir.path(), Durability::Sync)
        .err()
        .expect("must refuse");
    assert!(err.to_string().contains("newer cloudtwin"), "{err}");
}

/// Reopening keeps every record, also after the recovery snapshot (refused while open).
pub(crate) fn reopen_keeps_data(open: Opener) {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = sync(open, dir.path());
    put(&s, Tree::Images, b"k", b"v");
    put(&s, Tree::ImmClusterOrder, b"o", b"w");
    let local = s.is_local();
    if local {
        assert!(matches!(
            Store::write_recovery_snapshot(dir.path()),
            Err(StoreError::InUse(_))
        ));
    }
    s.close().expect("close");
    drop(s);
    let s = sync(open, dir.path());
    assert_eq!(s.get(Tree::Images, b"k").expect("get"), Some(b"v".to_vec()));
    s.close().expect("close");
    drop(s);
    if local {
        Store::write_recovery_snapshot(dir.path()).expect("snapshot");
    }
    let s = sync(open, dir.path());
    assert_eq!(s.get(Tree::Images, b"k").expect("get"), Some(b"v".to_vec()));
    assert_eq!(
        s.get(Tree::ImmClusterOrder, b"o").expect("get"),
        Some(b"w".to_vec())
    );
}

/// A rewrite applies every change of its plan, or none when the plan refuses.
pub(crate) fn a_rewrite_applies_every_change_or_none(open: Opener) {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = sync(open, dir.path());
    let n = s
        .rewrite(|view| {
            assert!(view.get(Tree::Images, b"a").expect("get").is_none());
            Ok::<_, ()>(vec![
                Change {
                    tree: Tree::Images,
                    key: b"a".to_vec(),
                    value: Some(b"1".to_vec()),
                },
                Change {
                    tree: Tree::ImageNames,
                    key: b"n".to_vec(),
                    value: Some(b"a".to_vec()),
                },
            ])
        })
        .expect("rewrite");
    assert_eq!(n, 2);
    let refused = s.rewrite(|_| Err::<Vec<Change>, _>("no"));
    assert!(matches!(refused, Err(RewriteError::Plan("no"))));
    s.rewrite(|view| {
        let ks = keys(view.scan_prefix(Tree::Images, b""));
        Ok::<_, ()>(
            ks.into_iter()
                .map(|key| Change {
                    tree: Tree::Images,
                    key,
                    value: None,
                })
                .collect(),
        )
    })
    .expect("remove");
    assert_eq!(s.get(Tree::Images, b"a").expect("get"), None);
    assert_eq!(
        s.get(Tree::ImageNames, b"n").expect("get"),
        Some(b"a".to_vec())
    );
}

/// A large rewrite goes through the journal and leaves none behind.
pub(crate) fn a_journaled_rewrite_applies_every_change_and_leaves_no_journal(open: Opener) {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = sync(open, dir.path());
    let n = SINGLE_REWRITE_MAX + REWRITE_CHUNK / 2;
    let written = s
        .rewrite(|_| Ok::<_, ()>(numbered(n, Some(b"v"))))
        .expect("rewrite");
    assert_eq!(written, n);
    assert_eq!(s.len(Tree::Images) + s.len(Tree::ImmFiles), n);
    assert!(!journal_exists(&s));
    assert_eq!(s.get(Tree::Meta, REWRITE_KEY).expect("get"), None);
    s.rewrite(|_| Ok::<_, ()>(numbered(n, None)))
        .expect("remove");
    assert_eq!(s.len(Tree::Images) + s.len(Tree::ImmFiles), 0);
}

/// A committed journal that a crash left unapplied is applied whole at the next open.
pub(crate) fn a_committed_journal_is_applied_whole_at_the_next_open(open: Opener) {
    let dir = tempfile::tempdir().expect("tempdir");
    let n = REWRITE_CHUNK + 10;
    {
        let s = sync(open, dir.path());
        s.write_journal(&numbered(n, Some(b"v"))).expect("journal");
        assert_eq!(s.len(Tree::Images), 0);
        s.close().expect("close");
    }
    let s = sync(open, dir.path());
    assert_eq!(s.len(Tree::Images) + s.len(Tree::ImmFiles), n);
    assert_eq!(
        s.get(Tree::ImmFiles, b"k000001").expect("get"),
        Some(b"v".to_vec())
    );
    assert!(!journal_exists(&s));
    assert_eq!(s.get(Tree::Meta, REWRITE_KEY).expect("get"), None);
}

/// A journal without its commit mark is dropped at the next open, none of it applied.
pub(crate) fn a_journal_without_its_commit_mark_is_dropped(open: Opener) {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let s = sync(open, dir.path());
        s.write_journal(&numbered(100, Some(b"v")))
            .expect("journal");
        s.engine()
            .put(Tree::Meta, REWRITE_KEY, None)
            .expect("unmark");
        s.close().expect("close");
    }
    let s = sync(open, dir.path());
    assert_eq!(s.len(Tree::Images) + s.len(Tree::ImmFiles), 0);
    assert!(!journal_exists(&s));
}

/// Dropped trees are empty, others untouched; an interrupted drop finishes at open.
pub(crate) fn dropped_trees_are_empty_and_an_interrupted_drop_finishes(open: Opener) {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let s = sync(open, dir.path());
        s.transact(|tx| {
            tx.insert(Tree::Images, b"a", b"1")?;
            tx.insert(Tree::ImageNames, b"n", b"a")?;
            tx.insert(Tree::ImmProjects, b"p", b"x")?;
            Ok::<_, TxError<()>>(())
        })
        .expect("write");
        s.drop_trees(&[Tree::Images]).expect("drop");
        assert_eq!(s.get(Tree::Images, b"a").expect("get"), None);
        assert_eq!(
            s.get(Tree::ImageNames, b"n").expect("get"),
            Some(b"a".to_vec())
        );
        put(&s, Tree::Images, b"b", b"2");
        assert_eq!(s.get(Tree::Images, b"b").expect("get"), Some(b"2".to_vec()));
        // A crash between the record and the drop: the record is there, the data too.
        s.engine()
            .put(Tree::Meta, rewrite::DROPPING_KEY, Some(b"cvm.image_names"))
            .expect("mark");
        s.close().expect("close");
    }
    let s = sync(open, dir.path());
    assert_eq!(
        s.get(Tree::ImageNames, b"n").expect("get"),
        None,
        "the drop finished"
    );
    assert_eq!(s.get(Tree::Images, b"b").expect("get"), Some(b"2".to_vec()));
    assert_eq!(
        s.get(Tree::ImmProjects, b"p").expect("get"),
        Some(b"x".to_vec())
    );
    assert_eq!(s.get(Tree::Meta, rewrite::DROPPING_KEY).expect("get"), None);
}

/// A copy is a sled data dir (whatever the engine copied) that opens with the same records
/// and a matching `ACKED`.
pub(crate) fn a_copy_is_an_openable_data_dir_with_the_same_records(open: Opener) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let dest = out.path().join("copy");
    {
        let s = sync(open, dir.path());
        put(&s, Tree::Images, b"k", b"v");
        s.flush().expect("flush");
        let stats = s.copy_to(&dest).expect("copy");
        assert!(stats.records >= 2);
        assert!(
            s.copy_to(&dest).is_err(),
            "copy into a non-empty dir must fail"
        );
    }
    let c = Store::open(&dest, Durability::Sync).expect("open the copy");
    assert_eq!(c.get(Tree::Images, b"k").expect("get"), Some(b"v".to_vec()));
    let st = c.ack_at_open();
    assert!(
        st.acknowledged.is_some() && st.store == st.acknowledged,
        "{st:?}"
    );
}

/// A consistent read during concurrent writes sees every write whole or not at all: each
/// write adds an image and bumps the count in the same transaction, and every read finds the
/// count equal to the images it saw.
pub(crate) fn a_consistent_read_during_writes_sees_whole_writes(open: Opener) {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = sync(open, dir.path());
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let (s, stop, written) = (s.clone(), stop.clone(), written.clone());
            std::thread::spawn(move || {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    s.transact(|tx| {
                        let n = count(tx.get(Tree::ImageCounts, b"n")?);
                        tx.insert(Tree::Images, format!("{w}-{i:08}").as_bytes(), b"img")?;
                        tx.insert(Tree::ImageCounts, b"n", &(n + 1).to_be_bytes())?;
                        Ok::<_, TxError<()>>(())
                    })
                    .expect("write");
                    written.fetch_add(1, Ordering::Relaxed);
                    // Room between writes, as between requests, so that reads also find
                    // quiet moments (the fallback is tried either way).
                    std::thread::sleep(Duration::from_micros(200));
                }
            })
        })
        .collect();
    let deadline = Instant::now() + PATIENCE;
    while written.load(Ordering::Relaxed) < 50 {
        assert!(Instant::now() < deadline, "the writers made no progress");
        std::thread::yield_now();
    }
    for _ in 0..10 {
        let (images, n) = s
            .read_consistent(|view| {
                let images = view.scan_prefix(Tree::Images, b"").count() as u64;
                let n = count(view.get(Tree::ImageCounts, b"n")?);
                Ok::<_, StoreError>((images, n))
            })
            .expect("read");
        assert_eq!(images, n, "the count index equals the images read");
    }
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().expect("join");
    }
}

fn count(v: Option<Vec<u8>>) -> u64 {
    v.and_then(|v| v.try_into().ok())
        .map_or(0, u64::from_be_bytes)
}

/// A consistent read holds no gate: a write commits while a read is in the middle. Without
/// snapshots (sled) the read then runs again and sees it; with them (a database) the read
/// runs once and sees the moment it began.
pub(crate) fn a_consistent_read_does_not_block_writers(open: Opener) {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = sync(open, dir.path());
    put(&s, Tree::Images, b"a", b"1");
    let runs = std::cell::Cell::new(0);
    let seen = s
        .read_consistent(|view| {
            runs.set(runs.get() + 1);
            let first = keys(view.scan_prefix(Tree::Images, b""));
            if runs.get() == 1 {
                // A writer on another thread must finish while this read is open.
                let w = s.clone();
                let writer = std::thread::spawn(move || put(&w, Tree::Images, b"b", b"2"));
                let deadline = Instant::now() + PATIENCE;
                while !writer.is_finished() {
                    assert!(
                        Instant::now() < deadline,
                        "a writer waited for a consistent read"
                    );
                    std::thread::sleep(Duration::from_millis(1));
                }
                writer.join().expect("writer");
            }
            Ok::<_, StoreError>(first)
        })
        .expect("read");
    if s.engine().snapshot().is_some() {
        assert_eq!(runs.get(), 1, "a snapshot read runs once");
        assert_eq!(seen, vec![b"a".to_vec()], "the snapshot's moment");
        assert_eq!(
            s.get(Tree::Images, b"b").expect("get"),
            Some(b"2".to_vec()),
            "the write committed during the read"
        );
    } else {
        assert_eq!(runs.get(), 2, "the overlapped read ran again");
        assert_eq!(seen, vec![b"a".to_vec(), b"b".to_vec()]);
    }
    assert!(s.writes_begun() >= 2);
}

/// Journal entries round-trip; damaged ones are refused.
pub(crate) fn journal_entries_round_trip(_open: Opener) {
    let put = Change {
        tree: Tree::ImmClusterOrder,
        key: b"a\0b".to_vec(),
        value: Some(Vec::new()),
    };
    let del = Change {
        tree: Tree::Meta,
        key: Vec::new(),
        value: None,
    };
    for c in [put, del] {
        assert_eq!(
            rewrite::decode_change(&encode_change(&c)).expect("decode"),
            c
        );
    }
    assert!(rewrite::decode_change(&[0, 1, 0, 0, 0, 9, b'k']).is_err());
    assert!(rewrite::decode_change(&[250, 1, 0, 0, 0, 0]).is_err());
    assert!(rewrite::decode_change(&[0]).is_err());
}

/// One `#[test]` per behaviour of the suite, for the engine that `$open` opens.
macro_rules! engine_suite {
    ($engine:ident, $open:expr, [$($behaviour:ident),* $(,)?]) => {
        mod $engine {
            $(
                #[test]
                fn $behaviour() {
                    super::$behaviour($open)
                }
            )*
        }
    };
}

/// A database of its own for the data dir `dir` (the same one every time for one dir, so that
/// reopening finds the data), on the server of `CLOUDTWIN_TEST_PG_URL`; `None` when the
/// PostgreSQL tests are skipped on purpose.
pub(crate) fn test_database(dir: &Path) -> Option<String> {
    let Ok(admin) = std::env::var("CLOUDTWIN_TEST_PG_URL") else {
        assert!(
            std::env::var("CLOUDTWIN_SKIP_PG").is_ok_and(|v| v == "1"),
            "CLOUDTWIN_TEST_PG_URL is not set: run tests/run.sh (it starts a private \
             PostgreSQL), or set CLOUDTWIN_SKIP_PG=1 to skip the PostgreSQL tests"
        );
        eprintln!("CLOUDTWIN_SKIP_PG=1: PostgreSQL test skipped");
        return None;
    };
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in dir.as_os_str().as_encoded_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let name = format!("ct_{h:016x}");
    let mut client =
        ::postgres::Client::connect(&admin, ::postgres::NoTls).expect("connect to the test server");
    if let Err(e) = client.batch_execute(&format!("CREATE DATABASE {name}")) {
        assert_eq!(
            e.code(),
            Some(&::postgres::error::SqlState::DUPLICATE_DATABASE),
            "create database {name}: {e}"
        );
    }
    let (base, _) = admin.rsplit_once('/').expect("the URL names a database");
    Some(format!("{base}/{name}"))
}

fn open_pg(dir: &Path, durability: Durability) -> Result<Store, StoreError> {
    match test_database(dir) {
        Some(url) => Store::open_database(&url, durability, 4),
        None => Store::open(dir, durability),
    }
}

/// The behaviours every engine has, as one `#[test]` each for `$engine`.
macro_rules! every_engine {
    ($engine:ident, $open:expr) => {
        engine_suite!(
            $engine,
            $open,
            [
                transactions_are_all_or_nothing_across_trees,
                the_write_generation_is_known_only_to_a_data_dirs_only_writer,
                concurrent_transactions_serialize,
                get_many_answers_in_the_order_asked,
                prefix_scans_and_scan_after_page_both_directions,
                schema_is_recorded_and_a_newer_one_refused,
                reopen_keeps_data,
                a_rewrite_applies_every_change_or_none,
                a_journaled_rewrite_applies_every_change_and_leaves_no_journal,
                a_committed_journal_is_applied_whole_at_the_next_open,
                a_journal_without_its_commit_mark_is_dropped,
                dropped_trees_are_empty_and_an_interrupted_drop_finishes,
                a_copy_is_an_openable_data_dir_with_the_same_records,
                a_consistent_read_during_writes_sees_whole_writes,
                a_consistent_read_does_not_block_writers,
                journal_entries_round_trip,
            ]
        );
    };
}

every_engine!(pg, super::open_pg);
every_engine!(sled, super::Store::open);

// What only a data dir has: its lock file, the `ACKED` record, sled's flushes.
engine_suite!(
    sled_data_dir,
    super::Store::open,
    [
        durable_acknowledges_after_a_recorded_flush,
        interval_mode_records_a_flush_every_period_with_writes,
        every_recorded_flush_advances_both_sequences,
        a_store_behind_its_acknowledged_sequence_is_refused,
        a_store_ahead_of_its_side_file_opens,
        a_data_dir_without_a_record_opens_and_starts_recording,
        a_second_open_is_refused_as_in_use,
    ]
);
