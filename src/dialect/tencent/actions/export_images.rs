//! `ExportImages` (cvm.md §6.11): records the export task and answers with its id and the
//! object paths. The bucket must be named `<name>-<AppId of the caller>`, as COS buckets are.
//!
//! # Format
//! `{"BucketName": "backups-1300000001", "ImageIds": ["img-..."], "ExportFormat": "QCOW2"}`
//! -> `{"TaskId": 1, "CosPaths": ["/img-..._system_snap-....qcow2"]}`

use serde_json::json;

use super::{check_image_ids, Ctx, Output};
use crate::cvm::ExportRequest;
use crate::dialect::tencent::error::{Code, TcError};
use crate::dialect::tencent::params::Params;

const FORMATS: &[&str] = &["RAW", "QCOW2", "VHD", "VMDK"];

/// The validated request.
pub struct ExportImages {
    req: ExportRequest,
}

impl ExportImages {
    const PARAMS: &'static [&'static str] = &[
        "BucketName",
        "ImageIds",
        "ExportFormat",
        "FileNamePrefixList",
        "OnlyExportRootDisk",
        "DryRun",
        "RoleName",
        "SnapshotIds",
    ];

    /// Validates the wire input.
    pub fn parse(p: &Params) -> Result<Self, TcError> {
        p.reject_unknown(Self::PARAMS)?;
        let bucket = p.req_str("BucketName")?;
        let ids = p.opt_str_list("ImageIds")?.filter(|l| !l.is_empty());
        let snaps = p.opt_str_list("SnapshotIds")?.filter(|l| !l.is_empty());
        let format = p
            .opt_str("ExportFormat")?
            .unwrap_or_else(|| "RAW".into())
            .to_ascii_uppercase();
        let prefixes = p.opt_str_list("FileNamePrefixList")?;
        let only_root_disk = p.opt_bool("OnlyExportRootDisk")?.unwrap_or(false);
        let dry_run = p.opt_bool("DryRun")?.unwrap_or(false);
        p.opt_str("RoleName")?;
        let ids = match (ids, snaps) {
            (Some(ids), None) => ids,
            (None, Some(_)) => {
                return Err(TcError::invalid_value(
                    "SnapshotIds",
                    "exporting snapshots is not emulated by cloudtwin; give ImageIds",
                ))
            }
            _ => {
                return Err(TcError::new(
                    Code::InvalidParameterImageIdsSnapshotIdsMustOne,
                    "Exactly one of `ImageIds` and `SnapshotIds` must be given.",
                ))
            }
        };
        check_image_ids("ImageIds", &ids)?;
        if !FORMATS.contains(&format.as_str()) {
            return Err(TcError::invalid_value(
                "ExportFormat",
                &format!("`{format}` is not RAW, QCOW2, VHD or VMDK"),
            ));
        }
        if let Some(pl) = &prefixes {
            let bad = pl.len() != ids.len()
                || pl.iter().any(|x| {
                    x.is_empty()
                        || !x
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                });
            if bad {
                return Err(TcError::new(
                    Code::InvalidParameterValueInvalidFileNamePrefixList,
                    "`FileNamePrefixList` needs one prefix (letters, digits, '-', '_', '.') per image.",
                ));
            }
        }
        Ok(ExportImages {
            req: ExportRequest {
                bucket,
                image_ids: ids,
                format,
                prefixes,
                only_root_disk,
                dry_run,
            },
        })
    }

    /// Records the export.
    pub async fn run(self, ctx: &Ctx<'_>) -> Result<Output, TcError> {
        let app_id = ctx
            .accounts
            .by_id(ctx.caller.account)
            .and_then(|a| a.tencent.as_ref().map(|t| t.app_id))
            .unwrap_or(0);
        let owned = self
            .req
            .bucket
            .rsplit_once('-')
            .is_some_and(|(name, id)| !name.is_empty() && id == app_id.to_string());
        if !owned {
            return Err(TcError::new(
                Code::InvalidParameterValueBucketNotFound,
                format!("Bucket `{}` does not exist: a bucket of this account is named `<name>-{app_id}`.", self.req.bucket),
            ).zh(format!("请确认存储桶是否存在：`{}`，本账号的存储桶名为 `<name>-{app_id}`。", self.req.bucket)));
        }
        let (task, paths) = ctx.cvm.export_images(ctx.caller, &self.req).await?;
        let mut out = Output::new();
        out.insert("TaskId".into(), json!(task));
        out.insert("CosPaths".into(), json!(paths));
        Ok(out)
    }
}
