//! The parsed model of Alibaba RAM and Tencent CAM policies, and their parsers.
//!
//! [`parse`] reads identity and session policies, [`parse_trust`] reads a role's trust
//! (AssumeRole) policy. Both check everything evaluation relies on, so [`super::eval`]
//! never meets a malformed policy: condition values of numeric, date, boolean and IP
//! operators are parsed here once, and action patterns are lower-cased here once.
//! Errors name what is wrong; their messages are meant for API users.

use std::net::IpAddr;

use serde_json::{Map, Value};

/// The policy language: Alibaba RAM (IMM) or Tencent CAM (CVM).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grammar {
    /// Alibaba Cloud RAM: `"Version": "1"`, capitalised keys, `acs:` ARNs.
    Ram,
    /// Tencent Cloud CAM: `"version": "2.0"`, lower-case keys, `qcs:` six-segment resources.
    Cam,
}

/// Whether a statement grants or refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// The statement grants what it matches.
    Allow,
    /// The statement refuses what it matches; a deny beats any allow.
    Deny,
}

/// The maximum length of a CAM policy, in characters not counting whitespace.
pub const CAM_MAX_CHARS: usize = 4096;

/// A parsed policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The language it was written in.
    pub grammar: Grammar,
    /// The statements, in document order (explanations cite them by index).
    pub statements: Vec<Statement>,
}

/// One statement of a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Allow or Deny.
    pub effect: Effect,
    /// `Action` (or `NotAction` when `negated`). Patterns are lower-cased, CAM's `name/`
    /// prefix is stripped and CAM `permid/...` entries are left out (they never match).
    pub actions: Names,
    /// `Resource` (or `NotResource`). `None` only in trust policies, which need none.
    pub resources: Option<Names>,
    /// The conditions; all must hold.
    pub conditions: Vec<Condition>,
    /// Who may assume the role; trust policies only (empty otherwise).
    pub principals: Vec<Principal>,
}

/// A list of wildcard patterns, or its complement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// `NotAction` / `NotResource`: the statement covers everything *except* the patterns.
    pub negated: bool,
    /// The patterns (`*` and `?` wildcards).
    pub patterns: Vec<String>,
}

/// The kind of name a trust-policy principal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    /// RAM `{"RAM": [...]}`: an ARN such as `acs:ram::123:root` or `acs:ram::123:user/alice`.
    Ram,
    /// CAM `{"qcs": [...]}`: such as `qcs::cam::uin/123:root` or `qcs::cam::uin/123:uin/456`.
    Qcs,
    /// `{"Service": [...]}` (RAM) / `{"service": [...]}` (CAM): a cloud service name.
    Service,
    /// RAM `{"Federated": [...]}`: an identity provider ARN.
    Federated,
    /// `"principal": "*"` (or a `"*"` entry): anyone.
    Any,
}

/// One principal of a trust policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// What kind of name `id` is.
    pub kind: PrincipalKind,
    /// The name as written (`*` for [`PrincipalKind::Any`]).
    pub id: String,
}

/// A condition operator family; negation is [`Condition::negated`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `StringEquals` / `string_equal` (and CAM `binary_equal`, compared as the written text).
    String,
    /// `StringEqualsIgnoreCase` / `string_equal_ignore_case`.
    StringIgnoreCase,
    /// `StringLike` / `string_like`: `*` and `?` wildcards.
    StringLike,
    /// `Numeric*` / `numeric_*`.
    Numeric(Cmp),
    /// `Date*` / `date_*`: ISO 8601 instants.
    Date(Cmp),
    /// `Bool` / `bool_equal`.
    Bool,
    /// `IpAddress` / `ip_equal`: CIDR or single address, v4 or v6.
    Ip,
    /// CAM `null_equal`: `"true"` holds when the key is absent, `"false"` when present.
    Null,
}

/// The comparison of a numeric or date operator: context value `cmp` policy value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// Equal (its negation is the `NotEquals` operator).
    Eq,
    /// Less than.
    Lt,
    /// Less than or equal.
    Le,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Ge,
}

/// How a condition treats a multi-valued context key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qualifier {
    /// No qualifier: holds when some context value matches some policy value.
    None,
    /// CAM `for_any_value:`: some context value passes the (possibly negated) test; false
    /// when the key is absent.
    ForAnyValue,
    /// CAM `for_all_value:`: every context value passes the (possibly negated) test; true
    /// when the key is absent or empty.
    ForAllValue,
}

/// One key test of a `Condition` block: `{ operator: { key: values } }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The operator as written (`StringEquals`, `for_any_value:string_equal_if_exist`).
    pub operator: String,
    /// The operator family.
    pub op: Op,
    /// A `Not` operator: the result of the positive test is inverted.
    pub negated: bool,
    /// CAM `_if_exist`: holds when the key is absent.
    pub if_exists: bool,
    /// CAM `for_any_value:` / `for_all_value:`.
    pub qualifier: Qualifier,
    /// The condition key (`acs:SourceIp`, `qcs:ip`, `cvm:region`).
    pub key: String,
    /// The values as written (numbers and booleans turned into their JSON text); ORed.
    pub values: Vec<String>,
    pub(crate) parsed: Parsed,
}

/// Condition values parsed once, at policy parse time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Parsed {
    Text,
    Numbers(Vec<f64>),
    Instants(Vec<i64>),
    Bools(Vec<bool>),
    Nets(Vec<IpNet>),
}

