//! The image domain: custom images of each (account, region), the public catalogue, sharing,
//! sync, import and export. Rules live here; the wire lives in `dialect::tencent`; bytes live
//! in `store`.
//!
//! Invariants kept by every write (each a single store transaction):
//! - `ImageNames` holds exactly one entry per stored image: `(owner, region, name) -> id`;
//!   a name is never taken twice in one (owner, region).
//! - `ImagesByOwner` holds exactly one entry per stored image, ordered newest first.
//! - `ImageCounts[(owner, region)]` equals the number of the owner's images in the region.
//! - `ImageShares[(receiver, region, id)]` exists exactly when the image's `shared_with`
//!   names the receiver.

pub mod catalogue;
pub mod check;
mod describe;
mod error;
mod export;
mod images;
pub mod keys;
pub mod model;
pub mod portable;
pub mod regions;
pub mod rules;
mod service;
mod share;
mod sync;

/// A decoded image record kept between listings (`kept.rs`).
pub type Decoded = crate::kept::Kept<Image>;
pub use describe::{ImageFilter, ImagePage, ImageQuery, PageImage};
pub use error::{CvmError, ExportBlock};
pub use export::{ExportRequest, ExportTask};
pub use images::{ImageChanges, ImportedImage, NewImage};
pub use model::{Image, ImageSource, ImageState, ImageType, ShareGrant, Tag};
pub use service::{Caller, Cvm, ImageView};
pub use share::{SharePermission, MAX_SHARES};
pub use sync::{SyncRequest, SyncedImage};
