//! Tencent Cloud API 3.0 request signatures: TC3-HMAC-SHA256 and the v1 HmacSHA1/HmacSHA256
//! scheme. Each step is a small pure function so that it can be checked against the spec's
//! test vectors (cvm.md §2.5).
//!
//! # TC3 format
//! `Authorization: TC3-HMAC-SHA256 Credential=<SecretId>/<YYYY-MM-DD>/cvm/tc3_request,
//! SignedHeaders=content-type;host, Signature=<64 hex>`

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub use crate::dialect::{canonical_request, sha256_hex};

/// The TC3 algorithm name, as it starts the `Authorization` header and the string to sign.
pub const TC3_ALGORITHM: &str = "TC3-HMAC-SHA256";
/// The last element of the TC3 credential scope.
pub const TC3_TERMINATOR: &str = "tc3_request";
/// Payload marker that replaces the body hash when sent in `X-TC-Content-SHA256`.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

type HmacSha256 = Hmac<Sha256>;
type HmacSha1 = Hmac<sha1::Sha1>;

/// The parsed `Authorization` header of a TC3 request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tc3Authorization {
    /// The SecretId from the credential.
    pub secret_id: String,
    /// The date of the credential scope, `YYYY-MM-DD`.
    pub date: String,
    /// The service of the credential scope (`cvm`).
    pub service: String,
    /// Lower-case header names, in the order the client listed them.
    pub signed_headers: Vec<String>,
    /// Lower-case hex signature.
    pub signature: String,
}

/// Parses `TC3-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`;
/// `None` when the header is not of that shape.
pub fn parse_tc3_authorization(header: &str) -> Option<Tc3Authorization> {
    let rest = header.strip_prefix(TC3_ALGORITHM)?.strip_prefix(' ')?;
    let fields = crate::dialect::parse_auth_fields(rest)?;
    let mut scope = fields.credential.split('/');
    let secret_id = scope.next()?.to_string();
    let date = scope.next()?.to_string();
    let service = scope.next()?.to_string();
    if scope.next()? != TC3_TERMINATOR || scope.next().is_some() || secret_id.is_empty() {
        return None;
    }
    let (signed_headers, signature) = (fields.signed_headers, fields.signature);
    if signed_headers.is_empty() || signature.is_empty() {
        return None;
    }
    Some(Tc3Authorization {
        secret_id,
        date,
        service,
        signed_headers,
        signature,
    })
}

fn hmac256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// The canonical headers block: `name:value\n` for each signed header.
pub fn canonical_headers(pairs: &[(String, String)]) -> String {
    pairs.iter().map(|(n, v)| format!("{n}:{v}\n")).collect()
}

