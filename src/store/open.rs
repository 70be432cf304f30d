//! Opening a data dir: its lock file, the engine, the acknowledged-sequence check, and what an
//! open finishes before anything else runs (an interrupted drop, a committed rewrite journal,
//! the migrations to this build's schema).
//!
//! The engine is chosen here: sled (`sled_engine.rs`), the only one today.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock};

use tokio::sync::watch;

use super::ack::{self, AckStatus, Recorder};
use super::commit::GroupCommit;
use super::engine::Engine;
use super::pending::Pending;
use super::pg_engine::PgEngine;
use super::rewrite::{self, decode_change, DROPPING_KEY, REWRITE_CHUNK, REWRITE_KEY};
use super::sled_engine::{SledEngine, SLED_DIR};
use super::view::Epoch;
use super::{Durability, Inner, Store, StoreError, Tree, DEFAULT_CACHE_MB};

/// Key in the `meta` tree holding the schema version (u32, big-endian).
pub(crate) const SCHEMA_KEY: &[u8] = b"schema_version";
/// Name of the lock file in a data dir.
pub(crate) const LOCK_FILE: &str = "LOCK";

impl Store {
    /// Opens (creating if needed) the data dir, takes its lock and brings it to the current
    /// schema.
    pub fn open(dir: &Path, durability: Durability) -> Result<Store, StoreError> {
        Self::open_sized(dir, durability, DEFAULT_CACHE_MB)
    }

    /// [`Store::open`] with a page-cache size in MiB.
    pub fn open_sized(
        dir: &Path,
        durability: Durability,
        cache_mb: u64,
    ) -> Result<Store, StoreError> {
        Self::open_with_steps(
            dir,
            durability,
            cloudtwin_migrations::steps(),
            cloudtwin_migrations::CURRENT_SCHEMA,
            cache_mb,
        )
    }

    /// Opens an existing data dir for `cloudtwin check`: under its lock, without finishing an
    /// interrupted reset or import, without migrating, without flushing or recording anything,
    /// and without refusing a store that lost acknowledged writes ([`Store::ack_at_open`] says
    /// so). The engine itself may still write while it opens (sled recovers its log).
    pub fn open_for_check(dir: &Path, cache_mb: u64) -> Result<Store, StoreError> {
        if !SledEngine::exists_in(dir) {
            return Err(StoreError::Target(format!(
                "{} is not a data dir (it has no {SLED_DIR}/ folder)",
                dir.display()
            )));
        }
        Self::open_inner(dir, Durability::Sync, cache_mb, true)
    }

