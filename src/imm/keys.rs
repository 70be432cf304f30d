//! The face domain's key layout, in one place: the trees it owns and every key builder
//! (projects, datasets, the scope of everything inside a dataset, pending faces, identity
//! hints, tasks, and the cluster order index with its count keys). `service.rs`, the
//! operations, `portable.rs` and `check.rs` build and take keys apart only through these.
//!
//! # Layout
//! - `imm.projects`: `account \0 region \0 project` -> project.
//! - `imm.datasets`: `account \0 region \0 project \0 dataset` -> dataset.
//! - `imm.files`, `imm.clusters`, `imm.hints`: `scope + uri | cluster id | hint`, where the
//!   scope of a dataset is its dataset key and `\0`.
//! - `imm.pending`: `scope + uri` -> `` for each file with a face pending clustering
//!   (schema 4; schema 3 kept `scope + uri \0 figure id` per face).
//! - `imm.tasks`: `account \0 region \0 project \0 task id` -> task.
//! - `imm.cluster_order`: the sort keys of every cluster, in blocks (schema 3). The entry of a
//!   cluster for one indexed sort key is `scope + tag (1..=7) + encoded sort value + cluster
//!   id` (an order key); the entries that agree up to the first [`BUCKET`] bytes of the id
//!   are kept as one record, `block key` -> the rest of each entry, sorted (see
//!   [`encode_block`]), where the block key is the entry up to there. Cluster ids are UUIDv7,
//!   time first, so a block holds the clusters of one sort value made in the same
//!   millisecond, and a clustering run that makes thousands writes a block where it wrote a
//!   key per cluster and sort key (sled 0.34 pays about 10 µs for every key it writes). Blocks
//!   never interleave: every entry of a block sorts after its key and before the next block's
//!   key, so reading the blocks in key order reads the entries in order
//!   ([`super::order_index`]). Beside them, one plain key per distinct (key, [`label_text`]
//!   of the value) of a cluster's custom labels, `scope + 8 + encoded label key + encoded
//!   label text + cluster id` -> `` (schema 2), and `scope + 0` -> the dataset's cluster count
//!   (u64 big-endian).

use crate::store::Tree;

use super::model::{label_text, Caller, Cluster, SortKey, SortVal};

/// The trees of the face domain.
pub const TREES: &[Tree] = &[
    Tree::ImmProjects,
    Tree::ImmDatasets,
    Tree::ImmFiles,
    Tree::ImmClusters,
    Tree::ImmPending,
    Tree::ImmHints,
    Tree::ImmTasks,
    Tree::ImmClusterOrder,
];

/// `account \0`: the prefix of every key of an account in every IMM tree.
pub fn account_prefix(account: &str) -> Vec<u8> {
    format!("{account}\0").into_bytes()
}

/// `account \0 region \0`: the prefix of an account's projects in a region.
pub fn region_prefix(c: Caller<'_>) -> Vec<u8> {
    format!("{}\0{}\0", c.account, c.region).into_bytes()
}

/// Key of a project: `account \0 region \0 project`.
pub fn project_key(c: Caller<'_>, project: &str) -> Vec<u8> {
    format!("{}\0{}\0{}", c.account, c.region, project).into_bytes()
}

/// Prefix of a project's datasets and tasks: the project key and `\0`.
pub fn project_scope(c: Caller<'_>, project: &str) -> Vec<u8> {
    let mut k = project_key(c, project);
    k.push(0);
    k
}

/// Key of a dataset: `account \0 region \0 project \0 dataset`.
pub fn dataset_key(c: Caller<'_>, project: &str, dataset: &str) -> Vec<u8> {
    format!("{}\0{}\0{}\0{}", c.account, c.region, project, dataset).into_bytes()
}

/// Prefix of everything inside a dataset (files, clusters, pending faces, hints).
pub fn dataset_scope(c: Caller<'_>, project: &str, dataset: &str) -> Vec<u8> {
    let mut k = dataset_key(c, project, dataset);
    k.push(0);
    k
}

/// `scope + suffix`: the key of a file (by URI), a cluster (by id) or a hint in a dataset.
pub fn scoped(scope: &[u8], suffix: &str) -> Vec<u8> {
    let mut k = scope.to_vec();
    k.extend_from_slice(suffix.as_bytes());
    k
}

