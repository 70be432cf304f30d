//! GetFigureCluster, BatchGetFigureCluster, QueryFigureClusters, UpdateFigureCluster,
//! CreateFigureClusteringTask, CreateFigureClustersMergingTask (imm.md §6.4, §7.4-§7.7).

use std::sync::{Arc, Mutex};

use serde_json::{json, Map, Value};

use super::{
    check_batch, decode_token, descending, encode_token, label_conditions, max_results, string_map,
    time_range, Ctx, Output,
};
use crate::dialect::aliyun::error::AliError;
use crate::dialect::aliyun::render;
use crate::dialect::aliyun::router::Action;
use crate::imm::clusters::{ClusterQuery, ClusterUpdate, Cursor, QueryAnswer, SortKey};
use crate::imm::model::Cluster;
use crate::imm::rules::{self, ClusterText};
use crate::imm::tasks::TaskInput;
use crate::kept::Kept;

fn update_input(fc: &Map<String, Value>) -> Result<ClusterUpdate, AliError> {
    let object_id = match fc.get("ObjectId") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => {
            return Err(AliError::invalid(
                "The parameter FigureCluster.ObjectId is required but not provided.",
            ))
        }
    };
    let text = |k: &str, field: ClusterText| -> Result<Option<String>, AliError> {
        match fc.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => {
                rules::cluster_text(field, s)?;
                Ok(Some(s.clone()))
            }
            Some(_) => Err(AliError::invalid(format!(
                "FigureCluster.{k} must be a string."
            ))),
        }
    };
    let labels = match fc.get("CustomLabels") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => {
            rules::label_count(m.len())?;
            Some(
                m.iter()
                    .map(|(k, v)| {
                        let text = v.to_string();
                        rules::label(k, &text)?;
                        Ok((k.clone(), text))
                    })
                    .collect::<Result<Vec<_>, AliError>>()?,
            )
        }
        Some(_) => {
            return Err(AliError::invalid(
                "FigureCluster.CustomLabels must be a JSON object.",
            ))
        }
    };
    let cover_figure = match fc.get("Cover") {
        None | Some(Value::Null) => None,
        Some(Value::Object(cov)) => match cov.get("Figures") {
            None | Some(Value::Null) => None,
            Some(Value::Array(figs)) if figs.is_empty() => None,
            Some(Value::Array(figs)) => match figs[0].get("FigureId") {
                Some(Value::String(f)) if !f.is_empty() => Some(f.clone()),
                _ => {
                    return Err(AliError::invalid(
                        "FigureCluster.Cover.Figures[0].FigureId is required.",
                    ))
                }
            },
            Some(_) => {
                return Err(AliError::invalid(
                    "FigureCluster.Cover.Figures must be a list.",
                ))
            }
        },
        Some(_) => {
            return Err(AliError::invalid(
                "FigureCluster.Cover must be a JSON object.",
            ))
        }
    };
    let meta_lock_version =
        match fc.get("MetaLockVersion") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => Some(n.as_i64().ok_or_else(|| {
                AliError::invalid("FigureCluster.MetaLockVersion must be an integer.")
            })?),
            Some(Value::String(s)) => Some(s.parse().map_err(|_| {
                AliError::invalid("FigureCluster.MetaLockVersion must be an integer.")
            })?),
            Some(_) => {
                return Err(AliError::invalid(
                    "FigureCluster.MetaLockVersion must be an integer.",
                ))
            }
        };
    Ok(ClusterUpdate {
        object_id,
        name: text("Name", ClusterText::Name)?,
        custom_id: text("CustomId", ClusterText::CustomId)?,
        labels,
        cover_figure,
        meta_lock_version,
    })
}

fn task_input(ctx: &Ctx<'_>) -> Result<TaskInput, AliError> {
    let p = ctx.params;
    p.opt_object("Notification")?;
    let tags = match p.opt_object("Tags")? {
        Some(m) => string_map("Tags", &m)?,
        None => Vec::new(),
    };
    let user_data = p.opt_str("UserData").unwrap_or_default();
    rules::user_data(&user_data)?;
    let mut def = Map::new();
    for k in [
        "ProjectName",
        "DatasetName",
        "From",
        "Froms",
        "To",
        "Tags",
        "UserData",
        "Notification",
    ] {
        if let Some(v) = p.opt_str(k) {
            def.insert(k.into(), json!(v));
        }
    }
    Ok(TaskInput {
        tags,
        user_data,
        request_definition: Value::Object(def).to_string(),
    })
}

fn rendered<'a>(ctx: &Ctx<'_>, c: &'a Cluster) -> Result<render::ClusterWire<'a>, AliError> {
    let cover = ctx.imm.cover_file(ctx.caller, c)?;
    Ok(render::cluster(c, cover))
}

/// The JSON text of a cluster with its cover file, kept in the cluster's entry (`kept.rs`)
/// together with the cover file's stored bytes it was made from: a page renders a cluster
/// again only when the cluster or its cover file changed.
#[derive(Default)]
struct KeptText(Mutex<Option<MadeFrom>>);

