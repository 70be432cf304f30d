//! Request parameters, whichever way they came: a JSON body (TC3 POST) or flattened form
//! pairs (TC3 GET, v1 GET and POST), rebuilt into one JSON object.
//!
//! # Flattened format
//! `Filters.0.Name=image-type&Filters.0.Values.0=PRIVATE_IMAGE` becomes
//! `{"Filters":[{"Name":"image-type","Values":["PRIVATE_IMAGE"]}]}`; indices are 0-based and
//! gaps are tolerated. Form scalars stay strings; the typed getters accept `"10"` for an
//! integer and `True`/`true`/`1` for a boolean (the Python SDK sends `True`).
//!
//! A name has at most [`MAX_NAME_SEGMENTS`] dot-separated segments (the deepest CVM parameter,
//! `TagSpecification.0.Tags.0.Key`, has five): rebuilding and dropping the nested value is
//! recursive, and an unbounded depth would let one request overflow a worker's stack.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::error::{Code, TcError};

/// The decoded business parameters of a request.
#[derive(Debug, Clone, Default)]
pub struct Params {
    map: Map<String, Value>,
}

/// A `Filter` input (cvm.md §5.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// Filter name.
    pub name: String,
    /// Values, OR-ed.
    pub values: Vec<String>,
}

/// A `Tag` input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagInput {
    /// Tag key.
    pub key: String,
    /// Tag value.
    pub value: String,
}

/// A `TagSpecification` input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagSpecification {
    /// Resource type (`image`).
    pub resource_type: String,
    /// Tags to bind.
    pub tags: Vec<TagInput>,
}

/// Most dot-separated segments in one flattened parameter name.
pub const MAX_NAME_SEGMENTS: usize = 16;

enum Node {
    Leaf(String),
    Branch(BTreeMap<String, Node>),
}

