//! The Alibaba dialect's errors: one enum of codes with their HTTP statuses (imm.md §3.4), and
//! the translation of the face domain's errors. Handlers never spell a code.

use std::borrow::Cow;

use crate::dialect::Lang;
use crate::imm::rules::{self, ClusterText, NameOf, Violation};
use crate::imm::{ImmError, TaskFailure};

/// Wire error codes cloudtwin answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Code {
    /// `Missing{ParameterName}`.
    Missing(String),
    /// A code and HTTP status chosen by a fault-injection rule.
    Injected(String, u16),
    /// A code and HTTP status of the access APIs (RAM, STS, credentials, denials), spelled by
    /// their own tables.
    Access(String, u16),
    IncompleteSignature,
    InternalError,
    InvalidAccessKeyIdNotFound,
    InvalidActionNotFound,
    InvalidArgument,
    InvalidRegionId,
    InvalidSignatureMethod,
    InvalidTimeStampExpired,
    InvalidTimeStampFormat,
    InvalidVersion,
    LimitExceededError,
    ResourceAlreadyExists,
    ResourceNotFound,
    SignatureDoesNotMatch,
    SignatureNonceUsed,
    StatusConflict,
    ThrottlingUser,
    UnsupportedHTTPMethod,
}

impl Code {
    /// The code on the wire.
    pub fn as_str(&self) -> Cow<'static, str> {
        use Code::*;
        Cow::Borrowed(match self {
            Missing(p) => return Cow::Owned(format!("Missing{p}")),
            Injected(c, _) | Access(c, _) => return Cow::Owned(c.clone()),
            IncompleteSignature => "IncompleteSignature",
            InternalError => "InternalError",
            InvalidAccessKeyIdNotFound => "InvalidAccessKeyId.NotFound",
            InvalidActionNotFound => "InvalidAction.NotFound",
            InvalidArgument => "InvalidArgument",
            InvalidRegionId => "InvalidRegionId",
            InvalidSignatureMethod => "InvalidSignatureMethod",
            InvalidTimeStampExpired => "InvalidTimeStamp.Expired",
            InvalidTimeStampFormat => "InvalidTimeStamp.Format",
            InvalidVersion => "InvalidVersion",
            LimitExceededError => "LimitExceededError",
            ResourceAlreadyExists => "ResourceAlreadyExists",
            ResourceNotFound => "ResourceNotFound",
            SignatureDoesNotMatch => "SignatureDoesNotMatch",
            SignatureNonceUsed => "SignatureNonceUsed",
            StatusConflict => "StatusConflict",
            ThrottlingUser => "Throttling.User",
            UnsupportedHTTPMethod => "UnsupportedHTTPMethod",
        })
    }

    /// Every code: the unit ones, and `Missing` for one parameter (the access and injected codes
    /// are strings: [`ACCESS_ZH`] covers the former).
    pub fn all() -> Vec<Code> {
        use Code::*;
        vec![
            Missing("Name".into()),
            IncompleteSignature,
            InternalError,
            InvalidAccessKeyIdNotFound,
            InvalidActionNotFound,
            InvalidArgument,
            InvalidRegionId,
            InvalidSignatureMethod,
            InvalidTimeStampExpired,
            InvalidTimeStampFormat,
            InvalidVersion,
            LimitExceededError,
            ResourceAlreadyExists,
            ResourceNotFound,
            SignatureDoesNotMatch,
            SignatureNonceUsed,
            StatusConflict,
            ThrottlingUser,
            UnsupportedHTTPMethod,
        ]
    }

    /// The code's generic Chinese message (cloudtwin's translation of the POP and IMM wording:
    /// docs/imm.md, "Error message language"). `None` for an injected code and an access code
    /// [`ACCESS_ZH`] does not cover: those answer their English message.
    pub fn zh(&self) -> Option<Cow<'static, str>> {
        use Code::*;
        Some(Cow::Borrowed(match self {
            Missing(p) => return Some(Cow::Owned(format!("{p} 是该接口的必填参数。"))),
            Injected(..) => return None,
            Access(c, _) => return access_zh(c).map(Cow::Borrowed),
            IncompleteSignature => "请求的签名不符合阿里云的标准。",
            InternalError => "由于未知错误，请求处理失败。",
            InvalidAccessKeyIdNotFound => "指定的 AccessKey 不存在。",
            InvalidActionNotFound => "指定的接口不存在，请检查 URL 和请求方法。",
            InvalidArgument => "指定的参数无效。",
            InvalidRegionId => "指定的地域不存在。",
            InvalidSignatureMethod => "指定的签名方法不受支持。",
            InvalidTimeStampExpired => "指定的时间戳或日期已过期。",
            InvalidTimeStampFormat => "指定的时间戳格式不正确。",
            InvalidVersion => "指定的 Version 参数无效。",
            LimitExceededError => "超出了限制。",
            ResourceAlreadyExists => "指定的资源已存在。",
            ResourceNotFound => "指定的资源不存在。",
            SignatureDoesNotMatch => "指定的签名与计算结果不匹配。",
            SignatureNonceUsed => "指定的签名随机数已被使用。",
            StatusConflict => "资源状态冲突。",
            ThrottlingUser => "请求因用户流控被拒绝。",
            UnsupportedHTTPMethod => "不支持该 HTTP 方法。",
        }))
    }

    /// The HTTP status of the code.
    pub fn status(&self) -> u16 {
        match self {
            Code::Injected(_, status) | Code::Access(_, status) => *status,
            Code::InvalidAccessKeyIdNotFound
            | Code::InvalidActionNotFound
            | Code::ResourceNotFound => 404,
            Code::InternalError => 500,
            _ => 400,
        }
    }
}

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliError {
    /// The code.
    pub code: Code,
    /// The message (English).
    pub message: String,
    /// The message in Chinese with the details of `message`, where the error's maker wrote
    /// one; otherwise a Chinese request gets the code's generic wording ([`Code::zh`]).
    pub message_zh: Option<Box<str>>,
    /// For throttling: `x-acs-retry-after` in milliseconds.
    pub retry_after_ms: Option<u64>,
    /// For an access denial: the body's `AccessDeniedDetail`.
    pub access_denied_detail: Option<serde_json::Value>,
}

