//! Asynchronous tasks: CreateFigureClusteringTask and CreateFigureClustersMergingTask, run in
//! the background; GetTask and ListTasks. A task is stored Running before its id is answered,
//! so a task interrupted by a crash is run again when the server comes back
//! ([`Imm::resume_tasks`]). Tasks older than the retention (7 days by default) are not shown.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::clock::now_ms;
use crate::store::{decode, Tree, Tx, TxError};

use super::clustering::{self, Group};
use super::error::{not_found, ImmError};
use super::model::{Cluster, FaceCluster, FileMeta, Task, TaskStatus, TaskWork};
use super::service::{
    abort, dataset_scope, delete_cluster, detach, finish, get, join, new_cluster, put_cluster,
    scoped, tx_cluster, tx_dataset, tx_get, tx_put, Caller, Imm,
};

/// `TaskType` of clustering tasks.
pub const FACE_CLUSTERING: &str = "FaceClustering";
/// `TaskType` of merging tasks (undocumented by the cloud; documented in the README).
pub const CLUSTERS_MERGING: &str = "FigureClustersMerging";

/// Tasks being run by this process, so that none runs twice.
#[derive(Default)]
pub struct Runner {
    running: Mutex<HashSet<Vec<u8>>>,
}

/// A validated task creation.
#[derive(Debug, Clone, Default)]
pub struct TaskInput {
    /// `Tags`.
    pub tags: Vec<(String, String)>,
    /// `UserData`.
    pub user_data: String,
    /// The request's parameters as JSON text (`TaskRequestDefinition`).
    pub request_definition: String,
}

/// `Sort` of ListTasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskSort {
    /// Default.
    TaskId,
    /// `StartTime`.
    StartTime,
    /// `EndTime`.
    EndTime,
}

/// Where a ListTasks page ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskCursor {
    /// Sort of the query.
    pub sort: TaskSort,
    /// Descending.
    pub desc: bool,
    /// Sort value of the last task.
    pub value: i64,
    /// Its id.
    pub id: String,
}

/// A validated ListTasks request.
#[derive(Debug, Clone)]
pub struct TaskQuery {
    /// `TaskTypes` (empty: all).
    pub types: Vec<String>,
    /// `Status`.
    pub status: Option<TaskStatus>,
    /// `TagSelector` conditions.
    pub tags: Vec<(String, String)>,
    /// `StartTimeRange` (ms, inclusive).
    pub started: (Option<i64>, Option<i64>),
    /// `EndTimeRange` (ms, inclusive).
    pub ended: (Option<i64>, Option<i64>),
    /// `Sort`.
    pub sort: TaskSort,
    /// `Order=desc`.
    pub desc: bool,
    /// `MaxResults` (1..=100).
    pub max_results: usize,
    /// Continue after this cursor.
    pub after: Option<TaskCursor>,
}

fn task_key(c: Caller<'_>, project: &str, task_id: &str) -> Vec<u8> {
    format!("{}\0{}\0{}\0{}", c.account, c.region, project, task_id).into_bytes()
}

fn event_id() -> String {
    let u = uuid::Uuid::new_v4().simple().to_string();
    format!("{}-{}", &u[..3].to_uppercase(), &u[3..28])
}

fn in_range(t: Option<u64>, r: &(Option<i64>, Option<i64>)) -> bool {
    if r.0.is_none() && r.1.is_none() {
        return true;
    }
    t.is_some_and(|t| r.0.is_none_or(|s| t as i64 >= s) && r.1.is_none_or(|e| t as i64 <= e))
}

/// A face waiting for clustering, with what the run needs.
struct PendingFace {
    uri: String,
    figure_id: String,
    hint: Option<String>,
    embedding: Option<Vec<f32>>,
}

impl Imm {
    fn live(&self, t: &Task, now: u64) -> bool {
        t.start_ms + self.settings.task_retention_ms > now
    }

