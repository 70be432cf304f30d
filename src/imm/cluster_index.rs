//! QueryFigureClusters with label or time filters, answered from `imm.cluster_order`, and the
//! dataset scan it must agree with (kept as the reference: [`by_scan`]).
//!
//! # Plan
//! Every filter is a key range of the order tree: a label condition is the postings of its
//! (key, text) (`scope + 8 + key + text + id`), a time range is the range of the CreateTime
//! (tag 3) or UpdateTime (tag 4) order keys between its bounds. So:
//! - only a time range, sorted by the same time field: the page is read straight from that
//!   range, seeking the cursor (cost: the page, plus the keys of the range when the total is
//!   asked for);
//! - otherwise the ranges are walked side by side, one key of each in turn, until the first
//!   ends: that one is the most selective filter, found exactly after reading at most
//!   (filters × its size) keys and no record. Its clusters are read (in one read, through the
//!   kept clusters), every filter is checked on the record (the scan's own predicate), then
//!   sorted and paged like the scan.
//!
//! The worst case left is a query whose every filter matches most of the dataset and whose
//! sort is another field: it reads every matching record, as the scan did (but never more
//! than the scan).

use std::sync::Arc;

use crate::kept::{Kept, KeptMap};
use crate::store::{decode, Store, Tree};

use super::clusters::{
    clusters_by_id, label_text, page_by_ids, sort_value_of, ClusterPage, ClusterQuery, Cursor,
};
use super::error::ImmError;
use super::keys::{
    id_of_order_key, label_prefix, order_key, order_prefix, order_tag, time_range_keys,
};
use super::model::{Cluster, SortKey, SortVal};

fn in_range(t: u64, r: &(Option<i64>, Option<i64>)) -> bool {
    r.0.is_none_or(|s| t as i64 >= s) && r.1.is_none_or(|e| t as i64 <= e)
}

/// Whether a cluster passes every filter of the query.
fn matches(cl: &Cluster, q: &ClusterQuery) -> bool {
    let labels_ok = q.labels.iter().all(|(k, want)| {
        cl.labels
            .iter()
            .any(|(lk, lv)| lk == k && label_text(lv) == *want)
    });
    labels_ok && in_range(cl.created_ms, &q.created) && in_range(cl.updated_ms, &q.updated)
}

/// Sorts the matches as asked and cuts the page after the cursor.
fn page_of(mut hits: Vec<(SortVal, Arc<Kept<Cluster>>)>, q: &ClusterQuery) -> ClusterPage {
    hits.sort_by(|a, b| {
        let ord =
            a.0.cmp(&b.0)
                .then_with(|| a.1.object_id.cmp(&b.1.object_id));
        if q.desc {
            ord.reverse()
        } else {
            ord
        }
    });
    let total = hits.len() as u64;
    let start = match &q.after {
        None => 0,
        Some(cur) => hits
            .iter()
            .position(|(v, cl)| {
                let ord = v.cmp(&cur.value).then_with(|| cl.object_id.cmp(&cur.id));
                if q.desc {
                    ord == std::cmp::Ordering::Less
                } else {
                    ord == std::cmp::Ordering::Greater
                }
            })
            .unwrap_or(hits.len()),
    };
    let end = (start + q.max_results).min(hits.len());
    let next = (end < hits.len() && end > start).then(|| Cursor {
        sort: q.sort,
        desc: q.desc,
        value: hits[end - 1].0.clone(),
        id: hits[end - 1].1.object_id.clone(),
    });
    let clusters = hits.drain(start..end).map(|(_, c)| c).collect();
    ClusterPage {
        clusters,
        next,
        total,
    }
}

/// The reference answer: every cluster of the dataset read and checked.
pub(super) fn by_scan(
    store: &Store,
    scope: &[u8],
    q: &ClusterQuery,
) -> Result<ClusterPage, ImmError> {
    let mut hits = Vec::new();
    for item in store.scan_prefix(Tree::ImmClusters, scope) {
        let (_, v) = item?;
        let cl = decode::<Cluster>(&v)?;
        if matches(&cl, q) {
            hits.push((cl.sort_value(q.sort), Arc::new(Kept::fresh(cl))));
        }
    }
    Ok(page_of(hits, q))
}

