//! Projects and datasets: create, get, list (prefix, NextToken), update, delete (only when
//! empty: `StatusConflict`).

use crate::clock::now_ms;
use crate::store::Tree;

use super::error::{not_found, ImmError};
use super::keys::{dataset_key, project_key, project_scope, region_prefix};
use super::model::{
    Dataset, DatasetLimits, Project, DEFAULT_MAX_DATASET_COUNT, DEFAULT_SERVICE_ROLE,
};
use super::rules;
use super::service::{abort, finish, get, tx_get, tx_project, tx_put, Caller, Imm};

/// Limits given in a request; `None` keeps the current or default value.
#[derive(Debug, Clone, Default)]
pub struct LimitsInput {
    /// `DatasetMaxBindCount`.
    pub max_bind_count: Option<i64>,
    /// `DatasetMaxEntityCount`.
    pub max_entity_count: Option<i64>,
    /// `DatasetMaxFileCount`.
    pub max_file_count: Option<i64>,
    /// `DatasetMaxRelationCount`.
    pub max_relation_count: Option<i64>,
    /// `DatasetMaxTotalFileSize`.
    pub max_total_file_size: Option<i64>,
}

impl LimitsInput {
    fn apply(&self, l: &mut DatasetLimits) {
        let set = |dst: &mut i64, v: Option<i64>| {
            if let Some(v) = v {
                *dst = v;
            }
        };
        set(&mut l.max_bind_count, self.max_bind_count);
        set(&mut l.max_entity_count, self.max_entity_count);
        set(&mut l.max_file_count, self.max_file_count);
        set(&mut l.max_relation_count, self.max_relation_count);
        set(&mut l.max_total_file_size, self.max_total_file_size);
    }
}

/// A validated CreateProject / UpdateProject request.
#[derive(Debug, Clone, Default)]
pub struct ProjectInput {
    /// `ProjectName`.
    pub name: String,
    /// `Description`.
    pub description: Option<String>,
    /// `ServiceRole`.
    pub service_role: Option<String>,
    /// `TemplateId`.
    pub template_id: Option<String>,
    /// `Tag`.
    pub tags: Option<Vec<(String, String)>>,
    /// Dataset limits.
    pub limits: LimitsInput,
    /// `ProjectMaxDatasetCount`.
    pub max_dataset_count: Option<i64>,
}

/// A validated CreateDataset / UpdateDataset request.
#[derive(Debug, Clone, Default)]
pub struct DatasetInput {
    /// `ProjectName`.
    pub project: String,
    /// `DatasetName`.
    pub name: String,
    /// `Description`.
    pub description: Option<String>,
    /// `TemplateId`.
    pub template_id: Option<String>,
    /// `WorkflowParameters`.
    pub workflow_parameters: Option<Vec<(String, String)>>,
    /// Limits.
    pub limits: LimitsInput,
}

impl ProjectInput {
    /// The domain's rules on the name and description (`rules.rs`).
    pub fn check(&self) -> Result<(), ImmError> {
        rules::project_name(&self.name)?;
        self.description
            .as_deref()
            .map_or(Ok(()), rules::description)
    }
}

impl DatasetInput {
    /// The domain's rules on the dataset's name and description (`rules.rs`).
    pub fn check(&self) -> Result<(), ImmError> {
        rules::dataset_name(&self.name)?;
        self.description
            .as_deref()
            .map_or(Ok(()), rules::description)
    }
}

/// A page request of ListProjects / ListDatasets.
#[derive(Debug, Clone, Default)]
pub struct NamePage {
    /// Only names with this prefix.
    pub prefix: String,
    /// Page size.
    pub max_results: usize,
    /// Continue after this name.
    pub after: Option<String>,
    /// Only projects with all these tags.
    pub tags: Vec<(String, String)>,
}

/// Files and bytes of a project or dataset.
#[derive(Debug, Clone, Copy, Default)]
pub struct Statistics {
    /// `FileCount`.
    pub file_count: u64,
    /// `TotalFileSize`.
    pub total_file_size: u64,
}

fn page<T>(items: impl Iterator<Item = (String, T)>, q: &NamePage) -> (Vec<T>, Option<String>) {
    let mut out = Vec::new();
    let mut last = None;
    let mut more = false;
    for (name, item) in items {
        if !name.starts_with(&q.prefix) || q.after.as_ref().is_some_and(|a| name <= *a) {
            continue;
        }
        if out.len() == q.max_results {
            more = true;
            break;
        }
        last = Some(name);
        out.push(item);
    }
    (out, if more { last } else { None })
}

