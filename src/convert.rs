//! `cloudtwin convert --from A --to B`: a whole store copied from one engine to the other (a
//! sled data dir, a PostgreSQL database), then verified: every tree's records are compared by
//! count and digest with the source, and the target passes `cloudtwin check`.
//!
//! The source must not be written meanwhile: a data dir is locked (its server stopped), a
//! database is read from one snapshot, and the digests compare it as it is at the end, so a
//! node that writes during the conversion makes the verification fail rather than pass.

use std::fmt::Write as _;

use crate::config::StoreTarget;
use crate::store::{Durability, Store, StoreError, Tree, DEFAULT_CACHE_MB};

/// A tree's size and digest (FNV-1a over every key and value, in key order), leaving out the
/// `meta` keys a store keeps for itself.
fn digest(store: &Store, tree: Tree) -> Result<(u64, u64), StoreError> {
    let own: [&[u8]; 2] = [b"ack_seq", b"schema_version"];
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut n = 0u64;
    for item in store.scan_prefix(tree, b"") {
        let (k, v) = item?;
        if tree == Tree::Meta && own.contains(&k.as_slice()) {
            continue;
        }
        n += 1;
        for part in [&(k.len() as u64).to_be_bytes()[..], &k, &v] {
            for b in part {
                h ^= u64::from(*b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
    }
    Ok((n, h))
}

fn refuse_used_dir(to: &StoreTarget) -> Result<(), String> {
    if let StoreTarget::Dir(dir) = to {
        if dir.exists() {
            let mut entries = std::fs::read_dir(dir)
                .map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
            if entries.next().is_some() {
                return Err(format!(
                    "{} is not empty: convert writes into a new or empty data dir",
                    dir.display()
                ));
            }
        }
    }
    Ok(())
}

/// Copies `from` into `to` and verifies the copy; returns what it did, for the terminal.
pub fn run(from: &StoreTarget, to: &StoreTarget) -> Result<String, String> {
    if from == to {
        return Err("--from and --to name the same store".into());
    }
    refuse_used_dir(to)?;
    let source = from
        .open(Durability::Sync, DEFAULT_CACHE_MB)
        .map_err(|e| format!("cannot open {from}: {e}"))?;
    let target = to
        .open(Durability::Sync, DEFAULT_CACHE_MB)
        .map_err(|e| format!("cannot open {to}: {e}"))?;
    let started = std::time::Instant::now();
    let stats = source.copy_into(&target).map_err(|e| e.to_string())?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "copied {} records from {} to {} in {:.1}s",
        stats.records,
        source.describe(),
        target.describe(),
        started.elapsed().as_secs_f64()
    );
    let mut mismatched = Vec::new();
    for t in Tree::ALL {
        let a = digest(&source, t).map_err(|e| e.to_string())?;
        let b = digest(&target, t).map_err(|e| e.to_string())?;
        if a != b {
            mismatched.push(format!(
                "{}: {} records in the source, {} in the target{}",
                t.name(),
                a.0,
                b.0,
                if a.0 == b.0 { " (contents differ)" } else { "" }
            ));
        }
    }
    if !mismatched.is_empty() {
        return Err(format!(
            "the copy differs from the source (was the source written meanwhile?): {}",
            mismatched.join("; ")
        ));
    }
    let _ = writeln!(
        out,
        "verified: every tree has the source's records (count and digest)"
    );
    let report = crate::check::run_on(&target).map_err(|e| e.to_string())?;
    if !report.clean() {
        return Err(format!(
            "the target does not pass the check:\n{}",
            report.render(target.path())
        ));
    }
    let _ = write!(
        out,
        "checked: every record decodes, every index and counter matches ({} problems)",
        report.problems.len()
    );
    target.close().map_err(|e| e.to_string())?;
    source.close().map_err(|e| e.to_string())?;
    Ok(out)
}
