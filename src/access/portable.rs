//! The access domain's records, whole: dumped for export, rebuilt (with the id indexes and the
//! policies' attachment counts) for import, and the changes that reset them (everything, or
//! one account's principals).
//!
//! The STS token key (`access.token_secret` in `Tree::Meta`) is not part of the domain's
//! state: it is never dumped, never written by an import and never removed by a reset, so a
//! token issued before an import or a reset stays verifiable until it expires.

use std::collections::BTreeMap;

use crate::store::{decode, encode, Change, ReadView, StoreError, Tree};

use super::keys;
use super::model::{AccessKey, Cloud, ManagedPolicy, PolicyKind, Role, User};

/// The tree of the access domain (the id sequence lives in `Tree::Meta`).
pub const TREES: &[Tree] = &[Tree::Access];

/// `Tree::Meta` keys of the domain that a reset removes (the token key is kept).
pub const META_KEYS: &[&[u8]] = &[keys::SEQ_KEY];

/// Every record of the access domain.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccessDump {
    /// Sub-users.
    pub users: Vec<User>,
    /// Their access keys.
    pub keys: Vec<AccessKey>,
    /// Custom policies.
    pub policies: Vec<ManagedPolicy>,
    /// Roles.
    pub roles: Vec<Role>,
    /// The last number handed out (custom policy ids are `FIRST_CUSTOM_ID + n`).
    pub seq: u64,
}

fn put(key: Vec<u8>, value: Vec<u8>) -> Change {
    Change {
        tree: Tree::Access,
        key,
        value: Some(value),
    }
}

fn del(tree: Tree, key: Vec<u8>) -> Change {
    Change {
        tree,
        key,
        value: None,
    }
}

/// Reads the 8-byte sequence value.
pub fn read_seq(v: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(v).ok().map(u64::from_be_bytes)
}

/// Reads every record (under a rewrite's exclusive view).
pub fn dump(view: &ReadView<'_>) -> Result<AccessDump, StoreError> {
    let mut d = AccessDump::default();
    for item in view.scan_prefix(Tree::Access, b"U") {
        d.users.push(decode::<User>(&item?.1)?);
    }
    for item in view.scan_prefix(Tree::Access, b"K") {
        d.keys.push(decode::<AccessKey>(&item?.1)?);
    }
    for item in view.scan_prefix(Tree::Access, b"P") {
        d.policies.push(decode::<ManagedPolicy>(&item?.1)?);
    }
    for item in view.scan_prefix(Tree::Access, b"R") {
        d.roles.push(decode::<Role>(&item?.1)?);
    }
    d.seq = view
        .get(Tree::Meta, keys::SEQ_KEY)?
        .and_then(|v| read_seq(&v))
        .unwrap_or(0);
    Ok(d)
}

/// How many users and roles attach each custom policy, by (cloud, account, name).
pub fn attachment_counts(d: &AccessDump) -> BTreeMap<(Cloud, String, String), u32> {
    let mut n: BTreeMap<(Cloud, String, String), u32> = BTreeMap::new();
    let lists = d
        .users
        .iter()
        .map(|u| (u.cloud, &u.account, &u.policies))
        .chain(d.roles.iter().map(|r| (r.cloud, &r.account, &r.policies)));
    for (cloud, account, list) in lists {
        for a in list {
            if a.policy.kind == PolicyKind::Custom {
                *n.entry((cloud, account.clone(), a.policy.name.clone()))
                    .or_default() += 1;
            }
        }
    }
    n
}

/// The writes that store `d` with every index (`u` user ids, `p` policy ids, `r` role ids) and
/// each policy's `attached` count computed from the attachments. The caller checked its
/// consistency (unique names and ids, users' `key_ids` matching the keys).
pub fn changes(d: &AccessDump) -> Result<Vec<Change>, StoreError> {
    let mut out = Vec::new();
    for u in &d.users {
        out.push(put(keys::user(u.cloud, &u.account, &u.name), encode(u)?));
        out.push(put(
            keys::user_id(u.cloud, &u.id),
            format!("{}\0{}", u.account, u.name).into_bytes(),
        ));
    }
    for k in &d.keys {
        out.push(put(keys::access_key(&k.id), encode(k)?));
    }
    let counts = attachment_counts(d);
    for p in &d.policies {
        let mut p = p.clone();
        p.attached = counts
            .get(&(p.cloud, p.account.clone(), p.name.clone()))
            .copied()
            .unwrap_or(0);
        out.push(put(keys::policy(p.cloud, &p.account, &p.name), encode(&p)?));
        out.push(put(
            keys::policy_id(p.cloud, &p.account, p.id),
            p.name.clone().into_bytes(),
        ));
    }
    for r in &d.roles {
        out.push(put(keys::role(r.cloud, &r.account, &r.name), encode(r)?));
        out.push(put(
            keys::role_id(r.cloud, &r.account, &r.id),
            r.name.clone().into_bytes(),
        ));
    }
    if d.seq > 0 {
        out.push(Change {
            tree: Tree::Meta,
            key: keys::SEQ_KEY.to_vec(),
            value: Some(d.seq.to_be_bytes().to_vec()),
        });
    }
    Ok(out)
}

/// The writes that remove the domain's records: all of them (with the id sequence; the token
/// key stays), or one account's users, keys, policies and roles with their index entries.
pub fn reset_changes(
    view: &ReadView<'_>,
    account: Option<&str>,
) -> Result<Vec<Change>, StoreError> {
    let mut out = Vec::new();
    let Some(a) = account else {
        for item in view.scan_prefix(Tree::Access, b"") {
            out.push(del(Tree::Access, item?.0));
        }
        for k in META_KEYS {
            out.push(del(Tree::Meta, k.to_vec()));
        }
        return Ok(out);
    };
    for cloud in Cloud::ALL {
        for item in view.scan_prefix(Tree::Access, &keys::users_of(cloud, a)) {
            let (key, v) = item?;
            let u = decode::<User>(&v)?;
            out.push(del(Tree::Access, keys::user_id(cloud, &u.id)));
            out.push(del(Tree::Access, key));
        }
        for item in view.scan_prefix(Tree::Access, &keys::policies_of(cloud, a)) {
            let (key, v) = item?;
            let p = decode::<ManagedPolicy>(&v)?;
            out.push(del(Tree::Access, keys::policy_id(cloud, a, p.id)));
            out.push(del(Tree::Access, key));
        }
        for item in view.scan_prefix(Tree::Access, &keys::roles_of(cloud, a)) {
            let (key, v) = item?;
            let r = decode::<Role>(&v)?;
            out.push(del(Tree::Access, keys::role_id(cloud, a, &r.id)));
            out.push(del(Tree::Access, key));
        }
    }
    for item in view.scan_prefix(Tree::Access, b"K") {
        let (key, v) = item?;
        if decode::<AccessKey>(&v)?.account == a {
            out.push(del(Tree::Access, key));
        }
    }
    Ok(out)
}
