//! Figure clusters: Get, BatchGet, QueryFigureClusters (filters, every sort key, a stable
//! keyset cursor) and UpdateFigureCluster (name, labels, cover; optimistic lock).

use serde::{Deserialize, Serialize};

use std::sync::Arc;

use crate::clock::now_ms;
use crate::kept::{Kept, KeptMap};
use crate::store::{Store, Tree};

use super::error::{not_found, ImmError};
use super::keys::{
    after_scope, cluster_count_key, dataset_scope, id_of_order_key, order_key, order_prefix,
    order_tag, read_u64, scoped,
};
use super::model::Cluster;
pub use super::model::{SortKey, SortVal};
use super::rules::{self, ClusterText};
use super::service::{
    abort, dataset_of, finish, get, put_cluster, tx_cluster, tx_dataset, Caller, Imm,
};

/// The clusters of `ids` that exist, in that order, read in one go (one round trip on a
/// database).
/// Each is decoded once for the bytes it is stored as, and kept in `kept` with its rendering.
pub(super) fn clusters_by_id(
    store: &Store,
    kept: &KeptMap<Cluster>,
    scope: &[u8],
    ids: &[String],
) -> Result<Vec<Arc<Kept<Cluster>>>, ImmError> {
    let keys: Vec<Vec<u8>> = ids.iter().map(|id| scoped(scope, id)).collect();
    Ok(kept.read_many(store, Tree::ImmClusters, &keys)?)
}

/// A kept cluster's value for a sort key, its statistics worked out once per entry.
pub(super) fn sort_value_of(cl: &Kept<Cluster>, key: SortKey) -> SortVal {
    match cl.derived(Cluster::stats) {
        Some(st) => cl.sort_value_with(st, key),
        None => cl.sort_value(key),
    }
}

/// A page of QueryFigureClusters from the ids an index gave, in order: up to
/// `q.max_results` clusters, and a cursor after the last one when `ids` held one more.
pub(super) fn page_by_ids(
    store: &Store,
    kept: &KeptMap<Cluster>,
    scope: &[u8],
    mut ids: Vec<String>,
    q: &ClusterQuery,
    total: u64,
) -> Result<ClusterPage, ImmError> {
    let more = ids.len() > q.max_results;
    ids.truncate(q.max_results);
    let clusters = clusters_by_id(store, kept, scope, &ids)?;
    let next = if more {
        clusters.last().map(|c| Cursor {
            sort: q.sort,
            desc: q.desc,
            value: sort_value_of(c, q.sort),
            id: c.object_id.clone(),
        })
    } else {
        None
    };
    Ok(ClusterPage {
        clusters,
        next,
        total,
    })
}

/// The file record stored as `bytes` (those of [`Imm::cover_file_bytes`]).
pub fn file_of_bytes(bytes: &[u8]) -> Result<super::model::FileMeta, ImmError> {
    Ok(crate::store::decode(bytes)?)
}

/// A validated UpdateFigureCluster request.
#[derive(Debug, Clone, Default)]
pub struct ClusterUpdate {
    /// `ObjectId`.
    pub object_id: String,
    /// New `Name`.
    pub name: Option<String>,
    /// New `CustomId`.
    pub custom_id: Option<String>,
    /// New `CustomLabels` (replace the stored ones): (key, JSON text of the value).
    pub labels: Option<Vec<(String, String)>>,
    /// `Cover.Figures[0].FigureId`.
    pub cover_figure: Option<String>,
    /// `MetaLockVersion`, when the client wants the optimistic lock.
    pub meta_lock_version: Option<i64>,
}

impl ClusterUpdate {
    /// The domain's rules on the new name, custom id and labels (`rules.rs`).
    pub fn check(&self) -> Result<(), ImmError> {
        if let Some(n) = &self.name {
            rules::cluster_text(ClusterText::Name, n)?;
        }
        if let Some(id) = &self.custom_id {
            rules::cluster_text(ClusterText::CustomId, id)?;
        }
        self.labels.as_deref().map_or(Ok(()), rules::labels)
    }
}

/// Where a page ends: the last item's sort value and id, with the sort it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Cursor {
    /// Sort key of the query that made it.
    pub sort: SortKey,
    /// Descending order.
    pub desc: bool,
    /// Sort value of the last item.
    pub value: SortVal,
    /// ObjectId of the last item.
    pub id: String,
}

