//! Request parameters: query string and form body merged (the body wins), common RPC
//! parameters set apart. Object and array parameters arrive as one JSON text value each
//! (`FigureCluster={"ObjectId":...}`); a JSON string holding JSON is decoded twice. Booleans
//! accept `True`/`true`; an empty value counts as absent. Unknown parameters are ignored (the
//! SDKs drift; imm.md §10.8).

use serde_json::{Map, Value};

use super::error::{AliError, Code};

/// Common parameters of the RPC style; not business parameters.
pub const COMMON: &[&str] = &[
    "Action",
    "Version",
    "Format",
    "Timestamp",
    "SignatureNonce",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureType",
    "AccessKeyId",
    "SecurityToken",
    "RegionId",
    "Signature",
];

/// The decoded parameters of a request.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Parameters from decoded (name, value) pairs; later pairs win.
    pub fn new(pairs: Vec<(String, String)>) -> Params {
        Params { pairs }
    }

    fn raw(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// An optional string.
    pub fn opt_str(&self, name: &str) -> Option<String> {
        self.raw(name).map(str::to_string)
    }

    /// A required string: `Missing{Name}` when absent or empty.
    pub fn req_str(&self, name: &str) -> Result<String, AliError> {
        self.opt_str(name).ok_or_else(|| AliError::missing(name))
    }

    /// An optional integer.
    pub fn opt_i64(&self, name: &str) -> Result<Option<i64>, AliError> {
        self.raw(name)
            .map(|v| {
                v.trim().parse::<i64>().map_err(|_| {
                    AliError::new(
                        Code::InvalidArgument,
                        format!(
                            "Specified parameter {name} is not valid: `{v}` is not an integer."
                        ),
                    )
                })
            })
            .transpose()
    }

    /// An optional boolean (`true`, `True`, `false`, `False`).
    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, AliError> {
        self.raw(name)
            .map(|v| match v.to_ascii_lowercase().as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(AliError::invalid(format!(
                    "Specified parameter {name} is not valid: `{v}` is not true or false."
                ))),
            })
            .transpose()
    }

    /// An optional JSON-text parameter.
    pub fn opt_json(&self, name: &str) -> Result<Option<Value>, AliError> {
        let Some(text) = self.raw(name) else {
            return Ok(None);
        };
        let bad = |e: serde_json::Error| {
            AliError::invalid(format!("The parameter {name} is not valid JSON: {e}."))
        };
        let mut v: Value = serde_json::from_str(text).map_err(bad)?;
        if let Value::String(inner) = &v {
            if let Ok(again) = serde_json::from_str::<Value>(inner) {
                if again.is_object() || again.is_array() {
                    v = again;
                }
            }
        }
        Ok(Some(v))
    }

    /// A required JSON object parameter.
    pub fn req_object(&self, name: &str) -> Result<Map<String, Value>, AliError> {
        match self.opt_json(name)? {
            None => Err(AliError::missing(name)),
            Some(Value::Object(m)) => Ok(m),
            Some(_) => Err(AliError::invalid(format!(
                "The parameter {name} must be a JSON object."
            ))),
        }
    }

    /// An optional JSON object parameter.
    pub fn opt_object(&self, name: &str) -> Result<Option<Map<String, Value>>, AliError> {
        match self.opt_json(name)? {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(AliError::invalid(format!(
                "The parameter {name} must be a JSON object."
            ))),
        }
    }

    /// An optional JSON array of strings.
    pub fn opt_str_array(&self, name: &str) -> Result<Option<Vec<String>>, AliError> {
        match self.opt_json(name)? {
            None => Ok(None),
            Some(Value::Array(a)) => a
                .into_iter()
                .map(|x| match x {
                    Value::String(s) => Ok(s),
                    _ => Err(AliError::invalid(format!(
                        "The parameter {name} must be a JSON array of strings."
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(AliError::invalid(format!(
                "The parameter {name} must be a JSON array of strings."
            ))),
        }
    }

    /// An optional JSON array of objects.
    pub fn opt_object_array(
        &self,
        name: &str,
    ) -> Result<Option<Vec<Map<String, Value>>>, AliError> {
        match self.opt_json(name)? {
            None => Ok(None),
            Some(Value::Array(a)) => a
                .into_iter()
                .map(|x| match x {
                    Value::Object(m) => Ok(m),
                    _ => Err(AliError::invalid(format!(
                        "The parameter {name} must be a JSON array of objects."
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(AliError::invalid(format!(
                "The parameter {name} must be a JSON array of objects."
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(list: &[(&str, &str)]) -> Params {
        Params::new(
            list.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn json_text_parameters_decode_and_a_json_string_of_json_decodes_twice() {
        let q = p(&[
            ("A", r#"{"ObjectId":"Cluster-1"}"#),
            ("B", r#""{\"ObjectId\":\"x\"}""#),
            ("C", "[\"a\",\"b\"]"),
        ]);
        assert_eq!(q.req_object("A").expect("a")["ObjectId"], "Cluster-1");
        assert_eq!(q.req_object("B").expect("b")["ObjectId"], "x");
        assert_eq!(
            q.opt_str_array("C").expect("c"),
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            q.req_object("Z").unwrap_err().code,
            Code::Missing("Z".into())
        );
        let bad = p(&[("A", "{oops")]);
        assert_eq!(bad.req_object("A").unwrap_err().code, Code::InvalidArgument);
    }

    #[test]
    fn python_booleans_and_empty_values() {
        let q = p(&[("T", "True"), ("F", "false"), ("E", ""), ("X", "maybe")]);
        assert_eq!(q.opt_bool("T").expect("t"), Some(true));
        assert_eq!(q.opt_bool("F").expect("f"), Some(false));
        assert_eq!(q.opt_bool("E").expect("e"), None);
        assert!(q.opt_bool("X").is_err());
        assert_eq!(q.req_str("E").unwrap_err().code.as_str(), "MissingE");
    }
}
