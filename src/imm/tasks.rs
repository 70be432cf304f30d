//! Asynchronous tasks, as records: CreateFigureClusteringTask and
//! CreateFigureClustersMergingTask store a task Running (durably) before its id is answered
//! and hand it to the runner (`runner.rs`); GetTask and ListTasks read them. Tasks older than
//! the retention (7 days by default) are not shown. The work itself lives in
//! `clustering_run.rs` and `merging.rs`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::clock::now_ms;
use crate::store::{decode, Tree};

use super::error::{not_found, ImmError};
use super::keys::{dataset_scope, project_key, project_scope, task_key};
use super::model::{Project, Task, TaskStatus, TaskWork};
use super::rules;
use super::service::{abort, finish, get, tx_cluster, tx_dataset, tx_put, Caller, Imm};

/// `TaskType` of clustering tasks.
pub const FACE_CLUSTERING: &str = "FaceClustering";
/// `TaskType` of merging tasks (undocumented by the cloud; documented in docs/imm.md).
pub const CLUSTERS_MERGING: &str = "FigureClustersMerging";

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
        rules::user_data(&input.user_data)?;
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

    /// GetTask.
    pub fn get_task(
        &self,
        c: Caller<'_>,
        project: &str,
        task_id: &str,
        task_type: &str,
    ) -> Result<Task, ImmError> {
        get::<Project>(&self.store, Tree::ImmProjects, &project_key(c, project))?
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
        get::<Project>(&self.store, Tree::ImmProjects, &project_key(c, project))?
            .ok_or_else(|| not_found("project", project))?;
        let now = now_ms();
        let prefix = project_scope(c, project);
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