/// A validated QueryFigureClusters request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClusterQuery {
    /// `CustomLabels` conditions, ANDed: (key, value).
    pub labels: Vec<(String, String)>,
    /// `CreateTimeRange` (inclusive, ms).
    pub created: (Option<i64>, Option<i64>),
    /// `UpdateTimeRange` (inclusive, ms).
    pub updated: (Option<i64>, Option<i64>),
    /// `Sort`.
    pub sort: SortKey,
    /// `Order=desc`.
    pub desc: bool,
    /// `MaxResults` (1..=100).
    pub max_results: usize,
    /// Continue after this cursor.
    pub after: Option<Cursor>,
    /// `WithTotalCount`: the page's `total` is wanted (else it may be 0).
    pub with_total: bool,
}

/// One page of QueryFigureClusters.
#[derive(Debug, Clone)]
pub struct ClusterPage {
    /// The clusters (decoded records kept between requests when the page came from an index).
    pub clusters: Vec<Arc<Kept<Cluster>>>,
    /// Present when more remain.
    pub next: Option<Cursor>,
    /// All matches.
    pub total: u64,
}

pub use super::model::label_text;

/// A QueryFigureClusters answer as the dialect wrote it (the clusters' JSON array with their
/// cover files, the cursor, the count): kept while the store is unchanged
/// ([`Imm::kept_query`]).
#[derive(Debug)]
pub struct QueryAnswer {
    /// The JSON array of the page's clusters.
    pub clusters: Arc<str>,
    /// Present when more remain.
    pub next: Option<Cursor>,
    /// All matches.
    pub total: u64,
}

/// The request a [`QueryAnswer`] answers.
#[derive(PartialEq, Eq, Hash)]
pub(super) struct QueryKey {
    account: String,
    region: String,
    project: String,
    dataset: String,
    query: ClusterQuery,
}

impl Imm {
    /// GetFigureCluster.
    pub fn get_cluster(
        &self,
        c: Caller<'_>,
        project: &str,
        dataset: &str,
        id: &str,
    ) -> Result<Cluster, ImmError> {
        dataset_of(&self.store, c, project, dataset)?;
        let scope = dataset_scope(c, project, dataset);
        get::<Cluster>(&self.store, Tree::ImmClusters, &scoped(&scope, id))?
            .ok_or_else(|| not_found("figure-cluster", id))
    }

    /// BatchGetFigureCluster: the clusters found, in request order.
    pub fn get_clusters(
        &self,
        c: Caller<'_>,
        project: &str,
        dataset: &str,
        ids: &[String],
    ) -> Result<Vec<Arc<Kept<Cluster>>>, ImmError> {
        dataset_of(&self.store, c, project, dataset)?;
        let scope = dataset_scope(c, project, dataset);
        clusters_by_id(&self.store, &self.kept_clusters, &scope, ids)
    }

    /// The file a cluster's cover face is in.
    pub fn cover_file(
        &self,
        c: Caller<'_>,
        cl: &Cluster,
    ) -> Result<Option<super::model::FileMeta>, ImmError> {
        match self.cover_file_bytes(c, cl)? {
            None => Ok(None),
            Some(b) => Ok(Some(file_of_bytes(&b)?)),
        }
    }

    /// The stored bytes of [`Imm::cover_file`]: a kept rendering of the cluster is current
    /// while its cover file is still stored as these bytes.
    pub fn cover_file_bytes(
        &self,
        c: Caller<'_>,
        cl: &Cluster,
    ) -> Result<Option<Vec<u8>>, ImmError> {
        let Some((uri, _)) = cl.stats().cover else {
            return Ok(None);
        };
        let scope = dataset_scope(c, &cl.project, &cl.dataset);
        Ok(self.store.get(Tree::ImmFiles, &scoped(&scope, &uri))?)
    }

    /// QueryFigureClusters without filters: pages by index from the cursor, so the cost does
    /// not grow with the dataset.
    fn query_by_index(&self, scope: &[u8], q: &ClusterQuery) -> Result<ClusterPage, ImmError> {
        unfiltered(&self.store, &self.kept_clusters, scope, q)
    }

    /// QueryFigureClusters.
    pub fn query_clusters(
        &self,
        c: Caller<'_>,
        project: &str,
        dataset: &str,
        q: &ClusterQuery,
    ) -> Result<ClusterPage, ImmError> {
        dataset_of(&self.store, c, project, dataset)?;
        let scope = dataset_scope(c, project, dataset);
        if q.labels.is_empty() && q.created == (None, None) && q.updated == (None, None) {
            return self.query_by_index(&scope, q);
        }
        // A filtered query may read many records: keep it off the async workers.
        crate::blocking::off_workers(|| {
            super::cluster_index::by_index(&self.store, &self.kept_clusters, &scope, q)
        })
    }

