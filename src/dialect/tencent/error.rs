//! The Tencent dialect's errors: one enum of wire codes, one table to their strings, and the
//! translation of the CVM domain's errors. Handlers never spell a code.
//!
//! Every API error travels as HTTP 200 with `{"Response":{"Error":{"Code","Message"},"RequestId"}}`
//! (cvm.md §3.2): the SDKs drop the code of any non-200 answer.

use crate::cvm::rules::Violation;
use crate::cvm::{CvmError, ExportBlock};
use crate::dialect::Lang;

/// Wire error codes of CVM API 3.0 that cloudtwin answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Code {
    AuthFailureInvalidAuthorization,
    AuthFailureSecretIdNotFound,
    AuthFailureSignatureExpire,
    AuthFailureSignatureFailure,
    FailedOperationAccountAlreadyExists,
    FailedOperationAccountIsYourSelf,
    FailedOperationBYOLImageShareFailed,
    ImageQuotaLimitExceeded,
    InternalError,
    InvalidAccountIdNotFound,
    InvalidAction,
    InvalidFilter,
    InvalidFilterValueLimitExceeded,
    InvalidImageIdInShared,
    InvalidImageIdIncorrectState,
    InvalidImageIdMalformed,
    InvalidImageIdNotFound,
    InvalidImageNameDuplicate,
    InvalidImageOsTypeUnsupported,
    InvalidImageOsVersionUnsupported,
    InvalidInstanceIdMalformed,
    InvalidInstanceTypeMalformed,
    InvalidParameter,
    InvalidParameterCoexistImageIdsFilters,
    InvalidParameterConflict,
    InvalidParameterImageIdsSnapshotIdsMustOne,
    InvalidParameterInvalidParameterUrlError,
    InvalidParameterSpecifyOneParameter,
    InvalidParameterValueTooLarge,
    InvalidParameterValue,
    InvalidParameterValueBucketNotFound,
    InvalidParameterValueISOMustImportByForce,
    InvalidParameterValueInstanceTypeNotFound,
    InvalidParameterValueInvalidBootMode,
    InvalidParameterValueInvalidFileNamePrefixList,
    InvalidParameterValueInvalidImageFamily,
    InvalidParameterValueInvalidImageId,
    InvalidParameterValueInvalidImageIdIsShared,
    InvalidParameterValueInvalidImageState,
    InvalidParameterValueInvalidLicenseType,
    InvalidParameterValueInvalidParameterValueLimit,
    InvalidParameterValueLimitExceeded,
    InvalidRegionNotFound,
    InvalidRegionUnavailable,
    MissingParameter,
    NoSuchVersion,
    OverQuota,
    RequestLimitExceeded,
    RequestSizeLimitExceeded,
    UnauthorizedOperationImageNotBelongToAccount,
    UnknownParameter,
    UnsupportedOperationEncryptedImagesNotSupported,
    UnsupportedOperationPublicImageExportUnsupported,
    UnsupportedOperationSharedImageExportUnsupported,
    UnsupportedOperationSharedImageModifyUnsupported,
    UnsupportedOperationWindowsImageExportUnsupported,
    UnsupportedProtocol,
    AuthFailureTokenFailure,
    UnauthorizedOperation,
    /// A code of the access APIs (CAM, STS), spelled by their own table (`tencent/cam.rs`).
    Access(&'static str),
}

