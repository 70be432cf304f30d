//! The image domain's errors. The dialect translates them into wire codes.

use super::model::ImageState;

/// Why an image operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CvmError {
    /// No image with this id is visible to the caller in the region.
    #[error("image {0} not found")]
    NotFound(String),
    /// The image's state does not allow the operation.
    #[error("image {id} is {state:?}")]
    IncorrectState {
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
    /// The image is a public image.
    #[error("image {0} is public")]
    PublicImage(String),
    /// The image is shared to other accounts.
    #[error("image {0} is shared out")]
    InShared(String),
    /// The account's custom image quota in the region is used up.
    #[error("quota {quota} used up")]
    QuotaExceeded {
        /// The quota.
        quota: u64,
    },
    /// The store failed (not the caller's fault).
    #[error("store: {0}")]
    Store(String),
}

impl From<crate::store::StoreError> for CvmError {
    fn from(e: crate::store::StoreError) -> Self {
        CvmError::Store(e.to_string())
    }
}