    pub(crate) fn open_with_steps(
        dir: &Path,
        durability: Durability,
        steps: &[cloudtwin_migrations::Step],
        target: u32,
        cache_mb: u64,
    ) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Io(format!("cannot create data dir {}: {e}", dir.display()))
        })?;
        let store = Self::open_inner(dir, durability, cache_mb, false)?;
        store.finish_drop()?;
        store.finish_rewrite()?;
        store.migrate(steps, target)?;
        Ok(store)
    }

    /// Takes the lock, opens the engine and compares the acknowledged-sequence record with the
    /// store's (refusing a store that lost acknowledged writes unless `inspect`).
    fn open_inner(
        dir: &Path,
        durability: Durability,
        cache_mb: u64,
        inspect: bool,
    ) -> Result<Store, StoreError> {
        let lock = lock_data_dir(dir)?;
        let engine: Arc<dyn Engine> = Arc::new(SledEngine::open(dir, cache_mb)?);
        let status = AckStatus {
            store: ack::read_store_seq(&*engine)?,
            acknowledged: ack::read_side(dir)?,
        };
        let side = if inspect {
            None
        } else if status.lost_acknowledged_writes() {
            return Err(StoreError::Damaged {
                path: dir.to_path_buf(),
                detail: format!(
                    "its store sequence is {}, older than the acknowledged sequence {} \
                     recorded in {}: sled's log ends before writes that were acknowledged, \
                     most likely at a damaged byte",
                    status.store.unwrap_or(0),
                    status.acknowledged.unwrap_or(0),
                    ack::side_path(dir).display()
                ),
            });
        } else if status.acknowledged.is_some() {
            Some(ack::open_side(dir)?)
        } else {
            if status.store.is_some() {
                tracing::warn!(
                    "{} is missing; recording acknowledged flushes from now on",
                    ack::SIDE_FILE
                );
            }
            Some(ack::create_side(dir, status.store.unwrap_or(0))?)
        };
        let seq = status.store.max(status.acknowledged).unwrap_or(0);
        Ok(Self::assemble(
            dir.to_path_buf(),
            engine,
            durability,
            (seq, side),
            status,
            Some(lock),
        ))
    }

    fn assemble(
        path: PathBuf,
        engine: Arc<dyn Engine>,
        durability: Durability,
        (seq, side): (u64, Option<File>),
        ack_at_open: AckStatus,
        lock: Option<File>,
    ) -> Store {
        let (stop, _) = watch::channel(false);
        let epoch = Arc::new(Epoch::default());
        // Only `sync` mode waits for flushes, and a database commits durably by itself.
        let pending = (durability == Durability::Sync && !engine.durable_commits())
            .then(|| Arc::new(Pending::new(engine.clone(), epoch.clone())));
        let recorder = Arc::new(Recorder::new(engine.clone(), pending.clone(), seq, side));
        Store {
            inner: Arc::new(Inner {
                path,
                engine,
                durability,
                gate: RwLock::new(()),
                epoch,
                pending,
                commit: GroupCommit::new(),
                recorder,
                ack_at_open,
                flusher_running: AtomicBool::new(false),
                stop,
                _lock: lock,
            }),
        }
    }

    /// Opens the store in a PostgreSQL database (creating its tables when missing) with up to
    /// `pool` connections, and brings it to the current schema. Nothing is kept on local
    /// disk and nothing is locked: any number of nodes open the same database.
    /// [`Store::path`] is then the URL without its password.
    pub fn open_database(
        url: &str,
        durability: Durability,
        pool: usize,
    ) -> Result<Store, StoreError> {
        Self::open_database_with_steps(
            url,
            durability,
            pool,
            cloudtwin_migrations::steps(),
            cloudtwin_migrations::CURRENT_SCHEMA,
        )
    }

    pub(crate) fn open_database_with_steps(
        url: &str,
        durability: Durability,
        pool: usize,
        steps: &[cloudtwin_migrations::Step],
        target: u32,
    ) -> Result<Store, StoreError> {
        let engine = PgEngine::connect(url, pool)?;
        let shown = PathBuf::from(engine.shown());
        let engine: Arc<dyn Engine> = Arc::new(engine);
        let status = AckStatus {
            store: None,
            acknowledged: None,
        };
        let store = Self::assemble(shown, engine, durability, (0, None), status, None);
        store.finish_drop()?;
        store.finish_rewrite()?;
        store.migrate(steps, target)?;
        Ok(store)
    }

    /// True when the store is a data dir of this machine (sled), false over a database.
    pub fn is_local(&self) -> bool {
        self.inner._lock.is_some()
    }

    /// The engine and where its data is, for logs.
    pub fn describe(&self) -> String {
        match self.engine().describe().as_str() {
            "sled" => format!("sled in {}", self.inner.path.display()),
            other => other.to_string(),
        }
    }

    /// What the next open will finish first: an interrupted reset or import.
    pub fn unfinished_work(&self) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        if let Some(names) = self.get(Tree::Meta, DROPPING_KEY)? {
            out.push(format!(
                "a reset of {} was interrupted; the next start finishes it",
                String::from_utf8_lossy(&names)
            ));
        }
        if self.get(Tree::Meta, REWRITE_KEY)?.is_some() {
            out.push(
                "an import, seed or reset was interrupted after it committed; the next start \
                 applies it again"
                    .into(),
            );
        }
        Ok(out)
    }

    /// Completes a drop of trees that a crash interrupted (see [`Store::drop_trees`]).
    fn finish_drop(&self) -> Result<(), StoreError> {
        let Some(names) = self.get(Tree::Meta, DROPPING_KEY)? else {
            return Ok(());
        };
        let names = String::from_utf8_lossy(&names).to_string();
        let trees: Vec<Tree> = Tree::ALL
            .iter()
            .copied()
            .filter(|t| names.split(',').any(|n| n == t.name()))
            .collect();
        tracing::warn!(trees = %names, "finishing a reset that was interrupted");
        self.drop_trees(&trees)
    }

    /// Applies again a committed rewrite that a crash interrupted (applying a change twice
    /// gives the same result), and drops a journal that was never committed.
    fn finish_rewrite(&self) -> Result<(), StoreError> {
        let committed = self.get(Tree::Meta, REWRITE_KEY)?.is_some();
        let present = self.engine().journal_len()?;
        if committed {
            tracing::warn!(
                changes = present.unwrap_or(0),
                "finishing an import, seed or reset that was interrupted"
            );
            let _exclusive = self.exclusive_write();
            let mut chunk = Vec::with_capacity(REWRITE_CHUNK);
            for item in self.engine().journal_entries() {
                let (_, v) = item?;
                chunk.push(decode_change(&v)?);
                if chunk.len() == REWRITE_CHUNK {
                    rewrite::apply_changes(self.engine(), &chunk)?;
                    chunk.clear();
                }
            }
            rewrite::apply_changes(self.engine(), &chunk)?;
            self.flush()?;
            self.clear_journal()?;
        } else if present.is_some() {
            self.engine().journal_drop()?;
        }
        Ok(())
    }

    /// Schema version of the open data dir.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        read_schema(self.engine()).map(|v| v.unwrap_or(0))
    }

    fn migrate(&self, steps: &[cloudtwin_migrations::Step], target: u32) -> Result<(), StoreError> {
        let engine = self.engine();
        let found = match read_schema(engine)? {
            Some(v) => v,
            None => {
                let has_data = Tree::ALL
                    .iter()
                    .filter(|t| **t != Tree::Meta)
                    .any(|t| self.scan_prefix(*t, b"").next().is_some());
                if has_data {
                    return Err(StoreError::Schema {
                        path: self.inner.path.clone(),
                        detail: "the meta tree has no schema version but other trees hold data"
                            .into(),
                    });
                }
                write_schema(engine, target)?;
                self.flush()?;
                return Ok(());
            }
        };
        let plan =
            cloudtwin_migrations::plan(found, target, steps).map_err(|e| StoreError::Schema {
                path: self.inner.path.clone(),
                detail: e.to_string(),
            })?;
        for step in plan {
            let tree = Tree::by_name(step.tree).ok_or_else(|| StoreError::Schema {
                path: self.inner.path.clone(),
                detail: format!(
                    "migration {} names an unknown tree {}",
                    step.name, step.tree
                ),
            })?;
            let total = engine.len(tree);
            tracing::info!(
                step = step.name,
                tree = step.tree,
                records = total,
                "migration step starts"
            );
            let mut rewritten = 0u64;
            let mut progress = crate::progress::Progress::new("migrating records", total as u64);
            let failed = |e: String| StoreError::Schema {
                path: self.inner.path.clone(),
                detail: format!("migration {} failed on a record: {e}", step.name),
            };
            let mut group = Group::default();
            for item in self.scan_prefix(tree, b"") {
                progress.inc(1);
                let (k, v) = item?;
                if let Some(derive) = step.derive {
                    for (name, dk, dv) in derive(&k, &v).map_err(failed)? {
                        let t = Tree::by_name(name).ok_or_else(|| {
                            failed(format!("it derives keys of an unknown tree {name}"))
                        })?;
                        engine.put(t, &dk, Some(&dv))?;
                    }
                }
                let v = match (step.upgrade)(&v).map_err(failed)? {
                    Some(new) => {
                        engine.put(tree, &k, Some(&new))?;
                        rewritten += 1;
                        new
                    }
                    None => v,
                };
                if let Some(regroup) = &step.regroup {
                    if let Some(j) = (regroup.joins)(&k, &v).map_err(failed)? {
                        if j.group != group.key {
                            rewritten += group.write(engine, tree, regroup.pack)?;
                            group = Group {
                                key: j.group,
                                ..Group::default()
                            };
                        }
                        group.members.extend(j.members);
                        if j.moves {
                            group.moved.push(k);
                        }
                    }
                }
            }
            if let Some(regroup) = &step.regroup {
                rewritten += group.write(engine, tree, regroup.pack)?;
            }
            progress.finish();
            write_schema(engine, step.from + 1)?;
            self.flush()?;
            tracing::info!(step = step.name, rewritten, "migration step done");
        }
        Ok(())
    }

    #[cfg(test)]
    pub(crate) fn set_schema_for_test(&self, v: u32) {
        write_schema(self.engine(), v).expect("write schema");
        self.flush().expect("flush");
    }
}

