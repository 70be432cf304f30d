//! The image operations: each reads and writes inside one store transaction, then waits for
//! durability before it returns.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::clock::now_ms;
use crate::store::{decode, encode, Store, Tree, Tx, TxError, TxFailure};

use super::error::CvmError;
use super::model::{Image, ImageSource, ImageState, ImageType, Pending, Snapshot, Tag};

/// Who is asking, and where.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    /// Account id.
    pub account: &'a str,
    /// Region id (already validated).
    pub region: &'a str,
}

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

/// One DescribeImages filter (values OR-ed; filters AND-ed).
#[derive(Debug, Clone)]
pub enum ImageFilter {
    /// `image-id`: exact ids.
    Id(Vec<String>),
    /// `image-type`.
    Type(Vec<ImageType>),
    /// `image-name`: case-insensitive substring.
    NameContains(Vec<String>),
    /// `platform`: case-insensitive substring.
    PlatformContains(Vec<String>),
    /// `tag-key`: has a tag with one of these keys.
    TagKey(Vec<String>),
    /// `tag-value`: has a tag with one of these values.
    TagValue(Vec<String>),
    /// `tag:<key>`: has tag `key` with one of these values.
    Tag {
        /// Tag key.
        key: String,
        /// Accepted values.
        values: Vec<String>,
    },
    /// `image-state` (extension).
    State(Vec<ImageState>),
}

/// A validated DescribeImages request.
#[derive(Debug, Clone)]
pub struct ImageQuery {
    /// `ImageIds`, when given.
    pub ids: Option<Vec<String>>,
    /// `Filters`.
    pub filters: Vec<ImageFilter>,
    /// `Offset`.
    pub offset: u64,
    /// `Limit` (1..=100).
    pub limit: u64,
}

/// An image as the caller sees it at one moment.
#[derive(Debug, Clone)]
pub struct ImageView {
    /// The stored image.
    pub image: Image,
    /// Its type relative to the caller.
    pub image_type: ImageType,
    /// Its state now.
    pub state: ImageState,
    /// `SyncPercent` now.
    pub progress: u64,
}

/// One page of DescribeImages.
#[derive(Debug, Clone)]
pub struct ImagePage {
    /// All matches.
    pub total: u64,
    /// The Offset/Limit window.
    pub images: Vec<ImageView>,
}

/// The image service.
pub struct Cvm {
    store: Store,
    ready_after_ms: AtomicU64,
    quota: u64,
}

const ID_ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";

fn random_suffix() -> String {
    uuid::Uuid::new_v4().as_bytes()[..8]
        .iter()
        .map(|b| ID_ALPHABET[(*b as usize) % ID_ALPHABET.len()] as char)
        .collect()
}

/// `owner \0 region \0`: the prefix of an account's keys in one region.
fn scope_prefix(owner: &str, region: &str) -> Vec<u8> {
    format!("{owner}\0{region}\0").into_bytes()
}

fn by_owner_key(img: &Image) -> Vec<u8> {
    let mut k = scope_prefix(&img.owner, &img.region);
    k.extend_from_slice(&(u64::MAX - img.created_ms).to_be_bytes());
    k.extend_from_slice(img.id.as_bytes());
    k
}

fn name_key(owner: &str, region: &str, name: &str) -> Vec<u8> {
    let mut k = scope_prefix(owner, region);
    k.extend_from_slice(name.as_bytes());
    k
}

fn count_key(owner: &str, region: &str) -> Vec<u8> {
    format!("{owner}\0{region}").into_bytes()
}

fn read_count(tx: &Tx<'_>, key: &[u8]) -> Result<u64, TxError<CvmError>> {
    Ok(tx
        .get(Tree::ImageCounts, key)?
        .and_then(|v| v.as_slice().try_into().ok().map(u64::from_be_bytes))
        .unwrap_or(0))
}

fn tx_image(tx: &Tx<'_>, id: &str) -> Result<Option<Image>, TxError<CvmError>> {
    match tx.get(Tree::Images, id.as_bytes())? {
        None => Ok(None),
        Some(bytes) => decode::<Image>(&bytes)
            .map(Some)
            .map_err(|e| TxError::Abort(e.into())),
    }
}

fn put_image(tx: &Tx<'_>, img: &Image) -> Result<(), TxError<CvmError>> {
    let bytes = encode(img).map_err(|e| TxError::Abort(e.into()))?;
    tx.insert(Tree::Images, img.id.as_bytes(), &bytes)?;
    Ok(())
}

fn finish<T>(r: Result<T, TxFailure<CvmError>>) -> Result<T, CvmError> {
    r.map_err(|f| match f {
        TxFailure::Abort(e) => e,
        TxFailure::Store(e) => e.into(),
    })
}

impl Cvm {
    /// A service over `store`.
    pub fn new(store: Store, ready_after_ms: u64, quota: u64) -> Cvm {
        Cvm {
            store,
            ready_after_ms: AtomicU64::new(ready_after_ms),
            quota,
        }
    }

