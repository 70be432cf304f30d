//! The ACS3 `Authorization` header parser (Alibaba Cloud V3 signatures).
#![no_main]

use cloudtwin::dialect::aliyun::sign::parse_acs3_authorization;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Header values reach the parser only as text (`HeaderValue::to_str`).
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_acs3_authorization(text);
        let _ = parse_acs3_authorization(&format!("ACS3-HMAC-SHA256 {text}"));
    }
});
