//! Transactions that share one engine commit: the writes of `sync` mode's transactions wait
//! here, in memory, for the next flush, which commits all of them as one engine transaction.
//!
//! Why: a sled transaction (like a sled batch) pins its log, which seals and writes the current
//! log buffer and then a batch manifest of its own: two log writes, each a `pwrite` and a
//! waiting `sync_file_range`, for every transaction, before the flush that acknowledges it
//! writes a third. On the 2-core machine those writes' kernel time (device kicks, interrupts,
//! wakeups) was most of a durable write's CPU. Here a transaction's body runs against an
//! overlay (its own writes, then the batch's, then the engine), its writes join the batch, and
//! the flush applies the batch in one engine transaction: the log is pinned once per flush,
//! whatever the number of writers it acknowledges.
//!
//! What stays true:
//! - **Serializable.** Every body runs under the batch's lock and reads the engine with the
//!   batch laid over it; nothing else writes the data trees meanwhile (a bulk write holds the
//!   exclusive gate, and takes it only after the batch is applied, [`super::Store::exclusive`]).
//! - **All or nothing.** A body that aborts leaves nothing in the batch; the batch goes to the
//!   engine in one transaction, so a crash keeps all of it or none of it (none of it was
//!   acknowledged: acknowledging waits for the flush that follows the apply).
//! - **Read your writes.** Every read outside a transaction first applies the batch when it holds
//!   writes of the tree read (`Store::settled`), so what a transaction wrote is what anyone reads
//!   after it returned, acknowledged or not, as before.
//! - **Bounded.** A batch that reaches [`MAX_WRITES`] keys is applied by the transaction that
//!   filled it.
//!
//! Only a data dir in `sync` mode batches: in `interval` mode nothing waits for a flush, and a
//! database makes every commit durable itself.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::engine::{Engine, Stop, Txn};
use super::error::{Conflict, ConflictKind, StoreError, TxFailure};
use super::tree::Tree;
use super::view::Epoch;

/// Keys a batch holds before the transaction that fills it applies it.
pub(crate) const MAX_WRITES: usize = 4096;

/// `(tree, key) -> value` (`None`: removed), applied in key order (sled descends its trees
/// less when the keys come sorted).
type Writes = BTreeMap<(Tree, Vec<u8>), Option<Vec<u8>>>;

thread_local! {
    /// True while this thread runs a body under the batch's lock: a read outside the
    /// transaction from inside a body must not try to apply the batch (it would wait for the
    /// lock this thread holds).
    static IN_BODY: Cell<bool> = const { Cell::new(false) };
}

/// The writes of committed transactions not yet in the engine.
pub(crate) struct Pending {
    engine: Arc<dyn Engine>,
    epoch: Arc<Epoch>,
    writes: Mutex<Writes>,
    /// One bit per tree ([`Tree::index`]) that has writes in the batch.
    trees: AtomicU32,
    /// Transactions that joined a batch, and batches applied (for the metrics).
    joined: AtomicU64,
    applied: AtomicU64,
}

impl Pending {
    pub(crate) fn new(engine: Arc<dyn Engine>, epoch: Arc<Epoch>) -> Pending {
        Pending {
            engine,
            epoch,
            writes: Mutex::new(BTreeMap::new()),
            trees: AtomicU32::new(0),
            joined: AtomicU64::new(0),
            applied: AtomicU64::new(0),
        }
    }

    /// True when the batch holds writes of `tree` (`None`: of any tree).
    pub(crate) fn holds(&self, tree: Option<Tree>) -> bool {
        let bits = self.trees.load(Ordering::Acquire);
        match tree {
            Some(t) => bits & (1 << t.index()) != 0,
            None => bits != 0,
        }
    }

    /// Transactions that joined a batch and batches applied so far.
    pub(crate) fn stats(&self) -> (u64, u64) {
        (
            self.joined.load(Ordering::Relaxed),
            self.applied.load(Ordering::Relaxed),
        )
    }

    fn lock(&self) -> MutexGuard<'_, Writes> {
        self.writes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `body` against the batch laid over the engine; on success its writes join the
    /// batch. The same contract as [`Engine::transact`].
    pub(crate) fn transact(
        &self,
        body: &dyn Fn(&dyn Txn) -> Result<(), Stop>,
    ) -> Result<(), TxFailure<()>> {
        let mut batch = self.lock();
        let overlay = Overlay {
            engine: &*self.engine,
            batch: &batch,
            own: RefCell::new(BTreeMap::new()),
        };
        IN_BODY.with(|b| b.set(true));
        let outcome = body(&overlay);
        IN_BODY.with(|b| b.set(false));
        let own = overlay.own.into_inner();
        match outcome {
            Ok(()) => {}
            Err(Stop::Abort) => return Err(TxFailure::Abort(())),
            // The overlay never reports a retry (nothing else writes while the lock is held);
            // a failed read ends the transaction.
            Err(Stop::Conflict(Conflict(ConflictKind::Failed(e)))) => {
                return Err(TxFailure::Store(e))
            }
            Err(Stop::Conflict(Conflict(ConflictKind::Retry))) => {
                return Err(TxFailure::Store(StoreError::Backend(
                    "a transaction reported a conflict where none can happen".into(),
                )))
            }
        }
        let mut bits = 0u32;
        for ((tree, key), value) in own {
            bits |= 1 << tree.index();
            batch.insert((tree, key), value);
        }
        self.trees.fetch_or(bits, Ordering::Release);
        self.joined.fetch_add(1, Ordering::Relaxed);
        if batch.len() >= MAX_WRITES {
            self.apply_locked(&mut batch).map_err(TxFailure::Store)?;
        }
        Ok(())
    }

