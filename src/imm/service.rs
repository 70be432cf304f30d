//! The face service: typed reads and writes inside transactions, and the face <-> cluster
//! bookkeeping that every write shares (keys come from `keys.rs`). Operations live in
//! `projects.rs`, `files.rs`, `clusters.rs`, `tasks.rs`, `runner.rs`, `clustering_run.rs` and
//! `merging.rs`.

use std::sync::Arc;

use crate::store::{decode, encode, Record, Store, Tree, Tx, TxError, TxFailure};

use super::error::{not_found, ImmError};
pub(super) use super::order_index::Edits as OrderEdits;

use super::keys::{
    cluster_count_key, dataset_key, order_keys, pending_key, project_key, read_u64, scoped,
};
use super::model::{Cluster, Dataset, FaceCluster, FileMeta, Member, Project};
use super::running::Runner;

pub use super::model::Caller;

/// Behaviour settings of the face service.
#[derive(Debug, Clone)]
pub struct ImmSettings {
    /// Cosine similarity at or above which a face joins a cluster.
    pub similarity_threshold: f32,
    /// How long tasks are kept.
    pub task_retention_ms: u64,
    /// Shortest time a task stays Running.
    pub task_min_duration_ms: u64,
    /// Most faces in one file.
    pub max_figures_per_file: usize,
    /// The code a failed task records for each kind of failure (the dialect's spelling).
    pub task_failure_code: fn(super::error::TaskFailure) -> String,
}

/// The face service.
pub struct Imm {
    pub(super) store: Store,
    pub(super) settings: ImmSettings,
    pub(super) task_min_ms: std::sync::atomic::AtomicU64,
    pub(super) runner: Arc<Runner>,
    /// This node among the nodes of a shared store: tasks run under a lease there.
    pub(super) cluster: Option<crate::cluster::Cluster>,
    /// Decoded clusters of recent pages, with their wire text (`kept.rs`).
    pub(super) kept_clusters: crate::kept::KeptMap<Cluster>,
    /// Recent QueryFigureClusters answers, while the store is unchanged (`kept.rs`).
    pub(super) kept_queries:
        crate::kept::KeptAnswers<super::clusters::QueryKey, super::clusters::QueryAnswer>,
}

/// Maps a failed transaction to the domain error.
pub(super) fn finish<T>(r: Result<T, TxFailure<ImmError>>) -> Result<T, ImmError> {
    r.map_err(|f| match f {
        TxFailure::Abort(e) => e,
        TxFailure::Store(e) => e.into(),
    })
}

/// Aborts the transaction with a domain error.
pub(super) fn abort<T>(e: ImmError) -> Result<T, TxError<ImmError>> {
    Err(TxError::Abort(e))
}

/// A record inside a transaction.
pub(super) fn tx_get<R: Record>(
    tx: &Tx<'_>,
    tree: Tree,
    key: &[u8],
) -> Result<Option<R>, TxError<ImmError>> {
    match tx.get(tree, key)? {
        None => Ok(None),
        Some(b) => decode::<R>(&b)
            .map(Some)
            .map_err(|e| TxError::Abort(e.into())),
    }
}

/// Writes a record inside a transaction.
pub(super) fn tx_put<R: Record>(
    tx: &Tx<'_>,
    tree: Tree,
    key: &[u8],
    r: &R,
) -> Result<(), TxError<ImmError>> {
    let bytes = encode(r).map_err(|e| TxError::Abort(e.into()))?;
    tx.insert(tree, key, &bytes)?;
    Ok(())
}

/// A record outside a transaction.
pub(super) fn get<R: Record>(store: &Store, tree: Tree, key: &[u8]) -> Result<Option<R>, ImmError> {
    match store.get(tree, key)? {
        None => Ok(None),
        Some(b) => Ok(Some(decode::<R>(&b)?)),
    }
}

/// The project, or `ResourceNotFound` (project).
pub(super) fn tx_project(
    tx: &Tx<'_>,
    c: Caller<'_>,
    project: &str,
) -> Result<Project, TxError<ImmError>> {
    match tx_get::<Project>(tx, Tree::ImmProjects, &project_key(c, project))? {
        Some(p) => Ok(p),
        None => abort(not_found("project", project)),
    }
}