impl Code {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        use Code::*;
        match self {
            AuthFailureInvalidAuthorization => "AuthFailure.InvalidAuthorization",
            AuthFailureSecretIdNotFound => "AuthFailure.SecretIdNotFound",
            AuthFailureSignatureExpire => "AuthFailure.SignatureExpire",
            AuthFailureSignatureFailure => "AuthFailure.SignatureFailure",
            FailedOperationAccountAlreadyExists => "FailedOperation.AccountAlreadyExists",
            FailedOperationAccountIsYourSelf => "FailedOperation.AccountIsYourSelf",
            FailedOperationBYOLImageShareFailed => "FailedOperation.BYOLImageShareFailed",
            ImageQuotaLimitExceeded => "ImageQuotaLimitExceeded",
            InternalError => "InternalError",
            InvalidAccountIdNotFound => "InvalidAccountId.NotFound",
            InvalidAction => "InvalidAction",
            InvalidFilter => "InvalidFilter",
            InvalidFilterValueLimitExceeded => "InvalidFilterValue.LimitExceeded",
            InvalidImageIdInShared => "InvalidImageId.InShared",
            InvalidImageIdIncorrectState => "InvalidImageId.IncorrectState",
            InvalidImageIdMalformed => "InvalidImageId.Malformed",
            InvalidImageIdNotFound => "InvalidImageId.NotFound",
            InvalidImageNameDuplicate => "InvalidImageName.Duplicate",
            InvalidImageOsTypeUnsupported => "InvalidImageOsType.Unsupported",
            InvalidImageOsVersionUnsupported => "InvalidImageOsVersion.Unsupported",
            InvalidInstanceIdMalformed => "InvalidInstanceId.Malformed",
            InvalidInstanceTypeMalformed => "InvalidInstanceType.Malformed",
            InvalidParameter => "InvalidParameter",
            InvalidParameterCoexistImageIdsFilters => {
                "InvalidParameter.InvalidParameterCoexistImageIdsFilters"
            }
            InvalidParameterConflict => "InvalidParameterConflict",
            InvalidParameterImageIdsSnapshotIdsMustOne => {
                "InvalidParameter.ImageIdsSnapshotIdsMustOne"
            }
            InvalidParameterInvalidParameterUrlError => "InvalidParameter.InvalidParameterUrlError",
            InvalidParameterSpecifyOneParameter => "InvalidParameter.SpecifyOneParameter",
            InvalidParameterValueTooLarge => "InvalidParameter.ValueTooLarge",
            InvalidParameterValue => "InvalidParameterValue",
            InvalidParameterValueBucketNotFound => "InvalidParameterValue.BucketNotFound",
            InvalidParameterValueISOMustImportByForce => {
                "InvalidParameterValue.ISOMustImportByForce"
            }
            InvalidParameterValueInstanceTypeNotFound => {
                "InvalidParameterValue.InstanceTypeNotFound"
            }
            InvalidParameterValueInvalidBootMode => "InvalidParameterValue.InvalidBootMode",
            InvalidParameterValueInvalidFileNamePrefixList => {
                "InvalidParameterValue.InvalidFileNamePrefixList"
            }
            InvalidParameterValueInvalidImageFamily => "InvalidParameterValue.InvalidImageFamily",
            InvalidParameterValueInvalidImageId => "InvalidParameterValue.InvalidImageId",
            InvalidParameterValueInvalidImageIdIsShared => {
                "InvalidParameterValue.InvalidImageIdIsShared"
            }
            InvalidParameterValueInvalidImageState => "InvalidParameterValue.InvalidImageState",
            InvalidParameterValueInvalidLicenseType => "InvalidParameterValue.InvalidLicenseType",
            InvalidParameterValueInvalidParameterValueLimit => {
                "InvalidParameterValue.InvalidParameterValueLimit"
            }
            InvalidParameterValueLimitExceeded => "InvalidParameterValue.LimitExceeded",
            InvalidRegionNotFound => "InvalidRegion.NotFound",
            InvalidRegionUnavailable => "InvalidRegion.Unavailable",
            MissingParameter => "MissingParameter",
            NoSuchVersion => "NoSuchVersion",
            OverQuota => "OverQuota",
            RequestLimitExceeded => "RequestLimitExceeded",
            RequestSizeLimitExceeded => "RequestSizeLimitExceeded",
            UnauthorizedOperationImageNotBelongToAccount => {
                "UnauthorizedOperation.ImageNotBelongToAccount"
            }
            UnknownParameter => "UnknownParameter",
            UnsupportedOperationEncryptedImagesNotSupported => {
                "UnsupportedOperation.EncryptedImagesNotSupported"
            }
            UnsupportedOperationPublicImageExportUnsupported => {
                "UnsupportedOperation.PublicImageExportUnsupported"
            }
            UnsupportedOperationSharedImageExportUnsupported => {
                "UnsupportedOperation.SharedImageExportUnsupported"
            }
            UnsupportedOperationWindowsImageExportUnsupported => {
                "UnsupportedOperation.WindowsImageExportUnsupported"
            }
            UnsupportedOperationSharedImageModifyUnsupported => {
                "UnsupportedOperation.SharedImageModifyUnsupported"
            }
            UnsupportedProtocol => "UnsupportedProtocol",
            AuthFailureTokenFailure => "AuthFailure.TokenFailure",
            UnauthorizedOperation => "UnauthorizedOperation",
            Access(code) => code,
        }
    }

    /// Every code but [`Code::Access`] (whose strings are [`ACCESS_ZH`]'s).
    pub const ALL: &'static [Code] = &[
        Code::AuthFailureInvalidAuthorization,
        Code::AuthFailureSecretIdNotFound,
        Code::AuthFailureSignatureExpire,
        Code::AuthFailureSignatureFailure,
        Code::FailedOperationAccountAlreadyExists,
        Code::FailedOperationAccountIsYourSelf,
        Code::FailedOperationBYOLImageShareFailed,
        Code::ImageQuotaLimitExceeded,
        Code::InternalError,
        Code::InvalidAccountIdNotFound,
        Code::InvalidAction,
        Code::InvalidFilter,
        Code::InvalidFilterValueLimitExceeded,
        Code::InvalidImageIdInShared,
        Code::InvalidImageIdIncorrectState,
        Code::InvalidImageIdMalformed,
        Code::InvalidImageIdNotFound,
        Code::InvalidImageNameDuplicate,
        Code::InvalidImageOsTypeUnsupported,
        Code::InvalidImageOsVersionUnsupported,
        Code::InvalidInstanceIdMalformed,
        Code::InvalidInstanceTypeMalformed,
        Code::InvalidParameter,
        Code::InvalidParameterCoexistImageIdsFilters,
        Code::InvalidParameterConflict,
        Code::InvalidParameterImageIdsSnapshotIdsMustOne,
        Code::InvalidParameterInvalidParameterUrlError,
        Code::InvalidParameterSpecifyOneParameter,
        Code::InvalidParameterValueTooLarge,
        Code::InvalidParameterValue,
        Code::InvalidParameterValueBucketNotFound,
        Code::InvalidParameterValueISOMustImportByForce,
        Code::InvalidParameterValueInstanceTypeNotFound,
        Code::InvalidParameterValueInvalidBootMode,
        Code::InvalidParameterValueInvalidFileNamePrefixList,
        Code::InvalidParameterValueInvalidImageFamily,
        Code::InvalidParameterValueInvalidImageId,
        Code::InvalidParameterValueInvalidImageIdIsShared,
        Code::InvalidParameterValueInvalidImageState,
        Code::InvalidParameterValueInvalidLicenseType,
        Code::InvalidParameterValueInvalidParameterValueLimit,
        Code::InvalidParameterValueLimitExceeded,
        Code::InvalidRegionNotFound,
        Code::InvalidRegionUnavailable,
        Code::MissingParameter,
        Code::NoSuchVersion,
        Code::OverQuota,
        Code::RequestLimitExceeded,
        Code::RequestSizeLimitExceeded,
        Code::UnauthorizedOperationImageNotBelongToAccount,
        Code::UnknownParameter,
        Code::UnsupportedOperationEncryptedImagesNotSupported,
        Code::UnsupportedOperationPublicImageExportUnsupported,
        Code::UnsupportedOperationSharedImageExportUnsupported,
        Code::UnsupportedOperationSharedImageModifyUnsupported,
        Code::UnsupportedOperationWindowsImageExportUnsupported,
        Code::UnsupportedProtocol,
        Code::AuthFailureTokenFailure,
        Code::UnauthorizedOperation,
    ];

    /// The code's generic Chinese message: the cloud's own wording (the `errorcodes.py` of
    /// tencentcloud-sdk-python's cvm, cam and sts packages), or cloudtwin's translation for the
    /// common codes those files do not carry (docs/cvm.md, "Error message language").
    /// `None` only for an access code missing from [`ACCESS_ZH`].
    pub fn zh(self) -> Option<&'static str> {
        use Code::*;
        Some(match self {
            AuthFailureInvalidAuthorization => "请求头部的 Authorization 不符合腾讯云标准。",
            AuthFailureSecretIdNotFound => "密钥不存在。",
            AuthFailureSignatureExpire => "签名过期。",
            AuthFailureSignatureFailure => "签名错误。",
            FailedOperationAccountAlreadyExists => "账号已经存在",
            FailedOperationAccountIsYourSelf => "账号为当前用户",
            FailedOperationBYOLImageShareFailed => "自带许可镜像暂时不支持共享。",
            ImageQuotaLimitExceeded => "镜像配额超过了限制。",
            InternalError => "内部错误。",
            InvalidAccountIdNotFound => "无效的账户Id。",
            InvalidAction => "接口不存在。",
            InvalidFilter => "无效的过滤器。",
            InvalidFilterValueLimitExceeded => "Filter传值超出限制。",
            InvalidImageIdInShared => "镜像处于共享中。",
            InvalidImageIdIncorrectState => "镜像状态不合法。",
            InvalidImageIdMalformed => "错误的镜像Id格式。",
            InvalidImageIdNotFound => "未找到该镜像。",
            InvalidImageNameDuplicate => "镜像名称与原有镜像重复。",
            InvalidImageOsTypeUnsupported => "不支持的操作系统类型。",
            InvalidImageOsVersionUnsupported => "不支持的操作系统版本。",
            InvalidInstanceIdMalformed => "无效实例`ID`。指定的实例`ID`格式错误。",
            InvalidInstanceTypeMalformed => "指定InstanceType参数格式不合法。",
            InvalidParameter => "参数错误。",
            InvalidParameterCoexistImageIdsFilters => "不能同时指定ImageIds和Filters。",
            InvalidParameterConflict => "指定的两个参数冲突，不能同时存在。",
            InvalidParameterImageIdsSnapshotIdsMustOne => {
                "参数ImageIds和SnapshotIds必须有且仅有一个。"
            }
            InvalidParameterInvalidParameterUrlError => "错误的url地址。",
            InvalidParameterSpecifyOneParameter => "多选一必选参数缺失。",
            InvalidParameterValueTooLarge => "参数长度超过限制。",
            InvalidParameterValue => "参数取值错误。",
            InvalidParameterValueBucketNotFound => "请确认存储桶是否存在。",
            InvalidParameterValueISOMustImportByForce => "ISO文件必须强制导入",
            InvalidParameterValueInstanceTypeNotFound => "指定机型不存在",
            InvalidParameterValueInvalidBootMode => "不支持指定的启动模式。",
            InvalidParameterValueInvalidFileNamePrefixList => {
                "参数 FileNamePrefixList 的长度与 ImageIds 或 SnapshotIds 不匹配。"
            }
            InvalidParameterValueInvalidImageFamily => "错误格式的镜像族名称",
            InvalidParameterValueInvalidImageId => "镜像不允许执行该操作",
            InvalidParameterValueInvalidImageIdIsShared => "指定的镜像ID为共享镜像。",
            InvalidParameterValueInvalidImageState => "镜像被其他操作占用，请检查，并稍后重试。",
            InvalidParameterValueInvalidLicenseType => "许可证类型不可用。",
            InvalidParameterValueInvalidParameterValueLimit => "参数值错误。",
            InvalidParameterValueLimitExceeded => "参数值数量超过限制。",
            InvalidRegionNotFound => "未找到该区域。",
            InvalidRegionUnavailable => "该区域目前不支持同步镜像。",
            MissingParameter => "缺少参数错误。",
            NoSuchVersion => "接口版本不存在。",
            OverQuota => "镜像共享超过配额。",
            RequestLimitExceeded => "请求的次数超过了频率限制。",
            RequestSizeLimitExceeded => "请求包超过限制大小。",
            UnauthorizedOperationImageNotBelongToAccount => "指定的镜像不属于用户。",
            UnknownParameter => "未知参数错误。",
            UnsupportedOperationEncryptedImagesNotSupported => "不支持加密镜像。",
            UnsupportedOperationPublicImageExportUnsupported => "公共镜像或市场镜像不支持导出。",
            UnsupportedOperationSharedImageExportUnsupported => "共享镜像不支持导出。",
            UnsupportedOperationSharedImageModifyUnsupported => {
                "从其他账号共享的镜像不支持修改属性。"
            }
            UnsupportedOperationWindowsImageExportUnsupported => "Windows镜像不支持导出。",
            UnsupportedProtocol => "http(s)请求协议错误，只支持 GET 和 POST 请求。",
            AuthFailureTokenFailure => "token 错误。",
            UnauthorizedOperation => "未授权操作。",
            Access(code) => return access_zh(code),
        })
    }
}

