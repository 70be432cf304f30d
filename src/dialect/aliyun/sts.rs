//! STS 2015-04-01: `AssumeRole` (access.md §2.1, §2.2: the response in the SDK model's
//! names) and `GetCallerIdentity`. The policy stage has checked the caller's `sts:AssumeRole`
//! on the role ARN; the trust policy is checked here, by `Access::assume_role`.

use serde_json::{json, Value};

use crate::access::authorize::context;
use crate::access::{rules, AccessError, AssumeError, AssumeRole, Cloud, Principal};
use crate::clock::iso8601_utc;

use super::access_api::Ctx;
use super::actions::Output;
use super::authorize::no_permission;
use super::error::{AliError, Code};
use super::ram::access_error;

const C: Cloud = Cloud::Aliyun;

fn invalid(field: &str, message: impl Into<String>) -> AliError {
    AliError::new(
        Code::Access(format!("InvalidParameter.{field}"), 400),
        message,
    )
}

/// `acs:ram::<account>:role/<name>` → (account, name).
fn parse_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("acs:ram::")?;
    let (account, role) = rest.split_once(':')?;
    let name = role.strip_prefix("role/")?;
    if account.is_empty() || !account.bytes().all(|b| b.is_ascii_digit()) || name.is_empty() {
        return None;
    }
    Some((account, name))
}

/// Runs an STS action.
pub async fn run(name: &str, ctx: &Ctx<'_>) -> Result<Output, AliError> {
    let v = match name {
        "AssumeRole" => assume_role(ctx).await?,
        "GetCallerIdentity" => caller_identity(ctx),
        other => return Err(AliError::internal(&format!("{other} has no STS handler"))),
    };
    Ok(match v {
        Value::Object(m) => m.into(),
        _ => Output::new(),
    })
}

fn rule(r: Result<(), AccessError>) -> Result<(), AliError> {
    r.map_err(access_error)
}

async fn assume_role(ctx: &Ctx<'_>) -> Result<Value, AliError> {
    let p = ctx.params;
    let arn = p.req_str("RoleArn")?;
    let (account, role) = parse_arn(&arn)
        .ok_or_else(|| invalid("RoleArn", "The parameter RoleArn is wrongly formed."))?;
    let session = p.req_str("RoleSessionName")?;
    rule(rules::session_name(C, "RoleSessionName", &session))?;
    let duration = match p.opt_i64("DurationSeconds")? {
        None => 3600,
        Some(d) => rules::session_duration(C, "DurationSeconds", d).map_err(access_error)?,
    };
    let policy = p.opt_str("Policy");
    if let Some(text) = &policy {
        rules::session_policy("Policy", text).map_err(|e| invalid("PolicySize", e.to_string()))?;
    }
    // ExternalId is accepted and not checked (trust policies' sts:ExternalId condition is not
    // evaluated against it: docs/access.md).
    let _ = p.opt_str("ExternalId");
    let cond = context(C, "sts", "", ctx.peer, ctx.secure);
    let req = AssumeRole {
        role,
        by_id: false,
        account,
        session: &session,
        duration_secs: duration,
        policy: policy.as_deref(),
        context: &cond,
    };
    let issued = ctx
        .access
        .assume_role(C, ctx.who, &req)
        .await
        .map_err(|e| match e {
            AssumeError::NoRole => AliError::new(
                Code::Access("EntityNotExist.Role".into(), 404),
                format!("The role does not exist: {role}."),
            ),
            AssumeError::NotTrusted => no_permission(),
            AssumeError::TooLong { max } => invalid(
                "DurationSeconds",
                format!(
                    "The Min/Max value of DurationSeconds is 15min/{max}s (the role's MaxSessionDuration)."
                ),
            ),
            AssumeError::BadPolicy(m) => invalid(
                "PolicyGrammar",
                format!("The parameter Policy has not followed the policy grammar: {m}"),
            ),
            AssumeError::BadTrust(m) => AliError::internal(&format!(
                "the role's stored trust policy does not parse: {m}"
            )),
            AssumeError::Store(d) => AliError::internal(&d),
        })?;
    Ok(json!({
        "AssumedRoleUser": {
            "Arn": format!("acs:ram::{}:role/{}/{}", issued.role.account, issued.role.name, issued.session),
            "AssumedRoleId": format!("{}:{}", issued.role.id, issued.session),
        },
        "Credentials": {
            "AccessKeyId": issued.key_id,
            "AccessKeySecret": issued.secret,
            "SecurityToken": issued.token,
            "Expiration": iso8601_utc(issued.expires_ms),
        },
    }))
}

fn caller_identity(ctx: &Ctx<'_>) -> Value {
    let who = ctx.who;
    let acct = &who.account.id;
    let arn = who.arn(C);
    match &who.principal {
        Principal::Root => json!({
            "AccountId": acct, "Arn": arn, "IdentityType": "Account",
            "PrincipalId": acct, "UserId": acct, "RoleId": "",
        }),
        Principal::User(g) => json!({
            "AccountId": acct, "Arn": arn, "IdentityType": "RAMUser",
            "PrincipalId": g.user.id, "UserId": g.user.id, "RoleId": "",
        }),
        Principal::Session(s) => json!({
            "AccountId": acct, "Arn": arn, "IdentityType": "AssumedRoleUser",
            "PrincipalId": format!("{}:{}", s.claims.role_id, s.claims.session),
            "UserId": "", "RoleId": s.claims.role_id,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_parse_only_in_the_ram_form() {
        assert_eq!(
            parse_arn("acs:ram::100000000001:role/ci-role"),
            Some(("100000000001", "ci-role"))
        );
        assert_eq!(parse_arn("acs:ram::abc:role/x"), None);
        assert_eq!(parse_arn("acs:ram::1:user/x"), None);
        assert_eq!(parse_arn("acs:ram::1:role/"), None);
        assert_eq!(parse_arn("qcs::cam::uin/1:roleName/x"), None);
    }
}
