//! The store: named trees of versioned records, serializable multi-tree transactions, and
//! durable acknowledgement.
//!
//! [`Store`] is the facade every caller uses; behind it stands one [`engine::Engine`] (sled,
//! `sled_engine.rs`, the only file here that names it). The interface is small on purpose
//! (point reads, prefix and range scans, a transaction over every tree, a durability barrier,
//! a bulk rewrite, a consistent read and a consistent copy) so that a database engine could
//! stand behind it later. Callers see [`Tree`], [`Tx`], [`Scan`] and [`StoreError`].
//!
//! A data dir holds `LOCK` (an exclusive lock held while a process has the store open),
//! `ACKED` (the acknowledged-sequence record, [`ack`]) and the engine's files (`store/` for
//! sled). The `meta` tree holds the schema version; opening a data dir written by an older
//! build runs the steps of the `cloudtwin-migrations` crate (`open.rs`).

mod ack;
mod commit;
mod copy;
pub mod engine;
mod error;
mod open;
mod pending;
mod pg_engine;
pub mod record;
mod rewrite;
mod scan;
mod sled_engine;
mod snapshot;
#[cfg(test)]
mod suite;
#[cfg(test)]
pub(crate) use suite::test_database;
mod tree;
mod tx;
mod view;

use std::cell::RefCell;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, RwLockWriteGuard};
use std::time::Duration;

use tokio::sync::watch;

pub use ack::AckStatus;
pub use copy::CopyStats;
pub use error::{Conflict, RewriteError, StoreError, TxError, TxFailure};
pub use pg_engine::{redact as redact_url, DEFAULT_POOL as DEFAULT_DB_POOL};
pub use record::{decode, encode, Record};
pub use rewrite::Change;
pub use scan::{prefix_end, RangeScan, Scan};
pub use tree::Tree;
pub use tx::Tx;
pub use view::ReadView;

use ack::Recorder;
use commit::GroupCommit;
use engine::{Engine, Stop};
use pending::Pending;
use view::{Epoch, EpochGuard};

/// Page-cache size used when none is given (MiB).
pub const DEFAULT_CACHE_MB: u64 = 128;

/// When a write counts as acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Only after the write is flushed to disk (group commit). The default.
    Sync,
    /// Immediately; a background flush runs every `ms` milliseconds.
    Interval {
        /// Flush period.
        ms: u64,
    },
}

struct Inner {
    path: PathBuf,
    engine: Arc<dyn Engine>,
    durability: Durability,
    /// Transactions hold it shared; a copy, a rewrite, a drop, a close and the fallback of a
    /// consistent read hold it exclusively.
    gate: RwLock<()>,
    /// Counts writes that begin and end, so that a consistent read can tell whether one ran
    /// while it read (see `view.rs`).
    epoch: Arc<Epoch>,
    /// `sync` mode on a data dir: the committed writes waiting for the next flush (see
    /// `pending.rs`); `None` where every transaction goes straight to the engine.
    pending: Option<Arc<Pending>>,
    commit: Arc<GroupCommit>,
    /// Runs and records every flush that acknowledges writes.
    recorder: Arc<Recorder>,
    /// What the acknowledged-sequence record said when the store was opened.
    ack_at_open: AckStatus,
    flusher_running: AtomicBool,
    stop: watch::Sender<bool>,
    /// The data dir's lock file (`None` over a database, which many nodes share).
    _lock: Option<File>,
}

impl Drop for Inner {
    /// A store dropped without [`Store::close`] still hands the batch's writes to the engine,
    /// which flushes what it holds when it closes.
    fn drop(&mut self) {
        if let Some(p) = &self.pending {
            if let Err(e) = p.apply() {
                tracing::warn!(error = %e, "cannot apply the committed writes at close");
            }
        }
    }
}

/// An open data dir. Cheap to clone; every clone is the same store.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

/// The exclusive gate held by a bulk write, which also counts as a write for consistent reads.
struct Exclusive<'a> {
    _epoch: EpochGuard<'a>,
    _gate: RwLockWriteGuard<'a, ()>,
}

