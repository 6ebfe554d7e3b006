//! Scenario text → parse, check keys, deserialize, validate, estimate.
//! Must never panic, whatever the bytes; errors must be one line.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match forklab::scenario::Scenario::from_yaml_str(text, "fuzz.yaml", &[]) {
        Ok(s) => {
            let e = s.estimate();
            let _ = e.check("fuzz.yaml", Some(1 << 30), false);
            let _ = s.summary();
            let _ = s.to_yaml();
        }
        Err(e) => assert!(!e.to_string().contains('\n'), "{e}"),
    }
});
