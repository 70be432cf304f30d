//! ModifyImageSharePermission and DescribeImageSharePermission. Sharing is to configured
//! accounts, in the image's region; the receiver sees the image as SHARED_IMAGE. The image
//! record and the receivers' `ImageShares` index change in one transaction.

use crate::clock::now_ms;
use crate::store::Tree;

use super::error::CvmError;
use super::keys::share_key;
use super::model::{ImageState, ImageType, ShareGrant, LICENSE_BYOL};
use super::service::{abort, finish, put_image, Caller, Cvm};

/// Most accounts one image can be shared with.
pub const MAX_SHARES: usize = 500;

/// SHARE or CANCEL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharePermission {
    /// Add the accounts.
    Share,
    /// Remove the accounts.
    Cancel,
}

impl Cvm {
    fn owned_for_sharing(v: &super::service::ImageView, id: &str) -> Result<(), CvmError> {
        match v.image_type {
            ImageType::Public => Err(CvmError::PublicImage(id.to_string())),
            ImageType::Shared => Err(CvmError::NotOwner(id.to_string())),
            ImageType::Private => Ok(()),
        }
    }

    /// ModifyImageSharePermission. `known` says whether an account id is configured.
    pub async fn modify_share(
        &self,
        caller: Caller<'_>,
        id: &str,
        accounts: &[String],
        permission: SharePermission,
        known: &(dyn Fn(&str) -> bool + Sync),
    ) -> Result<(), CvmError> {
        let now = now_ms();
        finish(self.store.transact(|tx| {
            let v = self.tx_visible(tx, caller, id, now)?;
            Self::owned_for_sharing(&v, id).or_else(abort)?;
            let mut img = v.image;
            match permission {
                SharePermission::Share => {
                    if v.state != ImageState::Normal {
                        return abort(CvmError::NotReady {
                            id: id.to_string(),
                            state: v.state,
                        });
                    }
                    if img.license_type == LICENSE_BYOL {
                        return abort(CvmError::ByolShare(id.to_string()));
                    }
                    for a in accounts {
                        if a == caller.account {
                            return abort(CvmError::ShareToSelf);
                        }
                        if !known(a) {
                            return abort(CvmError::AccountNotFound(a.clone()));
                        }
                        if img.shared_with.iter().any(|g| g.account == *a) {
                            return abort(CvmError::AlreadyShared(a.clone()));
                        }
                    }
                    if img.shared_with.len() + accounts.len() > MAX_SHARES {
                        return abort(CvmError::ShareQuota { limit: MAX_SHARES });
                    }
                    for a in accounts {
                        img.shared_with.push(ShareGrant {
                            account: a.clone(),
                            created_ms: now,
                        });
                        tx.insert(Tree::ImageShares, &share_key(a, &img.region, &img.id), &[])?;
                    }
                }
                SharePermission::Cancel => {
                    img.shared_with.retain(|g| !accounts.contains(&g.account));
                    for a in accounts {
                        tx.remove(Tree::ImageShares, &share_key(a, &img.region, &img.id))?;
                    }
                }
            }
            img.settle(now);
            img.updated_ms = now;
            put_image(tx, &img)
        }))?;
        self.durable().await
    }

    /// DescribeImageSharePermission: (account, shared since ms), owner only.
    pub fn describe_share(
        &self,
        caller: Caller<'_>,
        id: &str,
    ) -> Result<Vec<ShareGrant>, CvmError> {
        let v = self
            .visible(caller, id, now_ms())?
            .ok_or_else(|| CvmError::NotFound(id.to_string()))?;
        Self::owned_for_sharing(&v, id)?;
        Ok(v.image.shared_with)
    }
}
