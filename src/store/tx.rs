//! The transaction handle: what a [`super::Store::transact`] body reads and writes through.

use super::engine::Txn;
use super::error::Conflict;
use super::tree::Tree;

/// The view of every tree inside one transaction.
pub struct Tx<'a> {
    txn: &'a dyn Txn,
}

impl<'a> Tx<'a> {
    pub(crate) fn new(txn: &'a dyn Txn) -> Tx<'a> {
        Tx { txn }
    }

    /// Reads a key as of this transaction.
    pub fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, Conflict> {
        self.txn.get(tree, key)
    }

    /// Writes a key; visible to later reads of this transaction.
    pub fn insert(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<(), Conflict> {
        self.txn.insert(tree, key, value)
    }

    /// Removes a key.
    pub fn remove(&self, tree: Tree, key: &[u8]) -> Result<(), Conflict> {
        self.txn.remove(tree, key)
    }
}
