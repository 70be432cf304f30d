//! Evaluation of parsed policies against one request.
//!
//! Both clouds evaluate the same way (access.md §1.4, §3.3): deny by default; for each
//! requested resource, a matching Deny statement refuses it, otherwise a matching Allow
//! statement grants it. A batch request is allowed only when every resource is. A role
//! session is the intersection of the role's policies and the session policy, and an
//! explicit deny in either wins.
//!
//! Matching allocates nothing: action patterns were lower-cased at parse time, condition
//! values of typed operators were parsed at parse time, context values are read in place.
//! Only the [`Decision`] that comes out owns strings.

use std::net::IpAddr;

use super::glob;
use super::policy::{
    parse_bool, parse_date_millis, parse_number, Cmp, Condition, Effect, Grammar, IpNet, Names,
};
use super::policy::{Op, Parsed, Policy, PrincipalKind, Qualifier, Statement};

/// The condition keys of one request and their values (a key may carry several).
///
/// Keys are stored as given; RAM lookups compare them case-insensitively, CAM lookups
/// exactly (access.md §3.2). A request carries a handful of keys, so they sit in a small
/// vector that is scanned.
#[derive(Debug, Clone, Default)]
pub struct Context {
    entries: Vec<(String, Vec<String>)>,
}

impl Context {
    /// An empty context: every condition key is absent.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` (e.g. `acs:SourceIp`, `acs:CurrentTime`, `qcs:ip`, `cvm:region`) to
    /// `values`, replacing what the exact same key held.
    pub fn set(&mut self, key: &str, values: Vec<String>) {
        match self.entries.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = values,
            None => self.entries.push((key.to_string(), values)),
        }
    }

    /// The values of `key`, or `None` when the request does not carry it.
    pub fn get(&self, key: &str, ignore_case: bool) -> Option<&[String]> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .or_else(|| {
                if ignore_case {
                    self.entries
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(key))
                } else {
                    None
                }
            })
            .map(|(_, v)| v.as_slice())
    }
}

/// A policy with the name and kind an explanation cites it by.
#[derive(Debug, Clone, Copy)]
pub struct Named<'a> {
    /// The policy name (`AliyunIMMReadOnlyAccess`, `my-policy`).
    pub name: &'a str,
    /// Free text for explanations: `System`, `Custom`, `Session`, `Inline`...
    pub kind: &'a str,
    /// The parsed policy.
    pub policy: &'a Policy,
}

/// The result of an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every resource is allowed.
    Allow,
    /// Some resource is matched by no Allow statement (and none by a Deny).
    ImplicitDeny,
    /// Some resource is matched by a Deny statement.
    ExplicitDeny,
}

/// The outcome of an evaluation, with what an explanation needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Allowed or not, and how.
    pub outcome: Outcome,
    /// The resource refused: the first explicitly denied one, else the first one no
    /// statement allowed. `None` when allowed (or when no resource was given).
    pub resource: Option<String>,
    /// `(policy name, policy kind, statement index)` of the deny that refused `resource`,
    /// or of the identity Allow that granted the first resource; `None` on an implicit deny.
    pub statement: Option<(String, String, usize)>,
    /// Condition keys absent from the context that kept a statement from matching, where
    /// every other test of that statement passed; in the order first met, without repeats.
    pub missing_keys: Vec<String>,
}

