//! CreateImage, ImportImage, ModifyImageAttribute, DeleteImages, DescribeImageFromFamily.

use crate::clock::now_ms;

use super::error::CvmError;
use super::keys::{name_key, random_snapshot_id};
use super::model::{
    Image, ImageSource, ImageState, ImageType, Pending, Snapshot, Tag, BOOT_LEGACY_BIOS,
    DEFAULT_ARCHITECTURE, DEFAULT_OS_NAME, DEFAULT_PLATFORM, DEFAULT_SIZE_GB, DISK_DATA,
    DISK_SYSTEM, LICENSE_TENCENT_CLOUD, PLATFORM_WINDOWS,
};
use super::rules;
use super::service::{
    abort, check_new, finish, insert_new, put_image, remove, Caller, Cvm, ImageView,
};
use crate::store::Tree;

/// A validated CreateImage request.
#[derive(Debug, Clone, Default)]
pub struct NewImage {
    /// Name (1..=60 characters).
    pub name: String,
    /// Description.
    pub description: String,
    /// Family (`""` for none).
    pub family: String,
    /// Source instance.
    pub instance_id: Option<String>,
    /// Source snapshots (the first is the system disk).
    pub snapshot_ids: Vec<String>,
    /// Data disks of the instance to include.
    pub data_disk_ids: Vec<String>,
    /// Tags to bind.
    pub tags: Vec<Tag>,
    /// Only check.
    pub dry_run: bool,
}

/// A validated ImportImage request.
#[derive(Debug, Clone, Default)]
pub struct ImportedImage {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Family.
    pub family: String,
    /// `x86_64`, `i386` or `arm` (the wire's `arm_64`).
    pub architecture: String,
    /// OS type from DescribeImportImageOs.
    pub os_type: String,
    /// OS version.
    pub os_version: String,
    /// `TencentCloud` or `BYOL`.
    pub license_type: String,
    /// `Legacy BIOS` or `UEFI`.
    pub boot_mode: String,
    /// Number of data-disk images.
    pub data_disks: usize,
    /// Tags to bind.
    pub tags: Vec<Tag>,
    /// The import ends in IMPORTFAILED instead of NORMAL.
    pub will_fail: bool,
    /// Only check.
    pub dry_run: bool,
}

/// A validated ModifyImageAttribute request; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ImageChanges {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New family (`""` clears it).
    pub family: Option<String>,
    /// New deprecation flag.
    pub deprecated: Option<bool>,
}

impl NewImage {
    /// The domain's rules on the request's names and ids (`rules.rs`).
    pub fn check(&self) -> Result<(), CvmError> {
        rules::image_name(&self.name)?;
        rules::image_description(&self.description)?;
        rules::image_family(&self.family)?;
        if let Some(id) = &self.instance_id {
            rules::instance_id(id)?;
        }
        self.snapshot_ids
            .iter()
            .try_for_each(|s| rules::snapshot_id(s))?;
        self.data_disk_ids
            .iter()
            .try_for_each(|d| rules::disk_id(d))
    }
}

impl ImportedImage {
    /// The domain's rules on the request's names (`rules.rs`).
    pub fn check(&self) -> Result<(), CvmError> {
        rules::image_name(&self.name)?;
        rules::image_description(&self.description)?;
        rules::image_family(&self.family)
    }
}

impl ImageChanges {
    /// The domain's rules on the new values (`rules.rs`).
    pub fn check(&self) -> Result<(), CvmError> {
        if let Some(n) = &self.name {
            rules::image_name(n)?;
        }
        if let Some(d) = &self.description {
            rules::image_description(d)?;
        }
        if let Some(f) = &self.family {
            rules::image_family(f)?;
        }
        Ok(())
    }
}

fn snapshot(usage: &str, id: Option<String>) -> Snapshot {
    Snapshot {
        id: id.unwrap_or_else(random_snapshot_id),
        disk_usage: usage.into(),
        size_gb: DEFAULT_SIZE_GB,
    }
}