    /// How long new images stay CREATING.
    pub fn ready_after_ms(&self) -> u64 {
        self.ready_after_ms.load(Ordering::Relaxed)
    }

    /// The custom image quota per account per region.
    pub fn quota(&self) -> u64 {
        self.quota
    }

    /// How the caller sees an image, or `None` when it is not visible to them.
    fn view(&self, caller: Caller<'_>, img: Image, now: u64) -> Option<ImageView> {
        if img.region != caller.region {
            return None;
        }
        let image_type = if img.owner == caller.account {
            ImageType::Private
        } else if img.shared_with.iter().any(|g| g.account == caller.account) {
            ImageType::Shared
        } else {
            return None;
        };
        Some(ImageView {
            state: img.state_at(now),
            progress: img.progress_at(now),
            image_type,
            image: img,
        })
    }

    /// CreateImage: a new CREATING image that becomes NORMAL after the configured delay.
    /// Returns the id, or `None` for a dry run.
    pub async fn create_image(
        &self,
        caller: Caller<'_>,
        req: NewImage,
    ) -> Result<Option<String>, CvmError> {
        let now = now_ms();
        let delay = self.ready_after_ms();
        let mut snapshots = Vec::new();
        if req.snapshot_ids.is_empty() {
            snapshots.push(Snapshot {
                id: format!("snap-{}", random_suffix()),
                disk_usage: "SYSTEM_DISK".into(),
                size_gb: 50,
            });
            for _ in &req.data_disk_ids {
                snapshots.push(Snapshot {
                    id: format!("snap-{}", random_suffix()),
                    disk_usage: "DATA_DISK".into(),
                    size_gb: 50,
                });
            }
        } else {
            for (i, s) in req.snapshot_ids.iter().enumerate() {
                snapshots.push(Snapshot {
                    id: s.clone(),
                    disk_usage: if i == 0 { "SYSTEM_DISK" } else { "DATA_DISK" }.into(),
                    size_gb: 50,
                });
            }
        }
        let template = Image {
            id: String::new(),
            owner: caller.account.to_string(),
            region: caller.region.to_string(),
            name: req.name.clone(),
            description: req.description.clone(),
            family: req.family.clone(),
            deprecated: false,
            os_name: "TencentOS Server 3.1 (TK4)".into(),
            platform: "TencentOS".into(),
            architecture: "x86_64".into(),
            size_gb: 50,
            source: ImageSource::CreateImage,
            state: if delay == 0 {
                ImageState::Normal
            } else {
                ImageState::Creating
            },
            pending: (delay > 0).then_some(Pending {
                started_ms: now,
                until_ms: now + delay,
                then: ImageState::Normal,
            }),
            created_ms: now,
            updated_ms: now,
            instance_id: req.instance_id.clone(),
            snapshots,
            tags: req.tags.clone(),
            license_type: "TencentCloud".into(),
            cloudinit: true,
            boot_mode: "Legacy BIOS".into(),
            shared_with: Vec::new(),
            sync_source: None,
        };
        let candidate_id = format!("img-{}", random_suffix());
        let quota = self.quota;
        let id = finish(self.store.transact(|tx| {
            let names = name_key(caller.account, caller.region, &req.name);
            if tx.get(Tree::ImageNames, &names)?.is_some() {
                return Err(TxError::Abort(CvmError::NameDuplicate(req.name.clone())));
            }
            let counter = count_key(caller.account, caller.region);
            let count = read_count(tx, &counter)?;
            if count >= quota {
                return Err(TxError::Abort(CvmError::QuotaExceeded { quota }));
            }
            if req.dry_run {
                return Ok(None);
            }
            let mut img = template.clone();
            img.id = candidate_id.clone();
            while tx.get(Tree::Images, img.id.as_bytes())?.is_some() {
                img.id = format!("img-{}", random_suffix());
            }
            put_image(tx, &img)?;
            tx.insert(Tree::ImagesByOwner, &by_owner_key(&img), &[])?;
            tx.insert(Tree::ImageNames, &names, img.id.as_bytes())?;
            tx.insert(Tree::ImageCounts, &counter, &(count + 1).to_be_bytes())?;
            Ok(Some(img.id))
        }))?;
        if id.is_some() {
            self.store.durable().await?;
        }
        Ok(id)
    }