/// An address block: a CIDR, or a single address as a full-length prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IpNet {
    pub(crate) addr: IpAddr,
    pub(crate) prefix: u8,
}

impl IpNet {
    pub(crate) fn parse(text: &str) -> Option<IpNet> {
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text.trim(), None),
        };
        let addr: IpAddr = addr.parse().ok()?;
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok()?,
            Some(_) => return None,
        };
        (prefix <= max).then_some(IpNet { addr, prefix })
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// What kind of thing is wrong with a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyErrorKind {
    /// Not JSON, or not the expected shape (unknown key, wrong JSON type, missing element).
    Syntax,
    /// Missing or unsupported `Version`.
    Version,
    /// `Effect` is not Allow/Deny.
    Effect,
    /// A malformed or missing `Action`.
    Action,
    /// A malformed or missing `Resource`.
    Resource,
    /// An unknown operator or a value its operator cannot read.
    Condition,
    /// A malformed, missing or misplaced `Principal`.
    Principal,
    /// The policy is longer than the grammar allows.
    TooLong,
}

/// Why a policy was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PolicyError {
    /// The category, for choosing an API error code.
    pub kind: PolicyErrorKind,
    /// What is wrong, naming the element; fit to show an API user.
    pub message: String,
}

fn err<T>(kind: PolicyErrorKind, message: impl Into<String>) -> Result<T, PolicyError> {
    Err(PolicyError {
        kind,
        message: message.into(),
    })
}

/// Parses an identity or session policy. `Principal` is refused here.
pub fn parse(grammar: Grammar, text: &str) -> Result<Policy, PolicyError> {
    parse_doc(grammar, text, false)
}

/// Parses a trust (AssumeRole) policy: every statement needs a principal (for CAM the
/// document-level `principal` counts), `Resource` may be left out.
pub fn parse_trust(grammar: Grammar, text: &str) -> Result<Policy, PolicyError> {
    parse_doc(grammar, text, true)
}

/// The element names of a grammar, and how its keys are spelt.
struct Keys {
    grammar: Grammar,
}

impl Keys {
    /// Looks `name` (the RAM spelling, e.g. `NotAction`) up in `obj`: RAM accepts it
    /// exactly, CAM accepts the lower-case spelling or the capitalised one.
    fn get<'a>(&self, obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
        match self.grammar {
            Grammar::Ram => obj.get(name),
            Grammar::Cam => obj
                .get(&name.to_ascii_lowercase())
                .or_else(|| obj.get(name)),
        }
    }

    fn spell(&self, name: &str) -> String {
        match self.grammar {
            Grammar::Ram => name.to_string(),
            Grammar::Cam => name.to_ascii_lowercase(),
        }
    }

    /// Refuses any key of `obj` not in `allowed` (RAM spellings).
    fn check_only(
        &self,
        obj: &Map<String, Value>,
        allowed: &[&str],
        place: &str,
    ) -> Result<(), PolicyError> {
        for key in obj.keys() {
            let known = allowed.iter().any(|a| match self.grammar {
                Grammar::Ram => key == a,
                Grammar::Cam => key == a || *key == a.to_ascii_lowercase(),
            });
            if !known {
                let names: Vec<String> = allowed.iter().map(|a| self.spell(a)).collect();
                return err(
                    PolicyErrorKind::Syntax,
                    format!(
                        "unknown element '{key}' in {place}; expected one of {}",
                        names.join(", ")
                    ),
                );
            }
        }
        Ok(())
    }
}

fn parse_doc(grammar: Grammar, text: &str, trust: bool) -> Result<Policy, PolicyError> {
    if grammar == Grammar::Cam {
        let len = text.chars().filter(|c| !c.is_whitespace()).count();
        if len > CAM_MAX_CHARS {
            return err(
                PolicyErrorKind::TooLong,
                format!("policy is {len} characters long (not counting whitespace); the maximum is {CAM_MAX_CHARS}"),
            );
        }
    }
    let doc: Value = serde_json::from_str(text).map_err(|e| PolicyError {
        kind: PolicyErrorKind::Syntax,
        message: format!("policy is not valid JSON: {e}"),
    })?;
    let Value::Object(obj) = doc else {
        return err(PolicyErrorKind::Syntax, "policy must be a JSON object");
    };
    let keys = Keys { grammar };
    let top: &[&str] = match grammar {
        Grammar::Ram => &["Version", "Statement"],
        Grammar::Cam => &["Version", "Statement", "Principal"],
    };
    keys.check_only(&obj, top, "the policy")?;

    let (version_key, expected) = match grammar {
        Grammar::Ram => ("Version", "1"),
        Grammar::Cam => ("version", "2.0"),
    };
    match keys.get(&obj, "Version") {
        Some(Value::String(v)) if v == expected => {}
        Some(v) => {
            return err(
                PolicyErrorKind::Version,
                format!("{version_key} must be \"{expected}\", not {v}"),
            )
        }
        None => {
            return err(
                PolicyErrorKind::Version,
                format!("{version_key} is missing; it must be \"{expected}\""),
            )
        }
    }

    let doc_principals = match keys.get(&obj, "Principal") {
        Some(p) if trust => parse_principal(grammar, p)?,
        Some(_) => {
            return err(
                PolicyErrorKind::Principal,
                "principal is only allowed in a trust policy",
            )
        }
        None => Vec::new(),
    };

    let statement_key = keys.spell("Statement");
    let list: Vec<&Value> = match keys.get(&obj, "Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        Some(_) => {
            return err(
                PolicyErrorKind::Syntax,
                format!("{statement_key} must be a list of objects"),
            )
        }
        None => {
            return err(
                PolicyErrorKind::Syntax,
                format!("{statement_key} is missing"),
            )
        }
    };
    let mut statements = Vec::with_capacity(list.len());
    for (index, item) in list.into_iter().enumerate() {
        let Value::Object(s) = item else {
            return err(
                PolicyErrorKind::Syntax,
                format!("{statement_key}[{index}] must be an object"),
            );
        };
        statements.push(parse_statement(&keys, s, index, trust, &doc_principals)?);
    }
    Ok(Policy {
        grammar,
        statements,
    })
}