impl AliError {
    /// An error with a message.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        AliError {
            code,
            message: message.into(),
            message_zh: None,
            retry_after_ms: None,
            access_denied_detail: None,
        }
    }

    /// The same error with its Chinese message.
    pub fn zh(mut self, message: impl Into<String>) -> Self {
        self.message_zh = Some(message.into().into_boxed_str());
        self
    }

    /// The message in `lang`: in Chinese the error's own Chinese message, else the code's
    /// generic one, else (an injected fault, an access code without a Chinese text) English.
    pub fn message_in(&self, lang: Lang) -> Cow<'_, str> {
        match lang {
            Lang::En => Cow::Borrowed(&self.message),
            Lang::Zh => match &self.message_zh {
                Some(m) => Cow::Borrowed(m),
                None => self.code.zh().unwrap_or(Cow::Borrowed(&self.message)),
            },
        }
    }

    /// `Missing{Name}`: a required parameter is absent.
    pub fn missing(name: &str) -> Self {
        Self::new(
            Code::Missing(name.to_string()),
            format!("{name} is mandatory for this action."),
        )
        .zh(format!("{name} 是该接口的必填参数。"))
    }

    /// `InvalidArgument` with a precise message.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Code::InvalidArgument, message)
    }

    /// `InternalError`.
    pub fn internal(detail: &str) -> Self {
        Self::new(
            Code::InternalError,
            format!("The request processing has failed due to some unknown error: {detail}"),
        )
        .zh(format!("由于未知错误，请求处理失败：{detail}"))
    }
}

