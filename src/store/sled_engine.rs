//! The sled 0.34 engine: one sled tree per [`Tree`], sled's multi-tree transactions, and the
//! rewrite journal in a tree of its own. The only file of the store that names sled.

use std::ops::Bound;
use std::path::Path;
use std::sync::RwLock;
use std::time::Duration;

use sled::transaction::{
    ConflictableTransactionError, TransactionError, TransactionalTree, UnabortableTransactionError,
};
use sled::Transactional;

use super::engine::{Engine, EngineScan, Item, Reader, Stop, Txn};
use super::error::{Conflict, ConflictKind, StoreError, TxFailure};
use super::tree::Tree;

/// Name of sled's folder in a data dir.
pub(crate) const SLED_DIR: &str = "store";
/// The sled tree that holds a large rewrite's changes until they are applied.
const JOURNAL_TREE: &str = "rewrite_journal";
/// How long [`open_sled`] waits for sled's own file lock.
const SLED_LOCK_PATIENCE: Duration = Duration::from_secs(10);

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

/// A data dir's sled database.
pub(crate) struct SledEngine {
    db: sled::Db,
    /// The trees, in [`Tree::ALL`] order. Replaced only by a drop (which the facade runs under
    /// its exclusive gate); everything else holds the lock shared for a moment.
    trees: RwLock<Vec<sled::Tree>>,
}

impl SledEngine {
    /// Opens sled in `dir` (the caller holds the data dir's lock file). sled's own periodic
    /// flush is off in both durability modes: every flush goes through the store's recorder
    /// (group commit, or one recorded flush per `interval` period), so none runs twice.
    pub(crate) fn open(dir: &Path, cache_mb: u64) -> Result<SledEngine, StoreError> {
        let db = open_sled(
            dir,
            sled::Config::new()
                .path(dir.join(SLED_DIR))
                .cache_capacity(cache_mb.max(8) * 1024 * 1024)
                .flush_every_ms(None),
        )?;
        Self::over(db)
    }

    fn over(db: sled::Db) -> Result<SledEngine, StoreError> {
        let trees = Tree::ALL
            .iter()
            .map(|t| db.open_tree(t.name()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SledEngine {
            db,
            trees: RwLock::new(trees),
        })
    }

    /// A new sled database in the (empty) data dir `dir`: the target of a consistent copy.
    pub(crate) fn create_in(dir: &Path) -> Result<SledEngine, StoreError> {
        let db = sled::Config::new().path(dir.join(SLED_DIR)).open()?;
        Self::over(db)
    }

    /// True when `dir` holds sled's folder.
    pub(crate) fn exists_in(dir: &Path) -> bool {
        dir.join(SLED_DIR).is_dir()
    }

    fn tree(&self, tree: Tree) -> sled::Tree {
        self.trees.read().unwrap_or_else(|p| p.into_inner())[tree.index()].clone()
    }

    fn journal_present(&self) -> bool {
        self.db
            .tree_names()
            .iter()
            .any(|n| n.as_ref() == JOURNAL_TREE.as_bytes())
    }
}

/// Opens and closes sled's files in `dir` (the caller holds the lock file), so that sled saves
/// its page-table snapshot (see [`super::Store::write_recovery_snapshot`]).
pub(crate) fn write_recovery_snapshot(dir: &Path) -> Result<(), StoreError> {
    let db = open_sled(dir, sled::Config::new().path(dir.join(SLED_DIR)))?;
    db.flush()?;
    drop(db);
    Ok(())
}

/// Opens sled once the caller holds the data dir's lock file. sled 0.34 releases the lock on
/// its files only when the last of its background jobs lets go of them, which can be a moment
/// after the `Db` that held them was dropped in this process; with our own lock held, nobody
/// else can be using the files, so a lock refusal here is that moment and is waited out.
/// sled's report of a damaged log or snapshot becomes [`StoreError::Damaged`] of `dir`.
fn open_sled(dir: &Path, config: sled::Config) -> Result<sled::Db, StoreError> {
    let deadline = std::time::Instant::now() + SLED_LOCK_PATIENCE;
    loop {
        match config.open() {
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e @ sled::Error::Corruption { .. }) => {
                return Err(StoreError::Damaged {
                    path: dir.to_path_buf(),
                    detail: format!("sled cannot read its files ({e})"),
                })
            }
            other => return Ok(other?),
        }
    }
}

/// A sled iterator as the facade's scan: owned bytes, forwards or backwards.
struct SledScan {
    iter: sled::Iter,
    descending: bool,
}

impl Iterator for SledScan {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        let item = if self.descending {
            self.iter.next_back()
        } else {
            self.iter.next()
        };
        item.map(|r| {
            r.map(|(k, v)| (k.to_vec(), v.to_vec()))
                .map_err(StoreError::from)
        })
    }
}