/// The Chinese messages of the access APIs' codes (CAM 2019-01-16 and STS 2018-08-13), in the
/// cloud's own wording (the SDK's `cam/v20190116/errorcodes.py`, `sts/v20180813/errorcodes.py`).
pub const ACCESS_ZH: &[(&str, &str)] = &[
    (
        "InvalidParameter.VersionError",
        "策略文档的Version字段不合法。",
    ),
    (
        "InvalidParameter.EffectError",
        "策略文档的Effect字段不合法。",
    ),
    (
        "InvalidParameter.ActionError",
        "策略文档的Action字段不合法。",
    ),
    (
        "InvalidParameter.ResourceError",
        "策略文档的Resource字段不合法。",
    ),
    (
        "InvalidParameter.ConditionError",
        "策略文档的condition字段不合法。",
    ),
    (
        "InvalidParameter.PrincipalError",
        "策略文档的principal字段不合法。",
    ),
    (
        "InvalidParameter.PolicyDocumentLengthOverLimit",
        "PolicyDocument字段超过长度限制。",
    ),
    (
        "InvalidParameter.PolicyDocumentError",
        "PolicyDocument字段不合法。",
    ),
    ("ResourceNotFound.UserNotExist", "用户不存在。"),
    (
        "ResourceNotFound.PolicyIdNotFound",
        "PolicyId指定的资源不存在。",
    ),
    ("ResourceNotFound.GroupNotExist", "用户组不存在。"),
    ("InvalidParameter.PolicyIdNotExist", "策略ID不存在。"),
    ("InvalidParameter.RoleNotExist", "角色不存在。"),
    ("ResourceNotFound.SecretNotExist", "密钥不存在。"),
    ("ResourceNotFound.NotFound", "资源不存在。"),
    ("InvalidParameter.SubUserNameInUse", "子用户名称重复。"),
    (
        "FailedOperation.PolicyNameInUse",
        "PolicyName字段指定的策略名已存在。",
    ),
    ("InvalidParameter.RoleNameInUse", "相同名称的角色已存在。"),
    ("InvalidParameter", "参数错误。"),
    (
        "OperationDenied.AccessKeyOverLimit",
        "每个账号最多支持两个AccessKey。",
    ),
    ("FailedOperation.PolicyFull", "用户策略数超过上限。"),
    (
        "FailedOperation.PolicyVersionFull",
        "策略版本数已经达到上限。",
    ),
    ("InvalidParameter.UserNameIllegal", "用户名不合法。"),
    ("InvalidParameter.PolicyNameError", "PolicyName字段不合法。"),
    ("InvalidParameter.RoleNameError", "角色名不合法。"),
    (
        "InvalidParameter.DescriptionLengthOverlimit",
        "Description入参长度不能大于300字节。",
    ),
    ("InvalidParameter.ParamError", "非法入参。"),
    ("FailedOperation", "操作失败。"),
    ("InvalidParameter.PolicyIdError", "输入参数PolicyId不合法。"),
    ("OperationDenied.HaveKeys", "存在未删除的API密钥。"),
    ("InvalidParameter.ScopeError", "Scope字段不合法。"),
    ("InvalidParameter.OverTimeError", "过期时间超过阈值。"),
    ("ResourceNotFound.RoleNotFound", "账号对应的角色不存在。"),
    ("InvalidParameter.StrategyFormatError", "策略语法错误。"),
    ("InternalError.IllegalRole", "角色非法。"),
];

