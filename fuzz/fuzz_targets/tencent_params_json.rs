//! Tencent JSON bodies (TC3 POST): any bytes are a parameter object or `InvalidParameter`,
//! and every getter answers or refuses on whatever the object holds.
#![no_main]

use cloudtwin::dialect::tencent::params::Params;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = Params::from_json(data) {
        let names: Vec<String> = p.names().map(str::to_string).collect();
        let _ = p.reject_unknown(&["ImageId", "ImageIds", "Filters"]);
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