fn parse_statement(
    keys: &Keys,
    s: &Map<String, Value>,
    index: usize,
    trust: bool,
    doc_principals: &[Principal],
) -> Result<Statement, PolicyError> {
    let grammar = keys.grammar;
    let at = format!("{}[{index}]", keys.spell("Statement"));
    keys.check_only(
        s,
        &[
            "Effect",
            "Action",
            "NotAction",
            "Resource",
            "NotResource",
            "Condition",
            "Principal",
        ],
        &at,
    )?;

    let effect_key = keys.spell("Effect");
    let effect = match keys.get(s, "Effect") {
        Some(Value::String(e)) => match grammar {
            Grammar::Ram if e == "Allow" => Effect::Allow,
            Grammar::Ram if e == "Deny" => Effect::Deny,
            Grammar::Cam if e.eq_ignore_ascii_case("allow") => Effect::Allow,
            Grammar::Cam if e.eq_ignore_ascii_case("deny") => Effect::Deny,
            _ => {
                let allowed = if grammar == Grammar::Ram {
                    "\"Allow\" or \"Deny\""
                } else {
                    "\"allow\" or \"deny\""
                };
                return err(
                    PolicyErrorKind::Effect,
                    format!("{at}: {effect_key} must be {allowed}, not \"{e}\""),
                );
            }
        },
        Some(v) => {
            return err(
                PolicyErrorKind::Effect,
                format!("{at}: {effect_key} must be a string, not {v}"),
            )
        }
        None => {
            return err(
                PolicyErrorKind::Effect,
                format!("{at}: {effect_key} is missing"),
            )
        }
    };

    let (actions, negated) = pick(keys, s, "Action", "NotAction", &at, PolicyErrorKind::Action)?
        .ok_or_else(|| PolicyError {
            kind: PolicyErrorKind::Action,
            message: format!("{at}: {} is missing", keys.spell("Action")),
        })?;
    let mut patterns = Vec::with_capacity(actions.len());
    for a in actions {
        if let Some(p) = parse_action(grammar, &a).map_err(|m| PolicyError {
            kind: PolicyErrorKind::Action,
            message: format!("{at}: {m}"),
        })? {
            patterns.push(p);
        }
    }
    let actions = Names { negated, patterns };

    let resources = match pick(
        keys,
        s,
        "Resource",
        "NotResource",
        &at,
        PolicyErrorKind::Resource,
    )? {
        Some((list, negated)) => {
            for r in &list {
                check_resource(grammar, r).map_err(|m| PolicyError {
                    kind: PolicyErrorKind::Resource,
                    message: format!("{at}: {m}"),
                })?;
            }
            Some(Names {
                negated,
                patterns: list,
            })
        }
        None if trust => None,
        None => {
            return err(
                PolicyErrorKind::Resource,
                format!("{at}: {} is missing", keys.spell("Resource")),
            )
        }
    };

    let conditions = match keys.get(s, "Condition") {
        Some(c) => parse_conditions(grammar, c, &at)?,
        None => Vec::new(),
    };

    let principals = match keys.get(s, "Principal") {
        Some(p) if trust => parse_principal(grammar, p)?,
        Some(_) => {
            return err(
                PolicyErrorKind::Principal,
                format!(
                    "{at}: {} is only allowed in a trust policy",
                    keys.spell("Principal")
                ),
            )
        }
        None if trust && !doc_principals.is_empty() => doc_principals.to_vec(),
        None if trust => {
            return err(
                PolicyErrorKind::Principal,
                format!("{at}: {} is missing", keys.spell("Principal")),
            )
        }
        None => Vec::new(),
    };

    Ok(Statement {
        effect,
        actions,
        resources,
        conditions,
        principals,
    })
}

/// Reads the one of `name` / `not_name` that is present, as a non-empty list of strings,
/// with whether it was the negated one.
fn pick(
    keys: &Keys,
    s: &Map<String, Value>,
    name: &str,
    not_name: &str,
    at: &str,
    kind: PolicyErrorKind,
) -> Result<Option<(Vec<String>, bool)>, PolicyError> {
    let (value, negated, shown) = match (keys.get(s, name), keys.get(s, not_name)) {
        (Some(_), Some(_)) => {
            return err(
                kind,
                format!(
                    "{at}: use either {} or {}, not both",
                    keys.spell(name),
                    keys.spell(not_name)
                ),
            )
        }
        (Some(v), None) => (v, false, keys.spell(name)),
        (None, Some(v)) => (v, true, keys.spell(not_name)),
        (None, None) => return Ok(None),
    };
    let list = string_list(value).ok_or_else(|| PolicyError {
        kind,
        message: format!("{at}: {shown} must be a non-empty string or list of non-empty strings"),
    })?;
    Ok(Some((list, negated)))
}

