//! The TC3 `Authorization` header parser (and the field list it shares with ACS3).
#![no_main]

use cloudtwin::dialect::{parse_auth_fields, tencent::sign::parse_tc3_authorization};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Header values reach the parser only as text (`HeaderValue::to_str`).
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_tc3_authorization(text);
        let _ = parse_tc3_authorization(&format!("TC3-HMAC-SHA256 {text}"));
        let _ = parse_auth_fields(text);
    }
});
