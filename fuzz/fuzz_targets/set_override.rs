//! `--set key=value` arguments (split on NUL) applied to a small valid
//! scenario, then validated. Must never panic; errors are one line.
#![no_main]
use libfuzzer_sys::fuzz_target;

const BASE: &str = "name: f\nstop: { height: 3 }\nnodes: { count: 3 }\nworkload: { wallets: 2 }\n";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let sets: Vec<String> = text.split('\0').take(8).map(str::to_string).collect();
    match forklab::scenario::Scenario::from_yaml_str(BASE, "base.yaml", &sets) {
        Ok(s) => {
            let _ = s.estimate().check("base.yaml", Some(1 << 30), false);
        }
        Err(e) => assert!(!e.to_string().contains('\n'), "{e}"),
    }
});
