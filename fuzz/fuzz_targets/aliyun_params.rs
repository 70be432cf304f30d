//! Alibaba Cloud RPC parameters: a form body or query string, decoded the way the server
//! decodes one, then read with every getter (JSON-text parameters included).
#![no_main]

use cloudtwin::dialect::aliyun::params::Params;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(data)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let names: Vec<String> = pairs.iter().map(|(k, _)| k.clone()).collect();
    let p = Params::new(pairs);
    for n in &names {
        let _ = p.opt_str(n);
        let _ = p.req_str(n);
        let _ = p.opt_i64(n);
        let _ = p.opt_bool(n);
        let _ = p.opt_json(n);
        let _ = p.req_object(n);
        let _ = p.opt_object(n);
        let _ = p.opt_str_array(n);
        let _ = p.opt_object_array(n);
    }
});