/// Key of a file with faces pending clustering in `imm.pending`: the file's own key,
/// `scope + uri` (one key per file, not per face: a clustering run over a million hinted
/// faces removes a quarter as many keys when files hold four faces each).
pub fn pending_key(scope: &[u8], uri: &str) -> Vec<u8> {
    scoped(scope, uri)
}

/// Key of a task: `account \0 region \0 project \0 task id`.
pub fn task_key(c: Caller<'_>, project: &str, task_id: &str) -> Vec<u8> {
    format!("{}\0{}\0{}\0{}", c.account, c.region, project, task_id).into_bytes()
}

/// Whether a task key names this task id (its last part).
pub fn task_key_names(key: &[u8], task_id: &str) -> bool {
    let suffix = format!("\0{task_id}").into_bytes();
    key.ends_with(&suffix)
}

/// The `\0`-separated parts of a key: (account, region, project, dataset, rest) for a key
/// under a dataset scope.
pub fn key_parts(key: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(key)
        .splitn(5, '\0')
        .map(str::to_string)
        .collect()
}

/// The text after a dataset scope (a file's URI, a cluster's id).
pub fn after_scope(scope: &[u8], key: &[u8]) -> String {
    String::from_utf8_lossy(key.get(scope.len()..).unwrap_or_default()).to_string()
}

/// Sort keys kept in the order index, with their tags. (ObjectId, ProjectName and DatasetName
/// order a dataset's clusters by id: the clusters tree itself serves them.)
const INDEXED: [(u8, SortKey); 7] = [
    (1, SortKey::ImageCount),
    (2, SortKey::VideoCount),
    (3, SortKey::CreateTime),
    (4, SortKey::UpdateTime),
    (5, SortKey::Gender),
    (6, SortKey::FaceCount),
    (7, SortKey::Name),
];

/// The order-index tag of a sort key, or `None` when the clusters tree serves it.
pub fn order_tag(key: SortKey) -> Option<u8> {
    INDEXED.iter().find(|(_, k)| *k == key).map(|(t, _)| *t)
}

/// Order-preserving bytes of a sort value: integers big-endian with the sign bit flipped;
/// strings with 0x00 escaped as 0x00 0xFF and ended by 0x00 0x00.
fn encode_value(v: &SortVal, out: &mut Vec<u8>) {
    match v {
        SortVal::Int(i) => out.extend_from_slice(&((*i as u64) ^ (1 << 63)).to_be_bytes()),
        SortVal::Str(s) => {
            for b in s.bytes() {
                if b == 0 {
                    out.extend_from_slice(&[0, 0xFF]);
                } else {
                    out.push(b);
                }
            }
            out.extend_from_slice(&[0, 0]);
        }
    }
}

