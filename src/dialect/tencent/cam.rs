//! The CAM 2019-01-16 actions (access.md §5, the models of `tencentcloud-sdk-python-cam`
//! 3.1.181): sub-users (`AddUser` .. `DeleteUser`), their API keys, custom and preset policies,
//! attachments to users and roles, and roles. Everything acts in the signer's account; the
//! rules on names and documents are `access::rules` and the grammar's; the wire codes of the
//! access domain's errors are one table, [`access_error`].

use serde_json::{json, Map, Value};

use crate::access::model::{AccessKey, Attachment, Role, User};
use crate::access::service::{NewRole, NewUser, PolicyView, RoleChanges, UserChanges};
use crate::access::{rules, AccessError, Cloud, Entity, KeyStatus, PolicyKind, PolicyRef, Target};
use crate::clock::iso8601_utc;

use super::access_api::Ctx;
use super::actions::Output;
use super::error::{Code, TcError};
use super::params::Params;

const CLOUD: Cloud = Cloud::Tencent;

/// Longest `Remark` of a sub-user, characters.
const MAX_REMARK: usize = 256;
/// Longest `Description` of a policy, role or key (`InvalidParameter.DescriptionLengthOverlimit`:
/// 300 bytes; counted here in characters).
const MAX_DESCRIPTION: usize = 300;
/// Largest page (`Rp`) of the list actions.
const MAX_RP: u64 = 200;

/// Runs a CAM action.
pub async fn run(name: &str, ctx: &Ctx<'_>) -> Result<Output, TcError> {
    let p = ctx.params;
    match name {
        "AddUser" => add_user(ctx, p).await,
        "GetUser" => get_user(ctx, p),
        "ListUsers" => list_users(ctx),
        "UpdateUser" => update_user(ctx, p).await,
        "DeleteUser" => delete_user(ctx, p).await,
        "CreateAccessKey" => create_access_key(ctx, p).await,
        "ListAccessKeys" => list_access_keys(ctx, p),
        "UpdateAccessKey" => update_access_key(ctx, p).await,
        "DeleteAccessKey" => delete_access_key(ctx, p).await,
        "CreatePolicy" => create_policy(ctx, p).await,
        "GetPolicy" => get_policy(ctx, p),
        "UpdatePolicy" => update_policy(ctx, p).await,
        "DeletePolicy" => delete_policy(ctx, p).await,
        "ListPolicies" => list_policies(ctx, p),
        "AttachUserPolicy" => user_policy(ctx, p, true).await,
        "DetachUserPolicy" => user_policy(ctx, p, false).await,
        "AttachRolePolicy" => role_policy(ctx, p, true).await,
        "DetachRolePolicy" => role_policy(ctx, p, false).await,
        "ListAttachedUserPolicies" => list_attached_user_policies(ctx, p),
        "ListAttachedRolePolicies" => list_attached_role_policies(ctx, p),
        "CreateRole" => create_role(ctx, p).await,
        "GetRole" => get_role(ctx, p),
        "DeleteRole" => delete_role(ctx, p).await,
        "DescribeRoleList" => describe_role_list(ctx, p),
        "UpdateAssumeRolePolicy" => update_assume_role_policy(ctx, p).await,
        other => Err(TcError::new(
            Code::InvalidAction,
            format!("The CAM action `{other}` is not supported."),
        )
        .zh(format!("接口不存在：CAM 接口 `{other}` 不受支持。"))),
    }
}

// ----- the one table of wire codes -------------------------------------------------------

/// The CAM wire code of a policy grammar error kind (`AccessError::Document.kind`, the parser's
/// `PolicyErrorKind` by its Debug name).
fn document_code(kind: &str) -> &'static str {
    match kind {
        "Version" => "InvalidParameter.VersionError",
        "Effect" => "InvalidParameter.EffectError",
        "Action" => "InvalidParameter.ActionError",
        "Resource" => "InvalidParameter.ResourceError",
        "Condition" => "InvalidParameter.ConditionError",
        "Principal" => "InvalidParameter.PrincipalError",
        "TooLong" => "InvalidParameter.PolicyDocumentLengthOverLimit",
        _ => "InvalidParameter.PolicyDocumentError",
    }
}

