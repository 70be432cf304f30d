//! Tencent flattened form parameters: the input is a form body (`A.0.B=v&...`), decoded the way
//! the server decodes one, then rebuilt into a parameter object and read with every getter.
#![no_main]

use cloudtwin::dialect::tencent::params::Params;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(data)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if let Ok(p) = Params::from_pairs(&pairs) {
        let names: Vec<String> = p.names().map(str::to_string).collect();
        for n in &names {
            let _ = p.opt_str(n);
            let _ = p.opt_u64(n);
            let _ = p.opt_bool(n);
            let _ = p.opt_str_list(n);
            let _ = p.opt_filters(n);
            let _ = p.opt_tag_specs(n);
            let _ = p.opt_objects(n, &["Key", "Value", "Name", "Values"]);
        }
    }
});