impl From<ImmError> for AliError {
    fn from(e: ImmError) -> Self {
        match e {
            ImmError::NotFound { kind, name } => AliError::new(
                Code::ResourceNotFound,
                format!("The specified resource {kind} is not found: {name}."),
            )
            .zh(format!("指定的资源 {kind} 不存在：{name}。")),
            ImmError::AlreadyExists { kind, name } => AliError::new(
                Code::ResourceAlreadyExists,
                format!("The specified resource {kind} already exists: {name}."),
            )
            .zh(format!("指定的资源 {kind} 已存在：{name}。")),
            ImmError::NotEmpty { kind, name } => AliError::new(
                Code::StatusConflict,
                format!("Message: cannot delete when sub resoures exist ({kind} {name})"),
            )
            .zh(format!("存在子资源时不能删除（{kind} {name}）。")),
            ImmError::LimitExceeded(m) => AliError::new(Code::LimitExceededError, m),
            ImmError::LockMismatch { given, current } => AliError::invalid(format!(
                "MetaLockVersion {given} does not match the figure cluster's current MetaLockVersion {current}: read the cluster again and retry."
            ))
            .zh(format!("MetaLockVersion {given} 与人物聚类当前的 MetaLockVersion {current} 不一致：请重新读取聚类后重试。")),
            ImmError::Invalid(m) => AliError::invalid(m),
            ImmError::Rule(v) => AliError::from(v),
            ImmError::Store(d) => AliError::internal(&d),
        }
    }
}

/// The code a failed task records (`Code` in GetTask and ListTasks): the code the same error
/// would have answered with, had it happened on a request.
pub fn task_failure_code(f: TaskFailure) -> String {
    match f {
        TaskFailure::NotFound => Code::ResourceNotFound,
        TaskFailure::Internal => Code::InternalError,
    }
    .as_str()
    .into_owned()
}

impl From<Violation> for AliError {
    fn from(v: Violation) -> Self {
        let (en, zh) = match v {
            Violation::Name { of, value } => {
                let param = match of {
                    NameOf::Project => "ProjectName",
                    NameOf::Dataset => "DatasetName",
                };
                (
                    format!("Specified parameter {param} is not valid: `{value}` must be 1-128 letters, digits, '-' or '_', starting with a letter or '_'."),
                    format!("指定的参数 {param} 无效：`{value}` 须为 1-128 个字母、数字、'-' 或 '_'，以字母或 '_' 开头。"),
                )
            }
            Violation::DescriptionLength { chars } => (
                format!("Specified parameter Description is not valid: it has {chars} characters; 1 to {} are allowed.", rules::MAX_DESCRIPTION_CHARS),
                format!("指定的参数 Description 无效：长 {chars} 个字符，允许 1 到 {} 个。", rules::MAX_DESCRIPTION_CHARS),
            ),
            Violation::UserDataTooLong { bytes } => (
                format!("Specified parameter UserData is not valid: {bytes} bytes; at most {} are allowed.", rules::MAX_USER_DATA),
                format!("指定的参数 UserData 无效：{bytes} 字节，最多允许 {} 字节。", rules::MAX_USER_DATA),
            ),
            Violation::ClusterTextTooLong(field) => {
                let k = match field {
                    ClusterText::Name => "Name",
                    ClusterText::CustomId => "CustomId",
                };
                (
                    format!(
                        "FigureCluster.{k} is too long: at most {} characters.",
                        rules::MAX_CLUSTER_TEXT_CHARS
                    ),
                    format!(
                        "FigureCluster.{k} 过长：最多 {} 个字符。",
                        rules::MAX_CLUSTER_TEXT_CHARS
                    ),
                )
            }
            Violation::TooManyLabels { count } => (
                format!(
                    "FigureCluster.CustomLabels has {count} labels; at most {} are allowed.",
                    rules::MAX_LABELS
                ),
                format!(
                    "FigureCluster.CustomLabels 有 {count} 个标签，最多允许 {} 个。",
                    rules::MAX_LABELS
                ),
            ),
            Violation::LabelSize { key } => (
                format!("FigureCluster.CustomLabels: key `{key}` must be {}-{} bytes and its value at most {}.", 1, rules::MAX_LABEL_KEY_LEN, rules::MAX_LABEL_VALUE_LEN),
                format!("FigureCluster.CustomLabels：键 `{key}` 须为 {}-{} 字节，值最多 {} 字节。", 1, rules::MAX_LABEL_KEY_LEN, rules::MAX_LABEL_VALUE_LEN),
            ),
        };
        AliError::invalid(en).zh(zh)
    }
}