/// The CAM answer to an access-domain error (codes of the SDK's `errorcodes.py`).
pub fn access_error(e: AccessError) -> TcError {
    let code: &'static str = match &e {
        AccessError::NotFound(Entity::User, _) => "ResourceNotFound.UserNotExist",
        AccessError::NotFound(Entity::Policy | Entity::PolicyVersion, _) => {
            "ResourceNotFound.PolicyIdNotFound"
        }
        AccessError::NotFound(Entity::Role, _) => "InvalidParameter.RoleNotExist",
        AccessError::NotFound(Entity::AccessKey, _) => "ResourceNotFound.SecretNotExist",
        AccessError::NotFound(Entity::Attachment, _) => "ResourceNotFound.NotFound",
        AccessError::AlreadyExists(Entity::User, _) => "InvalidParameter.SubUserNameInUse",
        AccessError::AlreadyExists(Entity::Policy, _) => "FailedOperation.PolicyNameInUse",
        AccessError::AlreadyExists(Entity::Role, _) => "InvalidParameter.RoleNameInUse",
        AccessError::AlreadyExists(..) => "InvalidParameter",
        AccessError::LimitExceeded {
            what: Entity::AccessKey,
            ..
        } => "OperationDenied.AccessKeyOverLimit",
        AccessError::LimitExceeded {
            what: Entity::Attachment,
            ..
        } => "FailedOperation.PolicyFull",
        AccessError::LimitExceeded {
            what: Entity::PolicyVersion,
            ..
        } => "FailedOperation.PolicyVersionFull",
        AccessError::LimitExceeded { .. } => "InvalidParameter",
        AccessError::Invalid { field, .. } => match *field {
            "Name" => "InvalidParameter.UserNameIllegal",
            "PolicyName" => "InvalidParameter.PolicyNameError",
            "RoleName" => "InvalidParameter.RoleNameError",
            "Description" => "InvalidParameter.DescriptionLengthOverlimit",
            _ => "InvalidParameter.ParamError",
        },
        AccessError::Document { kind, .. } => document_code(kind),
        AccessError::DeleteConflict { .. } => "FailedOperation",
        AccessError::SystemPolicy(_) => "InvalidParameter.PolicyIdError",
        AccessError::Store(_) => return TcError::internal(&e.to_string()),
    };
    TcError::new(Code::Access(code), e.to_string())
}

fn invalid(field: &'static str, message: impl Into<String>) -> TcError {
    access_error(AccessError::invalid(field, message))
}

// ----- rendering -------------------------------------------------------------------------

/// CAM's time form, `YYYY-MM-DD hh:mm:ss` (UTC).
fn cam_time(ms: u64) -> String {
    iso8601_utc(ms)
        .replace('T', " ")
        .trim_end_matches('Z')
        .to_string()
}

/// A decimal id as a JSON number (`Uin`, `Uid`).
fn number(id: &str) -> Value {
    id.parse::<u64>().map(Value::from).unwrap_or(Value::Null)
}

fn user_json(u: &User, with_created: bool) -> Value {
    let mut v = json!({
        "Uin": number(&u.id),
        "Name": u.name,
        "Uid": number(&u.uid),
        "Remark": u.comments,
        "ConsoleLogin": u64::from(u.console_login),
        "PhoneNum": u.phone,
        "CountryCode": if u.phone.is_empty() { "" } else { "86" },
        "Email": u.email,
    });
    if with_created {
        v["CreateTime"] = json!(cam_time(u.created_ms));
        v["NickName"] = json!(u.name);
    } else {
        v["RecentlyLoginIP"] = json!("");
        v["RecentlyLoginTime"] = json!("");
    }
    v
}

fn key_json(k: &AccessKey) -> Value {
    json!({
        "AccessKeyId": k.id,
        "Status": k.status.as_str(),
        "CreateTime": cam_time(k.created_ms),
        "Description": k.description,
    })
}

/// Tencent's `Type`: 1 custom, 2 preset.
fn policy_type(kind: PolicyKind) -> u64 {
    match kind {
        PolicyKind::Custom => 1,
        PolicyKind::System => 2,
    }
}

/// `PolicyType` of an attachment: `User` (custom) or `QCS` (preset).
fn policy_type_name(kind: PolicyKind) -> &'static str {
    match kind {
        PolicyKind::Custom => "User",
        PolicyKind::System => "QCS",
    }
}

fn time_or_empty(ms: u64) -> String {
    if ms == 0 {
        String::new()
    } else {
        cam_time(ms)
    }
}

