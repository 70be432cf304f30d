//! The single door: a request that passes [`verify`] carries the account that signed it.
//! Handlers never see an unverified request.
//!
//! Order (cvm.md §2.1): parse the credential, check the timestamp window, find the SecretId,
//! check the scope, recompute and compare in constant time. A rejected signature logs, at
//! debug level, the canonical request and string to sign the server expected.

use axum::http::{HeaderMap, Method};

use super::error::{Code, TcError};
use super::router::Product;
use super::sign::{self, Tc3Authorization, V1Method};
use crate::access::{Access, Cloud, CredentialError, Verified};
use crate::accounts::Accounts;
use crate::dialect::{first_param as param, header};

/// How the request was signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// TC3-HMAC-SHA256 in the `Authorization` header.
    Tc3,
    /// v1 `Signature` parameter.
    V1,
}

/// Header names of the TC3 style.
pub mod headers {
    /// Action name.
    pub const ACTION: &str = "x-tc-action";
    /// API version.
    pub const VERSION: &str = "x-tc-version";
    /// Region.
    pub const REGION: &str = "x-tc-region";
    /// Unix seconds.
    pub const TIMESTAMP: &str = "x-tc-timestamp";
    /// Payload hash override.
    pub const CONTENT_SHA256: &str = "x-tc-content-sha256";
    /// A role session's token (not signed in TC3).
    pub const TOKEN: &str = "x-tc-token";
}

/// What a request gives the verifier.
pub struct Signed<'a> {
    /// HTTP method.
    pub method: &'a Method,
    /// Raw query string (without `?`).
    pub raw_query: &'a str,
    /// Request headers.
    pub headers: &'a HeaderMap,
    /// Raw body.
    pub body: &'a [u8],
    /// Every decoded parameter (v1 style).
    pub pairs: &'a [(String, String)],
}

fn parse_timestamp(name: &str, raw: Option<&str>) -> Result<(String, i64), TcError> {
    let raw = raw.ok_or_else(|| TcError::missing(name))?;
    let ts = raw
        .trim()
        .parse::<i64>()
        .map_err(|_| TcError::invalid(name, "Unix seconds are expected"))?;
    Ok((raw.to_string(), ts))
}

fn check_window(ts: i64, max_skew: u64) -> Result<(), TcError> {
    let now = crate::clock::now_secs();
    if now.abs_diff(ts) > max_skew {
        return Err(TcError::new(
            Code::AuthFailureSignatureExpire,
            format!("Signature expired: the request timestamp {ts} and the server time {now} differ by more than {max_skew} seconds."),
        )
        .zh(format!("签名过期：请求时间戳 {ts} 与服务器时间 {now} 相差超过 {max_skew} 秒。")));
    }
    Ok(())
}

/// Who may sign: the configured accounts and the access service's sub-user and session keys.
pub struct Keys<'a> {
    /// Root keys.
    pub accounts: &'a Accounts,
    /// Sub-user and temporary keys.
    pub access: &'a Access,
}

fn credential_error(id: &str, e: CredentialError) -> TcError {
    match e {
        CredentialError::UnknownKey => TcError::new(
            Code::AuthFailureSecretIdNotFound,
            format!("The SecretId `{id}` is not found; check the credentials in cloudtwin's config or the sub-user's access keys."),
        )
        .zh(format!("密钥不存在：SecretId `{id}`，请检查 cloudtwin 配置中的凭证或子用户的访问密钥。")),
        CredentialError::Inactive => TcError::new(
            Code::AuthFailureSecretIdNotFound,
            format!("The SecretId `{id}` is disabled (its access key is Inactive)."),
        )
        .zh(format!("密钥不存在：SecretId `{id}` 已被禁用（访问密钥为 Inactive 状态）。")),
        CredentialError::Expired => TcError::new(
            Code::AuthFailureTokenFailure,
            "Token verification failed: the token has expired; request new temporary credentials.",
        ),
        CredentialError::MissingToken | CredentialError::BadToken | CredentialError::Mismatch => {
            TcError::new(
                Code::AuthFailureTokenFailure,
                "Token verification failed, please check if your Token is correct.",
            )
        }
    }
}

fn resolve(
    keys: &Keys<'_>,
    id: &str,
    token: Option<&str>,
) -> Result<crate::access::Credential, TcError> {
    keys.access
        .credential(Cloud::Tencent, keys.accounts, id, token)
        .map_err(|e| credential_error(id, e))
}

fn signature_failure() -> TcError {
    TcError::new(
        Code::AuthFailureSignatureFailure,
        "The provided credentials could not be validated. Please check your signature is correct.",
    )
}

/// Verifies the signature of a request to `product` and returns who signed it.
pub fn verify(
    style: Style,
    product: Product,
    req: &Signed<'_>,
    keys: &Keys<'_>,
    max_skew: u64,
) -> Result<Verified, TcError> {
    match style {
        Style::Tc3 => verify_tc3(req, product, keys, max_skew),
        Style::V1 => verify_v1(req, keys, max_skew),
    }
}