    async fn store_task(
        self: &Arc<Self>,
        c: Caller<'_>,
        project: &str,
        dataset: &str,
        task_type: &str,
        work: TaskWork,
        input: TaskInput,
    ) -> Result<Task, ImmError> {
        let now = now_ms();
        let task = Task {
            task_id: format!("{task_type}-{}", uuid::Uuid::new_v4()),
            task_type: task_type.to_string(),
            account: c.account.to_string(),
            region: c.region.to_string(),
            project: project.to_string(),
            dataset: dataset.to_string(),
            work,
            status: TaskStatus::Running,
            code: String::new(),
            message: String::new(),
            start_ms: now,
            end_ms: None,
            not_before_ms: now.saturating_add(self.task_min_duration_ms()),
            tags: input.tags,
            user_data: input.user_data,
            event_id: event_id(),
            request_definition: input.request_definition,
        };
        let key = task_key(c, project, &task.task_id);
        let scope = dataset_scope(c, project, dataset);
        finish(self.store.transact(|tx| {
            tx_dataset(tx, c, project, dataset)?;
            if let TaskWork::Merging { froms, to } = &task.work {
                if tx_cluster(tx, &scope, to)?.is_none() {
                    return abort(not_found("figure-cluster", to));
                }
                for f in froms {
                    if f == to {
                        return abort(ImmError::Invalid(format!(
                            "From and To are the same figure cluster {to}."
                        )));
                    }
                    if tx_cluster(tx, &scope, f)?.is_none() {
                        return abort(not_found("figure-cluster", f));
                    }
                }
            }
            tx_put(tx, Tree::ImmTasks, &key, &task)
        }))?;
        self.durable().await?;
        self.spawn_task(key);
        Ok(task)
    }

    /// CreateFigureClusteringTask: clusters the dataset's pending faces in the background.
    pub async fn create_clustering_task(
        self: &Arc<Self>,
        c: Caller<'_>,
        project: &str,
        dataset: &str,
        input: TaskInput,
    ) -> Result<Task, ImmError> {
        self.store_task(
            c,
            project,
            dataset,
            FACE_CLUSTERING,
            TaskWork::Clustering,
            input,
        )
        .await
    }

    /// CreateFigureClustersMergingTask: moves the faces of `froms` into `to` in the background.
    pub async fn create_merging_task(
        self: &Arc<Self>,
        c: Caller<'_>,
        project: &str,
        dataset: &str,
        froms: Vec<String>,
        to: String,
        input: TaskInput,
    ) -> Result<Task, ImmError> {
        self.store_task(
            c,
            project,
            dataset,
            CLUSTERS_MERGING,
            TaskWork::Merging { froms, to },
            input,
        )
        .await
    }

    /// State control for tests: ends a Running task now. `Succeeded` does its work at once;
    /// `Failed` records the given code and message and does nothing else (the faces stay
    /// pending). Returns `false` when no Running task has that id.
    pub async fn finish_task_now(
        self: &Arc<Self>,
        task_id: &str,
        fail: Option<(String, String)>,
    ) -> Result<bool, ImmError> {
        let suffix = format!("\0{task_id}").into_bytes();
        let mut key = None;
        for item in self.store.scan_prefix(Tree::ImmTasks, b"") {
            let (k, v) = item?;
            if k.ends_with(&suffix) && decode::<Task>(&v)?.status == TaskStatus::Running {
                key = Some(k);
                break;
            }
        }
        let Some(key) = key else { return Ok(false) };
        match fail {
            None => {
                let worker = self.clone();
                let k = key.clone();
                tokio::task::spawn_blocking(move || worker.run_task(&k))
                    .await
                    .map_err(|e| ImmError::Store(e.to_string()))?;
            }
            Some((code, message)) => {
                let end = now_ms();
                finish(self.store.transact(|tx| {
                    let Some(mut t) = tx_get::<Task>(tx, Tree::ImmTasks, &key)? else {
                        return Ok(());
                    };
                    if t.status == TaskStatus::Running {
                        t.status = TaskStatus::Failed;
                        t.code = code.clone();
                        t.message = message.clone();
                        t.end_ms = Some(end.max(t.start_ms));
                        tx_put(tx, Tree::ImmTasks, &key, &t)?;
                    }
                    Ok(())
                }))?;
            }
        }
        self.durable().await?;
        Ok(true)
    }

