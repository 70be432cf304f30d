//! `cloudtwin check`: an integrity check of a stopped server's data dir, in the spirit of
//! `PRAGMA integrity_check`.
//!
//! The store reports what it can see (records per tree, the acknowledged-sequence record,
//! the schema version, unfinished resets or imports); each domain (`cvm::check`, `imm::check`,
//! `access::check`)
//! decodes every record, rebuilds every derived index and counter from the records the way its
//! `portable.rs` does for an import, and compares them with what is stored. Every difference
//! is a [`Problem`] naming its tree and key.

pub mod compare;

use std::fmt::Write as _;
use std::path::Path;

pub use compare::{compare_tree, expected, show_key, Problem};

use crate::store::{AckStatus, Store, StoreError, Tree};

/// What a check found.
#[derive(Debug, Clone)]
pub struct Report {
    /// Records per tree.
    pub trees: Vec<(Tree, usize)>,
    /// The acknowledged-sequence record.
    pub ack: AckStatus,
    /// Schema version of the data dir.
    pub schema: u32,
    /// Things the next start will do (finish a reset or an import); not damage.
    pub notes: Vec<String>,
    /// Everything found wrong.
    pub problems: Vec<Problem>,
}

impl Report {
    /// True when nothing is wrong.
    pub fn clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// The report as text, one finding a line.
    pub fn render(&self, dir: &Path) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "data dir {}", dir.display());
        let _ = writeln!(
            out,
            "schema version {} (this build writes {})",
            self.schema,
            cloudtwin_migrations::CURRENT_SCHEMA
        );
        let _ = writeln!(out, "acknowledged sequence: {}", self.ack.describe());
        for (t, n) in &self.trees {
            let _ = writeln!(out, "{:<22} {n} records", t.name());
        }
        for n in &self.notes {
            let _ = writeln!(out, "note: {n}");
        }
        for p in &self.problems {
            let _ = writeln!(
                out,
                "problem: {} key \"{}\": {}",
                p.tree.name(),
                show_key(&p.key),
                p.detail
            );
        }
        if self.clean() {
            out.push_str("ok\n");
        } else {
            let _ = writeln!(out, "{} problems", self.problems.len());
        }
        out
    }
}

/// Checks the data dir `dir` (of a stopped server: it takes the data dir's lock).
pub fn run(dir: &Path, cache_mb: u64) -> Result<Report, StoreError> {
    run_on(&Store::open_for_check(dir, cache_mb)?)
}