/// The dataset (its project checked first), or `ResourceNotFound`.
pub(super) fn tx_dataset(
    tx: &Tx<'_>,
    c: Caller<'_>,
    project: &str,
    dataset: &str,
) -> Result<Dataset, TxError<ImmError>> {
    tx_project(tx, c, project)?;
    match tx_get::<Dataset>(tx, Tree::ImmDatasets, &dataset_key(c, project, dataset))? {
        Some(d) => Ok(d),
        None => abort(not_found("dataset", dataset)),
    }
}

/// The dataset outside a transaction (project checked first).
pub(super) fn dataset_of(
    store: &Store,
    c: Caller<'_>,
    project: &str,
    dataset: &str,
) -> Result<Dataset, ImmError> {
    get::<Project>(store, Tree::ImmProjects, &project_key(c, project))?
        .ok_or_else(|| not_found("project", project))?;
    get::<Dataset>(store, Tree::ImmDatasets, &dataset_key(c, project, dataset))?
        .ok_or_else(|| not_found("dataset", dataset))
}

/// Writes a cluster and keeps the order index and the dataset's cluster count in step (the
/// stored version, read in this transaction, says which index keys to drop).
pub(super) fn put_cluster(tx: &Tx<'_>, scope: &[u8], c: &Cluster) -> Result<(), TxError<ImmError>> {
    let old = tx_get::<Cluster>(tx, Tree::ImmClusters, &scoped(scope, &c.object_id))?;
    put_cluster_over(tx, scope, c, old.map(|o| order_keys(scope, &o)))
}

/// [`put_cluster`] for a caller that has read the stored version in this transaction already:
/// `old_keys` are its order keys, `None` when nothing is stored under the id (a new cluster,
/// counted). Saves reading the record a second time.
pub(super) fn put_cluster_over(
    tx: &Tx<'_>,
    scope: &[u8],
    c: &Cluster,
    old_keys: Option<Vec<Vec<u8>>>,
) -> Result<(), TxError<ImmError>> {
    let mut edits = OrderEdits::default();
    put_cluster_into(tx, scope, c, old_keys, &mut edits)?;
    edits.apply(tx, scope)
}

/// [`put_cluster_over`] whose order-index changes join `edits`, for the caller to apply once
/// for many clusters (the blocks they share are then read and written once).
pub(super) fn put_cluster_into(
    tx: &Tx<'_>,
    scope: &[u8],
    c: &Cluster,
    old_keys: Option<Vec<Vec<u8>>>,
    edits: &mut OrderEdits,
) -> Result<(), TxError<ImmError>> {
    let new_keys = order_keys(scope, c);
    let old_keys = match old_keys {
        Some(keys) => keys,
        None => {
            add_to_count(tx, scope, 1)?;
            Vec::new()
        }
    };
    // Only the entries that change are written: a block whose entries stay is not rewritten.
    for k in &old_keys {
        if !new_keys.contains(k) {
            edits.remove(k.clone());
        }
    }
    for k in new_keys {
        if !old_keys.contains(&k) {
            edits.add(k);
        }
    }
    tx_put(tx, Tree::ImmClusters, &scoped(scope, &c.object_id), c)
}

/// Removes a cluster with its order-index keys (its identity hint is the caller's business).
pub(super) fn delete_cluster(tx: &Tx<'_>, scope: &[u8], id: &str) -> Result<(), TxError<ImmError>> {
    let key = scoped(scope, id);
    if let Some(old) = tx_get::<Cluster>(tx, Tree::ImmClusters, &key)? {
        let mut edits = OrderEdits::default();
        for k in order_keys(scope, &old) {
            edits.remove(k);
        }
        edits.apply(tx, scope)?;
        add_to_count(tx, scope, -1)?;
        tx.remove(Tree::ImmClusters, &key)?;
    }
    Ok(())
}

fn add_to_count(tx: &Tx<'_>, scope: &[u8], delta: i64) -> Result<(), TxError<ImmError>> {
    let key = cluster_count_key(scope);
    let n = tx
        .get(Tree::ImmClusterOrder, &key)?
        .and_then(|v| read_u64(&v))
        .unwrap_or(0);
    let n = (n as i64 + delta).max(0) as u64;
    tx.insert(Tree::ImmClusterOrder, &key, &n.to_be_bytes())?;
    Ok(())
}

