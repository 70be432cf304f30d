//! The image domain's errors. The dialect translates them into wire codes.

use super::model::ImageState;

/// Why an export is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportBlock {
    /// Public images cannot be exported.
    Public,
    /// Images shared from another account cannot be exported.
    Shared,
    /// Windows images cannot be exported.
    Windows,
}

/// Why an image operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CvmError {
    /// No image with this id is visible to the caller in the region.
    #[error("image {0} not found")]
    NotFound(String),
    /// The image's state does not allow the operation (`InvalidImageId.IncorrectState`).
    #[error("image {id} is {state:?}")]
    IncorrectState {
        /// Image id.
        id: String,
        /// Its state.
        state: ImageState,
    },
    /// The image is busy (`InvalidParameterValue.InvalidImageState`, sharing and export).
    #[error("image {id} is {state:?}")]
    NotReady {
        /// Image id.
        id: String,
        /// Its state.
        state: ImageState,
    },
    /// Another image of the account in the region has this name.
    #[error("name {0} is taken")]
    NameDuplicate(String),
    /// The image is shared from another account; it cannot be modified.
    #[error("image {0} is shared from another account")]
    SharedImageModify(String),
    /// The image is shared from another account; it cannot be deleted.
    #[error("image {0} is shared from another account")]
    SharedImageDelete(String),
    /// The image is a public image; it does not allow the operation.
    #[error("image {0} is public")]
    PublicImage(String),
    /// The caller does not own the image (sharing, export).
    #[error("image {0} belongs to another account")]
    NotOwner(String),
    /// The image is shared to other accounts.
    #[error("image {0} is shared out")]
    InShared(String),
    /// The account's custom image quota in the region is used up.
    #[error("quota {quota} used up")]
    QuotaExceeded {
        /// The quota.
        quota: u64,
    },
    /// A destination region of SyncImages cannot take the image.
    #[error("cannot sync to {region}: {why}")]
    SyncRegion {
        /// The region.
        region: String,
        /// Why.
        why: &'static str,
    },
    /// Export refused for the kind of image.
    #[error("image {id} cannot be exported: {why:?}")]
    ExportUnsupported {
        /// Image id.
        id: String,
        /// Why.
        why: ExportBlock,
    },
    /// Sharing to an account that is not configured.
    #[error("account {0} not found")]
    AccountNotFound(String),
    /// Sharing to oneself.
    #[error("cannot share to yourself")]
    ShareToSelf,
    /// Sharing to an account that already has the image.
    #[error("already shared with {0}")]
    AlreadyShared(String),
    /// More receivers than allowed.
    #[error("more than {limit} accounts")]
    ShareQuota {
        /// The limit.
        limit: usize,
    },
    /// BYOL images cannot be shared.
    #[error("image {0} is BYOL")]
    ByolShare(String),
    /// A name or value breaks a rule of the domain (`rules.rs`).
    #[error("{0}")]
    Rule(Violation),
    /// The store failed (not the caller's fault).
    #[error("store: {0}")]
    Store(String),
}

impl From<crate::store::StoreError> for CvmError {
    fn from(e: crate::store::StoreError) -> Self {
        CvmError::Store(e.to_string())
    }
}

/// Which rule of `rules.rs` a value breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    /// An image name is empty or only white space.
    #[error("the image name must not be empty")]
    NameEmpty,
    /// An image name holds a control character.
    #[error("the image name must not contain control characters")]
    NameControlChars,
    /// An image name is longer than `rules::MAX_NAME_CHARS`.
    #[error("the image name is {got} characters long; at most {max} are allowed")]
    NameTooLong {
        /// The limit.
        max: usize,
        /// Its length.
        got: usize,
    },
    /// An image description is longer than `rules::MAX_DESCRIPTION_CHARS`.
    #[error("the image description is {got} characters long; at most {max} are allowed")]
    DescriptionTooLong {
        /// The limit.
        max: usize,
        /// Its length.
        got: usize,
    },
    /// An image family does not match `[A-Za-z0-9][A-Za-z0-9._-]{0,59}`.
    #[error("image family `{0}` is malformed")]
    FamilyMalformed(String),
    /// Not `img-` and eight of `[a-z0-9]`.
    #[error("image id `{0}` is malformed")]
    ImageIdMalformed(String),
    /// Not `ins-` and eight of `[a-z0-9]`.
    #[error("instance id `{0}` is malformed")]
    InstanceIdMalformed(String),
    /// Not `snap-` and eight of `[a-z0-9]`.
    #[error("snapshot id `{0}` is malformed")]
    SnapshotIdMalformed(String),
    /// Not `disk-` and eight of `[a-z0-9]`.
    #[error("disk id `{0}` is malformed")]
    DiskIdMalformed(String),
}
