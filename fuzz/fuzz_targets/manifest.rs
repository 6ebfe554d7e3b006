//! Run-manifest text → parse (JSON, fields, the embedded scenario with
//! positions in the manifest); must never panic; errors are one line.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match forklab::replay::parse_manifest(text, "manifest.json") {
        Ok(r) => {
            let _ = r.self_consistent();
            let _ = forklab::replay::first_difference(&r.value, &r.value);
        }
        Err(e) => assert!(!e.to_string().contains('\n'), "{e}"),
    }
});