    /// Runs every task left Running by a previous process.
    pub fn resume_tasks(self: &Arc<Self>) -> Result<usize, ImmError> {
        let mut n = 0;
        for item in self.store.scan_prefix(Tree::ImmTasks, b"") {
            let (k, v) = item?;
            if decode::<Task>(&v)?.status == TaskStatus::Running {
                self.spawn_task(k);
                n += 1;
            }
        }
        Ok(n)
    }

    fn spawn_task(self: &Arc<Self>, key: Vec<u8>) {
        if !self
            .runner
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.clone())
        {
            return;
        }
        let imm = self.clone();
        tokio::spawn(async move {
            let task = match get::<Task>(&imm.store, Tree::ImmTasks, &key) {
                Ok(Some(t)) => t,
                _ => return,
            };
            let wait = task.not_before_ms.saturating_sub(now_ms());
            tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
            let worker = imm.clone();
            let k = key.clone();
            let outcome = tokio::task::spawn_blocking(move || worker.run_task(&k)).await;
            if let Err(e) = outcome {
                tracing::error!(error = %e, "task worker failed");
            }
            if let Err(e) = imm.durable().await {
                tracing::error!(error = %e, "task result not flushed");
            }
            imm.runner
                .running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&key);
        });
    }

    /// Does the work of a stored task and records how it ended.
    fn run_task(&self, key: &[u8]) {
        let Ok(Some(task)) = get::<Task>(&self.store, Tree::ImmTasks, key) else {
            return;
        };
        if task.status != TaskStatus::Running {
            return;
        }
        let c = Caller {
            account: &task.account,
            region: &task.region,
        };
        let result = match &task.work {
            TaskWork::Clustering => self.cluster_pending(c, &task.project, &task.dataset),
            TaskWork::Merging { froms, to } => {
                self.merge(c, &task.project, &task.dataset, froms, to)
            }
        };
        let end = now_ms();
        let done = self.store.transact(|tx| {
            let Some(mut t) = tx_get::<Task>(tx, Tree::ImmTasks, key)? else {
                return Ok(());
            };
            t.end_ms = Some(end.max(t.start_ms));
            match &result {
                Ok(()) => t.status = TaskStatus::Succeeded,
                Err(e) => {
                    t.status = TaskStatus::Failed;
                    t.code = match e {
                        ImmError::NotFound { .. } => "ResourceNotFound".into(),
                        _ => "InternalError".into(),
                    };
                    t.message = e.to_string();
                }
            }
            tx_put(tx, Tree::ImmTasks, key, &t)
        });
        if let Err(e) = finish(done) {
            tracing::error!(error = %e, task = %task.task_id, "cannot record the end of a task");
        }
        tracing::info!(task = %task.task_id, ok = result.is_ok(), "task finished");
    }

    /// The clustering run: hints first, then embeddings against the dataset's centroids, then
    /// every other face on its own.
    fn cluster_pending(&self, c: Caller<'_>, project: &str, dataset: &str) -> Result<(), ImmError> {
        let scope = dataset_scope(c, project, dataset);
        let mut pending = Vec::new();
        // Pending keys come sorted by file, so one file is read per run of its faces and only
        // that file is held: memory stays bounded by the pending list, not by the dataset.
        let mut current: Option<(String, FileMeta)> = None;
        for item in self.store.scan_prefix(Tree::ImmPending, &scope) {
            let (k, _) = item?;
            let rest = String::from_utf8_lossy(&k[scope.len()..]).to_string();
            let Some((uri, fid)) = rest.split_once('\0') else {
                continue;
            };
            if current.as_ref().is_none_or(|(u, _)| u != uri) {
                current = get::<FileMeta>(&self.store, Tree::ImmFiles, &scoped(&scope, uri))?
                    .map(|f| (uri.to_string(), f));
            }
            let Some(face) = current
                .as_ref()
                .and_then(|(_, f)| f.faces.iter().find(|x| x.figure_id == fid))
            else {
                continue;
            };
            let FaceCluster::Pending { hint } = &face.cluster else {
                continue;
            };
            pending.push(PendingFace {
                uri: uri.to_string(),
                figure_id: fid.to_string(),
                hint: hint.clone(),
                embedding: face.embedding.clone(),
            });
        }
        // Identity hints: one group per hint.
        let mut by_hint: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut by_embedding = Vec::new();
        let mut singles = Vec::new();
        for (i, p) in pending.iter().enumerate() {
            match (&p.hint, &p.embedding) {
                (Some(h), _) => by_hint.entry(h.clone()).or_default().push(i),
                (None, Some(_)) => by_embedding.push(i),
                (None, None) => singles.push(i),
            }
        }
        let hinted: Vec<Assignment> = by_hint
            .into_iter()
            .map(|(hint, members)| (members, Target::Hint(hint)))
            .collect();
        self.assign_groups(c, project, dataset, &scope, &pending, &hinted)?;
        // Embeddings: incremental against the existing centroids.
        let mut groups: Vec<Group> = Vec::new();
        for item in self.store.scan_prefix(Tree::ImmClusters, &scope) {
            let (_, v) = item?;
            let cl = decode::<Cluster>(&v)?;
            if let Some(centroid) = cl.centroid {
                groups.push(Group::stored(cl.object_id, centroid, cl.centroid_weight));
            }
        }
        let embeddings: Vec<Vec<f32>> = by_embedding
            .iter()
            .map(|&i| pending[i].embedding.clone().unwrap_or_default())
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
        self.assign_groups(c, project, dataset, &scope, &pending, &assigned)
    }

    /// Assigns the groups, [`GROUPS_PER_TRANSACTION`] to a transaction (50k identity hints:
    /// 9.6 s with a transaction per group, 8.0 s batched; the rest is sled rewriting the
    /// leaves of about 15 keys per cluster). Each transaction is whole, and a task resumed
    /// after a crash picks up the faces that are still pending.
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
        finish(self.store.transact(|tx| {
            for ((members, target), fresh) in groups.iter().zip(&fresh) {
                assign_group(tx, scope, pending, members, target, fresh, now)?;
            }
            Ok(())
        }))
    }

    /// The merging run: one transaction.
    fn merge(
        &self,
        c: Caller<'_>,
        project: &str,
        dataset: &str,
        froms: &[String],
        to: &str,
    ) -> Result<(), ImmError> {
        let now = now_ms();
        let scope = dataset_scope(c, project, dataset);
        finish(self.store.transact(|tx| {
            let Some(mut dest) = tx_cluster(tx, &scope, to)? else {
                return abort(not_found("figure-cluster", to));
            };
            for f in froms {
                let Some(src) = tx_cluster(tx, &scope, f)? else {
                    continue;
                };
                for m in &src.members {
                    let fkey = scoped(&scope, &m.uri);
                    let Some(mut file) = tx_get::<FileMeta>(tx, Tree::ImmFiles, &fkey)? else {
                        continue;
                    };
                    let Some(idx) = file.faces.iter().position(|x| x.figure_id == m.figure_id)
                    else {
                        continue;
                    };
                    join(&mut dest, &mut file, idx, now);
                    tx_put(tx, Tree::ImmFiles, &fkey, &file)?;
                }
                delete_cluster(tx, &scope, f)?;
                if let Some(h) = &src.hint {
                    tx.insert(Tree::ImmHints, &scoped(&scope, h), to.as_bytes())?;
                }
            }
            dest.updated_ms = now;
            put_cluster(tx, &scope, &dest)
        }))
    }

    /// GetTask.
    pub fn get_task(
        &self,
        c: Caller<'_>,
        project: &str,
        task_id: &str,
        task_type: &str,
    ) -> Result<Task, ImmError> {
        get::<super::model::Project>(
            &self.store,
            Tree::ImmProjects,
            &super::service::project_key(c, project),
        )?
        .ok_or_else(|| not_found("project", project))?;
        let t = get::<Task>(&self.store, Tree::ImmTasks, &task_key(c, project, task_id))?
            .filter(|t| t.task_type == task_type && self.live(t, now_ms()));
        t.ok_or_else(|| not_found("task", task_id))
    }

    /// ListTasks of a project.
    pub fn list_tasks(
        &self,
        c: Caller<'_>,
        project: &str,
        q: &TaskQuery,
    ) -> Result<(Vec<Task>, Option<TaskCursor>), ImmError> {
        get::<super::model::Project>(
            &self.store,
            Tree::ImmProjects,
            &super::service::project_key(c, project),
        )?
        .ok_or_else(|| not_found("project", project))?;
        let now = now_ms();
        let mut prefix = super::service::project_key(c, project);
        prefix.push(0);
        let value = |t: &Task| match q.sort {
            TaskSort::TaskId => 0,
            TaskSort::StartTime => t.start_ms as i64,
            TaskSort::EndTime => t.end_ms.map(|e| e as i64).unwrap_or(i64::MAX),
        };
        let mut hits: Vec<Task> = Vec::new();
        for item in self.store.scan_prefix(Tree::ImmTasks, &prefix) {
            let (_, v) = item?;
            let t = decode::<Task>(&v)?;
            let ok = self.live(&t, now)
                && (q.types.is_empty() || q.types.contains(&t.task_type))
                && q.status.is_none_or(|s| s == t.status)
                && q.tags.iter().all(|kv| t.tags.contains(kv))
                && in_range(Some(t.start_ms), &q.started)
                && in_range(t.end_ms, &q.ended);
            if ok {
                hits.push(t);
            }
        }
        let order = |a: &Task, b: &Task| {
            let o = value(a)
                .cmp(&value(b))
                .then_with(|| a.task_id.cmp(&b.task_id));
            if q.desc {
                o.reverse()
            } else {
                o
            }
        };
        hits.sort_by(order);
        let start = match &q.after {
            None => 0,
            Some(cur) => hits
                .iter()
                .position(|t| {
                    let o = value(t)
                        .cmp(&cur.value)
                        .then_with(|| t.task_id.cmp(&cur.id));
                    if q.desc {
                        o.is_lt()
                    } else {
                        o.is_gt()
                    }
                })
                .unwrap_or(hits.len()),
        };
        let end = (start + q.max_results).min(hits.len());
        let next = (end < hits.len() && end > start).then(|| TaskCursor {
            sort: q.sort,
            desc: q.desc,
            value: value(&hits[end - 1]),
            id: hits[end - 1].task_id.clone(),
        });
        Ok((hits.drain(start..end).collect(), next))
    }
}

