//! The policy stage of the pipeline, shared by both clouds: who signed, the action, the
//! resources from the action's row of `resources.rs`, and the condition keys of the request;
//! the decision by `eval.rs`; its log line; and, when it denies, a [`Denial`] each dialect
//! writes in its cloud's form.
//!
//! Modes (`[access] mode`): `enforce` (the default) refuses what the policies do not allow and
//! any action without a row (fail closed); `soft` decides and logs, then allows; `off` does not
//! evaluate. Every decision is logged at debug level with the matched statement (or "implicit
//! deny"), the action, the resources and the condition keys the policies asked for that the
//! request did not have; a denial (or a soft-mode would-be denial) at info level.

use std::net::IpAddr;

use crate::clock::{iso8601_utc, now_ms};

use super::eval::{self, Context, Decision, Named, Outcome};
use super::model::Cloud;
use super::principal::{Principal, Verified};
use super::resources::{self, Row};
use super::service::{grammar, named, Access};

/// How the policy stage acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Policies are not evaluated: a sub-user or role session may do what the root key may.
    Off,
    /// Decide and log, then allow.
    Soft,
    /// Refuse what the policies do not allow.
    #[default]
    Enforce,
}

impl Mode {
    /// Parses `off`, `soft` or `enforce`.
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "off" => Some(Mode::Off),
            "soft" => Some(Mode::Soft),
            "enforce" => Some(Mode::Enforce),
            _ => None,
        }
    }
}

/// One request as the policy stage sees it.
pub struct Check<'a> {
    /// The cloud (its grammar, its condition keys).
    pub cloud: Cloud,
    /// The action prefix (`imm`, `cvm`, `ram`, `cam`, `sts`).
    pub service: &'static str,
    /// The action's wire name.
    pub action: &'a str,
    /// The product's action → resource table.
    pub table: &'static [Row],
    /// The request's region (empty for global products).
    pub region: &'a str,
    /// A parameter's values (see `resources::expand`).
    pub params: &'a dyn Fn(&str) -> Vec<String>,
    /// The TCP peer.
    pub peer: Option<IpAddr>,
    /// Whether the request came over TLS.
    pub secure: bool,
}

/// A refused request, for the dialect's denial envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// `service:Action`.
    pub action: String,
    /// The resource reported (the first one denied).
    pub resource: String,
    /// Whether a Deny statement matched (else nothing allowed it).
    pub explicit: bool,
    /// The kind of policy that decided (`AccountLevelIdentityBasedPolicy`, `SessionPolicy`,
    /// or `NoResourceTableEntry` for an action without a row).
    pub policy_type: &'static str,
    /// The matched deny statement, as `policy#index`.
    pub statement: Option<String>,
    /// Condition keys the policies asked for that the request did not have.
    pub missing_keys: Vec<String>,
    /// `SubUser` or `AssumedRoleUser`.
    pub principal_type: &'static str,
    /// The user name, or `role:session`.
    pub principal_name: String,
    /// The account id.
    pub account: String,
    /// The principal's ARN.
    pub principal_arn: String,
}

/// The condition keys a request carries.
pub fn context(
    cloud: Cloud,
    service: &str,
    region: &str,
    peer: Option<IpAddr>,
    secure: bool,
) -> Context {
    let mut ctx = Context::new();
    let now = now_text();
    let ip = peer.map(|p| p.to_canonical().to_string());
    match cloud {
        Cloud::Aliyun => {
            ctx.set("acs:CurrentTime", vec![now]);
            ctx.set("acs:SecureTransport", vec![secure.to_string()]);
            if let Some(ip) = ip {
                ctx.set("acs:SourceIp", vec![ip]);
            }
        }
        Cloud::Tencent => {
            ctx.set("qcs:current_time", vec![now]);
            ctx.set("qcs:secure_transport", vec![secure.to_string()]);
            if let Some(ip) = ip {
                ctx.set("qcs:ip", vec![ip]);
            }
            if service == "cvm" && !region.is_empty() {
                ctx.set("cvm:region", vec![region.to_string()]);
            }
        }
    }
    ctx
}

/// The condition keys of `check`'s request, from a one-entry cache per thread: requests from
/// one peer to one region within one second carry the same keys, and building them is most
/// of what the policy stage costs a request whose policies are already parsed and indexed.
fn cached_context(check: &Check<'_>) -> std::rc::Rc<Context> {
    type Key = (Cloud, &'static str, String, Option<IpAddr>, bool, u64);
    thread_local! {
        static LAST: std::cell::RefCell<Option<(Key, std::rc::Rc<Context>)>> = const { std::cell::RefCell::new(None) };
    }
    let secs = now_ms() / 1000;
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if let Some(((cloud, service, region, peer, secure, at), ctx)) = last.as_ref() {
            if *cloud == check.cloud
                && *service == check.service
                && region == check.region
                && *peer == check.peer
                && *secure == check.secure
                && *at == secs
            {
                return ctx.clone();
            }
        }
        let ctx = std::rc::Rc::new(context(
            check.cloud,
            check.service,
            check.region,
            check.peer,
            check.secure,
        ));
        *last = Some((
            (
                check.cloud,
                check.service,
                check.region.to_string(),
                check.peer,
                check.secure,
                secs,
            ),
            ctx.clone(),
        ));
        ctx
    })
}

