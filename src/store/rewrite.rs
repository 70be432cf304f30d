//! Bulk writes: [`Store::rewrite`] (read under the exclusive gate, plan a change set, apply it
//! all or nothing, also across a crash, through a journal when it is large) and
//! [`Store::drop_trees`] (whole trees at once, for resets).
//!
//! # Format of a journal entry
//!
//! `[tree index u8][1 if there is a value][key length u32 BE][key][value]`, numbered from 0 in
//! the engine's journal. The `meta` key `rewrite_committed` marks a journal whose changes must
//! all be applied (`open.rs` applies it again after a crash); without the mark it is dropped.

use super::engine::{Engine, Stop};
use super::error::{RewriteError, StoreError, TxFailure};
use super::tree::Tree;
use super::view::ReadView;
use super::Store;

/// Key in the `meta` tree naming the trees being dropped (a reset in progress).
pub(crate) const DROPPING_KEY: &[u8] = b"dropping_trees";
/// `meta` key present while a journaled rewrite is being applied (see [`Store::rewrite`]).
pub(crate) const REWRITE_KEY: &[u8] = b"rewrite_committed";
/// A rewrite of up to this many changes is one transaction; a larger one is journaled and
/// applied in parts of [`REWRITE_CHUNK`]. One sled transaction keeps every intermediate node
/// version alive until it ends: importing 20k clusters (about 200k changes) in one transaction
/// took 1 GB more memory; journaled and in parts, 115 MB.
pub(crate) const SINGLE_REWRITE_MAX: usize = 10_000;
/// Changes per transaction when a rewrite is applied in parts.
pub(crate) const REWRITE_CHUNK: usize = 1000;
/// Journal entries per engine batch.
const JOURNAL_BATCH: usize = 500;

/// One write of a [`Store::rewrite`]: a value to put, or `None` to remove the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The tree.
    pub tree: Tree,
    /// The key.
    pub key: Vec<u8>,
    /// The new value, or `None` to remove.
    pub value: Option<Vec<u8>>,
}

