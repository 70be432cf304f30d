//! The image domain: custom images of each (account, region), their states, names and
//! quota. Rules live here; the wire lives in `dialect::tencent`; bytes live in `store`.
//!
//! Invariants kept by every write (each a single store transaction):
//! - `ImageNames` holds exactly one entry per stored image: `(owner, region, name) -> id`;
//!   a name is never taken twice in one (owner, region).
//! - `ImagesByOwner` holds exactly one entry per stored image, ordered newest first.
//! - `ImageCounts[(owner, region)]` equals the number of the owner's images in the region.

mod error;
pub mod model;
pub mod regions;
mod service;

pub use error::CvmError;
pub use model::{Image, ImageSource, ImageState, ImageType, Tag};
pub use service::{
    Caller, Cvm, ImageChanges, ImageFilter, ImagePage, ImageQuery, ImageView, NewImage,
};