fn role_json(r: &Role) -> Value {
    json!({
        "RoleId": r.id,
        "RoleName": r.name,
        "PolicyDocument": r.trust,
        "Description": r.description,
        "AddTime": cam_time(r.created_ms),
        "UpdateTime": cam_time(r.updated_ms),
        "ConsoleLogin": u64::from(r.console_login),
        "RoleType": "user",
        "SessionDuration": r.max_session_secs,
        "Tags": [],
        "RoleArn": format!("qcs::cam::uin/{}:roleName/{}", r.account, r.name),
    })
}

fn out(fields: Value) -> Output {
    let mut o = Output::new();
    if let Value::Object(m) = fields {
        o.fields = m;
    }
    o
}

fn page(p: &Params, total: usize) -> Result<(usize, usize), TcError> {
    let page = p.opt_u64("Page")?.unwrap_or(1);
    let rp = p.opt_u64("Rp")?.unwrap_or(20);
    if page == 0 {
        return Err(invalid("Page", "must be 1 or more"));
    }
    if rp == 0 || rp > MAX_RP {
        return Err(invalid("Rp", format!("must be 1 to {MAX_RP}, got {rp}")));
    }
    let start = usize::try_from((page - 1).saturating_mul(rp))
        .unwrap_or(usize::MAX)
        .min(total);
    let end = start.saturating_add(rp as usize).min(total);
    Ok((start, end))
}

// ----- parameters ------------------------------------------------------------------------

fn account<'a>(ctx: &'a Ctx<'_>) -> &'a str {
    &ctx.who.account.id
}

/// An id sent as a number or a string (`TargetUin`, `RoleId`).
fn opt_id(p: &Params, name: &str) -> Result<Option<String>, TcError> {
    match p.opt_u64(name) {
        Ok(Some(n)) => Ok(Some(n.to_string())),
        Ok(None) => Ok(None),
        Err(_) => match p.opt_str(name)? {
            Some(s) if !s.is_empty() => Ok(Some(s)),
            Some(_) => Ok(None),
            None => Ok(None),
        },
    }
}

fn req_id(p: &Params, name: &str) -> Result<String, TcError> {
    opt_id(p, name)?.ok_or_else(|| TcError::missing(name))
}

fn flag(p: &Params, name: &'static str) -> Result<bool, TcError> {
    Ok(opt_flag(p, name)?.unwrap_or(false))
}

/// A 0/1 flag, `None` when not sent.
fn opt_flag(p: &Params, name: &'static str) -> Result<Option<bool>, TcError> {
    match p.opt_u64(name)? {
        None => Ok(None),
        Some(0) => Ok(Some(false)),
        Some(1) => Ok(Some(true)),
        Some(n) => Err(invalid(name, format!("must be 0 or 1, got {n}"))),
    }
}

/// An optional text field, checked when sent.
fn opt_text(p: &Params, name: &'static str, max: usize) -> Result<Option<String>, TcError> {
    let v = p.opt_str(name)?;
    if let Some(v) = &v {
        rules::text(name, v, max).map_err(access_error)?;
    }
    Ok(v)
}

fn text(p: &Params, name: &'static str, max: usize) -> Result<String, TcError> {
    let v = p.opt_str(name)?.unwrap_or_default();
    rules::text(name, &v, max).map_err(access_error)?;
    Ok(v)
}

/// The sub-user with Uin `uin` (in the signer's account).
fn user_by_uin(ctx: &Ctx<'_>, uin: &str) -> Result<User, TcError> {
    ctx.access
        .user_by_id(CLOUD, account(ctx), uin)
        .map_err(access_error)
}

/// A policy by `PolicyId` (preset or custom).
fn policy_by_id(ctx: &Ctx<'_>, id: u64) -> Result<PolicyView, TcError> {
    ctx.access
        .policy_by_id(CLOUD, account(ctx), id)
        .map_err(|e| match e {
            AccessError::NotFound(..) => access_error(AccessError::NotFound(
                Entity::Policy,
                format!("PolicyId {id}"),
            )),
            e => access_error(e),
        })
}

/// The policy named by `PolicyId`, or else by `PolicyName` (custom first, then preset).
fn policy_ref(ctx: &Ctx<'_>, p: &Params) -> Result<PolicyView, TcError> {
    if let Some(id) = p.opt_u64("PolicyId")? {
        return policy_by_id(ctx, id);
    }
    let Some(name) = p.opt_str("PolicyName")?.filter(|n| !n.is_empty()) else {
        return Err(TcError::missing("PolicyId"));
    };
    let custom = PolicyRef {
        kind: PolicyKind::Custom,
        name: name.clone(),
    };
    match ctx.access.policy(CLOUD, account(ctx), &custom) {
        Ok(v) => Ok(v),
        Err(AccessError::NotFound(..)) => ctx
            .access
            .policy(
                CLOUD,
                account(ctx),
                &PolicyRef {
                    kind: PolicyKind::System,
                    name,
                },
            )
            .map_err(access_error),
        Err(e) => Err(access_error(e)),
    }
}