impl Store {
    /// Reads under the exclusive gate (no transaction runs meanwhile), lets `plan` turn what it
    /// read into a change set, then applies it and flushes. Used by reset, import and seeding:
    /// all or nothing, also across a crash, and consistent with what was read. Up to
    /// [`SINGLE_REWRITE_MAX`] changes are one transaction; a larger set is first written
    /// to a journal and marked committed, then applied in parts of [`REWRITE_CHUNK`] (writers
    /// wait on the gate meanwhile), and a start that finds a committed journal applies it again.
    pub fn rewrite<E>(
        &self,
        plan: impl FnOnce(&ReadView<'_>) -> Result<Vec<Change>, E>,
    ) -> Result<usize, RewriteError<E>> {
        let _exclusive = self.exclusive_write();
        let changes = plan(&ReadView::new(self.engine())).map_err(RewriteError::Plan)?;
        let n = changes.len();
        let mut progress = crate::progress::Progress::new("applying changes", n as u64);
        let journaled = n > self.engine().single_rewrite_max();
        if journaled {
            self.write_journal(&changes).map_err(RewriteError::Store)?;
        }
        let part = if journaled { REWRITE_CHUNK } else { n.max(1) };
        for chunk in changes.chunks(part) {
            apply_changes(self.engine(), chunk).map_err(|e| {
                RewriteError::Store(if journaled {
                    StoreError::Backend(format!(
                        "{e}; the change is journaled and completes at the next start"
                    ))
                } else {
                    e
                })
            })?;
            progress.inc(chunk.len() as u64);
        }
        progress.finish();
        if journaled {
            self.clear_journal().map_err(RewriteError::Store)?;
        }
        self.flush().map_err(RewriteError::Store)?;
        Ok(n)
    }

    /// Records a large change set before any of it is applied, then marks it committed: from
    /// the mark on, a crash is followed by the whole set (see `open.rs`); before it, by none.
    pub(crate) fn write_journal(&self, changes: &[Change]) -> Result<(), StoreError> {
        let engine = self.engine();
        engine.journal_clear()?;
        for (i, chunk) in changes.chunks(JOURNAL_BATCH).enumerate() {
            let entries: Vec<Vec<u8>> = chunk.iter().map(encode_change).collect();
            engine.journal_append((i * JOURNAL_BATCH) as u64, &entries)?;
        }
        self.flush()?;
        engine.put(
            Tree::Meta,
            REWRITE_KEY,
            Some(&(changes.len() as u64).to_be_bytes()),
        )?;
        self.flush()?;
        Ok(())
    }

    /// Drops the journal once its changes are applied (the mark goes first).
    pub(crate) fn clear_journal(&self) -> Result<(), StoreError> {
        self.engine().put(Tree::Meta, REWRITE_KEY, None)?;
        self.flush()?;
        self.engine().journal_drop()
    }

    /// Empties whole trees at once (the engine drops them instead of removing key by key),
    /// for fast resets. Crash-safe: the tree names are recorded first, and a store opened
    /// with that record present finishes the drop before anything else.
    pub fn drop_trees(&self, trees: &[Tree]) -> Result<(), StoreError> {
        self.drop_trees_and_meta(trees, &[])
    }

    /// [`Store::drop_trees`], also removing some `meta` keys before the final flush.
    pub fn drop_trees_and_meta(
        &self,
        trees: &[Tree],
        meta_keys: &[&[u8]],
    ) -> Result<(), StoreError> {
        let _exclusive = self.exclusive_write();
        let engine = self.engine();
        let trees: Vec<Tree> = trees
            .iter()
            .copied()
            .filter(|t| !Tree::METADATA.contains(t))
            .collect();
        let names: Vec<&str> = trees.iter().map(|t| t.name()).collect();
        engine.put(Tree::Meta, DROPPING_KEY, Some(names.join(",").as_bytes()))?;
        self.flush()?;
        engine.drop_trees(&trees)?;
        for k in meta_keys {
            engine.put(Tree::Meta, k, None)?;
        }
        engine.put(Tree::Meta, DROPPING_KEY, None)?;
        self.flush()?;
        Ok(())
    }
}

/// Applies changes in one transaction (the caller holds the exclusive gate).
pub(crate) fn apply_changes(engine: &dyn Engine, changes: &[Change]) -> Result<(), StoreError> {
    let result = engine.transact(&|txn| {
        for c in changes {
            match &c.value {
                Some(v) => txn.insert(c.tree, &c.key, v),
                None => txn.remove(c.tree, &c.key),
            }
            .map_err(Stop::Conflict)?;
        }
        Ok(())
    });
    match result {
        Ok(()) => Ok(()),
        Err(TxFailure::Abort(())) => Err(StoreError::Backend("rewrite aborted".into())),
        Err(TxFailure::Store(e)) => Err(e),
    }
}

/// A journal entry (see the module's format).
pub(crate) fn encode_change(c: &Change) -> Vec<u8> {
    let value = c.value.as_deref();
    let mut out = Vec::with_capacity(6 + c.key.len() + value.map_or(0, <[u8]>::len));
    out.push(c.tree.index() as u8);
    out.push(u8::from(value.is_some()));
    out.extend_from_slice(&(c.key.len() as u32).to_be_bytes());
    out.extend_from_slice(&c.key);
    out.extend_from_slice(value.unwrap_or_default());
    out
}

/// Reads a journal entry, refusing a damaged one.
pub(crate) fn decode_change(b: &[u8]) -> Result<Change, StoreError> {
    let broken = || StoreError::Backend("a rewrite journal entry is damaged".into());
    let (&[t, has], rest) = b.split_first_chunk::<2>().ok_or_else(broken)?;
    let (len, rest) = rest.split_first_chunk::<4>().ok_or_else(broken)?;
    let len = u32::from_be_bytes(*len) as usize;
    let tree = Tree::from_index(t as usize).ok_or_else(broken)?;
    if rest.len() < len {
        return Err(broken());
    }
    let (key, value) = rest.split_at(len);
    Ok(Change {
        tree,
        key: key.to_vec(),
        value: (has == 1).then(|| value.to_vec()),
    })
}
