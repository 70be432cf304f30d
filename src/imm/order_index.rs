//! The cluster order index as its users see it: order keys (`keys::order_key`), written and
//! read through the blocks that hold them (the layout is in `keys.rs`). [`Edits`] changes
//! entries inside a transaction, [`records`] builds the blocks of a whole set (import, check),
//! [`scan`] reads the entries of a key range in order, forwards or backwards.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::store::{Scan, Store, StoreError, Tree, Tx, TxError};

use super::error::ImmError;
use super::keys::{block_len, decode_block, encode_block};

/// A block's entries (ascending, no repeats) after `ops`, applied in order (the last op on an
/// entry decides), ascending: a merge, so a block a run appends to is not rebuilt entry by
/// entry.
fn merged<'a>(entries: &[&'a [u8]], ops: &[(&'a [u8], bool)]) -> Vec<&'a [u8]> {
    let mut last: BTreeMap<&[u8], bool> = BTreeMap::new();
    for (rest, add) in ops {
        last.insert(rest, *add);
    }
    let mut out = Vec::with_capacity(entries.len() + last.len());
    let mut ops = last.into_iter().peekable();
    for &e in entries {
        while let Some((k, add)) = ops.next_if(|(k, _)| *k < e) {
            if add {
                out.push(k);
            }
        }
        match ops.next_if(|(k, _)| *k == e) {
            Some((_, false)) => {}
            _ => out.push(e),
        }
    }
    out.extend(ops.filter(|(_, add)| *add).map(|(k, _)| k));
    out
}

fn damaged(key: &[u8]) -> ImmError {
    StoreError::Corrupt {
        kind: "imm.cluster_order block",
        detail: format!("the block {} does not decode", String::from_utf8_lossy(key)),
    }
    .into()
}

/// Changes to the order index, in the order they are made: [`Edits::apply`] writes each block
/// they touch once.
#[derive(Default)]
pub(crate) struct Edits {
    /// (order key, true to add it or false to remove it).
    ops: Vec<(Vec<u8>, bool)>,
}

impl Edits {
    /// Adds an order key.
    pub(crate) fn add(&mut self, key: Vec<u8>) {
        self.ops.push((key, true));
    }

    /// Removes an order key.
    pub(crate) fn remove(&mut self, key: Vec<u8>) {
        self.ops.push((key, false));
    }

    /// Inside a transaction: makes the changes (keys of datasets under `scope`), in order.
    pub(crate) fn apply(self, tx: &Tx<'_>, scope: &[u8]) -> Result<(), TxError<ImmError>> {
        let mut blocks: BTreeMap<&[u8], Vec<(&[u8], bool)>> = BTreeMap::new();
        for (k, add) in &self.ops {
            match block_len(scope.len(), k) {
                Some(n) => {
                    let (block, rest) = k.split_at(n);
                    blocks.entry(block).or_default().push((rest, *add));
                }
                None if *add => tx.insert(Tree::ImmClusterOrder, k, &[])?,
                None => tx.remove(Tree::ImmClusterOrder, k)?,
            }
        }
        for (block, ops) in blocks {
            let stored = tx.get(Tree::ImmClusterOrder, block)?;
            let mut entries: Vec<&[u8]> = match &stored {
                None => Vec::new(),
                Some(v) => decode_block(v).ok_or_else(|| TxError::Abort(damaged(block)))?,
            };
            if !entries.is_sorted_by(|a, b| a < b) {
                entries.sort_unstable();
                entries.dedup();
            }
            let entries = merged(&entries, &ops);
            if entries.is_empty() {
                if stored.is_some() {
                    tx.remove(Tree::ImmClusterOrder, block)?;
                }
            } else {
                let value = encode_block(entries);
                tx.insert(Tree::ImmClusterOrder, block, &value)?;
            }
        }
        Ok(())
    }
}

/// The records that hold a set of order keys, each given with the length of its dataset's
/// scope: blocks for the sort keys' entries, plain keys (empty values) for the others.
pub(super) fn records(keys: impl IntoIterator<Item = (usize, Vec<u8>)>) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut blocks: BTreeMap<Vec<u8>, BTreeSet<Vec<u8>>> = BTreeMap::new();
    let mut out = Vec::new();
    for (scope_len, k) in keys {
        match block_len(scope_len, &k) {
            Some(n) => {
                let rest = k[n..].to_vec();
                let mut block = k;
                block.truncate(n);
                blocks.entry(block).or_default().insert(rest);
            }
            None => out.push((k, Vec::new())),
        }
    }
    out.extend(
        blocks
            .into_iter()
            .map(|(k, e)| (k, encode_block(e.iter().map(Vec::as_slice)))),
    );
    out
}

/// The part of the key range `lo..hi` (`hi`: `None` for no bound) that a page after
/// `cursor` (the order key of the last entry of the page before) reads: ascending, from the
/// first key after the cursor's, which is the cursor's with a 0 byte after it; descending, up
/// to the cursor's, excluded.
pub(super) fn after_cursor(
    lo: Vec<u8>,
    hi: Option<Vec<u8>>,
    cursor: Option<Vec<u8>>,
    desc: bool,
) -> (Vec<u8>, Option<Vec<u8>>) {
    match (cursor, desc) {
        (None, _) => (lo, hi),
        (Some(mut next), false) => {
            next.push(0);
            (next.max(lo), hi)
        }
        (Some(c), true) => (lo, Some(hi.map_or(c.clone(), |h| h.min(c)))),
    }
}

/// The order keys from `lo` (included) to `hi` (excluded; `None`: to the end of `floor`),
/// where `floor` is the prefix of one sort key's blocks (`keys::order_prefix`), ascending or
/// descending.
pub(super) fn scan(
    store: &Store,
    floor: &[u8],
    lo: &[u8],
    hi: Option<&[u8]>,
    desc: bool,
) -> Entries {
    let end = crate::store::prefix_end(floor);
    let hi = match (hi, end) {
        (Some(h), Some(e)) => Some(h.to_vec().min(e)),
        (Some(h), None) => Some(h.to_vec()),
        (None, e) => e,
    };
    let lo = lo.to_vec().max(floor.to_vec());
    // Only the last block before `lo` may hold entries from `lo` on (blocks never
    // interleave): forwards it comes first; backwards the scan reaches it on its way.
    let (blocks, before) = if desc {
        (
            store.scan_range(Tree::ImmClusterOrder, floor, hi.as_deref(), true),
            None,
        )
    } else {
        let before = store
            .scan_range(Tree::ImmClusterOrder, floor, Some(&lo), true)
            .next();
        (
            store.scan_range(Tree::ImmClusterOrder, &lo, hi.as_deref(), false),
            before,
        )
    };
    Entries {
        blocks,
        before,
        lo,
        hi,
        desc,
        ready: VecDeque::new(),
        done: false,
    }
}

/// The entries of a [`scan`], block by block.
pub(super) struct Entries {
    blocks: Scan,
    before: Option<crate::store::engine::Item>,
    lo: Vec<u8>,
    hi: Option<Vec<u8>>,
    desc: bool,
    ready: VecDeque<Vec<u8>>,
    done: bool,
}

impl Entries {
    /// Queues the entries of one block that fall in the range; false when the scan is over
    /// after this block.
    fn take(&mut self, key: &[u8], value: &[u8]) -> Result<bool, ImmError> {
        let rests = decode_block(value).ok_or_else(|| damaged(key))?;
        let in_range = |e: &Vec<u8>| {
            e.as_slice() >= self.lo.as_slice()
                && self.hi.as_ref().is_none_or(|h| e.as_slice() < h.as_slice())
        };
        let mut entries: Vec<Vec<u8>> = rests
            .into_iter()
            .map(|r| [key, r].concat())
            .filter(in_range)
            .collect();
        if self.desc {
            entries.reverse();
        }
        self.ready.extend(entries);
        // Backwards, a block before `lo` is the last that can hold entries of the range.
        Ok(!(self.desc && key < self.lo.as_slice()))
    }
}

impl Iterator for Entries {
    type Item = Result<Vec<u8>, ImmError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(e) = self.ready.pop_front() {
                return Some(Ok(e));
            }
            if self.done {
                return None;
            }
            let item = match self.before.take() {
                Some(b) => b,
                None => match self.blocks.next() {
                    Some(b) => b,
                    None => {
                        self.done = true;
                        continue;
                    }
                },
            };
            match item {
                Err(e) => {
                    self.done = true;
                    return Some(Err(e.into()));
                }
                Ok((k, v)) => match self.take(&k, &v) {
                    Ok(more) => self.done = !more,
                    Err(e) => {
                        self.done = true;
                        return Some(Err(e));
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::merged;

    #[test]
    fn a_merge_applies_the_last_op_on_each_entry_and_keeps_the_entries_ascending() {
        let entries: Vec<&[u8]> = vec![b"b", b"d", b"f"];
        let ops: Vec<(&[u8], bool)> = vec![
            (b"a", true),
            (b"d", false),
            (b"c", true),
            (b"c", false),
            (b"e", false),
            (b"e", true),
            (b"b", true),
            (b"g", true),
            (b"f", true),
        ];
        let want: Vec<&[u8]> = vec![b"a", b"b", b"e", b"f", b"g"];
        assert_eq!(merged(&entries, &ops), want);
        assert_eq!(merged(&[], &[(b"x", false)]), Vec::<&[u8]>::new());
        assert_eq!(merged(&entries, &[]), entries);
    }
}
