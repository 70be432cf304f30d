//! STS temporary credentials, without state: a token carries its claims and an HMAC-SHA256
//! over them with the store's token key (`keys::SECRET_KEY`, made once per store, durable
//! before the first token is issued), and the temporary secret is derived from the temporary
//! key id with the same key. So tokens survive restarts, need no table, and a changed byte is
//! refused. Expiry is a claim.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::keys;
use super::model::Cloud;

/// What a session token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Layout of these claims.
    pub v: u8,
    /// The cloud (`ram`/`cam`).
    pub cloud: String,
    /// The account that owns the role.
    pub account: String,
    /// Role name.
    pub role: String,
    /// Role id.
    pub role_id: String,
    /// Session name.
    pub session: String,
    /// The temporary key id the token goes with.
    pub key_id: String,
    /// Issued (epoch ms).
    pub issued_ms: u64,
    /// Expires (epoch ms).
    pub expires_ms: u64,
    /// The session policy, if the caller gave one.
    pub policy: Option<String>,
    /// Who assumed the role (an ARN).
    pub caller: String,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token this store issued, or changed.
    Malformed,
}

/// Alibaba tokens start like the cloud's (`CAIS`); Tencent tokens have no prefix.
fn prefix(cloud: Cloud) -> &'static str {
    match cloud {
        Cloud::Aliyun => "CAIS",
        Cloud::Tencent => "",
    }
}

fn mac(secret: &[u8], label: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length: `new_from_slice` cannot fail for it.
    let mut m = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return Vec::new(),
    };
    m.update(label);
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// A new temporary key id.
pub fn new_key_id(cloud: Cloud) -> String {
    match cloud {
        Cloud::Aliyun => format!("STS.{}", keys::random_from(keys::ALNUM, 25)),
        Cloud::Tencent => format!("AKID{}", keys::random_from(keys::ALNUM, 32)),
    }
}

/// The temporary secret that goes with `key_id`.
pub fn secret_for(secret: &[u8], key_id: &str) -> String {
    let m = mac(secret, b"cloudtwin-sts-secret\0", key_id.as_bytes());
    URL_SAFE_NO_PAD
        .encode(m)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(40)
        .collect()
}

/// The token for `claims`.
pub fn issue(secret: &[u8], cloud: Cloud, claims: &Claims) -> String {
    let body = serde_json::to_vec(claims).unwrap_or_default();
    let payload = URL_SAFE_NO_PAD.encode(&body);
    let sig = URL_SAFE_NO_PAD.encode(mac(secret, b"cloudtwin-sts-token\0", payload.as_bytes()));
    format!("{}{payload}.{sig}", prefix(cloud))
}

/// The claims of a token this store issued for `cloud`.
pub fn open(secret: &[u8], cloud: Cloud, token: &str) -> Result<Claims, TokenError> {
    let rest = token
        .strip_prefix(prefix(cloud))
        .ok_or(TokenError::Malformed)?;
    let (payload, sig) = rest.split_once('.').ok_or(TokenError::Malformed)?;
    let given = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| TokenError::Malformed)?;
    let expected = mac(secret, b"cloudtwin-sts-token\0", payload.as_bytes());
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        expected.as_slice(),
        given.as_slice(),
    )) {
        return Err(TokenError::Malformed);
    }
    let body = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| TokenError::Malformed)?;
    let claims: Claims = serde_json::from_slice(&body).map_err(|_| TokenError::Malformed)?;
    if claims.cloud != cloud.tag() {
        return Err(TokenError::Malformed);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            v: 1,
            cloud: "ram".into(),
            account: "1".into(),
            role: "reader".into(),
            role_id: "3".into(),
            session: "s".into(),
            key_id: new_key_id(Cloud::Aliyun),
            issued_ms: 1,
            expires_ms: 2,
            policy: None,
            caller: "acs:ram::1:root".into(),
        }
    }

    #[test]
    fn an_issued_token_opens_to_its_claims() {
        let c = claims();
        let t = issue(b"k", Cloud::Aliyun, &c);
        assert!(t.starts_with("CAIS"));
        assert_eq!(open(b"k", Cloud::Aliyun, &t), Ok(c));
    }

    #[test]
    fn a_changed_byte_another_key_or_another_cloud_is_malformed() {
        let t = issue(b"k", Cloud::Aliyun, &claims());
        let mut b = t.clone().into_bytes();
        let i = b.len() / 2;
        b[i] = if b[i] == b'A' { b'B' } else { b'A' };
        let changed = String::from_utf8(b).unwrap_or_default();
        assert_eq!(
            open(b"k", Cloud::Aliyun, &changed),
            Err(TokenError::Malformed)
        );
        assert_eq!(
            open(b"other", Cloud::Aliyun, &t),
            Err(TokenError::Malformed)
        );
        assert_eq!(open(b"k", Cloud::Tencent, &t), Err(TokenError::Malformed));
        assert_eq!(
            open(b"k", Cloud::Aliyun, "CAISnotatoken"),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn the_temporary_secret_depends_on_the_key_id_and_the_store_key() {
        let a = secret_for(b"k", "STS.a");
        assert_eq!(a.len(), 40);
        assert_eq!(a, secret_for(b"k", "STS.a"));
        assert_ne!(a, secret_for(b"k", "STS.b"));
        assert_ne!(a, secret_for(b"j", "STS.a"));
    }
}