/// A cluster of the dataset inside a transaction.
pub(super) fn tx_cluster(
    tx: &Tx<'_>,
    scope: &[u8],
    id: &str,
) -> Result<Option<Cluster>, TxError<ImmError>> {
    tx_get::<Cluster>(tx, Tree::ImmClusters, &scoped(scope, id))
}

fn member_of(file: &FileMeta, idx: usize) -> Member {
    let f = &file.faces[idx];
    Member {
        uri: file.uri.clone(),
        figure_id: f.figure_id.clone(),
        age: f.age,
        gender: f.gender.clone(),
        quality: f.quality.unwrap_or(0.0),
        video: file.is_video(),
    }
}

/// The clusters one file write touches, read once and written once at the end, so that a file
/// with many faces costs time linear in its faces (a face that leaves or joins a cluster no
/// longer re-reads, re-filters and re-encodes that cluster).
#[derive(Default)]
pub(super) struct ClusterEdits {
    /// Cluster id -> the cluster as it will be written (`None`: it does not exist).
    loaded: std::collections::HashMap<String, Option<Cluster>>,
    /// Cluster id -> figure ids of the written file that leave it.
    leaving: std::collections::HashMap<String, std::collections::HashSet<String>>,
    /// Clusters changed in memory (a face joined, a member's attributes changed).
    changed: std::collections::HashSet<String>,
}

impl ClusterEdits {
    /// The cluster `id` of the dataset as edited so far.
    pub(super) fn cluster(
        &mut self,
        tx: &Tx<'_>,
        scope: &[u8],
        id: &str,
    ) -> Result<Option<&mut Cluster>, TxError<ImmError>> {
        if !self.loaded.contains_key(id) {
            let c = tx_cluster(tx, scope, id)?;
            self.loaded.insert(id.to_string(), c);
        }
        Ok(self.loaded.get_mut(id).and_then(Option::as_mut))
    }

    /// Marks cluster `id` as changed in memory, so that [`ClusterEdits::apply`] writes it.
    pub(super) fn changed(&mut self, id: &str) {
        self.changed.insert(id.to_string());
    }

    /// Takes face `idx` of `file` out of its cluster (written by [`ClusterEdits::apply`]); a
    /// pending face leaves the pending set when the file is written ([`put_file`]).
    pub(super) fn detach(
        &mut self,
        tx: &Tx<'_>,
        scope: &[u8],
        file: &FileMeta,
        idx: usize,
    ) -> Result<(), TxError<ImmError>> {
        let face = &file.faces[idx];
        match &face.cluster {
            FaceCluster::Assigned(id) => {
                if self.cluster(tx, scope, id)?.is_some() {
                    self.leaving
                        .entry(id.clone())
                        .or_default()
                        .insert(face.figure_id.clone());
                }
            }
            // The file's pending key follows the file when it is written (`put_file`).
            FaceCluster::Pending { .. } | FaceCluster::Independent => {}
        }
        Ok(())
    }

    /// Writes every changed cluster once: leaving faces of `uri` removed (a cluster left empty
    /// is removed with its hint), the others put back. A cluster only read is not rewritten.
    pub(super) fn apply(
        mut self,
        tx: &Tx<'_>,
        scope: &[u8],
        uri: &str,
        now: u64,
    ) -> Result<(), TxError<ImmError>> {
        for (id, c) in self.loaded.iter_mut() {
            let Some(c) = c else { continue };
            if let Some(gone) = self.leaving.remove(id) {
                c.members
                    .retain(|m| !(m.uri == uri && gone.contains(&m.figure_id)));
                c.updated_ms = now;
            } else if !self.changed.contains(id) {
                continue;
            }
            if c.members.is_empty() {
                delete_cluster(tx, scope, id)?;
                if let Some(h) = &c.hint {
                    tx.remove(Tree::ImmHints, &scoped(scope, h))?;
                }
            } else {
                put_cluster(tx, scope, c)?;
            }
        }
        Ok(())
    }
}

