//! What the nodes over one database share, and what a node of them is: its name, the shared
//! nonce and rate-limit statements (when the store is a database, [`crate::store::Store::
//! shared`]), and task leases.
//!
//! A lease is a row of the store (`meta` key `lease/<name>`: the holder's node id and the time
//! it expires), taken and renewed in a serializable transaction, so it works the same on sled
//! (one node, always the holder) and on a database (one holder among many). A node that dies
//! stops renewing; after the lease expires any other node may take it.
//!
//! Everything else a node keeps in memory is per node and documented as such
//! (docs/configuration.md, "Scale-out on PostgreSQL"): fault rules, runtime settings, the
//! request journal, metrics.

use crate::store::{decode, encode, Store, StoreError, Tree, TxError, TxFailure};

/// The key prefix of leases in `meta`.
const LEASE_PREFIX: &[u8] = b"lease/";

/// A lease as stored.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
struct Lease {
    node: String,
    expires_ms: u64,
}

impl crate::store::Record for Lease {
    const KIND: &'static str = "meta.lease";
    const VERSION: u8 = 1;
}

/// This node among the nodes of one store.
#[derive(Clone)]
pub struct Cluster {
    store: Store,
    node_id: String,
    lease_ms: u64,
}

impl Cluster {
    /// This node, named `node_id`, over `store`; leases last `lease_ms` unless renewed.
    pub fn new(store: Store, node_id: String, lease_ms: u64) -> Cluster {
        Cluster {
            store,
            node_id,
            lease_ms: lease_ms.max(1),
        }
    }

    /// This node's name.
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// How long a lease lasts without renewal, ms.
    pub fn lease_ms(&self) -> u64 {
        self.lease_ms
    }

    /// True when other nodes may share the store (a database).
    pub fn is_shared(&self) -> bool {
        self.store.shared().is_some()
    }

    /// Records `nonce` until `expires_ms` for every node: `None` when the store is not shared
    /// (the caller keeps its own cache), else whether it is fresh (false: a replay).
    pub fn claim_nonce(
        &self,
        nonce: &str,
        now_ms: u64,
        expires_ms: u64,
    ) -> Option<Result<bool, StoreError>> {
        self.store
            .shared()
            .map(|s| s.claim_nonce(nonce, now_ms, expires_ms))
    }

    /// One request against the shared GCRA bucket `bucket`: `None` when the store is not
    /// shared, else `Ok(None)` when allowed or `Ok(Some(wait_us))` when over the limit.
    pub fn gcra(
        &self,
        bucket: &str,
        now_us: u64,
        interval_us: u64,
        tolerance_us: u64,
    ) -> Option<Result<Option<u64>, StoreError>> {
        self.store
            .shared()
            .map(|s| s.gcra(bucket, now_us, interval_us, tolerance_us))
    }

    fn lease_key(name: &str) -> Vec<u8> {
        [LEASE_PREFIX, name.as_bytes()].concat()
    }

    /// Takes (or renews, when this node holds it) the lease `name` until `now + lease_ms`.
    /// False when another node holds it and it has not expired.
    pub fn take_lease(&self, name: &str) -> Result<bool, StoreError> {
        let key = Self::lease_key(name);
        let now = crate::clock::now_ms();
        let mine = Lease {
            node: self.node_id.clone(),
            expires_ms: now.saturating_add(self.lease_ms),
        };
        let value = encode(&mine)?;
        let r = self.store.transact(|tx| {
            if let Some(bytes) = tx.get(Tree::Meta, &key)? {
                if let Ok(held) = decode::<Lease>(&bytes) {
                    if held.node != self.node_id && held.expires_ms > now {
                        return Err(TxError::Abort(()));
                    }
                }
            }
            tx.insert(Tree::Meta, &key, &value)?;
            Ok(())
        });
        match r {
            Ok(()) => Ok(true),
            Err(TxFailure::Abort(())) => Ok(false),
            Err(TxFailure::Store(e)) => Err(e),
        }
    }

    /// Lets the lease `name` go, if this node holds it.
    pub fn release_lease(&self, name: &str) -> Result<(), StoreError> {
        let key = Self::lease_key(name);
        let r = self.store.transact(|tx| {
            if let Some(bytes) = tx.get(Tree::Meta, &key)? {
                if decode::<Lease>(&bytes).is_ok_and(|held| held.node == self.node_id) {
                    tx.remove(Tree::Meta, &key)?;
                }
            }
            Ok::<_, TxError<()>>(())
        });
        match r {
            Ok(()) | Err(TxFailure::Abort(())) => Ok(()),
            Err(TxFailure::Store(e)) => Err(e),
        }
    }

    /// Who holds the lease `name` now, if anyone (an expired lease is held by nobody).
    pub fn lease_holder(&self, name: &str) -> Result<Option<String>, StoreError> {
        let now = crate::clock::now_ms();
        Ok(self
            .store
            .get(Tree::Meta, &Self::lease_key(name))?
            .and_then(|b| decode::<Lease>(&b).ok())
            .filter(|l| l.expires_ms > now)
            .map(|l| l.node))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Durability;

    #[test]
    fn a_lease_has_one_holder_until_it_expires_or_is_released() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), Durability::Sync).expect("open");
        let a = Cluster::new(store.clone(), "node-a".into(), 200);
        let b = Cluster::new(store, "node-b".into(), 200);
        assert!(a.take_lease("task/1").expect("take"));
        assert!(!b.take_lease("task/1").expect("refused"), "held by a");
        assert!(a.take_lease("task/1").expect("renew"), "a renews its own");
        assert_eq!(
            a.lease_holder("task/1").expect("holder").as_deref(),
            Some("node-a")
        );
        // b takes it once it has expired (polled to a generous deadline).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !b.take_lease("task/1").expect("take") {
            assert!(
                std::time::Instant::now() < deadline,
                "the lease never expired"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(
            b.lease_holder("task/1").expect("holder").as_deref(),
            Some("node-b")
        );
        a.release_lease("task/1").expect("not a's: nothing happens");
        assert_eq!(
            b.lease_holder("task/1").expect("holder").as_deref(),
            Some("node-b")
        );
        b.release_lease("task/1").expect("release");
        assert_eq!(a.lease_holder("task/1").expect("holder"), None);
        assert!(a.take_lease("task/1").expect("free again"));
    }
}
