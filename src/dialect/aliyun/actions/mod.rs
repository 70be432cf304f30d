//! One file per IMM action family: each action is `parse` (all validation of the wire input)
//! then a call into the face domain and the rendering of its answer.

mod clusters;
mod files;
mod projects;
mod tasks;

use std::sync::Arc;

use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use super::error::AliError;
use super::params::Params;
use super::router::Action;
use crate::imm::{Caller, Imm};

pub use files::{file_input, FaceMode};

/// What an action runs against.
pub struct Ctx<'a> {
    /// The face service.
    pub imm: &'a Arc<Imm>,
    /// The authenticated caller and the request's region.
    pub caller: Caller<'a>,
    /// The decoded parameters.
    pub params: &'a Params,
}

pub use crate::dialect::output::Output;

/// Runs `action`.
pub async fn dispatch(action: Action, ctx: &Ctx<'_>) -> Result<Output, AliError> {
    use Action::*;
    match action {
        CreateProject | GetProject | ListProjects | UpdateProject | DeleteProject
        | CreateDataset | GetDataset | ListDatasets | UpdateDataset | DeleteDataset => {
            projects::run(action, ctx).await
        }
        IndexFileMeta | BatchIndexFileMeta | UpdateFileMeta | BatchUpdateFileMeta | GetFileMeta
        | BatchGetFileMeta | DeleteFileMeta | BatchDeleteFileMeta | SimpleQuery => {
            files::run(action, ctx).await
        }
        GetFigureCluster
        | BatchGetFigureCluster
        | QueryFigureClusters
        | UpdateFigureCluster
        | CreateFigureClusteringTask
        | CreateFigureClustersMergingTask => clusters::run(action, ctx).await,
        GetTask | ListTasks => tasks::run(action, ctx),
    }
}

/// Largest batch of files, URIs or source clusters.
pub const MAX_BATCH: usize = 100;
/// A batch size check.
pub fn check_batch(param: &str, n: usize) -> Result<(), AliError> {
    if n == 0 {
        return Err(AliError::missing(param));
    }
    if n > MAX_BATCH {
        return Err(AliError::invalid(format!(
            "Specified parameter {param} is not valid: {n} items; at most {MAX_BATCH} are allowed."
        )));
    }
    Ok(())
}

/// `MaxResults` within `0..=max` (0 or absent means `default`).
pub fn max_results(p: &Params, max: i64, default: usize) -> Result<usize, AliError> {
    match p.opt_i64("MaxResults")? {
        None | Some(0) => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n as usize),
        Some(n) => Err(AliError::invalid(format!(
            "Specified parameter MaxResults is not valid: {n}; 0 to {max} are allowed."
        ))),
    }
}

/// `Order`: `asc` (default) or `desc`; `true` for descending.
pub fn descending(p: &Params) -> Result<bool, AliError> {
    match p.opt_str("Order").map(|o| o.to_ascii_lowercase()) {
        None => Ok(false),
        Some(o) if o == "asc" => Ok(false),
        Some(o) if o == "desc" => Ok(true),
        Some(o) => Err(AliError::invalid(format!(
            "Specified parameter Order is not valid: `{o}` is not asc or desc."
        ))),
    }
}

/// An opaque `NextToken` for a cursor.
pub fn encode_token<T: Serialize>(cursor: &T) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(cursor).unwrap_or_default())
}

/// Decodes a `NextToken` made by [`encode_token`].
pub fn decode_token<T: DeserializeOwned>(token: &str) -> Result<T, AliError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| AliError::invalid("Specified parameter NextToken is not valid: use the NextToken of the previous page."))
}

/// A `TimeRange` JSON parameter: (start ms, end ms), each optional.
pub fn time_range(p: &Params, name: &str) -> Result<(Option<i64>, Option<i64>), AliError> {
    let Some(obj) = p.opt_object(name)? else {
        return Ok((None, None));
    };
    let bound = |k: &str| -> Result<Option<i64>, AliError> {
        match obj.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => crate::clock::parse_rfc3339_ms(s)
                .map(Some)
                .ok_or_else(|| AliError::invalid(format!("Specified parameter {name}.{k} is not valid: `{s}` is not an RFC 3339 time."))),
            Some(_) => Err(AliError::invalid(format!("Specified parameter {name}.{k} must be a string."))),
        }
    };
    Ok((bound("Start")?, bound("End")?))
}

/// `k=v` conditions, ANDed, separated by `,`, `&` or ` and `.
pub fn label_conditions(param: &str, raw: &str) -> Result<Vec<(String, String)>, AliError> {
    raw.replace(" AND ", "&")
        .replace(" and ", "&")
        .split([',', '&'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| match c.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                Ok((k.trim().to_string(), v.trim().to_string()))
            }
            _ => Err(AliError::invalid(format!(
                "Specified parameter {param} is not valid: `{c}` is not key=value."
            ))),
        })
        .collect()
}

/// A JSON object of string values as (key, value) pairs (`Tags`).
pub fn string_map(name: &str, obj: &Map<String, Value>) -> Result<Vec<(String, String)>, AliError> {
    obj.iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            Value::Number(_) | Value::Bool(_) => Ok((k.clone(), v.to_string())),
            _ => Err(AliError::invalid(format!(
                "Specified parameter {name}.{k} must be a string."
            ))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_domain_rules_answer_invalid_argument_with_the_parameter_named() {
        let e = AliError::from(crate::imm::rules::project_name("1abc").expect_err("refused"));
        assert_eq!(e.code, super::super::error::Code::InvalidArgument);
        assert!(e
            .message
            .starts_with("Specified parameter ProjectName is not valid"));
        let e =
            AliError::from(crate::imm::rules::user_data(&"a".repeat(2049)).expect_err("refused"));
        assert_eq!(
            e.message,
            "Specified parameter UserData is not valid: 2049 bytes; at most 2048 are allowed."
        );
    }

    #[test]
    fn label_conditions_split_on_the_separators() {
        assert_eq!(
            label_conditions("CustomLabels", "role=friend, team=a&x = 1 and y=2").expect("ok"),
            vec![
                ("role".into(), "friend".into()),
                ("team".into(), "a".into()),
                ("x".into(), "1".into()),
                ("y".into(), "2".into())
            ]
        );
        assert!(label_conditions("CustomLabels", "novalue").is_err());
    }

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        let t = encode_token(&("a".to_string(), 5u32));
        assert_eq!(
            decode_token::<(String, u32)>(&t).expect("decode"),
            ("a".into(), 5)
        );
        assert!(decode_token::<(String, u32)>("%%%").is_err());
    }
}