/// The Chinese messages of the access APIs' codes (RAM 2015-05-01, STS 2015-04-01, security
/// tokens, denials), by code prefix, the first match deciding (cloudtwin's translation of the
/// English wording). The denial code is a setting: its default (`AccessDenied`), `Forbidden.RAM` and
/// `NoPermission` are here.
pub const ACCESS_ZH: &[(&str, &str)] = &[
    ("NoPermission", "您没有执行该操作的权限，请通过 RAM 授权。"),
    ("AccessDenied", "您没有在指定资源上执行该操作的权限。"),
    ("Forbidden.RAM", "您没有在指定资源上执行该操作的权限。"),
    (
        "InvalidSecurityToken.Expired",
        "指定的 SecurityToken 已过期。",
    ),
    (
        "InvalidSecurityToken.MismatchWithAccessKey",
        "指定的 SecurityToken 与 AccessKey 不匹配。",
    ),
    ("InvalidSecurityToken", "指定的 SecurityToken 格式错误。"),
    ("MissingSecurityToken", "该接口必须提供 SecurityToken。"),
    ("InvalidAccessKeyId.NotFound", "指定的 AccessKey 不存在。"),
    ("InvalidAccessKeyId.Inactive", "指定的 AccessKey 已被禁用。"),
    ("InvalidAccessKeyId", "指定的 AccessKey 无效。"),
    ("EntityNotExist", "指定的实体不存在。"),
    ("EntityAlreadyExists", "指定的实体已存在。"),
    ("LimitExceeded", "数量已达上限。"),
    ("InvalidParameter", "指定的参数无效。"),
    ("MalformedPolicyDocument", "权限策略文档格式错误。"),
    ("DeleteConflict", "存在关联，不能删除。"),
];

/// The Chinese message of an access code, if [`ACCESS_ZH`] covers it.
pub fn access_zh(code: &str) -> Option<&'static str> {
    ACCESS_ZH
        .iter()
        .find(|(prefix, _)| code.starts_with(prefix))
        .map(|(_, m)| *m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_cjk(s: &str) -> bool {
        s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    }

    #[test]
    fn every_code_has_a_chinese_message() {
        for code in Code::all() {
            let zh = code.zh().unwrap_or_default();
            assert!(has_cjk(&zh), "{} has no Chinese message", code.as_str());
        }
        for (code, zh) in ACCESS_ZH {
            assert!(has_cjk(zh), "{code} has no Chinese message");
            assert_eq!(
                Code::Access(code.to_string(), 400).zh().as_deref(),
                Some(*zh)
            );
        }
        for code in [
            "EntityNotExist.User",
            "LimitExceeded.User.AccessKey",
            "InvalidSecurityToken.Expired",
        ] {
            assert!(Code::Access(code.into(), 400).zh().is_some(), "{code}");
        }
        assert_eq!(Code::Access("NoSuch".into(), 400).zh(), None);
        assert_eq!(Code::Injected("X".into(), 503).zh(), None);
    }

    #[test]
    fn the_message_follows_the_language_with_the_details_kept() {
        let e = AliError::from(ImmError::NotFound {
            kind: "project",
            name: "p1".into(),
        });
        assert_eq!(
            e.message_in(Lang::En),
            "The specified resource project is not found: p1."
        );
        assert_eq!(e.message_in(Lang::Zh), "指定的资源 project 不存在：p1。");
        let generic = AliError::invalid("something English");
        assert_eq!(generic.message_in(Lang::Zh), "指定的参数无效。");
        let injected = AliError::new(Code::Injected("Boom".into(), 503), "injected");
        assert_eq!(injected.message_in(Lang::Zh), "injected");
    }
}