impl Cvm {
    /// A new custom image of the caller, in a transient state for the configured delay.
    fn fresh_image(
        &self,
        caller: Caller<'_>,
        name: &str,
        transient: ImageState,
        outcome: ImageState,
        now: u64,
    ) -> Image {
        let delay = self.ready_after_ms();
        Image {
            id: String::new(),
            owner: caller.account.to_string(),
            region: caller.region.to_string(),
            name: name.to_string(),
            description: String::new(),
            family: String::new(),
            deprecated: false,
            os_name: DEFAULT_OS_NAME.into(),
            platform: DEFAULT_PLATFORM.into(),
            architecture: DEFAULT_ARCHITECTURE.into(),
            size_gb: DEFAULT_SIZE_GB,
            source: ImageSource::CreateImage,
            state: if delay == 0 { outcome } else { transient },
            pending: (delay > 0).then_some(Pending {
                started_ms: now,
                until_ms: now.saturating_add(delay),
                then: outcome,
            }),
            created_ms: now,
            updated_ms: now,
            instance_id: None,
            snapshots: Vec::new(),
            tags: Vec::new(),
            license_type: LICENSE_TENCENT_CLOUD.into(),
            cloudinit: true,
            boot_mode: BOOT_LEGACY_BIOS.into(),
            shared_with: Vec::new(),
            sync_source: None,
        }
    }

    async fn store_new(&self, template: Image, dry_run: bool) -> Result<Option<String>, CvmError> {
        let quota = self.quota;
        let id = finish(self.store.transact(|tx| {
            check_new(tx, &template.owner, &template.region, &template.name, quota)?;
            if dry_run {
                return Ok(None);
            }
            let mut img = template.clone();
            insert_new(tx, &mut img)?;
            Ok(Some(img.id))
        }))?;
        if id.is_some() {
            self.durable().await?;
        }
        Ok(id)
    }

    /// CreateImage: a new CREATING image that becomes NORMAL after the configured delay.
    /// Returns the id, or `None` for a dry run.
    pub async fn create_image(
        &self,
        caller: Caller<'_>,
        req: NewImage,
    ) -> Result<Option<String>, CvmError> {
        req.check()?;
        let now = now_ms();
        let mut img = self.fresh_image(
            caller,
            &req.name,
            ImageState::Creating,
            ImageState::Normal,
            now,
        );
        img.description = req.description;
        img.family = req.family;
        img.instance_id = req.instance_id;
        img.tags = req.tags;
        if req.snapshot_ids.is_empty() {
            img.snapshots.push(snapshot(DISK_SYSTEM, None));
            img.snapshots
                .extend(req.data_disk_ids.iter().map(|_| snapshot(DISK_DATA, None)));
        } else {
            for (i, s) in req.snapshot_ids.iter().enumerate() {
                img.snapshots.push(snapshot(
                    if i == 0 { DISK_SYSTEM } else { DISK_DATA },
                    Some(s.clone()),
                ));
            }
        }
        self.store_new(img, req.dry_run).await
    }

    /// ImportImage: a new IMPORTING image that becomes NORMAL (or IMPORTFAILED) after the
    /// configured delay.
    pub async fn import_image(
        &self,
        caller: Caller<'_>,
        req: ImportedImage,
    ) -> Result<Option<String>, CvmError> {
        req.check()?;
        let now = now_ms();
        let outcome = if req.will_fail {
            ImageState::ImportFailed
        } else {
            ImageState::Normal
        };
        let mut img = self.fresh_image(caller, &req.name, ImageState::Importing, outcome, now);
        img.description = req.description;
        img.family = req.family;
        img.source = ImageSource::ExternalImport;
        img.architecture = req.architecture;
        img.os_name = format!("{} {}", req.os_type, req.os_version);
        img.platform = if req.os_type.starts_with(PLATFORM_WINDOWS) {
            PLATFORM_WINDOWS.to_string()
        } else {
            req.os_type
        };
        img.license_type = req.license_type;
        img.boot_mode = req.boot_mode;
        img.tags = req.tags;
        img.cloudinit = false;
        img.snapshots.push(snapshot(DISK_SYSTEM, None));
        img.snapshots
            .extend((0..req.data_disks).map(|_| snapshot(DISK_DATA, None)));
        self.store_new(img, req.dry_run).await
    }

