//! The clustering run of a FaceClustering task: the dataset's pending faces, grouped by
//! identity hint first, then by embedding against the dataset's centroids, then each other face
//! on its own; groups are assigned a few hundred to a transaction, and each face is re-checked
//! pending inside the transaction that moves it.

use std::collections::HashMap;
use std::sync::Arc;

use crate::clock::now_ms;
use crate::store::{decode, Tree, Tx, TxError};

use super::clustering::{self, Group};
use super::error::ImmError;
use super::keys::{dataset_key, dataset_scope, order_keys, scoped};
use super::model::{Cluster, Dataset, FaceCluster, FileMeta};
use super::service::{
    finish, get, join, new_cluster, put_cluster_into, put_file, tx_cluster, tx_get, Caller, Imm,
    OrderEdits,
};

/// A face waiting for clustering, with what the run needs.
struct PendingFace {
    uri: Arc<str>,
    figure_id: String,
    hint: Option<String>,
    embedding: Option<Vec<f32>>,
}

impl Imm {
    /// The clustering run: hints first, then embeddings against the dataset's centroids, then
    /// every other face on its own.
    pub(super) fn cluster_pending(
        &self,
        c: Caller<'_>,
        project: &str,
        dataset: &str,
    ) -> Result<(), ImmError> {
        let scope = dataset_scope(c, project, dataset);
        let started = std::time::Instant::now();
        let mut pending = Vec::new();
        // One pending key per file with pending faces, in the order of the files' own keys.
        let mut keys = Vec::new();
        for item in self.store.scan_prefix(Tree::ImmPending, &scope) {
            keys.push(item?.0);
        }
        let mut take = |file: FileMeta| {
            let uri: Arc<str> = Arc::from(file.uri.as_str());
            for face in file.faces {
                let FaceCluster::Pending { hint } = face.cluster else {
                    continue;
                };
                pending.push(PendingFace {
                    uri: uri.clone(),
                    figure_id: face.figure_id,
                    hint,
                    embedding: face.embedding,
                });
            }
        };
        // Where most of the dataset's files are pending (a first clustering run), one pass
        // over its files beside the keys costs less than a read per key; elsewhere (10k new
        // faces in a clustered million) a read per key does. One file is decoded at a time, so
        // memory stays bounded by the pending list, not by the dataset.
        let files = get::<Dataset>(
            &self.store,
            Tree::ImmDatasets,
            &dataset_key(c, project, dataset),
        )?
        .map_or(u64::MAX, |d| d.file_count);
        if (keys.len() as u64).saturating_mul(4) >= files {
            let mut want = keys.iter().peekable();
            for item in self.store.scan_prefix(Tree::ImmFiles, &scope) {
                if want.peek().is_none() {
                    break;
                }
                let (k, v) = item?;
                while want.next_if(|w| w.as_slice() < k.as_slice()).is_some() {}
                if want.next_if(|w| w.as_slice() == k.as_slice()).is_some() {
                    take(decode::<FileMeta>(&v)?);
                }
            }
        } else {
            for k in &keys {
                if let Some(file) = get::<FileMeta>(&self.store, Tree::ImmFiles, k)? {
                    take(file);
                }
            }
        }
        drop(keys);
        // Identity hints: one group per hint, in hint order, each with its faces in the order
        // they were found.
        let mut hints: Vec<(String, usize)> = Vec::new();
        let mut by_embedding = Vec::new();
        let mut singles = Vec::new();
        for (i, p) in pending.iter_mut().enumerate() {
            match (p.hint.take(), &p.embedding) {
                (Some(h), _) => hints.push((h, i)),
                (None, Some(_)) => by_embedding.push(i),
                (None, None) => singles.push(i),
            }
        }
        hints.sort_unstable();
        let mut hinted: Vec<Assignment> = Vec::new();
        for (h, i) in hints {
            match hinted.last_mut() {
                Some((members, Target::Hint(last))) if *last == h => members.push(i),
                _ => hinted.push((vec![i], Target::Hint(h))),
            }
        }
        let scanned = started.elapsed();
        self.assign_groups(c, project, dataset, &scope, &pending, &hinted)?;
        let hints_done = started.elapsed();
        // Embeddings: incremental against the existing centroids (read only when some face
        // has an embedding: a million hinted faces need no pass over a million clusters).
        let mut groups: Vec<Group> = Vec::new();
        let centroids = if by_embedding.is_empty() {
            None
        } else {
            Some(self.store.scan_prefix(Tree::ImmClusters, &scope))
        };
        for item in centroids.into_iter().flatten() {
            let (_, v) = item?;
            let cl = decode::<Cluster>(&v)?;
            if let Some(centroid) = cl.centroid {
                groups.push(Group::stored(cl.object_id, centroid, cl.centroid_weight));
            }
        }
        // Moved out of the pending list, not copied: at a million faces of 128 dimensions
        // each copy is 512 MB.
        let embeddings: Vec<Vec<f32>> = by_embedding
            .iter()
            .map(|&i| pending[i].embedding.take().unwrap_or_default())
            .collect();
        let unusable =
            clustering::assign(&mut groups, &embeddings, self.settings.similarity_threshold);
        singles.extend(unusable.iter().map(|&j| by_embedding[j]));
        let mut assigned: Vec<Assignment> = groups
            .iter()
            .filter(|g| !g.faces.is_empty())
            .map(|g| {
                let members: Vec<usize> = g.faces.iter().map(|&j| by_embedding[j]).collect();
                let target = match &g.existing {
                    Some(id) => Target::Existing(id.clone()),
                    None => Target::New,
                };
                (members, target)
            })
            .collect();
        assigned.extend(singles.into_iter().map(|i| (vec![i], Target::New)));
        self.assign_groups(c, project, dataset, &scope, &pending, &assigned)?;
        tracing::debug!(
            faces = pending.len(),
            hint_groups = hinted.len(),
            scan_s = scanned.as_secs_f64(),
            hints_s = (hints_done - scanned).as_secs_f64(),
            rest_s = (started.elapsed() - hints_done).as_secs_f64(),
            "clustering run"
        );
        Ok(())
    }

