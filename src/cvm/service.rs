//! The image service: shared pieces of every operation (who sees which image, writing and removing an image with all its index entries). The operations
//! themselves live in `images.rs`, `describe.rs`, `sync.rs`, `share.rs` and `export.rs`; each
//! reads and writes inside one store transaction, then waits for durability before it returns.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::store::{decode, encode, Store, Tree, Tx, TxError, TxFailure};

use super::catalogue;
use super::describe::{IndexPage, PageKey};
use super::error::CvmError;
use super::keys::{by_owner_key, count_key, name_key, random_image_id, read_u64, share_key};
use super::model::{Image, ImageState, ImageType};
use crate::kept::{KeptAnswers, KeptMap};

/// DescribeImages pages kept (`kept::KeptAnswers`): each is a page of up to 100 records'
/// handles, so the bound is small.
const PAGES_KEPT: usize = 1024;

/// Who is asking, and where.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    /// Account id.
    pub account: &'a str,
    /// Region id (already validated).
    pub region: &'a str,
}

/// An image as the caller sees it at one moment.
#[derive(Debug, Clone)]
pub struct ImageView {
    /// The image.
    pub image: Image,
    /// Its type relative to the caller.
    pub image_type: ImageType,
    /// Its state now.
    pub state: ImageState,
    /// `SyncPercent` now.
    pub progress: u64,
}

/// The image service.
pub struct Cvm {
    pub(super) store: Store,
    ready_after_ms: AtomicU64,
    pub(super) quota: u64,
    /// Decoded records of recent listings (`kept.rs`).
    pub(super) cache: KeptMap<Image>,
    /// What recent DescribeImages pages by index read, while the store is unchanged.
    pub(super) pages: KeptAnswers<PageKey, IndexPage>,
}

/// Maps a failed transaction to the domain error.
pub(super) fn finish<T>(r: Result<T, TxFailure<CvmError>>) -> Result<T, CvmError> {
    r.map_err(|f| match f {
        TxFailure::Abort(e) => e,
        TxFailure::Store(e) => e.into(),
    })
}

/// Aborts the transaction with a domain error.
pub(super) fn abort<T>(e: CvmError) -> Result<T, TxError<CvmError>> {
    Err(TxError::Abort(e))
}

/// Reads the custom-image count of (owner, region).
pub(super) fn read_count(tx: &Tx<'_>, owner: &str, region: &str) -> Result<u64, TxError<CvmError>> {
    Ok(tx
        .get(Tree::ImageCounts, &count_key(owner, region))?
        .and_then(|v| read_u64(&v))
        .unwrap_or(0))
}

fn write_count(tx: &Tx<'_>, owner: &str, region: &str, n: u64) -> Result<(), TxError<CvmError>> {
    tx.insert(
        Tree::ImageCounts,
        &count_key(owner, region),
        &n.to_be_bytes(),
    )?;
    Ok(())
}

/// A stored image inside a transaction.
pub(super) fn tx_image(tx: &Tx<'_>, id: &str) -> Result<Option<Image>, TxError<CvmError>> {
    match tx.get(Tree::Images, id.as_bytes())? {
        None => Ok(None),
        Some(bytes) => decode::<Image>(&bytes)
            .map(Some)
            .map_err(|e| TxError::Abort(e.into())),
    }
}

/// Rewrites a stored image whose name, owner, region and creation time are unchanged.
pub(super) fn put_image(tx: &Tx<'_>, img: &Image) -> Result<(), TxError<CvmError>> {
    let bytes = encode(img).map_err(|e| TxError::Abort(e.into()))?;
    tx.insert(Tree::Images, img.id.as_bytes(), &bytes)?;
    Ok(())
}

/// Checks the name and quota rules of a new image in (owner, region); called before
/// [`insert_new`] in the same transaction.
pub(super) fn check_new(
    tx: &Tx<'_>,
    owner: &str,
    region: &str,
    name: &str,
    quota: u64,
) -> Result<(), TxError<CvmError>> {
    if tx
        .get(Tree::ImageNames, &name_key(owner, region, name))?
        .is_some()
    {
        return abort(CvmError::NameDuplicate(name.to_string()));
    }
    if read_count(tx, owner, region)? >= quota {
        return abort(CvmError::QuotaExceeded { quota });
    }
    Ok(())
}

/// Stores a new image with its index entries and counts it; gives it a fresh id first.
pub(super) fn insert_new(tx: &Tx<'_>, img: &mut Image) -> Result<(), TxError<CvmError>> {
    while img.id.is_empty()
        || catalogue::is_public_id(&img.id)
        || tx.get(Tree::Images, img.id.as_bytes())?.is_some()
    {
        img.id = random_image_id();
    }
    put_image(tx, img)?;
    tx.insert(Tree::ImagesByOwner, &by_owner_key(img), &[])?;
    tx.insert(
        Tree::ImageNames,
        &name_key(&img.owner, &img.region, &img.name),
        img.id.as_bytes(),
    )?;
    let n = read_count(tx, &img.owner, &img.region)?;
    write_count(tx, &img.owner, &img.region, n + 1)
}