/// The role named by `<prefix>Id` or `<prefix>Name` (`RoleId`/`RoleName`,
/// `AttachRoleId`/`AttachRoleName`).
fn role_ref(ctx: &Ctx<'_>, p: &Params, id: &str, name: &str) -> Result<Role, TcError> {
    if let Some(rid) = opt_id(p, id)? {
        return ctx
            .access
            .role_by_id(CLOUD, account(ctx), &rid)
            .map_err(access_error);
    }
    match p.opt_str(name)?.filter(|n| !n.is_empty()) {
        Some(n) => ctx
            .access
            .get_role(CLOUD, account(ctx), &n)
            .map_err(access_error),
        None => Err(TcError::missing(id)),
    }
}

fn check_policy(ctx: &Ctx<'_>, doc: &str, trust: bool) -> Result<(), TcError> {
    ctx.access
        .check_document(CLOUD, "PolicyDocument", doc, trust)
        .map(|_| ())
        .map_err(access_error)
}

// ----- users -----------------------------------------------------------------------------

async fn add_user(ctx: &Ctx<'_>, p: &Params) -> Result<Output, TcError> {
    let name = p.req_str("Name")?;
    rules::user_name(CLOUD, "Name", &name).map_err(access_error)?;
    let remark = text(p, "Remark", MAX_REMARK)?;
    let console_login = flag(p, "ConsoleLogin")?;
    let use_api = flag(p, "UseApi")?;
    flag(p, "NeedResetPassword")?;
    let password = p.opt_str("Password")?.unwrap_or_default();
    let phone = text(p, "PhoneNum", 32)?;
    text(p, "CountryCode", 8)?;
    let email = text(p, "Email", 128)?;
    let user = ctx
        .access
        .create_user(
            CLOUD,
            account(ctx),
            NewUser {
                name: name.clone(),
                display_name: remark.clone(),
                comments: remark,
                email,
                phone,
                console_login,
            },
        )
        .await
        .map_err(access_error)?;
    let (secret_id, secret_key) = if use_api {
        let k = ctx
            .access
            .create_key(CLOUD, account(ctx), &user.name, "")
            .await
            .map_err(access_error)?;
        (k.id, k.secret)
    } else {
        (String::new(), String::new())
    };
    // Console passwords are not kept (cloudtwin has no console): the one given, or a generated
    // one when console login is on, is only echoed.
    let password = if console_login && password.is_empty() {
        format!(
            "Ct{}!",
            crate::access::keys::random_from(crate::access::keys::ALNUM, 14)
        )
    } else {
        password
    };
    Ok(out(json!({
        "Uin": number(&user.id),
        "Name": user.name,
        "Password": password,
        "SecretId": secret_id,
        "SecretKey": secret_key,
        "Uid": number(&user.uid),
        "PhoneNumVerifyLink": "",
    })))
}

fn get_user(ctx: &Ctx<'_>, p: &Params) -> Result<Output, TcError> {
    let name = p.req_str("Name")?;
    let u = ctx
        .access
        .get_user(CLOUD, account(ctx), &name)
        .map_err(access_error)?;
    Ok(out(user_json(&u, false)))
}

fn list_users(ctx: &Ctx<'_>) -> Result<Output, TcError> {
    let users = ctx
        .access
        .list_users(CLOUD, account(ctx))
        .map_err(access_error)?;
    let data: Vec<Value> = users.iter().map(|u| user_json(u, true)).collect();
    Ok(out(json!({ "Data": data })))
}

async fn update_user(ctx: &Ctx<'_>, p: &Params) -> Result<Output, TcError> {
    let name = p.req_str("Name")?;
    let remark = opt_text(p, "Remark", MAX_REMARK)?;
    let console_login = opt_flag(p, "ConsoleLogin")?;
    flag(p, "NeedResetPassword")?;
    let phone = opt_text(p, "PhoneNum", 32)?;
    opt_text(p, "CountryCode", 8)?;
    let email = opt_text(p, "Email", 128)?;
    ctx.access
        .update_user(
            CLOUD,
            account(ctx),
            &name,
            UserChanges {
                display_name: remark.clone(),
                comments: remark,
                email,
                phone,
                console_login,
            },
        )
        .await
        .map_err(access_error)?;
    Ok(Output::new())
}

