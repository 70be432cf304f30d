//! ExportImages: records an export task of NORMAL custom images to a COS bucket and answers
//! with the task id and the object paths the real service would write. No bytes move.

use serde::{Deserialize, Serialize};

use crate::clock::now_ms;
use crate::store::{encode, Record, Tree};

use super::error::{CvmError, ExportBlock};
use super::keys::{export_key, read_u64, TASK_SEQ_KEY};
use super::model::{ImageState, ImageType, DISK_SYSTEM, PLATFORM_WINDOWS};
use super::service::{abort, finish, Caller, Cvm};

/// A recorded export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportTask {
    /// Task id.
    pub task_id: u64,
    /// Account that asked.
    pub owner: String,
    /// Region.
    pub region: String,
    /// Bucket.
    pub bucket: String,
    /// `RAW`, `QCOW2`, `VHD` or `VMDK`.
    pub format: String,
    /// Images exported.
    pub image_ids: Vec<String>,
    /// Object paths.
    pub cos_paths: Vec<String>,
    /// When it was asked for.
    pub created_ms: u64,
}

impl Record for ExportTask {
    const KIND: &'static str = "cvm.export_task";
    const VERSION: u8 = 1;
}

/// A validated ExportImages request.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    /// Bucket.
    pub bucket: String,
    /// Images.
    pub image_ids: Vec<String>,
    /// Format, upper case.
    pub format: String,
    /// One prefix per image, when given.
    pub prefixes: Option<Vec<String>>,
    /// Only the system disk.
    pub only_root_disk: bool,
    /// Only check.
    pub dry_run: bool,
}

impl Cvm {
    /// ExportImages: returns (task id, COS paths); a dry run returns task id 0.
    pub async fn export_images(
        &self,
        caller: Caller<'_>,
        req: &ExportRequest,
    ) -> Result<(u64, Vec<String>), CvmError> {
        let now = now_ms();
        let ext = req.format.to_lowercase();
        let result = finish(self.store.transact(|tx| {
            let mut paths = Vec::new();
            for (i, id) in req.image_ids.iter().enumerate() {
                let v = self.tx_visible(tx, caller, id, now)?;
                let block = match v.image_type {
                    ImageType::Public => Some(ExportBlock::Public),
                    ImageType::Shared => Some(ExportBlock::Shared),
                    ImageType::Private
                        if v.image.platform.eq_ignore_ascii_case(PLATFORM_WINDOWS) =>
                    {
                        Some(ExportBlock::Windows)
                    }
                    ImageType::Private => None,
                };
                if let Some(why) = block {
                    return abort(CvmError::ExportUnsupported {
                        id: id.clone(),
                        why,
                    });
                }
                if v.state != ImageState::Normal {
                    return abort(CvmError::NotReady {
                        id: id.clone(),
                        state: v.state,
                    });
                }
                let prefix = req
                    .prefixes
                    .as_ref()
                    .and_then(|p| p.get(i))
                    .map(|p| format!("{p}_"))
                    .unwrap_or_default();
                for s in &v.image.snapshots {
                    let disk = if s.disk_usage == DISK_SYSTEM {
                        "system"
                    } else {
                        "data"
                    };
                    if disk == "data" && req.only_root_disk {
                        continue;
                    }
                    paths.push(format!("/{prefix}{id}_{disk}_{}.{ext}", s.id));
                }
            }
            if req.dry_run {
                return Ok((0, paths));
            }
            let seq = tx
                .get(Tree::Meta, TASK_SEQ_KEY)?
                .and_then(|v| read_u64(&v))
                .unwrap_or(0)
                + 1;
            tx.insert(Tree::Meta, TASK_SEQ_KEY, &seq.to_be_bytes())?;
            let task = ExportTask {
                task_id: seq,
                owner: caller.account.to_string(),
                region: caller.region.to_string(),
                bucket: req.bucket.clone(),
                format: req.format.clone(),
                image_ids: req.image_ids.clone(),
                cos_paths: paths.clone(),
                created_ms: now,
            };
            let bytes = encode(&task).map_err(|e| crate::store::TxError::Abort(e.into()))?;
            tx.insert(Tree::ImageExports, &export_key(seq), &bytes)?;
            Ok((seq, paths))
        }))?;
        if !req.dry_run {
            self.durable().await?;
        }
        Ok(result)
    }
}
