//! `DescribeImageFromFamily` (cvm.md §6.12): the newest NORMAL, non-deprecated image of a
//! family that the caller can see in the region, or `null`.
//!
//! # Format
//! `{"ImageFamily": "business-daily-update"}` -> `{"Image": Image | null}`

use super::{render_image, Ctx, Output};
use crate::cvm::rules;
use crate::dialect::tencent::error::TcError;
use crate::dialect::tencent::params::Params;

/// The validated request.
pub struct DescribeImageFromFamily {
    family: String,
}

impl DescribeImageFromFamily {
    /// Validates the wire input.
    pub fn parse(p: &Params) -> Result<Self, TcError> {
        p.reject_unknown(&["ImageFamily"])?;
        let family = p.req_str("ImageFamily")?;
        if family.is_empty() {
            return Err(TcError::missing("ImageFamily"));
        }
        rules::image_family(&family)?;
        Ok(DescribeImageFromFamily { family })
    }

    /// Finds the image.
    pub fn run(self, ctx: &Ctx<'_>) -> Result<Output, TcError> {
        let found = ctx.cvm.image_from_family(ctx.caller, &self.family)?;
        let mut out = Output::new();
        out.insert_serialized("Image", &found.as_ref().map(render_image));
        Ok(out)
    }
}
