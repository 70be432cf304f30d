//! The single door of the Alibaba dialect: a request that passes [`verify`] carries the account
//! that signed it. V3 (`ACS3-HMAC-SHA256` header) and RPC (`Signature` parameter, HMAC-SHA1)
//! are both checked; the timestamp must be within the window (15 minutes by default) and a
//! signature nonce is accepted once within it.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::{HeaderMap, Method};

use super::error::{AliError, Code};
use super::sign;
use crate::access::{Access, Cloud, CredentialError};
use crate::accounts::Accounts;
use crate::dialect::{header, last_param as param};

/// How the request was signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `Authorization: ACS3-HMAC-SHA256 ...`.
    V3,
    /// RPC `Signature` parameter.
    Rpc,
}

/// What a request gives the verifier.
pub struct Signed<'a> {
    /// HTTP method.
    pub method: &'a Method,
    /// Decoded query-string parameters (V3 canonical query).
    pub query: &'a [(String, String)],
    /// Every decoded parameter, query and form body (RPC string to sign).
    pub all: &'a [(String, String)],
    /// Headers.
    pub headers: &'a HeaderMap,
    /// Raw body.
    pub body: &'a [u8],
}

/// Signature nonces seen within the timestamp window, with bounded memory and a flat cost per
/// request.
///
/// A nonce is remembered until the timestamp it was signed with leaves the window (after that
/// the timestamp check refuses a replay anyway), under a keyed 64-bit hash of (access key,
/// nonce): about 50 bytes an entry. Entries are kept in arrival order, so expiry and eviction
/// pop from the front (amortised O(1)). At `capacity` the oldest entry is evicted and its
/// timestamp becomes the *horizon*: from then on a request signed at or before the horizon is
/// refused as expired, because a replay of the evicted nonce could no longer be recognised.
/// Replay protection therefore stays exact at the bound; what gives is the oldest clock skew
/// the service accepts.
///
/// Over a database shared by several nodes ([`NonceCache::shared_through`]) the nonces are
/// kept there instead, one row per (access key, nonce) until it expires, so that a replay is
/// refused by every node, not only the one that saw the nonce first.
pub struct NonceCache {
    inner: Mutex<NonceInner>,
    hasher: std::collections::hash_map::RandomState,
    capacity: usize,
    cluster: Option<crate::cluster::Cluster>,
}

#[derive(Default)]
struct NonceInner {
    /// hash -> expiry (ms).
    seen: HashMap<u64, u64>,
    /// (expiry, hash) in arrival order.
    order: std::collections::VecDeque<(u64, u64)>,
    /// Requests signed at or before this time (ms) are refused (see [`NonceCache`]).
    horizon_ms: Option<u64>,
}

/// Why a nonce was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NonceRefusal {
    /// Seen within the window.
    Replayed,
    /// Signed at or before the horizon of evicted entries.
    BeyondHorizon,
    /// The shared record of nonces could not be reached (a database outage): retriable.
    Unavailable(String),
}

impl NonceCache {
    /// A cache that holds at most `capacity` nonces.
    pub fn with_capacity(capacity: usize) -> NonceCache {
        NonceCache {
            inner: Mutex::new(NonceInner::default()),
            hasher: std::collections::hash_map::RandomState::new(),
            capacity: capacity.max(1),
            cluster: None,
        }
    }

    /// Keeps the nonces in the store of `cluster` when it is shared by several nodes.
    pub fn shared_through(mut self, cluster: crate::cluster::Cluster) -> NonceCache {
        if cluster.is_shared() {
            self.cluster = Some(cluster);
        }
        self
    }