async fn delete_user(ctx: &Ctx<'_>, p: &Params) -> Result<Output, TcError> {
    let name = p.req_str("Name")?;
    let force = flag(p, "Force")?;
    let u = ctx
        .access
        .get_user(CLOUD, account(ctx), &name)
        .map_err(access_error)?;
    if !force && !u.key_ids.is_empty() {
        return Err(TcError::new(
            Code::Access("OperationDenied.HaveKeys"),
            format!(
                "The sub-user `{name}` has {} API keys; delete them first or pass Force=1.",
                u.key_ids.len()
            ),
        ));
    }
    ctx.access
        .delete_user(CLOUD, account(ctx), &name)
        .await
        .map_err(access_error)?;
    Ok(Output::new())
}

// ----- access keys -----------------------------------------------------------------------

/// The user a key action names by `TargetUin`; without it the signer itself, which must be a
/// sub-user (the root account's keys live in the configuration).
fn key_owner(ctx: &Ctx<'_>, p: &Params) -> Result<User, TcError> {
    match opt_id(p, "TargetUin")? {
        Some(uin) => user_by_uin(ctx, &uin),
        None => match &ctx.who.principal {
            crate::access::Principal::User(g) => Ok(g.user.clone()),
            _ => Err(TcError::missing("TargetUin")),
        },
    }
}

async fn create_access_key(ctx: &Ctx<'_>, p: &Params) -> Result<Output, TcError> {
    let user = key_owner(ctx, p)?;
    let description = text(p, "Description", MAX_DESCRIPTION)?;
    let k = ctx
        .access
        .create_key(CLOUD, account(ctx), &user.name, &description)
        .await
        .map_err(access_error)?;
    Ok(out(json!({
        "AccessKey": {
            "AccessKeyId": k.id,
            "SecretAccessKey": k.secret,
            "Status": k.status.as_str(),
            "CreateTime": cam_time(k.created_ms),
            "Description": k.description,
        }
    })))
}

fn list_access_keys(ctx: &Ctx<'_>, p: &Params) -> Result<Output, TcError> {
    let user = key_owner(ctx, p)?;
    let keys = ctx
        .access
        .list_keys(CLOUD, account(ctx), &user.name)
        .map_err(access_error)?;
    let list: Vec<Value> = keys.iter().map(key_json).collect();
    Ok(out(json!({ "AccessKeys": list })))
}

/// The `TargetUin`'s user name, if given (the key must be theirs).
fn key_user(ctx: &Ctx<'_>, p: &Params) -> Result<Option<String>, TcError> {
    match opt_id(p, "TargetUin")? {
        Some(uin) => Ok(Some(user_by_uin(ctx, &uin)?.name)),
        None => Ok(None),
    }
}

async fn update_access_key(ctx: &Ctx<'_>, p: &Params) -> Result<Output, TcError> {
    let id = p.req_str("AccessKeyId")?;
    let status = p.req_str("Status")?;
    let status = KeyStatus::parse(&status).ok_or_else(|| {
        invalid(
            "Status",
            format!("must be Active or Inactive, got `{status}`"),
        )
    })?;
    let user = key_user(ctx, p)?;
    ctx.access
        .set_key_status(CLOUD, account(ctx), user.as_deref(), &id, status)
        .await
        .map_err(access_error)?;
    Ok(Output::new())
}

async fn delete_access_key(ctx: &Ctx<'_>, p: &Params) -> Result<Output, TcError> {
    let id = p.req_str("AccessKeyId")?;
    let user = key_user(ctx, p)?;
    ctx.access
        .delete_key(CLOUD, account(ctx), user.as_deref(), &id)
        .await
        .map_err(access_error)?;
    Ok(Output::new())
}

// ----- policies --------------------------------------------------------------------------

async fn create_policy(ctx: &Ctx<'_>, p: &Params) -> Result<Output, TcError> {
    let name = p.req_str("PolicyName")?;
    rules::policy_name(CLOUD, "PolicyName", &name).map_err(access_error)?;
    let doc = p.req_str("PolicyDocument")?;
    let description = text(p, "Description", MAX_DESCRIPTION)?;
    check_policy(ctx, &doc, false)?;
    let policy = ctx
        .access
        .create_policy(CLOUD, account(ctx), &name, &doc, &description)
        .await
        .map_err(access_error)?;
    Ok(out(json!({ "PolicyId": policy.id })))
}