/// `acs:CurrentTime` / `qcs:current_time` now, formatted once per second per thread.
fn now_text() -> String {
    thread_local! {
        static LAST: std::cell::RefCell<(u64, String)> = const { std::cell::RefCell::new((u64::MAX, String::new())) };
    }
    let secs = now_ms() / 1000;
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != secs {
            *last = (secs, iso8601_utc(secs * 1000));
        }
        last.1.clone()
    })
}

impl Access {
    /// The policy stage for a signer that is not an account's root key.
    pub fn authorize(&self, who: &Verified, check: &Check<'_>) -> Result<(), Box<Denial>> {
        let mode = self.mode();
        if mode == Mode::Off || who.is_root() {
            return Ok(());
        }
        let row = resources::find(check.table, check.action);
        if row.is_some_and(Row::needs_no_permission) {
            return Ok(());
        }
        let action = format!("{}:{}", check.service, check.action);
        let account = who.account.id.as_str();
        let (resources, decision, policy_type) = match row {
            None => (
                vec!["*".to_string()],
                Decision {
                    outcome: Outcome::ImplicitDeny,
                    resource: Some("*".into()),
                    statement: None,
                    missing_keys: Vec::new(),
                },
                "NoResourceTableEntry",
            ),
            Some(row) => {
                let resources = resources::expand(row, check.region, account, check.params);
                let ctx = cached_context(check);
                let (decision, policy_type) =
                    self.decide(check.cloud, who, &action, &resources, &ctx);
                (resources, decision, policy_type)
            }
        };
        let statement = || {
            decision
                .statement
                .as_ref()
                .map(|(name, kind, i)| format!("{kind} policy {name}, statement {i}"))
        };
        if decision.outcome == Outcome::Allow {
            if tracing::enabled!(tracing::Level::DEBUG) {
                tracing::debug!(
                    principal = %who.display_name(), action = %action, resources = ?resources,
                    statement = statement().as_deref().unwrap_or(""), "access allowed"
                );
            }
            return Ok(());
        }
        let statement = statement();
        let explicit = decision.outcome == Outcome::ExplicitDeny;
        let resource = decision
            .resource
            .clone()
            .or_else(|| resources.first().cloned())
            .unwrap_or_else(|| "*".into());
        tracing::info!(
            principal = %who.display_name(), action = %action, resource = %resource,
            decided_by = statement.as_deref().unwrap_or("implicit deny"),
            missing_condition_keys = ?decision.missing_keys,
            mode = ?mode,
            "access denied{}", if mode == Mode::Soft { " (soft mode: allowed anyway)" } else { "" }
        );
        if mode == Mode::Soft {
            return Ok(());
        }
        Err(Box::new(Denial {
            action,
            resource,
            explicit,
            policy_type,
            statement,
            missing_keys: decision.missing_keys,
            principal_type: match who.principal {
                Principal::Session(_) => "AssumedRoleUser",
                _ => "SubUser",
            },
            principal_name: who.display_name(),
            account: account.to_string(),
            principal_arn: who.arn(check.cloud),
        }))
    }

    /// The decision of `who`'s policies (and the kind of policy that made it).
    fn decide(
        &self,
        cloud: Cloud,
        who: &Verified,
        action: &str,
        resources: &[String],
        ctx: &Context,
    ) -> (Decision, &'static str) {
        let g = grammar(cloud);
        let account = who.account.id.as_str();
        match &who.principal {
            Principal::Root => (
                Decision {
                    outcome: Outcome::Allow,
                    resource: None,
                    statement: None,
                    missing_keys: Vec::new(),
                },
                "",
            ),
            Principal::User(grant) => {
                let list = named(&grant.policies);
                let only = grant.memo.of(&grant.policies, action);
                (
                    eval::evaluate_prepared(g, &list, &only, None, action, resources, ctx, account),
                    "AccountLevelIdentityBasedPolicy",
                )
            }
            Principal::Session(s) => {
                // The session's own role: a role deleted and made again under the same name
                // (a new RoleId) grants nothing to the sessions of the old one.
                let role = self
                    .role_grant(cloud, &s.claims.account, &s.claims.role)
                    .ok()
                    .flatten()
                    .filter(|r| r.role.id == s.claims.role_id);
                let role_policies = role
                    .as_ref()
                    .map(|r| named(&r.policies))
                    .unwrap_or_default();
                let only = role
                    .as_ref()
                    .map(|r| r.memo.of(&r.policies, action))
                    .unwrap_or_default();
                let session = s.policy.as_ref().map(|p| Named {
                    name: "session",
                    kind: "Session",
                    policy: p,
                });
                let d = eval::evaluate_prepared(
                    g,
                    &role_policies,
                    &only,
                    session.as_ref(),
                    action,
                    resources,
                    ctx,
                    account,
                );
                let kind = match &d.statement {
                    Some((_, k, _)) if k == "Session" => "SessionPolicy",
                    _ => "AccountLevelIdentityBasedPolicy",
                };
                (d, kind)
            }
        }
    }
}

