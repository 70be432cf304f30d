//! The face domain's part of `cloudtwin check`: every record decodes under the key that names
//! it; the pending index, the order index (sort keys, label postings) and its count keys, and
//! the dataset and project counters are exactly what [`portable::changes`] rebuilds from the
//! records; every face has the one standing its cluster agrees with; every hint names a
//! cluster that carries it.

use std::collections::{BTreeMap, BTreeSet};

use crate::check::compare::{compare_tree, expected, Problem};
use crate::store::{decode, ReadView, StoreError, Tree};

use super::keys::{dataset_key, dataset_scope, key_parts, project_key, scoped, task_key};
use super::model::Caller;
use super::model::{Cluster, Dataset, FaceCluster, FileMeta, Project, Task};
use super::portable::{self, Hint, ImmDump, PlacedFile};

fn caller_of<'a>(account: &'a str, region: &'a str) -> Caller<'a> {
    Caller { account, region }
}

fn parts(key: &[u8]) -> Vec<String> {
    key_parts(key)
}

/// Decodes every record of `tree`, reporting those that do not decode or whose key is not
/// `key_of` the record.
fn records<R: crate::store::Record>(
    view: &ReadView<'_>,
    tree: Tree,
    key_of: impl Fn(&R) -> Vec<u8>,
    out: &mut Vec<Problem>,
) -> Result<Vec<R>, StoreError> {
    let mut found = Vec::new();
    for item in view.scan_prefix(tree, b"") {
        let (key, value) = item?;
        match decode::<R>(&value) {
            Err(e) => out.push(Problem::new(tree, &key, e.to_string())),
            Ok(r) if key_of(&r) != key => out.push(Problem::new(
                tree,
                &key,
                format!(
                    "holds the record of \"{}\"",
                    crate::check::compare::show_key(&key_of(&r))
                ),
            )),
            Ok(r) => found.push(r),
        }
    }
    Ok(found)
}

/// Checks the face domain's trees, adding what is wrong to `out`.
pub fn check(view: &ReadView<'_>, out: &mut Vec<Problem>) -> Result<(), StoreError> {
    let mut d = ImmDump {
        projects: records::<Project>(
            view,
            Tree::ImmProjects,
            |p| project_key(caller_of(&p.account, &p.region), &p.name),
            out,
        )?,
        datasets: records::<Dataset>(
            view,
            Tree::ImmDatasets,
            |ds| dataset_key(caller_of(&ds.account, &ds.region), &ds.project, &ds.name),
            out,
        )?,
        clusters: records::<Cluster>(
            view,
            Tree::ImmClusters,
            |c| {
                let scope = dataset_scope(caller_of(&c.account, &c.region), &c.project, &c.dataset);
                scoped(&scope, &c.object_id)
            },
            out,
        )?,
        tasks: records::<Task>(
            view,
            Tree::ImmTasks,
            |t| task_key(caller_of(&t.account, &t.region), &t.project, &t.task_id),
            out,
        )?,
        ..ImmDump::default()
    };
    for item in view.scan_prefix(Tree::ImmFiles, b"") {
        let (key, value) = item?;
        let p = parts(&key);
        match decode::<FileMeta>(&value) {
            Err(e) => out.push(Problem::new(Tree::ImmFiles, &key, e.to_string())),
            Ok(f) if p.len() != 5 || p[4] != f.uri => out.push(Problem::new(
                Tree::ImmFiles,
                &key,
                format!("holds file {}, not the one its key names", f.uri),
            )),
            Ok(file) => d.files.push(PlacedFile {
                account: p[0].clone(),
                region: p[1].clone(),
                project: p[2].clone(),
                dataset: p[3].clone(),
                file,
            }),
        }
    }
    for item in view.scan_prefix(Tree::ImmHints, b"") {
        let (key, value) = item?;
        let p = parts(&key);
        match String::from_utf8(value) {
            Ok(cluster) if p.len() == 5 => d.hints.push(Hint {
                account: p[0].clone(),
                region: p[1].clone(),
                project: p[2].clone(),
                dataset: p[3].clone(),
                hint: p[4].clone(),
                cluster,
            }),
            _ => out.push(Problem::new(
                Tree::ImmHints,
                &key,
                "not a (dataset, hint) -> cluster id entry",
            )),
        }
    }

    let want = expected(portable::changes(&d)?, "records", out);
    compare_tree(
        view,
        Tree::ImmPending,
        want.get(&Tree::ImmPending),
        false,
        out,
    )?;
    compare_tree(
        view,
        Tree::ImmClusterOrder,
        want.get(&Tree::ImmClusterOrder),
        true,
        out,
    )?;
    counters(&d, &want, out);
    standings(&d, out);
    Ok(())
}