fn get_policy(ctx: &Ctx<'_>, p: &Params) -> Result<Output, TcError> {
    let id = p
        .opt_u64("PolicyId")?
        .ok_or_else(|| TcError::missing("PolicyId"))?;
    let v = policy_by_id(ctx, id)?;
    Ok(out(json!({
        "PolicyName": v.name,
        "Description": v.description,
        "Type": policy_type(v.kind),
        "AddTime": time_or_empty(v.created_ms),
        "UpdateTime": time_or_empty(v.updated_ms),
        "PolicyDocument": v.document,
        "PresetAlias": if v.kind == PolicyKind::System { v.name.as_str() } else { "" },
        "IsServiceLinkedRolePolicy": 0,
        "Tags": [],
    })))
}

/// A custom policy by id or name, for the writes (a preset one is refused).
fn custom_target(ctx: &Ctx<'_>, p: &Params) -> Result<PolicyView, TcError> {
    let v = policy_ref(ctx, p)?;
    if v.kind == PolicyKind::System {
        return Err(access_error(AccessError::SystemPolicy(v.name)));
    }
    Ok(v)
}

async fn update_policy(ctx: &Ctx<'_>, p: &Params) -> Result<Output, TcError> {
    let v = custom_target(ctx, p)?;
    let doc = p.opt_str("PolicyDocument")?.filter(|d| !d.is_empty());
    if let Some(d) = &doc {
        check_policy(ctx, d, false)?;
    }
    let description = match p.opt_str("Description")? {
        Some(d) => {
            rules::text("Description", &d, MAX_DESCRIPTION).map_err(access_error)?;
            Some(d)
        }
        None => None,
    };
    let updated = ctx
        .access
        .update_policy(
            CLOUD,
            account(ctx),
            &v.name,
            doc.as_deref(),
            description.as_deref(),
        )
        .await
        .map_err(access_error)?;
    Ok(out(json!({ "PolicyId": updated.id })))
}

async fn delete_policy(ctx: &Ctx<'_>, p: &Params) -> Result<Output, TcError> {
    let ids = match p.opt_str_list("PolicyId") {
        Ok(Some(list)) => list,
        Ok(None) => return Err(TcError::missing("PolicyId")),
        // JSON bodies carry the ids as numbers.
        Err(_) => p.values("PolicyId"),
    };
    if ids.is_empty() {
        return Err(TcError::missing("PolicyId"));
    }
    // Every id is checked before anything is deleted.
    let mut names = Vec::with_capacity(ids.len());
    for raw in &ids {
        let id = raw
            .trim()
            .parse::<u64>()
            .map_err(|_| invalid("PolicyId", format!("`{raw}` is not a policy id")))?;
        let v = policy_by_id(ctx, id)?;
        if v.kind == PolicyKind::System {
            return Err(access_error(AccessError::SystemPolicy(v.name)));
        }
        names.push(v.name);
    }
    for name in names {
        ctx.access
            .delete_policy(CLOUD, account(ctx), &name, true)
            .await
            .map_err(access_error)?;
    }
    Ok(Output::new())
}

fn list_policies(ctx: &Ctx<'_>, p: &Params) -> Result<Output, TcError> {
    let scope = p.opt_str("Scope")?.unwrap_or_else(|| "All".into());
    let (preset, custom) = match scope.as_str() {
        "All" | "" => (true, true),
        "QCS" => (true, false),
        "Local" => (false, true),
        other => {
            return Err(TcError::new(
                Code::Access("InvalidParameter.ScopeError"),
                format!("Scope must be All, QCS or Local, got `{other}`."),
            ))
        }
    };
    let keyword = p.opt_str("Keyword")?.unwrap_or_default().to_lowercase();
    let mut all: Vec<PolicyView> = Vec::new();
    if preset {
        all.extend(
            ctx.access
                .system_policies(CLOUD, account(ctx))
                .map_err(access_error)?,
        );
    }
    if custom {
        let list = ctx
            .access
            .list_custom_policies(CLOUD, account(ctx))
            .map_err(access_error)?;
        all.extend(list.iter().map(PolicyView::from));
    }
    if !keyword.is_empty() {
        all.retain(|v| {
            v.name.to_lowercase().contains(&keyword)
                || v.description.to_lowercase().contains(&keyword)
        });
    }
    let (start, end) = page(p, all.len())?;
    let list: Vec<Value> = all[start..end]
        .iter()
        .map(|v| {
            json!({
                "PolicyId": v.id,
                "PolicyName": v.name,
                "AddTime": time_or_empty(v.created_ms),
                "UpdateTime": time_or_empty(v.updated_ms),
                "Type": policy_type(v.kind),
                "Description": v.description,
                "CreateMode": 2,
                "Attachments": v.attached,
                "ServiceType": "",
                "IsAttached": u64::from(v.attached > 0),
                "IsServiceLinkedPolicy": 0,
                "AttachEntityCount": v.attached,
            })
        })
        .collect();
    Ok(out(json!({
        "TotalNum": all.len(),
        "List": list,
        "ServiceTypeList": [],
    })))
}