impl Params {
    /// Parameters from a JSON body; the body must be a JSON object.
    pub fn from_json(body: &[u8]) -> Result<Params, TcError> {
        if body.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(Params::default());
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Params { map }),
            Ok(_) => Err(TcError::new(
                Code::InvalidParameter,
                "The request body must be a JSON object.",
            )),
            Err(e) => Err(TcError::new(
                Code::InvalidParameter,
                format!("The request body is not valid JSON: {e}."),
            )),
        }
    }

    /// Parameters from flattened form pairs (already percent-decoded).
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Params, TcError> {
        let mut root: BTreeMap<String, Node> = BTreeMap::new();
        for (key, value) in pairs {
            insert_path(&mut root, key, value.clone())?;
        }
        let map = root.into_iter().map(|(k, n)| (k, to_value(n))).collect();
        Ok(Params { map })
    }

    /// Names of the top-level parameters.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(|k| k.as_str())
    }

    /// `UnknownParameter` for the first parameter not in `allowed`.
    pub fn reject_unknown(&self, allowed: &[&str]) -> Result<(), TcError> {
        match self.names().find(|n| !allowed.contains(n)) {
            Some(n) => Err(TcError::new(
                Code::UnknownParameter,
                format!("The parameter `{n}` is not recognized."),
            )),
            None => Ok(()),
        }
    }

    fn value(&self, name: &str) -> Option<&Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    /// Every string a parameter holds, leniently (a scalar, or each element of a list; what
    /// is not text is left out): the access check's view, before the action validates.
    pub fn values(&self, name: &str) -> Vec<String> {
        let text = |v: &Value| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        match self.value(name) {
            Some(Value::Array(a)) => a.iter().filter_map(text).collect(),
            Some(v) => text(v).into_iter().collect(),
            None => Vec::new(),
        }
    }

    /// An optional string.
    pub fn opt_str(&self, name: &str) -> Result<Option<String>, TcError> {
        self.value(name).map(|v| as_string(name, v)).transpose()
    }

    /// A required string.
    pub fn req_str(&self, name: &str) -> Result<String, TcError> {
        self.opt_str(name)?.ok_or_else(|| TcError::missing(name))
    }

    /// An optional unsigned integer.
    pub fn opt_u64(&self, name: &str) -> Result<Option<u64>, TcError> {
        self.value(name).map(|v| as_u64(name, v)).transpose()
    }

    /// An optional boolean.
    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, TcError> {
        self.value(name).map(|v| as_bool(name, v)).transpose()
    }

    /// An optional list of strings.
    pub fn opt_str_list(&self, name: &str) -> Result<Option<Vec<String>>, TcError> {
        self.value(name)
            .map(|v| {
                as_array(name, v)?
                    .iter()
                    .enumerate()
                    .map(|(i, x)| as_string(&format!("{name}.{i}"), x))
                    .collect()
            })
            .transpose()
    }

    /// An optional list of objects, each with only `allowed` keys, as nested [`Params`].
    pub fn opt_objects(
        &self,
        name: &str,
        allowed: &[&str],
    ) -> Result<Option<Vec<Params>>, TcError> {
        let Some(v) = self.value(name) else {
            return Ok(None);
        };
        as_array(name, v)?
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let here = format!("{name}.{i}");
                let obj = as_object(&here, item)?;
                reject_unknown_in(&here, obj, allowed)?;
                Ok(Params { map: obj.clone() })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// An optional list of `Filter`.
    pub fn opt_filters(&self, name: &str) -> Result<Option<Vec<Filter>>, TcError> {
        let Some(v) = self.value(name) else {
            return Ok(None);
        };
        let mut out = Vec::new();
        for (i, f) in as_array(name, v)?.iter().enumerate() {
            let here = format!("{name}.{i}");
            let obj = as_object(&here, f)?;
            reject_unknown_in(&here, obj, &["Name", "Values"])?;
            let fname = obj
                .get("Name")
                .filter(|v| !v.is_null())
                .ok_or_else(|| TcError::missing(&format!("{here}.Name")))
                .and_then(|v| as_string(&format!("{here}.Name"), v))?;
            let values = obj
                .get("Values")
                .filter(|v| !v.is_null())
                .ok_or_else(|| TcError::missing(&format!("{here}.Values")))
                .and_then(|v| as_array(&format!("{here}.Values"), v))?
                .iter()
                .enumerate()
                .map(|(j, x)| as_string(&format!("{here}.Values.{j}"), x))
                .collect::<Result<Vec<_>, _>>()?;
            out.push(Filter {
                name: fname,
                values,
            });
        }
        Ok(Some(out))
    }

    /// An optional list of `TagSpecification`.
    pub fn opt_tag_specs(&self, name: &str) -> Result<Option<Vec<TagSpecification>>, TcError> {
        let Some(v) = self.value(name) else {
            return Ok(None);
        };
        let mut out = Vec::new();
        for (i, s) in as_array(name, v)?.iter().enumerate() {
            let here = format!("{name}.{i}");
            let obj = as_object(&here, s)?;
            reject_unknown_in(&here, obj, &["ResourceType", "Tags"])?;
            let resource_type = obj
                .get("ResourceType")
                .filter(|v| !v.is_null())
                .ok_or_else(|| TcError::missing(&format!("{here}.ResourceType")))
                .and_then(|v| as_string(&format!("{here}.ResourceType"), v))?;
            let mut tags = Vec::new();
            if let Some(t) = obj.get("Tags").filter(|v| !v.is_null()) {
                for (j, tag) in as_array(&format!("{here}.Tags"), t)?.iter().enumerate() {
                    let th = format!("{here}.Tags.{j}");
                    let tobj = as_object(&th, tag)?;
                    reject_unknown_in(&th, tobj, &["Key", "Value"])?;
                    let key = tobj
                        .get("Key")
                        .filter(|v| !v.is_null())
                        .ok_or_else(|| TcError::missing(&format!("{th}.Key")))
                        .and_then(|v| as_string(&format!("{th}.Key"), v))?;
                    let value = tobj
                        .get("Value")
                        .filter(|v| !v.is_null())
                        .map(|v| as_string(&format!("{th}.Value"), v))
                        .transpose()?
                        .unwrap_or_default();
                    tags.push(TagInput { key, value });
                }
            }
            out.push(TagSpecification {
                resource_type,
                tags,
            });
        }
        Ok(Some(out))
    }
}

