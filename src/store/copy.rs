//! The consistent copy: every tree, under the exclusive gate, into a new data dir that opens
//! like any other (the engine's files, its own `ACKED` record and a `LOCK` file). Backups and
//! `cloudtwin restore` use it.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::engine::Reader;
use super::open::LOCK_FILE;
use super::rewrite::{apply_changes, Change};
use super::{ack, scan};
use super::{Store, StoreError, Tree};

/// What a consistent copy wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CopyStats {
    /// Records copied, over every tree.
    pub records: u64,
    /// The data dir written.
    pub dir: PathBuf,
}

impl Store {
    /// Writes a consistent copy of every tree into `dest`, a data dir that `serve --data-dir`
    /// opens. Writers wait while the copy runs; readers do not. `dest` must not exist or be
    /// an empty directory.
    pub fn copy_to(&self, dest: &Path) -> Result<CopyStats, StoreError> {
        prepare_empty_dir(dest)?;
        let engine = self.engine();
        let frozen = self.frozen()?;
        let reader = frozen.reader();
        let target = engine.create_like(dest)?;
        let mut records = 0u64;
        let total: usize = Tree::ALL.iter().map(|t| engine.len(*t)).sum();
        let mut progress = crate::progress::Progress::new("copying the store", total as u64);
        for t in Tree::ALL {
            for item in scan::prefix(reader, t, b"") {
                let (k, v) = item?;
                target.put(t, &k, Some(&v))?;
                records += 1;
                progress.inc(1);
            }
        }
        progress.finish();
        // The copy's own record: its sequence is the one copied with `meta`.
        // (A database keeps no sequence: the copy starts its own at 0.)
        let seq = match ack::read_store_seq(&*target)? {
            Some(seq) => Some(seq),
            None => {
                target.put(Tree::Meta, ack::ACK_KEY, Some(&0u64.to_be_bytes()))?;
                Some(0)
            }
        };
        target.flush()?;
        drop(target);
        ack::create_side(dest, seq.unwrap_or(0))?;
        File::create(dest.join(LOCK_FILE))?;
        Ok(CopyStats {
            records,
            dir: dest.to_path_buf(),
        })
    }
}

/// One moment of a store to copy from: a snapshot when the engine has one (a database other
/// nodes write to), else the engine with this process's writers held off by the exclusive
/// gate.
struct Frozen<'a> {
    engine: &'a dyn Reader,
    snapshot: Option<Box<dyn Reader>>,
    _gate: Option<std::sync::RwLockWriteGuard<'a, ()>>,
}

impl Frozen<'_> {
    fn reader(&self) -> &dyn Reader {
        match &self.snapshot {
            Some(s) => &**s,
            None => self.engine,
        }
    }
}

impl Store {
    fn frozen(&self) -> Result<Frozen<'_>, StoreError> {
        let snapshot = self.engine().snapshot().transpose()?;
        let gate = snapshot.is_none().then(|| self.exclusive());
        Ok(Frozen {
            engine: self.engine(),
            snapshot,
            _gate: gate,
        })
    }
}

fn prepare_empty_dir(dest: &Path) -> Result<(), StoreError> {
    if dest.exists() {
        let mut entries = std::fs::read_dir(dest)
            .map_err(|e| StoreError::Target(format!("cannot read {}: {e}", dest.display())))?;
        if entries.next().is_some() {
            return Err(StoreError::Target(format!(
                "{} is not empty: a backup or restore writes into a new or empty directory",
                dest.display()
            )));
        }
    }
    std::fs::create_dir_all(dest)
        .map_err(|e| StoreError::Target(format!("cannot create {}: {e}", dest.display())))
}

/// Records per transaction when [`Store::copy_into`] writes into another store.
const COPY_CHUNK: usize = 1000;

impl Store {
    /// Copies every record of every tree into `target`, another open store of either engine
    /// (`cloudtwin convert`), from one moment of this store (a snapshot, or writers held off
    /// by the exclusive gate). `target` must hold no records yet but its own bookkeeping in
    /// `meta` (its schema version and acknowledged sequence, which are not copied). Records
    /// go in transactions of [`COPY_CHUNK`]; an interrupted copy leaves a partial target,
    /// which a second copy refuses (start again on an empty one). Returns the records copied.
    pub fn copy_into(&self, target: &Store) -> Result<CopyStats, StoreError> {
        let own_keys: [&[u8]; 2] = [ack::ACK_KEY, super::open::SCHEMA_KEY];
        for t in Tree::ALL {
            let occupied = target.scan_prefix(t, b"").any(|item| match item {
                Ok((k, _)) => t != Tree::Meta || !own_keys.contains(&k.as_slice()),
                Err(_) => true,
            });
            if occupied {
                return Err(StoreError::Target(format!(
                    "{} already holds records (tree {}): convert into an empty store",
                    target.describe(),
                    t.name()
                )));
            }
        }
        let engine = self.engine();
        let frozen = self.frozen()?;
        let reader = frozen.reader();
        let total: usize = Tree::ALL.iter().map(|t| engine.len(*t)).sum();
        let mut progress = crate::progress::Progress::new("converting the store", total as u64);
        let _target_gate = target.exclusive_write();
        let mut records = 0u64;
        let mut chunk = Vec::with_capacity(COPY_CHUNK);
        for t in Tree::ALL {
            for item in scan::prefix(reader, t, b"") {
                let (k, v) = item?;
                if t == Tree::Meta && own_keys.contains(&k.as_slice()) {
                    continue;
                }
                chunk.push(Change {
                    tree: t,
                    key: k,
                    value: Some(v),
                });
                if chunk.len() == COPY_CHUNK {
                    apply_changes(target.engine(), &chunk)?;
                    records += chunk.len() as u64;
                    progress.inc(chunk.len() as u64);
                    chunk.clear();
                }
            }
        }
        apply_changes(target.engine(), &chunk)?;
        records += chunk.len() as u64;
        progress.inc(chunk.len() as u64);
        progress.finish();
        drop(_target_gate);
        target.flush()?;
        Ok(CopyStats {
            records,
            dir: target.path().to_path_buf(),
        })
    }
}