    /// Records the nonce of an access key, signed at `signed_ms`, arriving at `now_ms`; a
    /// replay stays refused until `signed_ms + window_ms`.
    pub fn admit(
        &self,
        key_id: &str,
        nonce: &str,
        signed_ms: u64,
        now_ms: u64,
        window_ms: u64,
    ) -> Result<(), NonceRefusal> {
        use std::hash::{BuildHasher, Hash, Hasher};
        if let Some(cluster) = &self.cluster {
            let until = signed_ms.saturating_add(window_ms);
            let key = format!("{key_id}/{nonce}");
            return match cluster.claim_nonce(&key, now_ms, until) {
                Some(Ok(true)) | None => Ok(()),
                Some(Ok(false)) => Err(NonceRefusal::Replayed),
                Some(Err(e)) => Err(NonceRefusal::Unavailable(e.to_string())),
            };
        }
        let mut h = self.hasher.build_hasher();
        key_id.hash(&mut h);
        nonce.hash(&mut h);
        let hash = h.finish();
        let until = signed_ms.saturating_add(window_ms);
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let NonceInner {
            seen,
            order,
            horizon_ms,
        } = &mut *inner;
        while let Some(&(exp, old)) = order.front() {
            if exp > now_ms {
                break;
            }
            order.pop_front();
            if seen.get(&old) == Some(&exp) {
                seen.remove(&old);
            }
        }
        if horizon_ms.is_some_and(|h| signed_ms <= h) {
            return Err(NonceRefusal::BeyondHorizon);
        }
        if seen.get(&hash).is_some_and(|exp| *exp > now_ms) {
            return Err(NonceRefusal::Replayed);
        }
        while order.len() >= self.capacity {
            let Some((exp, old)) = order.pop_front() else {
                break;
            };
            if seen.get(&old) == Some(&exp) {
                seen.remove(&old);
                // Evicted before it expired: the horizon moves to its signing time.
                let t = exp.saturating_sub(window_ms);
                *horizon_ms = Some(horizon_ms.map_or(t, |h| h.max(t)));
            }
        }
        seen.insert(hash, until);
        order.push_back((until, hash));
        Ok(())
    }

    /// Nonces held now.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .order
            .len()
    }

    /// Whether no nonce is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Checks on freshness.
#[derive(Debug, Clone, Copy)]
pub struct Freshness {
    /// Largest accepted clock difference, seconds.
    pub max_skew_seconds: u64,
    /// Whether a reused nonce is refused.
    pub reject_replayed_nonces: bool,
}

/// Who may sign: the configured accounts and the access service's sub-user and session keys.
pub struct Keys<'a> {
    /// Root keys.
    pub accounts: &'a Accounts,
    /// Sub-user and temporary keys.
    pub access: &'a Access,
}

fn credential_error(e: CredentialError) -> AliError {
    let (code, status, message) = match e {
        CredentialError::UnknownKey => (
            "InvalidAccessKeyId.NotFound",
            404,
            "Specified access key is not found.",
        ),
        CredentialError::Inactive => (
            "InvalidAccessKeyId.Inactive",
            400,
            "Specified access key is disabled.",
        ),
        CredentialError::MissingToken => (
            "MissingSecurityToken",
            400,
            "SecurityToken is mandatory for this action.",
        ),
        CredentialError::BadToken => (
            "InvalidSecurityToken.Malformed",
            400,
            "Specified SecurityToken is malformed.",
        ),
        CredentialError::Expired => (
            "InvalidSecurityToken.Expired",
            400,
            "Specified SecurityToken is expired.",
        ),
        CredentialError::Mismatch => (
            "InvalidSecurityToken.MismatchWithAccessKey",
            400,
            "Specified SecurityToken mismatch with the AccessKey.",
        ),
    };
    AliError::new(Code::Access(code.into(), status), message)
}

fn resolve(
    keys: &Keys<'_>,
    id: &str,
    token: Option<&str>,
) -> Result<crate::access::Credential, AliError> {
    keys.access
        .credential(Cloud::Aliyun, keys.accounts, id, token)
        .map_err(credential_error)
}

fn mismatch(string_to_sign: &str) -> AliError {
    // The legacy SDK splits this message on ':' and compares the tail with its own string to
    // sign: the exact form matters (imm.md §3.3).
    AliError::new(
        Code::SignatureDoesNotMatch,
        format!("Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"),
    ).zh(format!("指定的签名与计算结果不匹配。服务端的待签名字符串为：{string_to_sign}"))
}

/// The signing time (ms) of a request, which must be within the window.
fn check_time(raw: Option<&str>, f: Freshness) -> Result<u64, AliError> {
    let ms = raw
        .and_then(crate::clock::parse_rfc3339_ms)
        .ok_or_else(|| {
            AliError::new(
                Code::InvalidTimeStampFormat,
                "Specified time stamp or date value is not well formatted.",
            )
        })?;
    let now = crate::clock::now_ms() as i64;
    if (now - ms).unsigned_abs() > f.max_skew_seconds.saturating_mul(1000) {
        return Err(expired());
    }
    Ok(ms.max(0) as u64)
}

fn expired() -> AliError {
    AliError::new(
        Code::InvalidTimeStampExpired,
        "Specified time stamp or date value is expired.",
    )
}

