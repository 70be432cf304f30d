//! The image domain's records, whole: dumped for export, rebuilt (with every derived index)
//! for import, and the changes that reset them (everything, or one account's share).

use std::collections::BTreeMap;

use crate::store::{decode, encode, Change, ReadView, StoreError, Tree};

use super::export::ExportTask;
use super::keys::{
    account_prefix, by_owner_key, count_key, export_key, id_of_index_key, name_key, read_u64,
    share_key,
};
use super::model::Image;

/// The trees of the image domain and the export sequence key (their home is `keys.rs`).
pub use super::keys::{TASK_SEQ_KEY, TREES};

/// Every record of the image domain.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CvmDump {
    /// Custom images, by id.
    pub images: Vec<Image>,
    /// Export tasks, by id.
    pub exports: Vec<ExportTask>,
    /// Last export task id.
    pub export_seq: u64,
}

fn put(tree: Tree, key: Vec<u8>, value: Vec<u8>) -> Change {
    Change {
        tree,
        key,
        value: Some(value),
    }
}

fn del(tree: Tree, key: Vec<u8>) -> Change {
    Change {
        tree,
        key,
        value: None,
    }
}

/// Reads every record (under a rewrite's exclusive view).
pub fn dump(view: &ReadView<'_>) -> Result<CvmDump, StoreError> {
    let mut d = CvmDump::default();
    for item in view.scan_prefix(Tree::Images, b"") {
        d.images.push(decode::<Image>(&item?.1)?);
    }
    for item in view.scan_prefix(Tree::ImageExports, b"") {
        d.exports.push(decode::<ExportTask>(&item?.1)?);
    }
    d.export_seq = view
        .get(Tree::Meta, TASK_SEQ_KEY)?
        .and_then(|v| read_u64(&v))
        .unwrap_or(0);
    Ok(d)
}

/// The writes that store `d` with every index (`ImagesByOwner`, `ImageNames`, `ImageCounts`,
/// `ImageShares`). The caller checked its consistency (unique ids and names).
pub fn changes(d: &CvmDump) -> Result<Vec<Change>, StoreError> {
    let mut out = Vec::new();
    let mut counts: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    for img in &d.images {
        out.push(put(Tree::Images, img.id.clone().into_bytes(), encode(img)?));
        out.push(put(Tree::ImagesByOwner, by_owner_key(img), Vec::new()));
        out.push(put(
            Tree::ImageNames,
            name_key(&img.owner, &img.region, &img.name),
            img.id.clone().into_bytes(),
        ));
        for g in &img.shared_with {
            out.push(put(
                Tree::ImageShares,
                share_key(&g.account, &img.region, &img.id),
                Vec::new(),
            ));
        }
        *counts
            .entry(count_key(&img.owner, &img.region))
            .or_default() += 1;
    }
    for (k, n) in counts {
        out.push(put(Tree::ImageCounts, k, n.to_be_bytes().to_vec()));
    }
    for t in &d.exports {
        out.push(put(
            Tree::ImageExports,
            export_key(t.task_id).to_vec(),
            encode(t)?,
        ));
    }
    if d.export_seq > 0 {
        out.push(put(
            Tree::Meta,
            TASK_SEQ_KEY.to_vec(),
            d.export_seq.to_be_bytes().to_vec(),
        ));
    }
    Ok(out)
}

fn all_keys(
    view: &ReadView<'_>,
    tree: Tree,
    prefix: &[u8],
    out: &mut Vec<Change>,
) -> Result<(), StoreError> {
    for item in view.scan_prefix(tree, prefix) {
        out.push(del(tree, item?.0));
    }
    Ok(())
}

/// The writes that remove the domain's records: all of them, or those of one account (its
/// images with their shares, its shares on other accounts' images, its export tasks).
pub fn reset_changes(
    view: &ReadView<'_>,
    account: Option<&str>,
) -> Result<Vec<Change>, StoreError> {
    let mut out = Vec::new();
    let Some(a) = account else {
        for &t in TREES {
            all_keys(view, t, b"", &mut out)?;
        }
        out.push(del(Tree::Meta, TASK_SEQ_KEY.to_vec()));
        return Ok(out);
    };
    let prefix = account_prefix(a);
    // Its own images, with their indexes and the shares they gave.
    for item in view.scan_prefix(Tree::ImagesByOwner, &prefix) {
        let (key, _) = item?;
        out.push(del(Tree::ImagesByOwner, key.clone()));
        let id = id_of_index_key(&key).to_vec();
        if let Some(bytes) = view.get(Tree::Images, &id)? {
            let img = decode::<Image>(&bytes)?;
            for g in &img.shared_with {
                out.push(del(
                    Tree::ImageShares,
                    share_key(&g.account, &img.region, &img.id),
                ));
            }
        }
        out.push(del(Tree::Images, id));
    }
    all_keys(view, Tree::ImageNames, &prefix, &mut out)?;
    all_keys(view, Tree::ImageCounts, &prefix, &mut out)?;
    // Shares it received: the granting images forget it.
    for item in view.scan_prefix(Tree::ImageShares, &prefix) {
        let (key, _) = item?;
        let id = id_of_index_key(&key).to_vec();
        if let Some(bytes) = view.get(Tree::Images, &id)? {
            let mut img = decode::<Image>(&bytes)?;
            if img.owner != a {
                img.shared_with.retain(|g| g.account != a);
                out.push(put(Tree::Images, id, encode(&img)?));
            }
        }
        out.push(del(Tree::ImageShares, key));
    }
    for item in view.scan_prefix(Tree::ImageExports, b"") {
        let (key, v) = item?;
        if decode::<ExportTask>(&v)?.owner == a {
            out.push(del(Tree::ImageExports, key));
        }
    }
    Ok(out)
}