fn insert_path(root: &mut BTreeMap<String, Node>, key: &str, value: String) -> Result<(), TcError> {
    if key.split('.').nth(MAX_NAME_SEGMENTS).is_some() {
        let shown: String = key.chars().take(64).collect();
        return Err(TcError::new(
            Code::InvalidParameter,
            format!(
                "The parameter name `{shown}...` has more than {MAX_NAME_SEGMENTS} dot-separated segments."
            ),
        ));
    }
    let mut parts = key.split('.').peekable();
    let mut cur = root;
    while let Some(part) = parts.next() {
        if part.is_empty() {
            return Err(TcError::invalid(
                key,
                "the parameter name has an empty segment",
            ));
        }
        if parts.peek().is_none() {
            if cur.insert(part.to_string(), Node::Leaf(value)).is_some() {
                return Err(TcError::invalid(
                    key,
                    "the parameter is given more than once",
                ));
            }
            return Ok(());
        }
        let next = cur
            .entry(part.to_string())
            .or_insert_with(|| Node::Branch(BTreeMap::new()));
        cur = match next {
            Node::Branch(m) => m,
            Node::Leaf(_) => {
                return Err(TcError::invalid(
                    key,
                    "the parameter is both a value and a list",
                ))
            }
        };
    }
    Ok(())
}

fn to_value(n: Node) -> Value {
    match n {
        Node::Leaf(s) => Value::String(s),
        Node::Branch(m) => {
            let all_indices =
                !m.is_empty() && m.keys().all(|k| k.bytes().all(|b| b.is_ascii_digit()));
            if all_indices {
                let mut items: Vec<(u64, Node)> = m
                    .into_iter()
                    .map(|(k, v)| (k.parse::<u64>().unwrap_or(u64::MAX), v))
                    .collect();
                items.sort_by_key(|(i, _)| *i);
                Value::Array(items.into_iter().map(|(_, v)| to_value(v)).collect())
            } else {
                Value::Object(m.into_iter().map(|(k, v)| (k, to_value(v))).collect())
            }
        }
    }
}

fn reject_unknown_in(
    here: &str,
    obj: &Map<String, Value>,
    allowed: &[&str],
) -> Result<(), TcError> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(TcError::new(
            Code::UnknownParameter,
            format!("The parameter `{here}.{k}` is not recognized."),
        )),
        None => Ok(()),
    }
}

fn as_string(name: &str, v: &Value) -> Result<String, TcError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        _ => Err(TcError::invalid(name, "a string is expected")),
    }
}

fn as_u64(name: &str, v: &Value) -> Result<u64, TcError> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| TcError::invalid(name, "a non-negative integer is expected")),
        Value::String(s) => s
            .trim()
            .parse::<u64>()
            .map_err(|_| TcError::invalid(name, "a non-negative integer is expected")),
        _ => Err(TcError::invalid(name, "a non-negative integer is expected")),
    }
}

fn as_bool(name: &str, v: &Value) -> Result<bool, TcError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) => match s.as_str() {
            "true" | "True" | "TRUE" | "1" => Ok(true),
            "false" | "False" | "FALSE" | "0" => Ok(false),
            _ => Err(TcError::invalid(
                name,
                "a boolean (true or false) is expected",
            )),
        },
        _ => Err(TcError::invalid(
            name,
            "a boolean (true or false) is expected",
        )),
    }
}

fn as_array<'a>(name: &str, v: &'a Value) -> Result<&'a Vec<Value>, TcError> {
    match v {
        Value::Array(a) => Ok(a),
        _ => Err(TcError::invalid(name, "a list is expected")),
    }
}

