//! The rules on names and numbers of the access APIs (each cloud's documented forms).

use super::error::AccessError;
use super::model::Cloud;

fn name_rule(
    field: &'static str,
    value: &str,
    max: usize,
    allowed: impl Fn(char) -> bool,
    what: &str,
) -> Result<(), AccessError> {
    let n = value.chars().count();
    if n == 0 || n > max {
        return Err(AccessError::invalid(
            field,
            format!("must be 1 to {max} characters long, got {n}"),
        ));
    }
    if let Some(c) = value.chars().find(|c| !allowed(*c)) {
        return Err(AccessError::invalid(
            field,
            format!("`{value}` contains `{c}`; {what}"),
        ));
    }
    Ok(())
}

fn tencent_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

/// A user name: Alibaba 1..=64 of letters, digits, `.`, `_`, `-`, `@`; Tencent 1..=64 of
/// `[\w+=,.@-]`.
pub fn user_name(cloud: Cloud, field: &'static str, v: &str) -> Result<(), AccessError> {
    match cloud {
        Cloud::Aliyun => name_rule(
            field,
            v,
            64,
            |c| c.is_ascii_alphanumeric() || "._-@".contains(c),
            "a RAM user name may contain letters, digits, periods (.), underscores (_), hyphens (-) and at signs (@)",
        ),
        Cloud::Tencent => name_rule(
            field,
            v,
            64,
            tencent_name_char,
            "a sub-user name may contain letters, digits and +=,.@_-",
        ),
    }
}

/// A policy name: Alibaba 1..=128 of letters, digits, `-`; Tencent 1..=128 of `[\w+=,.@-]`.
pub fn policy_name(cloud: Cloud, field: &'static str, v: &str) -> Result<(), AccessError> {
    match cloud {
        Cloud::Aliyun => name_rule(
            field,
            v,
            128,
            |c| c.is_ascii_alphanumeric() || c == '-',
            "a policy name may contain letters, digits and hyphens (-)",
        ),
        Cloud::Tencent => name_rule(
            field,
            v,
            128,
            tencent_name_char,
            "a policy name may contain letters, digits and +=,.@_-",
        ),
    }
}

/// A role name: Alibaba 1..=64 of letters, digits, `.`, `-`; Tencent 1..=128 of `[\w+=,.@-]`.
pub fn role_name(cloud: Cloud, field: &'static str, v: &str) -> Result<(), AccessError> {
    match cloud {
        Cloud::Aliyun => name_rule(
            field,
            v,
            64,
            |c| c.is_ascii_alphanumeric() || ".-".contains(c),
            "a role name may contain letters, digits, periods (.) and hyphens (-)",
        ),
        Cloud::Tencent => name_rule(
            field,
            v,
            128,
            tencent_name_char,
            "a role name may contain letters, digits and +=,.@_-",
        ),
    }
}

/// A free-text field of at most `max` characters.
pub fn text(field: &'static str, v: &str, max: usize) -> Result<(), AccessError> {
    let n = v.chars().count();
    if n > max {
        return Err(AccessError::invalid(
            field,
            format!("must be at most {max} characters long, got {n}"),
        ));
    }
    Ok(())
}

/// The longest session of a role: Alibaba 3600..=43200 s; Tencent 0..=43200 s (0: the
/// default, 43200).
pub fn max_session(cloud: Cloud, field: &'static str, secs: u64) -> Result<(), AccessError> {
    let ok = match cloud {
        Cloud::Aliyun => (3600..=43200).contains(&secs),
        Cloud::Tencent => secs <= 43200,
    };
    if ok {
        Ok(())
    } else {
        Err(AccessError::invalid(
            field,
            match cloud {
                Cloud::Aliyun => format!("must be 3600 to 43200 seconds, got {secs}"),
                Cloud::Tencent => format!("must be 0 to 43200 seconds, got {secs}"),
            },
        ))
    }
}

