//! `SyncImages` (cvm.md §6.6): one NORMAL image per call, to one or more regions.
//!
//! # Format
//! `{"ImageIds": ["img-..."], "DestinationRegions": ["ap-shanghai"], "ImageSetRequired": true}`
//! -> `{"ImageSet": [{"ImageId": "img-...", "Region": "ap-shanghai"}]}`

use serde_json::{json, Value};

use super::{check_image_ids, Ctx, Output};
use crate::cvm::rules;
use crate::cvm::{regions, SyncRequest};
use crate::dialect::tencent::error::{Code, TcError};
use crate::dialect::tencent::params::Params;

/// The validated request.
pub struct SyncImages {
    req: SyncRequest,
    want_set: bool,
}

impl SyncImages {
    const PARAMS: &'static [&'static str] = &[
        "ImageIds",
        "DestinationRegions",
        "DryRun",
        "ImageName",
        "ImageSetRequired",
        "Encrypt",
        "KmsKeyId",
    ];

    /// Validates the wire input.
    pub fn parse(p: &Params) -> Result<Self, TcError> {
        p.reject_unknown(Self::PARAMS)?;
        let ids = p
            .opt_str_list("ImageIds")?
            .filter(|l| !l.is_empty())
            .ok_or_else(|| TcError::missing("ImageIds"))?;
        let mut dest = p
            .opt_str_list("DestinationRegions")?
            .filter(|l| !l.is_empty())
            .ok_or_else(|| TcError::missing("DestinationRegions"))?;
        let dry_run = p.opt_bool("DryRun")?.unwrap_or(false);
        let name = p.opt_str("ImageName")?;
        let want_set = p.opt_bool("ImageSetRequired")?.unwrap_or(false);
        let encrypt = p.opt_bool("Encrypt")?.unwrap_or(false);
        p.opt_str("KmsKeyId")?;
        check_image_ids("ImageIds", &ids)?;
        if ids.len() > 1 {
            return Err(TcError::new(
                Code::InvalidParameterValueLimitExceeded,
                "SyncImages takes one image per call.",
            ));
        }
        for r in &dest {
            if !regions::is_known(r) {
                return Err(TcError::new(
                    Code::InvalidRegionNotFound,
                    format!("Region `{r}` does not exist."),
                )
                .zh(format!("未找到该区域：`{r}`。")));
            }
        }
        let mut seen = std::collections::HashSet::new();
        dest.retain(|r| seen.insert(r.clone()));
        if let Some(n) = &name {
            rules::image_name(n)?;
        }
        if encrypt {
            return Err(TcError::new(
                Code::UnsupportedOperationEncryptedImagesNotSupported,
                "Encrypted copies are not emulated by cloudtwin.",
            ));
        }
        Ok(SyncImages {
            req: SyncRequest {
                image_id: ids[0].clone(),
                regions: dest,
                name,
                dry_run,
            },
            want_set,
        })
    }

    /// Starts the copies.
    pub async fn run(self, ctx: &Ctx<'_>) -> Result<Output, TcError> {
        let made = ctx.cvm.sync_images(ctx.caller, &self.req).await?;
        let mut out = Output::new();
        let set = if self.want_set {
            made.iter()
                .map(|(id, r)| json!({"ImageId": id, "Region": r}))
                .collect()
        } else {
            Vec::new()
        };
        out.insert("ImageSet".into(), Value::Array(set));
        Ok(out)
    }
}
