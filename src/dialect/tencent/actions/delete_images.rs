//! `DeleteImages` (cvm.md §6.4): all or nothing; `DryRun` only checks and answers success.
//!
//! # Format
//! `{"ImageIds": ["img-..."], "DeleteBindedSnap": false, "DryRun": true}` -> `{}`

use super::{check_image_ids, Ctx, Output};
use crate::dialect::tencent::error::TcError;
use crate::dialect::tencent::params::Params;

/// The validated request.
pub struct DeleteImages {
    ids: Vec<String>,
    dry_run: bool,
}

impl DeleteImages {
    const PARAMS: &'static [&'static str] = &["ImageIds", "DeleteBindedSnap", "DryRun"];

    /// Validates the wire input.
    pub fn parse(p: &Params) -> Result<Self, TcError> {
        p.reject_unknown(Self::PARAMS)?;
        let ids = p
            .opt_str_list("ImageIds")?
            .filter(|l| !l.is_empty())
            .ok_or_else(|| TcError::missing("ImageIds"))?;
        // Snapshots are not modelled, so DeleteBindedSnap only needs to be a boolean.
        p.opt_bool("DeleteBindedSnap")?;
        let dry_run = p.opt_bool("DryRun")?.unwrap_or(false);
        check_image_ids("ImageIds", &ids)?;
        Ok(DeleteImages { ids, dry_run })
    }

    /// Deletes (or, with DryRun, checks).
    pub async fn run(self, ctx: &Ctx<'_>) -> Result<Output, TcError> {
        ctx.cvm
            .delete_images(ctx.caller, &self.ids, self.dry_run)
            .await?;
        Ok(Output::new())
    }
}