    /// Runs `body` as its own engine transaction, after the batch (and holding the batch's
    /// lock, so no batched transaction runs meanwhile): for a transaction of thousands of
    /// writes, which gains nothing from sharing a log pin and would pay for the overlay.
    pub(crate) fn transact_direct(
        &self,
        body: &dyn Fn(&dyn Txn) -> Result<(), Stop>,
    ) -> Result<(), TxFailure<()>> {
        let mut batch = self.lock();
        self.apply_locked(&mut batch).map_err(TxFailure::Store)?;
        IN_BODY.with(|b| b.set(true));
        let result = self.engine.transact(body);
        IN_BODY.with(|b| b.set(false));
        result
    }

    /// Writes the batch into the engine as one transaction. A failed apply keeps the batch
    /// (its writes stay visible to transactions, and the next apply tries again); the flush that
    /// called it fails, so none of them is acknowledged.
    pub(crate) fn apply(&self) -> Result<(), StoreError> {
        if IN_BODY.with(|b| b.get()) || !self.holds(None) {
            return Ok(());
        }
        self.apply_locked(&mut self.lock())
    }

    fn apply_locked(&self, batch: &mut Writes) -> Result<(), StoreError> {
        if batch.is_empty() {
            self.trees.store(0, Ordering::Release);
            return Ok(());
        }
        let _write = self.epoch.begin();
        let written = self.engine.transact(&|txn| {
            for ((tree, key), value) in batch.iter() {
                let done = match value {
                    Some(v) => txn.insert(*tree, key, v),
                    None => txn.remove(*tree, key),
                };
                done.map_err(Stop::Conflict)?;
            }
            Ok(())
        });
        match written {
            Ok(()) => {
                batch.clear();
                self.trees.store(0, Ordering::Release);
                self.applied.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(TxFailure::Store(e)) => Err(e),
            Err(TxFailure::Abort(())) => Err(StoreError::Backend(
                "the engine refused to apply a batch of committed writes".into(),
            )),
        }
    }
}

/// A body's view: its own writes, then the batch's, then the engine.
struct Overlay<'a> {
    engine: &'a dyn Engine,
    batch: &'a Writes,
    own: RefCell<Writes>,
}