/// Puts face `idx` of `file` into cluster `c` (in memory; the caller writes `c`).
pub(super) fn join(c: &mut Cluster, file: &mut FileMeta, idx: usize, now: u64) {
    c.members.push(member_of(file, idx));
    if let Some(e) = &file.faces[idx].embedding {
        super::clustering::absorb(c, e);
    }
    c.updated_ms = now;
    file.faces[idx].cluster = FaceCluster::Assigned(c.object_id.clone());
}

/// Marks face `idx` of `file` pending clustering (its pending key is written with the file,
/// by [`put_file`]).
pub(super) fn mark_pending(file: &mut FileMeta, idx: usize, hint: Option<String>) {
    file.faces[idx].cluster = FaceCluster::Pending { hint };
}

/// Writes `file` (under its key, `scope + uri`) and keeps its key in `imm.pending` in step:
/// present exactly when a face of the file is pending. `was_pending` is what the stored version
/// had ([`FileMeta::has_pending`]; false for a new file), so that the key is written only when
/// that changes.
pub(super) fn put_file(
    tx: &Tx<'_>,
    scope: &[u8],
    file: &FileMeta,
    was_pending: bool,
) -> Result<(), TxError<ImmError>> {
    match (was_pending, file.has_pending()) {
        (false, true) => tx.insert(Tree::ImmPending, &pending_key(scope, &file.uri), &[])?,
        (true, false) => tx.remove(Tree::ImmPending, &pending_key(scope, &file.uri))?,
        _ => {}
    }
    tx_put(tx, Tree::ImmFiles, &scoped(scope, &file.uri), file)
}

/// A fresh cluster of the dataset. Its id is a UUIDv7 (time first, then random bits), so the
/// clusters made in a row have neighbouring keys in `imm.clusters` and in the order index:
/// sled appends to a few leaves instead of rewriting a random leaf for every key (with
/// `new_v4`, clustering a million identity hints rewrote leaves all over trees larger than
/// the cache).
pub(super) fn new_cluster(c: Caller<'_>, project: &str, dataset: &str, now: u64) -> Cluster {
    Cluster {
        object_id: format!("Cluster-{}", uuid::Uuid::now_v7()),
        account: c.account.to_string(),
        region: c.region.to_string(),
        project: project.to_string(),
        dataset: dataset.to_string(),
        name: String::new(),
        custom_id: String::new(),
        labels: Vec::new(),
        meta_lock_version: 0,
        created_ms: now,
        updated_ms: now,
        cover: None,
        members: Vec::new(),
        centroid: None,
        centroid_weight: 0,
        hint: None,
    }
}

/// Most decoded clusters kept (`kept.rs`) and the largest record kept: with the bytes, the
/// decoded record and the text of the cluster with its cover, at most about 100 MB.
const KEPT_CLUSTERS: usize = 4096;
const KEPT_CLUSTER_BYTES: usize = 8 * 1024;
/// Most QueryFigureClusters answers kept: up to 100 clusters' text each.
const KEPT_QUERIES: usize = 128;

impl Imm {
    /// A service over `store`.
    pub fn new(store: Store, settings: ImmSettings) -> Imm {
        Imm {
            store,
            task_min_ms: std::sync::atomic::AtomicU64::new(settings.task_min_duration_ms),
            settings,
            runner: Arc::new(Runner::default()),
            cluster: None,
            kept_clusters: crate::kept::KeptMap::with_limits(KEPT_CLUSTERS, KEPT_CLUSTER_BYTES),
            kept_queries: crate::kept::KeptAnswers::with_capacity(KEPT_QUERIES),
        }
    }

    /// Runs tasks under leases of `cluster` when its store is shared by several nodes, so that
    /// each runs on one node only and another takes it over when that node dies.
    pub fn with_cluster(mut self, cluster: crate::cluster::Cluster) -> Imm {
        if cluster.is_shared() {
            self.cluster = Some(cluster);
        }
        self
    }