// ----- attachments -----------------------------------------------------------------------

fn reference(v: &PolicyView) -> PolicyRef {
    PolicyRef {
        kind: v.kind,
        name: v.name.clone(),
    }
}

/// Attaches (`attach`) or detaches a policy; attaching one already attached succeeds.
async fn link(
    ctx: &Ctx<'_>,
    target: Target<'_>,
    r: PolicyRef,
    attach: bool,
) -> Result<(), TcError> {
    let res = if attach {
        ctx.access.attach(CLOUD, account(ctx), target, r).await
    } else {
        ctx.access.detach(CLOUD, account(ctx), target, r).await
    };
    match res {
        Ok(()) | Err(AccessError::AlreadyExists(Entity::Attachment, _)) => Ok(()),
        Err(e) => Err(access_error(e)),
    }
}

async fn user_policy(ctx: &Ctx<'_>, p: &Params, attach: bool) -> Result<Output, TcError> {
    let field = if attach { "AttachUin" } else { "DetachUin" };
    let id = p
        .opt_u64("PolicyId")?
        .ok_or_else(|| TcError::missing("PolicyId"))?;
    let uin = req_id(p, field)?;
    let v = policy_by_id(ctx, id)?;
    let user = user_by_uin(ctx, &uin)?;
    link(ctx, Target::User(&user.name), reference(&v), attach).await?;
    Ok(Output::new())
}

async fn role_policy(ctx: &Ctx<'_>, p: &Params, attach: bool) -> Result<Output, TcError> {
    let (id, name) = if attach {
        ("AttachRoleId", "AttachRoleName")
    } else {
        ("DetachRoleId", "DetachRoleName")
    };
    let v = policy_ref(ctx, p)?;
    let role = role_ref(ctx, p, id, name)?;
    link(ctx, Target::Role(&role.name), reference(&v), attach).await?;
    Ok(Output::new())
}

fn attached(ctx: &Ctx<'_>, list: &[Attachment], role: bool) -> Vec<Value> {
    list.iter()
        .map(|a| {
            let view = ctx.access.policy(CLOUD, account(ctx), &a.policy).ok();
            let mut m = Map::new();
            m.insert("PolicyId".into(), json!(view.as_ref().map_or(0, |v| v.id)));
            m.insert("PolicyName".into(), json!(a.policy.name));
            m.insert("AddTime".into(), json!(cam_time(a.attached_ms)));
            m.insert("CreateMode".into(), json!(2));
            m.insert("PolicyType".into(), json!(policy_type_name(a.policy.kind)));
            m.insert("Deactived".into(), json!(0));
            m.insert("DeactivedDetail".into(), json!([]));
            let description = view.map(|v| v.description).unwrap_or_default();
            if role {
                m.insert("Description".into(), json!(description));
            } else {
                m.insert("Remark".into(), json!(description));
                m.insert("OperateOwnerUin".into(), json!(account(ctx)));
                m.insert("OperateUin".into(), json!(account(ctx)));
                m.insert("OperateUinType".into(), json!(0));
            }
            Value::Object(m)
        })
        .collect()
}

fn list_attached_user_policies(ctx: &Ctx<'_>, p: &Params) -> Result<Output, TcError> {
    let uin = req_id(p, "TargetUin")?;
    let user = user_by_uin(ctx, &uin)?;
    let (start, end) = page(p, user.policies.len())?;
    let list = attached(ctx, &user.policies[start..end], false);
    Ok(out(
        json!({ "TotalNum": user.policies.len(), "List": list }),
    ))
}