impl Txn for Overlay<'_> {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, Conflict> {
        let k = (tree, key.to_vec());
        if let Some(v) = self.own.borrow().get(&k) {
            return Ok(v.clone());
        }
        if let Some(v) = self.batch.get(&k) {
            return Ok(v.clone());
        }
        self.engine
            .get(tree, key)
            .map_err(|e| Conflict(ConflictKind::Failed(e)))
    }

    fn insert(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<(), Conflict> {
        self.own
            .borrow_mut()
            .insert((tree, key.to_vec()), Some(value.to_vec()));
        Ok(())
    }

    fn remove(&self, tree: Tree, key: &[u8]) -> Result<(), Conflict> {
        self.own.borrow_mut().insert((tree, key.to_vec()), None);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{Durability, Store, StoreError, Tree, TxError, TxFailure};

    fn put(s: &Store, key: &[u8], value: &[u8]) {
        s.transact(|tx| {
            tx.insert(Tree::Images, key, value)
                .map_err(TxError::<()>::from)
        })
        .expect("write");
    }

    fn count(s: &Store, key: &[u8]) -> u64 {
        s.get(Tree::Images, key)
            .expect("get")
            .map_or(0, |v| u64::from_be_bytes(v.try_into().unwrap_or([0; 8])))
    }

    #[test]
    fn transactions_that_wait_for_one_flush_are_applied_as_one_batch() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = Store::open(dir.path(), Durability::Sync).expect("open");
        for i in 0..10u8 {
            put(&s, &[b'k', i], &[i]);
        }
        assert_eq!(s.batch_stats(), (10, 0), "ten joined, none applied yet");
        s.flush().expect("flush");
        assert_eq!(
            s.batch_stats(),
            (10, 1),
            "one flush applied all ten at once"
        );
        drop(s);
        let s = Store::open(dir.path(), Durability::Sync).expect("reopen");
        for i in 0..10u8 {
            assert_eq!(s.get(Tree::Images, &[b'k', i]).expect("get"), Some(vec![i]));
        }
    }

    #[test]
    fn a_read_sees_every_transaction_that_returned_before_any_flush() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = Store::open(dir.path(), Durability::Sync).expect("open");
        put(&s, b"a", b"1");
        put(&s, b"b", b"2");
        // A read of another tree leaves the batch alone; a read of the tree applies it.
        assert_eq!(s.get(Tree::ImmTasks, b"a").expect("get"), None);
        assert_eq!(s.batch_stats(), (2, 0));
        assert_eq!(s.get(Tree::Images, b"a").expect("get"), Some(b"1".to_vec()));
        assert_eq!(s.batch_stats(), (2, 1));
        let keys: Vec<Vec<u8>> = s
            .scan_prefix(Tree::Images, b"")
            .map(|i| i.expect("item").0)
            .collect();
        assert_eq!(keys, vec![b"a".to_vec(), b"b".to_vec()]);
        put(&s, b"c", b"3");
        let seen = s
            .read_consistent(|view| {
                Ok::<_, StoreError>(view.scan_prefix(Tree::Images, b"").count())
            })
            .expect("read");
        assert_eq!(seen, 3, "a consistent read applies the batch first");
    }

    #[test]
    fn a_body_reads_the_batch_and_an_aborted_body_leaves_nothing_in_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = Store::open(dir.path(), Durability::Sync).expect("open");
        put(&s, b"a", b"1");
        let refused = s.transact(|tx| {
            tx.insert(Tree::Images, b"b", b"2")?;
            tx.remove(Tree::Images, b"a")?;
            Err::<(), _>(TxError::Abort("no"))
        });
        assert!(matches!(refused, Err(TxFailure::Abort("no"))));
        let read = s
            .transact(|tx| {
                let a = tx.get(Tree::Images, b"a")?;
                let b = tx.get(Tree::Images, b"b")?;
                tx.insert(Tree::Images, b"c", b"3")?;
                let c = tx.get(Tree::Images, b"c")?;
                Ok::<_, TxError<()>>((a, b, c))
            })
            .expect("read");
        assert_eq!(
            read,
            (Some(b"1".to_vec()), None, Some(b"3".to_vec())),
            "the batch's write, not the aborted ones, and the body's own"
        );
        assert_eq!(s.batch_stats().0, 2, "the aborted body did not join");
        assert_eq!(s.get(Tree::Images, b"b").expect("get"), None);
    }

    #[test]
    fn concurrent_increments_with_readers_and_flushes_lose_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = Store::open(dir.path(), Durability::Sync).expect("open");
        let bump = |s: &Store| {
            s.transact(|tx| {
                let n = tx
                    .get(Tree::Images, b"n")?
                    .map_or(0, |v| u64::from_be_bytes(v.try_into().unwrap_or([0; 8])));
                tx.insert(Tree::Images, b"n", &(n + 1).to_be_bytes())?;
                Ok::<_, TxError<()>>(())
            })
            .expect("bump")
        };
        std::thread::scope(|scope| {
            for w in 0..3 {
                let s = s.clone();
                scope.spawn(move || {
                    for i in 0..300 {
                        bump(&s);
                        if (i + w) % 7 == 0 {
                            let _ = count(&s, b"n");
                        }
                        if (i + w) % 50 == 0 {
                            s.flush().expect("flush");
                        }
                    }
                });
            }
            let s = s.clone();
            scope.spawn(move || {
                let mut last = 0;
                while last < 900 {
                    let now = count(&s, b"n");
                    assert!(now >= last, "a read went back from {last} to {now}");
                    last = now;
                    std::thread::yield_now();
                }
            });
        });
        assert_eq!(count(&s, b"n"), 900);
        let (joined, applied) = s.batch_stats();
        assert_eq!(joined, 900);
        assert!(applied >= 1 && applied <= joined, "{applied} batches");
    }

    #[test]
    fn a_bulk_transaction_follows_the_batch_and_sees_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = Store::open(dir.path(), Durability::Sync).expect("open");
        put(&s, b"a", b"1");
        let seen = s
            .transact_bulk(|tx| {
                let a = tx.get(Tree::Images, b"a")?;
                tx.insert(Tree::Images, b"big", b"x")?;
                Ok::<_, TxError<()>>(a)
            })
            .expect("bulk");
        assert_eq!(seen, Some(b"1".to_vec()));
        assert_eq!(
            s.batch_stats(),
            (1, 1),
            "the batch went first, the bulk one on its own"
        );
        assert_eq!(
            s.get(Tree::Images, b"big").expect("get"),
            Some(b"x".to_vec())
        );
    }

    #[test]
    fn interval_mode_does_not_batch() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = Store::open(dir.path(), Durability::Interval { ms: 1000 }).expect("open");
        put(&s, b"a", b"1");
        assert_eq!(s.batch_stats(), (0, 0));
        assert_eq!(s.get(Tree::Images, b"a").expect("get"), Some(b"1".to_vec()));
    }
}
