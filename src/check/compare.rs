//! What the integrity check compares and how it shows what it finds: [`Problem`], the entries
//! a set of changes needs ([`expected`]) and a tree compared with them ([`compare_tree`]).
//! Each domain's `check.rs` and the driver (`check/mod.rs`) use it; it uses neither.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::store::{Change, ReadView, StoreError, Tree};

/// One thing found wrong, at one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The tree.
    pub tree: Tree,
    /// The key (empty for a problem of the whole data dir).
    pub key: Vec<u8>,
    /// What is wrong.
    pub detail: String,
}

impl Problem {
    /// A problem at `key` of `tree`.
    pub fn new(tree: Tree, key: &[u8], detail: impl Into<String>) -> Problem {
        Problem {
            tree,
            key: key.to_vec(),
            detail: detail.into(),
        }
    }
}

/// A key for people: printable ASCII as is, `\0` for the separators, `\xNN` for other bytes.
pub fn show_key(key: &[u8]) -> String {
    let mut s = String::new();
    for &b in key {
        match b {
            0 => s.push_str("\\0"),
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s
}

/// The entries a set of changes puts, by tree; two different values for one key are reported
/// (`what` names the records that collide, e.g. "images").
pub fn expected(
    changes: Vec<Change>,
    what: &str,
    out: &mut Vec<Problem>,
) -> BTreeMap<Tree, BTreeMap<Vec<u8>, Vec<u8>>> {
    let mut by_tree: BTreeMap<Tree, BTreeMap<Vec<u8>, Vec<u8>>> = BTreeMap::new();
    for c in changes {
        let Some(value) = c.value else { continue };
        let entries = by_tree.entry(c.tree).or_default();
        if let Some(old) = entries.get(&c.key) {
            if *old != value {
                out.push(Problem::new(
                    c.tree,
                    &c.key,
                    format!(
                        "two {what} need this entry with different values ({} and {})",
                        show_value(old),
                        show_value(&value)
                    ),
                ));
            }
            continue;
        }
        entries.insert(c.key, value);
    }
    by_tree
}

/// A value for people: a u64 counter, a text, or bytes.
pub(crate) fn show_value(v: &[u8]) -> String {
    if v.is_empty() {
        return "empty".into();
    }
    if let Ok(b) = <[u8; 8]>::try_from(v) {
        if v.iter().any(|c| !c.is_ascii_graphic()) {
            return u64::from_be_bytes(b).to_string();
        }
    }
    format!("\"{}\"", show_key(v))
}

/// Compares a derived tree with the entries rebuilt from the records: an entry that is stored
/// but derived from no record, one that a record needs but is missing, a different value.
/// With `counters`, a stored 8-byte zero that no record needs is fine (counters stay at 0 when
/// the last thing they count is removed).
pub fn compare_tree(
    view: &ReadView<'_>,
    tree: Tree,
    expected: Option<&BTreeMap<Vec<u8>, Vec<u8>>>,
    counters: bool,
    out: &mut Vec<Problem>,
) -> Result<(), StoreError> {
    let empty = BTreeMap::new();
    let expected = expected.unwrap_or(&empty);
    let mut want = expected.iter().peekable();
    let missing = |key: &[u8], out: &mut Vec<Problem>| {
        out.push(Problem::new(
            tree,
            key,
            "missing: the records need this entry",
        ))
    };
    for item in view.scan_prefix(tree, b"") {
        let (key, value) = item?;
        while let Some((k, _)) = want.next_if(|(k, _)| k.as_slice() < key.as_slice()) {
            missing(k, out);
        }
        match want.next_if(|(k, _)| k.as_slice() == key.as_slice()) {
            Some((_, v)) if *v == value => {}
            Some((_, v)) => out.push(Problem::new(
                tree,
                &key,
                format!(
                    "holds {}, the records say {}",
                    show_value(&value),
                    show_value(v)
                ),
            )),
            None if counters && value == 0u64.to_be_bytes() => {}
            None => out.push(Problem::new(
                tree,
                &key,
                format!(
                    "dangling: no record needs this entry (it holds {})",
                    show_value(&value)
                ),
            )),
        }
    }
    for (k, _) in want {
        missing(k, out);
    }
    Ok(())
}