    /// Assigns the groups, [`GROUPS_PER_TRANSACTION`] to a transaction (50k identity hints:
    /// 9.6 s with a transaction per group, 8.0 s with 256; the rest is sled writing about 12
    /// keys per cluster, two tree descents each). Each transaction is whole, and a task
    /// resumed after a crash picks up the faces that are still pending.
    #[allow(clippy::too_many_arguments)]
    fn assign_groups(
        &self,
        c: Caller<'_>,
        project: &str,
        dataset: &str,
        scope: &[u8],
        pending: &[PendingFace],
        groups: &[Assignment],
    ) -> Result<(), ImmError> {
        for chunk in groups.chunks(GROUPS_PER_TRANSACTION) {
            self.assign_faces(c, project, dataset, scope, pending, chunk)?;
        }
        Ok(())
    }

    /// One transaction: for each group, the faces that are still pending join its target
    /// cluster (later groups see what earlier ones wrote).
    #[allow(clippy::too_many_arguments)]
    fn assign_faces(
        &self,
        c: Caller<'_>,
        project: &str,
        dataset: &str,
        scope: &[u8],
        pending: &[PendingFace],
        groups: &[Assignment],
    ) -> Result<(), ImmError> {
        let now = now_ms();
        // Made outside the transaction body, which may run more than once.
        let fresh: Vec<Cluster> = groups
            .iter()
            .map(|_| new_cluster(c, project, dataset, now))
            .collect();
        finish(self.store.transact_bulk(|tx| {
            let mut work = ChunkWork::default();
            for ((members, target), fresh) in groups.iter().zip(&fresh) {
                work.assign_group(tx, scope, pending, members, target, fresh, now)?;
            }
            work.write(tx, scope)
        }))
    }
}

/// Faces (indexes into the pending list) and the cluster they join.
type Assignment = (Vec<usize>, Target);

/// Groups assigned in one transaction. Smaller is faster down to about 32: sled 0.34 keeps
/// every node version a transaction's commit replaces until the commit ends and applies the
/// writes in hash order, so a large write set churns memory and cache (100k identity hints,
/// same sitting: 6.5-7.4 s at 32, 6.8-7.5 s at 16, 7.5 s at 64, 9.0 s at 256, 9.4 s at 1024).
const GROUPS_PER_TRANSACTION: usize = 32;

/// One transaction's work: every file and cluster it touches is read once, changed in memory
/// as the groups join in turn, and written once at the end ([`ChunkWork::write`]): a file holds
/// faces of several groups (four, in the bench), and it was decoded and encoded once per face.
#[derive(Default)]
struct ChunkWork {
    /// File key -> the file as changed so far (`None`: it does not exist) and whether a face
    /// of it joined.
    files: HashMap<Vec<u8>, (Option<FileMeta>, bool)>,
    /// The keys of the files faces joined, in the order first joined.
    changed_files: Vec<Vec<u8>>,
    /// The clusters the groups join, in the order first joined.
    clusters: Vec<Joining>,
    /// Cluster id -> its place in `clusters`.
    slot: HashMap<String, usize>,
}

