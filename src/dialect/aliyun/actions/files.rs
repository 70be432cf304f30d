//! IndexFileMeta, BatchIndexFileMeta, UpdateFileMeta, BatchUpdateFileMeta, GetFileMeta,
//! BatchGetFileMeta, DeleteFileMeta, BatchDeleteFileMeta (imm.md §6.3, §7.3).
//!
//! Faces come in through `File.Figures[]` (`FigureId`, `FigureType: "face"`,
//! `FigureClusterId`); the admin ingestion route adds what detection would give (`Age`,
//! `Gender`, `FaceQuality`, `Boundary`, `HeadPose`, ..., `Embedding`, `IdentityHint`).

use serde_json::{json, Map, Value};

use super::{check_batch, Ctx, Output};
use crate::dialect::aliyun::error::AliError;
use crate::dialect::aliyun::render::{self, INDEPENDENT, UNAVAILABLE};
use crate::dialect::aliyun::router::Action;
use crate::imm::files::{ClusterRef, FaceInput, FileInput};
use crate::imm::rules;

/// Which face fields are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaceMode {
    /// The SDK's `InputFileFigures`: FigureId, FigureType, FigureClusterId.
    Sdk,
    /// Admin ingestion: every detected attribute, `Embedding` and `IdentityHint` too.
    Ingest,
}

const FACE_KEYS: &[&str] = &[
    "FigureId",
    "FigureType",
    "FigureClusterId",
    "Age",
    "Gender",
    "FaceQuality",
    "Embedding",
    "IdentityHint",
];

fn face_input(i: usize, o: &Map<String, Value>, mode: FaceMode) -> Result<FaceInput, AliError> {
    let here = format!("File.Figures[{i}]");
    let text = |k: &str| -> Result<Option<String>, AliError> {
        match o.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(AliError::invalid(format!("{here}.{k} must be a string."))),
        }
    };
    let number = |k: &str| -> Result<Option<f64>, AliError> {
        match o.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_f64()
                .map(Some)
                .ok_or_else(|| AliError::invalid(format!("{here}.{k} must be a number."))),
        }
    };
    if let Some(t) = text("FigureType")? {
        if t != "face" {
            return Err(AliError::invalid(format!(
                "{here}.FigureType must be `face`, got `{t}`."
            )));
        }
    }
    let figure_id = text("FigureId")?;
    if figure_id
        .as_ref()
        .is_some_and(|f| f.chars().any(char::is_control))
    {
        return Err(AliError::invalid(format!(
            "{here}.FigureId must not contain control characters."
        )));
    }
    let mut cluster = match text("FigureClusterId")?.as_deref() {
        None => ClusterRef::Absent,
        Some(UNAVAILABLE) => ClusterRef::Unavailable,
        Some(INDEPENDENT) => ClusterRef::Independent,
        Some(other) => ClusterRef::Named(other.to_string()),
    };
    if mode == FaceMode::Sdk {
        return Ok(FaceInput {
            figure_id,
            cluster,
            age: None,
            gender: None,
            quality: None,
            attributes: Map::new(),
            embedding: None,
        });
    }
    if cluster == ClusterRef::Absent {
        if let Some(h) = text("IdentityHint")? {
            cluster = ClusterRef::Named(h);
        }
    }
    let embedding = match o.get("Embedding") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => Some(
            a.iter()
                .map(|x| x.as_f64().map(|f| f as f32))
                .collect::<Option<Vec<f32>>>()
                .filter(|v| !v.is_empty() && v.len() <= 4096)
                .ok_or_else(|| {
                    AliError::invalid(format!("{here}.Embedding must be 1 to 4096 numbers."))
                })?,
        ),
        Some(_) => {
            return Err(AliError::invalid(format!(
                "{here}.Embedding must be a list of numbers."
            )))
        }
    };
    let attributes = o
        .iter()
        .filter(|(k, _)| !FACE_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(FaceInput {
        figure_id,
        cluster,
        age: number("Age")?,
        gender: text("Gender")?,
        quality: number("FaceQuality")?,
        attributes,
        embedding,
    })
}