/// The group record a regrouping step is gathering (see `cloudtwin_migrations::Regroup`).
#[derive(Default)]
struct Group {
    key: Vec<u8>,
    members: std::collections::BTreeSet<Vec<u8>>,
    /// Old records that join it, removed once it is written.
    moved: Vec<Vec<u8>>,
}

impl Group {
    /// Writes the group record when old records joined it, then removes them; the number of
    /// records removed.
    fn write(
        &self,
        engine: &dyn Engine,
        tree: Tree,
        pack: fn(&[Vec<u8>]) -> Vec<u8>,
    ) -> Result<u64, StoreError> {
        if self.moved.is_empty() {
            return Ok(0);
        }
        let members: Vec<Vec<u8>> = self.members.iter().cloned().collect();
        engine.put(tree, &self.key, Some(&pack(&members)))?;
        for k in self.moved.iter().filter(|k| **k != self.key) {
            engine.put(tree, k, None)?;
        }
        Ok(self.moved.len() as u64)
    }
}

fn read_schema(engine: &dyn Engine) -> Result<Option<u32>, StoreError> {
    match engine.get(Tree::Meta, SCHEMA_KEY)? {
        None => Ok(None),
        Some(v) => {
            let bytes: [u8; 4] = v.as_slice().try_into().map_err(|_| StoreError::Corrupt {
                kind: "meta.schema_version",
                detail: format!("{} bytes, expected 4", v.len()),
            })?;
            Ok(Some(u32::from_be_bytes(bytes)))
        }
    }
}

fn write_schema(engine: &dyn Engine, v: u32) -> Result<(), StoreError> {
    engine.put(Tree::Meta, SCHEMA_KEY, Some(&v.to_be_bytes()))
}

/// Takes the data dir's own lock file (held for as long as the returned handle lives), so a
/// second process, or a second open in this one, gets a clear "in use" error at once.
pub(crate) fn lock_data_dir(dir: &Path) -> Result<File, StoreError> {
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK_FILE))
        .map_err(|e| StoreError::Io(format!("cannot open {}/{LOCK_FILE}: {e}", dir.display())))?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::InUse(dir.to_path_buf())),
        Err(std::fs::TryLockError::Error(e)) => Err(StoreError::Io(format!(
            "cannot lock {}/{LOCK_FILE}: {e}",
            dir.display()
        ))),
    }
}
