//! RAM 2015-05-01: users, access keys, policies (custom and system) and their versions,
//! attachments, roles, and `DecodeDiagnosticMessage` (access.md §5), rendered in the models of
//! the official SDK `alibabacloud-ram20150501` 1.3.0. Everything acts in the caller's account;
//! the policy stage has already checked the caller's `ram:<Action>`. The RAM error codes are
//! in one table, [`access_error`] (docs/access.md, "Alibaba Cloud").

use serde_json::{json, Value};

use crate::access::authorize::decode_diagnostic;
use crate::access::model::{AccessKey, ManagedPolicy, PolicyVersion, Role, User};
use crate::access::service::{NewRole, NewUser, PolicyView, RoleChanges, UserChanges};
use crate::access::{
    rules, AccessError, Cloud, Entity, KeyStatus, PolicyKind, PolicyRef, Principal, Target,
};
use crate::clock::iso8601_utc;

use super::access_api::Ctx;
use super::actions::Output;
use super::error::{AliError, Code};
use super::params::Params;

const C: Cloud = Cloud::Aliyun;

/// The principal an attachment error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    /// A user's attachments.
    User,
    /// A role's attachments.
    Role,
}

impl On {
    fn as_str(self) -> &'static str {
        match self {
            On::User => "User",
            On::Role => "Role",
        }
    }
}

fn code(c: impl Into<String>, status: u16, message: impl Into<String>) -> AliError {
    AliError::new(Code::Access(c.into(), status), message)
}

/// The one table of RAM error codes (Alibaba RAM's spellings; statuses per the RAM API
/// reference: 404 not found, 409 conflicts and limits, 400 bad input).
pub fn access_error(e: AccessError) -> AliError {
    access_error_on(e, On::User)
}

/// [`access_error`], naming attachment errors after `on`.
pub fn access_error_on(e: AccessError, on: On) -> AliError {
    match e {
        AccessError::NotFound(what, name) => {
            let c = match what {
                Entity::User => "EntityNotExist.User".to_string(),
                Entity::AccessKey => "EntityNotExist.User.AccessKey".to_string(),
                Entity::Policy => "EntityNotExist.Policy".to_string(),
                Entity::PolicyVersion => "EntityNotExist.Policy.Version".to_string(),
                Entity::Role => "EntityNotExist.Role".to_string(),
                Entity::Attachment => format!("EntityNotExist.{}.Policy", on.as_str()),
            };
            code(
                c,
                404,
                format!("The {} does not exist: {name}.", what.as_str()),
            )
        }
        AccessError::AlreadyExists(what, name) => {
            let c = match what {
                Entity::User => "EntityAlreadyExists.User".to_string(),
                Entity::AccessKey => "EntityAlreadyExists.User.AccessKey".to_string(),
                Entity::Policy | Entity::PolicyVersion => "EntityAlreadyExists.Policy".to_string(),
                Entity::Role => "EntityAlreadyExists.Role".to_string(),
                Entity::Attachment => format!("EntityAlreadyExists.{}.Policy", on.as_str()),
            };
            code(
                c,
                409,
                format!("The {} already exists: {name}.", what.as_str()),
            )
        }
        AccessError::LimitExceeded { what, limit } => {
            let c = match what {
                Entity::AccessKey => "LimitExceeded.User.AccessKey".to_string(),
                Entity::PolicyVersion => "LimitExceeded.Policy.Version".to_string(),
                Entity::Attachment => format!("LimitExceeded.{}.Policy", on.as_str()),
                Entity::User => "LimitExceeded.User".to_string(),
                Entity::Policy => "LimitExceeded.Policy".to_string(),
                Entity::Role => "LimitExceeded.Role".to_string(),
            };
            code(
                c,
                409,
                format!("The number of {} has reached its limit of {limit}.", {
                    what.as_str()
                }),
            )
        }
        AccessError::Invalid { field, message } => code(
            format!("InvalidParameter.{field}"),
            400,
            format!("The parameter {field} is invalid: {message}."),
        ),
        AccessError::Document { field, message, .. } => code(
            "MalformedPolicyDocument",
            400,
            format!("The policy document ({field}) is malformed: {message}"),
        ),
        AccessError::DeleteConflict { what, message } => {
            let c = match what {
                Entity::Policy => "DeleteConflict.Policy.User",
                Entity::PolicyVersion => "DeleteConflict.Policy.Version.Default",
                Entity::Role => "DeleteConflict.Role.Policy",
                Entity::User => "DeleteConflict.User.Policy",
                Entity::AccessKey | Entity::Attachment => "DeleteConflict",
            };
            code(c, 409, message)
        }
        AccessError::SystemPolicy(name) => code(
            "NoPermission.SystemPolicy",
            403,
            format!("The system policy {name} cannot be created, changed or deleted."),
        ),
        AccessError::Store(d) => AliError::internal(&d),
    }
}