fn check_uri(uri: &str) -> Result<(), AliError> {
    let ok = uri
        .strip_prefix("oss://")
        .map(|rest| {
            rest.split_once('/')
                .is_some_and(|(b, o)| !b.is_empty() && !o.is_empty())
        })
        .unwrap_or_else(|| uri.starts_with("pds://"))
        && !uri.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(AliError::invalid(format!(
            "Specified parameter URI is not valid: `{uri}`; use oss://<bucket>/<object> or a pds:// address."
        )))
    }
}

/// A `File` (`InputFile`) JSON object as a domain input.
pub fn file_input(obj: &Map<String, Value>, mode: FaceMode) -> Result<FileInput, AliError> {
    let uri = match obj.get("URI") {
        Some(Value::String(u)) if !u.is_empty() => u.clone(),
        _ => {
            return Err(AliError::invalid(
                "The parameter File.URI is required but not provided.",
            ))
        }
    };
    check_uri(&uri)?;
    let media_type = match obj.get("MediaType") {
        Some(Value::String(m)) if !m.is_empty() => Some(m.clone()),
        _ => None,
    };
    if let Some(l) = obj.get("CustomLabels") {
        if !l.is_object() && !l.is_null() {
            return Err(AliError::invalid(
                "File.CustomLabels must be a JSON object.",
            ));
        }
    }
    let faces = match obj.get("Figures") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) if a.is_empty() => None,
        Some(Value::Array(a)) => Some({
            // Refused before decoding the faces; the configured bound is the domain's.
            use crate::imm::files::{check_figure_count, FIGURES_PER_FILE_CEILING};
            check_figure_count(a.len(), FIGURES_PER_FILE_CEILING)?;
            a.iter()
                .enumerate()
                .map(|(i, f)| match f {
                    Value::Object(o) => face_input(i, o, mode),
                    _ => Err(AliError::invalid(format!(
                        "File.Figures[{i}] must be an object."
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()?
        }),
        Some(_) => return Err(AliError::invalid("File.Figures must be a list.")),
    };
    let size = match (mode, obj.get("Size")) {
        (FaceMode::Ingest, Some(v)) => Some(
            v.as_u64()
                .ok_or_else(|| AliError::invalid("File.Size must be a non-negative integer."))?,
        ),
        _ => None,
    };
    // Empty lists are what the Python SDK sends for unset fields: they change nothing.
    let fields = obj
        .iter()
        .filter(|(k, v)| {
            !matches!(k.as_str(), "URI" | "Figures" | "MediaType" | "Size")
                && !v.is_null()
                && v.as_array().is_none_or(|a| !a.is_empty())
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(FileInput {
        uri,
        media_type,
        size,
        fields,
        faces,
    })
}

fn files_param(ctx: &Ctx<'_>, name: &str) -> Result<Vec<FileInput>, AliError> {
    let list = ctx
        .params
        .opt_object_array(name)?
        .ok_or_else(|| AliError::missing(name))?;
    check_batch(name, list.len())?;
    list.iter().map(|o| file_input(o, FaceMode::Sdk)).collect()
}

fn uris_param(ctx: &Ctx<'_>) -> Result<Vec<String>, AliError> {
    let uris = ctx
        .params
        .opt_str_array("URIs")?
        .ok_or_else(|| AliError::missing("URIs"))?;
    check_batch("URIs", uris.len())?;
    Ok(uris)
}

fn event_id() -> String {
    let u = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    format!("{}-{}", &u[..3], &u[3..28])
}

/// Runs a file action.
pub async fn run(action: Action, ctx: &Ctx<'_>) -> Result<Output, AliError> {
    let p = ctx.params;
    let c = ctx.caller;
    let project = p.req_str("ProjectName")?;
    let dataset = p.req_str("DatasetName")?;
    let mut out = Output::new();
    match action {
        Action::IndexFileMeta | Action::BatchIndexFileMeta => {
            let files = if action == Action::IndexFileMeta {
                vec![file_input(&p.req_object("File")?, FaceMode::Sdk)?]
            } else {
                files_param(ctx, "Files")?
            };
            p.opt_object("Notification")?;
            if let Some(u) = p.opt_str("UserData") {
                rules::user_data(&u)?;
            }
            ctx.imm.index_files(c, &project, &dataset, &files).await?;
            out.insert("EventId".into(), json!(event_id()));
        }
        Action::UpdateFileMeta => {
            let file = file_input(&p.req_object("File")?, FaceMode::Sdk)?;
            ctx.imm.update_file(c, &project, &dataset, &file).await?;
        }
        Action::BatchUpdateFileMeta => {
            let files = files_param(ctx, "Files")?;
            let results = ctx.imm.update_files(c, &project, &dataset, &files).await?;
            let list: Vec<Value> = files
                .iter()
                .zip(results)
                .map(|(f, r)| match r {
                    Ok(()) => json!({"URI": f.uri, "Success": true, "Message": ""}),
                    Err(e) => {
                        let e = AliError::from(e);
                        json!({"URI": f.uri, "Success": false, "Message": format!("{} | {}", e.code.as_str(), e.message)})
                    }
                })
                .collect();
            out.insert("Files".into(), Value::Array(list));
        }
        Action::GetFileMeta | Action::BatchGetFileMeta => {
            let with_fields = p.opt_str_array("WithFields")?;
            let files = if action == Action::GetFileMeta {
                vec![ctx
                    .imm
                    .get_file(c, &project, &dataset, &p.req_str("URI")?)?]
            } else {
                ctx.imm
                    .get_files(c, &project, &dataset, &uris_param(ctx)?)?
            };
            let list = files
                .iter()
                .map(|f| render::file(f, c.account, &project, &dataset, with_fields.as_deref()))
                .collect::<Vec<_>>();
            out.insert_serialized("Files", &list);
        }
        Action::DeleteFileMeta => {
            let uri = p.req_str("URI")?;
            ctx.imm
                .delete_files(c, &project, &dataset, &[uri], true)
                .await?;
        }
        Action::BatchDeleteFileMeta => {
            ctx.imm
                .delete_files(c, &project, &dataset, &uris_param(ctx)?, false)
                .await?;
        }
        Action::SimpleQuery => {
            // Only the query the console needs: the files with a face of one cluster.
            let q = p
                .opt_object("Query")?
                .ok_or_else(|| AliError::missing("Query"))?;
            let field = q.get("Field").and_then(Value::as_str).unwrap_or_default();
            let op = q
                .get("Operation")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let cluster = match (field, op, q.get("Value")) {
                ("FigureClusterId", "eq", Some(Value::String(v))) if !v.is_empty() => v.clone(),
                _ => return Err(AliError::invalid(
                    "Specified parameter Query is not valid: cloudtwin's SimpleQuery supports only {\"Field\": \"FigureClusterId\", \"Operation\": \"eq\", \"Value\": \"<cluster id>\"}.",
                )),
            };
            // The Tea SDK sends `Aggregations=[]` when none are given: only a non-empty list
            // asks for aggregations.
            if p.opt_str("Aggregations")
                .is_some_and(|a| !matches!(a.trim(), "" | "[]" | "null"))
            {
                return Err(AliError::invalid(
                    "Specified parameter Aggregations is not valid: cloudtwin's SimpleQuery has no aggregations.",
                ));
            }
            let max = super::max_results(p, 100, 100)?;
            let after = p
                .opt_str("NextToken")
                .filter(|t| !t.is_empty())
                .map(|t| super::decode_token::<String>(&t))
                .transpose()?;
            let (files, total, more) =
                ctx.imm
                    .files_of_cluster(c, &project, &dataset, &cluster, after.as_deref(), max)?;
            let with_fields = p.opt_str_array("WithFields")?;
            let next = more
                .then(|| files.last().map(|f| super::encode_token(&f.uri)))
                .flatten();
            let list = files
                .iter()
                .map(|f| render::file(f, c.account, &project, &dataset, with_fields.as_deref()))
                .collect::<Vec<_>>();
            out.insert_serialized("Files", &list);
            out.insert("NextToken".into(), json!(next.unwrap_or_default()));
            if !p.opt_bool("WithoutTotalHits")?.unwrap_or(false) {
                out.insert("TotalHits".into(), json!(total));
            }
        }
        _ => return Err(AliError::internal("file dispatch")),
    }
    Ok(out)
}