/// Checks an open store: a data dir opened for the check, or a database (which other nodes
/// may be writing to: then a write between two reads may show as a problem that is not one;
/// check a database while no node writes).
pub fn run_on(store: &Store) -> Result<Report, StoreError> {
    let ack = store.ack_at_open();
    let schema = store.schema_version()?;
    let trees = store.tree_sizes();
    let mut notes = store.unfinished_work()?;
    let mut problems = Vec::new();
    if ack.lost_acknowledged_writes() {
        problems.push(Problem::new(
            Tree::Meta,
            b"ack_seq",
            format!(
                "{}; restore the data dir from a backup (`cloudtwin restore`)",
                ack.describe()
            ),
        ));
    }
    if schema != cloudtwin_migrations::CURRENT_SCHEMA {
        notes.push(format!(
            "the data dir has schema {schema}, this build reads {}: records were not checked \
             (start the server once to migrate it, then check again)",
            cloudtwin_migrations::CURRENT_SCHEMA
        ));
        if schema > cloudtwin_migrations::CURRENT_SCHEMA {
            problems.push(Problem::new(
                Tree::Meta,
                b"schema_version",
                "written by a newer cloudtwin",
            ));
        }
    } else {
        store.inspect(|view| -> Result<(), StoreError> {
            crate::cvm::check::check(view, &mut problems)?;
            crate::imm::check::check(view, &mut problems)?;
            crate::access::check::check(view, &mut problems)?;
            Ok(())
        })?;
    }
    Ok(Report {
        trees,
        ack,
        schema,
        notes,
        problems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::compare::show_value;
    use crate::store::{Durability, TxError};
    use std::collections::BTreeMap;

    const ACCOUNT: &str = "100000000001";

    /// A data dir with two images and a dataset holding a clustered and a pending face.
    fn populated(dir: &Path) -> Store {
        let store = Store::open(dir, Durability::Sync).expect("open");
        let accounts = crate::accounts::Accounts::new(&[crate::config::Account {
            id: ACCOUNT.into(),
            name: "one".into(),
            tencent: None,
            aliyun: None,
            ..Default::default()
        }]);
        let place = serde_json::json!({"AccountId": ACCOUNT, "Region": "cn-hangzhou",
            "ProjectName": "p", "DatasetName": "d"});
        let mut file = place.clone();
        file["URI"] = "oss://b/1.jpg".into();
        file["Figures"] = serde_json::json!([
            {"FigureId": "f1", "FigureClusterId": "Cluster-1"},
            {"FigureId": "f2"}
        ]);
        let mut cluster = place.clone();
        cluster["ObjectId"] = "Cluster-1".into();
        let doc = serde_json::json!({"format": "cloudtwin-state", "version": 1,
            "cvm": {"Images": [
                {"AccountId": ACCOUNT, "Region": "ap-guangzhou", "ImageName": "a"},
                {"AccountId": ACCOUNT, "Region": "ap-guangzhou", "ImageName": "b"}]},
            "imm": {
                "Projects": [{"AccountId": ACCOUNT, "Region": "cn-hangzhou", "ProjectName": "p"}],
                "Datasets": [place], "Files": [file], "Clusters": [cluster]}});
        crate::fixture::replace(&store, &doc, &accounts, crate::fixture::Limits::default())
            .expect("load the document");
        store
    }

    fn first_key(store: &Store, tree: Tree) -> Vec<u8> {
        store
            .scan_prefix(tree, b"")
            .next()
            .expect("an entry")
            .expect("scan")
            .0
    }

    #[test]
    fn a_consistent_data_dir_is_clean() {
        let dir = tempfile::tempdir().expect("tempdir");
        drop(populated(dir.path()));
        let r = run(dir.path(), 16).expect("check");
        assert!(r.clean(), "{}", r.render(dir.path()));
        let sizes: BTreeMap<Tree, usize> = r.trees.iter().copied().collect();
        assert_eq!(sizes[&Tree::Images], 2);
        assert_eq!(sizes[&Tree::ImmPending], 1);
        assert!(!r.ack.lost_acknowledged_writes());
    }

    #[test]
    fn every_kind_of_damage_is_reported_with_its_tree_and_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = populated(dir.path());
        let name = first_key(&store, Tree::ImageNames);
        let count = first_key(&store, Tree::ImageCounts);
        let pending = first_key(&store, Tree::ImmPending);
        let cluster = first_key(&store, Tree::ImmClusters);
        store
            .transact(|tx| {
                tx.remove(Tree::ImageNames, &name)?;
                tx.insert(Tree::ImageCounts, &count, &7u64.to_be_bytes())?;
                tx.insert(Tree::ImagesByOwner, b"nobody\0x\0img-gone", b"")?;
                tx.remove(Tree::ImmPending, &pending)?;
                tx.remove(Tree::ImmClusters, &cluster)?;
                tx.insert(Tree::Images, b"img-garbage", b"\x01\xff\xff")?;
                Ok::<_, TxError<()>>(())
            })
            .expect("damage");
        store.close().expect("close");
        drop(store);
        let r = run(dir.path(), 16).expect("check");
        let text = r.render(dir.path());
        assert!(!r.clean(), "{text}");
        let found = |tree: Tree, key: &[u8], word: &str| {
            assert!(
                r.problems
                    .iter()
                    .any(|p| p.tree == tree && p.key == key && p.detail.contains(word)),
                "no {word:?} problem at {} {:?}:\n{text}",
                tree.name(),
                show_key(key)
            )
        };
        found(Tree::ImageNames, &name, "missing");
        found(Tree::ImageCounts, &count, "holds 7, the records say 2");
        found(Tree::ImagesByOwner, b"nobody\0x\0img-gone", "dangling");
        found(Tree::ImmPending, &pending, "missing");
        found(Tree::Images, b"img-garbage", "");
        assert!(
            r.problems
                .iter()
                .any(|p| p.tree == Tree::ImmFiles && p.detail.contains("does not exist")),
            "the face of the removed cluster:\n{text}"
        );
        assert!(
            r.problems
                .iter()
                .any(|p| p.tree == Tree::ImmClusterOrder && p.detail.contains("dangling")),
            "the order keys of the removed cluster:\n{text}"
        );
        assert!(text.contains("problem: cvm.image_names key \"100000000001\\0ap-guangzhou\\0"));
    }

    #[test]
    fn keys_and_values_are_shown_readably() {
        assert_eq!(
            show_key(b"100\0ap-guangzhou\0x\xff"),
            "100\\0ap-guangzhou\\0x\\xff"
        );
        assert_eq!(show_value(&3u64.to_be_bytes()), "3");
        assert_eq!(show_value(b"img-abcd"), "\"img-abcd\"");
        assert_eq!(show_value(b""), "empty");
    }
}
