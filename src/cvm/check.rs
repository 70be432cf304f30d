//! The image domain's part of `cloudtwin check`: every record decodes under the key that names
//! it, and the indexes and counters (`ImagesByOwner`, `ImageNames`, `ImageCounts`,
//! `ImageShares`) are exactly what [`portable::changes`] rebuilds from the images.

use crate::check::compare::{compare_tree, expected, Problem};
use crate::store::{decode, ReadView, StoreError, Tree};

use super::export::ExportTask;
use super::keys::{export_key, TASK_SEQ_KEY};
use super::model::Image;
use super::portable::{self, CvmDump};

/// Checks the image domain's trees, adding what is wrong to `out`.
pub fn check(view: &ReadView<'_>, out: &mut Vec<Problem>) -> Result<(), StoreError> {
    let mut dump = CvmDump::default();
    for item in view.scan_prefix(Tree::Images, b"") {
        let (key, value) = item?;
        match decode::<Image>(&value) {
            Err(e) => out.push(Problem::new(Tree::Images, &key, e.to_string())),
            Ok(img) if img.id.as_bytes() != key.as_slice() => out.push(Problem::new(
                Tree::Images,
                &key,
                format!("holds image {}, not the one its key names", img.id),
            )),
            Ok(img) => dump.images.push(img),
        }
    }
    for item in view.scan_prefix(Tree::ImageExports, b"") {
        let (key, value) = item?;
        match decode::<ExportTask>(&value) {
            Err(e) => out.push(Problem::new(Tree::ImageExports, &key, e.to_string())),
            Ok(t) if export_key(t.task_id).as_slice() != key.as_slice() => out.push(Problem::new(
                Tree::ImageExports,
                &key,
                format!("holds export task {}, not the one its key names", t.task_id),
            )),
            Ok(t) => dump.exports.push(t),
        }
    }
    match view.get(Tree::Meta, TASK_SEQ_KEY)? {
        None => {}
        Some(v) => match <[u8; 8]>::try_from(v.as_slice()) {
            Ok(b) => dump.export_seq = u64::from_be_bytes(b),
            Err(_) => out.push(Problem::new(
                Tree::Meta,
                TASK_SEQ_KEY,
                format!("{} bytes, expected 8", v.len()),
            )),
        },
    }
    if let Some(t) = dump.exports.iter().max_by_key(|t| t.task_id) {
        if t.task_id > dump.export_seq {
            out.push(Problem::new(
                Tree::Meta,
                TASK_SEQ_KEY,
                format!(
                    "the last export task id is {}, but task {} exists (a new task would \
                     reuse an id)",
                    dump.export_seq, t.task_id
                ),
            ));
        }
    }
    let want = expected(portable::changes(&dump)?, "images", out);
    for tree in [Tree::ImagesByOwner, Tree::ImageNames, Tree::ImageShares] {
        compare_tree(view, tree, want.get(&tree), false, out)?;
    }
    compare_tree(
        view,
        Tree::ImageCounts,
        want.get(&Tree::ImageCounts),
        true,
        out,
    )?;
    Ok(())
}