/// The Chinese message of an access code, if [`ACCESS_ZH`] has it.
pub fn access_zh(code: &str) -> Option<&'static str> {
    ACCESS_ZH.iter().find(|(c, _)| *c == code).map(|(_, m)| *m)
}

/// An error answer: a code and a message for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcError {
    /// The wire code.
    pub code: Code,
    /// The message (English).
    pub message: String,
    /// The message in Chinese with the details of `message`, where the error's maker wrote
    /// one; otherwise a Chinese request gets the code's generic wording ([`Code::zh`]).
    pub message_zh: Option<String>,
    /// A code chosen by a fault-injection rule, answered instead of `code`.
    pub injected: Option<String>,
}

impl TcError {
    /// An error with a message.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        TcError {
            code,
            message: message.into(),
            message_zh: None,
            injected: None,
        }
    }

    /// The same error with its Chinese message.
    pub fn zh(mut self, message: impl Into<String>) -> Self {
        self.message_zh = Some(message.into());
        self
    }

    /// The message in `lang`: in Chinese the error's own Chinese message, else the code's
    /// generic one, else (an injected fault's message, an access code without a Chinese text)
    /// the English one.
    pub fn message_in(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.message,
            Lang::Zh if self.injected.is_some() => &self.message,
            Lang::Zh => self
                .message_zh
                .as_deref()
                .or(self.code.zh())
                .unwrap_or(&self.message),
        }
    }

    /// An error chosen by a fault-injection rule.
    pub fn injected(code: &str, message: &str) -> Self {
        TcError {
            code: Code::InternalError,
            message: message.to_string(),
            message_zh: None,
            injected: Some(code.to_string()),
        }
    }

    /// The code on the wire.
    pub fn code_str(&self) -> &str {
        self.injected.as_deref().unwrap_or(self.code.as_str())
    }

    /// `MissingParameter` for a named parameter.
    pub fn missing(name: &str) -> Self {
        Self::new(
            Code::MissingParameter,
            format!("The request is missing a required parameter `{name}`."),
        )
        .zh(format!("缺少参数错误：请求缺少必需参数 `{name}`。"))
    }

    /// `InvalidParameter` for a parameter of the wrong type or shape.
    pub fn invalid(name: &str, why: &str) -> Self {
        Self::new(
            Code::InvalidParameter,
            format!("The parameter `{name}` is invalid: {why}."),
        )
        .zh(format!("参数错误：参数 `{name}` 不合法。"))
    }

    /// `InvalidParameterValue` for a value outside what the action accepts.
    pub fn invalid_value(name: &str, why: &str) -> Self {
        Self::new(
            Code::InvalidParameterValue,
            format!("The value of parameter `{name}` is invalid: {why}."),
        )
        .zh(format!("参数取值错误：参数 `{name}` 的取值不合法。"))
    }

    /// `InvalidParameter.ValueTooLarge` for an over-long string (counted in characters).
    pub fn too_long(name: &str, max: usize, got: usize) -> Self {
        Self::new(
            Code::InvalidParameterValueTooLarge,
            format!("The parameter `{name}` is {got} characters long; at most {max} are allowed."),
        )
        .zh(format!(
            "参数长度超过限制：参数 `{name}` 长 {got} 个字符，最多允许 {max} 个。"
        ))
    }

    /// `InvalidImageId.Malformed`.
    pub fn malformed_image_id(id: &str) -> Self {
        Self::new(
            Code::InvalidImageIdMalformed,
            format!("ImageId `{id}` is malformed: an image id is `img-` followed by 8 lowercase letters or digits."),
        )
        .zh(format!("错误的镜像Id格式：`{id}`，镜像Id为 `img-` 加 8 位小写字母或数字。"))
    }

    /// `InternalError`, for failures that are not the client's.
    pub fn internal(detail: &str) -> Self {
        Self::new(
            Code::InternalError,
            format!("An internal error occurred: {detail}"),
        )
        .zh(format!("内部错误：{detail}"))
    }
}