/// Faces (indexes into the pending list) and the cluster they join.
type Assignment = (Vec<usize>, Target);

/// Groups assigned in one transaction.
const GROUPS_PER_TRANSACTION: usize = 256;

/// Inside a transaction: the faces of `members` that are still pending join the target.
fn assign_group(
    tx: &Tx<'_>,
    scope: &[u8],
    pending: &[PendingFace],
    members: &[usize],
    target: &Target,
    fresh: &Cluster,
    now: u64,
) -> Result<(), TxError<ImmError>> {
    let mut cl = match target {
        Target::Hint(h) => {
            let known = match tx.get(Tree::ImmHints, &scoped(scope, h))? {
                Some(id) => tx_cluster(tx, scope, &String::from_utf8_lossy(&id))?,
                None => None,
            };
            known.unwrap_or_else(|| {
                let mut n = fresh.clone();
                n.hint = Some(h.clone());
                n
            })
        }
        Target::Existing(id) => tx_cluster(tx, scope, id)?.unwrap_or_else(|| fresh.clone()),
        Target::New => fresh.clone(),
    };
    let mut joined = 0;
    for &i in members {
        let p = &pending[i];
        let fkey = scoped(scope, &p.uri);
        let Some(mut file) = tx_get::<FileMeta>(tx, Tree::ImmFiles, &fkey)? else {
            continue;
        };
        let Some(idx) = file.faces.iter().position(|f| f.figure_id == p.figure_id) else {
            continue;
        };
        if !matches!(file.faces[idx].cluster, FaceCluster::Pending { .. }) {
            continue;
        }
        detach(tx, scope, &file, idx, now)?;
        join(&mut cl, &mut file, idx, now);
        tx_put(tx, Tree::ImmFiles, &fkey, &file)?;
        joined += 1;
    }
    if joined == 0 {
        return Ok(());
    }
    if let Some(h) = &cl.hint {
        tx.insert(Tree::ImmHints, &scoped(scope, h), cl.object_id.as_bytes())?;
    }
    put_cluster(tx, scope, &cl)
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
