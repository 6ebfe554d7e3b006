//! `sim sweep` and `sim plot` end to end: determinism across worker counts,
//! the charts, redrawing from CSVs, failed grid points and bad arguments.
//!
//! Grids are tiny (a few runs of `scenarios/difficulty_classroom.yaml`
//! stopped at a low height) so the debug binary finishes in seconds.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SCENARIO: &str = "scenarios/difficulty_classroom.yaml";
const STEMS: [&str; 3] = ["stale_rate", "block_interval", "reorg_depths"];

fn sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the sim binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A fresh, empty scratch directory for one test.
fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("forklab-sweep-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

/// Runs a small sweep into `out` and asserts it succeeded.
fn small_sweep(out: &Path, jobs: &str, extra: &[&str]) -> Output {
    let out_s = out.to_str().unwrap();
    let mut args = vec![
        "sweep",
        SCENARIO,
        "--param",
        "consensus.difficulty_bits=10,12",
        "--seeds",
        "3",
        "--set",
        "stop.height=8",
        "--jobs",
        jobs,
        "--out",
        out_s,
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let o = sim(&args);
    assert!(
        o.status.success(),
        "sweep failed: {}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    o
}

fn read(p: &Path) -> Vec<u8> {
    fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn csv_rows(p: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(p).unwrap();
    let mut rows = vec![r.headers().unwrap().iter().map(String::from).collect()];
    for rec in r.records() {
        rows.push(rec.unwrap().iter().map(String::from).collect());
    }
    rows
}

fn col(rows: &[Vec<String>], name: &str) -> usize {
    rows[0]
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", rows[0]))
}

#[test]
fn output_does_not_depend_on_the_number_of_workers() {
    let base = scratch("jobs");
    let (one, two) = (base.join("one"), base.join("two"));
    small_sweep(&one, "1", &[]);
    small_sweep(&two, "2", &[]);
    for f in [
        "sweep.csv",
        "sweep_summary.csv",
        "sweep_manifest.json",
        "charts/stale_rate.svg",
        "charts/stale_rate.png",
    ] {
        assert!(
            read(&one.join(f)) == read(&two.join(f)),
            "{f} differs between --jobs 1 and --jobs 2"
        );
    }
    // The rows are in grid order and carry the documented seeds.
    let rows = csv_rows(&one.join("sweep.csv"));
    assert_eq!(rows.len(), 1 + 2 * 3);
    let (p, si, seed, st) = (
        col(&rows, "point"),
        col(&rows, "seed_index"),
        col(&rows, "seed"),
        col(&rows, "status"),
    );
    let bits = col(&rows, "consensus.difficulty_bits");
    for (i, row) in rows[1..].iter().enumerate() {
        assert_eq!(row[p], (i / 3).to_string());
        assert_eq!(row[si], (i % 3).to_string());
        assert_eq!(row[st], "ok");
        let label = format!("consensus.difficulty_bits={}", row[bits]);
        // base seed 2024 is the scenario's `seed`
        let want = forklab::sim::derive_seed(2024, &label, (i % 3) as u64);
        assert_eq!(row[seed], want.to_string(), "row {i}");
    }
    let summary = csv_rows(&one.join("sweep_summary.csv"));
    assert_eq!(summary.len(), 3);
    let n_ok = col(&summary, "n_ok");
    assert!(summary[1..].iter().all(|r| r[n_ok] == "3"));
    for name in [
        "stale_rate_ci95_low",
        "mean_block_interval_s_mean",
        "model_stale_rate",
    ] {
        let c = col(&summary, name);
        assert!(
            summary[1..].iter().all(|r| r[c].parse::<f64>().is_ok()),
            "{name}"
        );
    }
    let _ = fs::remove_dir_all(&base);
}

#[test]
fn base_seed_follows_set_seed() {
    let base = scratch("seed");
    small_sweep(&base.join("a"), "2", &["--set", "seed=5"]);
    let rows = csv_rows(&base.join("a/sweep.csv"));
    let seed = col(&rows, "seed");
    assert_eq!(
        rows[1][seed],
        forklab::sim::derive_seed(5, "consensus.difficulty_bits=10", 0).to_string()
    );
    let _ = fs::remove_dir_all(&base);
}

fn check_png(p: &Path) {
    let b = read(p);
    assert!(
        b.len() > 8_000,
        "{} looks blank ({} bytes)",
        p.display(),
        b.len()
    );
    assert_eq!(
        &b[..8],
        b"\x89PNG\r\n\x1a\n",
        "{}: PNG signature",
        p.display()
    );
    assert_eq!(&b[12..16], b"IHDR", "{}: IHDR first", p.display());
    let w = u32::from_be_bytes(b[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(b[20..24].try_into().unwrap());
    assert_eq!((w, h), (1280, 720), "{}", p.display());
}

fn check_svg(p: &Path) {
    let s = text(&read(p));
    assert!(
        s.len() > 5_000,
        "{} looks blank ({} bytes)",
        p.display(),
        s.len()
    );
    assert!(s.contains("<svg"), "{}: no <svg", p.display());
    assert!(
        s.trim_end().ends_with("</svg>"),
        "{}: unterminated",
        p.display()
    );
}

#[test]
fn charts_are_drawn_and_plot_redraws_them_identically() {
    let base = scratch("charts");
    let dir = base.join("sweep");
    small_sweep(&dir, "2", &[]);
    let charts = dir.join("charts");
    let mut before = Vec::new();
    for stem in STEMS {
        let (png, svg) = (
            charts.join(format!("{stem}.png")),
            charts.join(format!("{stem}.svg")),
        );
        check_png(&png);
        check_svg(&svg);
        before.push((png.clone(), read(&png)));
        before.push((svg.clone(), read(&svg)));
    }
    let stale_svg = text(&read(&charts.join("stale_rate.svg")));
    assert!(stale_svg.contains("model"), "stale_rate names the model");

    fs::remove_dir_all(&charts).unwrap();
    let o = sim(&["plot", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let printed = text(&o.stdout);
    assert_eq!(printed.lines().count(), 6, "{printed}");
    for (path, bytes) in before {
        assert!(
            printed.contains(path.to_str().unwrap()),
            "{} not printed",
            path.display()
        );
        assert!(
            read(&path) == bytes,
            "{} differs after sim plot",
            path.display()
        );
    }
    let _ = fs::remove_dir_all(&base);
}

#[test]
fn a_bad_grid_point_stops_the_sweep_before_any_run() {
    let base = scratch("fail");
    let out = base.join("sweep");
    let o = sim(&[
        "sweep",
        SCENARIO,
        "--param",
        "consensus.difficulty_bits=12,999",
        "--seeds",
        "2",
        "--set",
        "stop.height=5",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.contains("--param consensus.difficulty_bits=999"),
        "{err}"
    );
    assert!(err.contains("out of range"), "{err}");
    assert!(
        err.contains("grid point 1") && err.contains("nothing was run"),
        "{err}"
    );
    assert!(text(&o.stdout).is_empty());
    assert!(!out.exists(), "nothing written");
    let _ = fs::remove_dir_all(&base);
}

#[test]
fn the_first_bad_point_is_named() {
    let base = scratch("allfail");
    let o = sim(&[
        "sweep",
        SCENARIO,
        "--param",
        "consensus.difficulty_bits=0,999",
        "--seeds",
        "1",
        "--out",
        base.join("s").to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("--param consensus.difficulty_bits=0:"),
        "{err}"
    );
    assert!(err.contains("grid point 0"), "{err}");
    assert!(!base.join("s").exists());
    let _ = fs::remove_dir_all(&base);
}

#[test]
fn bad_arguments_exit_2_with_one_line() {
    for args in [
        vec!["sweep", SCENARIO, "--param", "consensus.difficulty_bits"],
        vec!["sweep", SCENARIO, "--param", "consensus..x=1,2"],
        vec![
            "sweep",
            SCENARIO,
            "--param",
            "consensus.difficulty_bits=12,,14",
        ],
        vec!["sweep", SCENARIO, "--param", "seed=1,2"],
        vec!["sweep", SCENARIO, "--param", "a=1", "--param", "a=2"],
        vec!["sweep", SCENARIO, "--seeds", "0"],
        vec!["sweep", SCENARIO, "--jobs", "0"],
        vec!["sweep", SCENARIO, "--set", "nodes.count=x"],
        vec!["sweep", "no/such/file.yaml"],
    ] {
        let o = sim(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o.stderr));
        let err = text(&o.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    }
}

#[test]
fn plot_refuses_a_directory_without_csvs() {
    let base = scratch("plot");
    let o = sim(&["plot", base.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("blocks.csv") && err.contains("sweep.csv"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1);
    let o = sim(&["plot", base.join("missing").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let _ = fs::remove_dir_all(&base);
}

#[test]
fn plot_redraws_a_run_directory() {
    let base = scratch("plotrun");
    let run = base.join("run");
    let o = sim(&[
        "run",
        "tests/scenarios/small.yaml",
        "--set",
        "stop.height=5",
        "--out",
        run.to_str().unwrap(),
        "--no-charts",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(!run.join("charts").exists());
    let o = sim(&["plot", run.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let printed = text(&o.stdout);
    assert!(printed.contains("fork_tree.png"), "{printed}");
    check_png(&run.join("charts/fork_tree.png"));
    let _ = fs::remove_dir_all(&base);
}

// ---- Sharded sweeps -------------------------------------------------------

/// The small sweep's arguments without `--out` and `--jobs`.
const SMALL: [&str; 7] = [
    SCENARIO,
    "--param",
    "consensus.difficulty_bits=10,12",
    "--seeds",
    "3",
    "--set",
    "stop.height=8",
];

/// Runs shard `k/n` of the small sweep into `out` (plus `extra`).
fn shard(out: &Path, spec: &str, extra: &[&str]) -> Output {
    let mut args = vec!["sweep"];
    args.extend_from_slice(&SMALL);
    args.extend_from_slice(&["--shard", spec, "--jobs", "1", "--quiet"]);
    args.extend_from_slice(&["--out", out.to_str().unwrap()]);
    args.extend_from_slice(extra);
    let o = sim(&args);
    assert!(o.status.success(), "shard {spec}: {}", text(&o.stderr));
    o
}

/// Every file under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, d: &Path, out: &mut Vec<PathBuf>) {
        for e in fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Asserts `a` and `b` hold the same files with the same bytes.
fn assert_same_tree(a: &Path, b: &Path) {
    let (ta, tb) = (tree(a), tree(b));
    assert_eq!(ta, tb, "file lists differ");
    assert!(ta.iter().any(|f| f.ends_with("stale_rate.png")), "{ta:?}");
    for f in &ta {
        assert!(
            read(&a.join(f)) == read(&b.join(f)),
            "{} differs between {} and {}",
            f.display(),
            a.display(),
            b.display()
        );
    }
}

fn merge(dirs: &[&Path], out: &Path) -> Output {
    let mut args = vec!["sweep".to_string(), "merge".into()];
    args.extend(dirs.iter().map(|d| d.to_str().unwrap().to_string()));
    args.extend([
        "--out".into(),
        out.to_str().unwrap().into(),
        "--quiet".into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    sim(&args)
}

#[test]
fn merged_shards_are_the_single_machine_sweep_byte_for_byte() {
    let base = scratch("shards");
    let single = base.join("single");
    small_sweep(&single, "2", &[]);
    // 6 runs over 4 shards: 2, 2, 1 and 1 runs (round robin).
    let dirs: Vec<PathBuf> = (1..=4).map(|k| base.join(format!("s{k}"))).collect();
    for (k, d) in dirs.iter().enumerate() {
        shard(d, &format!("{}/4", k + 1), &[]);
    }
    let held = |k: usize| {
        let m: serde_json::Value =
            serde_json::from_slice(&read(&dirs[k].join("shard_manifest.json"))).unwrap();
        assert_eq!(m["shard_index"], k + 1);
        assert_eq!(m["shard_count"], 4);
        assert_eq!(m["total_runs"], 6);
        assert_eq!(m["grid_points"].as_array().unwrap().len(), 2);
        m["runs"].clone()
    };
    assert_eq!(held(0), serde_json::json!([0, 4]));
    assert_eq!(held(1), serde_json::json!([1, 5]));
    assert_eq!(held(2), serde_json::json!([2]));
    assert_eq!(held(3), serde_json::json!([3]));
    // A shard run again replaces its earlier directory.
    shard(&dirs[0], "1/4", &[]);
    // Given in any order.
    let merged = base.join("merged");
    let o = merge(&[&dirs[2], &dirs[0], &dirs[3], &dirs[1]], &merged);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_same_tree(&single, &merged);
    // One shard of one is the whole sweep.
    shard(&base.join("all"), "1/1", &[]);
    let merged1 = base.join("merged1");
    let o = merge(&[&base.join("all")], &merged1);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_same_tree(&single, &merged1);
    let _ = fs::remove_dir_all(&base);
}

/// Asserts a merge fails with exit 2 and one stderr line holding every
/// `want`, and writes nothing.
fn merge_refused(dirs: &[&Path], out: &Path, want: &[&str]) {
    let o = merge(dirs, out);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    for w in want {
        assert!(err.contains(w), "{w:?} not in {err}");
    }
    assert!(!out.exists(), "nothing written for {err}");
}

#[test]
fn missing_duplicated_and_mismatched_shards_are_refused() {
    let base = scratch("badshards");
    let (s1, s2, s3) = (base.join("s1"), base.join("s2"), base.join("s3"));
    shard(&s1, "1/3", &[]);
    shard(&s2, "2/3", &[]);
    shard(&s3, "3/3", &[]);
    let out = base.join("merged");
    merge_refused(&[&s1, &s2], &out, &["missing shard 3/3;"]);
    merge_refused(&[&s1], &out, &["missing shards 2/3, 3/3;"]);
    merge_refused(
        &[&s1, &s2, &s3, &s2],
        &out,
        &["shard 2/3 is given twice", s2.to_str().unwrap()],
    );
    // Another sweep's shard: other seeds, other overrides, other shard count.
    let seeds = base.join("seeds");
    let mut args = vec![
        "sweep",
        SCENARIO,
        "--param",
        "consensus.difficulty_bits=10,12",
    ];
    args.extend_from_slice(&["--seeds", "4", "--set", "stop.height=8", "--quiet"]);
    args.extend_from_slice(&["--shard", "3/3", "--out", seeds.to_str().unwrap()]);
    assert!(sim(&args).status.success());
    merge_refused(
        &[&s1, &s2, &seeds],
        &out,
        &[seeds.to_str().unwrap(), "shard 3/3", "--seeds is 4, not 3"],
    );
    let sets = base.join("sets");
    shard(&sets, "3/3", &["--set", "nodes.count=9"]);
    merge_refused(&[&s1, &s2, &sets], &out, &["--set overrides"]);
    let four = base.join("four");
    shard(&four, "3/4", &[]);
    merge_refused(&[&s1, &s2, &four], &out, &["shard count is 4, not 3"]);
    // An edited scenario text, another version, a lost row, not a shard.
    let edited = base.join("edited");
    shard(&edited, "3/3", &[]);
    let yaml = edited.join("scenario.yaml");
    let mut text_yaml = read(&yaml);
    text_yaml.extend_from_slice(b"\n# edited\n");
    fs::write(&yaml, text_yaml).unwrap();
    merge_refused(&[&s1, &s2, &edited], &out, &["scenario.yaml", "SHA-256"]);
    let old = base.join("old");
    shard(&old, "3/3", &[]);
    let mpath = old.join("shard_manifest.json");
    let m = text(&read(&mpath)).replace("\"forklab_version\": \"", "\"forklab_version\": \"0.0.0-");
    fs::write(&mpath, m).unwrap();
    merge_refused(
        &[&s1, &s2, &old],
        &out,
        &["written by forklab 0.0.0-", "one version"],
    );
    let cut = base.join("cut");
    shard(&cut, "1/3", &[]);
    let rows = cut.join("shard_runs.csv");
    let csv_text = text(&read(&rows));
    let kept: Vec<&str> = csv_text.lines().take(2).collect();
    fs::write(&rows, kept.join("\n") + "\n").unwrap();
    merge_refused(
        &[&cut, &s2, &s3],
        &out,
        &["shard_runs.csv", "1 rows", "2 runs"],
    );
    merge_refused(
        &[&s1, &s2, &base.join("nope")],
        &out,
        &["not a sweep shard"],
    );
    merge_refused(
        &[&s1, &s2, &single_file(&base)],
        &out,
        &["not a sweep shard"],
    );
    // The merge may not replace one of its own shards.
    let o = merge(&[&s1, &s2, &s3], &s3);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("is the shard directory"));
    assert!(s3.join("shard_manifest.json").exists());
    assert!(!s3.join("sweep.csv").exists());
    let _ = fs::remove_dir_all(&base);
}

/// A plain file inside `base` (not a directory).
fn single_file(base: &Path) -> PathBuf {
    let f = base.join("plain.txt");
    fs::write(&f, "x").unwrap();
    f
}

#[test]
fn bad_shard_arguments_exit_2_with_one_line() {
    let base = scratch("shardargs");
    let out = base.join("s");
    for (spec, want) in [
        ("0/4", "counts from 1"),
        ("5/4", "counts from 1"),
        ("1/0", "at least 1"),
        ("x", "expected K/N"),
        ("1/7", "only 6 run"),
    ] {
        let mut args = vec!["sweep"];
        args.extend_from_slice(&SMALL);
        args.extend_from_slice(&["--shard", spec, "--out", out.to_str().unwrap()]);
        let o = sim(&args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{spec}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{spec}: {err}");
        assert!(
            err.contains(want) && err.contains("--shard"),
            "{spec}: {err}"
        );
        assert!(!out.exists());
    }
    for args in [
        vec!["sweep", SCENARIO, "--shards", "2"],
        vec!["sweep", SCENARIO, "--slurm"],
        vec![
            "sweep", SCENARIO, "--slurm", "--shards", "2", "--shard", "1/2",
        ],
        vec!["sweep", "merge"],
        vec![
            "sweep",
            SCENARIO,
            "--param",
            "consensus.difficulty_bits=10,12",
            "--seeds",
            "3",
            "--slurm",
            "--shards",
            "7",
        ],
        vec!["sweep", SCENARIO, "--slurm", "--shards", "0"],
    ] {
        let o = sim(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o.stderr));
    }
    let _ = fs::remove_dir_all(&base);
}

/// The generated Slurm script, driven without Slurm: each array task run
/// by hand with `SLURM_ARRAY_TASK_ID`, then its merge step (the real
/// scheduler is exercised by `.ci/slurm_test.sh`).
#[test]
fn the_slurm_script_runs_every_shard_and_merges_them() {
    let base = scratch("slurm");
    let out = base.join("sweep");
    let mut args = vec!["sweep"];
    args.extend_from_slice(&SMALL);
    args.extend_from_slice(&["--out", out.to_str().unwrap(), "--slurm", "--shards", "3"]);
    args.extend_from_slice(&["--sbatch=--partition=short"]);
    let o = sim(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let printed = text(&o.stdout);
    let script = base.join("sweep-slurm/sweep.sbatch");
    assert!(
        printed.contains(&format!("bash {}", script.display())),
        "{printed}"
    );
    assert!(!out.exists(), "--slurm runs nothing");
    let body = text(&read(&script));
    for want in [
        "#SBATCH --array=1-3",
        "#SBATCH --partition=short",
        "--dependency=afterok",
        "sweep merge",
    ] {
        assert!(body.contains(want), "{want} not in\n{body}");
    }
    for k in 1..=3 {
        let o = Command::new("bash")
            .arg(&script)
            .env("SLURM_ARRAY_TASK_ID", k.to_string())
            .env("FORKLAB_SIM", env!("CARGO_BIN_EXE_sim"))
            .output()
            .unwrap();
        assert!(o.status.success(), "task {k}: {}", text(&o.stderr));
        assert!(base
            .join(format!("sweep-slurm/shard-{k}-of-3/shard_manifest.json"))
            .exists());
    }
    let o = Command::new("bash")
        .arg(&script)
        .arg("merge")
        .env("FORKLAB_SIM", env!("CARGO_BIN_EXE_sim"))
        .output()
        .unwrap();
    assert!(o.status.success(), "merge: {}", text(&o.stderr));
    let single = base.join("single");
    small_sweep(&single, "1", &[]);
    assert_same_tree(&single, &out);
    // Written again over its own script; never over someone else's file.
    assert!(sim(&args).status.success());
    fs::write(&script, "#!/bin/bash\necho mine\n").unwrap();
    let o = sim(&args);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("not written by sim sweep --slurm"));
    let _ = fs::remove_dir_all(&base);
}