impl From<CvmError> for TcError {
    fn from(e: CvmError) -> Self {
        match e {
            CvmError::NotFound(id) => TcError::new(
                Code::InvalidImageIdNotFound,
                format!("ImageId {id} is not found"),
            )
            .zh(format!("未找到该镜像：{id}。")),
            CvmError::IncorrectState { id, state } => TcError::new(
                Code::InvalidImageIdIncorrectState,
                format!(
                    "Image {id} is in state {}, which does not allow this operation.",
                    state.as_wire()
                ),
            )
            .zh(format!(
                "镜像状态不合法：镜像 {id} 处于 {} 状态，不允许该操作。",
                state.as_wire()
            )),
            CvmError::NameDuplicate(name) => TcError::new(
                Code::InvalidImageNameDuplicate,
                format!("An image named `{name}` already exists in this region."),
            )
            .zh(format!(
                "镜像名称与原有镜像重复：本地域已有名为 `{name}` 的镜像。"
            )),
            CvmError::SharedImageModify(id) => TcError::new(
                Code::UnsupportedOperationSharedImageModifyUnsupported,
                format!("Image {id} is shared from another account and cannot be modified."),
            )
            .zh(format!("从其他账号共享的镜像不支持修改属性：{id}。")),
            CvmError::SharedImageDelete(id) => TcError::new(
                Code::InvalidParameterValueInvalidImageIdIsShared,
                format!("Image {id} is shared from another account and cannot be deleted."),
            )
            .zh(format!(
                "指定的镜像ID为共享镜像：{id} 来自其他账号的共享，不能删除。"
            )),
            CvmError::PublicImage(id) => TcError::new(
                Code::InvalidParameterValueInvalidImageId,
                format!("Image {id} is a public image; it does not allow this operation."),
            )
            .zh(format!("镜像不允许执行该操作：{id} 为公共镜像。")),
            CvmError::InShared(id) => TcError::new(
                Code::InvalidImageIdInShared,
                format!("Image {id} is shared to other accounts; cancel the sharing first."),
            )
            .zh(format!(
                "镜像处于共享中：{id} 已共享给其他账号，请先取消共享。"
            )),
            CvmError::QuotaExceeded { quota } => TcError::new(
                Code::ImageQuotaLimitExceeded,
                format!("The custom image quota of this region ({quota}) is used up."),
            )
            .zh(format!(
                "镜像配额超过了限制：本地域的自定义镜像配额（{quota}）已用完。"
            )),
            CvmError::NotReady { id, state } => TcError::new(
                Code::InvalidParameterValueInvalidImageState,
                format!(
                    "Image {id} is in state {}; it must be NORMAL.",
                    state.as_wire()
                ),
            )
            .zh(format!(
                "镜像被其他操作占用，请检查，并稍后重试：镜像 {id} 处于 {} 状态，须为 NORMAL。",
                state.as_wire()
            )),
            CvmError::NotOwner(id) => TcError::new(
                Code::UnauthorizedOperationImageNotBelongToAccount,
                format!("Image {id} does not belong to your account."),
            )
            .zh(format!("指定的镜像不属于用户：{id}。")),
            CvmError::SyncRegion { region, why } => TcError::new(
                Code::InvalidRegionUnavailable,
                format!("Region {region} cannot receive this image: {why}."),
            )
            .zh(format!("该区域目前不支持同步镜像：{region}（{why}）。")),
            CvmError::ExportUnsupported { id, why } => {
                let (code, what) = match why {
                    ExportBlock::Public => (
                        Code::UnsupportedOperationPublicImageExportUnsupported,
                        "a public image",
                    ),
                    ExportBlock::Shared => (
                        Code::UnsupportedOperationSharedImageExportUnsupported,
                        "shared from another account",
                    ),
                    ExportBlock::Windows => (
                        Code::UnsupportedOperationWindowsImageExportUnsupported,
                        "a Windows image",
                    ),
                };
                let zh = code.zh().unwrap_or_default();
                TcError::new(
                    code,
                    format!("Image {id} is {what} and cannot be exported."),
                )
                .zh(format!("{zh}（{id}）"))
            }
            CvmError::AccountNotFound(a) => TcError::new(
                Code::InvalidAccountIdNotFound,
                format!("Account {a} does not exist."),
            )
            .zh(format!("无效的账户Id：账号 {a} 不存在。")),
            CvmError::ShareToSelf => TcError::new(
                Code::FailedOperationAccountIsYourSelf,
                "An image cannot be shared with its own account.",
            )
            .zh("账号为当前用户：镜像不能共享给自己的账号。"),
            CvmError::AlreadyShared(a) => TcError::new(
                Code::FailedOperationAccountAlreadyExists,
                format!("The image is already shared with account {a}."),
            )
            .zh(format!("账号已经存在：镜像已共享给账号 {a}。")),
            CvmError::ShareQuota { limit } => TcError::new(
                Code::OverQuota,
                format!("An image can be shared with at most {limit} accounts."),
            )
            .zh(format!(
                "镜像共享超过配额：一个镜像最多共享给 {limit} 个账号。"
            )),
            CvmError::ByolShare(id) => TcError::new(
                Code::FailedOperationBYOLImageShareFailed,
                format!("Image {id} is a BYOL image and cannot be shared."),
            )
            .zh(format!("自带许可镜像暂时不支持共享：{id}。")),
            CvmError::Rule(v) => TcError::from(v),
            CvmError::Store(detail) => TcError::internal(&detail),
        }
    }
}