impl Imm {
    /// CreateProject.
    pub async fn create_project(
        &self,
        c: Caller<'_>,
        input: ProjectInput,
    ) -> Result<Project, ImmError> {
        input.check()?;
        let now = now_ms();
        let mut limits = DatasetLimits::default();
        input.limits.apply(&mut limits);
        let project = Project {
            account: c.account.to_string(),
            region: c.region.to_string(),
            name: input.name.clone(),
            description: input.description.clone().unwrap_or_default(),
            service_role: input
                .service_role
                .clone()
                .unwrap_or_else(|| DEFAULT_SERVICE_ROLE.into()),
            template_id: input.template_id.clone().unwrap_or_default(),
            tags: input.tags.clone().unwrap_or_default(),
            limits,
            max_dataset_count: input.max_dataset_count.unwrap_or(DEFAULT_MAX_DATASET_COUNT),
            dataset_count: 0,
            created_ms: now,
            updated_ms: now,
        };
        let key = project_key(c, &input.name);
        finish(self.store.transact(|tx| {
            if tx.get(Tree::ImmProjects, &key)?.is_some() {
                return abort(ImmError::AlreadyExists {
                    kind: "project",
                    name: input.name.clone(),
                });
            }
            tx_put(tx, Tree::ImmProjects, &key, &project)
        }))?;
        self.durable().await?;
        Ok(project)
    }

    /// GetProject, with file statistics summed over its datasets.
    pub fn get_project(
        &self,
        c: Caller<'_>,
        name: &str,
    ) -> Result<(Project, Statistics), ImmError> {
        let p = get::<Project>(&self.store, Tree::ImmProjects, &project_key(c, name))?
            .ok_or_else(|| not_found("project", name))?;
        let mut stats = Statistics::default();
        let prefix = project_scope(c, name);
        for item in self.store.scan_prefix(Tree::ImmDatasets, &prefix) {
            let (_, v) = item?;
            let d = crate::store::decode::<Dataset>(&v)?;
            stats.file_count += d.file_count;
            stats.total_file_size += d.total_file_size;
        }
        Ok((p, stats))
    }

    /// ListProjects: name order, prefix and tag filters, continuation after a name.
    pub fn list_projects(
        &self,
        c: Caller<'_>,
        q: &NamePage,
    ) -> Result<(Vec<Project>, Option<String>), ImmError> {
        let prefix = region_prefix(c);
        let mut all = Vec::new();
        for item in self.store.scan_prefix(Tree::ImmProjects, &prefix) {
            let (_, v) = item?;
            let p = crate::store::decode::<Project>(&v)?;
            if q.tags.iter().all(|t| p.tags.contains(t)) {
                all.push((p.name.clone(), p));
            }
        }
        Ok(page(all.into_iter(), q))
    }

    /// UpdateProject: only the given fields change.
    pub async fn update_project(
        &self,
        c: Caller<'_>,
        input: ProjectInput,
    ) -> Result<Project, ImmError> {
        input.check()?;
        let now = now_ms();
        let key = project_key(c, &input.name);
        let p = finish(self.store.transact(|tx| {
            let mut p = tx_project(tx, c, &input.name)?;
            if let Some(d) = &input.description {
                p.description = d.clone();
            }
            if let Some(r) = &input.service_role {
                p.service_role = r.clone();
            }
            if let Some(t) = &input.template_id {
                p.template_id = t.clone();
            }
            if let Some(t) = &input.tags {
                p.tags = t.clone();
            }
            input.limits.apply(&mut p.limits);
            if let Some(m) = input.max_dataset_count {
                p.max_dataset_count = m;
            }
            p.updated_ms = now;
            tx_put(tx, Tree::ImmProjects, &key, &p)?;
            Ok(p)
        }))?;
        self.durable().await?;
        Ok(p)
    }

    /// DeleteProject: refused while it has datasets.
    pub async fn delete_project(&self, c: Caller<'_>, name: &str) -> Result<(), ImmError> {
        let key = project_key(c, name);
        finish(self.store.transact(|tx| {
            let p = tx_project(tx, c, name)?;
            if p.dataset_count > 0 {
                return abort(ImmError::NotEmpty {
                    kind: "project",
                    name: name.to_string(),
                });
            }
            tx.remove(Tree::ImmProjects, &key)?;
            Ok(())
        }))?;
        self.durable().await
    }