/// Evaluates `action` on each of `resources` against identity policies.
///
/// `owner_account` is the account the resources belong to: CAM resources with an empty
/// account segment mean `uin/<owner_account>`. An empty `resources` slice is an implicit
/// deny (there is nothing to grant).
pub fn evaluate(
    grammar: Grammar,
    policies: &[Named<'_>],
    action: &str,
    resources: &[String],
    ctx: &Context,
    owner_account: &str,
) -> Decision {
    decide(
        grammar,
        policies,
        None,
        None,
        action,
        resources,
        ctx,
        owner_account,
    )
}

/// The statements of `policies` whose `Action`/`NotAction` covers `action`, as (policy,
/// statement) positions: the only ones [`evaluate_prepared`] looks at. A caller that evaluates
/// the same policies for the same action again and again (a sub-user's requests) computes
/// this once and keeps it.
pub fn candidates(policies: &[Named<'_>], action: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (pi, named) in policies.iter().enumerate() {
        for (si, s) in named.policy.statements.iter().enumerate() {
            if actions_match(&s.actions, action) {
                out.push((pi, si));
            }
        }
    }
    out
}

/// [`evaluate_session`] over only the identity statements `identity_candidates` names
/// (from [`candidates`] for the same policies and action): the same decision, without
/// matching every statement's actions again.
#[allow(clippy::too_many_arguments)]
pub fn evaluate_prepared(
    grammar: Grammar,
    identity: &[Named<'_>],
    identity_candidates: &[(usize, usize)],
    session: Option<&Named<'_>>,
    action: &str,
    resources: &[String],
    ctx: &Context,
    owner_account: &str,
) -> Decision {
    decide(
        grammar,
        identity,
        Some(identity_candidates),
        session,
        action,
        resources,
        ctx,
        owner_account,
    )
}

/// Evaluates a role session: each resource must be allowed by the role's `identity`
/// policies *and*, when present, by the `session` policy (the AssumeRole `Policy`); an
/// explicit deny in either wins (the session policy is consulted first, as in RAM's
/// fixed order). Without a session policy this is [`evaluate`].
pub fn evaluate_session(
    grammar: Grammar,
    identity: &[Named<'_>],
    session: Option<&Named<'_>>,
    action: &str,
    resources: &[String],
    ctx: &Context,
    owner_account: &str,
) -> Decision {
    decide(
        grammar,
        identity,
        None,
        session,
        action,
        resources,
        ctx,
        owner_account,
    )
}

/// Whether a trust policy lets a caller assume the role.
///
/// `principal_arns` are every name the caller is known by: for Alibaba
/// `["acs:ram::123:root"]` for the root key, `["acs:ram::123:user/alice"]` for a user; for
/// Tencent `["qcs::cam::uin/123:root"]` or `["qcs::cam::uin/123:uin/456"]`; a service
/// caller passes its service name (`ecs.aliyuncs.com`). Principals compare
/// case-insensitively and may use wildcards.
///
/// A principal naming an account root (`acs:ram::123:root`, `qcs::cam::uin/123:root`)
/// admits every identity of that account (any name starting `acs:ram::123:` /
/// `qcs::cam::uin/123:`), as both clouds do when an account delegates a role to its own
/// users; each user still needs an identity policy allowing `sts:AssumeRole` (checked
/// separately with [`evaluate`]). A matching Deny statement refuses.
pub fn trust_allows(
    grammar: Grammar,
    trust: &Policy,
    principal_arns: &[String],
    action: &str,
    ctx: &Context,
) -> bool {
    let mut allowed = false;
    let mut missing = Vec::new();
    for s in &trust.statements {
        if (allowed && s.effect == Effect::Allow) || !actions_match(&s.actions, action) {
            continue;
        }
        let admitted = s.principals.iter().any(|p| match p.kind {
            PrincipalKind::Any => true,
            _ => principal_arns
                .iter()
                .any(|arn| principal_admits(&p.id, arn)),
        });
        if !admitted || !conditions_hold(grammar, &s.conditions, ctx, &mut missing) {
            continue;
        }
        match s.effect {
            Effect::Deny => return false,
            Effect::Allow => allowed = true,
        }
    }
    allowed
}

fn principal_admits(pattern: &str, arn: &str) -> bool {
    if glob::matches(pattern, arn, true) {
        return true;
    }
    // `<prefix>:root` admits every identity under `<prefix>:`.
    let Some(prefix) = pattern.strip_suffix("root") else {
        return false;
    };
    prefix.ends_with(':')
        && arn.len() > prefix.len()
        && arn.is_char_boundary(prefix.len())
        && arn[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// The verdict on one resource: `(policy index, statement index)` of the deciding statement.
enum Verdict {
    Deny(usize, usize),
    Allow(usize, usize),
    Unmatched,
}

#[allow(clippy::too_many_arguments)]
fn decide(
    grammar: Grammar,
    identity: &[Named<'_>],
    identity_candidates: Option<&[(usize, usize)]>,
    session: Option<&Named<'_>>,
    action: &str,
    resources: &[String],
    ctx: &Context,
    owner: &str,
) -> Decision {
    let mut missing = Vec::new();
    let mut first_unmatched: Option<&String> = None;
    let mut first_allow: Option<(usize, usize)> = None;
    let cite = |n: &Named<'_>, s: usize| Some((n.name.to_string(), n.kind.to_string(), s));
    for resource in resources {
        let session_verdict = session.map(|s| {
            judge(
                grammar,
                std::slice::from_ref(s),
                None,
                action,
                resource,
                ctx,
                owner,
                &mut missing,
            )
        });
        if let (Some(Verdict::Deny(_, si)), Some(named)) = (&session_verdict, session) {
            return Decision {
                outcome: Outcome::ExplicitDeny,
                resource: Some(resource.clone()),
                statement: cite(named, *si),
                missing_keys: missing,
            };
        }
        let identity_verdict = judge(
            grammar,
            identity,
            identity_candidates,
            action,
            resource,
            ctx,
            owner,
            &mut missing,
        );
        let session_ok = !matches!(session_verdict, Some(Verdict::Unmatched));
        match identity_verdict {
            Verdict::Deny(pi, si) => {
                return Decision {
                    outcome: Outcome::ExplicitDeny,
                    resource: Some(resource.clone()),
                    statement: cite(&identity[pi], si),
                    missing_keys: missing,
                }
            }
            Verdict::Allow(pi, si) if session_ok => {
                first_allow.get_or_insert((pi, si));
            }
            _ => {
                first_unmatched.get_or_insert(resource);
            }
        }
    }
    match (first_unmatched, first_allow) {
        (None, Some((pi, si))) => Decision {
            outcome: Outcome::Allow,
            resource: None,
            statement: cite(&identity[pi], si),
            missing_keys: missing,
        },
        (unmatched, _) => Decision {
            outcome: Outcome::ImplicitDeny,
            resource: unmatched.cloned(),
            statement: None,
            missing_keys: missing,
        },
    }
}

/// The verdict of `policies` on one resource: the first matching Deny, else the first
/// matching Allow.
#[allow(clippy::too_many_arguments)]
fn judge(
    grammar: Grammar,
    policies: &[Named<'_>],
    only: Option<&[(usize, usize)]>,
    action: &str,
    resource: &str,
    ctx: &Context,
    owner: &str,
    missing: &mut Vec<String>,
) -> Verdict {
    let mut allow = None;
    let mut consider = |pi: usize, si: usize, s: &Statement, allow: &mut Option<(usize, usize)>| {
        if allow.is_some() && s.effect == Effect::Allow {
            return None;
        }
        if !statement_matches(grammar, s, action, resource, ctx, owner, missing) {
            return None;
        }
        match s.effect {
            Effect::Deny => Some(Verdict::Deny(pi, si)),
            Effect::Allow => {
                *allow = Some((pi, si));
                None
            }
        }
    };
    match only {
        Some(list) => {
            for &(pi, si) in list {
                let Some(s) = policies.get(pi).and_then(|n| n.policy.statements.get(si)) else {
                    continue;
                };
                if let Some(v) = consider(pi, si, s, &mut allow) {
                    return v;
                }
            }
        }
        None => {
            for (pi, named) in policies.iter().enumerate() {
                for (si, s) in named.policy.statements.iter().enumerate() {
                    if let Some(v) = consider(pi, si, s, &mut allow) {
                        return v;
                    }
                }
            }
        }
    }
    match allow {
        Some((pi, si)) => Verdict::Allow(pi, si),
        None => Verdict::Unmatched,
    }
}

fn statement_matches(
    grammar: Grammar,
    s: &Statement,
    action: &str,
    resource: &str,
    ctx: &Context,
    owner: &str,
    missing: &mut Vec<String>,
) -> bool {
    if !actions_match(&s.actions, action) {
        return false;
    }
    match &s.resources {
        Some(names) if !resources_match(grammar, names, resource, owner) => return false,
        // A statement without Resource only exists in trust policies; it covers nothing here.
        None => return false,
        Some(_) => {}
    }
    conditions_hold(grammar, &s.conditions, ctx, missing)
}

fn actions_match(names: &Names, action: &str) -> bool {
    names
        .patterns
        .iter()
        .any(|p| glob::matches(p, action, true))
        != names.negated
}

fn resources_match(grammar: Grammar, names: &Names, resource: &str, owner: &str) -> bool {
    let hit = names.patterns.iter().any(|p| match grammar {
        Grammar::Ram => glob::matches(p, resource, false),
        Grammar::Cam => cam_resource_matches(p, resource, owner),
    });
    hit != names.negated
}

fn six(s: &str) -> Option<[&str; 6]> {
    let mut it = s.splitn(6, ':');
    Some([
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
    ])
}

/// CAM six-segment matching (access.md §3.1): an empty project, service or region in the
/// policy means any; an empty account means the owner's `uin/<owner>`; other segments are
/// globs. A request with no project only matches a policy project that is empty, all `*`,
/// or `id/0` (the default project).
fn cam_resource_matches(pattern: &str, resource: &str, owner: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let (Some(p), Some(r)) = (six(pattern), six(resource)) else {
        return glob::matches(pattern, resource, false);
    };
    let project = if p[1].is_empty() {
        true
    } else if r[1].is_empty() {
        p[1] == "id/0" || p[1].bytes().all(|b| b == b'*')
    } else {
        glob::matches(p[1], r[1], false)
    };
    let account = if p[4].is_empty() {
        r[4].strip_prefix("uin/") == Some(owner)
    } else {
        glob::matches(p[4], r[4], false)
    };
    let any_or = |pat: &str, text: &str| pat.is_empty() || glob::matches(pat, text, false);
    glob::matches(p[0], r[0], false)
        && project
        && any_or(p[2], r[2])
        && any_or(p[3], r[3])
        && account
        && glob::matches(p[5], r[5], false)
}

/// Whether every condition holds. When the only failing conditions are ones whose key is
/// absent, those keys are added to `missing`.
fn conditions_hold(
    grammar: Grammar,
    conditions: &[Condition],
    ctx: &Context,
    missing: &mut Vec<String>,
) -> bool {
    let mut holds = true;
    let mark = missing.len();
    for c in conditions {
        let values = ctx.get(&c.key, grammar == Grammar::Ram);
        if condition_holds(c, values) {
            continue;
        }
        holds = false;
        if values.is_some() {
            // A present key failed: supplying the absent ones would not help.
            missing.truncate(mark);
            return false;
        }
        if !missing.iter().any(|k| k == &c.key) {
            missing.push(c.key.clone());
        }
    }
    holds
}

fn condition_holds(c: &Condition, values: Option<&[String]>) -> bool {
    let Some(values) = values else {
        if c.if_exists {
            return true;
        }
        return match (c.op, &c.parsed) {
            (Op::Null, Parsed::Bools(b)) => b.contains(&true),
            _ => match c.qualifier {
                Qualifier::ForAllValue => true,
                Qualifier::ForAnyValue => false,
                Qualifier::None => c.negated,
            },
        };
    };
    if let (Op::Null, Parsed::Bools(b)) = (c.op, &c.parsed) {
        return b.contains(&false);
    }
    match c.qualifier {
        Qualifier::None => values.iter().any(|v| value_matches(c, v)) != c.negated,
        Qualifier::ForAnyValue => values.iter().any(|v| value_matches(c, v) != c.negated),
        Qualifier::ForAllValue => values.iter().all(|v| value_matches(c, v) != c.negated),
    }
}

/// Whether one context value matches any of the condition's values (the positive test).
fn value_matches(c: &Condition, v: &str) -> bool {
    match (c.op, &c.parsed) {
        (Op::String, _) => c.values.iter().any(|p| p == v),
        (Op::StringIgnoreCase, _) => c.values.iter().any(|p| eq_ignore_case(p, v)),
        (Op::StringLike, _) => c.values.iter().any(|p| glob::matches(p, v, false)),
        (Op::Numeric(cmp), Parsed::Numbers(ns)) => {
            parse_number(v).is_some_and(|x| ns.iter().any(|n| compare(cmp, x, *n)))
        }
        (Op::Date(cmp), Parsed::Instants(ts)) => {
            parse_date_millis(v).is_some_and(|x| ts.iter().any(|t| compare(cmp, x, *t)))
        }
        (Op::Bool, Parsed::Bools(bs)) => parse_bool(v).is_some_and(|x| bs.contains(&x)),
        (Op::Ip, Parsed::Nets(nets)) => v
            .trim()
            .parse::<IpAddr>()
            .is_ok_and(|ip| nets.iter().any(|n: &IpNet| n.contains(ip))),
        _ => false,
    }
}

fn compare<T: PartialOrd>(cmp: Cmp, context: T, policy: T) -> bool {
    match cmp {
        Cmp::Eq => context == policy,
        Cmp::Lt => context < policy,
        Cmp::Le => context <= policy,
        Cmp::Gt => context > policy,
        Cmp::Ge => context >= policy,
    }
}

fn eq_ignore_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.chars()
            .flat_map(char::to_lowercase)
            .eq(b.chars().flat_map(char::to_lowercase))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::policy::{parse, parse_trust};

    fn ram(text: &str) -> Policy {
        parse(Grammar::Ram, text).expect("test input")
    }

    fn cam(text: &str) -> Policy {
        parse(Grammar::Cam, text).expect("test input")
    }

    fn named<'a>(name: &'a str, policy: &'a Policy) -> Named<'a> {
        Named {
            name,
            kind: "Custom",
            policy,
        }
    }

    fn res(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn ram_allowed(policy: &Policy, action: &str, resource: &str, ctx: &Context) -> Outcome {
        evaluate(
            Grammar::Ram,
            &[named("p", policy)],
            action,
            &res(&[resource]),
            ctx,
            "123",
        )
        .outcome
    }

    /// A RAM Allow-all statement with one condition block.
    fn ram_cond(block: &str) -> Policy {
        ram(&format!(
            r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{block}}}]}}"#
        ))
    }

    fn cam_cond(block: &str) -> Policy {
        cam(&format!(
            r#"{{"version":"2.0","statement":[{{"effect":"allow","action":"*","resource":"*","condition":{block}}}]}}"#
        ))
    }

    fn holds(grammar: Grammar, p: &Policy, ctx: &Context) -> bool {
        evaluate(
            grammar,
            &[named("p", p)],
            "cvm:DescribeImages",
            &res(&["*"]),
            ctx,
            "123",
        )
        .outcome
            == Outcome::Allow
    }

    fn ctx(pairs: &[(&str, &[&str])]) -> Context {
        let mut c = Context::new();
        for (k, vs) in pairs {
            c.set(k, vs.iter().map(|s| s.to_string()).collect());
        }
        c
    }

    const IMM_SAMPLE: &str = r#"{"Version":"1","Statement":[{"Effect":"Allow",
        "Action":["imm:List*","imm:Get*"],
        "Resource":"acs:imm:*:150910xxxxxxxxxx:project/imm-test-doc*"}]}"#;

    #[test]
    fn imm_sample_covers_a_dataset_inside_project_imm_test_doc1() {
        let p = ram(IMM_SAMPLE);
        let c = Context::new();
        let dataset = "acs:imm:cn-hangzhou:150910xxxxxxxxxx:project/imm-test-doc1/dataset/faces";
        assert_eq!(
            ram_allowed(&p, "imm:GetDataset", dataset, &c),
            Outcome::Allow
        );
        assert_eq!(
            ram_allowed(&p, "imm:ListFigureClusters", dataset, &c),
            Outcome::Allow
        );
        assert_eq!(
            ram_allowed(&p, "imm:UpdateFigureCluster", dataset, &c),
            Outcome::ImplicitDeny
        );
        assert_eq!(
            ram_allowed(
                &p,
                "imm:GetDataset",
                "acs:imm:cn-hangzhou:150910xxxxxxxxxx:project/other",
                &c
            ),
            Outcome::ImplicitDeny
        );
        assert_eq!(
            ram_allowed(
                &p,
                "imm:GetDataset",
                "acs:imm:cn-hangzhou:999:project/imm-test-doc1",
                &c
            ),
            Outcome::ImplicitDeny
        );
    }

    #[test]
    fn allowed_decision_cites_the_matching_allow_statement() {
        let p = ram(IMM_SAMPLE);
        let d = evaluate(
            Grammar::Ram,
            &[Named {
                name: "imm-read",
                kind: "Custom",
                policy: &p,
            }],
            "imm:GetProject",
            &res(&["acs:imm:cn-beijing:150910xxxxxxxxxx:project/imm-test-doc"]),
            &Context::new(),
            "150910xxxxxxxxxx",
        );
        assert_eq!(d.outcome, Outcome::Allow);
        assert_eq!(d.resource, None);
        assert_eq!(
            d.statement,
            Some(("imm-read".to_string(), "Custom".to_string(), 0))
        );
    }

    #[test]
    fn default_is_deny_with_no_policies_or_no_resources() {
        let d = evaluate(
            Grammar::Ram,
            &[],
            "imm:GetProject",
            &res(&["acs:imm:*:1:project/a"]),
            &Context::new(),
            "1",
        );
        assert_eq!(d.outcome, Outcome::ImplicitDeny);
        assert_eq!(d.resource.as_deref(), Some("acs:imm:*:1:project/a"));
        assert_eq!(d.statement, None);
        let p =
            ram(r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#);
        let d = evaluate(
            Grammar::Ram,
            &[named("all", &p)],
            "imm:GetProject",
            &[],
            &Context::new(),
            "1",
        );
        assert_eq!(d.outcome, Outcome::ImplicitDeny);
    }

    #[test]
    fn explicit_deny_beats_allow_across_policies() {
        let allow = ram(
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"imm:*","Resource":"*"}]}"#,
        );
        let deny = ram(
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"imm:List*","Resource":"*"},
                {"Effect":"Deny","Action":"imm:UpdateFigureCluster","Resource":"*"}]}"#,
        );
        let d = evaluate(
            Grammar::Ram,
            &[
                named("allow", &allow),
                Named {
                    name: "guard",
                    kind: "System",
                    policy: &deny,
                },
            ],
            "imm:UpdateFigureCluster",
            &res(&["acs:imm:cn-hangzhou:1:project/p"]),
            &Context::new(),
            "1",
        );
        assert_eq!(d.outcome, Outcome::ExplicitDeny);
        assert_eq!(
            d.statement,
            Some(("guard".to_string(), "System".to_string(), 1))
        );
        assert_eq!(
            d.resource.as_deref(),
            Some("acs:imm:cn-hangzhou:1:project/p")
        );
    }

    #[test]
    fn not_action_covers_every_action_except_those_listed() {
        let p = ram(
            r#"{"Version":"1","Statement":[{"Effect":"Allow","NotAction":["imm:Delete*","ram:*"],"Resource":"*"}]}"#,
        );
        let c = Context::new();
        assert_eq!(
            ram_allowed(&p, "imm:GetProject", "acs:imm:*:1:project/a", &c),
            Outcome::Allow
        );
        assert_eq!(
            ram_allowed(&p, "imm:DeleteProject", "acs:imm:*:1:project/a", &c),
            Outcome::ImplicitDeny
        );
        assert_eq!(
            ram_allowed(&p, "ram:CreateUser", "*", &c),
            Outcome::ImplicitDeny
        );
    }

    #[test]
    fn not_resource_covers_every_resource_except_those_listed() {
        let p = ram(
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","NotResource":"acs:imm:*:1:project/secret*"}]}"#,
        );
        let c = Context::new();
        assert_eq!(
            ram_allowed(&p, "imm:GetProject", "acs:imm:x:1:project/open", &c),
            Outcome::Allow
        );
        assert_eq!(
            ram_allowed(&p, "imm:GetProject", "acs:imm:x:1:project/secret-1", &c),
            Outcome::ImplicitDeny
        );
    }

    #[test]
    fn question_mark_in_a_resource_matches_exactly_one_character() {
        let p = ram(
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"acs:imm:*:1:project/p?"}]}"#,
        );
        let c = Context::new();
        assert_eq!(
            ram_allowed(&p, "imm:GetProject", "acs:imm:r:1:project/p1", &c),
            Outcome::Allow
        );
        assert_eq!(
            ram_allowed(&p, "imm:GetProject", "acs:imm:r:1:project/p", &c),
            Outcome::ImplicitDeny
        );
        assert_eq!(
            ram_allowed(&p, "imm:GetProject", "acs:imm:r:1:project/p12", &c),
            Outcome::ImplicitDeny
        );
    }

    #[test]
    fn actions_match_case_insensitively_and_resources_case_sensitively() {
        let p = ram(
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"IMM:getproject","Resource":"acs:imm:*:1:project/P"}]}"#,
        );
        let c = Context::new();
        assert_eq!(
            ram_allowed(&p, "imm:GetProject", "acs:imm:r:1:project/P", &c),
            Outcome::Allow
        );
        assert_eq!(
            ram_allowed(&p, "imm:GETPROJECT", "acs:imm:r:1:project/P", &c),
            Outcome::Allow
        );
        assert_eq!(
            ram_allowed(&p, "imm:GetProject", "acs:imm:r:1:project/p", &c),
            Outcome::ImplicitDeny
        );
    }

    #[test]
    fn batch_is_denied_when_one_resource_is_and_the_explicit_deny_is_reported() {
        let p = ram(
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"imm:*","Resource":"acs:imm:*:1:project/a/*"},
                {"Effect":"Deny","Action":"imm:*","Resource":"acs:imm:*:1:project/a/dataset/locked"}]}"#,
        );
        let c = Context::new();
        let all_ok = res(&[
            "acs:imm:r:1:project/a/dataset/x",
            "acs:imm:r:1:project/a/dataset/y",
        ]);
        assert_eq!(
            evaluate(
                Grammar::Ram,
                &[named("p", &p)],
                "imm:GetDataset",
                &all_ok,
                &c,
                "1"
            )
            .outcome,
            Outcome::Allow
        );
        // An implicitly denied resource first, then an explicitly denied one: the explicit one is reported.
        let mixed = res(&[
            "acs:imm:r:1:project/a/dataset/x",
            "acs:imm:r:1:project/b",
            "acs:imm:r:1:project/a/dataset/locked",
        ]);
        let d = evaluate(
            Grammar::Ram,
            &[named("p", &p)],
            "imm:GetDataset",
            &mixed,
            &c,
            "1",
        );
        assert_eq!(d.outcome, Outcome::ExplicitDeny);
        assert_eq!(
            d.resource.as_deref(),
            Some("acs:imm:r:1:project/a/dataset/locked")
        );
        assert_eq!(
            d.statement,
            Some(("p".to_string(), "Custom".to_string(), 1))
        );
        let implicit = res(&["acs:imm:r:1:project/a/dataset/x", "acs:imm:r:1:project/b"]);
        let d = evaluate(
            Grammar::Ram,
            &[named("p", &p)],
            "imm:GetDataset",
            &implicit,
            &c,
            "1",
        );
        assert_eq!(d.outcome, Outcome::ImplicitDeny);
        assert_eq!(d.resource.as_deref(), Some("acs:imm:r:1:project/b"));
    }

    #[test]
    fn session_policy_intersects_with_the_role_policies() {
        let role = ram(
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"imm:*","Resource":"*"}]}"#,
        );
        let session = ram(
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"imm:GetFigureCluster","Resource":"*"}]}"#,
        );
        let s = Named {
            name: "session",
            kind: "Session",
            policy: &session,
        };
        let r = res(&["acs:imm:cn-hangzhou:1:project/p/dataset/d"]);
        let c = Context::new();
        let run = |action: &str, session: Option<&Named<'_>>| {
            evaluate_session(
                Grammar::Ram,
                &[named("role", &role)],
                session,
                action,
                &r,
                &c,
                "1",
            )
            .outcome
        };
        assert_eq!(run("imm:GetFigureCluster", Some(&s)), Outcome::Allow);
        assert_eq!(
            run("imm:UpdateFigureCluster", Some(&s)),
            Outcome::ImplicitDeny
        );
        assert_eq!(run("imm:UpdateFigureCluster", None), Outcome::Allow);
        // The session cannot add what the role lacks.
        let wide =
            ram(r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#);
        let w = Named {
            name: "session",
            kind: "Session",
            policy: &wide,
        };
        assert_eq!(run("ecs:RunInstances", Some(&w)), Outcome::ImplicitDeny);
    }

    #[test]
    fn session_explicit_deny_wins_and_is_cited() {
        let role = ram(
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"imm:*","Resource":"*"}]}"#,
        );
        let session = ram(
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"imm:Delete*","Resource":"*"}]}"#,
        );
        let s = Named {
            name: "session",
            kind: "Session",
            policy: &session,
        };
        let d = evaluate_session(
            Grammar::Ram,
            &[named("role", &role)],
            Some(&s),
            "imm:DeleteProject",
            &res(&["*"]),
            &Context::new(),
            "1",
        );
        assert_eq!(d.outcome, Outcome::ExplicitDeny);
        assert_eq!(
            d.statement,
            Some(("session".to_string(), "Session".to_string(), 1))
        );
    }

    #[test]
    fn ram_string_operators_and_case_insensitive_keys() {
        let c = ctx(&[("acs:UserAgent", &["aliyun-cli/3.0"])]);
        assert!(holds(
            Grammar::Ram,
            &ram_cond(r#"{"StringEquals":{"acs:useragent":["x","aliyun-cli/3.0"]}}"#),
            &c
        ));
        assert!(!holds(
            Grammar::Ram,
            &ram_cond(r#"{"StringEquals":{"acs:UserAgent":"ALIYUN-CLI/3.0"}}"#),
            &c
        ));
        assert!(holds(
            Grammar::Ram,
            &ram_cond(r#"{"StringEqualsIgnoreCase":{"acs:UserAgent":"ALIYUN-CLI/3.0"}}"#),
            &c
        ));
        assert!(!holds(
            Grammar::Ram,
            &ram_cond(r#"{"StringNotEqualsIgnoreCase":{"acs:UserAgent":"ALIYUN-CLI/3.0"}}"#),
            &c
        ));
        assert!(holds(
            Grammar::Ram,
            &ram_cond(r#"{"StringNotEquals":{"acs:UserAgent":"terraform"}}"#),
            &c
        ));
        assert!(holds(
            Grammar::Ram,
            &ram_cond(r#"{"StringLike":{"acs:UserAgent":"aliyun-cli/?.*"}}"#),
            &c
        ));
        assert!(!holds(
            Grammar::Ram,
            &ram_cond(r#"{"StringNotLike":{"acs:UserAgent":"aliyun-*"}}"#),
            &c
        ));
    }

    #[test]
    fn missing_key_fails_positive_operators_passes_negated_ones_and_is_reported() {
        let empty = Context::new();
        let p = ram_cond(r#"{"StringEquals":{"acs:UserAgent":"x"}}"#);
        let d = evaluate(
            Grammar::Ram,
            &[named("p", &p)],
            "imm:GetProject",
            &res(&["*"]),
            &empty,
            "1",
        );
        assert_eq!(d.outcome, Outcome::ImplicitDeny);
        assert_eq!(d.missing_keys, vec!["acs:UserAgent"]);
        assert!(holds(
            Grammar::Ram,
            &ram_cond(r#"{"StringNotEquals":{"acs:UserAgent":"x"}}"#),
            &empty
        ));
        assert!(holds(
            Grammar::Ram,
            &ram_cond(r#"{"NotIpAddress":{"acs:SourceIp":"10.0.0.0/8"}}"#),
            &empty
        ));
        assert!(!holds(
            Grammar::Ram,
            &ram_cond(r#"{"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}}"#),
            &empty
        ));
        // A statement failing on a present key too does not report the absent one.
        let c = ctx(&[("acs:SourceIp", &["192.168.0.1"])]);
        let p = ram_cond(
            r#"{"StringEquals":{"acs:UserAgent":"x"},"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}}"#,
        );
        let d = evaluate(
            Grammar::Ram,
            &[named("p", &p)],
            "imm:GetProject",
            &res(&["*"]),
            &c,
            "1",
        );
        assert!(d.missing_keys.is_empty(), "{:?}", d.missing_keys);
    }

    #[test]
    fn values_are_ored_keys_and_operators_are_anded() {
        let p = ram_cond(
            r#"{"IpAddress":{"acs:SourceIp":["10.0.0.0/8","192.168.1.1"]},"Bool":{"acs:SecureTransport":"true","acs:MFAPresent":"true"}}"#,
        );
        let good = ctx(&[
            ("acs:SourceIp", &["192.168.1.1"]),
            ("acs:SecureTransport", &["true"]),
            ("acs:MFAPresent", &["TRUE"]),
        ]);
        assert!(holds(Grammar::Ram, &p, &good));
        let no_mfa = ctx(&[
            ("acs:SourceIp", &["10.9.9.9"]),
            ("acs:SecureTransport", &["true"]),
            ("acs:MFAPresent", &["false"]),
        ]);
        assert!(!holds(Grammar::Ram, &p, &no_mfa));
        let bad_ip = ctx(&[
            ("acs:SourceIp", &["192.168.1.2"]),
            ("acs:SecureTransport", &["true"]),
            ("acs:MFAPresent", &["true"]),
        ]);
        assert!(!holds(Grammar::Ram, &p, &bad_ip));
    }

    #[test]
    fn ram_numeric_date_bool_and_ip_operators() {
        let c = ctx(&[
            ("n", &["5"]),
            ("acs:CurrentTime", &["2026-12-01T10:00:00Z"]),
            ("acs:SecureTransport", &["false"]),
            ("acs:SourceIp", &["2001:db8::7"]),
        ]);
        for (block, expect) in [
            (r#"{"NumericEquals":{"n":"5"}}"#, true),
            (r#"{"NumericNotEquals":{"n":5}}"#, false),
            (r#"{"NumericLessThan":{"n":"5.5"}}"#, true),
            (r#"{"NumericLessThanEquals":{"n":"5"}}"#, true),
            (r#"{"NumericGreaterThan":{"n":"5"}}"#, false),
            (r#"{"NumericGreaterThanEquals":{"n":"4"}}"#, true),
            // 18:00+08:00 is 10:00Z: the same instant.
            (
                r#"{"DateEquals":{"acs:CurrentTime":"2026-12-01T18:00:00+08:00"}}"#,
                true,
            ),
            (
                r#"{"DateNotEquals":{"acs:CurrentTime":"2026-12-01T18:00:00+08:00"}}"#,
                false,
            ),
            (
                r#"{"DateLessThan":{"acs:CurrentTime":"2027-01-01T00:00:00Z"}}"#,
                true,
            ),
            (
                r#"{"DateLessThanEquals":{"acs:CurrentTime":"2026-12-01T10:00:00.000Z"}}"#,
                true,
            ),
            (
                r#"{"DateGreaterThan":{"acs:CurrentTime":"2026-12-01T10:00:00Z"}}"#,
                false,
            ),
            (
                r#"{"DateGreaterThanEquals":{"acs:CurrentTime":"2026-12-01T05:00:00-05:00"}}"#,
                true,
            ),
            (r#"{"Bool":{"acs:SecureTransport":"false"}}"#, true),
            (r#"{"Bool":{"acs:SecureTransport":true}}"#, false),
            (r#"{"IpAddress":{"acs:SourceIp":"2001:db8::/32"}}"#, true),
            (
                r#"{"NotIpAddress":{"acs:SourceIp":"2001:db8::/32"}}"#,
                false,
            ),
            (r#"{"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}}"#, false),
        ] {
            assert_eq!(holds(Grammar::Ram, &ram_cond(block), &c), expect, "{block}");
        }
        // A context value the operator cannot read does not match.
        let garbage = ctx(&[("n", &["five"])]);
        assert!(!holds(
            Grammar::Ram,
            &ram_cond(r#"{"NumericEquals":{"n":"5"}}"#),
            &garbage
        ));
    }

    #[test]
    fn cam_operators_of_every_family() {
        let c = ctx(&[
            ("qcs:ip", &["10.1.2.3"]),
            ("qcs:current_time", &["2026-12-01T10:00:00Z"]),
            ("qcs:secure_transport", &["true"]),
            ("cvm:region", &["ap-guangzhou"]),
            ("cvm:disk_size", &["50"]),
        ]);
        for (block, expect) in [
            (r#"{"string_equal":{"cvm:region":"ap-guangzhou"}}"#, true),
            (
                r#"{"string_not_equal":{"cvm:region":"ap-guangzhou"}}"#,
                false,
            ),
            (
                r#"{"string_equal_ignore_case":{"cvm:region":"AP-GUANGZHOU"}}"#,
                true,
            ),
            (
                r#"{"string_not_equal_ignore_case":{"cvm:region":"AP-GUANGZHOU"}}"#,
                false,
            ),
            (r#"{"string_like":{"cvm:region":"ap-*"}}"#, true),
            (r#"{"string_not_like":{"cvm:region":"ap-*"}}"#, false),
            (r#"{"numeric_equal":{"cvm:disk_size":"50"}}"#, true),
            (r#"{"numeric_not_equal":{"cvm:disk_size":"50"}}"#, false),
            (r#"{"numeric_less_than":{"cvm:disk_size":"50"}}"#, false),
            (
                r#"{"numeric_less_than_equal":{"cvm:disk_size":"50"}}"#,
                true,
            ),
            (r#"{"numeric_greater_than":{"cvm:disk_size":"10"}}"#, true),
            (
                r#"{"numeric_greater_than_equal":{"cvm:disk_size":"51"}}"#,
                false,
            ),
            (
                r#"{"date_equal":{"qcs:current_time":"2026-12-01T10:00:00Z"}}"#,
                true,
            ),
            (
                r#"{"date_not_equal":{"qcs:current_time":"2026-12-01T10:00:00Z"}}"#,
                false,
            ),
            (
                r#"{"date_less_than":{"qcs:current_time":"2026-12-01T10:00:01Z"}}"#,
                true,
            ),
            (
                r#"{"date_less_than_equal":{"qcs:current_time":"2026-12-01T09:00:00Z"}}"#,
                false,
            ),
            (
                r#"{"date_greater_than":{"qcs:current_time":"2026-01-01T00:00:00+08:00"}}"#,
                true,
            ),
            (
                r#"{"date_greater_than_equal":{"qcs:current_time":"2026-12-01T10:00:00Z"}}"#,
                true,
            ),
            (r#"{"bool_equal":{"qcs:secure_transport":"true"}}"#, true),
            (r#"{"ip_equal":{"qcs:ip":"10.0.0.0/8"}}"#, true),
            (r#"{"ip_not_equal":{"qcs:ip":"10.0.0.0/8"}}"#, false),
            (r#"{"null_equal":{"qcs:ip":"false"}}"#, true),
            (r#"{"null_equal":{"qcs:ip":"true"}}"#, false),
            (r#"{"null_equal":{"qcs:request_tag":"true"}}"#, true),
        ] {
            assert_eq!(holds(Grammar::Cam, &cam_cond(block), &c), expect, "{block}");
        }
    }

    #[test]
    fn cam_condition_keys_are_case_sensitive() {
        let c = ctx(&[("cvm:region", &["ap-guangzhou"])]);
        assert!(!holds(
            Grammar::Cam,
            &cam_cond(r#"{"string_equal":{"CVM:Region":"ap-guangzhou"}}"#),
            &c
        ));
    }

    #[test]
    fn cam_if_exist_holds_when_the_key_is_absent_and_tests_it_when_present() {
        let p = cam_cond(r#"{"ip_equal_if_exist":{"qcs:ip":"10.0.0.0/8"}}"#);
        assert!(holds(Grammar::Cam, &p, &Context::new()));
        assert!(holds(Grammar::Cam, &p, &ctx(&[("qcs:ip", &["10.0.0.1"])])));
        assert!(!holds(Grammar::Cam, &p, &ctx(&[("qcs:ip", &["11.0.0.1"])])));
        // Without the suffix the absent key fails the statement.
        assert!(!holds(
            Grammar::Cam,
            &cam_cond(r#"{"ip_equal":{"qcs:ip":"10.0.0.0/8"}}"#),
            &Context::new()
        ));
    }

    #[test]
    fn cam_for_any_value_and_for_all_value_over_multi_valued_keys() {
        let tags = ctx(&[("qcs:resource_tag", &["env&prod", "team&a"])]);
        let only_prod = ctx(&[("qcs:resource_tag", &["env&prod"])]);
        let none = Context::new();
        let any = cam_cond(r#"{"for_any_value:string_equal":{"qcs:resource_tag":["env&prod"]}}"#);
        assert!(holds(Grammar::Cam, &any, &tags));
        assert!(!holds(
            Grammar::Cam,
            &any,
            &ctx(&[("qcs:resource_tag", &["env&dev"])])
        ));
        assert!(
            !holds(Grammar::Cam, &any, &none),
            "for_any_value on an absent key is false"
        );
        let all = cam_cond(
            r#"{"for_all_value:string_equal":{"qcs:resource_tag":["env&prod","env&dev"]}}"#,
        );
        assert!(!holds(Grammar::Cam, &all, &tags), "team&a is not listed");
        assert!(holds(Grammar::Cam, &all, &only_prod));
        assert!(
            holds(Grammar::Cam, &all, &none),
            "for_all_value on an absent key is true"
        );
        let all_not =
            cam_cond(r#"{"for_all_value:string_not_equal":{"qcs:resource_tag":["env&prod"]}}"#);
        assert!(!holds(Grammar::Cam, &all_not, &tags));
        assert!(holds(
            Grammar::Cam,
            &all_not,
            &ctx(&[("qcs:resource_tag", &["env&dev"])])
        ));
    }

    fn cam_allowed(resource_pattern: &str, request: &str) -> bool {
        let p = cam(&format!(
            r#"{{"version":"2.0","statement":[{{"effect":"allow","action":"name/cvm:*","resource":"{resource_pattern}"}}]}}"#
        ));
        evaluate(
            Grammar::Cam,
            &[named("p", &p)],
            "cvm:ModifyImageAttribute",
            &res(&[request]),
            &Context::new(),
            "123",
        )
        .outcome
            == Outcome::Allow
    }

    #[test]
    fn cam_empty_region_segment_matches_any_region() {
        assert!(cam_allowed(
            "qcs::cvm::uin/123:image/img-1",
            "qcs::cvm:ap-guangzhou:uin/123:image/img-1"
        ));
        assert!(cam_allowed(
            "qcs::cvm::uin/123:image/img-1",
            "qcs::cvm:ap-shanghai:uin/123:image/img-1"
        ));
        assert!(!cam_allowed(
            "qcs::cvm::uin/123:image/img-1",
            "qcs::cvm:ap-shanghai:uin/123:image/img-2"
        ));
        assert!(!cam_allowed(
            "qcs::cvm:ap-beijing:uin/123:image/img-1",
            "qcs::cvm:ap-shanghai:uin/123:image/img-1"
        ));
        assert!(cam_allowed(
            "qcs::cvm:ap-*:uin/123:image/img-1",
            "qcs::cvm:ap-shanghai:uin/123:image/img-1"
        ));
    }

    #[test]
    fn cam_empty_account_segment_means_the_owner_account() {
        assert!(cam_allowed(
            "qcs::cvm:::image/*",
            "qcs::cvm:ap-guangzhou:uin/123:image/img-abc"
        ));
        assert!(!cam_allowed(
            "qcs::cvm:::image/*",
            "qcs::cvm:ap-guangzhou:uin/999:image/img-abc"
        ));
        assert!(!cam_allowed(
            "qcs::cvm:::instance/*",
            "qcs::cvm:ap-guangzhou:uin/123:image/img-abc"
        ));
        assert!(cam_allowed(
            "qcs::::uin/123:image/*",
            "qcs::cvm:ap-guangzhou:uin/123:image/img-abc"
        ));
    }

    #[test]
    fn cam_project_segment_matches_empty_star_or_default_project_only() {
        let r = "qcs::cvm:ap-guangzhou:uin/123:image/img-abc";
        assert!(cam_allowed("qcs:id/0:cvm::uin/123:image/*", r));
        assert!(cam_allowed("qcs:*:cvm::uin/123:image/*", r));
        assert!(!cam_allowed("qcs:id/7:cvm::uin/123:image/*", r));
        assert!(cam_allowed("*", r));
        // The last segment keeps further colons.
        assert!(cam_allowed(
            "qcs::cvm::uin/123:image/a:b*",
            "qcs::cvm:gz:uin/123:image/a:b:c"
        ));
    }

    #[test]
    fn cam_name_prefixed_wildcard_action_matches_and_permid_never_does() {
        let p = cam(
            r#"{"version":"2.0","statement":[{"effect":"allow","action":["name/cvm:Describe*","permid/280649"],"resource":"*"}]}"#,
        );
        let run = |action: &str| {
            evaluate(
                Grammar::Cam,
                &[named("p", &p)],
                action,
                &res(&["*"]),
                &Context::new(),
                "123",
            )
            .outcome
        };
        assert_eq!(run("cvm:DescribeImages"), Outcome::Allow);
        assert_eq!(run("cvm:describeimagequota"), Outcome::Allow);
        assert_eq!(run("cvm:ModifyImageAttribute"), Outcome::ImplicitDeny);
        let only_permid = cam(
            r#"{"version":"2.0","statement":[{"effect":"allow","action":"permid/1","resource":"*"}]}"#,
        );
        let d = evaluate(
            Grammar::Cam,
            &[named("p", &only_permid)],
            "cvm:DescribeImages",
            &res(&["*"]),
            &Context::new(),
            "1",
        );
        assert_eq!(d.outcome, Outcome::ImplicitDeny);
    }

    #[test]
    fn cam_deny_beats_allow() {
        let p = cam(
            r#"{"version":"2.0","statement":[{"effect":"allow","action":"cvm:*","resource":"*"},
               {"effect":"deny","action":"cvm:DeleteImages","resource":"qcs::cvm:::image/img-keep"}]}"#,
        );
        let r = res(&[
            "qcs::cvm:ap-guangzhou:uin/123:image/img-drop",
            "qcs::cvm:ap-guangzhou:uin/123:image/img-keep",
        ]);
        let d = evaluate(
            Grammar::Cam,
            &[named("p", &p)],
            "cvm:DeleteImages",
            &r,
            &Context::new(),
            "123",
        );
        assert_eq!(d.outcome, Outcome::ExplicitDeny);
        assert_eq!(
            d.resource.as_deref(),
            Some("qcs::cvm:ap-guangzhou:uin/123:image/img-keep")
        );
    }

    #[test]
    fn ram_trust_root_principal_admits_the_accounts_users_but_not_another_account() {
        let t = parse_trust(
            Grammar::Ram,
            r#"{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":["acs:ram::123:root"]}}],"Version":"1"}"#,
        )
        .expect("test input");
        let c = Context::new();
        assert!(trust_allows(
            Grammar::Ram,
            &t,
            &res(&["acs:ram::123:root"]),
            "sts:AssumeRole",
            &c
        ));
        assert!(trust_allows(
            Grammar::Ram,
            &t,
            &res(&["acs:ram::123:user/alice"]),
            "sts:AssumeRole",
            &c
        ));
        assert!(!trust_allows(
            Grammar::Ram,
            &t,
            &res(&["acs:ram::456:root"]),
            "sts:AssumeRole",
            &c
        ));
        assert!(!trust_allows(
            Grammar::Ram,
            &t,
            &res(&["acs:ram::1234:user/alice"]),
            "sts:AssumeRole",
            &c
        ));
        assert!(!trust_allows(
            Grammar::Ram,
            &t,
            &res(&["acs:ram::123:user/alice"]),
            "sts:GetCallerIdentity",
            &c
        ));
    }

    #[test]
    fn ram_trust_user_principal_admits_only_that_user_and_deny_wins() {
        let t = parse_trust(
            Grammar::Ram,
            r#"{"Version":"1","Statement":[
                {"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":["acs:ram::123:user/alice","acs:ram::123:user/bob"]}},
                {"Action":"sts:*","Effect":"Deny","Principal":{"RAM":"acs:ram::123:user/bob"}},
                {"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"ecs.aliyuncs.com"}}]}"#,
        )
        .expect("test input");
        let c = Context::new();
        assert!(trust_allows(
            Grammar::Ram,
            &t,
            &res(&["acs:ram::123:user/alice"]),
            "sts:AssumeRole",
            &c
        ));
        assert!(!trust_allows(
            Grammar::Ram,
            &t,
            &res(&["acs:ram::123:user/carol"]),
            "sts:AssumeRole",
            &c
        ));
        assert!(!trust_allows(
            Grammar::Ram,
            &t,
            &res(&["acs:ram::123:user/bob"]),
            "sts:AssumeRole",
            &c
        ));
        assert!(trust_allows(
            Grammar::Ram,
            &t,
            &res(&["ecs.aliyuncs.com"]),
            "sts:AssumeRole",
            &c
        ));
    }

    #[test]
    fn cam_trust_root_principal_admits_the_accounts_sub_users_but_not_another_account() {
        let t = parse_trust(
            Grammar::Cam,
            r#"{"version":"2.0","statement":[{"action":"name/sts:AssumeRole","effect":"allow","principal":{"qcs":["qcs::cam::uin/123:root"]}}]}"#,
        )
        .expect("test input");
        let c = Context::new();
        assert!(trust_allows(
            Grammar::Cam,
            &t,
            &res(&["qcs::cam::uin/123:root"]),
            "sts:AssumeRole",
            &c
        ));
        assert!(trust_allows(
            Grammar::Cam,
            &t,
            &res(&["qcs::cam::uin/123:uin/456"]),
            "sts:AssumeRole",
            &c
        ));
        assert!(!trust_allows(
            Grammar::Cam,
            &t,
            &res(&["qcs::cam::uin/789:uin/456"]),
            "sts:AssumeRole",
            &c
        ));
        assert!(!trust_allows(
            Grammar::Cam,
            &t,
            &res(&[]),
            "sts:AssumeRole",
            &c
        ));
    }

    #[test]
    fn trust_conditions_apply() {
        let t = parse_trust(
            Grammar::Ram,
            r#"{"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":"acs:ram::123:root"},
                "Condition":{"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}}}]}"#,
        )
        .expect("test input");
        let who = res(&["acs:ram::123:user/alice"]);
        assert!(trust_allows(
            Grammar::Ram,
            &t,
            &who,
            "sts:AssumeRole",
            &ctx(&[("acs:SourceIp", &["10.0.0.1"])])
        ));
        assert!(!trust_allows(
            Grammar::Ram,
            &t,
            &who,
            "sts:AssumeRole",
            &Context::new()
        ));
    }

    #[test]
    fn twenty_policies_of_ten_statements_evaluate_in_microseconds() {
        let statements: Vec<String> = (0..10)
            .map(|i| {
                format!(
                    r#"{{"Effect":"Allow","Action":["imm:List{i}*","imm:Get{i}*"],"Resource":"acs:imm:*:1:project/p{i}*",
                        "Condition":{{"IpAddress":{{"acs:SourceIp":"10.0.0.0/8"}}}}}}"#
                )
            })
            .collect();
        let text = format!(
            r#"{{"Version":"1","Statement":[{}]}}"#,
            statements.join(",")
        );
        let policies: Vec<Policy> = (0..20).map(|_| ram(&text)).collect();
        let named: Vec<Named<'_>> = policies.iter().map(|p| named("p", p)).collect();
        let c = ctx(&[("acs:SourceIp", &["10.0.0.1"])]);
        let r = res(&["acs:imm:cn-hangzhou:1:project/zzz/dataset/d"]);
        let start = std::time::Instant::now();
        let rounds = 200;
        for _ in 0..rounds {
            let d = evaluate(Grammar::Ram, &named, "imm:GetDataset", &r, &c, "1");
            assert_eq!(d.outcome, Outcome::ImplicitDeny);
        }
        let per = start.elapsed() / rounds;
        // Generous for an unoptimised build on a shared machine; a release build is far below.
        assert!(
            per < std::time::Duration::from_millis(2),
            "{per:?} per evaluation"
        );
    }
}