impl From<Violation> for TcError {
    fn from(v: Violation) -> Self {
        match v {
            Violation::NameEmpty => {
                TcError::invalid_value(IMAGE_NAME, "the image name must not be empty")
                    .zh("参数取值错误：镜像名称不能为空。")
            }
            Violation::NameControlChars => TcError::invalid_value(
                IMAGE_NAME,
                "the image name must not contain control characters",
            )
            .zh("参数取值错误：镜像名称不能包含控制字符。"),
            Violation::NameTooLong { max, got } => TcError::too_long(IMAGE_NAME, max, got),
            Violation::DescriptionTooLong { max, got } => {
                TcError::too_long(IMAGE_DESCRIPTION, max, got)
            }
            Violation::FamilyMalformed(value) => TcError::new(
                Code::InvalidParameterValueInvalidImageFamily,
                format!("ImageFamily `{value}` is invalid: use 1-60 letters, digits, '.', '_' or '-', starting with a letter or digit."),
            )
            .zh(format!("错误格式的镜像族名称：`{value}`，须为 1-60 个字母、数字、'.'、'_' 或 '-'，以字母或数字开头。")),
            Violation::ImageIdMalformed(id) => TcError::malformed_image_id(&id),
            Violation::InstanceIdMalformed(id) => TcError::new(
                Code::InvalidInstanceIdMalformed,
                format!("InstanceId `{id}` is malformed: an instance id looks like ins-xxxxxxxx, x a lowercase letter or digit."),
            )
            .zh(format!("无效实例`ID`。指定的实例`ID`格式错误：`{id}`，实例ID形如 ins-xxxxxxxx（x 为小写字母或数字）。")),
            Violation::SnapshotIdMalformed(id) => TcError::invalid_value(
                SNAPSHOT_IDS,
                &format!("`{id}` is not a snapshot id like snap-xxxxxxxx"),
            )
            .zh(format!("参数取值错误：`{id}` 不是形如 snap-xxxxxxxx 的快照ID。")),
            Violation::DiskIdMalformed(id) => TcError::invalid_value(
                DATA_DISK_IDS,
                &format!("`{id}` is not a disk id like disk-xxxxxxxx"),
            )
            .zh(format!("参数取值错误：`{id}` 不是形如 disk-xxxxxxxx 的云硬盘ID。")),
        }
    }
}

