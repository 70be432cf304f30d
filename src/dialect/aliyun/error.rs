//! The Alibaba dialect's errors: one enum of codes with their HTTP statuses (imm.md §3.4), and
//! the translation of the face domain's errors. Handlers never spell a code.

use std::borrow::Cow;

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
    /// The message.
    pub message: String,
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
            retry_after_ms: None,
            access_denied_detail: None,
        }
    }

    /// `Missing{Name}`: a required parameter is absent.
    pub fn missing(name: &str) -> Self {
        Self::new(
            Code::Missing(name.to_string()),
            format!("{name} is mandatory for this action."),
        )
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
    }
}

impl From<ImmError> for AliError {
    fn from(e: ImmError) -> Self {
        match e {
            ImmError::NotFound { kind, name } => AliError::new(
                Code::ResourceNotFound,
                format!("The specified resource {kind} is not found: {name}."),
            ),
            ImmError::AlreadyExists { kind, name } => AliError::new(
                Code::ResourceAlreadyExists,
                format!("The specified resource {kind} already exists: {name}."),
            ),
            ImmError::NotEmpty { kind, name } => AliError::new(
                Code::StatusConflict,
                format!("Message: cannot delete when sub resoures exist ({kind} {name})"),
            ),
            ImmError::LimitExceeded(m) => AliError::new(Code::LimitExceededError, m),
            ImmError::LockMismatch { given, current } => AliError::invalid(format!(
                "MetaLockVersion {given} does not match the figure cluster's current MetaLockVersion {current}: read the cluster again and retry."
            )),
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
        AliError::invalid(match v {
            Violation::Name { of, value } => {
                let param = match of {
                    NameOf::Project => "ProjectName",
                    NameOf::Dataset => "DatasetName",
                };
                format!("Specified parameter {param} is not valid: `{value}` must be 1-128 letters, digits, '-' or '_', starting with a letter or '_'.")
            }
            Violation::DescriptionLength { chars } => format!("Specified parameter Description is not valid: it has {chars} characters; 1 to {} are allowed.", rules::MAX_DESCRIPTION_CHARS),
            Violation::UserDataTooLong { bytes } => format!("Specified parameter UserData is not valid: {bytes} bytes; at most {} are allowed.", rules::MAX_USER_DATA),
            Violation::ClusterTextTooLong(field) => {
                let k = match field {
                    ClusterText::Name => "Name",
                    ClusterText::CustomId => "CustomId",
                };
                format!(
                    "FigureCluster.{k} is too long: at most {} characters.",
                    rules::MAX_CLUSTER_TEXT_CHARS
                )
            }
            Violation::TooManyLabels { count } => format!(
                "FigureCluster.CustomLabels has {count} labels; at most {} are allowed.",
                rules::MAX_LABELS
            ),
            Violation::LabelSize { key } => format!("FigureCluster.CustomLabels: key `{key}` must be {}-{} bytes and its value at most {}.", 1, rules::MAX_LABEL_KEY_LEN, rules::MAX_LABEL_VALUE_LEN),
        })
    }
}