/// The cover file's stored bytes (`None`: no cover) and the text made with them.
type MadeFrom = (Option<Vec<u8>>, Arc<str>);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn rendered_text(ctx: &Ctx<'_>, c: &Kept<Cluster>) -> Result<Arc<str>, AliError> {
    let cover_bytes = ctx.imm.cover_file_bytes(ctx.caller, c)?;
    let slot = c.wire(|_| KeptText::default());
    if let Some(KeptText(slot)) = slot {
        if let Some((made_from, text)) = lock(slot).as_ref() {
            if *made_from == cover_bytes {
                return Ok(text.clone());
            }
        }
    }
    let cover = match &cover_bytes {
        None => None,
        Some(b) => Some(crate::imm::clusters::file_of_bytes(b)?),
    };
    // Serialising plain structs of strings, numbers, lists and values cannot fail.
    let text: Arc<str> = serde_json::to_string(&render::cluster(c, cover))
        .unwrap_or_else(|_| "null".into())
        .into();
    if let Some(KeptText(slot)) = slot {
        *lock(slot) = Some((cover_bytes, text.clone()));
    }
    Ok(text)
}

/// A JSON array of the clusters' kept texts.
fn rendered_list(ctx: &Ctx<'_>, list: &[Arc<Kept<Cluster>>]) -> Result<String, AliError> {
    let texts = list
        .iter()
        .map(|c| rendered_text(ctx, c))
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = String::with_capacity(2 + texts.iter().map(|t| t.len() + 1).sum::<usize>());
    out.push('[');
    for (i, t) in texts.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(t);
    }
    out.push(']');
    Ok(out)
}

/// Runs a cluster action.
pub async fn run(action: Action, ctx: &Ctx<'_>) -> Result<Output, AliError> {
    let p = ctx.params;
    let c = ctx.caller;
    let project = p.req_str("ProjectName")?;
    let dataset = p.req_str("DatasetName")?;
    let mut out = Output::new();
    match action {
        Action::GetFigureCluster => {
            let id = p.req_str("ObjectId")?;
            let cl = ctx.imm.get_cluster(c, &project, &dataset, &id)?;
            out.insert_serialized("FigureCluster", &rendered(ctx, &cl)?);
        }
        Action::BatchGetFigureCluster => {
            let ids = p
                .opt_str_array("ObjectIds")?
                .ok_or_else(|| AliError::missing("ObjectIds"))?;
            check_batch("ObjectIds", ids.len())?;
            let list = ctx.imm.get_clusters(c, &project, &dataset, &ids)?;
            out.insert_text("FigureClusters", rendered_list(ctx, &list)?);
        }
        Action::QueryFigureClusters => {
            let sort_raw = p.opt_str("Sort").unwrap_or_default();
            let sort = SortKey::from_wire(&sort_raw).ok_or_else(|| {
                AliError::invalid(format!("Specified parameter Sort is not valid: `{sort_raw}`; use ImageCount, VideoCount, ProjectName, DatasetName, CreateTime, UpdateTime, Gender, FaceCount or Name."))
            })?;
            let desc = descending(p)?;
            let after = p
                .opt_str("NextToken")
                .map(|t| decode_token::<Cursor>(&t))
                .transpose()?;
            if after
                .as_ref()
                .is_some_and(|a| a.sort != sort || a.desc != desc)
            {
                return Err(AliError::invalid("Specified parameter NextToken is not valid: it belongs to a query with another Sort or Order."));
            }
            let q = ClusterQuery {
                labels: p
                    .opt_str("CustomLabels")
                    .map(|l| label_conditions("CustomLabels", &l))
                    .transpose()?
                    .unwrap_or_default(),
                created: time_range(p, "CreateTimeRange")?,
                updated: time_range(p, "UpdateTimeRange")?,
                sort,
                desc,
                max_results: max_results(p, 100, 100)?,
                after,
                with_total: p.opt_bool("WithTotalCount")?.unwrap_or(false),
            };
            let with_total = q.with_total;
            let answer = ctx.imm.kept_query(c, &project, &dataset, &q, |page| {
                Ok::<_, AliError>(QueryAnswer {
                    clusters: rendered_list(ctx, &page.clusters)?.into(),
                    next: page.next,
                    total: page.total,
                })
            })?;
            out.insert_shared("FigureClusters", answer.clusters.clone());
            out.insert(
                "NextToken".into(),
                json!(answer.next.as_ref().map(encode_token).unwrap_or_default()),
            );
            if with_total {
                out.insert("TotalCount".into(), json!(answer.total));
            }
        }
        Action::UpdateFigureCluster => {
            let u = update_input(&p.req_object("FigureCluster")?)?;
            ctx.imm.update_cluster(c, &project, &dataset, &u).await?;
        }
        Action::CreateFigureClusteringTask => {
            let t = ctx
                .imm
                .create_clustering_task(c, &project, &dataset, task_input(ctx)?)
                .await?;
            out.insert("TaskId".into(), json!(t.task_id));
            out.insert("EventId".into(), json!(t.event_id));
        }
        Action::CreateFigureClustersMergingTask => {
            let to = p.req_str("To")?;
            let froms = match (
                p.opt_str("From"),
                p.opt_str_array("Froms")?.filter(|f| !f.is_empty()),
            ) {
                (Some(f), None) => vec![f],
                (None, Some(fs)) => {
                    check_batch("Froms", fs.len())?;
                    fs
                }
                _ => {
                    return Err(AliError::invalid(
                        "Exactly one of From and Froms must be given.",
                    ))
                }
            };
            let t = ctx
                .imm
                .create_merging_task(c, &project, &dataset, froms, to, task_input(ctx)?)
                .await?;
            out.insert("TaskId".into(), json!(t.task_id));
            out.insert("EventId".into(), json!(t.event_id));
        }
        _ => return Err(AliError::internal("cluster dispatch")),
    }
    Ok(out)
}
