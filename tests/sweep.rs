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