type R<T> = Result<T, AliError>;

fn rule(r: Result<(), AccessError>) -> R<()> {
    r.map_err(access_error)
}

fn obj(v: Value) -> Output {
    match v {
        Value::Object(m) => m.into(),
        _ => Output::new(),
    }
}

fn date(ms: u64) -> String {
    iso8601_utc(ms)
}

fn account<'a>(ctx: &'a Ctx<'_>) -> &'a str {
    &ctx.who.account.id
}

// ----- rendering -------------------------------------------------------------------------

fn user_json(u: &User) -> Value {
    json!({
        "UserId": u.id,
        "UserName": u.name,
        "DisplayName": u.display_name,
        "MobilePhone": u.phone,
        "Email": u.email,
        "Comments": u.comments,
        "CreateDate": date(u.created_ms),
        "UpdateDate": date(u.updated_ms),
    })
}

fn key_json(k: &AccessKey) -> Value {
    json!({
        "AccessKeyId": k.id,
        "Status": k.status.as_str(),
        "CreateDate": date(k.created_ms),
    })
}

fn version_id(v: u32) -> String {
    format!("v{v}")
}

fn policy_json(p: &PolicyView) -> Value {
    json!({
        "PolicyName": p.name,
        "PolicyType": p.kind.as_str(),
        "Description": p.description,
        "DefaultVersion": version_id(p.default_version),
        "CreateDate": date(p.created_ms),
        "UpdateDate": date(p.updated_ms),
        "AttachmentCount": p.attached,
    })
}

fn version_json(v: &PolicyVersion, default: u32) -> Value {
    json!({
        "VersionId": version_id(v.id),
        "IsDefaultVersion": v.id == default,
        "PolicyDocument": v.document,
        "CreateDate": date(v.created_ms),
    })
}

fn role_arn(r: &Role) -> String {
    format!("acs:ram::{}:role/{}", r.account, r.name)
}

fn role_json(r: &Role) -> Value {
    json!({
        "RoleId": r.id,
        "RoleName": r.name,
        "Arn": role_arn(r),
        "Description": r.description,
        "AssumeRolePolicyDocument": r.trust,
        "MaxSessionDuration": r.max_session_secs,
        "CreateDate": date(r.created_ms),
        "UpdateDate": date(r.updated_ms),
    })
}

// ----- parameters ------------------------------------------------------------------------

fn user_name(p: &Params, field: &'static str) -> R<String> {
    let n = p.req_str(field)?;
    rule(rules::user_name(C, field, &n))?;
    Ok(n)
}

fn policy_name(p: &Params) -> R<String> {
    let n = p.req_str("PolicyName")?;
    rule(rules::policy_name(C, "PolicyName", &n))?;
    Ok(n)
}

fn role_name(p: &Params) -> R<String> {
    let n = p.req_str("RoleName")?;
    rule(rules::role_name(C, "RoleName", &n))?;
    Ok(n)
}

fn text(p: &Params, field: &'static str, max: usize) -> R<Option<String>> {
    let v = p.opt_str(field);
    if let Some(v) = &v {
        rule(rules::text(field, v, max))?;
    }
    Ok(v)
}

fn policy_kind(p: &Params, required: bool) -> R<Option<PolicyKind>> {
    match p.opt_str("PolicyType") {
        None if required => Err(AliError::missing("PolicyType")),
        None => Ok(None),
        Some(t) => PolicyKind::parse(&t).map(Some).ok_or_else(|| {
            access_error(AccessError::invalid(
                "PolicyType",
                format!("`{t}` is not System or Custom"),
            ))
        }),
    }
}

fn policy_ref(p: &Params) -> R<PolicyRef> {
    let kind = policy_kind(p, true)?.unwrap_or(PolicyKind::Custom);
    Ok(PolicyRef {
        kind,
        name: policy_name(p)?,
    })
}