/// Verifies a request and returns the account that signed it.
pub fn verify(
    style: Style,
    req: &Signed<'_>,
    keys: &Keys<'_>,
    nonces: &NonceCache,
    f: Freshness,
) -> Result<crate::access::Verified, AliError> {
    let v = match style {
        Style::V3 => verify_v3(req, keys, f)?,
        Style::Rpc => verify_rpc(req, keys, f)?,
    };
    if f.reject_replayed_nonces {
        let window_ms = f.max_skew_seconds.saturating_mul(1000);
        match nonces.admit(
            &v.key_id,
            &v.nonce,
            v.signed_ms,
            crate::clock::now_ms(),
            window_ms,
        ) {
            Ok(()) => {}
            Err(NonceRefusal::Replayed) => {
                return Err(AliError::new(
                    Code::SignatureNonceUsed,
                    "Specified signature nonce was used already.",
                ))
            }
            Err(NonceRefusal::BeyondHorizon) => return Err(expired()),
            Err(NonceRefusal::Unavailable(e)) => return Err(AliError::internal(&e)),
        }
    }
    Ok(v.who)
}

/// What a verified signature yields.
struct Verified {
    who: crate::access::Verified,
    key_id: String,
    nonce: String,
    signed_ms: u64,
}

/// Headers a V3 request must sign whatever else it signs: the gateway routes and checks
/// freshness by them, so an unsigned one could be changed or replayed with fresh values.
pub const V3_REQUIRED_SIGNED: &[&str] = &[
    "host",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
];

/// `IncompleteSignature` unless `host`, the required `x-acs-*` headers and every other
/// `x-acs-*` header the request carries are in `SignedHeaders`.
fn check_signed_headers(headers: &HeaderMap, signed: &[String]) -> Result<(), AliError> {
    let is_signed = |name: &str| signed.iter().any(|s| s == name);
    for name in V3_REQUIRED_SIGNED {
        if !headers.contains_key(*name) {
            return Err(missing_header(name));
        }
    }
    let carried = headers
        .keys()
        .map(|k| k.as_str())
        .filter(|k| k.starts_with("x-acs-"));
    if let Some(name) = V3_REQUIRED_SIGNED
        .iter()
        .copied()
        .chain(carried)
        .find(|n| !is_signed(n))
    {
        return Err(AliError::new(
            Code::IncompleteSignature,
            format!("The request signature does not conform to Aliyun standards: header `{name}` must be listed in SignedHeaders (host and every x-acs-* header are signed)."),
        ).zh(format!("请求的签名不符合阿里云的标准：请求头 `{name}` 须列在 SignedHeaders 中（host 与所有 x-acs-* 请求头都须签名）。")));
    }
    Ok(())
}

fn missing_header(name: &str) -> AliError {
    if name == "x-acs-signature-nonce" {
        return AliError::missing("SignatureNonce");
    }
    AliError::new(
        Code::IncompleteSignature,
        format!("The request signature does not conform to Aliyun standards: header `{name}` is required."),
    ).zh(format!("请求的签名不符合阿里云的标准：缺少请求头 `{name}`。"))
}

fn verify_v3(req: &Signed<'_>, keys: &Keys<'_>, f: Freshness) -> Result<Verified, AliError> {
    let raw = header(req.headers, "authorization").unwrap_or_default();
    let auth = sign::parse_acs3_authorization(raw).ok_or_else(|| {
        AliError::new(
            Code::IncompleteSignature,
            "The request signature does not conform to Aliyun standards: expected `ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<names>,Signature=<hex>`.",
        )
    })?;
    if auth.algorithm != sign::ACS3_ALGORITHM {
        return Err(AliError::new(
            Code::InvalidSignatureMethod,
            "Specified signature method is not valid.",
        ));
    }
    let cred = resolve(
        keys,
        &auth.access_key_id,
        header(req.headers, "x-acs-security-token"),
    )?;
    check_signed_headers(req.headers, &auth.signed_headers)?;
    let nonce = header(req.headers, "x-acs-signature-nonce")
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| AliError::missing("SignatureNonce"))?
        .to_string();
    let signed_ms = check_time(header(req.headers, "x-acs-date"), f)?;
    let canonical_headers: String = auth
        .signed_headers
        .iter()
        .map(|name| {
            let mut values: Vec<String> = req
                .headers
                .get_all(name.as_str())
                .iter()
                .filter_map(|v| v.to_str().ok())
                .map(|v| v.trim().to_string())
                .collect();
            values.sort();
            format!("{name}:{}\n", values.join(","))
        })
        .collect();
    let cr = sign::canonical_request(
        req.method.as_str(),
        &sign::canonical_query(req.query),
        &canonical_headers,
        &auth.signed_headers.join(";"),
        &sign::sha256_hex(req.body),
    );
    let sts = sign::acs3_string_to_sign(&cr);
    let expected = sign::acs3_signature(&cred.secret, &sts);
    if !crate::dialect::signatures_match(&expected, &auth.signature) {
        tracing::debug!(canonical_request = %cr, string_to_sign = %sts, "ACS3 signature mismatch: the server expected these");
        return Err(mismatch(&sts));
    }
    Ok(Verified {
        who: cred.verified,
        key_id: auth.access_key_id,
        nonce,
        signed_ms,
    })
}

