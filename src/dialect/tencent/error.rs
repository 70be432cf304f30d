//! The Tencent dialect's errors: one enum of wire codes, one table to their strings, and the
//! translation of the CVM domain's errors. Handlers never spell a code.
//!
//! Every API error travels as HTTP 200 with `{"Response":{"Error":{"Code","Message"},"RequestId"}}`
//! (cvm.md §3.2): the SDKs drop the code of any non-200 answer.

use crate::cvm::rules::Violation;
use crate::cvm::{CvmError, ExportBlock};

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
}

/// An error answer: a code and a message for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcError {
    /// The wire code.
    pub code: Code,
    /// The message (English).
    pub message: String,
    /// A code chosen by a fault-injection rule, answered instead of `code`.
    pub injected: Option<String>,
}

impl TcError {
    /// An error with a message.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        TcError {
            code,
            message: message.into(),
            injected: None,
        }
    }

    /// An error chosen by a fault-injection rule.
    pub fn injected(code: &str, message: &str) -> Self {
        TcError {
            code: Code::InternalError,
            message: message.to_string(),
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
    }

    /// `InvalidParameter` for a parameter of the wrong type or shape.
    pub fn invalid(name: &str, why: &str) -> Self {
        Self::new(
            Code::InvalidParameter,
            format!("The parameter `{name}` is invalid: {why}."),
        )
    }

    /// `InvalidParameterValue` for a value outside what the action accepts.
    pub fn invalid_value(name: &str, why: &str) -> Self {
        Self::new(
            Code::InvalidParameterValue,
            format!("The value of parameter `{name}` is invalid: {why}."),
        )
    }

    /// `InvalidParameter.ValueTooLarge` for an over-long string (counted in characters).
    pub fn too_long(name: &str, max: usize, got: usize) -> Self {
        Self::new(
            Code::InvalidParameterValueTooLarge,
            format!("The parameter `{name}` is {got} characters long; at most {max} are allowed."),
        )
    }

    /// `InvalidImageId.Malformed`.
    pub fn malformed_image_id(id: &str) -> Self {
        Self::new(
            Code::InvalidImageIdMalformed,
            format!("ImageId `{id}` is malformed: an image id is `img-` followed by 8 lowercase letters or digits."),
        )
    }

    /// `InternalError`, for failures that are not the client's.
    pub fn internal(detail: &str) -> Self {
        Self::new(
            Code::InternalError,
            format!("An internal error occurred: {detail}"),
        )
    }
}

impl From<CvmError> for TcError {
    fn from(e: CvmError) -> Self {
        match e {
            CvmError::NotFound(id) => TcError::new(
                Code::InvalidImageIdNotFound,
                format!("ImageId {id} is not found"),
            ),
            CvmError::IncorrectState { id, state } => TcError::new(
                Code::InvalidImageIdIncorrectState,
                format!(
                    "Image {id} is in state {}, which does not allow this operation.",
                    state.as_wire()
                ),
            ),
            CvmError::NameDuplicate(name) => TcError::new(
                Code::InvalidImageNameDuplicate,
                format!("An image named `{name}` already exists in this region."),
            ),
            CvmError::SharedImageModify(id) => TcError::new(
                Code::UnsupportedOperationSharedImageModifyUnsupported,
                format!("Image {id} is shared from another account and cannot be modified."),
            ),
            CvmError::SharedImageDelete(id) => TcError::new(
                Code::InvalidParameterValueInvalidImageIdIsShared,
                format!("Image {id} is shared from another account and cannot be deleted."),
            ),
            CvmError::PublicImage(id) => TcError::new(
                Code::InvalidParameterValueInvalidImageId,
                format!("Image {id} is a public image; it does not allow this operation."),
            ),
            CvmError::InShared(id) => TcError::new(
                Code::InvalidImageIdInShared,
                format!("Image {id} is shared to other accounts; cancel the sharing first."),
            ),
            CvmError::QuotaExceeded { quota } => TcError::new(
                Code::ImageQuotaLimitExceeded,
                format!("The custom image quota of this region ({quota}) is used up."),
            ),
            CvmError::NotReady { id, state } => TcError::new(
                Code::InvalidParameterValueInvalidImageState,
                format!(
                    "Image {id} is in state {}; it must be NORMAL.",
                    state.as_wire()
                ),
            ),
            CvmError::NotOwner(id) => TcError::new(
                Code::UnauthorizedOperationImageNotBelongToAccount,
                format!("Image {id} does not belong to your account."),
            ),
            CvmError::SyncRegion { region, why } => TcError::new(
                Code::InvalidRegionUnavailable,
                format!("Region {region} cannot receive this image: {why}."),
            ),
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
                TcError::new(
                    code,
                    format!("Image {id} is {what} and cannot be exported."),
                )
            }
            CvmError::AccountNotFound(a) => TcError::new(
                Code::InvalidAccountIdNotFound,
                format!("Account {a} does not exist."),
            ),
            CvmError::ShareToSelf => TcError::new(
                Code::FailedOperationAccountIsYourSelf,
                "An image cannot be shared with its own account.",
            ),
            CvmError::AlreadyShared(a) => TcError::new(
                Code::FailedOperationAccountAlreadyExists,
                format!("The image is already shared with account {a}."),
            ),
            CvmError::ShareQuota { limit } => TcError::new(
                Code::OverQuota,
                format!("An image can be shared with at most {limit} accounts."),
            ),
            CvmError::ByolShare(id) => TcError::new(
                Code::FailedOperationBYOLImageShareFailed,
                format!("Image {id} is a BYOL image and cannot be shared."),
            ),
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
            }
            Violation::NameControlChars => TcError::invalid_value(
                IMAGE_NAME,
                "the image name must not contain control characters",
            ),
            Violation::NameTooLong { max, got } => TcError::too_long(IMAGE_NAME, max, got),
            Violation::DescriptionTooLong { max, got } => {
                TcError::too_long(IMAGE_DESCRIPTION, max, got)
            }
            Violation::FamilyMalformed(value) => TcError::new(
                Code::InvalidParameterValueInvalidImageFamily,
                format!("ImageFamily `{value}` is invalid: use 1-60 letters, digits, '.', '_' or '-', starting with a letter or digit."),
            ),
            Violation::ImageIdMalformed(id) => TcError::malformed_image_id(&id),
            Violation::InstanceIdMalformed(id) => TcError::new(
                Code::InvalidInstanceIdMalformed,
                format!("InstanceId `{id}` is malformed: an instance id looks like ins-xxxxxxxx, x a lowercase letter or digit."),
            ),
            Violation::SnapshotIdMalformed(id) => TcError::invalid_value(
                SNAPSHOT_IDS,
                &format!("`{id}` is not a snapshot id like snap-xxxxxxxx"),
            ),
            Violation::DiskIdMalformed(id) => TcError::invalid_value(
                DATA_DISK_IDS,
                &format!("`{id}` is not a disk id like disk-xxxxxxxx"),
            ),
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
