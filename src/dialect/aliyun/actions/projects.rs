//! CreateProject, GetProject, ListProjects, UpdateProject, DeleteProject and the same five for
//! datasets (imm.md §6.1, §6.2, §7.2).

use serde_json::{json, Value};

use super::{decode_token, encode_token, max_results, Ctx, Output};
use crate::dialect::aliyun::error::AliError;
use crate::dialect::aliyun::params::Params;
use crate::dialect::aliyun::render;
use crate::dialect::aliyun::router::Action;
use crate::imm::projects::{DatasetInput, LimitsInput, NamePage, ProjectInput};
use crate::imm::rules;

fn bounded(p: &Params, name: &str, lo: i64, hi: i64) -> Result<Option<i64>, AliError> {
    match p.opt_i64(name)? {
        Some(v) if !(lo..=hi).contains(&v) => Err(AliError::invalid(format!(
            "Specified parameter {name} is not valid: {v}; {lo} to {hi} are allowed."
        ))),
        v => Ok(v),
    }
}

fn limits(p: &Params) -> Result<LimitsInput, AliError> {
    Ok(LimitsInput {
        max_bind_count: bounded(p, "DatasetMaxBindCount", 1, 10)?,
        max_entity_count: bounded(p, "DatasetMaxEntityCount", 1, i64::MAX)?,
        max_file_count: bounded(p, "DatasetMaxFileCount", 1, 100_000_000)?,
        max_relation_count: bounded(p, "DatasetMaxRelationCount", 1, i64::MAX)?,
        max_total_file_size: bounded(p, "DatasetMaxTotalFileSize", 1, i64::MAX)?,
    })
}

fn key_values(
    p: &Params,
    param: &str,
    key: &str,
    value: &str,
) -> Result<Option<Vec<(String, String)>>, AliError> {
    let Some(list) = p.opt_object_array(param)? else {
        return Ok(None);
    };
    list.iter()
        .map(|o| {
            let k = o.get(key).and_then(Value::as_str).unwrap_or_default();
            if k.is_empty() {
                return Err(AliError::invalid(format!(
                    "Specified parameter {param} is not valid: every item needs a {key}."
                )));
            }
            let v = o.get(value).and_then(Value::as_str).unwrap_or_default();
            Ok((k.to_string(), v.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn description(p: &Params) -> Result<Option<String>, AliError> {
    let d = p.opt_str("Description");
    if let Some(d) = &d {
        rules::description(d)?;
    }
    Ok(d)
}

fn project_input(p: &Params) -> Result<ProjectInput, AliError> {
    let name = p.req_str("ProjectName")?;
    rules::project_name(&name)?;
    Ok(ProjectInput {
        name,
        description: description(p)?,
        service_role: p.opt_str("ServiceRole"),
        template_id: p.opt_str("TemplateId"),
        tags: key_values(p, "Tag", "Key", "Value")?,
        limits: limits(p)?,
        max_dataset_count: bounded(p, "ProjectMaxDatasetCount", 1, 1_000_000_000)?,
    })
}

fn dataset_input(p: &Params) -> Result<DatasetInput, AliError> {
    let project = p.req_str("ProjectName")?;
    let name = p.req_str("DatasetName")?;
    rules::dataset_name(&name)?;
    Ok(DatasetInput {
        project,
        name,
        description: description(p)?,
        template_id: p.opt_str("TemplateId"),
        workflow_parameters: key_values(p, "WorkflowParameters", "Name", "Value")?,
        limits: limits(p)?,
    })
}

fn name_page(p: &Params, tags: Vec<(String, String)>) -> Result<NamePage, AliError> {
    let prefix = p.opt_str("Prefix").unwrap_or_default();
    if prefix.chars().count() > 128 {
        return Err(AliError::invalid(
            "Specified parameter Prefix is not valid: at most 128 characters.",
        ));
    }
    Ok(NamePage {
        prefix,
        max_results: max_results(p, 200, 100)?,
        after: p
            .opt_str("NextToken")
            .map(|t| decode_token::<String>(&t))
            .transpose()?,
        tags,
    })
}

fn one(key: &str, v: Value) -> Output {
    let mut out = Output::new();
    out.insert(key.into(), v);
    out
}

fn listed(key: &str, items: Vec<Value>, next: Option<String>) -> Output {
    let mut out = one(key, Value::Array(items));
    if let Some(n) = next {
        out.insert("NextToken".into(), json!(encode_token(&n)));
    }
    out
}

/// Runs a project or dataset action.
pub async fn run(action: Action, ctx: &Ctx<'_>) -> Result<Output, AliError> {
    let p = ctx.params;
    let c = ctx.caller;
    let imm = ctx.imm;
    Ok(match action {
        Action::CreateProject => {
            let input = project_input(p)?;
            one(
                "Project",
                render::project(&imm.create_project(c, input).await?, None),
            )
        }
        Action::GetProject => {
            let name = p.req_str("ProjectName")?;
            let with_stats = p.opt_bool("WithStatistics")?.unwrap_or(false);
            let (proj, stats) = imm.get_project(c, &name)?;
            one(
                "Project",
                render::project(&proj, with_stats.then_some(stats)),
            )
        }
        Action::ListProjects => {
            let tags = key_values(p, "Tag", "Key", "Value")?.unwrap_or_default();
            let (items, next) = imm.list_projects(c, &name_page(p, tags)?)?;
            listed(
                "Projects",
                items.iter().map(|x| render::project(x, None)).collect(),
                next,
            )
        }
        Action::UpdateProject => {
            let input = project_input(p)?;
            one(
                "Project",
                render::project(&imm.update_project(c, input).await?, None),
            )
        }
        Action::DeleteProject => {
            imm.delete_project(c, &p.req_str("ProjectName")?).await?;
            Output::new()
        }
        Action::CreateDataset => {
            let input = dataset_input(p)?;
            one(
                "Dataset",
                render::dataset(&imm.create_dataset(c, input).await?),
            )
        }
        Action::GetDataset => {
            let project = p.req_str("ProjectName")?;
            let name = p.req_str("DatasetName")?;
            p.opt_bool("WithStatistics")?;
            one(
                "Dataset",
                render::dataset(&imm.get_dataset(c, &project, &name)?),
            )
        }
        Action::ListDatasets => {
            let project = p.req_str("ProjectName")?;
            let (items, next) = imm.list_datasets(c, &project, &name_page(p, Vec::new())?)?;
            listed(
                "Datasets",
                items.iter().map(render::dataset).collect(),
                next,
            )
        }
        Action::UpdateDataset => {
            let input = dataset_input(p)?;
            one(
                "Dataset",
                render::dataset(&imm.update_dataset(c, input).await?),
            )
        }
        Action::DeleteDataset => {
            let project = p.req_str("ProjectName")?;
            let name = p.req_str("DatasetName")?;
            imm.delete_dataset(c, &project, &name).await?;
            Output::new()
        }
        _ => return Err(AliError::internal("project dispatch")),
    })
}
