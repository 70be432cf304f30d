//! The cloud dialects spoken on the one listener. Each dialect recognises its own requests,
//! verifies them, decodes their parameters, rate-limits them and answers in its envelope.
//! [`classify`] decides which dialect a request speaks; the server dispatches.

pub mod aliyun;
pub mod output;
pub mod pipeline;
pub mod tencent;

use axum::http::HeaderMap;

/// Which dialect a request speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Tencent Cloud API 3.0 (CVM).
    Tencent,
    /// Alibaba Cloud RPC (IMM).
    Aliyun,
}

impl Dialect {
    /// Every dialect.
    pub const ALL: [Dialect; 2] = [Dialect::Tencent, Dialect::Aliyun];

    /// Name used in logs, metrics, rate-limit keys, fault rules and admin bodies (each
    /// dialect's [`pipeline::Dialect::NAME`]).
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Tencent => <tencent::Tencent as pipeline::Dialect>::NAME,
            Dialect::Aliyun => <aliyun::Aliyun as pipeline::Dialect>::NAME,
        }
    }

    /// The dialect of a name, if any.
    pub fn from_name(name: &str) -> Option<Dialect> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }
}

/// The language an error message is answered in. English is the default: a request that asks
/// for nothing, for `en-US` or for anything cloudtwin does not speak gets English; one that asks
/// for Chinese (`zh-CN`, `zh`, `zh-Hans`, `zh_CN`...) gets Chinese.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English (the default).
    #[default]
    En,
    /// Simplified Chinese.
    Zh,
}

impl Lang {
    /// The language a tag asks for (`X-TC-Language`, `Language`, `Accept-Language`): the first
    /// entry of a list decides, its primary subtag `zh` (any case) meaning Chinese.
    pub fn from_tag(tag: Option<&str>) -> Lang {
        let Some(tag) = tag else { return Lang::En };
        let first = tag.split(',').next().unwrap_or("");
        let first = first.split(';').next().unwrap_or("").trim();
        let primary = first.split(['-', '_']).next().unwrap_or("");
        if primary.eq_ignore_ascii_case("zh") {
            Lang::Zh
        } else {
            Lang::En
        }
    }
}

/// Decides the dialect of a request; `None` when no dialect claims it.
pub fn classify(headers: &HeaderMap, pairs: &[(String, String)]) -> Option<Dialect> {
    if tencent::recognises(headers, pairs) {
        return Some(Dialect::Tencent);
    }
    if aliyun::recognises(headers, pairs) {
        return Some(Dialect::Aliyun);
    }
    None
}

/// The `Credential=..., SignedHeaders=..., Signature=...` list that both clouds' v3
/// `Authorization` headers carry after the algorithm name.
pub struct AuthFields<'a> {
    /// `Credential`, as given.
    pub credential: &'a str,
    /// `SignedHeaders`, lower case, empty entries dropped.
    pub signed_headers: Vec<String>,
    /// `Signature`, lower case.
    pub signature: String,
}

/// Parses [`AuthFields`]; `None` when a part is malformed or missing.
pub fn parse_auth_fields(rest: &str) -> Option<AuthFields<'_>> {
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k.trim() {
            "Credential" => credential = Some(v.trim()),
            "SignedHeaders" => signed = Some(v.trim()),
            "Signature" => signature = Some(v.trim()),
            _ => {}
        }
    }
    Some(AuthFields {
        credential: credential?,
        signed_headers: signed?
            .split(';')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect(),
        signature: signature?.to_ascii_lowercase(),
    })
}

/// A header as text (`None` when absent or not visible ASCII).
pub fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The first value of a parameter, as Tencent Cloud reads a repeated one.
pub fn first_param<'p>(pairs: &'p [(String, String)], name: &str) -> Option<&'p str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The last value of a parameter, as Alibaba Cloud reads a repeated one (the form body comes
/// after the query, so it wins).
pub fn last_param<'p>(pairs: &'p [(String, String)], name: &str) -> Option<&'p str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A random (version 4) UUID for a request id, from a generator of this thread seeded once
/// from the system's random source: a request id must be unique, not secret, and a system call
/// per request (getrandom) was about 1.5% of a DescribeImages request's CPU. The generator is
/// SplitMix64 over a counter (distinct outputs for 2^63 calls), so one thread never repeats
/// an id, and threads start at independent random points.
pub fn request_uuid() -> uuid::Uuid {
    use std::cell::Cell;
    thread_local! {
        static NEXT: Cell<u64> = Cell::new(u64::from_le_bytes(
            uuid::Uuid::new_v4().as_bytes()[..8].try_into().unwrap_or([7; 8]),
        ));
    }
    fn mix(mut z: u64) -> u64 {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    let n = NEXT.with(|c| {
        let n = c.get();
        c.set(n.wrapping_add(0x9e37_79b9_7f4a_7c15u64.wrapping_mul(2)));
        n
    });
    let hi = mix(n);
    let lo = mix(n.wrapping_add(0x9e37_79b9_7f4a_7c15));
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hi.to_le_bytes());
    bytes[8..].copy_from_slice(&lo.to_le_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// Lower-case hex SHA-256 (the payload hash of both clouds' v3 signatures).
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

/// The canonical request of both clouds' v3 signatures (TC3 and ACS3 share its shape; the
/// path is always `/`).
pub fn canonical_request(
    method: &str,
    canonical_query: &str,
    canonical_headers: &str,
    signed_headers: &str,
    payload_hash: &str,
) -> String {
    format!("{method}\n/\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{payload_hash}")
}

/// Constant-time equality of two signatures (both dialects).
pub fn signatures_match(expected: &str, given: &str) -> bool {
    use subtle::ConstantTimeEq;
    expected.as_bytes().ct_eq(given.as_bytes()).into()
}

/// The fields of the one log line written per request.
#[derive(Debug, Default, Clone)]
pub struct RequestLog {
    /// Request id (also in the response).
    pub request_id: String,
    /// Dialect name.
    pub dialect: &'static str,
    /// Action name, as sent.
    pub action: String,
    /// Account id, once authenticated.
    pub account: String,
    /// The sub-user or role session that signed (empty for an account's root key).
    pub principal: String,
    /// Region, once read.
    pub region: String,
    /// Answer code (`Success` or the error code).
    pub code: String,
    /// Whether `action` is an action the dialect knows (metrics label it `unknown` otherwise).
    pub known: bool,
}

#[cfg(test)]
mod tests {
    use super::{request_uuid, Lang};

    #[test]
    fn request_ids_are_version_4_uuids_that_do_not_repeat() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..100_000 {
            let id = request_uuid();
            assert_eq!(id.get_version_num(), 4);
            assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
            assert!(seen.insert(id), "{id} repeated");
        }
        let other = std::thread::spawn(request_uuid).join().expect("thread");
        assert!(!seen.contains(&other));
    }

    #[test]
    fn chinese_tags_ask_for_chinese_and_everything_else_gets_english() {
        for zh in [
            "zh-CN",
            "zh",
            "zh-Hans",
            "ZH-cn",
            "zh_CN",
            "zh-TW",
            "zh-CN,en;q=0.8",
        ] {
            assert_eq!(Lang::from_tag(Some(zh)), Lang::Zh, "{zh}");
        }
        for en in [
            "en-US",
            "en",
            "",
            "fr-FR",
            "zhx",
            "garbage;;",
            "en-US,zh-CN",
        ] {
            assert_eq!(Lang::from_tag(Some(en)), Lang::En, "{en}");
        }
        assert_eq!(Lang::from_tag(None), Lang::En);
        assert_eq!(Lang::default(), Lang::En);
    }
}