    /// The shortest time a new task stays Running.
    pub fn task_min_duration_ms(&self) -> u64 {
        self.task_min_ms.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Changes the shortest time a new task stays Running.
    pub fn set_task_min_duration_ms(&self, ms: u64) {
        self.task_min_ms
            .store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// Waits until the writes so far are durable.
    pub(super) async fn durable(&self) -> Result<(), ImmError> {
        Ok(self.store.durable().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imm::model::Face;
    use crate::store::Durability;

    fn file(uri: &str, faces: &[FaceCluster]) -> FileMeta {
        FileMeta {
            uri: uri.into(),
            object_id: "ab".repeat(32),
            media_type: "image".into(),
            size: 1,
            fields: "{}".into(),
            faces: faces
                .iter()
                .enumerate()
                .map(|(i, c)| Face {
                    figure_id: format!("f{i}"),
                    cluster: c.clone(),
                    age: None,
                    gender: None,
                    quality: None,
                    attributes: "{}".into(),
                    embedding: None,
                })
                .collect(),
            created_ms: 1,
            updated_ms: 1,
        }
    }

    fn keys(store: &Store, tree: Tree) -> Vec<Vec<u8>> {
        store
            .scan_prefix(tree, b"")
            .map(|i| i.expect("record").0)
            .collect()
    }

    fn put(store: &Store, scope: &[u8], f: &FileMeta, was_pending: bool) {
        store
            .transact(|tx| -> Result<(), TxError<ImmError>> { put_file(tx, scope, f, was_pending) })
            .map_err(|_| ())
            .expect("put file");
    }

    const SCOPE: &[u8] = b"1\0r\0p\0d\0";

    fn pending() -> FaceCluster {
        FaceCluster::Pending { hint: None }
    }

    #[test]
    fn a_file_has_a_pending_key_exactly_while_one_of_its_faces_is_pending() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = Store::open(dir.path(), Durability::Sync).expect("open");
        let assigned = FaceCluster::Assigned("Cluster-1".into());
        put(&s, SCOPE, &file("a", &[pending(), pending()]), false);
        put(
            &s,
            SCOPE,
            &file("b", std::slice::from_ref(&assigned)),
            false,
        );
        assert_eq!(keys(&s, Tree::ImmPending), vec![pending_key(SCOPE, "a")]);
        // One of two faces clustered: the key stays; both: it goes.
        put(&s, SCOPE, &file("a", &[assigned.clone(), pending()]), true);
        assert_eq!(keys(&s, Tree::ImmPending), vec![pending_key(SCOPE, "a")]);
        put(
            &s,
            SCOPE,
            &file("a", &[assigned.clone(), assigned.clone()]),
            true,
        );
        assert!(keys(&s, Tree::ImmPending).is_empty());
        put(
            &s,
            SCOPE,
            &file("b", &[assigned, FaceCluster::Independent, pending()]),
            false,
        );
        assert_eq!(keys(&s, Tree::ImmPending), vec![pending_key(SCOPE, "b")]);
    }

    #[test]
    fn opening_a_schema_3_data_dir_gathers_the_pending_faces_into_one_key_per_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = [
            file("oss://b/a.jpg", &[pending(), pending(), pending()]),
            file("oss://b/a.jpg.2", &[pending()]),
            file("oss://b/c.jpg", &[FaceCluster::Independent]),
            file("oss://b/d.jpg", &[FaceCluster::Independent, pending()]),
        ];
        let want = {
            let s = Store::open(dir.path(), Durability::Sync).expect("open");
            for f in &files {
                put(&s, SCOPE, f, false);
            }
            let want = keys(&s, Tree::ImmPending);
            assert_eq!(want.len(), 3);
            // Schema 3's layout: `scope + uri \0 figure id` for every pending face.
            s.transact(|tx| -> Result<(), TxError<()>> {
                for k in &want {
                    tx.remove(Tree::ImmPending, k)?;
                }
                for f in &files {
                    for face in f.faces.iter().filter(|x| x.cluster == pending()) {
                        let k = [&scoped(SCOPE, &f.uri)[..], b"\0", face.figure_id.as_bytes()];
                        tx.insert(Tree::ImmPending, &k.concat(), b"")?;
                    }
                }
                Ok(())
            })
            .expect("old layout");
            assert_eq!(keys(&s, Tree::ImmPending).len(), 5);
            s.set_schema_for_test(3);
            s.close().expect("close");
            want
        };
        let s = Store::open(dir.path(), Durability::Sync).expect("open current");
        assert_eq!(
            s.schema_version().expect("schema"),
            cloudtwin_migrations::CURRENT_SCHEMA
        );
        assert_eq!(keys(&s, Tree::ImmPending), want);
    }
}
