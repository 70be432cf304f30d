//! The face domain's records, whole: dumped for export, rebuilt (with the pending-face index and
//! the counters) for import, and the changes that reset them (everything, or one account).

use std::collections::BTreeMap;

use crate::store::{decode, encode, Change, ReadView, StoreError, Tree};

use super::keys::{
    account_prefix, cluster_count_key, dataset_key, dataset_scope, key_parts, order_keys,
    pending_key, project_key, scoped, task_key,
};
use super::model::Caller;
use super::model::{Cluster, Dataset, FileMeta, Project, Task};

/// The trees of the face domain (their home is `keys.rs`).
pub use super::keys::TREES;

/// A stored identity hint: which cluster faces with this hint join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Project.
    pub project: String,
    /// Dataset.
    pub dataset: String,
    /// The hint.
    pub hint: String,
    /// The cluster.
    pub cluster: String,
}

/// A file with where it lives.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedFile {
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Project.
    pub project: String,
    /// Dataset.
    pub dataset: String,
    /// The file.
    pub file: FileMeta,
}

/// Every record of the face domain.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImmDump {
    /// Projects.
    pub projects: Vec<Project>,
    /// Datasets.
    pub datasets: Vec<Dataset>,
    /// Files.
    pub files: Vec<PlacedFile>,
    /// Clusters.
    pub clusters: Vec<Cluster>,
    /// Identity hints.
    pub hints: Vec<Hint>,
    /// Tasks.
    pub tasks: Vec<Task>,
}

fn put(tree: Tree, key: Vec<u8>, value: Vec<u8>) -> Change {
    Change {
        tree,
        key,
        value: Some(value),
    }
}

fn split_key(key: &[u8]) -> Vec<String> {
    key_parts(key)
}

/// Reads every record (under a rewrite's exclusive view).
pub fn dump(view: &ReadView<'_>) -> Result<ImmDump, StoreError> {
    let mut d = ImmDump::default();
    for item in view.scan_prefix(Tree::ImmProjects, b"") {
        d.projects.push(decode::<Project>(&item?.1)?);
    }
    for item in view.scan_prefix(Tree::ImmDatasets, b"") {
        d.datasets.push(decode::<Dataset>(&item?.1)?);
    }
    for item in view.scan_prefix(Tree::ImmFiles, b"") {
        let (k, v) = item?;
        let p = split_key(&k);
        if p.len() == 5 {
            d.files.push(PlacedFile {
                account: p[0].clone(),
                region: p[1].clone(),
                project: p[2].clone(),
                dataset: p[3].clone(),
                file: decode::<FileMeta>(&v)?,
            });
        }
    }
    for item in view.scan_prefix(Tree::ImmClusters, b"") {
        d.clusters.push(decode::<Cluster>(&item?.1)?);
    }
    for item in view.scan_prefix(Tree::ImmHints, b"") {
        let (k, v) = item?;
        let p = split_key(&k);
        if p.len() == 5 {
            d.hints.push(Hint {
                account: p[0].clone(),
                region: p[1].clone(),
                project: p[2].clone(),
                dataset: p[3].clone(),
                hint: p[4].clone(),
                cluster: String::from_utf8_lossy(&v).to_string(),
            });
        }
    }
    for item in view.scan_prefix(Tree::ImmTasks, b"") {
        d.tasks.push(decode::<Task>(&item?.1)?);
    }
    Ok(d)
}

/// The writes that store `d` with the pending-face index and the file and dataset counters
/// recomputed. The caller checked its consistency.
pub fn changes(d: &ImmDump) -> Result<Vec<Change>, StoreError> {
    let mut out = Vec::new();
    let mut datasets_per_project: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    let mut files_per_dataset: BTreeMap<Vec<u8>, (u64, u64)> = BTreeMap::new();
    for f in &d.files {
        let c = Caller {
            account: &f.account,
            region: &f.region,
        };
        let scope = dataset_scope(c, &f.project, &f.dataset);
        out.push(put(
            Tree::ImmFiles,
            scoped(&scope, &f.file.uri),
            encode(&f.file)?,
        ));
        if f.file.has_pending() {
            out.push(put(
                Tree::ImmPending,
                pending_key(&scope, &f.file.uri),
                Vec::new(),
            ));
        }
        let e = files_per_dataset
            .entry(dataset_key(c, &f.project, &f.dataset))
            .or_default();
        e.0 += 1;
        e.1 += f.file.size;
    }
    for ds in &d.datasets {
        let c = Caller {
            account: &ds.account,
            region: &ds.region,
        };
        let key = dataset_key(c, &ds.project, &ds.name);
        let mut ds = ds.clone();
        let (n, size) = files_per_dataset.get(&key).copied().unwrap_or_default();
        ds.file_count = n;
        ds.total_file_size = size;
        out.push(put(Tree::ImmDatasets, key, encode(&ds)?));
        *datasets_per_project
            .entry(project_key(c, &ds.project))
            .or_default() += 1;
    }
    for p in &d.projects {
        let c = Caller {
            account: &p.account,
            region: &p.region,
        };
        let key = project_key(c, &p.name);
        let mut p = p.clone();
        p.dataset_count = datasets_per_project.get(&key).copied().unwrap_or(0);
        out.push(put(Tree::ImmProjects, key, encode(&p)?));
    }
    let mut clusters_per_dataset: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    let mut order = Vec::new();
    for cl in &d.clusters {
        let c = Caller {
            account: &cl.account,
            region: &cl.region,
        };
        let scope = dataset_scope(c, &cl.project, &cl.dataset);
        out.push(put(
            Tree::ImmClusters,
            scoped(&scope, &cl.object_id),
            encode(cl)?,
        ));
        order.extend(order_keys(&scope, cl).into_iter().map(|k| (scope.len(), k)));
        *clusters_per_dataset.entry(scope).or_default() += 1;
    }
    for (k, v) in super::order_index::records(order) {
        out.push(put(Tree::ImmClusterOrder, k, v));
    }
    for (scope, n) in clusters_per_dataset {
        let key = cluster_count_key(&scope);
        out.push(put(Tree::ImmClusterOrder, key, n.to_be_bytes().to_vec()));
    }
    for h in &d.hints {
        let c = Caller {
            account: &h.account,
            region: &h.region,
        };
        out.push(put(
            Tree::ImmHints,
            scoped(&dataset_scope(c, &h.project, &h.dataset), &h.hint),
            h.cluster.clone().into_bytes(),
        ));
    }
    for t in &d.tasks {
        let c = Caller {
            account: &t.account,
            region: &t.region,
        };
        let key = task_key(c, &t.project, &t.task_id);
        out.push(put(Tree::ImmTasks, key, encode(t)?));
    }
    Ok(out)
}

/// The writes that remove the domain's records: all of them, or one account's.
pub fn reset_changes(
    view: &ReadView<'_>,
    account: Option<&str>,
) -> Result<Vec<Change>, StoreError> {
    let prefix = account.map(account_prefix).unwrap_or_default();
    let mut out = Vec::new();
    for &t in TREES {
        for item in view.scan_prefix(t, &prefix) {
            out.push(Change {
                tree: t,
                key: item?.0,
                value: None,
            });
        }
    }
    Ok(out)
}