impl Denial {
    /// What `DecodeDiagnosticMessage` answers for this denial (Alibaba's field names).
    pub fn diagnostic(&self) -> serde_json::Value {
        serde_json::json!({
            "ExplicitDeny": self.explicit,
            "NoPermissionPolicyType": self.policy_type,
            "AuthAction": self.action,
            "AuthResource": self.resource,
            "AuthPrincipal": {
                "AuthPrincipalType": self.principal_type,
                "AuthPrincipalOwnerId": self.account,
                "AuthPrincipalDisplayName": self.principal_name,
                "AuthPrincipalArn": self.principal_arn,
            },
            "MatchedStatement": self.statement,
            "AuthConditions": self.missing_keys.iter().map(|k| serde_json::json!({
                "ConditionKey": k, "ConditionValue": serde_json::Value::Null, "Missing": true,
            })).collect::<Vec<_>>(),
        })
    }

    /// `EncodedDiagnosticMessage`: the diagnostic, base64 of its JSON.
    pub fn encoded_diagnostic(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(self.diagnostic().to_string())
    }
}

/// Decodes an `EncodedDiagnosticMessage`; `None` when it is not one.
pub fn decode_diagnostic(encoded: &str) -> Option<serde_json::Value> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get("AuthAction")?;
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::service::{Limits, NewUser};
    use crate::accounts::Accounts;
    use crate::config::Account;
    use crate::store::{Durability, Store};

    /// A sub-user of account 1 with AliyunIMMFullAccess, signed in through its key, under
    /// `mode`.
    async fn user(mode: Mode) -> (tempfile::TempDir, Access, Verified) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), Durability::Sync).expect("store");
        let access = Access::open(store, Limits::default(), mode).expect("access");
        let accounts = Accounts::new(&[Account {
            id: "100000000001".into(),
            name: "one".into(),
            ..Account::default()
        }]);
        let (c, a) = (Cloud::Aliyun, "100000000001");
        access
            .create_user(
                c,
                a,
                NewUser {
                    name: "u".into(),
                    ..NewUser::default()
                },
            )
            .await
            .expect("user");
        access
            .attach(
                c,
                a,
                crate::access::Target::User("u"),
                crate::access::PolicyRef {
                    kind: crate::access::PolicyKind::System,
                    name: "AliyunIMMFullAccess".into(),
                },
            )
            .await
            .expect("attach");
        let key = access.create_key(c, a, "u", "").await.expect("key");
        let who = access
            .credential(c, &accounts, &key.id, None)
            .expect("credential")
            .verified;
        (dir, access, who)
    }

    fn check<'a>(
        action: &'a str,
        table: &'static [Row],
        params: &'a dyn Fn(&str) -> Vec<String>,
    ) -> Check<'a> {
        Check {
            cloud: Cloud::Aliyun,
            service: "imm",
            action,
            table,
            region: "cn-hangzhou",
            params,
            peer: None,
            secure: false,
        }
    }

    #[tokio::test]
    async fn an_action_without_a_resource_row_is_refused_in_enforce_and_allowed_in_soft() {
        let none = |_: &str| Vec::new();
        let (_d, access, who) = user(Mode::Enforce).await;
        // Allowed with its row (imm:* covers it) ...
        assert!(access
            .authorize(&who, &check("ListProjects", resources::IMM, &none))
            .is_ok());
        // ... refused without one, even though the policy allows imm:*.
        let denial = access
            .authorize(&who, &check("ListProjects", &[], &none))
            .expect_err("fails closed");
        assert_eq!(denial.policy_type, "NoResourceTableEntry");
        assert_eq!(denial.resource, "*");
        let (_d, soft, who) = user(Mode::Soft).await;
        assert!(soft
            .authorize(&who, &check("ListProjects", &[], &none))
            .is_ok());
    }
}
