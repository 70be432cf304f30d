//! SyncImages: copies of a NORMAL image into other regions, each SYNCING for the configured
//! delay (with `SyncPercent` moving), then NORMAL. A shared image can only be copied into the
//! caller's own custom image in the same region. All destinations are written in one
//! transaction: the duplicate-name and quota rules of every destination hold, or nothing is
//! written.

use crate::clock::now_ms;

use super::error::CvmError;
use super::model::{ImageState, ImageType, Pending};
use super::service::{abort, check_new, finish, insert_new, Caller, Cvm};

/// A validated SyncImages request.
#[derive(Debug, Clone)]
pub struct SyncRequest {
    /// The source image.
    pub image_id: String,
    /// Destination regions (validated, deduplicated).
    pub regions: Vec<String>,
    /// Name of the copies (default: the source's name).
    pub name: Option<String>,
    /// Only check.
    pub dry_run: bool,
}

/// One copy made: (image id, region).
pub type SyncedImage = (String, String);

impl Cvm {
    /// SyncImages.
    pub async fn sync_images(
        &self,
        caller: Caller<'_>,
        req: &SyncRequest,
    ) -> Result<Vec<SyncedImage>, CvmError> {
        if let Some(n) = &req.name {
            super::rules::image_name(n)?;
        }
        let now = now_ms();
        let delay = self.ready_after_ms();
        let quota = self.quota;
        let made = finish(self.store.transact(|tx| {
            let v = self.tx_visible(tx, caller, &req.image_id, now)?;
            if v.image_type == ImageType::Public {
                return abort(CvmError::PublicImage(req.image_id.clone()));
            }
            if v.state != ImageState::Normal {
                return abort(CvmError::IncorrectState {
                    id: req.image_id.clone(),
                    state: v.state,
                });
            }
            for r in &req.regions {
                let same = r == caller.region;
                match v.image_type {
                    ImageType::Shared if !same => {
                        return abort(CvmError::SyncRegion {
                            region: r.clone(),
                            why: "a shared image can only be copied into your own image in its own region",
                        })
                    }
                    ImageType::Private if same => {
                        return abort(CvmError::SyncRegion {
                            region: r.clone(),
                            why: "a custom image cannot be synced to the region it is in",
                        })
                    }
                    _ => {}
                }
            }
            let name = req.name.clone().unwrap_or_else(|| v.image.name.clone());
            let mut made = Vec::new();
            for r in &req.regions {
                check_new(tx, caller.account, r, &name, quota)?;
                if req.dry_run {
                    continue;
                }
                let mut copy = v.image.clone();
                copy.id = String::new();
                copy.owner = caller.account.to_string();
                copy.region = r.clone();
                copy.name = name.clone();
                copy.shared_with.clear();
                copy.sync_source = Some(v.image.id.clone());
                copy.created_ms = now;
                copy.updated_ms = now;
                copy.state = if delay == 0 { ImageState::Normal } else { ImageState::Syncing };
                copy.pending = (delay > 0).then_some(Pending {
                    started_ms: now,
                    until_ms: now.saturating_add(delay),
                    then: ImageState::Normal,
                });
                insert_new(tx, &mut copy)?;
                made.push((copy.id, r.clone()));
            }
            Ok(made)
        }))?;
        if !made.is_empty() {
            self.durable().await?;
        }
        Ok(made)
    }
}
