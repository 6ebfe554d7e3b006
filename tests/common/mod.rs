//! Helpers shared by the integration tests that run the `sim` binary.
#![allow(dead_code)] // each test file uses a different subset

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod claims;
pub mod lab;

/// Runs `sim` with `args` and returns its output.
pub fn sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .output()
        .expect("the sim binary runs")
}

/// A fresh, empty directory under the target dir: `<group>/<name>`.
pub fn scratch(group: &str, name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(group)
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `sim run <scenario> --quiet --out <out> <extra>` and asserts success.
pub fn run_to(scenario: &str, out: &Path, extra: &[&str]) {
    let mut args = vec!["run", scenario, "--quiet", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = sim(&args);
    assert!(
        o.status.success(),
        "sim {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The rows of a CSV file as maps column → value.
pub fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// `summary.csv` of a run directory as metric → value.
pub fn summary(dir: &Path) -> BTreeMap<String, String> {
    rows(&dir.join("summary.csv"))
        .into_iter()
        .map(|r| (r["metric"].clone(), r["value"].clone()))
        .collect()
}

/// Every file of a run directory, relative path → bytes.
pub fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    out
}