/// The TC3 string to sign.
pub fn string_to_sign(
    timestamp: &str,
    date: &str,
    service: &str,
    canonical_request: &str,
) -> String {
    format!(
        "{TC3_ALGORITHM}\n{timestamp}\n{date}/{service}/{TC3_TERMINATOR}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// `kDate = HMAC("TC3" + SecretKey, date)`.
pub fn k_date(secret_key: &str, date: &str) -> [u8; 32] {
    hmac256(format!("TC3{secret_key}").as_bytes(), date.as_bytes())
}

/// `kService = HMAC(kDate, service)`.
pub fn k_service(k_date: &[u8; 32], service: &str) -> [u8; 32] {
    hmac256(k_date, service.as_bytes())
}

/// `kSigning = HMAC(kService, "tc3_request")`.
pub fn k_signing(k_service: &[u8; 32]) -> [u8; 32] {
    hmac256(k_service, TC3_TERMINATOR.as_bytes())
}

/// The TC3 signature, lower-case hex.
pub fn tc3_signature(secret_key: &str, date: &str, service: &str, string_to_sign: &str) -> String {
    let key = k_signing(&k_service(&k_date(secret_key, date), service));
    hex::encode(hmac256(&key, string_to_sign.as_bytes()))
}

/// (secret key, date, service, kSigning).
type CachedKey = (String, String, String, [u8; 32]);

/// `kSigning` of (secret key, date, service), remembered per thread: a client signs every
/// request of a day with the same derived key, and deriving it is three of the four HMACs
/// of a check. The few most recent keys are kept (a handful of callers per worker thread).
pub fn signing_key_cached(secret_key: &str, date: &str, service: &str) -> [u8; 32] {
    const KEEP: usize = 8;
    thread_local! {
        static KEYS: std::cell::RefCell<Vec<CachedKey>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }
    KEYS.with(|cell| {
        let mut keys = cell.borrow_mut();
        if let Some(i) = keys
            .iter()
            .position(|(k, d, s, _)| k == secret_key && d == date && s == service)
        {
            let hit = keys.remove(i);
            let key = hit.3;
            keys.push(hit);
            return key;
        }
        let key = k_signing(&k_service(&k_date(secret_key, date), service));
        if keys.len() >= KEEP {
            keys.remove(0);
        }
        keys.push((secret_key.into(), date.into(), service.into(), key));
        key
    })
}

/// The TC3 signature from a derived signing key, lower-case hex.
pub fn tc3_signature_with_key(key: &[u8; 32], string_to_sign: &str) -> String {
    hex::encode(hmac256(key, string_to_sign.as_bytes()))
}

/// The v1 signature methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum V1Method {
    /// `HmacSHA1`, the default when `SignatureMethod` is absent.
    HmacSha1,
    /// `HmacSHA256`.
    HmacSha256,
}

impl V1Method {
    /// Parses the `SignatureMethod` parameter.
    pub fn parse(s: &str) -> Option<V1Method> {
        match s {
            "HmacSHA1" => Some(V1Method::HmacSha1),
            "HmacSHA256" => Some(V1Method::HmacSha256),
            _ => None,
        }
    }
}

/// The v1 string to sign: `METHOD + host + "/" + "?" + k=v&...` over the decoded parameters
/// (without `Signature`) sorted by name.
pub fn v1_string_to_sign(method: &str, host: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> =
        params.iter().filter(|(k, _)| k != "Signature").collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let joined: Vec<String> = sorted.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{method}{host}/?{}", joined.join("&"))
}

/// The v1 signature, base64.
pub fn v1_signature(method: V1Method, secret_key: &str, string_to_sign: &str) -> String {
    let raw = match method {
        V1Method::HmacSha1 => {
            let mut mac = <HmacSha1 as Mac>::new_from_slice(secret_key.as_bytes())
                .unwrap_or_else(|_| unreachable!());
            mac.update(string_to_sign.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        V1Method::HmacSha256 => hmac256(secret_key.as_bytes(), string_to_sign.as_bytes()).to_vec(),
    };
    base64::engine::general_purpose::STANDARD.encode(raw)
}

/// The Host value without its `:port`, or `None` when it has none (`[::1]:9400` gives `[::1]`).
pub fn host_without_port(host: &str) -> Option<&str> {
    let (bare, port) = host.rsplit_once(':')?;
    let is_port = !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
    let bracketed_or_plain = bare.ends_with(']') || !bare.contains(':');
    (is_port && bracketed_or_plain && !bare.is_empty()).then_some(bare)
}

/// Whether `service` is the first DNS label of the Host value, with or without its port: the
/// service a client that derives the scope from its endpoint signs with (`cvm` for
/// `cvm.tencentcloudapi.com`; the Node SDK's `endpoint.split(".")[0]` gives `127` for
/// `127.0.0.1:9400` and `localhost:9400` for `localhost:9400`).
pub fn is_first_label_of_host(service: &str, host: &str) -> bool {
    let first = |h: &str| h.split('.').next().unwrap_or_default().to_string();
    let bare = host_without_port(host).unwrap_or(host);
    !service.is_empty() && (service == first(host) || service == first(bare))
}

/// `YYYY-MM-DD` of a Unix timestamp, in UTC.
pub fn utc_date(timestamp: i64) -> String {
    let (y, m, d) = crate::clock::civil_from_days(timestamp.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    //! Vectors from cvm.md §2.5, computed by the real Python SDK with a frozen clock.
    use super::*;

    #[test]
    fn the_cached_signing_key_is_the_derived_one_for_each_secret_date_and_service() {
        for (secret, date, service) in [
            (SECRET_KEY, DATE, "cvm"),
            ("other", DATE, "cvm"),
            (SECRET_KEY, "2023-11-15", "cvm"),
            (SECRET_KEY, DATE, "cam"),
            (SECRET_KEY, DATE, "cvm"),
        ] {
            let derived = k_signing(&k_service(&k_date(secret, date), service));
            assert_eq!(signing_key_cached(secret, date, service), derived);
            assert_eq!(
                tc3_signature_with_key(&derived, "sts"),
                tc3_signature(secret, date, service, "sts")
            );
        }
        // More keys than it keeps: the oldest are derived again, never confused.
        for i in 0..20 {
            let secret = format!("secret-{i}");
            let derived = k_signing(&k_service(&k_date(&secret, DATE), "cvm"));
            assert_eq!(signing_key_cached(&secret, DATE, "cvm"), derived);
        }
    }

    const SECRET_ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
    const SECRET_KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
    const TS: &str = "1700000000";
    const DATE: &str = "2023-11-14";
    const HOST: &str = "cvm.tencentcloudapi.com";

    #[test]
    fn the_credential_date_of_the_vector_timestamp_is_utc() {
        assert_eq!(utc_date(1_700_000_000), DATE);
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
    }

    #[test]
    fn derived_keys_match_the_vectors() {
        let kd = k_date(SECRET_KEY, DATE);
        assert_eq!(
            hex::encode(kd),
            "887d0077ac19ed5cba18590a4fe79f7e1d851a9b05bd4e02a3af730156456978"
        );
        let ks = k_service(&kd, "cvm");
        assert_eq!(
            hex::encode(ks),
            "d512fbc373b81c62ac8135216fbf291ec876e68892160e6b062a993b6966dd3d"
        );
        assert_eq!(
            hex::encode(k_signing(&ks)),
            "ccd0b3184f12b1f5b0384f27ec2857fcd01320d87e7e525005c345883331ab99"
        );
    }

    #[test]
    fn tc3_post_canonical_request_string_to_sign_and_signature_match_the_vectors() {
        let body = br#"{"ImageId": "img-6pb6lrmy", "ImageName": "NewImageName", "ImageDescription": "desc"}"#;
        assert_eq!(body.len(), 84);
        let payload = sha256_hex(body);
        assert_eq!(
            payload,
            "bac2000081c59cef90238cb3adb8856b4417025a8b99fe5ac9f3891912a07bab"
        );
        let headers = canonical_headers(&[
            ("content-type".into(), "application/json".into()),
            ("host".into(), HOST.into()),
        ]);
        let cr = canonical_request("POST", "", &headers, "content-type;host", &payload);
        assert_eq!(
            cr,
            "POST\n/\n\ncontent-type:application/json\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\nbac2000081c59cef90238cb3adb8856b4417025a8b99fe5ac9f3891912a07bab"
        );
        let sts = string_to_sign(TS, DATE, "cvm", &cr);
        assert_eq!(
            sts,
            "TC3-HMAC-SHA256\n1700000000\n2023-11-14/cvm/tc3_request\n6f754d51cc274a7afa717ad790d4e8805121ddd159ae7ad1da5fa19dfa1a78a3"
        );
        assert_eq!(
            tc3_signature(SECRET_KEY, DATE, "cvm", &sts),
            "bee9d2218c16d3b334cd67fa2d74eaf3a1f4f778c8250cfd34b28738ee808094"
        );
    }

    #[test]
    fn tc3_get_canonical_request_and_signature_match_the_vectors() {
        let headers = canonical_headers(&[
            (
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            ),
            ("host".into(), HOST.into()),
        ]);
        let cr = canonical_request(
            "GET",
            "ImageId=img-6pb6lrmy&ImageName=NewImageName&ImageDescription=desc",
            &headers,
            "content-type;host",
            &sha256_hex(b""),
        );
        let sts = string_to_sign(TS, DATE, "cvm", &cr);
        assert!(
            sts.ends_with("316ba99fc1317b32861f42bc84dd78127a19d2a8171a59b8cf81434d8c5abf23"),
            "{sts}"
        );
        assert_eq!(
            tc3_signature(SECRET_KEY, DATE, "cvm", &sts),
            "2ec97f52ba3f3bc250c5e525289a1cbbcd565eda31b31679f566db907fda761b"
        );
    }

    #[test]
    fn the_authorization_header_of_the_vector_parses() {
        let h = format!("TC3-HMAC-SHA256 Credential={SECRET_ID}/2023-11-14/cvm/tc3_request, SignedHeaders=content-type;host, Signature=bee9d2218c16d3b334cd67fa2d74eaf3a1f4f778c8250cfd34b28738ee808094");
        let a = parse_tc3_authorization(&h).expect("parse");
        assert_eq!(a.secret_id, SECRET_ID);
        assert_eq!(a.date, DATE);
        assert_eq!(a.service, "cvm");
        assert_eq!(a.signed_headers, ["content-type", "host"]);
        assert!(parse_tc3_authorization(
            "TC3-HMAC-SHA256 Credential=a/b/cvm/other, SignedHeaders=host, Signature=x"
        )
        .is_none());
        assert!(parse_tc3_authorization("Bearer x").is_none());
    }

    fn v1_params(method: &str) -> Vec<(String, String)> {
        [
            ("ImageId", "img-6pb6lrmy"),
            ("ImageName", "NewImageName"),
            ("ImageDescription", "desc"),
            ("Action", "ModifyImageAttribute"),
            ("RequestClient", "SDK_PYTHON_3.1.178"),
            ("Nonce", "123456789"),
            ("Timestamp", TS),
            ("Version", "2017-03-12"),
            ("Region", "ap-guangzhou"),
            ("SecretId", SECRET_ID),
            ("SignatureMethod", method),
            ("Language", "en-US"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn v1_string_to_sign_matches_the_vector() {
        assert_eq!(
            v1_string_to_sign("GET", HOST, &v1_params("HmacSHA1")),
            "GETcvm.tencentcloudapi.com/?Action=ModifyImageAttribute&ImageDescription=desc&ImageId=img-6pb6lrmy&ImageName=NewImageName&Language=en-US&Nonce=123456789&Region=ap-guangzhou&RequestClient=SDK_PYTHON_3.1.178&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&SignatureMethod=HmacSHA1&Timestamp=1700000000&Version=2017-03-12"
        );
    }

    #[test]
    fn v1_signatures_match_the_vectors_for_both_methods_and_verbs() {
        let cases = [
            ("GET", "HmacSHA1", "0JVDU/jQlkKL8yWA/va6cBm7wZA="),
            ("POST", "HmacSHA1", "5rc8EYHBX1o0cRxr8KMODg8iRdM="),
            (
                "GET",
                "HmacSHA256",
                "bBREUKyyseVXROIHpBjfwCOyqGXtvUXRqzS8h6bA25Q=",
            ),
            (
                "POST",
                "HmacSHA256",
                "RsUj+oXxWNO5/D8lcl1C8e9ghuaosZs+4aq94Au4W2Q=",
            ),
        ];
        for (verb, method, want) in cases {
            let sts = v1_string_to_sign(verb, HOST, &v1_params(method));
            let m = V1Method::parse(method).expect("method");
            assert_eq!(v1_signature(m, SECRET_KEY, &sts), want, "{verb} {method}");
        }
    }

    #[test]
    fn the_host_loses_its_port_and_gives_its_first_label() {
        assert_eq!(host_without_port("127.0.0.1:9400"), Some("127.0.0.1"));
        assert_eq!(host_without_port("[::1]:9400"), Some("[::1]"));
        assert_eq!(host_without_port("cvm.tencentcloudapi.com"), None);
        assert_eq!(host_without_port("::1"), None);
        assert_eq!(host_without_port(":9400"), None);
        assert!(is_first_label_of_host("127", "127.0.0.1:9400"));
        assert!(is_first_label_of_host("cvm", "cvm.tencentcloudapi.com"));
        assert!(is_first_label_of_host("localhost:9400", "localhost:9400"));
        assert!(is_first_label_of_host("localhost", "localhost:9400"));
        assert!(!is_first_label_of_host("cbs", "127.0.0.1:9400"));
        assert!(!is_first_label_of_host("", ""));
    }

    #[test]
    fn signature_comparison_rejects_any_difference() {
        use crate::dialect::signatures_match;
        assert!(signatures_match("abc", "abc"));
        assert!(!signatures_match("abc", "abd"));
        assert!(!signatures_match("abc", "ab"));
    }
}