/// One filter as a key range of the order tree.
struct Source {
    lo: Vec<u8>,
    hi: Option<Vec<u8>>,
    /// The prefix the cluster id follows (labels), or the tag's prefix (times).
    prefix: Vec<u8>,
    /// The sort key whose value sits between prefix and id (`None`: the id follows).
    valued: Option<SortKey>,
}

/// Keys of a [`Source`], in order.
type Keys<'a> = Box<dyn Iterator<Item = Result<Vec<u8>, ImmError>> + 'a>;

impl Source {
    /// Its keys from `lo` to `hi` (excluded): a time range's entries from the order blocks, a
    /// label's postings as they are.
    fn keys<'a>(&self, store: &'a Store, lo: &[u8], hi: Option<&[u8]>, desc: bool) -> Keys<'a> {
        match self.valued {
            Some(_) => Box::new(super::order_index::scan(store, &self.prefix, lo, hi, desc)),
            None => Box::new(
                store
                    .scan_range(Tree::ImmClusterOrder, lo, hi, desc)
                    .map(|i| i.map(|(k, _)| k).map_err(ImmError::from)),
            ),
        }
    }

    /// Every key of the source, ascending.
    fn all<'a>(&self, store: &'a Store) -> Keys<'a> {
        self.keys(store, &self.lo, self.hi.as_deref(), false)
    }

    fn id(&self, key: &[u8]) -> String {
        match self.valued {
            Some(sort) => id_of_order_key(key, &self.prefix, sort),
            None => String::from_utf8_lossy(key.get(self.prefix.len()..).unwrap_or_default())
                .to_string(),
        }
    }
}

/// Candidates read in one go by [`by_index`].
const CANDIDATES_PER_READ: usize = 1024;

const CREATE_TAG: u8 = 3;
const UPDATE_TAG: u8 = 4;

/// The filters' key ranges; `None` when a time range is empty (nothing matches).
fn sources(scope: &[u8], q: &ClusterQuery) -> Option<Vec<Source>> {
    let mut out = Vec::new();
    for (k, v) in &q.labels {
        let prefix = label_prefix(scope, k, v);
        out.push(Source {
            lo: prefix.clone(),
            hi: crate::store::prefix_end(&prefix),
            prefix,
            valued: None,
        });
    }
    for (range, tag, sort) in [
        (&q.created, CREATE_TAG, SortKey::CreateTime),
        (&q.updated, UPDATE_TAG, SortKey::UpdateTime),
    ] {
        if *range == (None, None) {
            continue;
        }
        let (lo, hi) = time_range_keys(scope, tag, range)?;
        out.push(Source {
            lo,
            hi,
            prefix: order_prefix(scope, tag),
            valued: Some(sort),
        });
    }
    Some(out)
}

/// QueryFigureClusters with label or time filters, by the plan of this module.
pub(super) fn by_index(
    store: &Store,
    kept: &KeptMap<Cluster>,
    scope: &[u8],
    q: &ClusterQuery,
) -> Result<ClusterPage, ImmError> {
    let Some(sources) = sources(scope, q) else {
        return Ok(page_of(Vec::new(), q));
    };
    if sources.is_empty() {
        return by_scan(store, scope, q);
    }
    if let [only] = sources.as_slice() {
        if only.valued == Some(q.sort) {
            return seek_time_range(store, kept, scope, q, only);
        }
    }
    // Walk the ranges side by side until one ends: its ids are the candidates.
    let mut scans: Vec<_> = sources.iter().map(|s| s.all(store)).collect();
    let mut seen: Vec<Vec<String>> = vec![Vec::new(); sources.len()];
    let smallest = 'walk: loop {
        for (i, scan) in scans.iter_mut().enumerate() {
            match scan.next() {
                None => break 'walk i,
                Some(k) => seen[i].push(sources[i].id(&k?)),
            }
        }
    };
    let ids = std::mem::take(&mut seen[smallest]);
    drop(scans);
    // The candidates through the kept records (a filter matching a thousand clusters decodes
    // them once, not on every query), read a chunk at a time: one round trip on a database
    // per chunk, and never the stored bytes of every match held at once.
    let mut hits = Vec::new();
    for chunk in ids.chunks(CANDIDATES_PER_READ) {
        hits.extend(
            clusters_by_id(store, kept, scope, chunk)?
                .into_iter()
                .filter(|cl| matches(cl, q))
                .map(|cl| (sort_value_of(&cl, q.sort), cl)),
        );
    }
    Ok(page_of(hits, q))
}

