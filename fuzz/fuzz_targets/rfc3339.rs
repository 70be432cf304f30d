//! The RFC 3339 parser: `x-acs-date`, the RPC `Timestamp` and IMM time filters reach it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = cloudtwin::clock::parse_rfc3339_ms(text);
    }
});