/// An STS role session name: Alibaba 2..=64 of letters, digits, `.`, `@`, `-`, `_`; Tencent
/// 2..=128 of `[\w+=,.@-]`.
pub fn session_name(cloud: Cloud, field: &'static str, v: &str) -> Result<(), AccessError> {
    let (max, allowed): (usize, fn(char) -> bool) = match cloud {
        Cloud::Aliyun => (64, |c| c.is_ascii_alphanumeric() || ".@-_".contains(c)),
        Cloud::Tencent => (128, tencent_name_char),
    };
    let n = v.chars().count();
    if n < 2 {
        return Err(AccessError::invalid(
            field,
            format!("must be 2 to {max} characters long, got {n}"),
        ));
    }
    name_rule(
        field,
        v,
        max,
        allowed,
        "a session name may contain letters, digits and .@-_",
    )
}

/// An STS session's requested duration: Alibaba 900..=43200 s, Tencent 1..=43200 s (the
/// role's own longest session is checked by `assume_role`).
pub fn session_duration(cloud: Cloud, field: &'static str, secs: i64) -> Result<u64, AccessError> {
    let min = match cloud {
        Cloud::Aliyun => 900,
        Cloud::Tencent => 1,
    };
    if (min..=43200).contains(&secs) {
        Ok(secs as u64)
    } else {
        Err(AccessError::invalid(
            field,
            format!("must be {min} to 43200 seconds, got {secs}"),
        ))
    }
}

/// A Tencent STS `ExternalId`: 2..=128 of `[\w+=,.@:/-]`.
pub fn external_id(field: &'static str, v: &str) -> Result<(), AccessError> {
    if v.chars().count() < 2 {
        return Err(AccessError::invalid(
            field,
            "must be 2 to 128 characters long",
        ));
    }
    name_rule(
        field,
        v,
        128,
        |c| tencent_name_char(c) || ":/".contains(c),
        "an external id may contain letters, digits and +=,.@:/_-",
    )
}

/// A session policy's length: 1..=2048 characters (Alibaba STS).
pub fn session_policy(field: &'static str, v: &str) -> Result<(), AccessError> {
    let n = v.chars().count();
    if n == 0 || n > 2048 {
        return Err(AccessError::invalid(
            field,
            format!("must be 1 to 2048 characters long, got {n}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_each_clouds_alphabet_and_length() {
        assert!(user_name(Cloud::Aliyun, "UserName", "alice.b@x").is_ok());
        assert!(user_name(Cloud::Aliyun, "UserName", "a b").is_err());
        assert!(user_name(Cloud::Aliyun, "UserName", "").is_err());
        assert!(user_name(Cloud::Tencent, "Name", "bob+1=x,y").is_ok());
        assert!(policy_name(Cloud::Aliyun, "PolicyName", "read_only").is_err());
        assert!(policy_name(Cloud::Tencent, "PolicyName", "read_only").is_ok());
        assert!(role_name(Cloud::Aliyun, "RoleName", &"r".repeat(65)).is_err());
        assert!(max_session(Cloud::Aliyun, "MaxSessionDuration", 3599).is_err());
        assert!(max_session(Cloud::Tencent, "SessionDuration", 0).is_ok());
        assert!(session_name(Cloud::Aliyun, "RoleSessionName", "ci-run.1@x_y").is_ok());
        assert!(session_name(Cloud::Aliyun, "RoleSessionName", "a").is_err());
        assert!(session_name(Cloud::Aliyun, "RoleSessionName", "a b").is_err());
        assert!(session_name(Cloud::Aliyun, "RoleSessionName", &"s".repeat(65)).is_err());
        assert!(session_duration(Cloud::Aliyun, "DurationSeconds", 899).is_err());
        assert!(session_duration(Cloud::Aliyun, "DurationSeconds", 43200).is_ok());
        assert!(session_duration(Cloud::Tencent, "DurationSeconds", 43201).is_err());
        assert!(session_name(Cloud::Tencent, "RoleSessionName", "ci-run@1").is_ok());
        assert!(external_id("ExternalId", "qcs:/x").is_ok());
        assert!(session_policy("Policy", &"p".repeat(2049)).is_err());
    }
}