/// A time range sorted by the same time field: the page from the range, after the cursor.
fn seek_time_range(
    store: &Store,
    kept: &KeptMap<Cluster>,
    scope: &[u8],
    q: &ClusterQuery,
    range: &Source,
) -> Result<ClusterPage, ImmError> {
    let total = if q.with_total {
        range.all(store).try_fold(0u64, |n, k| k.map(|_| n + 1))?
    } else {
        0
    };
    let tag = order_tag(q.sort).unwrap_or(CREATE_TAG);
    let cursor = q
        .after
        .as_ref()
        .map(|c| order_key(scope, tag, &c.value, &c.id));
    let (lo, hi) =
        super::order_index::after_cursor(range.lo.clone(), range.hi.clone(), cursor, q.desc);
    let mut ids = Vec::new();
    if hi.as_ref().is_none_or(|h| lo < *h) {
        for k in range
            .keys(store, &lo, hi.as_deref(), q.desc)
            .take(q.max_results + 1)
        {
            ids.push(range.id(&k?));
        }
    }
    page_by_ids(store, kept, scope, ids, q, total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imm::model::Member;
    use crate::imm::service::put_cluster;
    use crate::store::{Durability, TxError};

    const SORTS: [SortKey; 10] = [
        SortKey::ObjectId,
        SortKey::ImageCount,
        SortKey::VideoCount,
        SortKey::ProjectName,
        SortKey::DatasetName,
        SortKey::CreateTime,
        SortKey::UpdateTime,
        SortKey::Gender,
        SortKey::FaceCount,
        SortKey::Name,
    ];

    fn cluster(i: u64) -> Cluster {
        let members = (0..(i % 4 + 1))
            .map(|m| Member {
                uri: format!("oss://b/{}.jpg", (i + m) % 7),
                figure_id: format!("f{m}"),
                age: Some(20.0),
                gender: Some(
                    if (i + m).is_multiple_of(3) {
                        "male"
                    } else {
                        "female"
                    }
                    .into(),
                ),
                quality: 0.5,
                video: m % 3 == 2,
            })
            .collect();
        let mut labels = vec![("role".to_string(), format!("\"r{}\"", i % 3))];
        if i.is_multiple_of(5) {
            labels.push(("team".into(), "\"a\\u0062\"".into()));
        }
        if i.is_multiple_of(7) {
            labels.push(("n".into(), "7".into()));
        }
        // Ids share the block of their first 21 bytes by threes; some are shorter, one of them
        // a prefix of the others' blocks (a block of its own that sorts before theirs).
        let n = (i * 37) % 101;
        let object_id = match n {
            1 => "Cluster-0190abcd-ef1".to_string(),
            _ if n.is_multiple_of(10) => format!("Cluster-{n:03}"),
            _ => format!("Cluster-0190abcd-ef1{}-{n:03}", n % 3),
        };
        Cluster {
            object_id,
            account: "1".into(),
            region: "r".into(),
            project: "p".into(),
            dataset: "d".into(),
            name: format!("n{}", i % 6),
            custom_id: String::new(),
            labels,
            meta_lock_version: 0,
            // Ties on purpose: several clusters share a time.
            created_ms: 1000 + i / 3,
            updated_ms: 5000 - (i % 17) * 10,
            cover: None,
            members,
            centroid: None,
            centroid_weight: 0,
            hint: None,
        }
    }

    fn pages(
        store: &Store,
        scope: &[u8],
        q: &ClusterQuery,
        f: fn(&Store, &[u8], &ClusterQuery) -> Result<ClusterPage, ImmError>,
    ) -> (Vec<String>, Vec<Option<Cursor>>) {
        let mut q = q.clone();
        let (mut ids, mut cursors) = (Vec::new(), Vec::new());
        for _ in 0..200 {
            let p = f(store, scope, &q).expect("page");
            ids.extend(p.clusters.iter().map(|c| c.object_id.clone()));
            cursors.push(p.next.clone());
            match p.next {
                Some(n) => q.after = Some(n),
                None => break,
            }
        }
        (ids, cursors)
    }

    /// One map of kept clusters for every indexed query of the test, as a server keeps one:
    /// the pages read through kept entries must be the scan's.
    fn kept() -> &'static KeptMap<Cluster> {
        static KEPT: std::sync::OnceLock<KeptMap<Cluster>> = std::sync::OnceLock::new();
        KEPT.get_or_init(KeptMap::default)
    }

    #[test]
    fn index_answers_are_the_scans_for_every_sort_order_filter_and_page() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), Durability::Sync).expect("open");
        let scope = b"1\0r\0p\0d\0".to_vec();
        for i in 0..60 {
            let c = cluster(i);
            store
                .transact(|tx| put_cluster(tx, &scope, &c))
                .map_err(|_: crate::store::TxFailure<ImmError>| ())
                .expect("put");
        }
        // An update that changes labels and times leaves no stale postings behind.
        let mut c = cluster(3);
        c.labels = vec![("role".into(), "\"r9\"".into())];
        c.updated_ms = 9999;
        store
            .transact(|tx| -> Result<(), TxError<ImmError>> { put_cluster(tx, &scope, &c) })
            .map_err(|_| ())
            .expect("update");
        let label_sets: Vec<Vec<(String, String)>> = vec![
            vec![],
            vec![("role".into(), "r1".into())],
            vec![("role".into(), "r9".into())],
            vec![("team".into(), "ab".into())],
            vec![("n".into(), "7".into())],
            vec![("role".into(), "r0".into()), ("team".into(), "ab".into())],
            vec![("role".into(), "nobody".into())],
        ];
        type Range = (Option<i64>, Option<i64>);
        let ranges: Vec<(Range, Range)> = vec![
            ((None, None), (None, None)),
            ((Some(1005), Some(1012)), (None, None)),
            ((Some(1010), None), (Some(4900), None)),
            ((None, Some(1003)), (None, None)),
            ((None, None), (Some(4880), Some(4950))),
            ((None, None), (Some(9999), Some(9999))),
            ((Some(20), Some(10)), (None, None)),
            (
                (Some(i64::MIN), Some(i64::MAX)),
                (Some(i64::MIN), Some(i64::MAX)),
            ),
            ((Some(1000), Some(1019)), (Some(4840), Some(4900))),
            ((None, None), (Some(5001), None)),
        ];
        let mut compared = 0;
        for labels in &label_sets {
            for (created, updated) in &ranges {
                // Without filters, QueryFigureClusters pages by the order index alone.
                let unfiltered =
                    labels.is_empty() && *created == (None, None) && *updated == (None, None);
                let indexed = if unfiltered {
                    |s: &Store, scope: &[u8], q: &ClusterQuery| {
                        crate::imm::clusters::unfiltered(s, kept(), scope, q)
                    }
                } else {
                    |s: &Store, scope: &[u8], q: &ClusterQuery| by_index(s, kept(), scope, q)
                };
                for sort in SORTS {
                    for desc in [false, true] {
                        for (max_results, with_total) in [(4, true), (100, false)] {
                            let q = ClusterQuery {
                                labels: labels.clone(),
                                created: *created,
                                updated: *updated,
                                sort,
                                desc,
                                max_results,
                                after: None,
                                with_total,
                            };
                            let scan = pages(&store, &scope, &q, by_scan);
                            let index = pages(&store, &scope, &q, indexed);
                            assert_eq!(scan, index, "{q:?}");
                            if with_total {
                                let t1 = by_scan(&store, &scope, &q).expect("scan").total;
                                let t2 = indexed(&store, &scope, &q).expect("index").total;
                                assert_eq!(t1, t2, "total of {q:?}");
                            }
                            compared += 1;
                        }
                    }
                }
            }
        }
        assert!(compared > 1000);
    }

    /// The order tree's records, key and value, in key order.
    type Records = Vec<(Vec<u8>, Vec<u8>)>;

    fn order_records(store: &Store) -> Records {
        store
            .scan_prefix(Tree::ImmClusterOrder, b"")
            .map(|i| i.expect("record"))
            .collect()
    }

    /// A data dir in the layout schema `version` (1 or 2) left: 60 clusters put by today's
    /// code, then their order records rewritten as that schema kept them: one key with an
    /// empty value per sort-key entry (blocks came with schema 3) and, for schema 1, no label
    /// postings. Returns the dir and the records today's code wrote.
    fn old_data_dir(version: u32) -> (tempfile::TempDir, Records) {
        use crate::imm::keys::{block_len, decode_block, order_prefix, LABEL_TAG};
        let dir = tempfile::tempdir().expect("tempdir");
        let scope = b"1\0r\0p\0d\0".to_vec();
        let s = Store::open_with_steps(dir.path(), Durability::Sync, &[], version, 16)
            .expect("open old");
        for i in 0..60 {
            let c = cluster(i);
            s.transact(|tx| -> Result<(), TxError<ImmError>> { put_cluster(tx, &scope, &c) })
                .map_err(|_| ())
                .expect("put");
        }
        let want = order_records(&s);
        let blocks: Vec<&(Vec<u8>, Vec<u8>)> = want
            .iter()
            .filter(|(k, _)| block_len(scope.len(), k).is_some())
            .collect();
        assert!(
            blocks
                .iter()
                .any(|(_, v)| decode_block(v).is_some_and(|e| e.len() > 1)),
            "some block holds several entries"
        );
        let postings = order_prefix(&scope, LABEL_TAG);
        let unposted: Vec<&Vec<u8>> = match version {
            1 => want
                .iter()
                .map(|(k, _)| k)
                .filter(|k| k.starts_with(&postings))
                .collect(),
            _ => Vec::new(),
        };
        assert!(version > 1 || unposted.len() > 60, "labels have postings");
        s.transact(|tx| -> Result<(), TxError<()>> {
            for k in &unposted {
                tx.remove(Tree::ImmClusterOrder, k)?;
            }
            for (k, v) in &blocks {
                tx.remove(Tree::ImmClusterOrder, k)?;
                for rest in decode_block(v).expect("block") {
                    tx.insert(Tree::ImmClusterOrder, &[k.as_slice(), rest].concat(), b"")?;
                }
            }
            Ok(())
        })
        .expect("rewrite");
        assert_ne!(order_records(&s), want);
        s.close().expect("close");
        (dir, want)
    }

    /// The order records after opening `dir` with today's code, which migrates it.
    fn reopened(dir: &tempfile::TempDir) -> Records {
        let s = Store::open(dir.path(), Durability::Sync).expect("open current");
        assert_eq!(
            s.schema_version().expect("schema"),
            cloudtwin_migrations::CURRENT_SCHEMA
        );
        order_records(&s)
    }

    #[test]
    fn opening_a_schema_1_data_dir_derives_the_label_postings_and_the_blocks() {
        let (dir, want) = old_data_dir(1);
        assert_eq!(reopened(&dir), want);
    }

    #[test]
    fn opening_a_schema_2_data_dir_gathers_the_sort_keys_into_blocks() {
        let (dir, want) = old_data_dir(2);
        assert_eq!(reopened(&dir), want);
    }
}
