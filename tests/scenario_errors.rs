//! Every malformed scenario in `tests/scenarios_bad/` is rejected with a
//! one-line error that names the file (and line) and says what is wrong;
//! every scenario in `scenarios/` loads and validates.
//!
//! Each bad file starts with comment headers:
//! - `# expect: <substring>` (required): the error's `Display` contains it;
//! - `# line: <n>` (optional): the error starts with `<file>:<n>:`;
//! - `# set: <key=value>` (optional, repeatable): `--set` overrides to apply,
//!   in which case the error starts with `--set `.

use std::path::{Path, PathBuf};

use forklab::scenario::Scenario;

fn yaml_files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn bad_scenarios_are_rejected_with_located_one_line_errors() {
    let files = yaml_files("tests/scenarios_bad");
    assert!(files.len() >= 15, "only {} bad scenarios", files.len());
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable test file");
        let header = |name: &str| -> Vec<String> {
            text.lines()
                .take_while(|l| l.starts_with('#'))
                .filter_map(|l| l.strip_prefix(&format!("# {name}: ")))
                .map(str::to_string)
                .collect()
        };
        let expect = header("expect");
        assert_eq!(
            expect.len(),
            1,
            "{}: needs one `# expect:` line",
            path.display()
        );
        let sets = header("set");
        let line = header("line");
        let name = path.display().to_string();
        let err = match Scenario::load(path, &sets) {
            Ok(_) => {
                failures.push(format!("{name}: accepted"));
                continue;
            }
            Err(e) => e.to_string(),
        };
        let mut problems = Vec::new();
        if !err.contains(&expect[0]) {
            problems.push(format!("does not contain {:?}", expect[0]));
        }
        if err.contains('\n') {
            problems.push("is not one line".to_string());
        }
        if sets.is_empty() {
            if !err.starts_with(&name) {
                problems.push("does not start with the file name".to_string());
            }
            if let Some(n) = line.first() {
                if !err.starts_with(&format!("{name}:{n}:")) {
                    problems.push(format!("does not name line {n}"));
                }
            }
        } else if !err.starts_with("--set ") {
            problems.push("does not name the --set override".to_string());
        }
        if !problems.is_empty() {
            failures.push(format!("{name}: error {:?} {}", err, problems.join(", ")));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn shipped_scenarios_load_and_validate() {
    let files = yaml_files("scenarios");
    assert!(!files.is_empty());
    for path in &files {
        let s = Scenario::load(path, &[]).unwrap_or_else(|e| panic!("{e}"));
        let stem = path.file_stem().unwrap().to_str().unwrap();
        assert_eq!(
            s.name,
            stem,
            "{}: name should match the file name",
            path.display()
        );
        assert!(!s.summary().is_empty());
        // The resolved scenario (as written to the manifest) loads back equal.
        let again = Scenario::from_yaml_str(&s.to_yaml(), "manifest", &[])
            .unwrap_or_else(|e| panic!("{}: resolved form: {e}", path.display()));
        assert_eq!(again, s, "{}", path.display());
    }
}

#[test]
fn three_nodes_is_a_ten_second_teaching_network() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/three_nodes.yaml");
    let s = Scenario::load(&path, &[]).unwrap();
    assert_eq!(s.node_count(), 3);
    assert!(s.grind_enabled(), "2^16 hashes per block should be ground");
    let interval = s.expected_block_interval().as_secs_f64();
    assert!((interval - 10.0).abs() < 0.01, "{interval}");
    assert_eq!(s.stop.height, Some(100));
}

#[test]
fn simblock_compare_matches_simblock_defaults() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/simblock_compare.yaml");
    let s = Scenario::load(&path, &[]).unwrap();
    assert_eq!(s.node_count(), 1000);
    assert_eq!(s.network.regions.len(), 6);
    assert!(!s.grind_enabled());
    assert_eq!(s.to_params().pow_target_spacing_secs, 600);
    assert_eq!(s.consensus.block_fill_bytes, 535_000);
    let big = Scenario::load(&path, &["nodes.count=10000".to_string()]).unwrap();
    assert_eq!(big.node_count(), 10_000);
}