fn version_param(p: &Params) -> R<u32> {
    let v = p.req_str("VersionId")?;
    v.strip_prefix('v')
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            access_error(AccessError::invalid(
                "VersionId",
                format!("`{v}` is not a version id like v1"),
            ))
        })
}

fn document(ctx: &Ctx<'_>, field: &'static str, trust: bool) -> R<String> {
    let doc = ctx.params.req_str(field)?;
    ctx.access
        .check_document(C, field, &doc, trust)
        .map_err(access_error)?;
    Ok(doc)
}

/// One page of a name-ordered list: `Marker` is the name to start at (inclusive), `MaxItems`
/// 1..=1000 (default 100).
fn page<T>(p: &Params, items: Vec<T>, name: impl Fn(&T) -> &str) -> R<(Vec<T>, bool, String)> {
    let max = match p.opt_i64("MaxItems")? {
        None => 100,
        Some(n) if (1..=1000).contains(&n) => n as usize,
        Some(n) => {
            return Err(access_error(AccessError::invalid(
                "MaxItems",
                format!("{n} is outside 1 to 1000"),
            )))
        }
    };
    let marker = p.opt_str("Marker").unwrap_or_default();
    let mut rest: Vec<T> = items
        .into_iter()
        .filter(|x| marker.is_empty() || name(x) >= marker.as_str())
        .collect();
    if rest.len() > max {
        let next = name(&rest[max]).to_string();
        rest.truncate(max);
        Ok((rest, true, next))
    } else {
        Ok((rest, false, String::new()))
    }
}

// ----- actions ---------------------------------------------------------------------------

