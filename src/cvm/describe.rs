//! DescribeImages: the images the caller can see in the region, in one stable order: the
//! caller's own images (newest first), then images shared to the caller (by id), then the
//! public catalogue (catalogue order).

use crate::clock::now_ms;
use crate::store::{decode, Tree};

use super::catalogue;
use super::error::CvmError;
use super::keys::{
    count_key, id_after_scope_in_owner_key, id_after_scope_in_share_key, read_u64, scope_prefix,
};
use std::sync::Arc;

use super::model::{Image, ImageState, ImageType};
use super::service::{public_seen, seen_as, Caller, Cvm, ImageView};
use super::Decoded;

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
    /// From `InstanceType`: runs on one of these architectures.
    Architecture(Vec<String>),
}

/// A validated DescribeImages request.
#[derive(Debug, Clone)]
pub struct ImageQuery {
    /// `ImageIds`, when given.
    pub ids: Option<Vec<String>>,
    /// `Filters` (and the architecture filter of `InstanceType`).
    pub filters: Vec<ImageFilter>,
    /// `Offset`.
    pub offset: u64,
    /// `Limit` (1..=100).
    pub limit: u64,
}

/// One page of DescribeImages.
#[derive(Clone)]
pub struct ImagePage {
    /// All matches.
    pub total: u64,
    /// The Offset/Limit window.
    pub images: Vec<PageImage>,
}

/// What a DescribeImages page by index reads from the store: the count of matches and the
/// page's records in listing order (a public one marked). Nothing in it depends on the time.
pub(super) struct IndexPage {
    total: u64,
    records: Vec<(Arc<Decoded>, bool)>,
}

/// The request an [`IndexPage`] answers.
#[derive(Hash, PartialEq, Eq)]
pub(super) struct PageKey {
    account: String,
    region: String,
    types: u8,
    offset: u64,
    limit: u64,
}

fn type_bit(t: ImageType) -> u8 {
    match t {
        ImageType::Private => 1,
        ImageType::Shared => 2,
        ImageType::Public => 4,
    }
}

/// An image of a page as the caller sees it: the record (kept decoded between requests when
/// it was read from the store, with its wire text) and what the caller and the time make of
/// it.
#[derive(Clone)]
pub struct PageImage {
    /// The record.
    pub record: Arc<Decoded>,
    /// Its type relative to the caller.
    pub image_type: ImageType,
    /// Its state now.
    pub state: ImageState,
    /// `SyncPercent` now.
    pub progress: u64,
}

impl From<ImageView> for PageImage {
    fn from(v: ImageView) -> PageImage {
        PageImage {
            record: Arc::new(Decoded::fresh(v.image)),
            image_type: v.image_type,
            state: v.state,
            progress: v.progress,
        }
    }
}

impl PageImage {
    /// The image.
    pub fn image(&self) -> &Image {
        &self.record.record
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
        ImageFilter::Architecture(archs) => archs.contains(&img.architecture),
    }
}

/// Position of an image in the listing order.
fn order_key(v: &ImageView, public_rank: usize) -> (u8, u64, String) {
    match v.image_type {
        ImageType::Private => (0, u64::MAX - v.image.created_ms, v.image.id.clone()),
        ImageType::Shared => (1, 0, v.image.id.clone()),
        ImageType::Public => (2, public_rank as u64, v.image.id.clone()),
    }
}

impl Cvm {
    fn stored(&self, id: &[u8]) -> Result<Option<Image>, CvmError> {
        match self.store.get(Tree::Images, id)? {
            None => Ok(None),
            Some(bytes) => Ok(Some(decode::<Image>(&bytes)?)),
        }
    }

