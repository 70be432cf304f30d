//! The single door of the Alibaba dialect: a request that passes [`verify`] carries the account
//! that signed it. V3 (`ACS3-HMAC-SHA256` header) and RPC (`Signature` parameter, HMAC-SHA1)
//! are both checked; the timestamp must be within the window (15 minutes by default) and a
//! signature nonce is accepted once within it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, Method};

use super::error::{AliError, Code};
use super::sign;
use crate::accounts::{Account, Accounts};

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

/// Nonces seen within the timestamp window.
#[derive(Default)]
pub struct NonceCache {
    seen: Mutex<HashMap<String, u64>>,
}

impl NonceCache {
    /// Records a nonce of an access key; `false` when it was used within the window.
    pub fn fresh(&self, key_id: &str, nonce: &str, now_ms: u64, window_ms: u64) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() > 100_000 {
            seen.retain(|_, until| *until > now_ms);
        }
        let key = format!("{key_id}\0{nonce}");
        match seen.get(&key) {
            Some(until) if *until > now_ms => false,
            _ => {
                seen.insert(key, now_ms + window_ms);
                true
            }
        }
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

fn header<'h>(h: &'h HeaderMap, name: &str) -> Option<&'h str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn param<'p>(p: &'p [(String, String)], name: &str) -> Option<&'p str> {
    p.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn unknown_key() -> AliError {
    AliError::new(
        Code::InvalidAccessKeyIdNotFound,
        "Specified access key is not found.",
    )
}

fn mismatch(string_to_sign: &str) -> AliError {
    // The legacy SDK splits this message on ':' and compares the tail with its own string to
    // sign: the exact form matters (imm.md §3.3).
    AliError::new(
        Code::SignatureDoesNotMatch,
        format!("Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"),
    )
}

fn check_time(raw: Option<&str>, f: Freshness) -> Result<(), AliError> {
    let ms = raw
        .and_then(crate::clock::parse_rfc3339_ms)
        .ok_or_else(|| {
            AliError::new(
                Code::InvalidTimeStampFormat,
                "Specified time stamp or date value is not well formatted.",
            )
        })?;
    let now = crate::clock::now_ms() as i64;
    if (now - ms).unsigned_abs() > f.max_skew_seconds * 1000 {
        return Err(AliError::new(
            Code::InvalidTimeStampExpired,
            "Specified time stamp or date value is expired.",
        ));
    }
    Ok(())
}

fn secret_of(a: &Account) -> &str {
    a.aliyun
        .as_ref()
        .map(|k| k.access_key_secret.as_str())
        .unwrap_or_default()
}

/// Verifies a request and returns the account that signed it.
pub fn verify(
    style: Style,
    req: &Signed<'_>,
    accounts: &Accounts,
    nonces: &NonceCache,
    f: Freshness,
) -> Result<Arc<Account>, AliError> {
    let (account, key_id, nonce) = match style {
        Style::V3 => verify_v3(req, accounts, f)?,
        Style::Rpc => verify_rpc(req, accounts, f)?,
    };
    if f.reject_replayed_nonces {
        if let Some(n) = nonce {
            if !nonces.fresh(
                &key_id,
                &n,
                crate::clock::now_ms(),
                f.max_skew_seconds * 1000,
            ) {
                return Err(AliError::new(
                    Code::SignatureNonceUsed,
                    "Specified signature nonce was used already.",
                ));
            }
        }
    }
    Ok(account)
}

type Verified = (Arc<Account>, String, Option<String>);

fn verify_v3(req: &Signed<'_>, accounts: &Accounts, f: Freshness) -> Result<Verified, AliError> {
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
    let account = accounts
        .by_aliyun_key_id(&auth.access_key_id)
        .ok_or_else(unknown_key)?;
    check_time(header(req.headers, "x-acs-date"), f)?;
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
    let expected = sign::acs3_signature(secret_of(&account), &sts);
    if !crate::dialect::signatures_match(&expected, &auth.signature) {
        tracing::debug!(canonical_request = %cr, string_to_sign = %sts, "ACS3 signature mismatch: the server expected these");
        return Err(mismatch(&sts));
    }
    let nonce = header(req.headers, "x-acs-signature-nonce").map(str::to_string);
    Ok((account, auth.access_key_id, nonce))
}

fn verify_rpc(req: &Signed<'_>, accounts: &Accounts, f: Freshness) -> Result<Verified, AliError> {
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
    let account = accounts.by_aliyun_key_id(key_id).ok_or_else(unknown_key)?;
    check_time(param(req.all, "Timestamp"), f)?;
    let sts = sign::rpc_string_to_sign(req.method.as_str(), req.all);
    let expected = sign::rpc_signature(secret_of(&account), &sts);
    if !crate::dialect::signatures_match(&expected, given) {
        tracing::debug!(string_to_sign = %sts, "RPC signature mismatch: the server expected this string to sign");
        return Err(mismatch(&sts));
    }
    Ok((
        account,
        key_id.to_string(),
        param(req.all, "SignatureNonce").map(str::to_string),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_accepted_once_within_the_window() {
        let n = NonceCache::default();
        assert!(n.fresh("ak", "n1", 1000, 500));
        assert!(!n.fresh("ak", "n1", 1200, 500));
        assert!(n.fresh("other", "n1", 1200, 500));
        assert!(
            n.fresh("ak", "n1", 1600, 500),
            "after the window the nonce is free again"
        );
    }
}
