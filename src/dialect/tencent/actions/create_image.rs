//! `CreateImage` (cvm.md §6.3). The emulator has no instances: any well-formed `InstanceId`
//! (or system-disk snapshot id) is accepted as the source.
//!
//! # Format
//! `{"ImageName": "n", "InstanceId": "ins-xxxxxxxx", "ImageDescription": "d",
//!   "TagSpecification": [{"ResourceType": "image", "Tags": [{"Key": "k", "Value": "v"}]}]}`
//! -> `{"ImageId": "img-xxxxxxxx"}`

use serde_json::Value;

use super::{tags_from_specs, Ctx, Output};
use crate::cvm::rules;
use crate::cvm::NewImage;
use crate::dialect::tencent::error::{Code, TcError};
use crate::dialect::tencent::params::Params;

/// The validated request.
pub struct CreateImage {
    req: NewImage,
}

fn string_bool(p: &Params, name: &str) -> Result<(), TcError> {
    // `ForcePoweroff` and `Sysprep` are documented as the strings "true"/"false".
    match p.opt_str(name) {
        Ok(None) => Ok(()),
        Ok(Some(s)) if s == "true" || s == "false" => Ok(()),
        Ok(Some(s)) => Err(TcError::invalid_value(
            name,
            &format!("`{s}` is not \"true\" or \"false\""),
        )),
        Err(_) => p.opt_bool(name).map(|_| ()),
    }
}

impl CreateImage {
    const PARAMS: &'static [&'static str] = &[
        "ImageName",
        "InstanceId",
        "ImageDescription",
        "ForcePoweroff",
        "Sysprep",
        "DataDiskIds",
        "SnapshotIds",
        "DryRun",
        "TagSpecification",
        "ImageFamily",
    ];

    /// Validates the wire input.
    pub fn parse(p: &Params) -> Result<Self, TcError> {
        p.reject_unknown(Self::PARAMS)?;
        let name = p.req_str("ImageName")?;
        let instance_id = p.opt_str("InstanceId")?;
        let description = p.opt_str("ImageDescription")?.unwrap_or_default();
        string_bool(p, "ForcePoweroff")?;
        string_bool(p, "Sysprep")?;
        let data_disk_ids = p.opt_str_list("DataDiskIds")?.unwrap_or_default();
        let snapshot_ids = p.opt_str_list("SnapshotIds")?.unwrap_or_default();
        let dry_run = p.opt_bool("DryRun")?.unwrap_or(false);
        let specs = p.opt_tag_specs("TagSpecification")?.unwrap_or_default();
        let family = p.opt_str("ImageFamily")?.unwrap_or_default();

        rules::image_name(&name)?;
        rules::image_description(&description)?;
        rules::image_family(&family)?;
        match (&instance_id, snapshot_ids.is_empty()) {
            (None, true) => {
                return Err(TcError::new(
                    Code::InvalidParameterSpecifyOneParameter,
                    "One of `InstanceId` and `SnapshotIds` must be given.",
                ))
            }
            (Some(_), false) => {
                return Err(TcError::new(
                    Code::InvalidParameterConflict,
                    "`InstanceId` and `SnapshotIds` cannot be given together.",
                ))
            }
            (Some(id), true) => rules::instance_id(id)?,
            (None, false) => {
                for s in &snapshot_ids {
                    rules::snapshot_id(s)?;
                }
            }
        }
        if !data_disk_ids.is_empty() && instance_id.is_none() {
            return Err(TcError::new(
                Code::InvalidParameterConflict,
                "`DataDiskIds` can only be given with `InstanceId`.",
            ));
        }
        for d in &data_disk_ids {
            rules::disk_id(d)?;
        }
        let tags = tags_from_specs(&specs)?;
        Ok(CreateImage {
            req: NewImage {
                name,
                description,
                family,
                instance_id,
                snapshot_ids,
                data_disk_ids,
                tags,
                dry_run,
            },
        })
    }

    /// Creates the image (or, with DryRun, checks that it could be created).
    pub async fn run(self, ctx: &Ctx<'_>) -> Result<Output, TcError> {
        let id = ctx.cvm.create_image(ctx.caller, self.req).await?;
        let mut out = Output::new();
        out.insert("ImageId".into(), Value::String(id.unwrap_or_default()));
        Ok(out)
    }
}