/// A cluster faces join in this transaction.
struct Joining {
    cluster: Cluster,
    /// Its order keys as stored (`None`: a new cluster, whose identity hint, if any, is to
    /// point at it).
    stored_keys: Option<Vec<Vec<u8>>>,
    /// Faces joined in this transaction.
    joined: usize,
}

impl ChunkWork {
    /// The faces of `members` that are still pending join the target (a later group whose
    /// target is the same cluster sees what an earlier one joined).
    #[allow(clippy::too_many_arguments)]
    fn assign_group(
        &mut self,
        tx: &Tx<'_>,
        scope: &[u8],
        pending: &[PendingFace],
        members: &[usize],
        target: &Target,
        fresh: &Cluster,
        now: u64,
    ) -> Result<(), TxError<ImmError>> {
        let slot = self.target_slot(tx, scope, target, fresh)?;
        for &i in members {
            let p = &pending[i];
            let fkey = scoped(scope, &p.uri);
            if !self.files.contains_key(&fkey) {
                let stored = tx_get::<FileMeta>(tx, Tree::ImmFiles, &fkey)?;
                self.files.insert(fkey.clone(), (stored, false));
            }
            let Some((Some(file), changed)) = self.files.get_mut(&fkey) else {
                continue;
            };
            let Some(idx) = file.faces.iter().position(|f| f.figure_id == p.figure_id) else {
                continue;
            };
            if !matches!(file.faces[idx].cluster, FaceCluster::Pending { .. }) {
                continue;
            }
            let joining = &mut self.clusters[slot];
            join(&mut joining.cluster, file, idx, now);
            joining.joined += 1;
            if !*changed {
                *changed = true;
                self.changed_files.push(fkey);
            }
        }
        Ok(())
    }

    /// Where in `clusters` the target's cluster is, read (or made) on first use.
    fn target_slot(
        &mut self,
        tx: &Tx<'_>,
        scope: &[u8],
        target: &Target,
        fresh: &Cluster,
    ) -> Result<usize, TxError<ImmError>> {
        let (id, hint) = match target {
            Target::Hint(h) => match tx.get(Tree::ImmHints, &scoped(scope, h))? {
                Some(id) => (Some(String::from_utf8_lossy(&id).to_string()), Some(h)),
                None => (None, Some(h)),
            },
            Target::Existing(id) => (Some(id.clone()), None),
            Target::New => (None, None),
        };
        if let Some(&slot) = id.as_ref().and_then(|id| self.slot.get(id)) {
            return Ok(slot);
        }
        let stored = match &id {
            Some(id) => tx_cluster(tx, scope, id)?,
            None => None,
        };
        let joining = match stored {
            // The stored version's order keys, taken before the faces join (put_cluster_into
            // then needs no second read of the record).
            Some(cl) => Joining {
                stored_keys: Some(order_keys(scope, &cl)),
                cluster: cl,
                joined: 0,
            },
            None => {
                let mut cl = fresh.clone();
                cl.hint = hint.cloned();
                Joining {
                    cluster: cl,
                    stored_keys: None,
                    joined: 0,
                }
            }
        };
        self.slot
            .insert(joining.cluster.object_id.clone(), self.clusters.len());
        self.clusters.push(joining);
        Ok(self.clusters.len() - 1)
    }

    /// Writes every changed file (with its pending key) and every cluster faces joined (with
    /// its hint and order keys; the clusters made in a row share order blocks, written once).
    fn write(self, tx: &Tx<'_>, scope: &[u8]) -> Result<(), TxError<ImmError>> {
        for fkey in &self.changed_files {
            if let Some((Some(file), _)) = self.files.get(fkey) {
                // A face of it was pending until it joined.
                put_file(tx, scope, file, true)?;
            }
        }
        let mut order = OrderEdits::default();
        for j in self.clusters.into_iter().filter(|j| j.joined > 0) {
            if let Some(h) = j.cluster.hint.as_ref().filter(|_| j.stored_keys.is_none()) {
                tx.insert(
                    Tree::ImmHints,
                    &scoped(scope, h),
                    j.cluster.object_id.as_bytes(),
                )?;
            }
            put_cluster_into(tx, scope, &j.cluster, j.stored_keys, &mut order)?;
        }
        order.apply(tx, scope)
    }
}

/// Which cluster a group of faces joins.
enum Target {
    /// The cluster of this identity hint (created when new).
    Hint(String),
    /// A stored cluster (created anew if it vanished meanwhile).
    Existing(String),
    /// A new cluster.
    New,
}