/// Runs a RAM action.
pub async fn run(name: &str, ctx: &Ctx<'_>) -> Result<Output, AliError> {
    let p = ctx.params;
    let a = account(ctx);
    let v = match name {
        "CreateUser" => {
            let new = NewUser {
                name: user_name(p, "UserName")?,
                display_name: text(p, "DisplayName", 128)?.unwrap_or_default(),
                comments: text(p, "Comments", 128)?.unwrap_or_default(),
                email: text(p, "Email", 128)?.unwrap_or_default(),
                phone: text(p, "MobilePhone", 32)?.unwrap_or_default(),
                console_login: false,
            };
            let u = ctx
                .access
                .create_user(C, a, new)
                .await
                .map_err(access_error)?;
            json!({ "User": user_json(&u) })
        }
        "GetUser" => {
            let u = ctx
                .access
                .get_user(C, a, &user_name(p, "UserName")?)
                .map_err(access_error)?;
            json!({ "User": user_json(&u) })
        }
        "UpdateUser" => {
            let n = user_name(p, "UserName")?;
            if let Some(new) = p.opt_str("NewUserName").filter(|x| *x != n) {
                return Err(access_error(AccessError::invalid(
                    "NewUserName",
                    format!("renaming a user (to `{new}`) is not supported by cloudtwin"),
                )));
            }
            let u = ctx
                .access
                .update_user(
                    C,
                    a,
                    &n,
                    UserChanges {
                        display_name: text(p, "NewDisplayName", 128)?,
                        comments: text(p, "NewComments", 128)?,
                        ..UserChanges::default()
                    },
                )
                .await
                .map_err(access_error)?;
            json!({ "User": user_json(&u) })
        }
        "ListUsers" => {
            let all = ctx.access.list_users(C, a).map_err(access_error)?;
            let (users, truncated, marker) = page(p, all, |u| u.name.as_str())?;
            let list: Vec<Value> = users.iter().map(user_json).collect();
            json!({ "Users": { "User": list }, "IsTruncated": truncated, "Marker": marker })
        }
        "DeleteUser" => {
            ctx.access
                .delete_user(C, a, &user_name(p, "UserName")?)
                .await
                .map_err(access_error)?;
            json!({})
        }
        "CreateAccessKey" => {
            let user = key_owner(ctx)?;
            let k = ctx
                .access
                .create_key(C, a, &user, "")
                .await
                .map_err(access_error)?;
            json!({ "AccessKey": {
                "AccessKeyId": k.id,
                "AccessKeySecret": k.secret,
                "Status": k.status.as_str(),
                "CreateDate": date(k.created_ms),
            }})
        }
        "ListAccessKeys" => {
            let user = key_owner(ctx)?;
            let keys = ctx.access.list_keys(C, a, &user).map_err(access_error)?;
            let list: Vec<Value> = keys.iter().map(key_json).collect();
            json!({ "AccessKeys": { "AccessKey": list } })
        }
        "UpdateAccessKey" => {
            let id = p.req_str("UserAccessKeyId")?;
            let raw = p.req_str("Status")?;
            let status = KeyStatus::parse(&raw).ok_or_else(|| {
                access_error(AccessError::invalid(
                    "Status",
                    format!("`{raw}` is not Active or Inactive"),
                ))
            })?;
            let user = key_owner(ctx)?;
            ctx.access
                .set_key_status(C, a, Some(&user), &id, status)
                .await
                .map_err(access_error)?;
            json!({})
        }
        "DeleteAccessKey" => {
            let id = p.req_str("UserAccessKeyId")?;
            let user = key_owner(ctx)?;
            ctx.access
                .delete_key(C, a, Some(&user), &id)
                .await
                .map_err(access_error)?;
            json!({})
        }
        "CreatePolicy" => {
            let name = policy_name(p)?;
            let doc = document(ctx, "PolicyDocument", false)?;
            let desc = text(p, "Description", 1024)?.unwrap_or_default();
            let pol = ctx
                .access
                .create_policy(C, a, &name, &doc, &desc)
                .await
                .map_err(access_error)?;
            let mut v = policy_json(&PolicyView::from(&pol));
            if let Value::Object(m) = &mut v {
                m.remove("AttachmentCount");
                m.remove("UpdateDate");
            }
            json!({ "Policy": v })
        }
        "GetPolicy" => {
            let r = policy_ref(p)?;
            let view = ctx.access.policy(C, a, &r).map_err(access_error)?;
            let default = versions_of(ctx, &r)?
                .into_iter()
                .find(|v| v.id == view.default_version);
            let mut pol = policy_json(&view);
            if let Value::Object(m) = &mut pol {
                m.insert("PolicyDocument".into(), json!(view.document));
            }
            let mut out = json!({ "Policy": pol });
            if let (Some(d), Value::Object(m)) = (default, &mut out) {
                m.insert(
                    "DefaultPolicyVersion".into(),
                    version_json(&d, view.default_version),
                );
            }
            out
        }
        "ListPolicies" => {
            let kind = policy_kind(p, false)?;
            let mut all: Vec<PolicyView> = Vec::new();
            if kind != Some(PolicyKind::Custom) {
                all.extend(ctx.access.system_policies(C, a).map_err(access_error)?);
            }
            if kind != Some(PolicyKind::System) {
                let custom = ctx
                    .access
                    .list_custom_policies(C, a)
                    .map_err(access_error)?;
                all.extend(custom.iter().map(PolicyView::from));
            }
            all.sort_by(|x, y| x.name.cmp(&y.name));
            let (list, truncated, marker) = page(p, all, |v| v.name.as_str())?;
            let list: Vec<Value> = list.iter().map(policy_json).collect();
            json!({ "Policies": { "Policy": list }, "IsTruncated": truncated, "Marker": marker })
        }
        "CreatePolicyVersion" => {
            // `RotateStrategy` (None / DeleteOldestNonDefaultVersionWhenLimitExceeded) is
            // accepted and ignored: the version limit always refuses.
            let name = policy_name(p)?;
            refuse_system(&name)?;
            let doc = document(ctx, "PolicyDocument", false)?;
            let set_default = p.opt_bool("SetAsDefault")?.unwrap_or(false);
            let v = ctx
                .access
                .create_policy_version(C, a, &name, &doc, set_default)
                .await
                .map_err(access_error)?;
            let default = if set_default { v.id } else { 0 };
            json!({ "PolicyVersion": version_json(&v, default) })
        }
        "GetPolicyVersion" => {
            let r = policy_ref(p)?;
            let id = version_param(p)?;
            let view = ctx.access.policy(C, a, &r).map_err(access_error)?;
            let v = versions_of(ctx, &r)?
                .into_iter()
                .find(|v| v.id == id)
                .ok_or_else(|| {
                    access_error(AccessError::NotFound(Entity::PolicyVersion, version_id(id)))
                })?;
            json!({ "PolicyVersion": version_json(&v, view.default_version) })
        }
        "ListPolicyVersions" => {
            let r = policy_ref(p)?;
            let view = ctx.access.policy(C, a, &r).map_err(access_error)?;
            let list: Vec<Value> = versions_of(ctx, &r)?
                .iter()
                .map(|v| version_json(v, view.default_version))
                .collect();
            json!({ "PolicyVersions": { "PolicyVersion": list } })
        }
        "SetDefaultPolicyVersion" => {
            let name = policy_name(p)?;
            refuse_system(&name)?;
            let id = version_param(p)?;
            ctx.access
                .set_default_version(C, a, &name, id)
                .await
                .map_err(access_error)?;
            json!({})
        }
        "DeletePolicyVersion" => {
            let name = policy_name(p)?;
            refuse_system(&name)?;
            let id = version_param(p)?;
            ctx.access
                .delete_policy_version(C, a, &name, id)
                .await
                .map_err(access_error)?;
            json!({})
        }
        "DeletePolicy" => {
            let name = policy_name(p)?;
            // `CascadingDelete=true` detaches the policy from its principals first.
            let cascade = p.opt_bool("CascadingDelete")?.unwrap_or(false);
            ctx.access
                .delete_policy(C, a, &name, cascade)
                .await
                .map_err(access_error)?;
            json!({})
        }
        "AttachPolicyToUser"
        | "DetachPolicyFromUser"
        | "AttachPolicyToRole"
        | "DetachPolicyFromRole" => {
            let r = policy_ref(p)?;
            let (on, who) = if name.ends_with("User") {
                (On::User, user_name(p, "UserName")?)
            } else {
                (On::Role, role_name(p)?)
            };
            let target = match on {
                On::User => Target::User(&who),
                On::Role => Target::Role(&who),
            };
            let res = if name.starts_with("Attach") {
                ctx.access.attach(C, a, target, r).await
            } else {
                ctx.access.detach(C, a, target, r).await
            };
            res.map_err(|e| access_error_on(e, on))?;
            json!({})
        }
        "ListPoliciesForUser" | "ListPoliciesForRole" => {
            let list = if name == "ListPoliciesForUser" {
                let u = ctx
                    .access
                    .get_user(C, a, &user_name(p, "UserName")?)
                    .map_err(access_error)?;
                u.policies
            } else {
                let r = ctx
                    .access
                    .get_role(C, a, &role_name(p)?)
                    .map_err(access_error)?;
                r.policies
            };
            let mut out = Vec::with_capacity(list.len());
            for at in &list {
                // A custom policy deleted under an attachment is not listed.
                let Ok(view) = ctx.access.policy(C, a, &at.policy) else {
                    continue;
                };
                out.push(json!({
                    "PolicyName": view.name,
                    "PolicyType": view.kind.as_str(),
                    "Description": view.description,
                    "DefaultVersion": version_id(view.default_version),
                    "AttachDate": date(at.attached_ms),
                }));
            }
            json!({ "Policies": { "Policy": out } })
        }
        "CreateRole" => {
            let name = role_name(p)?;
            let trust = document(ctx, "AssumeRolePolicyDocument", true)?;
            let max = session_max(p, "MaxSessionDuration")?;
            let r = ctx
                .access
                .create_role(
                    C,
                    a,
                    NewRole {
                        name,
                        trust,
                        description: text(p, "Description", 1024)?.unwrap_or_default(),
                        max_session_secs: max,
                        console_login: false,
                    },
                )
                .await
                .map_err(access_error)?;
            json!({ "Role": role_json(&r) })
        }
        "GetRole" => {
            let r = ctx
                .access
                .get_role(C, a, &role_name(p)?)
                .map_err(access_error)?;
            json!({ "Role": role_json(&r) })
        }
        "UpdateRole" => {
            let name = role_name(p)?;
            let trust = match p.opt_str("NewAssumeRolePolicyDocument") {
                Some(_) => Some(document(ctx, "NewAssumeRolePolicyDocument", true)?),
                None => None,
            };
            let changes = RoleChanges {
                trust,
                max_session_secs: session_max(p, "NewMaxSessionDuration")?,
                description: text(p, "NewDescription", 1024)?,
            };
            let r = ctx
                .access
                .update_role(C, a, &name, changes)
                .await
                .map_err(access_error)?;
            json!({ "Role": role_json(&r) })
        }
        "ListRoles" => {
            let all = ctx.access.list_roles(C, a).map_err(access_error)?;
            let (roles, truncated, marker) = page(p, all, |r| r.name.as_str())?;
            let list: Vec<Value> = roles.iter().map(role_json).collect();
            json!({ "Roles": { "Role": list }, "IsTruncated": truncated, "Marker": marker })
        }
        "DeleteRole" => {
            ctx.access
                .delete_role(C, a, &role_name(p)?, false)
                .await
                .map_err(access_error)?;
            json!({})
        }
        "DecodeDiagnosticMessage" => {
            let enc = p.req_str("EncodedDiagnosticMessage")?;
            let decoded = decode_diagnostic(&enc).ok_or_else(|| {
                access_error(AccessError::invalid(
                    "EncodedDiagnosticMessage",
                    "it is not a diagnostic message cloudtwin issued",
                ))
            })?;
            // The SDK model reads an object (`DecodedDiagnosticMessage.AuthAction`, ...).
            json!({ "DecodedDiagnosticMessage": decoded })
        }
        other => return Err(AliError::internal(&format!("{other} has no RAM handler"))),
    };
    Ok(obj(v))
}

