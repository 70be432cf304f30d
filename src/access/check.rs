//! The access domain's part of `cloudtwin check`: every record decodes under the key that
//! names it, the id indexes (`u`, `p`, `r`) are exactly what [`portable::changes`] rebuilds from
//! the records, every access key's user exists and lists it (and lists no key that is not
//! there), and every custom policy's `attached` count equals its attachments.

use std::collections::BTreeMap;

use crate::check::compare::{expected, show_value, Problem};
use crate::store::{decode, ReadView, Record, StoreError, Tree};

use super::keys;
use super::model::{AccessKey, ManagedPolicy, Role, User};
use super::portable::{self, attachment_counts, read_seq, AccessDump};

fn records<R: Record>(
    view: &ReadView<'_>,
    tag: &[u8],
    key_of: impl Fn(&R) -> Vec<u8>,
    out: &mut Vec<Problem>,
) -> Result<Vec<R>, StoreError> {
    let mut list = Vec::new();
    for item in view.scan_prefix(Tree::Access, tag) {
        let (key, value) = item?;
        match decode::<R>(&value) {
            Err(e) => out.push(Problem::new(Tree::Access, &key, e.to_string())),
            Ok(r) if key_of(&r) != key => out.push(Problem::new(
                Tree::Access,
                &key,
                format!("holds a {} that its key does not name", R::KIND),
            )),
            Ok(r) => list.push(r),
        }
    }
    Ok(list)
}

/// Checks the access tree, adding what is wrong to `out`.
pub fn check(view: &ReadView<'_>, out: &mut Vec<Problem>) -> Result<(), StoreError> {
    let mut dump = AccessDump {
        users: records(
            view,
            b"U",
            |u: &User| keys::user(u.cloud, &u.account, &u.name),
            out,
        )?,
        keys: records(view, b"K", |k: &AccessKey| keys::access_key(&k.id), out)?,
        policies: records(
            view,
            b"P",
            |p: &ManagedPolicy| keys::policy(p.cloud, &p.account, &p.name),
            out,
        )?,
        roles: records(
            view,
            b"R",
            |r: &Role| keys::role(r.cloud, &r.account, &r.name),
            out,
        )?,
        seq: 0,
    };
    if let Some(v) = view.get(Tree::Meta, keys::SEQ_KEY)? {
        match read_seq(&v) {
            Some(n) => dump.seq = n,
            None => out.push(Problem::new(
                Tree::Meta,
                keys::SEQ_KEY,
                format!("{} bytes, expected 8", v.len()),
            )),
        }
    }
    // Keys and their users agree both ways.
    let users: BTreeMap<Vec<u8>, &User> = dump
        .users
        .iter()
        .map(|u| (keys::user(u.cloud, &u.account, &u.name), u))
        .collect();
    for k in &dump.keys {
        let key = keys::access_key(&k.id);
        match users.get(&keys::user(k.cloud, &k.account, &k.user)) {
            None => out.push(Problem::new(
                Tree::Access,
                &key,
                format!(
                    "its user {} of account {} does not exist",
                    k.user, k.account
                ),
            )),
            Some(u) if !u.key_ids.contains(&k.id) => out.push(Problem::new(
                Tree::Access,
                &key,
                format!("its user {} does not list it", k.user),
            )),
            Some(_) => {}
        }
    }
    let key_ids: BTreeMap<&str, &AccessKey> =
        dump.keys.iter().map(|k| (k.id.as_str(), k)).collect();
    for (ukey, u) in &users {
        for id in &u.key_ids {
            let theirs = key_ids
                .get(id.as_str())
                .is_some_and(|k| k.cloud == u.cloud && k.account == u.account && k.user == u.name);
            if !theirs {
                out.push(Problem::new(
                    Tree::Access,
                    ukey,
                    format!("lists access key {id}, which is not one of its keys"),
                ));
            }
        }
    }
    // Attachment counts.
    let counts = attachment_counts(&dump);
    for p in &dump.policies {
        let n = counts
            .get(&(p.cloud, p.account.clone(), p.name.clone()))
            .copied()
            .unwrap_or(0);
        if p.attached != n {
            out.push(Problem::new(
                Tree::Access,
                &keys::policy(p.cloud, &p.account, &p.name),
                format!(
                    "says it is attached {} times; it is attached {n} times",
                    p.attached
                ),
            ));
        }
    }
    if let Some(max) = dump
        .policies
        .iter()
        .map(|p| p.id.saturating_sub(super::system::FIRST_CUSTOM_ID))
        .max()
    {
        if max > dump.seq {
            out.push(Problem::new(
                Tree::Meta,
                keys::SEQ_KEY,
                format!(
                    "the last id number is {}, but policy number {max} exists (a new policy \
                     would reuse an id)",
                    dump.seq
                ),
            ));
        }
    }
    // The id indexes: lowercase tags.
    let want = expected(portable::changes(&dump)?, "access records", out);
    let empty = BTreeMap::new();
    let want = want.get(&Tree::Access).unwrap_or(&empty);
    let is_index = |k: &[u8]| matches!(k.first(), Some(b'u' | b'p' | b'r'));
    let mut want_idx: BTreeMap<&Vec<u8>, &Vec<u8>> =
        want.iter().filter(|(k, _)| is_index(k)).collect();
    for item in view.scan_prefix(Tree::Access, b"") {
        let (key, value) = item?;
        if !is_index(&key) {
            if !matches!(key.first(), Some(b'U' | b'K' | b'P' | b'R')) {
                out.push(Problem::new(Tree::Access, &key, "a key of no known kind"));
            }
            continue;
        }
        match want_idx.remove(&key) {
            Some(v) if *v == value => {}
            Some(v) => out.push(Problem::new(
                Tree::Access,
                &key,
                format!(
                    "holds {}, the records say {}",
                    show_value(&value),
                    show_value(v)
                ),
            )),
            None => out.push(Problem::new(
                Tree::Access,
                &key,
                format!(
                    "dangling: no record needs this entry (it holds {})",
                    show_value(&value)
                ),
            )),
        }
    }
    for k in want_idx.keys() {
        out.push(Problem::new(
            Tree::Access,
            k,
            "missing: the records need this entry",
        ));
    }
    Ok(())
}