fn conflict(e: UnabortableTransactionError) -> Conflict {
    Conflict(match e {
        UnabortableTransactionError::Conflict => ConflictKind::Retry,
        UnabortableTransactionError::Storage(e) => ConflictKind::Failed(e.into()),
    })
}

/// What ends a sled transaction body: the caller's abort, or an engine failure carried out
/// through sled's abort channel (sled cannot be handed our error as its own).
enum Ended {
    Abort,
    Failed(StoreError),
}

struct SledTxn<'a> {
    views: &'a [TransactionalTree],
}

impl Txn for SledTxn<'_> {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, Conflict> {
        self.views[tree.index()]
            .get(key)
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(conflict)
    }

    fn insert(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<(), Conflict> {
        self.views[tree.index()]
            .insert(key, value)
            .map(|_| ())
            .map_err(conflict)
    }

    fn remove(&self, tree: Tree, key: &[u8]) -> Result<(), Conflict> {
        self.views[tree.index()]
            .remove(key)
            .map(|_| ())
            .map_err(conflict)
    }
}

impl Reader for SledEngine {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree(tree).get(key)?.map(|v| v.to_vec()))
    }

    fn range(
        &self,
        tree: Tree,
        lo: Bound<Vec<u8>>,
        hi: Bound<Vec<u8>>,
        descending: bool,
    ) -> EngineScan {
        Box::new(SledScan {
            iter: self.tree(tree).range::<Vec<u8>, _>((lo, hi)),
            descending,
        })
    }
}

impl Engine for SledEngine {
    fn describe(&self) -> String {
        "sled".into()
    }

    fn len(&self, tree: Tree) -> usize {
        self.tree(tree).len()
    }

    fn put(&self, tree: Tree, key: &[u8], value: Option<&[u8]>) -> Result<(), StoreError> {
        let t = self.tree(tree);
        match value {
            Some(v) => t.insert(key, v)?,
            None => t.remove(key)?,
        };
        Ok(())
    }

    fn transact(&self, body: &dyn Fn(&dyn Txn) -> Result<(), Stop>) -> Result<(), TxFailure<()>> {
        let trees = self.trees.read().unwrap_or_else(|p| p.into_inner());
        let result = trees.as_slice().transaction(|views| {
            body(&SledTxn { views }).map_err(|stop| match stop {
                Stop::Abort => ConflictableTransactionError::Abort(Ended::Abort),
                Stop::Conflict(Conflict(ConflictKind::Retry)) => {
                    ConflictableTransactionError::Conflict
                }
                Stop::Conflict(Conflict(ConflictKind::Failed(e))) => {
                    ConflictableTransactionError::Abort(Ended::Failed(e))
                }
            })
        });
        match result {
            Ok(()) => Ok(()),
            Err(TransactionError::Abort(Ended::Abort)) => Err(TxFailure::Abort(())),
            Err(TransactionError::Abort(Ended::Failed(e))) => Err(TxFailure::Store(e)),
            Err(TransactionError::Storage(e)) => Err(TxFailure::Store(e.into())),
        }
    }

    fn drop_trees(&self, trees: &[Tree]) -> Result<(), StoreError> {
        let mut handles = self.trees.write().unwrap_or_else(|p| p.into_inner());
        for t in trees {
            self.db.drop_tree(t.name())?;
            handles[t.index()] = self.db.open_tree(t.name())?;
        }
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }

    fn create_like(&self, dir: &Path) -> Result<Box<dyn Engine>, StoreError> {
        Ok(Box::new(Self::create_in(dir)?))
    }

    fn journal_len(&self) -> Result<Option<usize>, StoreError> {
        if !self.journal_present() {
            return Ok(None);
        }
        Ok(Some(self.db.open_tree(JOURNAL_TREE)?.len()))
    }

    fn journal_clear(&self) -> Result<(), StoreError> {
        self.db.open_tree(JOURNAL_TREE)?.clear()?;
        Ok(())
    }

    fn journal_append(&self, first: u64, entries: &[Vec<u8>]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (i, e) in entries.iter().enumerate() {
            batch.insert(&(first + i as u64).to_be_bytes(), e.as_slice());
        }
        self.db.open_tree(JOURNAL_TREE)?.apply_batch(batch)?;
        Ok(())
    }

    fn journal_entries(&self) -> EngineScan {
        if !self.journal_present() {
            return Box::new(std::iter::empty());
        }
        match self.db.open_tree(JOURNAL_TREE) {
            Ok(t) => Box::new(SledScan {
                iter: t.iter(),
                descending: false,
            }),
            Err(e) => Box::new(std::iter::once(Err(e.into()))),
        }
    }

    fn journal_drop(&self) -> Result<(), StoreError> {
        self.db.drop_tree(JOURNAL_TREE)?;
        Ok(())
    }
}