    /// QueryFigureClusters answered by `answer` from the page: the kept answer when the store
    /// has not been written since it was made (`kept::KeptAnswers`; on a data dir only). An
    /// answer holds nothing but what the store holds (the clusters, their cover files), so
    /// it is the one `answer` would make again.
    pub fn kept_query<E: From<ImmError>>(
        &self,
        c: Caller<'_>,
        project: &str,
        dataset: &str,
        q: &ClusterQuery,
        answer: impl FnOnce(ClusterPage) -> Result<QueryAnswer, E>,
    ) -> Result<Arc<QueryAnswer>, E> {
        let key = QueryKey {
            account: c.account.to_string(),
            region: c.region.to_string(),
            project: project.to_string(),
            dataset: dataset.to_string(),
            query: q.clone(),
        };
        self.kept_queries.get_or_compute(&self.store, key, || {
            answer(self.query_clusters(c, project, dataset, q)?)
        })
    }

    /// UpdateFigureCluster: the lock check and the write are one transaction.
    pub async fn update_cluster(
        &self,
        c: Caller<'_>,
        project: &str,
        dataset: &str,
        u: &ClusterUpdate,
    ) -> Result<(), ImmError> {
        u.check()?;
        let now = now_ms();
        let scope = dataset_scope(c, project, dataset);
        finish(self.store.transact(|tx| {
            tx_dataset(tx, c, project, dataset)?;
            let Some(mut cl) = tx_cluster(tx, &scope, &u.object_id)? else {
                return abort(not_found("figure-cluster", &u.object_id));
            };
            if let Some(v) = u.meta_lock_version {
                if v != cl.meta_lock_version {
                    return abort(ImmError::LockMismatch {
                        given: v,
                        current: cl.meta_lock_version,
                    });
                }
            }
            if let Some(fid) = &u.cover_figure {
                match cl.members.iter().find(|m| m.figure_id == *fid) {
                    Some(m) => cl.cover = Some((m.uri.clone(), m.figure_id.clone())),
                    None => {
                        return abort(ImmError::Invalid(format!(
                            "Cover.Figures[0].FigureId {fid} is not a face of figure cluster {}.",
                            u.object_id
                        )))
                    }
                }
            }
            if let Some(n) = &u.name {
                cl.name = n.clone();
            }
            if let Some(id) = &u.custom_id {
                cl.custom_id = id.clone();
            }
            if let Some(l) = &u.labels {
                cl.labels = l.clone();
            }
            cl.meta_lock_version = match cl.meta_lock_version.checked_add(1) {
                Some(v) => v,
                None => {
                    return abort(ImmError::Invalid(format!(
                        "MetaLockVersion of figure cluster {} is at its largest value ({}) and cannot grow: the cluster cannot be updated.",
                        u.object_id, cl.meta_lock_version
                    )))
                }
            };
            cl.updated_ms = now.max(cl.updated_ms.saturating_add(1));
            put_cluster(tx, &scope, &cl)
        }))?;
        self.durable().await
    }
}

/// QueryFigureClusters without filters, from the cursor in the clusters tree or the order
/// index.
pub(super) fn unfiltered(
    store: &Store,
    kept: &KeptMap<Cluster>,
    scope: &[u8],
    q: &ClusterQuery,
) -> Result<ClusterPage, ImmError> {
    let total = store
        .get(Tree::ImmClusterOrder, &cluster_count_key(scope))?
        .and_then(|v| read_u64(&v))
        .unwrap_or(0);
    let want = q.max_results + 1;
    let mut ids = Vec::new();
    match order_tag(q.sort) {
        None => {
            let after = q.after.as_ref().map(|c| scoped(scope, &c.id));
            for item in store
                .scan_after(Tree::ImmClusters, scope, after.as_deref(), q.desc)
                .take(want)
            {
                let (k, _) = item?;
                ids.push(after_scope(scope, &k));
            }
        }
        Some(tag) => {
            let prefix = order_prefix(scope, tag);
            let after = q
                .after
                .as_ref()
                .map(|c| order_key(scope, tag, &c.value, &c.id));
            let (lo, hi) = super::order_index::after_cursor(prefix.clone(), None, after, q.desc);
            for k in super::order_index::scan(store, &prefix, &lo, hi.as_deref(), q.desc).take(want)
            {
                ids.push(id_of_order_key(&k?, &prefix, q.sort));
            }
        }
    }
    page_by_ids(store, kept, scope, ids, q, total)
}
