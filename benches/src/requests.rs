//! Signed requests as raw HTTP bytes: Tencent TC3 (JSON POST), Alibaba ACS3 (query POST), and
//! AWS SigV4 (EC2 query API, for moto). Signing uses cloudtwin's own signing functions for the
//! two clouds it serves (the official-client suite is what proves them on the wire).

use cloudtwin::dialect::aliyun::sign as acs;
use cloudtwin::dialect::tencent::sign as tc3;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A TC3-signed CVM request.
pub fn tencent(host: &str, id: &str, key: &str, action: &str, region: &str, body: &str) -> Vec<u8> {
    tencent_product(host, (id, key), ("cvm", "2017-03-12"), action, region, body)
}

/// A TC3-signed request to a Tencent product (`("cam", "2019-01-16")`...).
pub fn tencent_product(
    host: &str,
    (id, key): (&str, &str),
    (service, version): (&str, &str),
    action: &str,
    region: &str,
    body: &str,
) -> Vec<u8> {
    let ts = now_secs();
    let date = tc3::utc_date(ts);
    let headers = tc3::canonical_headers(&[
        ("content-type".into(), "application/json".into()),
        ("host".into(), host.into()),
    ]);
    let cr = tc3::canonical_request(
        "POST",
        "",
        &headers,
        "content-type;host",
        &tc3::sha256_hex(body.as_bytes()),
    );
    let sts = tc3::string_to_sign(&ts.to_string(), &date, service, &cr);
    let sig = tc3::tc3_signature(key, &date, service, &sts);
    format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nX-TC-Action: {action}\r\nX-TC-Version: {version}\r\nX-TC-Region: {region}\r\nX-TC-Timestamp: {ts}\r\nAuthorization: TC3-HMAC-SHA256 Credential={id}/{date}/{service}/tc3_request, SignedHeaders=content-type;host, Signature={sig}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// An ACS3-signed IMM request with query parameters.
pub fn aliyun(
    host: &str,
    id: &str,
    secret: &str,
    action: &str,
    params: &[(String, String)],
) -> Vec<u8> {
    aliyun_version(host, (id, secret), "2020-09-30", action, params)
}

/// An ACS3-signed request to an Alibaba product by API version (`2015-05-01` is RAM).
pub fn aliyun_version(
    host: &str,
    (id, secret): (&str, &str),
    version: &str,
    action: &str,
    params: &[(String, String)],
) -> Vec<u8> {
    let query = acs::canonical_query(params);
    let date = cloudtwin::clock::iso8601_utc(cloudtwin::clock::now_ms());
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let empty = acs::sha256_hex(b"");
    let hs = [
        ("host", host.to_string()),
        ("x-acs-action", action.to_string()),
        ("x-acs-content-sha256", empty.clone()),
        ("x-acs-date", date),
        ("x-acs-signature-nonce", nonce),
        ("x-acs-version", version.to_string()),
    ];
    let canon: String = hs.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed = hs.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(";");
    let cr = acs::canonical_request("POST", &query, &canon, &signed, &empty);
    let sig = acs::acs3_signature(secret, &acs::acs3_string_to_sign(&cr));
    let mut head = format!("POST /?{query} HTTP/1.1\r\n");
    for (k, v) in &hs {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Authorization: ACS3-HMAC-SHA256 Credential={id},SignedHeaders={signed},Signature={sig}\r\nContent-Length: 0\r\n\r\n"));
    head.into_bytes()
}

fn hmac(key: &[u8], msg: &str) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    m.update(msg.as_bytes());
    m.finalize().into_bytes().to_vec()
}

/// A SigV4-signed EC2 query request (form POST), as the AWS SDKs send to moto.
pub fn ec2(host: &str, form: &str) -> Vec<u8> {
    let (region, service) = ("us-east-1", "ec2");
    let now = cloudtwin::clock::iso8601_utc(cloudtwin::clock::now_ms());
    let amz = now.replace(['-', ':'], "");
    let day = &amz[..8];
    let ct = "application/x-www-form-urlencoded; charset=utf-8";
    let payload = hex::encode(Sha256::digest(form.as_bytes()));
    let cr = format!("POST\n/\n\ncontent-type:{ct}\nhost:{host}\nx-amz-date:{amz}\n\ncontent-type;host;x-amz-date\n{payload}");
    let scope = format!("{day}/{region}/{service}/aws4_request");
    let sts = format!(
        "AWS4-HMAC-SHA256\n{amz}\n{scope}\n{}",
        hex::encode(Sha256::digest(cr.as_bytes()))
    );
    let k = hmac(b"AWS4testing", day);
    let k = hmac(&k, region);
    let k = hmac(&k, service);
    let k = hmac(&k, "aws4_request");
    let sig = hex::encode(hmac(&k, &sts));
    format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: {ct}\r\nX-Amz-Date: {amz}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=testing/{scope}, SignedHeaders=content-type;host;x-amz-date, Signature={sig}\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    )
    .into_bytes()
}

/// An RPC (HMAC-SHA1) signed IMM request with its parameters in a form body, the way a large
/// `File` travels (the legacy SDK and the Tea SDK's `v2` style).
pub fn aliyun_form(
    host: &str,
    id: &str,
    secret: &str,
    action: &str,
    params: &[(String, String)],
) -> Vec<u8> {
    let mut all: Vec<(String, String)> = params.to_vec();
    for (k, v) in [
        ("Action", action.to_string()),
        ("Version", "2020-09-30".to_string()),
        ("Format", "JSON".to_string()),
        ("SignatureMethod", "HMAC-SHA1".to_string()),
        ("SignatureVersion", "1.0".to_string()),
        ("AccessKeyId", id.to_string()),
        (
            "Timestamp",
            cloudtwin::clock::iso8601_utc(cloudtwin::clock::now_ms()),
        ),
        ("SignatureNonce", uuid::Uuid::new_v4().simple().to_string()),
    ] {
        all.push((k.into(), v));
    }
    let sts = acs::rpc_string_to_sign("POST", &all);
    all.push(("Signature".into(), acs::rpc_signature(secret, &sts)));
    let body: String = all
        .iter()
        .map(|(k, v)| format!("{}={}", acs::pct(k), acs::pct(v)))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