/// A string or a non-empty list of non-empty strings.
fn string_list(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(s) if !s.is_empty() => Some(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|i| match i {
                Value::String(s) if !s.is_empty() => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// Checks an action and returns its lower-cased pattern, or `None` for a CAM `permid/`
/// entry (accepted, never matches).
fn parse_action(grammar: Grammar, action: &str) -> Result<Option<String>, String> {
    let name = match grammar {
        Grammar::Ram => action,
        Grammar::Cam => {
            if let Some(id) = action.strip_prefix("permid/") {
                if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
                    return Ok(None);
                }
                return Err(format!(
                    "action '{action}': permid/ must be followed by digits"
                ));
            }
            action.strip_prefix("name/").unwrap_or(action)
        }
    };
    let valid = name == "*"
        || matches!(name.split_once(':'), Some((service, api)) if !service.is_empty() && !api.is_empty());
    if !valid || name.chars().any(char::is_whitespace) {
        return Err(format!(
            "action '{action}' must be '*' or '<service>:<action>'"
        ));
    }
    Ok(Some(name.to_lowercase()))
}

fn check_resource(grammar: Grammar, resource: &str) -> Result<(), String> {
    if resource == "*" {
        return Ok(());
    }
    if resource.chars().any(char::is_whitespace) {
        return Err(format!("resource '{resource}' must not contain whitespace"));
    }
    match grammar {
        // RAM ARNs are `acs:<service>:<region>:<account>:<relative-id>`, but wildcards may
        // stand for whole segments (`acs:imm:*`), so only the prefix is checked.
        Grammar::Ram => {
            if resource.starts_with("acs:") || resource.starts_with('*') {
                Ok(())
            } else {
                Err(format!(
                    "resource '{resource}' must be '*' or an ARN starting with 'acs:'"
                ))
            }
        }
        Grammar::Cam => {
            let segments = resource.splitn(6, ':').count();
            if segments == 6 && resource.starts_with("qcs:") {
                Ok(())
            } else {
                Err(format!(
                    "resource '{resource}' must be '*' or qcs:<project>:<service>:<region>:<account>:<resource>"
                ))
            }
        }
    }
}

fn parse_principal(grammar: Grammar, value: &Value) -> Result<Vec<Principal>, PolicyError> {
    let principal_key = if grammar == Grammar::Ram {
        "Principal"
    } else {
        "principal"
    };
    let any = || {
        vec![Principal {
            kind: PrincipalKind::Any,
            id: "*".to_string(),
        }]
    };
    let obj = match value {
        Value::String(s) if s == "*" => return Ok(any()),
        Value::Object(obj) if !obj.is_empty() => obj,
        _ => {
            let forms = if grammar == Grammar::Ram {
                "{\"RAM\": [...]}, {\"Service\": [...]} or {\"Federated\": [...]}"
            } else {
                "\"*\", {\"qcs\": [...]} or {\"service\": [...]}"
            };
            return err(
                PolicyErrorKind::Principal,
                format!("{principal_key} must be {forms}"),
            );
        }
    };
    let mut out = Vec::new();
    for (kind_name, ids) in obj {
        let kind = match (grammar, kind_name.as_str()) {
            (Grammar::Ram, "RAM") => PrincipalKind::Ram,
            (Grammar::Ram, "Service") => PrincipalKind::Service,
            (Grammar::Ram, "Federated") => PrincipalKind::Federated,
            (Grammar::Cam, "qcs") => PrincipalKind::Qcs,
            (Grammar::Cam, "service") => PrincipalKind::Service,
            _ => {
                let kinds = if grammar == Grammar::Ram {
                    "RAM, Service, Federated"
                } else {
                    "qcs, service"
                };
                return err(
                    PolicyErrorKind::Principal,
                    format!("unknown principal type '{kind_name}' in {principal_key}; expected one of {kinds}"),
                );
            }
        };
        let ids = string_list(ids).ok_or_else(|| PolicyError {
            kind: PolicyErrorKind::Principal,
            message: format!("{principal_key}.{kind_name} must be a non-empty string or list of non-empty strings"),
        })?;
        for id in ids {
            let kind = if id == "*" { PrincipalKind::Any } else { kind };
            out.push(Principal { kind, id });
        }
    }
    Ok(out)
}

fn parse_conditions(
    grammar: Grammar,
    value: &Value,
    at: &str,
) -> Result<Vec<Condition>, PolicyError> {
    let key_name = if grammar == Grammar::Ram {
        "Condition"
    } else {
        "condition"
    };
    let bad = |m: String| PolicyError {
        kind: PolicyErrorKind::Condition,
        message: format!("{at}: {m}"),
    };
    let Value::Object(ops) = value else {
        return Err(bad(format!("{key_name} must be an object of operators")));
    };
    let mut out = Vec::new();
    for (operator, block) in ops {
        let (op, negated, if_exists, qualifier) = parse_operator(grammar, operator)
            .ok_or_else(|| bad(format!("unknown condition operator '{operator}'")))?;
        let Value::Object(block) = block else {
            return Err(bad(format!(
                "{key_name}.{operator} must be an object of condition keys"
            )));
        };
        if block.is_empty() {
            return Err(bad(format!("{key_name}.{operator} names no condition key")));
        }
        for (key, raw) in block {
            if key.is_empty() {
                return Err(bad(format!(
                    "{key_name}.{operator} has an empty condition key"
                )));
            }
            let values = condition_values(raw).ok_or_else(|| {
                bad(format!(
                    "{key_name}.{operator}.{key} must be a value or a non-empty list of values"
                ))
            })?;
            let parsed = parse_values(op, &values).map_err(|v| {
                bad(format!(
                    "{key_name}.{operator}.{key}: '{v}' is not a valid {} value",
                    family_name(op)
                ))
            })?;
            out.push(Condition {
                operator: operator.clone(),
                op,
                negated,
                if_exists,
                qualifier,
                key: key.clone(),
                values,
                parsed,
            });
        }
    }
    Ok(out)
}

fn family_name(op: Op) -> &'static str {
    match op {
        Op::String | Op::StringIgnoreCase | Op::StringLike => "string",
        Op::Numeric(_) => "numeric",
        Op::Date(_) => "date (ISO 8601, e.g. 2019-08-12T17:00:00+08:00)",
        Op::Bool | Op::Null => "boolean (\"true\" or \"false\")",
        Op::Ip => "IP address or CIDR",
    }
}

/// Strings, numbers and booleans, alone or in a non-empty list, as text.
fn condition_values(value: &Value) -> Option<Vec<String>> {
    fn one(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    match value {
        Value::Array(items) if !items.is_empty() => items.iter().map(one).collect(),
        Value::Array(_) => None,
        v => one(v).map(|s| vec![s]),
    }
}

fn parse_values(op: Op, values: &[String]) -> Result<Parsed, String> {
    fn all<T>(values: &[String], f: impl Fn(&str) -> Option<T>) -> Result<Vec<T>, String> {
        values
            .iter()
            .map(|v| f(v).ok_or_else(|| v.clone()))
            .collect()
    }
    Ok(match op {
        Op::String | Op::StringIgnoreCase | Op::StringLike => Parsed::Text,
        Op::Numeric(_) => Parsed::Numbers(all(values, parse_number)?),
        Op::Date(_) => Parsed::Instants(all(values, parse_date_millis)?),
        Op::Bool | Op::Null => Parsed::Bools(all(values, parse_bool)?),
        Op::Ip => Parsed::Nets(all(values, IpNet::parse)?),
    })
}

pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let n: f64 = text.trim().parse().ok()?;
    n.is_finite().then_some(n)
}

pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("true") {
        Some(true)
    } else if t.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Reads an operator name into (family, negated, if_exists, qualifier).
fn parse_operator(grammar: Grammar, name: &str) -> Option<(Op, bool, bool, Qualifier)> {
    match grammar {
        Grammar::Ram => {
            let (op, negated) = match name {
                "StringEquals" => (Op::String, false),
                "StringNotEquals" => (Op::String, true),
                "StringEqualsIgnoreCase" => (Op::StringIgnoreCase, false),
                "StringNotEqualsIgnoreCase" => (Op::StringIgnoreCase, true),
                "StringLike" => (Op::StringLike, false),
                "StringNotLike" => (Op::StringLike, true),
                "NumericEquals" => (Op::Numeric(Cmp::Eq), false),
                "NumericNotEquals" => (Op::Numeric(Cmp::Eq), true),
                "NumericLessThan" => (Op::Numeric(Cmp::Lt), false),
                "NumericLessThanEquals" => (Op::Numeric(Cmp::Le), false),
                "NumericGreaterThan" => (Op::Numeric(Cmp::Gt), false),
                "NumericGreaterThanEquals" => (Op::Numeric(Cmp::Ge), false),
                "DateEquals" => (Op::Date(Cmp::Eq), false),
                "DateNotEquals" => (Op::Date(Cmp::Eq), true),
                "DateLessThan" => (Op::Date(Cmp::Lt), false),
                "DateLessThanEquals" => (Op::Date(Cmp::Le), false),
                "DateGreaterThan" => (Op::Date(Cmp::Gt), false),
                "DateGreaterThanEquals" => (Op::Date(Cmp::Ge), false),
                "Bool" => (Op::Bool, false),
                "IpAddress" => (Op::Ip, false),
                "NotIpAddress" => (Op::Ip, true),
                _ => return None,
            };
            Some((op, negated, false, Qualifier::None))
        }
        Grammar::Cam => {
            let (qualifier, rest) = if let Some(r) = name.strip_prefix("for_any_value:") {
                (Qualifier::ForAnyValue, r)
            } else if let Some(r) = name.strip_prefix("for_all_value:") {
                (Qualifier::ForAllValue, r)
            } else {
                (Qualifier::None, name)
            };
            let (base, if_exists) = match rest.strip_suffix("_if_exist") {
                Some(b) => (b, true),
                None => (rest, false),
            };
            let (op, negated) = match base {
                "string_equal" => (Op::String, false),
                "string_not_equal" => (Op::String, true),
                "string_equal_ignore_case" => (Op::StringIgnoreCase, false),
                "string_not_equal_ignore_case" => (Op::StringIgnoreCase, true),
                "string_like" => (Op::StringLike, false),
                "string_not_like" => (Op::StringLike, true),
                "numeric_equal" => (Op::Numeric(Cmp::Eq), false),
                "numeric_not_equal" => (Op::Numeric(Cmp::Eq), true),
                "numeric_less_than" => (Op::Numeric(Cmp::Lt), false),
                "numeric_less_than_equal" => (Op::Numeric(Cmp::Le), false),
                "numeric_greater_than" => (Op::Numeric(Cmp::Gt), false),
                "numeric_greater_than_equal" => (Op::Numeric(Cmp::Ge), false),
                "date_equal" => (Op::Date(Cmp::Eq), false),
                "date_not_equal" => (Op::Date(Cmp::Eq), true),
                "date_less_than" => (Op::Date(Cmp::Lt), false),
                "date_less_than_equal" => (Op::Date(Cmp::Le), false),
                "date_greater_than" => (Op::Date(Cmp::Gt), false),
                "date_greater_than_equal" => (Op::Date(Cmp::Ge), false),
                "bool_equal" => (Op::Bool, false),
                "binary_equal" => (Op::String, false),
                "ip_equal" => (Op::Ip, false),
                "ip_not_equal" => (Op::Ip, true),
                "null_equal" => (Op::Null, false),
                _ => return None,
            };
            Some((op, negated, if_exists, qualifier))
        }
    }
}

/// Parses `YYYY-MM-DDThh:mm:ss[.fff...](Z|±hh:mm)` to milliseconds since the Unix epoch.
/// Fractions beyond milliseconds are truncated.
pub fn parse_date_millis(text: &str) -> Option<i64> {
    let b = text.trim().as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0i64, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0'))
        })
    };
    let sep = |at: usize, c: u8| b.get(at).copied() == Some(c);
    if !(sep(4, b'-')
        && sep(7, b'-')
        && (sep(10, b'T') || sep(10, b't'))
        && sep(13, b':')
        && sep(16, b':'))
    {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if sep(i, b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 3 {
                millis = millis * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        let n = i - start;
        if n == 0 {
            return None;
        }
        for _ in n..3 {
            millis *= 10;
        }
    }
    let offset_minutes = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&s @ (b'+' | b'-')) if i + 6 == b.len() && sep(i + 3, b':') => {
            let (oh, om) = (num(i + 1, 2)?, num(i + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let m = oh * 60 + om;
            if s == b'+' {
                m
            } else {
                -m
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of(grammar: Grammar, text: &str) -> PolicyErrorKind {
        parse(grammar, text).unwrap_err().kind
    }

    #[test]
    fn ram_single_values_parse_as_one_element_lists_and_actions_are_lower_cased() {
        let p = parse(
            Grammar::Ram,
            r#"{"Version":"1","Statement":{"Effect":"Allow","Action":"imm:GetProject","Resource":"*"}}"#,
        )
        .expect("test input");
        assert_eq!(p.statements.len(), 1);
        let s = &p.statements[0];
        assert_eq!(s.effect, Effect::Allow);
        assert_eq!(s.actions.patterns, vec!["imm:getproject"]);
        assert_eq!(
            s.resources.as_ref().expect("test input").patterns,
            vec!["*"]
        );
    }

    #[test]
    fn ram_bad_version_is_a_version_error_naming_the_version() {
        let e = parse(Grammar::Ram, r#"{"Version":"2","Statement":[]}"#).unwrap_err();
        assert_eq!(e.kind, PolicyErrorKind::Version);
        assert!(e.message.contains("Version"), "{}", e.message);
        assert_eq!(
            kind_of(Grammar::Ram, r#"{"Statement":[]}"#),
            PolicyErrorKind::Version
        );
        assert_eq!(
            kind_of(Grammar::Ram, r#"{"Version":1,"Statement":[]}"#),
            PolicyErrorKind::Version
        );
    }

    #[test]
    fn ram_bad_effect_is_an_effect_error_naming_the_value() {
        let e = parse(
            Grammar::Ram,
            r#"{"Version":"1","Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.kind, PolicyErrorKind::Effect);
        assert!(e.message.contains("\"allow\""), "{}", e.message);
    }

    #[test]
    fn ram_unknown_operator_is_a_condition_error_naming_it() {
        let e = parse(
            Grammar::Ram,
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
                "Condition":{"StringEqualz":{"acs:SourceIp":"1"}}}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.kind, PolicyErrorKind::Condition);
        assert!(e.message.contains("StringEqualz"), "{}", e.message);
    }

    #[test]
    fn ram_condition_values_that_the_operator_cannot_read_are_refused() {
        for (op, v) in [
            ("NumericLessThan", "\"ten\""),
            ("DateLessThan", "\"yesterday\""),
            ("Bool", "\"yes\""),
            ("IpAddress", "\"10.0.0.0/33\""),
        ] {
            let text = format!(
                r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{{"{op}":{{"k":{v}}}}}}}]}}"#
            );
            let e = parse(Grammar::Ram, &text).unwrap_err();
            assert_eq!(e.kind, PolicyErrorKind::Condition, "{op}");
        }
    }

    #[test]
    fn ram_numbers_and_booleans_in_conditions_are_accepted_as_json_values() {
        let p = parse(
            Grammar::Ram,
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
                "Condition":{"Bool":{"acs:SecureTransport":true},"NumericLessThan":{"k":[1,2.5]}}}]}"#,
        )
        .expect("test input");
        let c = &p.statements[0].conditions;
        assert_eq!(c.len(), 2);
        assert!(c.iter().any(|c| c.values == vec!["true"]));
        assert!(c.iter().any(|c| c.values == vec!["1", "2.5"]));
    }

    #[test]
    fn ram_keys_are_exact_and_unknown_or_missing_elements_are_refused() {
        assert_eq!(
            kind_of(Grammar::Ram, r#"{"version":"1","Statement":[]}"#),
            PolicyErrorKind::Syntax
        );
        assert_eq!(
            kind_of(
                Grammar::Ram,
                r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Sid":"x"}]}"#
            ),
            PolicyErrorKind::Syntax
        );
        assert_eq!(
            kind_of(
                Grammar::Ram,
                r#"{"Version":"1","Statement":[{"Effect":"Allow","Resource":"*"}]}"#
            ),
            PolicyErrorKind::Action
        );
        assert_eq!(
            kind_of(
                Grammar::Ram,
                r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*"}]}"#
            ),
            PolicyErrorKind::Resource
        );
        assert_eq!(
            kind_of(
                Grammar::Ram,
                r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","NotAction":"*","Resource":"*"}]}"#
            ),
            PolicyErrorKind::Action
        );
        assert_eq!(
            kind_of(
                Grammar::Ram,
                r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"GetProject","Resource":"*"}]}"#
            ),
            PolicyErrorKind::Action
        );
        assert_eq!(
            kind_of(
                Grammar::Ram,
                r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Principal":{"RAM":"*"}}]}"#
            ),
            PolicyErrorKind::Principal
        );
    }

    #[test]
    fn cam_accepts_capitalised_keys_any_case_effect_and_strips_name_prefix() {
        let p = parse(
            Grammar::Cam,
            r#"{"Version":"2.0","Statement":[{"Effect":"ALLOW","Action":["name/cvm:Describe*","permid/280649"],"Resource":"*"}]}"#,
        )
        .expect("test input");
        assert_eq!(p.statements[0].actions.patterns, vec!["cvm:describe*"]);
        assert_eq!(p.statements[0].effect, Effect::Allow);
    }

    #[test]
    fn cam_bad_version_effect_operator_and_resource_are_refused_by_kind() {
        assert_eq!(
            kind_of(Grammar::Cam, r#"{"version":"1","statement":[]}"#),
            PolicyErrorKind::Version
        );
        assert_eq!(
            kind_of(
                Grammar::Cam,
                r#"{"version":"2.0","statement":[{"effect":"permit","action":"*","resource":"*"}]}"#
            ),
            PolicyErrorKind::Effect
        );
        let e = parse(
            Grammar::Cam,
            r#"{"version":"2.0","statement":[{"effect":"allow","action":"*","resource":"*","condition":{"string_equals":{"qcs:ip":"x"}}}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.kind, PolicyErrorKind::Condition);
        assert!(e.message.contains("string_equals"), "{}", e.message);
        assert_eq!(
            kind_of(
                Grammar::Cam,
                r#"{"version":"2.0","statement":[{"effect":"allow","action":"*","resource":"qcs::cvm"}]}"#
            ),
            PolicyErrorKind::Resource
        );
        assert_eq!(
            kind_of(
                Grammar::Cam,
                r#"{"version":"2.0","statement":[{"effect":"allow","action":"*"}]}"#
            ),
            PolicyErrorKind::Resource
        );
    }

    #[test]
    fn cam_operator_suffix_and_qualifier_are_read() {
        let p = parse(
            Grammar::Cam,
            r#"{"version":"2.0","statement":[{"effect":"allow","action":"*","resource":"*",
               "condition":{"for_all_value:string_not_equal_if_exist":{"qcs:resource_tag":["a&b"]}}}]}"#,
        )
        .expect("test input");
        let c = &p.statements[0].conditions[0];
        assert_eq!(
            (c.op, c.negated, c.if_exists, c.qualifier),
            (Op::String, true, true, Qualifier::ForAllValue)
        );
    }

    #[test]
    fn cam_policies_over_4096_non_whitespace_characters_are_too_long() {
        let resources: Vec<String> = (0..200)
            .map(|i| format!("\"qcs::cvm::uin/1:image/img-{i:08}\""))
            .collect();
        let text = format!(
            r#"{{"version":"2.0","statement":[{{"effect":"allow","action":"*","resource":[{}]}}]}}"#,
            resources.join(",")
        );
        let e = parse(Grammar::Cam, &text).unwrap_err();
        assert_eq!(e.kind, PolicyErrorKind::TooLong);
        assert!(e.message.contains("4096"), "{}", e.message);
        // Whitespace does not count.
        let padded = format!(
            "{}{}",
            r#"{"version":"2.0","statement":[{"effect":"allow","action":"*","resource":"*"}]}"#,
            " ".repeat(5000)
        );
        assert!(parse(Grammar::Cam, &padded).is_ok());
    }

    #[test]
    fn trust_policies_need_a_principal_and_parse_every_documented_form() {
        let p = parse_trust(
            Grammar::Ram,
            r#"{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":["acs:ram::123:root"],"Service":"ecs.aliyuncs.com","Federated":["acs:ram::123:saml-provider/idp"]}}],"Version":"1"}"#,
        )
        .expect("test input");
        let kinds: Vec<PrincipalKind> = p.statements[0].principals.iter().map(|p| p.kind).collect();
        assert!(
            kinds.contains(&PrincipalKind::Ram)
                && kinds.contains(&PrincipalKind::Service)
                && kinds.contains(&PrincipalKind::Federated)
        );
        assert!(p.statements[0].resources.is_none());
        let e = parse_trust(
            Grammar::Ram,
            r#"{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow"}],"Version":"1"}"#,
        )
        .unwrap_err();
        assert_eq!(e.kind, PolicyErrorKind::Principal);
        let e = parse_trust(
            Grammar::Ram,
            r#"{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"AWS":"x"}}],"Version":"1"}"#,
        )
        .unwrap_err();
        assert_eq!(e.kind, PolicyErrorKind::Principal);
        assert!(e.message.contains("AWS"));
        let p = parse_trust(
            Grammar::Cam,
            r#"{"version":"2.0","statement":[{"action":"name/sts:AssumeRole","effect":"allow","principal":{"qcs":["qcs::cam::uin/123:root"]}}]}"#,
        )
        .expect("test input");
        assert_eq!(p.statements[0].principals[0].kind, PrincipalKind::Qcs);
        // The document-level CAM principal applies to statements without their own.
        let p = parse_trust(
            Grammar::Cam,
            r#"{"version":"2.0","principal":{"service":"cvm.qcloud.com"},"statement":[{"action":"sts:AssumeRole","effect":"allow"}]}"#,
        )
        .expect("test input");
        assert_eq!(p.statements[0].principals[0].kind, PrincipalKind::Service);
    }

    #[test]
    fn iso_8601_dates_become_epoch_milliseconds_with_offsets_applied() {
        assert_eq!(parse_date_millis("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_date_millis("1970-01-01T08:00:00+08:00"), Some(0));
        assert_eq!(parse_date_millis("1970-01-01T00:00:01.5Z"), Some(1500));
        assert_eq!(
            parse_date_millis("2000-03-01T00:00:00Z"),
            Some(951_868_800_000)
        );
        assert_eq!(parse_date_millis("1969-12-31T23:59:59Z"), Some(-1000));
        assert_eq!(parse_date_millis("2019-02-29T00:00:00Z"), None);
        assert_eq!(parse_date_millis("2019-08-12T17:00:00"), None);
        assert_eq!(parse_date_millis("2019-08-12T17:00:00+0800"), None);
        assert_eq!(parse_date_millis("2019-08-12T24:00:00Z"), None);
        assert_eq!(parse_date_millis("2019-08-12T17:00:00.Z"), None);
    }

    #[test]
    fn arbitrary_json_never_panics_the_parsers() {
        let weird = [
            "", "null", "[]", "{}", "1", "\"x\"", "{\"Version\":\"1\"}", "{\"Version\":\"1\",\"Statement\":null}",
            "{\"Version\":\"1\",\"Statement\":[1,2]}", "{\"Version\":\"1\",\"Statement\":[{}]}",
            "{\"Version\":\"1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[],\"Resource\":[]}]}",
            "{\"Version\":\"1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[null],\"Resource\":{}}]}",
            "{\"Version\":\"1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":[]}]}",
            "{\"Version\":\"1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":{\"Bool\":[]}}]}",
            "{\"Version\":\"1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":{\"Bool\":{\"k\":{}}}}]}",
            "{\"Version\":\"1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":{\"DateLessThan\":{\"k\":\"9999-99-99T99:99:99+99:99\"}}}]}",
            "{\"version\":\"2.0\",\"statement\":[{\"effect\":\"allow\",\"action\":\"permid/\",\"resource\":\"*\"}]}",
            "{\"version\":\"2.0\",\"principal\":7,\"statement\":[]}",
            "{\"version\":\"2.0\",\"statement\":[{\"effect\":\"allow\",\"action\":\"*\",\"resource\":\"*\",\"condition\":{\"for_any_value:\":{\"k\":\"v\"}}}]}",
            "\u{0}\u{ffff}", "{\"Version\":\"1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"é:ü\",\"Resource\":\"acs:é\"}]}",
        ];
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        for text in weird.iter().copied().chain([deep.as_str()]) {
            for g in [Grammar::Ram, Grammar::Cam] {
                let _ = parse(g, text);
                let _ = parse_trust(g, text);
            }
        }
        for s in [
            "",
            "Z",
            "2019-08-12T17:00:00+",
            "2019-08-12T17:00:00+08:0",
            "2019-08-12T17:00:00.1234567890123Z",
            "é",
        ] {
            let _ = parse_date_millis(s);
        }
    }

    #[test]
    fn ip_blocks_parse_v4_v6_and_single_addresses() {
        let net = IpNet::parse("10.0.0.0/8").expect("test input");
        assert!(net.contains("10.1.2.3".parse().expect("test input")));
        assert!(!net.contains("11.0.0.1".parse().expect("test input")));
        assert!(net.contains("::ffff:10.0.0.1".parse().expect("test input")));
        assert!(IpNet::parse("0.0.0.0/0")
            .expect("test input")
            .contains("1.2.3.4".parse().expect("test input")));
        let v6 = IpNet::parse("2001:db8::/32").expect("test input");
        assert!(v6.contains("2001:db8::1".parse().expect("test input")));
        assert!(!v6.contains("10.0.0.1".parse().expect("test input")));
        assert!(IpNet::parse("10.0.0.1")
            .expect("test input")
            .contains("10.0.0.1".parse().expect("test input")));
        assert!(IpNet::parse("10.0.0.1/").is_none());
        assert!(IpNet::parse("10.0.0.1/+3").is_none());
        assert!(IpNet::parse("::/129").is_none());
    }
}