/// The user whose keys an access-key action is about: `UserName`, or else the calling
/// sub-user (RAM: "the logon user"); the root key must name one.
fn key_owner(ctx: &Ctx<'_>) -> R<String> {
    if ctx.params.opt_str("UserName").is_some() {
        return user_name(ctx.params, "UserName");
    }
    match &ctx.who.principal {
        Principal::User(g) => Ok(g.user.name.clone()),
        _ => Err(AliError::missing("UserName")),
    }
}

fn refuse_system(name: &str) -> R<()> {
    if crate::access::system::by_name(C, name).is_some() {
        return Err(access_error(AccessError::SystemPolicy(name.to_string())));
    }
    Ok(())
}

fn session_max(p: &Params, field: &'static str) -> R<Option<u64>> {
    match p.opt_i64(field)? {
        None => Ok(None),
        Some(n) => {
            let secs = u64::try_from(n).unwrap_or(0);
            rule(rules::max_session(C, field, secs))?;
            Ok(Some(secs))
        }
    }
}

/// A policy's versions: a custom policy's own, or a system policy's one `v1`.
fn versions_of(ctx: &Ctx<'_>, r: &PolicyRef) -> R<Vec<PolicyVersion>> {
    match r.kind {
        PolicyKind::Custom => {
            let p: ManagedPolicy = ctx
                .access
                .custom_policy(C, account(ctx), &r.name)
                .map_err(access_error)?;
            Ok(p.versions)
        }
        PolicyKind::System => {
            let view = ctx
                .access
                .policy(C, account(ctx), r)
                .map_err(access_error)?;
            Ok(vec![PolicyVersion {
                id: view.default_version,
                document: view.document,
                created_ms: view.created_ms,
            }])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_gives_ram_codes_and_statuses() {
        let cases = [
            (
                AccessError::NotFound(Entity::User, "u".into()),
                "EntityNotExist.User",
                404,
            ),
            (
                AccessError::NotFound(Entity::AccessKey, "k".into()),
                "EntityNotExist.User.AccessKey",
                404,
            ),
            (
                AccessError::AlreadyExists(Entity::Role, "r".into()),
                "EntityAlreadyExists.Role",
                409,
            ),
            (
                AccessError::LimitExceeded {
                    what: Entity::AccessKey,
                    limit: 2,
                },
                "LimitExceeded.User.AccessKey",
                409,
            ),
            (
                AccessError::invalid("UserName", "bad"),
                "InvalidParameter.UserName",
                400,
            ),
            (
                AccessError::DeleteConflict {
                    what: Entity::Policy,
                    message: "x".into(),
                },
                "DeleteConflict.Policy.User",
                409,
            ),
        ];
        for (e, c, s) in cases {
            let a = access_error(e);
            assert_eq!(
                (a.code.as_str().into_owned(), a.code.status()),
                (c.into(), s)
            );
        }
        let e = access_error_on(
            AccessError::NotFound(Entity::Attachment, "p".into()),
            On::Role,
        );
        assert_eq!(e.code.as_str(), "EntityNotExist.Role.Policy");
    }
}
