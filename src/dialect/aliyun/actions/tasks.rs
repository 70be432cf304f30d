//! GetTask and ListTasks (imm.md §6.5).

use serde_json::{json, Value};

use super::{
    decode_token, descending, encode_token, label_conditions, max_results, time_range, Ctx, Output,
};
use crate::dialect::aliyun::error::AliError;
use crate::dialect::aliyun::render;
use crate::dialect::aliyun::router::Action;
use crate::imm::model::TaskStatus;
use crate::imm::tasks::{TaskCursor, TaskQuery, TaskSort};

/// Runs a task action.
pub fn run(action: Action, ctx: &Ctx<'_>) -> Result<Output, AliError> {
    let p = ctx.params;
    let c = ctx.caller;
    let project = p.req_str("ProjectName")?;
    let with_def = p.opt_bool("RequestDefinition")?.unwrap_or(false);
    match action {
        Action::GetTask => {
            let task_id = p.req_str("TaskId")?;
            let task_type = p.req_str("TaskType")?;
            let t = ctx.imm.get_task(c, &project, &task_id, &task_type)?;
            Ok(render::task(&t, with_def).into())
        }
        Action::ListTasks => {
            let sort = match p.opt_str("Sort").as_deref() {
                None | Some("TaskId") => TaskSort::TaskId,
                Some("StartTime") => TaskSort::StartTime,
                Some("EndTime") => TaskSort::EndTime,
                Some(s) => return Err(AliError::invalid(format!("Specified parameter Sort is not valid: `{s}`; use TaskId, StartTime or EndTime."))),
            };
            let desc = descending(p)?;
            let status = p
                .opt_str("Status")
                .map(|s| TaskStatus::from_wire(&s).ok_or_else(|| AliError::invalid(format!("Specified parameter Status is not valid: `{s}`; use Running, Succeeded or Failed."))))
                .transpose()?;
            let after = p
                .opt_str("NextToken")
                .map(|t| decode_token::<TaskCursor>(&t))
                .transpose()?;
            if after
                .as_ref()
                .is_some_and(|a| a.sort != sort || a.desc != desc)
            {
                return Err(AliError::invalid("Specified parameter NextToken is not valid: it belongs to a query with another Sort or Order."));
            }
            let max = max_results(p, 100, 100)?;
            let q = TaskQuery {
                types: p.opt_str_array("TaskTypes")?.unwrap_or_default(),
                status,
                tags: p
                    .opt_str("TagSelector")
                    .map(|t| label_conditions("TagSelector", &t))
                    .transpose()?
                    .unwrap_or_default(),
                started: time_range(p, "StartTimeRange")?,
                ended: time_range(p, "EndTimeRange")?,
                sort,
                desc,
                max_results: max,
                after,
            };
            let (tasks, next) = ctx.imm.list_tasks(c, &project, &q)?;
            let mut out = Output::new();
            out.insert("ProjectName".into(), json!(project));
            out.insert("MaxResults".into(), json!(tasks.len().to_string()));
            out.insert(
                "Tasks".into(),
                Value::Array(
                    tasks
                        .iter()
                        .map(|t| Value::Object(render::task(t, with_def)))
                        .collect(),
                ),
            );
            out.insert(
                "NextToken".into(),
                json!(next.map(|n| encode_token(&n)).unwrap_or_default()),
            );
            Ok(out)
        }
        _ => Err(AliError::internal("task dispatch")),
    }
}