    /// Every image the caller sees in the region, in listing order, fed to `each` until it
    /// returns false.
    fn for_each_visible(
        &self,
        caller: Caller<'_>,
        now: u64,
        mut each: impl FnMut(ImageView) -> bool,
    ) -> Result<(), CvmError> {
        let own = scope_prefix(caller.account, caller.region);
        for item in self.store.scan_prefix(Tree::ImagesByOwner, &own) {
            let (key, _) = item?;
            let Some(img) = self.stored(id_after_scope_in_owner_key(&own, &key))? else {
                continue;
            };
            if let Some(v) = self.view(caller, img, now) {
                if !each(v) {
                    return Ok(());
                }
            }
        }
        for item in self.store.scan_prefix(Tree::ImageShares, &own) {
            let (key, _) = item?;
            let Some(img) = self.stored(id_after_scope_in_share_key(&own, &key))? else {
                continue;
            };
            if let Some(v) = self.view(caller, img, now) {
                if !each(v) {
                    return Ok(());
                }
            }
        }
        for img in catalogue::public_images(caller.region) {
            if !each(Self::public_view(img)) {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Every image the caller sees in the region, in listing order.
    pub(super) fn all_visible(
        &self,
        caller: Caller<'_>,
        now: u64,
    ) -> Result<Vec<ImageView>, CvmError> {
        let mut out = Vec::new();
        self.for_each_visible(caller, now, |v| {
            out.push(v);
            true
        })?;
        Ok(out)
    }

    /// Counts and pages by index when the query filters only on `image-type` (or not at all):
    /// the caller's own images are counted by `ImageCounts` and paged by `ImagesByOwner`
    /// without reading the images skipped, so the cost does not grow with the account's size.
    /// What the page reads from the store is kept while the store is unchanged
    /// ([`KeptAnswers`](crate::kept::KeptAnswers)); the state and progress of each image are
    /// worked out from its record now.
    fn describe_by_index(
        &self,
        caller: Caller<'_>,
        q: &ImageQuery,
        now: u64,
    ) -> Result<Option<ImagePage>, CvmError> {
        if q.ids.is_some() {
            return Ok(None);
        }
        let mut types = vec![ImageType::Private, ImageType::Shared, ImageType::Public];
        for f in &q.filters {
            match f {
                ImageFilter::Type(t) => types.retain(|x| t.contains(x)),
                _ => return Ok(None),
            }
        }
        let key = PageKey {
            account: caller.account.to_string(),
            region: caller.region.to_string(),
            types: types.iter().fold(0u8, |m, t| m | type_bit(*t)),
            offset: q.offset,
            limit: q.limit,
        };
        let page = self
            .pages
            .get_or_compute(&self.store, key, || self.index_page(caller, &types, q, now))?;
        let mut images = Vec::with_capacity(page.records.len());
        for (record, public) in &page.records {
            let seen = if *public {
                Some(public_seen(&record.record))
            } else {
                seen_as(caller, &record.record, now)
            };
            if let Some((image_type, state, progress)) = seen {
                images.push(PageImage {
                    record: record.clone(),
                    image_type,
                    state,
                    progress,
                });
            }
        }
        Ok(Some(ImagePage {
            total: page.total,
            images,
        }))
    }

    /// The stored images of `ids` that the caller sees, in that order, read through the kept
    /// records (`KeptMap::read_many`), appended to `out` (an id whose image is gone or hidden is
    /// left out).
    fn kept_visible(
        &self,
        caller: Caller<'_>,
        ids: &[Vec<u8>],
        now: u64,
        out: &mut Vec<(Arc<Decoded>, bool)>,
    ) -> Result<(), CvmError> {
        for record in self.cache.read_many(&self.store, Tree::Images, ids)? {
            if seen_as(caller, &record.record, now).is_some() {
                out.push((record, false));
            }
        }
        Ok(())
    }

    /// What [`Cvm::describe_by_index`] reads: the count and the page's records.
    fn index_page(
        &self,
        caller: Caller<'_>,
        types: &[ImageType],
        q: &ImageQuery,
        now: u64,
    ) -> Result<IndexPage, CvmError> {
        let own = scope_prefix(caller.account, caller.region);
        let private_total = if types.contains(&ImageType::Private) {
            self.store
                .get(Tree::ImageCounts, &count_key(caller.account, caller.region))?
                .and_then(|v| read_u64(&v))
                .unwrap_or(0)
        } else {
            0
        };
        // Shared and public images follow the caller's own, in listing order.
        let mut rest: Vec<(Arc<Decoded>, bool)> = Vec::new();
        if types.contains(&ImageType::Shared) {
            let mut ids = Vec::new();
            for item in self.store.scan_prefix(Tree::ImageShares, &own) {
                let (key, _) = item?;
                ids.push(id_after_scope_in_share_key(&own, &key).to_vec());
            }
            self.kept_visible(caller, &ids, now, &mut rest)?;
        }
        if types.contains(&ImageType::Public) {
            rest.extend(
                catalogue::public_images(caller.region)
                    .into_iter()
                    .map(|img| (Arc::new(Decoded::fresh(img)), true)),
            );
        }
        let total = private_total + rest.len() as u64;
        let mut records: Vec<(Arc<Decoded>, bool)> = Vec::new();
        let mut skip = q.offset;
        if skip < private_total {
            // The page's ids first, then their records in one read (one round trip on a
            // database). An id whose image is gone or hidden is left out, as before.
            // (A page short of hidden ones reads on.)
            let mut keys = self
                .store
                .scan_prefix(Tree::ImagesByOwner, &own)
                .skip(skip as usize);
            while (records.len() as u64) < q.limit {
                let want = q.limit - records.len() as u64;
                let mut ids = Vec::new();
                for item in keys.by_ref() {
                    let (key, _) = item?;
                    ids.push(id_after_scope_in_owner_key(&own, &key).to_vec());
                    if ids.len() as u64 >= want {
                        break;
                    }
                }
                if ids.is_empty() {
                    break;
                }
                self.kept_visible(caller, &ids, now, &mut records)?;
            }
            skip = 0;
        } else {
            skip -= private_total;
        }
        let room = q.limit.saturating_sub(records.len() as u64) as usize;
        records.extend(rest.into_iter().skip(skip as usize).take(room));
        Ok(IndexPage { total, records })
    }

    /// DescribeImages: filtered, counted and paged.
    pub fn describe_images(
        &self,
        caller: Caller<'_>,
        q: &ImageQuery,
    ) -> Result<ImagePage, CvmError> {
        let now = now_ms();
        if let Some(page) = self.describe_by_index(caller, q, now)? {
            return Ok(page);
        }
        let mut total = 0u64;
        let mut images = Vec::new();
        let mut keep = |v: ImageView| {
            if q.filters.iter().all(|f| matches(f, &v)) {
                if total >= q.offset && (images.len() as u64) < q.limit {
                    images.push(PageImage::from(v));
                }
                total += 1;
            }
            true
        };
        match &q.ids {
            Some(ids) => {
                let mut found: Vec<ImageView> = Vec::new();
                for id in ids {
                    if found.iter().any(|v| v.image.id == *id) {
                        continue;
                    }
                    if let Some(v) = self.visible(caller, id, now)? {
                        found.push(v);
                    }
                }
                let ranks: Vec<String> = catalogue::public_images(caller.region)
                    .into_iter()
                    .map(|i| i.id)
                    .collect();
                found.sort_by_key(|v| {
                    order_key(v, ranks.iter().position(|r| *r == v.image.id).unwrap_or(0))
                });
                for v in found {
                    keep(v);
                }
            }
            None => self.for_each_visible(caller, now, keep)?,
        }
        Ok(ImagePage { total, images })
    }
}
