//! `ModifyImageAttribute` (cvm.md §6.1): rename, re-describe, set family or deprecation.
//!
//! # Format
//! `{"ImageId": "img-6pb6lrmy", "ImageName": "n", "ImageDescription": "d",
//!   "ImageFamily": "f", "ImageDeprecated": false}` -> `{}` (RequestId only)

use super::{Ctx, Output};
use crate::cvm::rules;
use crate::cvm::ImageChanges;
use crate::dialect::tencent::error::TcError;
use crate::dialect::tencent::params::Params;

/// The validated request.
pub struct ModifyImageAttribute {
    id: String,
    changes: ImageChanges,
}

impl ModifyImageAttribute {
    const PARAMS: &'static [&'static str] = &[
        "ImageId",
        "ImageName",
        "ImageDescription",
        "ImageFamily",
        "ImageDeprecated",
    ];

    /// Validates the wire input.
    pub fn parse(p: &Params) -> Result<Self, TcError> {
        p.reject_unknown(Self::PARAMS)?;
        let id = p.req_str("ImageId")?;
        let name = p.opt_str("ImageName")?;
        let description = p.opt_str("ImageDescription")?;
        let family = p.opt_str("ImageFamily")?;
        let deprecated = p.opt_bool("ImageDeprecated")?;
        rules::image_id(&id)?;
        if let Some(n) = &name {
            rules::image_name(n)?;
        }
        if let Some(d) = &description {
            rules::image_description(d)?;
        }
        if let Some(f) = &family {
            rules::image_family(f)?;
        }
        Ok(ModifyImageAttribute {
            id,
            changes: ImageChanges {
                name,
                description,
                family,
                deprecated,
            },
        })
    }

    /// Applies the change.
    pub async fn run(self, ctx: &Ctx<'_>) -> Result<Output, TcError> {
        ctx.cvm
            .modify_image_attribute(ctx.caller, &self.id, self.changes)
            .await?;
        Ok(Output::new())
    }
}