fn verify_tc3(
    req: &Signed<'_>,
    product: Product,
    keys: &Keys<'_>,
    max_skew: u64,
) -> Result<Verified, TcError> {
    let raw_auth = header(req.headers, "authorization").unwrap_or_default();
    let auth: Tc3Authorization = sign::parse_tc3_authorization(raw_auth).ok_or_else(|| {
        TcError::new(
            Code::AuthFailureInvalidAuthorization,
            "The Authorization header is not of the form `TC3-HMAC-SHA256 Credential=<SecretId>/<date>/cvm/tc3_request, SignedHeaders=..., Signature=...`.",
        )
    })?;
    let (ts_raw, ts) = parse_timestamp("X-TC-Timestamp", header(req.headers, headers::TIMESTAMP))?;
    check_window(ts, max_skew)?;
    let cred = resolve(keys, &auth.secret_id, header(req.headers, headers::TOKEN))?;
    let secret_key = cred.secret.as_str();
    if !auth.signed_headers.iter().any(|h| h == "content-type")
        || !auth.signed_headers.iter().any(|h| h == "host")
    {
        return Err(TcError::new(
            Code::AuthFailureInvalidAuthorization,
            "SignedHeaders must include content-type and host.",
        ));
    }
    // Tencent Cloud's rule: the scope's service "must match the domain called". Against the
    // real cloud that is `cvm` (cvm.tencentcloudapi.com; `cam`, `sts`); the Node SDK derives it from the first
    // label of the endpoint it was given, so against cloudtwin at `127.0.0.1:9400` it signs
    // with service `127` (`localhost:9400` for `localhost:9400`): that too matches the domain
    // called.
    let host = header(req.headers, "host").unwrap_or_default().trim();
    if (auth.service != product.service() && !sign::is_first_label_of_host(&auth.service, host))
        || auth.date != sign::utc_date(ts)
    {
        tracing::debug!(
            scope_date = %auth.date, expected_date = %sign::utc_date(ts), service = %auth.service,
            "TC3 credential scope does not match the timestamp's UTC date or the cvm service"
        );
        return Err(signature_failure());
    }
    let payload_hash =
        if header(req.headers, headers::CONTENT_SHA256) == Some(sign::UNSIGNED_PAYLOAD) {
            sign::sha256_hex(sign::UNSIGNED_PAYLOAD.as_bytes())
        } else {
            sign::sha256_hex(req.body)
        };
    let query = if req.method == Method::GET {
        req.raw_query
    } else {
        ""
    };
    let signed_names = auth.signed_headers.join(";");
    // The doc lower-cases header values; the SDKs send them as they are. Try both. The Node SDK
    // signs `host` as the URL's hostname without the port it sends in the Host header (against
    // the real cloud there is no port, so both agree): try the host without its port too.
    let hosts = match sign::host_without_port(host) {
        Some(bare) => vec![host, bare],
        None => vec![host],
    };
    let signing_key = sign::signing_key_cached(secret_key, &auth.date, &auth.service);
    let mut tried = Vec::new();
    for (lower, host_value) in [true, false]
        .into_iter()
        .flat_map(|l| hosts.iter().map(move |h| (l, *h)))
    {
        let pairs: Vec<(String, String)> = auth
            .signed_headers
            .iter()
            .map(|name| {
                let v = if name == "host" {
                    host_value
                } else {
                    header(req.headers, name).unwrap_or_default().trim()
                };
                (
                    name.clone(),
                    if lower {
                        v.to_ascii_lowercase()
                    } else {
                        v.to_string()
                    },
                )
            })
            .collect();
        let cr = sign::canonical_request(
            req.method.as_str(),
            query,
            &sign::canonical_headers(&pairs),
            &signed_names,
            &payload_hash,
        );
        let sts = sign::string_to_sign(&ts_raw, &auth.date, &auth.service, &cr);
        let expected = sign::tc3_signature_with_key(&signing_key, &sts);
        if crate::dialect::signatures_match(&expected, &auth.signature) {
            return Ok(cred.verified);
        }
        tried.push((cr, sts));
    }
    for (cr, sts) in tried {
        tracing::debug!(canonical_request = %cr, string_to_sign = %sts, "TC3 signature mismatch: the server expected these");
    }
    Err(signature_failure())
}

fn verify_v1(req: &Signed<'_>, keys: &Keys<'_>, max_skew: u64) -> Result<Verified, TcError> {
    let secret_id = param(req.pairs, "SecretId").ok_or_else(|| TcError::missing("SecretId"))?;
    let given = param(req.pairs, "Signature").ok_or_else(|| TcError::missing("Signature"))?;
    let (_, ts) = parse_timestamp("Timestamp", param(req.pairs, "Timestamp"))?;
    param(req.pairs, "Nonce").ok_or_else(|| TcError::missing("Nonce"))?;
    let method = match param(req.pairs, "SignatureMethod") {
        None => V1Method::HmacSha1,
        Some(m) => V1Method::parse(m).ok_or_else(|| {
            TcError::invalid_value(
                "SignatureMethod",
                &format!("`{m}` is not HmacSHA1 or HmacSHA256"),
            )
        })?,
    };
    check_window(ts, max_skew)?;
    let cred = resolve(keys, secret_id, param(req.pairs, "Token"))?;
    let secret_key = cred.secret.as_str();
    let host = header(req.headers, "host").unwrap_or_default();
    let sts = sign::v1_string_to_sign(req.method.as_str(), host, req.pairs);
    let expected = sign::v1_signature(method, secret_key, &sts);
    if crate::dialect::signatures_match(&expected, given) {
        Ok(cred.verified)
    } else {
        tracing::debug!(string_to_sign = %sts, "v1 signature mismatch: the server expected this string to sign");
        Err(signature_failure())
    }
}