/// Removes an image with its index entries and uncounts it.
pub(super) fn remove(tx: &Tx<'_>, img: &Image) -> Result<(), TxError<CvmError>> {
    tx.remove(Tree::Images, img.id.as_bytes())?;
    tx.remove(Tree::ImagesByOwner, &by_owner_key(img))?;
    tx.remove(
        Tree::ImageNames,
        &name_key(&img.owner, &img.region, &img.name),
    )?;
    for g in &img.shared_with {
        tx.remove(
            Tree::ImageShares,
            &share_key(&g.account, &img.region, &img.id),
        )?;
    }
    let n = read_count(tx, &img.owner, &img.region)?;
    write_count(tx, &img.owner, &img.region, n.saturating_sub(1))
}

/// How the caller sees a stored image at `now`: its type, state and `SyncPercent`; `None`
/// when the caller does not see it (another region, or neither owned nor shared to them).
pub(super) fn seen_as(
    caller: Caller<'_>,
    img: &Image,
    now: u64,
) -> Option<(ImageType, ImageState, u64)> {
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
    Some((image_type, img.state_at(now), img.progress_at(now)))
}

/// What anyone sees of a public image: its type, its state, its progress (always complete).
pub(super) fn public_seen(img: &Image) -> (ImageType, ImageState, u64) {
    (ImageType::Public, img.state, 100)
}

impl Cvm {
    /// A service over `store`.
    pub fn new(store: Store, ready_after_ms: u64, quota: u64) -> Cvm {
        Cvm {
            store,
            ready_after_ms: AtomicU64::new(ready_after_ms),
            quota,
            cache: KeptMap::default(),
            pages: KeptAnswers::with_capacity(PAGES_KEPT),
        }
    }

    /// How long CREATING, IMPORTING and SYNCING last.
    pub fn ready_after_ms(&self) -> u64 {
        self.ready_after_ms.load(Ordering::Relaxed)
    }

    /// Changes how long CREATING, IMPORTING and SYNCING last, for images made from now on.
    pub fn set_ready_after_ms(&self, ms: u64) {
        self.ready_after_ms.store(ms, Ordering::Relaxed);
    }

    /// State control for tests: sets a stored image's state now, and optionally a timed
    /// transition from it (`then` after `after_ms`). Any owner; no precondition.
    pub async fn force_state(
        &self,
        id: &str,
        state: ImageState,
        then: Option<(ImageState, u64)>,
    ) -> Result<(), CvmError> {
        let now = crate::clock::now_ms();
        finish(self.store.transact(|tx| {
            let Some(mut img) = tx_image(tx, id)? else {
                return abort(CvmError::NotFound(id.to_string()));
            };
            img.state = state;
            img.pending = then.map(|(to, after)| super::model::Pending {
                started_ms: now,
                until_ms: now.saturating_add(after),
                then: to,
            });
            img.updated_ms = now;
            put_image(tx, &img)
        }))?;
        self.durable().await
    }

    /// The custom image quota per account per region.
    pub fn quota(&self) -> u64 {
        self.quota
    }

    /// How the caller sees a stored image, or `None` when it is not visible to them.
    pub(super) fn view(&self, caller: Caller<'_>, img: Image, now: u64) -> Option<ImageView> {
        let (image_type, state, progress) = seen_as(caller, &img, now)?;
        Some(ImageView {
            state,
            progress,
            image_type,
            image: img,
        })
    }

    /// A public image as the caller sees it.
    pub(super) fn public_view(img: Image) -> ImageView {
        let (image_type, state, progress) = public_seen(&img);
        ImageView {
            state,
            progress,
            image_type,
            image: img,
        }
    }

    /// Any image visible to the caller (public, own or shared), inside a transaction.
    pub(super) fn tx_visible(
        &self,
        tx: &Tx<'_>,
        caller: Caller<'_>,
        id: &str,
        now: u64,
    ) -> Result<ImageView, TxError<CvmError>> {
        if let Some(p) = catalogue::public_image(id, caller.region) {
            return Ok(Self::public_view(p));
        }
        match tx_image(tx, id)?.and_then(|i| self.view(caller, i, now)) {
            Some(v) => Ok(v),
            None => abort(CvmError::NotFound(id.to_string())),
        }
    }

    /// Any image visible to the caller, outside a transaction.
    pub(super) fn visible(
        &self,
        caller: Caller<'_>,
        id: &str,
        now: u64,
    ) -> Result<Option<ImageView>, CvmError> {
        if let Some(p) = catalogue::public_image(id, caller.region) {
            return Ok(Some(Self::public_view(p)));
        }
        match self.store.get(Tree::Images, id.as_bytes())? {
            None => Ok(None),
            Some(bytes) => Ok(self.view(caller, decode::<Image>(&bytes)?, now)),
        }
    }

    /// Waits until the writes so far are durable.
    pub(super) async fn durable(&self) -> Result<(), CvmError> {
        Ok(self.store.durable().await?)
    }
}