    /// CreateDataset: limits default to the project's.
    pub async fn create_dataset(
        &self,
        c: Caller<'_>,
        input: DatasetInput,
    ) -> Result<Dataset, ImmError> {
        input.check()?;
        let now = now_ms();
        let pkey = project_key(c, &input.project);
        let dkey = dataset_key(c, &input.project, &input.name);
        let d = finish(self.store.transact(|tx| {
            let mut p = tx_project(tx, c, &input.project)?;
            if tx.get(Tree::ImmDatasets, &dkey)?.is_some() {
                return abort(ImmError::AlreadyExists {
                    kind: "dataset",
                    name: input.name.clone(),
                });
            }
            if p.dataset_count as i64 >= p.max_dataset_count {
                return abort(ImmError::LimitExceeded(format!(
                    "Message: resource count exceeds the limit: project {} allows {} datasets",
                    p.name, p.max_dataset_count
                )));
            }
            let mut limits = p.limits.clone();
            input.limits.apply(&mut limits);
            let d = Dataset {
                account: c.account.to_string(),
                region: c.region.to_string(),
                project: input.project.clone(),
                name: input.name.clone(),
                description: input.description.clone().unwrap_or_default(),
                template_id: input.template_id.clone().unwrap_or_default(),
                workflow_parameters: input.workflow_parameters.clone().unwrap_or_default(),
                limits,
                file_count: 0,
                total_file_size: 0,
                created_ms: now,
                updated_ms: now,
            };
            tx_put(tx, Tree::ImmDatasets, &dkey, &d)?;
            p.dataset_count += 1;
            p.updated_ms = now;
            tx_put(tx, Tree::ImmProjects, &pkey, &p)?;
            Ok(d)
        }))?;
        self.durable().await?;
        Ok(d)
    }

    /// GetDataset.
    pub fn get_dataset(
        &self,
        c: Caller<'_>,
        project: &str,
        name: &str,
    ) -> Result<Dataset, ImmError> {
        super::service::dataset_of(&self.store, c, project, name)
    }

    /// ListDatasets of a project.
    pub fn list_datasets(
        &self,
        c: Caller<'_>,
        project: &str,
        q: &NamePage,
    ) -> Result<(Vec<Dataset>, Option<String>), ImmError> {
        get::<Project>(&self.store, Tree::ImmProjects, &project_key(c, project))?
            .ok_or_else(|| not_found("project", project))?;
        let prefix = project_scope(c, project);
        let mut all = Vec::new();
        for item in self.store.scan_prefix(Tree::ImmDatasets, &prefix) {
            let (_, v) = item?;
            let d = crate::store::decode::<Dataset>(&v)?;
            all.push((d.name.clone(), d));
        }
        Ok(page(all.into_iter(), q))
    }

    /// UpdateDataset: only the given fields change.
    pub async fn update_dataset(
        &self,
        c: Caller<'_>,
        input: DatasetInput,
    ) -> Result<Dataset, ImmError> {
        input.check()?;
        let now = now_ms();
        let dkey = dataset_key(c, &input.project, &input.name);
        let d = finish(self.store.transact(|tx| {
            let mut d = super::service::tx_dataset(tx, c, &input.project, &input.name)?;
            if let Some(v) = &input.description {
                d.description = v.clone();
            }
            if let Some(v) = &input.template_id {
                d.template_id = v.clone();
            }
            if let Some(v) = &input.workflow_parameters {
                d.workflow_parameters = v.clone();
            }
            input.limits.apply(&mut d.limits);
            d.updated_ms = now;
            tx_put(tx, Tree::ImmDatasets, &dkey, &d)?;
            Ok(d)
        }))?;
        self.durable().await?;
        Ok(d)
    }

    /// DeleteDataset: refused while it has files.
    pub async fn delete_dataset(
        &self,
        c: Caller<'_>,
        project: &str,
        name: &str,
    ) -> Result<(), ImmError> {
        let now = now_ms();
        let pkey = project_key(c, project);
        let dkey = dataset_key(c, project, name);
        finish(self.store.transact(|tx| {
            let d = super::service::tx_dataset(tx, c, project, name)?;
            if d.file_count > 0 {
                return abort(ImmError::NotEmpty {
                    kind: "dataset",
                    name: name.to_string(),
                });
            }
            tx.remove(Tree::ImmDatasets, &dkey)?;
            if let Some(mut p) = tx_get::<Project>(tx, Tree::ImmProjects, &pkey)? {
                p.dataset_count = p.dataset_count.saturating_sub(1);
                p.updated_ms = now;
                tx_put(tx, Tree::ImmProjects, &pkey, &p)?;
            }
            Ok(())
        }))?;
        self.durable().await
    }
}
