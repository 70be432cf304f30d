//! The task runner: spawns a stored Running task on the tokio runtime once its shortest
//! duration has passed, runs its work on a blocking thread, and records how it ended in one
//! transaction; [`Imm::resume_tasks`] reruns the tasks a previous process left Running, and
//! [`Imm::finish_task_now`] ends one at once (state control). The set of tasks running here is
//! `running.rs`.
//!
//! Over a store shared by several nodes ([`Imm::with_cluster`]) a task runs only under its
//! lease (`crate::cluster`): the node that spawns it takes the lease first (another node's
//! live lease means that node runs it), renews it every third of the lease time while it
//! waits and works, and lets it go at the end. Every node looks for Running tasks whose lease
//! has expired ([`Imm::start_takeover`]) and runs them: a task whose node died with `kill -9`
//! is finished by another. The end is recorded only while the task is still Running, so a
//! task that two nodes did run (a node that stalled past its lease) ends once.

use std::sync::Arc;

use crate::clock::now_ms;
use crate::store::{decode, Tree};

use super::error::{ImmError, TaskFailure};
use super::keys::task_key_names;
use super::model::{Task, TaskStatus, TaskWork};
use super::service::{finish, get, tx_get, tx_put, Caller, Imm};

impl Imm {
    /// State control for tests: ends a Running task now. `Succeeded` does its work at once;
    /// `Failed` records the given code and message and does nothing else (the faces stay
    /// pending). Returns `false` when no Running task has that id.
    pub async fn finish_task_now(
        self: &Arc<Self>,
        task_id: &str,
        fail: Option<(String, String)>,
    ) -> Result<bool, ImmError> {
        let mut key = None;
        for item in self.store.scan_prefix(Tree::ImmTasks, b"") {
            let (k, v) = item?;
            if task_key_names(&k, task_id) && decode::<Task>(&v)?.status == TaskStatus::Running {
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

    /// Runs a stored task in the background, unless this process runs it already (or,
    /// over a shared store, another node holds its lease).
    pub(super) fn spawn_task(self: &Arc<Self>, key: Vec<u8>) {
        if !self.runner.claim(&key) {
            return;
        }
        let imm = self.clone();
        tokio::spawn(async move {
            let lease = lease_name(&key);
            let renewal = match &imm.cluster {
                None => None,
                Some(cluster) => match cluster.take_lease(&lease) {
                    Ok(true) => Some(tokio::spawn(renew(cluster.clone(), lease.clone()))),
                    Ok(false) => {
                        imm.runner.release(&key);
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot take a task lease; left for later");
                        imm.runner.release(&key);
                        return;
                    }
                },
            };
            let task = match get::<Task>(&imm.store, Tree::ImmTasks, &key) {
                Ok(Some(t)) if t.status == TaskStatus::Running => Some(t),
                _ => None,
            };
            if let Some(task) = task {
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
            }
            if let (Some(renewal), Some(cluster)) = (renewal, &imm.cluster) {
                renewal.abort();
                if let Err(e) = cluster.release_lease(&lease) {
                    tracing::warn!(error = %e, "a task lease was not released; it expires");
                }
            }
            imm.runner.release(&key);
        });
    }

    /// Over a shared store: looks for Running tasks whose lease expired (their node died) every
    /// half lease and runs them. Does nothing over a data dir.
    pub fn start_takeover(self: &Arc<Self>) {
        let Some(cluster) = self.cluster.clone() else {
            return;
        };
        let imm = self.clone();
        let every = std::time::Duration::from_millis((cluster.lease_ms() / 2).max(100));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let orphans = match imm.orphaned_tasks(&cluster) {
                    Ok(keys) => keys,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot look for tasks to take over");
                        continue;
                    }
                };
                for key in orphans {
                    tracing::info!(lease = %lease_name(&key), node = %cluster.node_id(), "taking over a task whose lease expired");
                    imm.spawn_task(key);
                }
            }
        });
    }

    /// Running tasks that no node holds a lease for (and this one does not run).
    fn orphaned_tasks(&self, cluster: &crate::cluster::Cluster) -> Result<Vec<Vec<u8>>, ImmError> {
        let mut out = Vec::new();
        for item in self.store.scan_prefix(Tree::ImmTasks, b"") {
            let (k, v) = item?;
            if decode::<Task>(&v)?.status == TaskStatus::Running
                && !self.runner.is_running(&k)
                && cluster.lease_holder(&lease_name(&k))?.is_none()
            {
                out.push(k);
            }
        }
        Ok(out)
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
            if t.status != TaskStatus::Running {
                // Ended already (state control, or another node that ran it too).
                return Ok(());
            }
            t.end_ms = Some(end.max(t.start_ms));
            match &result {
                Ok(()) => t.status = TaskStatus::Succeeded,
                Err(e) => {
                    t.status = TaskStatus::Failed;
                    t.code = (self.settings.task_failure_code)(TaskFailure::of(e));
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
}

/// The lease of a task, named after its key.
fn lease_name(key: &[u8]) -> String {
    format!("imm.task/{}", hex::encode(key))
}

/// Renews a lease every third of its time until aborted.
async fn renew(cluster: crate::cluster::Cluster, lease: String) {
    let every = std::time::Duration::from_millis((cluster.lease_ms() / 3).max(50));
    loop {
        tokio::time::sleep(every).await;
        match cluster.take_lease(&lease) {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(lease = %lease, "a task lease was taken by another node");
                return;
            }
            Err(e) => tracing::warn!(error = %e, lease = %lease, "a task lease was not renewed"),
        }
    }
}
