//! Alibaba Cloud request signatures: ACS3-HMAC-SHA256 (V3, the Tea SDK's default) and the RPC
//! HMAC-SHA1 scheme (Tea SDK with `signature_algorithm="v2"`, and the legacy core SDK). Each
//! step is a small pure function, checked against the spec's test vectors (imm.md §2.4).
//!
//! # V3 format
//! `Authorization: ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<h1;h2>,Signature=<hex>`

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub use crate::dialect::{canonical_request, sha256_hex};

/// The V3 algorithm name.
pub const ACS3_ALGORITHM: &str = "ACS3-HMAC-SHA256";
/// The only RPC signature method.
pub const RPC_METHOD: &str = "HMAC-SHA1";

/// The parsed V3 `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acs3Authorization {
    /// The algorithm named in the header.
    pub algorithm: String,
    /// AccessKeyId.
    pub access_key_id: String,
    /// Lower-case header names in the client's order.
    pub signed_headers: Vec<String>,
    /// Lower-case hex signature.
    pub signature: String,
}

/// Parses `ACS3-<ALG> Credential=..,SignedHeaders=..,Signature=..`; `None` when malformed.
pub fn parse_acs3_authorization(header: &str) -> Option<Acs3Authorization> {
    let (algorithm, rest) = header.split_once(' ')?;
    if !algorithm.starts_with("ACS3-") {
        return None;
    }
    let fields = crate::dialect::parse_auth_fields(rest)?;
    let (access_key_id, signed_headers, signature) = (
        fields.credential.to_string(),
        fields.signed_headers,
        fields.signature,
    );
    if access_key_id.is_empty() || signature.is_empty() {
        return None;
    }
    Some(Acs3Authorization {
        algorithm: algorithm.to_string(),
        access_key_id,
        signed_headers,
        signature,
    })
}

