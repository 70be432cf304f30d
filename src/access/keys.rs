//! Keys of the access tree (`Tree::Access`): one tree, one prefix letter per record kind.
//!
//! - `U cloud \0 account \0 name` -> [`super::model::User`]
//! - `u cloud \0 id` -> `account \0 name` (a user by its id: Tencent `Uin`, Alibaba `UserId`)
//! - `K key id` -> [`super::model::AccessKey`]
//! - `P cloud \0 account \0 name` -> [`super::model::ManagedPolicy`]
//! - `p cloud \0 account \0 id (8 bytes BE)` -> name (a policy by its Tencent `PolicyId`)
//! - `R cloud \0 account \0 name` -> [`super::model::Role`]
//! - `r cloud \0 account \0 id` -> name (a role by its id)
//!
//! and in `Tree::Meta`: [`SEQ_KEY`] (the last number handed out) and [`SECRET_KEY`] (the key
//! that signs STS tokens).

use super::model::Cloud;

/// `Tree::Meta` key of the last id number handed out.
pub const SEQ_KEY: &[u8] = b"access.seq";
/// `meta` key of the access generation over a shared store (u64 BE; bumped by every access
/// write, read by every cached lookup).
pub const GENERATION_KEY: &[u8] = b"access.generation";
/// `Tree::Meta` key of the STS token signing key.
pub const SECRET_KEY: &[u8] = b"access.token_secret";

fn join(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut k = vec![tag];
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            k.push(0);
        }
        k.extend_from_slice(p);
    }
    k
}

/// A user's key.
pub fn user(cloud: Cloud, account: &str, name: &str) -> Vec<u8> {
    join(
        b'U',
        &[cloud.tag().as_bytes(), account.as_bytes(), name.as_bytes()],
    )
}

/// Prefix of an account's users.
pub fn users_of(cloud: Cloud, account: &str) -> Vec<u8> {
    let mut k = join(b'U', &[cloud.tag().as_bytes(), account.as_bytes()]);
    k.push(0);
    k
}

/// A user's id index key.
pub fn user_id(cloud: Cloud, id: &str) -> Vec<u8> {
    join(b'u', &[cloud.tag().as_bytes(), id.as_bytes()])
}

/// An access key's key.
pub fn access_key(id: &str) -> Vec<u8> {
    join(b'K', &[id.as_bytes()])
}

/// A custom policy's key.
pub fn policy(cloud: Cloud, account: &str, name: &str) -> Vec<u8> {
    join(
        b'P',
        &[cloud.tag().as_bytes(), account.as_bytes(), name.as_bytes()],
    )
}

/// Prefix of an account's custom policies.
pub fn policies_of(cloud: Cloud, account: &str) -> Vec<u8> {
    let mut k = join(b'P', &[cloud.tag().as_bytes(), account.as_bytes()]);
    k.push(0);
    k
}

/// A custom policy's id index key.
pub fn policy_id(cloud: Cloud, account: &str, id: u64) -> Vec<u8> {
    join(
        b'p',
        &[
            cloud.tag().as_bytes(),
            account.as_bytes(),
            &id.to_be_bytes(),
        ],
    )
}

/// A role's key.
pub fn role(cloud: Cloud, account: &str, name: &str) -> Vec<u8> {
    join(
        b'R',
        &[cloud.tag().as_bytes(), account.as_bytes(), name.as_bytes()],
    )
}

/// Prefix of an account's roles.
pub fn roles_of(cloud: Cloud, account: &str) -> Vec<u8> {
    let mut k = join(b'R', &[cloud.tag().as_bytes(), account.as_bytes()]);
    k.push(0);
    k
}

/// A role's id index key.
pub fn role_id(cloud: Cloud, account: &str, id: &str) -> Vec<u8> {
    join(
        b'r',
        &[cloud.tag().as_bytes(), account.as_bytes(), id.as_bytes()],
    )
}

/// Random characters from `alphabet` (uuid v4's randomness).
pub fn random_from(alphabet: &[u8], n: usize) -> String {
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for b in uuid::Uuid::new_v4().as_bytes() {
            if out.len() == n {
                break;
            }
            let i = usize::from(*b) % alphabet.len();
            out.push(char::from(alphabet[i]));
        }
    }
    out
}

/// Letters and digits.
pub const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// Digits.
pub const DIGITS: &[u8] = b"0123456789";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accounts_prefix_covers_its_records_and_no_other_accounts() {
        let p = users_of(Cloud::Aliyun, "1");
        assert!(user(Cloud::Aliyun, "1", "alice").starts_with(&p));
        assert!(!user(Cloud::Aliyun, "10", "alice").starts_with(&p));
        assert!(!user(Cloud::Tencent, "1", "alice").starts_with(&p));
    }

    #[test]
    fn random_strings_have_the_asked_length_and_alphabet() {
        let s = random_from(DIGITS, 19);
        assert_eq!(s.len(), 19);
        assert!(s.bytes().all(|b| b.is_ascii_digit()));
    }
}
