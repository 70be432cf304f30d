//! Ordered scans outside transactions: every key with a prefix ([`Store::scan_prefix`]), and
//! the keys of a prefix after (or before) a key, forwards or backwards ([`Store::scan_after`],
//! how listing indexes page without reading what they skip). Both are key ranges for the
//! engine.

use std::ops::Bound::{self, Excluded, Included, Unbounded};

use super::engine::{EngineScan, Item, Reader};
use super::tree::Tree;
use super::Store;

/// An ordered scan over keys with a prefix.
pub struct Scan(EngineScan);

impl Iterator for Scan {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        self.0.next()
    }
}

/// A scan over a key range, forwards or backwards.
pub type RangeScan = Scan;

/// The first key after every key that starts with `prefix` (`None`: no such key).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

fn prefix_hi(prefix: &[u8]) -> Bound<Vec<u8>> {
    match prefix_end(prefix) {
        Some(e) => Excluded(e),
        None => Unbounded,
    }
}

/// Every key that starts with `prefix`, in key order.
pub(crate) fn prefix(engine: &dyn Reader, tree: Tree, prefix: &[u8]) -> Scan {
    Scan(engine.range(tree, Included(prefix.to_vec()), prefix_hi(prefix), false))
}

/// The keys that start with `prefix` and come after `after` (before it when `descending`).
pub(crate) fn after(
    engine: &dyn Reader,
    tree: Tree,
    prefix: &[u8],
    after: Option<&[u8]>,
    descending: bool,
) -> Scan {
    let (lo, hi) = match (after, descending) {
        (Some(a), false) => (Excluded(a.to_vec()), prefix_hi(prefix)),
        (Some(a), true) => (Included(prefix.to_vec()), Excluded(a.to_vec())),
        (None, _) => (Included(prefix.to_vec()), prefix_hi(prefix)),
    };
    Scan(engine.range(tree, lo, hi, descending))
}

impl Store {
    /// Scans the keys that start with `prefix`, in key order.
    pub fn scan_prefix(&self, tree: Tree, prefix: &[u8]) -> Scan {
        self::prefix(self.settled(Some(tree)), tree, prefix)
    }

    /// Scans the keys from `lo` (included) to `hi` (excluded; `None`: to the end of the tree),
    /// in key order or reversed.
    pub fn scan_range(&self, tree: Tree, lo: &[u8], hi: Option<&[u8]>, descending: bool) -> Scan {
        let hi = match hi {
            Some(h) => Excluded(h.to_vec()),
            None => Unbounded,
        };
        Scan(
            self.settled(Some(tree))
                .range(tree, Included(lo.to_vec()), hi, descending),
        )
    }

    /// Scans the keys that start with `prefix` and come after `after` (before it when
    /// `descending`), in key order or reversed.
    pub fn scan_after(
        &self,
        tree: Tree,
        prefix: &[u8],
        after: Option<&[u8]>,
        descending: bool,
    ) -> Scan {
        self::after(self.settled(Some(tree)), tree, prefix, after, descending)
    }
}
