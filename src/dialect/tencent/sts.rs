//! The STS 2018-08-13 actions (access.md §4): `AssumeRole` (temporary credentials for a role
//! whose trust policy admits the caller, narrowed by an optional session `Policy`) and
//! `GetCallerIdentity`. The codes are those of the STS SDK's `errorcodes.py`.

use serde_json::{json, Value};

use crate::access::authorize::context;
use crate::access::{rules, AccessError, AssumeError, AssumeRole, Cloud, Principal};
use crate::clock::iso8601_utc;

use super::access_api::Ctx;
use super::actions::Output;
use super::error::{Code, TcError};
use super::params::Params;

const CLOUD: Cloud = Cloud::Tencent;

/// `DurationSeconds` when the request has none.
const DEFAULT_DURATION: u64 = 7200;

/// Runs an STS action.
pub async fn run(name: &str, ctx: &Ctx<'_>) -> Result<Output, TcError> {
    match name {
        "AssumeRole" => assume_role(ctx, ctx.params).await,
        "GetCallerIdentity" => Ok(caller_identity(ctx)),
        other => Err(TcError::new(
            Code::InvalidAction,
            format!("The STS action `{other}` is not supported."),
        )
        .zh(format!("接口不存在：STS 接口 `{other}` 不受支持。"))),
    }
}

fn param_error(e: AccessError) -> TcError {
    match e {
        AccessError::Invalid {
            field: "DurationSeconds",
            message,
        } => TcError::new(
            Code::Access("InvalidParameter.OverTimeError"),
            format!("DurationSeconds: {message}"),
        ),
        e => TcError::new(Code::Access("InvalidParameter.ParamError"), e.to_string()),
    }
}

/// A role ARN: `qcs::cam::uin/<owner>:roleName/<name>` or `...:role/<roleId>` (also the service
/// role forms `role/tencentcloudServiceRole/<id>` and `role/tencentcloudServiceRoleName/<name>`).
/// Returns (owner, role, by id).
fn parse_arn(arn: &str) -> Option<(&str, &str, bool)> {
    let rest = arn.strip_prefix("qcs::cam::uin/")?;
    let (owner, res) = rest.split_once(':')?;
    if owner.is_empty() || !owner.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (role, by_id) = if let Some(n) = res.strip_prefix("roleName/") {
        (n, false)
    } else if let Some(n) = res.strip_prefix("role/tencentcloudServiceRoleName/") {
        (n, false)
    } else if let Some(i) = res.strip_prefix("role/tencentcloudServiceRole/") {
        (i, true)
    } else if let Some(i) = res.strip_prefix("role/") {
        (i, true)
    } else {
        return None;
    };
    (!role.is_empty() && !role.contains('/')).then_some((owner, role, by_id))
}

/// Percent-decodes once (`+` stays `+`; a `%` not followed by two hex digits stays as is).
fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn assume_role(ctx: &Ctx<'_>, p: &Params) -> Result<Output, TcError> {
    let arn = p.req_str("RoleArn")?;
    let session = p.req_str("RoleSessionName")?;
    rules::session_name(CLOUD, "RoleSessionName", &session).map_err(param_error)?;
    let duration = p.opt_u64("DurationSeconds")?.unwrap_or(DEFAULT_DURATION);
    let duration = rules::session_duration(
        CLOUD,
        "DurationSeconds",
        duration.min(i64::MAX as u64) as i64,
    )
    .map_err(param_error)?;
    if let Some(x) = p.opt_str("ExternalId")? {
        rules::external_id("ExternalId", &x).map_err(param_error)?;
    }
    let policy = p
        .opt_str("Policy")?
        .filter(|s| !s.trim().is_empty())
        .map(|s| url_decode(&s));
    let Some((owner, role, by_id)) = parse_arn(&arn) else {
        return Err(TcError::new(
            Code::Access("InvalidParameter.ParamError"),
            format!("RoleArn `{arn}` is not `qcs::cam::uin/<ownerUin>:roleName/<name>` or `qcs::cam::uin/<ownerUin>:role/<roleId>`."),
        ));
    };
    let trust_ctx = context(CLOUD, "sts", ctx.region, None, false);
    let req = AssumeRole {
        role,
        by_id,
        account: owner,
        session: &session,
        duration_secs: duration,
        policy: policy.as_deref(),
        context: &trust_ctx,
    };
    let issued = ctx
        .access
        .assume_role(CLOUD, ctx.who, &req)
        .await
        .map_err(|e| assume_error(&arn, e))?;
    let expires_secs = issued.expires_ms / 1000;
    let mut o = Output::new();
    o.fields.insert(
        "Credentials".into(),
        json!({
            "Token": issued.token,
            "TmpSecretId": issued.key_id,
            "TmpSecretKey": issued.secret,
        }),
    );
    o.fields.insert("ExpiredTime".into(), json!(expires_secs));
    o.fields.insert(
        "Expiration".into(),
        json!(iso8601_utc(expires_secs.saturating_mul(1000))),
    );
    Ok(o)
}