/// Percent-encoding of the Alibaba Cloud signatures: keep `A-Z a-z 0-9 - _ . ~`, every other
/// UTF-8 byte becomes `%XX` with upper-case hex.
pub fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `pct(name)=pct(value)` pairs sorted by name and joined with `&`.
pub fn canonical_query(params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_by(|a, b| {
        a.0.as_bytes()
            .cmp(b.0.as_bytes())
            .then_with(|| a.1.cmp(&b.1))
    });
    sorted
        .iter()
        .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The V3 string to sign.
pub fn acs3_string_to_sign(canonical_request: &str) -> String {
    format!(
        "{ACS3_ALGORITHM}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// The V3 signature: lower-case hex HMAC-SHA256 keyed with the AccessKey secret.
pub fn acs3_signature(secret: &str, string_to_sign: &str) -> String {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(string_to_sign.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The RPC string to sign over every parameter but `Signature`.
pub fn rpc_string_to_sign(method: &str, params: &[(String, String)]) -> String {
    let without: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "Signature")
        .cloned()
        .collect();
    format!("{method}&{}&{}", pct("/"), pct(&canonical_query(&without)))
}

/// The RPC signature: base64 HMAC-SHA1 keyed with `secret + "&"`.
pub fn rpc_signature(secret: &str, string_to_sign: &str) -> String {
    let key = format!("{secret}&");
    let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(key.as_bytes())
        .unwrap_or_else(|_| unreachable!());
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    //! Vectors of imm.md §2.4 (AccessKeyId `testid`, secret `testsecret`).
    use super::*;

    const CLUSTER_JSON: &str =
        r#"{"CustomLabels":{"role":"friend"},"Name":"Alice 张三","ObjectId":"Cluster-1"}"#;
    const EMPTY_SHA: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn op_params() -> Vec<(String, String)> {
        vec![
            ("ProjectName".into(), "test-project".into()),
            ("DatasetName".into(), "test-dataset".into()),
            ("FigureCluster".into(), CLUSTER_JSON.into()),
        ]
    }

    #[test]
    fn pct_keeps_unreserved_and_upper_cases_the_rest() {
        assert_eq!(pct("a b*~/"), "a%20b%2A~%2F");
        assert_eq!(pct("张"), "%E5%BC%A0");
    }

    #[test]
    fn v3_canonical_request_and_signature_match_the_vector() {
        let signed = "accept;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version";
        let headers = format!(
            "accept:application/json\nhost:imm.cn-hangzhou.aliyuncs.com\nx-acs-action:UpdateFigureCluster\nx-acs-content-sha256:{EMPTY_SHA}\nx-acs-date:2024-01-01T00:00:00Z\nx-acs-signature-nonce:0123456789abcdef0123456789abcdef\nx-acs-version:2020-09-30\n"
        );
        let cr = canonical_request(
            "POST",
            &canonical_query(&op_params()),
            &headers,
            signed,
            EMPTY_SHA,
        );
        assert!(cr.starts_with("POST\n/\nDatasetName=test-dataset&FigureCluster=%7B%22CustomLabels%22%3A%7B%22role%22%3A%22friend%22%7D%2C%22Name%22%3A%22Alice%20%E5%BC%A0%E4%B8%89%22%2C%22ObjectId%22%3A%22Cluster-1%22%7D&ProjectName=test-project\naccept:application/json\n"), "{cr}");
        assert_eq!(
            sha256_hex(cr.as_bytes()),
            "20a4d2634b027bac7d5f8334c3c2549cc32716b75ab8e3d7ed4f2ed503ce9cec"
        );
        assert_eq!(
            acs3_signature("testsecret", &acs3_string_to_sign(&cr)),
            "6ad93b8db08cead47b57e2939321bcd6728ff336133796cb5822e28667988dda"
        );
    }

    #[test]
    fn rpc_string_to_sign_and_signature_match_the_vector() {
        let mut p = op_params();
        for (k, v) in [
            ("Action", "UpdateFigureCluster"),
            ("Format", "json"),
            ("Version", "2020-09-30"),
            ("Timestamp", "2024-01-01T00:00:00Z"),
            ("SignatureNonce", "0123456789abcdef0123456789abcdef"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("AccessKeyId", "testid"),
            ("Signature", "ignored"),
        ] {
            p.push((k.into(), v.into()));
        }
        let sts = rpc_string_to_sign("POST", &p);
        assert_eq!(sts, "POST&%2F&AccessKeyId%3Dtestid%26Action%3DUpdateFigureCluster%26DatasetName%3Dtest-dataset%26FigureCluster%3D%257B%2522CustomLabels%2522%253A%257B%2522role%2522%253A%2522friend%2522%257D%252C%2522Name%2522%253A%2522Alice%2520%25E5%25BC%25A0%25E4%25B8%2589%2522%252C%2522ObjectId%2522%253A%2522Cluster-1%2522%257D%26Format%3Djson%26ProjectName%3Dtest-project%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D0123456789abcdef0123456789abcdef%26SignatureVersion%3D1.0%26Timestamp%3D2024-01-01T00%253A00%253A00Z%26Version%3D2020-09-30");
        assert_eq!(
            rpc_signature("testsecret", &sts),
            "CYo1mQ0neAN1Z/u0RksszCDj5JI="
        );
    }

    #[test]
    fn an_empty_parameter_stays_in_the_rpc_string_to_sign() {
        let p = vec![
            ("SignatureType".to_string(), String::new()),
            ("A".to_string(), "1".to_string()),
        ];
        assert_eq!(
            rpc_string_to_sign("GET", &p),
            "GET&%2F&A%3D1%26SignatureType%3D"
        );
    }

    #[test]
    fn the_v3_authorization_header_parses() {
        let a = parse_acs3_authorization(
            "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=accept;host,Signature=ABC",
        )
        .expect("parse");
        assert_eq!(a.access_key_id, "testid");
        assert_eq!(a.signed_headers, ["accept", "host"]);
        assert_eq!(a.signature, "abc");
        assert!(parse_acs3_authorization("TC3-HMAC-SHA256 Credential=x").is_none());
        assert!(parse_acs3_authorization(
            "ACS3-HMAC-SHA256 Credential=,SignedHeaders=a,Signature=b"
        )
        .is_none());
    }
}