    /// ModifyImageAttribute: the state precondition, the duplicate-name check and the write
    /// are one transaction.
    pub async fn modify_image_attribute(
        &self,
        caller: Caller<'_>,
        id: &str,
        changes: ImageChanges,
    ) -> Result<(), CvmError> {
        let now = now_ms();
        finish(self.store.transact(|tx| {
            let img = tx_image(tx, id)?;
            let mut img = match img.and_then(|i| self.view(caller, i, now)) {
                None => return Err(TxError::Abort(CvmError::NotFound(id.to_string()))),
                Some(v) if v.image_type == ImageType::Shared => {
                    return Err(TxError::Abort(CvmError::SharedImageModify(id.to_string())))
                }
                Some(v) if v.state != ImageState::Normal => {
                    return Err(TxError::Abort(CvmError::IncorrectState {
                        id: id.to_string(),
                        state: v.state,
                    }))
                }
                Some(v) => v.image,
            };
            img.settle(now);
            if let Some(new_name) = &changes.name {
                if *new_name != img.name {
                    let new_key = name_key(&img.owner, &img.region, new_name);
                    if tx.get(Tree::ImageNames, &new_key)?.is_some() {
                        return Err(TxError::Abort(CvmError::NameDuplicate(new_name.clone())));
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
        self.store.durable().await?;
        Ok(())
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
            let mut doomed = Vec::new();
            for id in ids {
                let img = tx_image(tx, id)?;
                let v = match img.and_then(|i| self.view(caller, i, now)) {
                    None => return Err(TxError::Abort(CvmError::NotFound(id.clone()))),
                    Some(v) => v,
                };
                if v.image_type == ImageType::Shared {
                    return Err(TxError::Abort(CvmError::SharedImageDelete(id.clone())));
                }
                if v.state.is_transient() {
                    return Err(TxError::Abort(CvmError::IncorrectState {
                        id: id.clone(),
                        state: v.state,
                    }));
                }
                if !v.image.shared_with.is_empty() {
                    return Err(TxError::Abort(CvmError::InShared(id.clone())));
                }
                if !doomed.iter().any(|d: &Image| d.id == v.image.id) {
                    doomed.push(v.image);
                }
            }
            if dry_run {
                return Ok(());
            }
            for img in &doomed {
                tx.remove(Tree::Images, img.id.as_bytes())?;
                tx.remove(Tree::ImagesByOwner, &by_owner_key(img))?;
                tx.remove(
                    Tree::ImageNames,
                    &name_key(&img.owner, &img.region, &img.name),
                )?;
                let counter = count_key(&img.owner, &img.region);
                let count = read_count(tx, &counter)?;
                tx.insert(
                    Tree::ImageCounts,
                    &counter,
                    &count.saturating_sub(1).to_be_bytes(),
                )?;
            }
            Ok(())
        }))?;
        if !dry_run {
            self.store.durable().await?;
        }
        Ok(())
    }

    /// DescribeImages: the caller's images in the region, newest first, filtered and paged.
    pub fn describe_images(
        &self,
        caller: Caller<'_>,
        q: &ImageQuery,
    ) -> Result<ImagePage, CvmError> {
        let now = now_ms();
        let mut total = 0u64;
        let mut images = Vec::new();
        let mut keep = |v: ImageView| {
            if q.filters.iter().all(|f| matches(f, &v)) {
                if total >= q.offset && (images.len() as u64) < q.limit {
                    images.push(v);
                }
                total += 1;
            }
        };
        if let Some(ids) = &q.ids {
            let mut found = Vec::new();
            for id in ids {
                if found.iter().any(|v: &ImageView| v.image.id == *id) {
                    continue;
                }
                if let Some(bytes) = self.store.get(Tree::Images, id.as_bytes())? {
                    if let Some(v) = self.view(caller, decode::<Image>(&bytes)?, now) {
                        found.push(v);
                    }
                }
            }
            found.sort_by(|a, b| {
                b.image
                    .created_ms
                    .cmp(&a.image.created_ms)
                    .then_with(|| a.image.id.cmp(&b.image.id))
            });
            found.into_iter().for_each(&mut keep);
        } else {
            let prefix = scope_prefix(caller.account, caller.region);
            for item in self.store.scan_prefix(Tree::ImagesByOwner, &prefix) {
                let (key, _) = item?;
                let id = &key[prefix.len() + 8..];
                let Some(bytes) = self.store.get(Tree::Images, id)? else {
                    continue;
                };
                if let Some(v) = self.view(caller, decode::<Image>(&bytes)?, now) {
                    keep(v);
                }
            }
        }
        Ok(ImagePage { total, images })
    }
}

fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.to_lowercase().contains(&needle.to_lowercase())
}

fn matches(f: &ImageFilter, v: &ImageView) -> bool {
    let img = &v.image;
    match f {
        ImageFilter::Id(ids) => ids.contains(&img.id),
        ImageFilter::Type(types) => types.contains(&v.image_type),
        ImageFilter::NameContains(names) => names.iter().any(|n| contains_ci(&img.name, n)),
        ImageFilter::PlatformContains(ps) => ps.iter().any(|p| contains_ci(&img.platform, p)),
        ImageFilter::TagKey(keys) => img.tags.iter().any(|t| keys.contains(&t.key)),
        ImageFilter::TagValue(vals) => img.tags.iter().any(|t| vals.contains(&t.value)),
        ImageFilter::Tag { key, values } => img
            .tags
            .iter()
            .any(|t| t.key == *key && values.contains(&t.value)),
        ImageFilter::State(states) => states.contains(&v.state),
    }
}