/// Where the cluster id starts in an order key (after scope, tag and value).
fn id_offset(key: &[u8], value_start: usize, int: bool) -> usize {
    if int {
        return value_start + 8;
    }
    let mut i = value_start;
    while i + 1 < key.len() {
        if key[i] == 0 {
            if key[i + 1] == 0 {
                return i + 2;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    key.len()
}

/// Prefix of one sort key's entries in a dataset's order index.
pub fn order_prefix(scope: &[u8], tag: u8) -> Vec<u8> {
    let mut k = scope.to_vec();
    k.push(tag);
    k
}

/// One order-index key.
pub fn order_key(scope: &[u8], tag: u8, v: &SortVal, id: &str) -> Vec<u8> {
    let mut k = order_prefix(scope, tag);
    encode_value(v, &mut k);
    k.extend_from_slice(id.as_bytes());
    k
}

/// The cluster id of an order-index key under `prefix` ([`order_prefix`]) for `sort`.
pub fn id_of_order_key(key: &[u8], prefix: &[u8], sort: SortKey) -> String {
    let at = id_offset(key, prefix.len(), sort.is_int());
    String::from_utf8_lossy(key.get(at..).unwrap_or_default()).to_string()
}

/// Bytes of the cluster id kept in a block key: `Cluster-` and the 48-bit millisecond
/// timestamp of a UUIDv7 (`Cluster-0190abcd-ef12`). A shorter id is kept whole (its block holds
/// only its own entry).
pub const BUCKET: usize = 21;

/// Where the block key of an order key under `scope` ends (`None`: the key is not a sort
/// key's entry, but a label posting or the count, kept as a plain key).
pub fn block_len(scope_len: usize, key: &[u8]) -> Option<usize> {
    let tag = *key.get(scope_len)?;
    let (_, sort) = INDEXED.iter().find(|(t, _)| *t == tag)?;
    let id = id_offset(key, scope_len + 1, sort.is_int());
    Some(key.len().min(id + BUCKET))
}

/// A block's value: each entry's rest after the block key, as `[u16 BE length][bytes]`, in
/// ascending order without repeats (`entries` must be so).
pub fn encode_block<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        let n = e.len().min(u16::MAX as usize);
        out.extend_from_slice(&(n as u16).to_be_bytes());
        out.extend_from_slice(&e[..n]);
    }
    out
}

/// The rests of a block's entries, in order; `None` when the value is damaged.
pub fn decode_block(mut v: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    while !v.is_empty() {
        let (len, rest) = v.split_first_chunk::<2>()?;
        let n = u16::from_be_bytes(*len) as usize;
        if rest.len() < n {
            return None;
        }
        let (e, rest) = rest.split_at(n);
        out.push(e);
        v = rest;
    }
    Some(out)
}

/// Tag of the label postings in the order tree.
pub const LABEL_TAG: u8 = 8;

/// Prefix of the clusters whose labels hold `key` with the text `text` ([`label_text`]):
/// the cluster ids follow it directly.
pub fn label_prefix(scope: &[u8], key: &str, text: &str) -> Vec<u8> {
    let mut k = order_prefix(scope, LABEL_TAG);
    encode_value(&SortVal::Str(key.to_string()), &mut k);
    encode_value(&SortVal::Str(text.to_string()), &mut k);
    k
}

/// The order-index keys of a cluster: one per indexed sort key, then one per distinct label
/// (key, text).
pub fn order_keys(scope: &[u8], c: &Cluster) -> Vec<Vec<u8>> {
    let st = c.stats();
    let mut out: Vec<Vec<u8>> = INDEXED
        .iter()
        .map(|(tag, key)| order_key(scope, *tag, &c.sort_value_with(&st, *key), &c.object_id))
        .collect();
    let mut labels: Vec<Vec<u8>> = c
        .labels
        .iter()
        .map(|(k, v)| {
            let mut key = label_prefix(scope, k, &label_text(v));
            key.extend_from_slice(c.object_id.as_bytes());
            key
        })
        .collect();
    labels.sort();
    labels.dedup();
    out.extend(labels);
    out
}

/// The key range of one time-valued sort key (`CreateTime`, `UpdateTime`) between two
/// inclusive bounds: (first key, the key after the last), `None` when the range is empty.
pub fn time_range_keys(
    scope: &[u8],
    tag: u8,
    range: &(Option<i64>, Option<i64>),
) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
    let lo = match range.0 {
        Some(s) => order_key(scope, tag, &SortVal::Int(s), ""),
        None => order_prefix(scope, tag),
    };
    let hi = match range.1 {
        Some(e) => match e.checked_add(1) {
            Some(after) => Some(order_key(scope, tag, &SortVal::Int(after), "")),
            None => crate::store::prefix_end(&order_prefix(scope, tag)),
        },
        None => crate::store::prefix_end(&order_prefix(scope, tag)),
    };
    if let (Some(s), Some(e)) = range {
        if s > e {
            return None;
        }
    }
    Some((lo, hi))
}

/// Key of a dataset's cluster count in the order tree.
pub fn cluster_count_key(scope: &[u8]) -> Vec<u8> {
    let mut k = scope.to_vec();
    k.push(0);
    k
}

/// A big-endian u64 value (the cluster count); `None` when it is not 8 bytes.
pub fn read_u64(v: &[u8]) -> Option<u64> {
    v.try_into().ok().map(u64::from_be_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_of_an_order_key_is_found_after_an_escaped_string_value() {
        let scope = b"1\0r\0p\0d\0".to_vec();
        let v = SortVal::Str("a\0b".into());
        let k = order_key(&scope, 7, &v, "Cluster-x");
        assert_eq!(
            id_of_order_key(&k, &order_prefix(&scope, 7), SortKey::Name),
            "Cluster-x"
        );
        let k = order_key(&scope, 1, &SortVal::Int(-3), "Cluster-y");
        assert_eq!(
            id_of_order_key(&k, &order_prefix(&scope, 1), SortKey::ImageCount),
            "Cluster-y"
        );
    }

    #[test]
    fn a_pending_key_is_the_file_s_own_key() {
        let scope = b"1\0r\0p\0d\0".to_vec();
        let k = pending_key(&scope, "oss://b/x.jpg");
        assert_eq!(k, scoped(&scope, "oss://b/x.jpg"));
    }
}