fn list_attached_role_policies(ctx: &Ctx<'_>, p: &Params) -> Result<Output, TcError> {
    let role = role_ref(ctx, p, "RoleId", "RoleName")?;
    let mut list: Vec<Attachment> = role.policies.clone();
    match p.opt_str("PolicyType")?.as_deref() {
        None | Some("") => {}
        Some("User") => list.retain(|a| a.policy.kind == PolicyKind::Custom),
        Some("QCS") => list.retain(|a| a.policy.kind == PolicyKind::System),
        Some(other) => {
            return Err(invalid(
                "PolicyType",
                format!("must be User or QCS, got `{other}`"),
            ))
        }
    }
    if let Some(k) = p.opt_str("Keyword")?.filter(|k| !k.is_empty()) {
        let k = k.to_lowercase();
        list.retain(|a| a.policy.name.to_lowercase().contains(&k));
    }
    let (start, end) = page(p, list.len())?;
    let rendered = attached(ctx, &list[start..end], true);
    Ok(out(json!({ "List": rendered, "TotalNum": list.len() })))
}

// ----- roles -----------------------------------------------------------------------------

async fn create_role(ctx: &Ctx<'_>, p: &Params) -> Result<Output, TcError> {
    let name = p.req_str("RoleName")?;
    rules::role_name(CLOUD, "RoleName", &name).map_err(access_error)?;
    let trust = p.req_str("PolicyDocument")?;
    check_policy(ctx, &trust, true)?;
    let description = text(p, "Description", MAX_DESCRIPTION)?;
    let console_login = flag(p, "ConsoleLogin")?;
    let session = p.opt_u64("SessionDuration")?;
    if let Some(s) = session {
        rules::max_session(CLOUD, "SessionDuration", s).map_err(access_error)?;
    }
    let role = ctx
        .access
        .create_role(
            CLOUD,
            account(ctx),
            NewRole {
                name,
                trust,
                description,
                max_session_secs: session.filter(|s| *s > 0),
                console_login,
            },
        )
        .await
        .map_err(access_error)?;
    Ok(out(json!({ "RoleId": role.id })))
}

fn get_role(ctx: &Ctx<'_>, p: &Params) -> Result<Output, TcError> {
    let role = role_ref(ctx, p, "RoleId", "RoleName")?;
    Ok(out(json!({ "RoleInfo": role_json(&role) })))
}

async fn delete_role(ctx: &Ctx<'_>, p: &Params) -> Result<Output, TcError> {
    let role = role_ref(ctx, p, "RoleId", "RoleName")?;
    ctx.access
        .delete_role(CLOUD, account(ctx), &role.name, true)
        .await
        .map_err(access_error)?;
    Ok(Output::new())
}

fn describe_role_list(ctx: &Ctx<'_>, p: &Params) -> Result<Output, TcError> {
    let roles = ctx
        .access
        .list_roles(CLOUD, account(ctx))
        .map_err(access_error)?;
    let (start, end) = page(p, roles.len())?;
    let list: Vec<Value> = roles[start..end].iter().map(role_json).collect();
    Ok(out(json!({ "List": list, "TotalNum": roles.len() })))
}

async fn update_assume_role_policy(ctx: &Ctx<'_>, p: &Params) -> Result<Output, TcError> {
    let trust = p.req_str("PolicyDocument")?;
    let role = role_ref(ctx, p, "RoleId", "RoleName")?;
    check_policy(ctx, &trust, true)?;
    ctx.access
        .update_role(
            CLOUD,
            account(ctx),
            &role.name,
            RoleChanges {
                trust: Some(trust),
                ..RoleChanges::default()
            },
        )
        .await
        .map_err(access_error)?;
    Ok(Output::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grammar_kind_has_its_cam_code() {
        for (kind, code) in [
            ("Syntax", "InvalidParameter.PolicyDocumentError"),
            ("Version", "InvalidParameter.VersionError"),
            ("Effect", "InvalidParameter.EffectError"),
            ("Action", "InvalidParameter.ActionError"),
            ("Resource", "InvalidParameter.ResourceError"),
            ("Condition", "InvalidParameter.ConditionError"),
            ("Principal", "InvalidParameter.PrincipalError"),
            ("TooLong", "InvalidParameter.PolicyDocumentLengthOverLimit"),
        ] {
            let e = access_error(AccessError::Document {
                field: "PolicyDocument",
                kind: kind.into(),
                message: "x".into(),
            });
            assert_eq!(e.code_str(), code);
        }
        assert_eq!(
            access_error(AccessError::AlreadyExists(Entity::User, "a".into())).code_str(),
            "InvalidParameter.SubUserNameInUse"
        );
        assert_eq!(
            access_error(AccessError::Store("x".into())).code_str(),
            "InternalError"
        );
    }

    #[test]
    fn cam_times_have_no_t_and_no_zone() {
        assert_eq!(cam_time(0), "1970-01-01 00:00:00");
    }
}