fn assume_error(arn: &str, e: AssumeError) -> TcError {
    match e {
        AssumeError::NoRole => TcError::new(
            Code::Access("ResourceNotFound.RoleNotFound"),
            format!("The role `{arn}` does not exist."),
        )
        .zh(format!("账号对应的角色不存在：`{arn}`。")),
        AssumeError::NotTrusted => {
            // The CAM denial's wording, the same in every language.
            let message = format!("you are not authorized to perform operation (sts:AssumeRole), resource ({arn}) has no permission");
            TcError::new(Code::UnauthorizedOperation, message.clone()).zh(message)
        }
        AssumeError::TooLong { max } => TcError::new(
            Code::Access("InvalidParameter.OverTimeError"),
            format!("DurationSeconds is over the role's SessionDuration ({max} seconds)."),
        )
        .zh(format!(
            "过期时间超过阈值：DurationSeconds 超过角色的 SessionDuration（{max} 秒）。"
        )),
        AssumeError::BadPolicy(m) => TcError::new(
            Code::Access("InvalidParameter.StrategyFormatError"),
            format!("Policy: {m}"),
        ),
        AssumeError::BadTrust(m) => TcError::new(
            Code::Access("InternalError.IllegalRole"),
            format!("The role's trust policy does not parse: {m}"),
        ),
        AssumeError::Store(m) => TcError::internal(&m),
    }
}

/// The trailing Uin of an ARN (`qcs::cam::uin/1:uin/2` -> `2`).
fn last_uin(arn: &str) -> &str {
    arn.rsplit_once("uin/").map_or(arn, |(_, u)| u)
}

fn caller_identity(ctx: &Ctx<'_>) -> Output {
    let who = ctx.who;
    let account = who.account.id.as_str();
    let (user_id, principal_id, kind) = match &who.principal {
        Principal::Root => (account.to_string(), account.to_string(), "RootAccount"),
        Principal::User(g) => (g.user.id.clone(), g.user.id.clone(), "CAMUser"),
        Principal::Session(s) => (
            format!("{}:{}", s.claims.role_id, s.claims.session),
            last_uin(&s.claims.caller).to_string(),
            "AssumedRoleUser",
        ),
    };
    let mut o = Output::new();
    let fields: [(&str, Value); 5] = [
        ("Arn", json!(who.arn(CLOUD))),
        ("AccountId", json!(account)),
        ("UserId", json!(user_id)),
        ("PrincipalId", json!(principal_id)),
        ("Type", json!(kind)),
    ];
    for (k, v) in fields {
        o.fields.insert(k.to_string(), v);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_by_name_and_by_id() {
        assert_eq!(
            parse_arn("qcs::cam::uin/100:roleName/ci"),
            Some(("100", "ci", false))
        );
        assert_eq!(
            parse_arn("qcs::cam::uin/100:role/4611686018427397919"),
            Some(("100", "4611686018427397919", true))
        );
        assert_eq!(parse_arn("qcs::cam::uin/x:roleName/ci"), None);
        assert_eq!(parse_arn("qcs::cam::uin/1:user/ci"), None);
        assert_eq!(parse_arn("acs:ram::1:role/ci"), None);
    }

    #[test]
    fn the_policy_is_decoded_once() {
        assert_eq!(url_decode("%7B%22a%22%3A1%7D"), "{\"a\":1}");
        assert_eq!(url_decode("%257B"), "%7B");
        assert_eq!(url_decode("a+b%"), "a+b%");
        assert_eq!(url_decode("%zz%4"), "%zz%4");
    }
}