/// The parameter a broken name rule is reported on.
const IMAGE_NAME: &str = "ImageName";
/// The parameter a broken description rule is reported on.
const IMAGE_DESCRIPTION: &str = "ImageDescription";
/// The parameter a malformed snapshot id is reported on.
const SNAPSHOT_IDS: &str = "SnapshotIds";
/// The parameter a malformed disk id is reported on.
const DATA_DISK_IDS: &str = "DataDiskIds";

#[cfg(test)]
mod tests {
    use super::*;

    fn has_cjk(s: &str) -> bool {
        s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    }

    #[test]
    fn every_code_has_a_chinese_message() {
        for code in Code::ALL {
            let zh = code.zh().unwrap_or_default();
            assert!(has_cjk(zh), "{} has no Chinese message", code.as_str());
        }
        for (code, zh) in ACCESS_ZH {
            assert!(has_cjk(zh), "{code} has no Chinese message");
            assert_eq!(Code::Access(code).zh(), Some(*zh));
        }
        assert_eq!(Code::Access("NoSuch.Code").zh(), None);
    }

    #[test]
    fn the_message_follows_the_language_with_the_details_kept() {
        let e = TcError::from(CvmError::NotFound("img-12345678".into()));
        assert_eq!(e.message_in(Lang::En), "ImageId img-12345678 is not found");
        assert_eq!(e.message_in(Lang::Zh), "未找到该镜像：img-12345678。");
        let generic = TcError::new(Code::InvalidFilter, "Filter name `x` is not supported.");
        assert_eq!(generic.message_in(Lang::Zh), "无效的过滤器。");
        let unknown = TcError::new(Code::Access("NoSuch.Code"), "english");
        assert_eq!(unknown.message_in(Lang::Zh), "english");
        let injected = TcError::injected("InternalError", "injected");
        assert_eq!(injected.message_in(Lang::Zh), "injected");
    }
}
