//! The storage seam: what an engine must do for the [`super::Store`] facade. One engine today
//! (`sled_engine.rs`); a database engine (serializable transactions retried on a serialization
//! failure, scans by key range) implements the same two traits and passes the same suite
//! (`suite.rs`).
//!
//! The facade keeps everything that is not the engine's: the write gate, the commit epoch of
//! consistent reads, group commit and the acknowledged-sequence record, the rewrite journal's
//! format, the lock file. An engine only stores bytes under `(tree, key)`.

use std::ops::Bound;
use std::path::Path;

use super::error::{Conflict, StoreError, TxFailure};
use super::tree::Tree;

/// Items of a scan: `(key, value)` in key order (or reversed).
pub type Item = Result<(Vec<u8>, Vec<u8>), StoreError>;

/// A scan as an engine returns it.
pub type EngineScan = Box<dyn Iterator<Item = Item> + Send>;

/// How a transaction body stopped, as the engine sees it: the caller's value (kept by the
/// facade) is not the engine's business.
#[derive(Debug)]
pub enum Stop {
    /// The caller refused; the engine writes nothing and returns `TxFailure::Abort(())`.
    Abort,
    /// A read or write inside the transaction reported a conflict or a failure.
    Conflict(Conflict),
}

/// One transaction's view of every tree.
pub trait Txn {
    /// Reads a key as of this transaction.
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, Conflict>;
    /// Writes a key; visible to later reads of this transaction.
    fn insert(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<(), Conflict>;
    /// Removes a key.
    fn remove(&self, tree: Tree, key: &[u8]) -> Result<(), Conflict>;
}

/// Reads outside a transaction: of the engine, or of one consistent snapshot of it.
pub trait Reader: Send + Sync {
    /// Reads one key, outside any transaction.
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Scans the keys in `(lo, hi)`, in key order, or reversed when `descending`.
    fn range(
        &self,
        tree: Tree,
        lo: Bound<Vec<u8>>,
        hi: Bound<Vec<u8>>,
        descending: bool,
    ) -> EngineScan;

    /// Reads several keys of one tree, in the order given (a database reads them in one
    /// round trip; the default reads them one by one).
    fn get_many(&self, tree: Tree, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        keys.iter().map(|k| self.get(tree, k)).collect()
    }
}

/// What the nodes of one database share beyond the trees: single statements that each decide
/// at once for every node (no transaction retries on the request path).
pub trait Shared: Send + Sync {
    /// Records an Alibaba signature nonce until `expires_ms`; false when it was already
    /// recorded and has not expired (a replay, seen by any node).
    fn claim_nonce(&self, nonce: &str, now_ms: u64, expires_ms: u64) -> Result<bool, StoreError>;

    /// One request against the GCRA bucket `bucket` (one emission every `interval_us`, a
    /// burst of `tolerance_us / interval_us + 1`): `None` when allowed, else how long until
    /// the next one would be, in microseconds.
    fn gcra(
        &self,
        bucket: &str,
        now_us: u64,
        interval_us: u64,
        tolerance_us: u64,
    ) -> Result<Option<u64>, StoreError>;
}

/// A storage engine: named trees of byte keys and values.
pub trait Engine: Reader + 'static {
    /// Number of keys in a tree.
    fn len(&self, tree: Tree) -> usize;

    /// Writes (`Some`) or removes (`None`) one key outside any transaction: store bookkeeping
    /// in `meta` and migrations, never domain writes.
    fn put(&self, tree: Tree, key: &[u8], value: Option<&[u8]>) -> Result<(), StoreError>;

    /// Runs `body` as one serializable transaction over every tree, again after a conflict,
    /// until it commits, aborts ([`Stop::Abort`] gives `TxFailure::Abort(())`) or fails.
    fn transact(&self, body: &dyn Fn(&dyn Txn) -> Result<(), Stop>) -> Result<(), TxFailure<()>>;

    /// Empties whole trees at once (the caller holds the exclusive gate).
    fn drop_trees(&self, trees: &[Tree]) -> Result<(), StoreError>;

    /// Makes everything written so far durable.
    fn flush(&self) -> Result<(), StoreError>;

    /// Bytes the engine's files take on disk.
    fn size_on_disk(&self) -> Result<u64, StoreError>;

    /// Opens a new, empty engine of the same kind in the data dir `dir` (the target of a
    /// consistent copy).
    fn create_like(&self, dir: &Path) -> Result<Box<dyn Engine>, StoreError>;

    /// Number of entries in the rewrite journal, `None` when there is none.
    fn journal_len(&self) -> Result<Option<usize>, StoreError>;
    /// Empties (creating if needed) the rewrite journal.
    fn journal_clear(&self) -> Result<(), StoreError>;
    /// Appends entries numbered from `first` to the journal, in one batch.
    fn journal_append(&self, first: u64, entries: &[Vec<u8>]) -> Result<(), StoreError>;
    /// The journal's entries in order (empty when there is none).
    fn journal_entries(&self) -> EngineScan;
    /// Removes the journal.
    fn journal_drop(&self) -> Result<(), StoreError>;

    /// True when a committed transaction is already durable (a database): the facade's
    /// flushes and group commit then have nothing to wait for.
    fn durable_commits(&self) -> bool {
        false
    }

    /// The most changes a rewrite applies in one transaction before it goes through the
    /// journal in parts.
    fn single_rewrite_max(&self) -> usize {
        super::rewrite::SINGLE_REWRITE_MAX
    }

    /// A reader of one moment of every tree, when the engine has snapshots (`None`: the
    /// facade's optimistic consistent read is used instead).
    fn snapshot(&self) -> Option<Result<Box<dyn Reader>, StoreError>> {
        None
    }

    /// What several nodes over this engine share, when they can (`None`: one process owns
    /// the store and keeps those in memory).
    fn shared(&self) -> Option<&dyn Shared> {
        None
    }

    /// The engine and where its data is, for logs and messages.
    fn describe(&self) -> String;
}
