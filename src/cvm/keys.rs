//! The image domain's key layout, in one place: the trees it owns, the form of an image id,
//! and every key builder of its index trees. `service.rs`, `describe.rs`, `portable.rs`,
//! `export.rs` and `check.rs` build and take keys apart only through these functions.
//!
//! # Layout
//! - `cvm.images`: `id` -> image record.
//! - `cvm.images_by_owner`: `owner \0 region \0 (u64::MAX - created_ms, big-endian) id` -> ``.
//! - `cvm.image_names`: `owner \0 region \0 name` -> id.
//! - `cvm.image_counts`: `owner \0 region` -> u64 big-endian.
//! - `cvm.image_shares`: `receiver \0 region \0 id` -> ``.
//! - `cvm.image_exports`: task id (u64 big-endian) -> export task record.
//! - `meta`: [`TASK_SEQ_KEY`] -> the last export task id (u64 big-endian).

use crate::store::Tree;

use super::model::Image;

/// The trees of the image domain.
pub const TREES: &[Tree] = &[
    Tree::Images,
    Tree::ImagesByOwner,
    Tree::ImageNames,
    Tree::ImageCounts,
    Tree::ImageShares,
    Tree::ImageExports,
];

/// Key in the `meta` tree of the last export task id.
pub const TASK_SEQ_KEY: &[u8] = b"cvm.export_task_seq";

/// Characters of the random part of an id (`img-`, `snap-`).
pub const ID_ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
/// Length of the random part of an id.
pub const ID_SUFFIX_LEN: usize = 8;
/// Prefix of an image id.
pub const IMAGE_ID_PREFIX: &str = "img-";
/// Length of an image id (`img-` and eight characters).
pub const IMAGE_ID_LEN: usize = IMAGE_ID_PREFIX.len() + ID_SUFFIX_LEN;
/// Prefix of a snapshot id.
pub const SNAPSHOT_ID_PREFIX: &str = "snap-";

/// Whether `b` may appear in the random part of an id.
pub fn is_id_char(b: u8) -> bool {
    ID_ALPHABET.contains(&b)
}

/// [`ID_SUFFIX_LEN`] random characters of [`ID_ALPHABET`].
pub fn random_suffix() -> String {
    uuid::Uuid::new_v4().as_bytes()[..ID_SUFFIX_LEN]
        .iter()
        .map(|b| ID_ALPHABET[(*b as usize) % ID_ALPHABET.len()] as char)
        .collect()
}

/// A fresh image id (not checked against the store or the catalogue).
pub fn random_image_id() -> String {
    format!("{IMAGE_ID_PREFIX}{}", random_suffix())
}

/// A fresh snapshot id.
pub fn random_snapshot_id() -> String {
    format!("{SNAPSHOT_ID_PREFIX}{}", random_suffix())
}

/// `owner \0 region \0`: the prefix of an account's keys in one region.
pub fn scope_prefix(owner: &str, region: &str) -> Vec<u8> {
    format!("{owner}\0{region}\0").into_bytes()
}

/// `owner \0`: the prefix of every key of an account (names, counts, owner index, shares
/// received).
pub fn account_prefix(owner: &str) -> Vec<u8> {
    format!("{owner}\0").into_bytes()
}

/// Key of `ImagesByOwner`: newest first, then by id.
pub fn by_owner_key(img: &Image) -> Vec<u8> {
    let mut k = scope_prefix(&img.owner, &img.region);
    k.extend_from_slice(&(u64::MAX - img.created_ms).to_be_bytes());
    k.extend_from_slice(img.id.as_bytes());
    k
}

/// The image id of an `ImagesByOwner` key under `scope` (a [`scope_prefix`]).
pub fn id_after_scope_in_owner_key<'k>(scope: &[u8], key: &'k [u8]) -> &'k [u8] {
    key.get(scope.len() + 8..).unwrap_or_default()
}

/// The image id of an `ImageShares` key under `scope` (a [`scope_prefix`]).
pub fn id_after_scope_in_share_key<'k>(scope: &[u8], key: &'k [u8]) -> &'k [u8] {
    key.get(scope.len()..).unwrap_or_default()
}

/// The image id at the end of an `ImagesByOwner` or `ImageShares` key, when the scope's
/// length is not known (a scan by account): ids are [`IMAGE_ID_LEN`] bytes.
pub fn id_of_index_key(key: &[u8]) -> &[u8] {
    &key[key.len().saturating_sub(IMAGE_ID_LEN)..]
}

/// Key of `ImageNames`.
pub fn name_key(owner: &str, region: &str, name: &str) -> Vec<u8> {
    let mut k = scope_prefix(owner, region);
    k.extend_from_slice(name.as_bytes());
    k
}

/// Key of `ImageShares`: the receiver's view of an image shared to it.
pub fn share_key(receiver: &str, region: &str, id: &str) -> Vec<u8> {
    let mut k = scope_prefix(receiver, region);
    k.extend_from_slice(id.as_bytes());
    k
}

/// Key of `ImageCounts`.
pub fn count_key(owner: &str, region: &str) -> Vec<u8> {
    format!("{owner}\0{region}").into_bytes()
}

/// Key of `ImageExports`.
pub fn export_key(task_id: u64) -> [u8; 8] {
    task_id.to_be_bytes()
}

/// A big-endian u64 value (counts, the export sequence); `None` when it is not 8 bytes.
pub fn read_u64(v: &[u8]) -> Option<u64> {
    v.try_into().ok().map(u64::from_be_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_image_ids_have_the_image_id_form() {
        let id = random_image_id();
        assert_eq!(id.len(), IMAGE_ID_LEN);
        assert!(id.starts_with(IMAGE_ID_PREFIX));
        assert!(id[IMAGE_ID_PREFIX.len()..].bytes().all(is_id_char));
    }

    #[test]
    fn the_id_of_an_owner_index_key_is_its_last_twelve_bytes() {
        let key = share_key("1", "ap-guangzhou", "img-abcdefgh");
        assert_eq!(id_of_index_key(&key), b"img-abcdefgh");
    }
}