fn verify_rpc(req: &Signed<'_>, keys: &Keys<'_>, f: Freshness) -> Result<Verified, AliError> {
    let key_id = param(req.all, "AccessKeyId")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AliError::missing("AccessKeyId"))?;
    let given = param(req.all, "Signature")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AliError::missing("Signature"))?;
    match param(req.all, "SignatureMethod") {
        Some(sign::RPC_METHOD) => {}
        None => return Err(AliError::missing("SignatureMethod")),
        Some(_) => {
            return Err(AliError::new(
                Code::InvalidSignatureMethod,
                "Specified signature method is not valid.",
            ))
        }
    }
    let cred = resolve(keys, key_id, param(req.all, "SecurityToken"))?;
    let nonce = param(req.all, "SignatureNonce")
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| AliError::missing("SignatureNonce"))?
        .to_string();
    let signed_ms = check_time(param(req.all, "Timestamp"), f)?;
    let sts = sign::rpc_string_to_sign(req.method.as_str(), req.all);
    let expected = sign::rpc_signature(&cred.secret, &sts);
    if !crate::dialect::signatures_match(&expected, given) {
        tracing::debug!(string_to_sign = %sts, "RPC signature mismatch: the server expected this string to sign");
        return Err(mismatch(&sts));
    }
    Ok(Verified {
        who: cred.verified,
        key_id: key_id.to_string(),
        nonce,
        signed_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_accepted_once_within_the_window() {
        let n = NonceCache::with_capacity(1_000_000);
        assert_eq!(n.admit("ak", "n1", 1000, 1000, 500), Ok(()));
        assert_eq!(
            n.admit("ak", "n1", 1000, 1200, 500),
            Err(NonceRefusal::Replayed)
        );
        assert_eq!(n.admit("other", "n1", 1000, 1200, 500), Ok(()));
        assert_eq!(
            n.admit("ak", "n1", 1600, 1600, 500),
            Ok(()),
            "after the window the nonce is free again"
        );
    }

    #[test]
    fn a_nonce_signed_in_the_future_stays_refused_until_its_timestamp_leaves_the_window() {
        let n = NonceCache::with_capacity(1_000_000);
        assert_eq!(n.admit("ak", "f", 1400, 1000, 500), Ok(()));
        assert_eq!(
            n.admit("ak", "f", 1400, 1800, 500),
            Err(NonceRefusal::Replayed),
            "arrival + window has passed, but the signed time is still acceptable"
        );
    }

    #[test]
    fn expired_nonces_are_dropped_so_memory_follows_the_window() {
        let n = NonceCache::with_capacity(1_000_000);
        for i in 0..10_000u64 {
            assert_eq!(n.admit("ak", &i.to_string(), i, i, 100), Ok(()));
        }
        assert!(n.len() <= 101, "{} held", n.len());
    }

    #[test]
    fn at_the_bound_the_oldest_goes_and_requests_signed_before_it_are_refused() {
        let n = NonceCache::with_capacity(3);
        for (i, t) in [10u64, 20, 30].iter().enumerate() {
            assert_eq!(n.admit("ak", &format!("n{i}"), *t, 40, 1000), Ok(()));
        }
        assert_eq!(n.admit("ak", "n3", 40, 40, 1000), Ok(()));
        assert_eq!(n.len(), 3);
        assert_eq!(
            n.admit("ak", "n0", 10, 41, 1000),
            Err(NonceRefusal::BeyondHorizon),
            "the evicted nonce cannot be replayed"
        );
        assert_eq!(
            n.admit("ak", "n1", 20, 41, 1000),
            Err(NonceRefusal::Replayed)
        );
        assert_eq!(n.admit("ak", "fresh", 50, 50, 1000), Ok(()));
    }
}