fn as_object<'a>(name: &str, v: &'a Value) -> Result<&'a Map<String, Value>, TcError> {
    match v {
        Value::Object(o) => Ok(o),
        _ => Err(TcError::invalid(name, "an object is expected")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn flattened_filters_rebuild_into_lists_of_objects() {
        let p = Params::from_pairs(&pairs(&[
            ("Filters.0.Name", "image-type"),
            ("Filters.0.Values.0", "PRIVATE_IMAGE"),
            ("Filters.1.Name", "image-name"),
            ("Filters.1.Values.1", "b"),
            ("Filters.1.Values.0", "a"),
            ("Limit", "10"),
        ]))
        .expect("params");
        let f = p.opt_filters("Filters").expect("filters").expect("present");
        assert_eq!(
            f[0],
            Filter {
                name: "image-type".into(),
                values: vec!["PRIVATE_IMAGE".into()]
            }
        );
        assert_eq!(f[1].values, ["a", "b"]);
        assert_eq!(p.opt_u64("Limit").expect("limit"), Some(10));
    }

    #[test]
    fn python_booleans_in_form_encoding_are_accepted() {
        let p = Params::from_pairs(&pairs(&[("A", "True"), ("B", "False")])).expect("params");
        assert_eq!(p.opt_bool("A").expect("bool"), Some(true));
        assert_eq!(p.opt_bool("B").expect("bool"), Some(false));
        let bad = Params::from_pairs(&pairs(&[("A", "yes")])).expect("params");
        assert_eq!(bad.opt_bool("A").unwrap_err().code, Code::InvalidParameter);
    }

    #[test]
    fn json_type_mismatches_are_invalid_parameter() {
        let p = Params::from_json(br#"{"ImageId": 5, "Limit": "x"}"#).expect("params");
        assert_eq!(
            p.opt_str("ImageId").unwrap_err().code,
            Code::InvalidParameter
        );
        assert_eq!(p.opt_u64("Limit").unwrap_err().code, Code::InvalidParameter);
    }

    #[test]
    fn a_body_that_is_not_a_json_object_is_invalid_parameter() {
        assert_eq!(
            Params::from_json(b"[1]").unwrap_err().code,
            Code::InvalidParameter
        );
        assert_eq!(
            Params::from_json(b"{oops").unwrap_err().code,
            Code::InvalidParameter
        );
        assert!(Params::from_json(b"")
            .expect("empty")
            .names()
            .next()
            .is_none());
    }

    #[test]
    fn a_name_deeper_than_the_bound_is_invalid_parameter_not_a_crash() {
        let deep = vec!["A"; 100_000].join(".");
        let e = Params::from_pairs(&pairs(&[(deep.as_str(), "v")])).expect_err("refused");
        assert_eq!(e.code, Code::InvalidParameter);
        assert!(e.message.contains("16"), "{}", e.message);
        let ok = vec!["A"; MAX_NAME_SEGMENTS].join(".");
        assert!(Params::from_pairs(&pairs(&[(ok.as_str(), "v")])).is_ok());
    }

    #[test]
    fn unknown_parameters_are_named() {
        let p = Params::from_json(br#"{"ImageId": "img-1", "$schema": "x"}"#).expect("params");
        let e = p.reject_unknown(&["ImageId"]).unwrap_err();
        assert_eq!(e.code, Code::UnknownParameter);
        assert!(e.message.contains("`$schema`"));
    }

    #[test]
    fn unknown_keys_inside_a_filter_are_named() {
        let p = Params::from_json(br#"{"Filters": [{"Name": "a", "Values": [], "X": 1}]}"#)
            .expect("params");
        let e = p.opt_filters("Filters").unwrap_err();
        assert_eq!(e.code, Code::UnknownParameter);
        assert!(e.message.contains("Filters.0.X"));
    }
}