    /// ModifyImageAttribute: the state precondition, the duplicate-name check and the write
    /// are one transaction.
    pub async fn modify_image_attribute(
        &self,
        caller: Caller<'_>,
        id: &str,
        changes: ImageChanges,
    ) -> Result<(), CvmError> {
        changes.check()?;
        let now = now_ms();
        finish(self.store.transact(|tx| {
            let v = self.tx_visible(tx, caller, id, now)?;
            match v.image_type {
                ImageType::Public => return abort(CvmError::PublicImage(id.to_string())),
                ImageType::Shared => return abort(CvmError::SharedImageModify(id.to_string())),
                ImageType::Private => {}
            }
            if v.state != ImageState::Normal {
                return abort(CvmError::IncorrectState {
                    id: id.to_string(),
                    state: v.state,
                });
            }
            let mut img = v.image;
            img.settle(now);
            if let Some(new_name) = &changes.name {
                if *new_name != img.name {
                    let new_key = name_key(&img.owner, &img.region, new_name);
                    if tx.get(Tree::ImageNames, &new_key)?.is_some() {
                        return abort(CvmError::NameDuplicate(new_name.clone()));
                    }
                    tx.remove(
                        Tree::ImageNames,
                        &name_key(&img.owner, &img.region, &img.name),
                    )?;
                    tx.insert(Tree::ImageNames, &new_key, img.id.as_bytes())?;
                    img.name = new_name.clone();
                }
            }
            if let Some(d) = &changes.description {
                img.description = d.clone();
            }
            if let Some(f) = &changes.family {
                img.family = f.clone();
            }
            if let Some(d) = changes.deprecated {
                img.deprecated = d;
            }
            img.updated_ms = now;
            put_image(tx, &img)
        }))?;
        self.durable().await
    }

    /// DeleteImages: every id is checked first; either all go or none (and none with DryRun).
    pub async fn delete_images(
        &self,
        caller: Caller<'_>,
        ids: &[String],
        dry_run: bool,
    ) -> Result<(), CvmError> {
        let now = now_ms();
        finish(self.store.transact(|tx| {
            let mut doomed: Vec<Image> = Vec::new();
            for id in ids {
                let v = self.tx_visible(tx, caller, id, now)?;
                match v.image_type {
                    ImageType::Public => return abort(CvmError::PublicImage(id.clone())),
                    ImageType::Shared => return abort(CvmError::SharedImageDelete(id.clone())),
                    ImageType::Private => {}
                }
                if v.state.is_transient() {
                    return abort(CvmError::IncorrectState {
                        id: id.clone(),
                        state: v.state,
                    });
                }
                if !v.image.shared_with.is_empty() {
                    return abort(CvmError::InShared(id.clone()));
                }
                if !doomed.iter().any(|d| d.id == v.image.id) {
                    doomed.push(v.image);
                }
            }
            if dry_run {
                return Ok(());
            }
            doomed.iter().try_for_each(|img| remove(tx, img))
        }))?;
        if !dry_run {
            self.durable().await?;
        }
        Ok(())
    }

    /// DescribeImageFromFamily: the newest NORMAL, non-deprecated image of the family that
    /// the caller can see in the region.
    pub fn image_from_family(
        &self,
        caller: Caller<'_>,
        family: &str,
    ) -> Result<Option<ImageView>, CvmError> {
        let candidates = self.all_visible(caller, now_ms())?;
        Ok(candidates
            .into_iter()
            .filter(|v| {
                v.image.family == family && v.state == ImageState::Normal && !v.image.deprecated
            })
            .max_by(|a, b| {
                a.image
                    .created_ms
                    .cmp(&b.image.created_ms)
                    .then_with(|| b.image.id.cmp(&a.image.id))
            }))
    }
}