/// A dataset's `file_count` and `total_file_size`, a project's `dataset_count`, against the
/// values rebuilt from its files and datasets.
fn counters(
    d: &ImmDump,
    want: &BTreeMap<Tree, BTreeMap<Vec<u8>, Vec<u8>>>,
    out: &mut Vec<Problem>,
) {
    let rebuilt = |tree: Tree, key: &[u8]| want.get(&tree).and_then(|m| m.get(key));
    for ds in &d.datasets {
        let key = dataset_key(
            Caller {
                account: &ds.account,
                region: &ds.region,
            },
            &ds.project,
            &ds.name,
        );
        if let Some(Ok(w)) = rebuilt(Tree::ImmDatasets, &key).map(|b| decode::<Dataset>(b)) {
            if (ds.file_count, ds.total_file_size) != (w.file_count, w.total_file_size) {
                out.push(Problem::new(
                    Tree::ImmDatasets,
                    &key,
                    format!(
                        "counts {} files of {} bytes, its files are {} of {} bytes",
                        ds.file_count, ds.total_file_size, w.file_count, w.total_file_size
                    ),
                ));
            }
        }
    }
    for p in &d.projects {
        let key = project_key(
            Caller {
                account: &p.account,
                region: &p.region,
            },
            &p.name,
        );
        if let Some(Ok(w)) = rebuilt(Tree::ImmProjects, &key).map(|b| decode::<Project>(b)) {
            if p.dataset_count != w.dataset_count {
                out.push(Problem::new(
                    Tree::ImmProjects,
                    &key,
                    format!(
                        "counts {} datasets, it has {}",
                        p.dataset_count, w.dataset_count
                    ),
                ));
            }
        }
    }
}

/// A cluster with its members as (uri, figure id), by (scope, cluster id).
type Listed<'a> = (&'a Cluster, BTreeSet<(&'a str, &'a str)>);

/// Faces, clusters and hints agree: a face assigned to a cluster is among its members and
/// every member is a face assigned to it; a cluster has members and lives in a dataset that
/// exists; a hint names a cluster of its dataset that carries the hint; a file's dataset
/// exists.
fn standings(d: &ImmDump, out: &mut Vec<Problem>) {
    let datasets: BTreeSet<Vec<u8>> = d
        .datasets
        .iter()
        .map(|ds| {
            dataset_scope(
                Caller {
                    account: &ds.account,
                    region: &ds.region,
                },
                &ds.project,
                &ds.name,
            )
        })
        .collect();
    let mut clusters: BTreeMap<(Vec<u8>, &str), Listed<'_>> = BTreeMap::new();
    for c in &d.clusters {
        let scope = dataset_scope(
            Caller {
                account: &c.account,
                region: &c.region,
            },
            &c.project,
            &c.dataset,
        );
        let key = scoped(&scope, &c.object_id);
        if c.members.is_empty() {
            out.push(Problem::new(Tree::ImmClusters, &key, "has no members"));
        }
        if !datasets.contains(&scope) {
            out.push(Problem::new(
                Tree::ImmClusters,
                &key,
                "its dataset does not exist",
            ));
        }
        let members = c
            .members
            .iter()
            .map(|m| (m.uri.as_str(), m.figure_id.as_str()))
            .collect();
        clusters.insert((scope, c.object_id.as_str()), (c, members));
    }
    let mut assigned: BTreeSet<(Vec<u8>, &str, &str, &str)> = BTreeSet::new();
    for f in &d.files {
        let scope = dataset_scope(
            Caller {
                account: &f.account,
                region: &f.region,
            },
            &f.project,
            &f.dataset,
        );
        let key = scoped(&scope, &f.file.uri);
        if !datasets.contains(&scope) {
            out.push(Problem::new(
                Tree::ImmFiles,
                &key,
                "its dataset does not exist",
            ));
        }
        for face in &f.file.faces {
            let FaceCluster::Assigned(id) = &face.cluster else {
                continue;
            };
            match clusters.get(&(scope.clone(), id.as_str())) {
                None => out.push(Problem::new(
                    Tree::ImmFiles,
                    &key,
                    format!(
                        "face {} is assigned to cluster {id}, which does not exist",
                        face.figure_id
                    ),
                )),
                Some((_, members))
                    if !members.contains(&(f.file.uri.as_str(), face.figure_id.as_str())) =>
                {
                    out.push(Problem::new(
                        Tree::ImmFiles,
                        &key,
                        format!(
                            "face {} is assigned to cluster {id}, which does not list it",
                            face.figure_id
                        ),
                    ))
                }
                Some(_) => {}
            }
            assigned.insert((
                scope.clone(),
                id.as_str(),
                f.file.uri.as_str(),
                face.figure_id.as_str(),
            ));
        }
    }
    for ((scope, id), (_, members)) in &clusters {
        for (uri, figure) in members {
            if !assigned.contains(&(scope.clone(), *id, *uri, *figure)) {
                out.push(Problem::new(
                    Tree::ImmClusters,
                    &scoped(scope, id),
                    format!("lists face {figure} of {uri}, which is not assigned to it"),
                ));
            }
        }
    }
    for h in &d.hints {
        let scope = dataset_scope(
            Caller {
                account: &h.account,
                region: &h.region,
            },
            &h.project,
            &h.dataset,
        );
        let key = scoped(&scope, &h.hint);
        match clusters.get(&(scope, h.cluster.as_str())) {
            None => out.push(Problem::new(
                Tree::ImmHints,
                &key,
                format!("names cluster {}, which does not exist", h.cluster),
            )),
            Some((c, _)) if c.hint.as_deref() != Some(h.hint.as_str()) => out.push(Problem::new(
                Tree::ImmHints,
                &key,
                format!("names cluster {}, whose hint is {:?}", h.cluster, c.hint),
            )),
            Some(_) => {}
        }
    }
}
