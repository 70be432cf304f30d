//! The merging run of a FigureClustersMerging task: in one transaction, the faces of the
//! source clusters join the destination, the sources are removed, and their identity hints
//! point at the destination.

use crate::clock::now_ms;
use crate::store::Tree;

use super::error::{not_found, ImmError};
use super::keys::{dataset_scope, scoped};
use super::model::FileMeta;
use super::service::{
    abort, delete_cluster, finish, join, put_cluster, put_file, tx_cluster, tx_get, Caller, Imm,
};

impl Imm {
    /// The merging run: one transaction.
    pub(super) fn merge(
        &self,
        c: Caller<'_>,
        project: &str,
        dataset: &str,
        froms: &[String],
        to: &str,
    ) -> Result<(), ImmError> {
        let now = now_ms();
        let scope = dataset_scope(c, project, dataset);
        finish(self.store.transact(|tx| {
            let Some(mut dest) = tx_cluster(tx, &scope, to)? else {
                return abort(not_found("figure-cluster", to));
            };
            for f in froms {
                let Some(src) = tx_cluster(tx, &scope, f)? else {
                    continue;
                };
                for m in &src.members {
                    let fkey = scoped(&scope, &m.uri);
                    let Some(mut file) = tx_get::<FileMeta>(tx, Tree::ImmFiles, &fkey)? else {
                        continue;
                    };
                    let was_pending = file.has_pending();
                    let Some(idx) = file.faces.iter().position(|x| x.figure_id == m.figure_id)
                    else {
                        continue;
                    };
                    join(&mut dest, &mut file, idx, now);
                    put_file(tx, &scope, &file, was_pending)?;
                }
                delete_cluster(tx, &scope, f)?;
                if let Some(h) = &src.hint {
                    tx.insert(Tree::ImmHints, &scoped(&scope, h), to.as_bytes())?;
                }
            }
            dest.updated_ms = now;
            put_cluster(tx, &scope, &dest)
        }))
    }
}
