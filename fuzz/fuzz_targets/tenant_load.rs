#![no_main]
//! Tenant profiles and EHR snapshots: parsing never panics, errors render, and a
//! profile that loads judges scopes without panicking.

use libfuzzer_sys::fuzz_target;
use scopegate_core::grant::Options;
use scopegate_core::scope::Scope;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    if which % 2 == 0 {
        match scopegate_core::tenant::from_bytes(".scopegate/tenants/t.yaml", rest) {
            Ok(p) => {
                for t in ["patient/*.cruds", "user/Observation.rs?category=a", "offline_access"] {
                    let s = Scope::parse(t).expect("a valid scope");
                    let _ = p.judge(&s, Options::default());
                    let _ = p.sensitive_in(&s);
                }
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    } else if let Err(e) = scopegate_core::tenant::ehr_from_bytes("ehr.json", rest) {
        let _ = e.to_string();
    }
});