impl Store {
    /// The engine, for reading (or writing in bulk): with every committed write of the
    /// transactions' batch in it first.
    fn engine(&self) -> &dyn Engine {
        self.settled(None)
    }

    /// The engine, with the batch's writes of `tree` (`None`: of every tree) in it first, so a
    /// read sees every transaction that returned.
    fn settled(&self, tree: Option<Tree>) -> &dyn Engine {
        if let Some(p) = &self.inner.pending {
            if p.holds(tree) {
                if let Err(e) = p.apply() {
                    tracing::warn!(error = %e, "cannot apply the committed writes before a read");
                }
            }
        }
        &*self.inner.engine
    }

    /// Takes the gate exclusively: no transaction runs until the guard is dropped, and every
    /// transaction that ran before is in the engine.
    fn exclusive(&self) -> RwLockWriteGuard<'_, ()> {
        let gate = self.inner.gate.write().unwrap_or_else(|p| p.into_inner());
        self.settled(None);
        gate
    }

    /// [`Store::exclusive`] for a bulk write: consistent reads that overlap it read again.
    fn exclusive_write(&self) -> Exclusive<'_> {
        let gate = self.exclusive();
        Exclusive {
            _epoch: self.inner.epoch.begin(),
            _gate: gate,
        }
    }

    /// Runs `f` over a read view of every tree (writers are not held off: for a stopped
    /// server's data dir, as `cloudtwin check` opens it).
    pub fn inspect<T>(&self, f: impl FnOnce(&ReadView<'_>) -> T) -> T {
        let _shared = self.inner.gate.read().unwrap_or_else(|p| p.into_inner());
        f(&ReadView::new(self.engine()))
    }

    /// Records per tree, in [`Tree::ALL`] order.
    pub fn tree_sizes(&self) -> Vec<(Tree, usize)> {
        Tree::ALL.iter().map(|t| (*t, self.len(*t))).collect()
    }

    /// What the acknowledged-sequence record said when the store was opened.
    pub fn ack_at_open(&self) -> AckStatus {
        self.inner.ack_at_open
    }

    /// The sequence of the last recorded flush.
    pub fn ack_seq(&self) -> u64 {
        self.inner.recorder.last()
    }

    /// Flushes the engine and records the flush (see [`ack`]): everything written before the
    /// call is then on disk, and a later open that finds less refuses to start.
    fn flush(&self) -> Result<(), StoreError> {
        self.inner.recorder.flush().map(|_| ())
    }

    /// The data dir.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The durability mode in force.
    pub fn durability(&self) -> Durability {
        self.inner.durability
    }

    /// What several nodes over this store share (a database's nonce and rate-limit
    /// statements); `None` for a data dir, which one process owns.
    pub fn shared(&self) -> Option<&dyn engine::Shared> {
        self.engine().shared()
    }

    /// Reads one key.
    pub fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.settled(Some(tree)).get(tree, key)
    }

    /// Reads several keys of one tree (one round trip on a database), in the order given.
    pub fn get_many(
        &self,
        tree: Tree,
        keys: &[Vec<u8>],
    ) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.settled(Some(tree)).get_many(tree, keys)
    }

    /// Number of keys in a tree (walks the tree).
    pub fn len(&self, tree: Tree) -> usize {
        self.settled(Some(tree)).len(tree)
    }

    /// Bytes the data dir takes on disk, as the engine reports it.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.engine().size_on_disk()
    }

    /// Runs `body` as one serializable transaction over every tree. The body may run more than
    /// once (on conflict), so it must not have side effects outside the transaction.
    /// The write is in memory when this returns (in `sync` mode on a data dir, in the batch that
    /// the next flush applies, `pending.rs`; every later read sees it): call
    /// [`Store::durable`] before acknowledging.
    pub fn transact<T, E>(
        &self,
        body: impl Fn(&Tx<'_>) -> Result<T, TxError<E>>,
    ) -> Result<T, TxFailure<E>> {
        self.transact_as(false, body)
    }

    /// [`Store::transact`] for a transaction of thousands of writes (a clustering task's
    /// groups): the same guarantees, but it goes to the engine on its own instead of joining
    /// the batch of committed writes (`pending.rs`), which would copy every write once more.
    pub fn transact_bulk<T, E>(
        &self,
        body: impl Fn(&Tx<'_>) -> Result<T, TxError<E>>,
    ) -> Result<T, TxFailure<E>> {
        self.transact_as(true, body)
    }

    fn transact_as<T, E>(
        &self,
        bulk: bool,
        body: impl Fn(&Tx<'_>) -> Result<T, TxError<E>>,
    ) -> Result<T, TxFailure<E>> {
        let _shared = self.inner.gate.read().unwrap_or_else(|p| p.into_inner());
        let _epoch = self.inner.epoch.begin();
        // The engine sees only "committed" or "aborted"; the caller's value and refusal wait
        // here (the last run of the body is the one that counts).
        let outcome: RefCell<Option<Result<T, E>>> = RefCell::new(None);
        let run = |txn: &dyn engine::Txn| match body(&Tx::new(txn)) {
            Ok(v) => {
                *outcome.borrow_mut() = Some(Ok(v));
                Ok(())
            }
            Err(TxError::Abort(e)) => {
                *outcome.borrow_mut() = Some(Err(e));
                Err(Stop::Abort)
            }
            Err(TxError::Conflict(c)) => Err(Stop::Conflict(c)),
        };
        let result = match &self.inner.pending {
            Some(p) if bulk => p.transact_direct(&run),
            Some(p) => p.transact(&run),
            None => self.inner.engine.transact(&run),
        };
        let outcome = outcome.into_inner();
        match (result, outcome) {
            (Ok(()), Some(Ok(v))) => {
                self.inner.recorder.mark_dirty();
                Ok(v)
            }
            (Err(TxFailure::Abort(())), Some(Err(e))) => Err(TxFailure::Abort(e)),
            (Err(TxFailure::Store(e)), _) => Err(TxFailure::Store(e)),
            _ => Err(TxFailure::Store(StoreError::Backend(
                "the engine ended a transaction without its body's result".into(),
            ))),
        }
    }

    /// Waits until every write committed before the call is on disk (in `sync` mode);
    /// returns at once in `interval` mode.
    pub async fn durable(&self) -> Result<(), StoreError> {
        if self.inner.engine.durable_commits() {
            return Ok(());
        }
        match self.inner.durability {
            Durability::Interval { .. } => Ok(()),
            Durability::Sync if self.inner.flusher_running.load(Ordering::Acquire) => {
                self.inner.commit.wait().await
            }
            Durability::Sync => {
                let recorder = self.inner.recorder.clone();
                tokio::task::spawn_blocking(move || recorder.flush().map(|_| ()))
                    .await
                    .map_err(|e| StoreError::Backend(e.to_string()))?
            }
        }
    }

    /// Starts the flusher on the current tokio runtime: the group commit in `sync` mode; in
    /// `interval` mode a recorded flush every period with writes (the only flush of that mode).
    pub fn start_flusher(&self) -> tokio::task::JoinHandle<()> {
        let recorder = self.inner.recorder.clone();
        let stop = self.inner.stop.subscribe();
        let handle = match self.inner.durability {
            Durability::Sync => {
                let flush = move || recorder.flush().map(|_| ()).map_err(|e| e.to_string());
                tokio::spawn(self.inner.commit.clone().run(flush, stop))
            }
            Durability::Interval { ms } => tokio::spawn(record_every(recorder, ms.max(1), stop)),
        };
        self.inner.flusher_running.store(true, Ordering::Release);
        handle
    }

    /// Number of flushes the group commit ran, and the last one's duration in microseconds.
    pub fn flush_stats(&self) -> (u64, u64) {
        (
            self.inner.commit.flushes.load(Ordering::Relaxed),
            self.inner.commit.last_flush_micros.load(Ordering::Relaxed),
        )
    }

    /// Transactions that joined the committed-writes batch and batches applied (both 0 where
    /// transactions go straight to the engine).
    pub fn batch_stats(&self) -> (u64, u64) {
        self.inner.pending.as_ref().map_or((0, 0), |p| p.stats())
    }

    /// Flushes everything and stops the flusher; used at shutdown.
    pub fn close(&self) -> Result<(), StoreError> {
        let _exclusive = self.exclusive();
        self.flush()?;
        self.inner.stop.send_replace(true);
        Ok(())
    }
}

/// `interval` mode: records a flush every `ms` milliseconds until `stop` fires.
async fn record_every(recorder: Arc<Recorder>, ms: u64, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_millis(ms));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let r = recorder.clone();
        match tokio::task::spawn_blocking(move || r.flush_if_dirty()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "periodic store flush failed"),
            Err(e) => tracing::error!(error = %e, "periodic store flush task failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upgrade_v1(bytes: &[u8]) -> Result<Option<Vec<u8>>, String> {
        match bytes.first() {
            Some(1) => Ok(Some([&[2u8][..], &bytes[1..], b"+m"].concat())),
            Some(2) => Ok(None),
            _ => Err("unknown".into()),
        }
    }

    const STEPS: &[cloudtwin_migrations::Step] = &[cloudtwin_migrations::Step {
        from: 1,
        name: "test-step",
        tree: "cvm.images",
        upgrade: upgrade_v1,
        derive: None,
        regroup: None,
    }];

    #[test]
    fn opening_an_older_data_dir_runs_the_steps_and_records_the_new_schema() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let s =
                Store::open_with_steps(dir.path(), Durability::Sync, &[], 1, 16).expect("open v1");
            s.transact(|tx| {
                tx.insert(Tree::Images, b"a", &[1, 7, 7])?;
                tx.insert(Tree::Images, b"b", &[2, 9])?;
                Ok::<_, TxError<()>>(())
            })
            .expect("write");
            s.close().expect("close");
        }
        let s =
            Store::open_with_steps(dir.path(), Durability::Sync, STEPS, 2, 16).expect("open v2");
        assert_eq!(s.schema_version().expect("schema"), 2);
        assert_eq!(
            s.get(Tree::Images, b"a").expect("get"),
            Some(vec![2, 7, 7, b'+', b'm'])
        );
        assert_eq!(s.get(Tree::Images, b"b").expect("get"), Some(vec![2, 9]));
    }

    /// The cost of the record, measured: one transaction then one flush, alternately with the
    /// engine's bare flush and with the recorded one (so that load from elsewhere hits both
    /// alike); prints the median and mean of each and the writes/s they make. Run with
    /// `cargo test --release --lib flush_cost -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement, not a check"]
    fn flush_cost() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = Store::open(dir.path(), Durability::Sync).expect("open");
        let mut times: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        let start = std::time::Instant::now();
        let mut n = 0u64;
        while start.elapsed() < Duration::from_secs(20) {
            for recorded in [false, true] {
                n += 1;
                let t = std::time::Instant::now();
                s.transact(|tx| {
                    tx.insert(Tree::Images, &n.to_be_bytes(), b"v")
                        .map_err(TxError::<()>::from)
                })
                .expect("write");
                if recorded {
                    s.flush().expect("recorded flush");
                } else {
                    s.engine().flush().expect("bare flush");
                }
                times[usize::from(recorded)].push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
        for (name, t) in ["bare engine flush", "recorded flush"]
            .iter()
            .zip(times.iter_mut())
        {
            t.sort_by(f64::total_cmp);
            let mean = t.iter().sum::<f64>() / t.len() as f64;
            println!(
                "{name}: {} samples, median {:.0} us, mean {:.0} us = {:.0} writes/s",
                t.len(),
                t[t.len() / 2],
                mean,
                1e6 / mean
            );
        }
    }
}
