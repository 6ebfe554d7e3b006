//! Integration tests of `forklab::report`: charts drawn from small synthetic
//! CSV files in a temporary directory.

use std::fs;
use std::path::{Path, PathBuf};

use forklab::report::rows::*;
use forklab::report::style::SIZE;
use forklab::report::{self, plot_run, ReportError};
use plotters::prelude::*;
use serde::Serialize;

/// A temporary directory removed on drop (kept for inspection when the
/// environment variable `FORKLAB_KEEP_CHARTS` is set).
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("forklab-report-{}-{}", std::process::id(), name));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("FORKLAB_KEEP_CHARTS").is_some() {
            eprintln!("kept {}", self.0.display());
            return;
        }
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn write_csv<T: Serialize>(dir: &Path, name: &str, rows: &[T]) {
    let mut w = csv::Writer::from_path(dir.join(name)).expect("create csv");
    for r in rows {
        w.serialize(r).expect("write row");
    }
    w.flush().expect("flush csv");
}

fn h(n: u32) -> String {
    format!("{n:064x}")
}

/// A main chain 0..=12 mined by nodes 0..3, plus stale blocks at heights 4,
/// 8 and 9 (a two-block branch).
fn blocks() -> Vec<BlockRow> {
    let mut out = vec![BlockRow {
        hash: h(0),
        parent: "0".repeat(64),
        height: 0,
        miner: NO_MINER,
        time_s: 0.0,
        txs: 1,
        size_bytes: 285,
        main_chain: 1,
    }];
    for i in 1..=12u32 {
        out.push(BlockRow {
            hash: h(i),
            parent: h(i - 1),
            height: i,
            miner: i64::from(i % 3),
            time_s: f64::from(i) * 600.0,
            txs: 1 + i,
            size_bytes: 300 + 250 * u64::from(i),
            main_chain: 1,
        });
    }
    let stale = [
        (100, 3, 4, 2450.0),
        (101, 7, 8, 4810.0),
        (102, 101, 9, 5420.0),
    ];
    for (hash, parent, height, t) in stale {
        out.push(BlockRow {
            hash: h(hash),
            parent: h(parent),
            height,
            miner: 3,
            time_s: t,
            txs: 1,
            size_bytes: 285,
            main_chain: 0,
        });
    }
    out
}

fn tips(nodes: u32) -> Vec<TipRow> {
    let mut out = Vec::new();
    for node in 0..nodes {
        let lag = f64::from(node % 7) * 0.4;
        for b in blocks().iter().filter(|b| b.is_main() || node % 2 == 1) {
            out.push(TipRow {
                node,
                time_s: b.time_s + lag,
                tip: b.hash.clone(),
                height: b.height,
            });
        }
    }
    out
}

fn propagation() -> Vec<PropagationRow> {
    (1..=12u32)
        .map(|i| {
            let base = 80.0 + 15.0 * f64::from(i % 5);
            let p = |k: u32| {
                if i == 7 && k == 10 {
                    None
                } else {
                    Some(base * f64::from(k).sqrt() * 2.0)
                }
            };
            PropagationRow {
                hash: h(i),
                height: i,
                miner: i64::from(i % 3),
                nodes: 20,
                reached: if i == 7 { 19 } else { 20 },
                p10_ms: p(1),
                p20_ms: p(2),
                p30_ms: p(3),
                p40_ms: p(4),
                p50_ms: p(5),
                p60_ms: p(6),
                p70_ms: p(7),
                p80_ms: p(8),
                p90_ms: p(9),
                p100_ms: p(10),
            }
        })
        .collect()
}

fn balances() -> Vec<BalanceRow> {
    let mut out = Vec::new();
    for step in 0..=12u32 {
        for wallet in 0..3u32 {
            out.push(BalanceRow {
                time_s: f64::from(step) * 600.0,
                wallet,
                address: format!("1Wallet{wallet}"),
                confirmed_sats: u64::from(step) * 50_000_000 * u64::from(wallet + 1),
            });
        }
    }
    out
}

fn reorgs() -> Vec<ReorgRow> {
    [(1, 1), (2, 1), (5, 2), (6, 1)]
        .into_iter()
        .map(|(node, depth)| ReorgRow {
            node,
            time_s: 3000.0 + f64::from(node),
            depth,
            old_tip: h(100),
            new_tip: h(5),
            old_height: 4,
            new_height: 5,
        })
        .collect()
}

fn write_full_run(dir: &Path, tip_nodes: u32) {
    write_csv(dir, BLOCKS_CSV, &blocks());
    write_csv(dir, TIPS_CSV, &tips(tip_nodes));
    write_csv(dir, PROPAGATION_CSV, &propagation());
    write_csv(dir, BALANCES_CSV, &balances());
    write_csv(dir, REORGS_CSV, &reorgs());
}

const STEMS: [&str; 5] = [
    "balances",
    "fork_tree",
    "propagation_cdf",
    "reorg_depths",
    "tip_timeline",
];

fn check_png(path: &Path) {
    let bytes = fs::read(path).expect("read png");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
    assert_eq!(&bytes[12..16], b"IHDR");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), SIZE);
    assert!(
        bytes.len() > 8_000,
        "{} only {} bytes",
        path.display(),
        bytes.len()
    );
}

fn check_svg(path: &Path, title: &str) -> String {
    let doc = fs::read_to_string(path).expect("read svg");
    assert!(doc.starts_with("<svg"), "{}", path.display());
    assert!(doc.trim_end().ends_with("</svg>"));
    assert!(
        doc.contains(title),
        "{} lacks title {title:?}",
        path.display()
    );
    let shapes: usize = [
        "<path",
        "<line",
        "<circle",
        "<polyline",
        "<polygon",
        "<rect",
    ]
    .iter()
    .map(|tag| doc.matches(tag).count())
    .sum();
    assert!(shapes >= 10, "{} has only {shapes} shapes", path.display());
    assert!(doc.matches("<text").count() >= 5);
    doc
}

#[test]
fn plot_run_writes_every_chart_as_png_and_svg() {
    let tmp = TempDir::new("full");
    write_full_run(&tmp.0, 6);
    let files = plot_run(&tmp.0).expect("plot");
    let mut expected: Vec<PathBuf> = STEMS
        .iter()
        .flat_map(|s| ["png", "svg"].map(|ext| tmp.0.join("charts").join(format!("{s}.{ext}"))))
        .collect();
    expected.sort();
    assert_eq!(files, expected);

    let titles = [
        ("balances", "Confirmed wallet balances"),
        ("fork_tree", "Block tree: 16 blocks, 3 stale"),
        ("propagation_cdf", "Block propagation"),
        ("reorg_depths", "Reorg depths: 4 reorgs at 4 nodes"),
        ("tip_timeline", "Tip of each node"),
    ];
    for (stem, title) in titles {
        check_png(&tmp.0.join("charts").join(format!("{stem}.png")));
        let svg = check_svg(&tmp.0.join("charts").join(format!("{stem}.svg")), title);
        match stem {
            "fork_tree" => {
                for label in [
                    "simulated time (s)",
                    "height",
                    "node 0",
                    "node 2",
                    "stale (3)",
                ] {
                    assert!(svg.contains(label), "fork_tree lacks {label:?}");
                }
            }
            "balances" => assert!(svg.contains("wallet 2") && svg.contains("(BTC)")),
            "propagation_cdf" => assert!(svg.contains("(ms)") && svg.contains("median of")),
            _ => {}
        }
    }
}

#[test]
fn plotting_twice_gives_identical_bytes() {
    let a = TempDir::new("det-a");
    let b = TempDir::new("det-b");
    write_full_run(&a.0, 6);
    write_full_run(&b.0, 6);
    let first = plot_run(&a.0).expect("plot a");
    let snapshot: Vec<Vec<u8>> = first.iter().map(|p| fs::read(p).unwrap()).collect();
    // Again in the same directory, and in a fresh one.
    let again = plot_run(&a.0).expect("plot a again");
    let other = plot_run(&b.0).expect("plot b");
    assert_eq!(first, again);
    for ((p, old), q) in first.iter().zip(&snapshot).zip(&other) {
        assert!(&fs::read(p).unwrap() == old, "{} changed", p.display());
        assert!(&fs::read(q).unwrap() == old, "{} differs", q.display());
    }
}

#[test]
fn bitmaps_are_not_blank() {
    report::font::ensure_registered().unwrap();
    let (w, h) = SIZE;
    let tips = tips(6);
    type Draw = Box<dyn Fn(&DrawingArea<BitMapBackend, plotters::coord::Shift>)>;
    let draws: Vec<(&str, Draw)> = vec![
        (
            "fork_tree",
            Box::new(|a| report::draw_fork_tree(a, &blocks()).unwrap()),
        ),
        (
            "tip_timeline",
            Box::new(move |a| report::draw_tip_timeline(a, &tips, &blocks()).unwrap()),
        ),
        (
            "propagation_cdf",
            Box::new(|a| report::draw_propagation_cdf(a, &propagation()).unwrap()),
        ),
        (
            "balances",
            Box::new(|a| report::draw_balances(a, &balances()).unwrap()),
        ),
        (
            "reorg_depths",
            Box::new(|a| report::draw_reorg_depths(a, &reorgs()).unwrap()),
        ),
    ];
    for (name, draw) in draws {
        let mut buf = vec![0u8; (w * h * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut buf, SIZE).into_drawing_area();
            draw(&root);
            root.present().unwrap();
        }
        let inked = buf
            .chunks_exact(3)
            .filter(|px| *px != [255, 255, 255])
            .count();
        // Text, axes and data: well over 1% of the canvas, far from all of it.
        assert!(inked > 10_000, "{name}: only {inked} non-white pixels");
        assert!(
            inked < (w * h / 2) as usize,
            "{name}: {inked} non-white pixels"
        );
    }
}

#[test]
fn optional_csvs_are_skipped() {
    let tmp = TempDir::new("blocks-only");
    write_csv(&tmp.0, BLOCKS_CSV, &blocks());
    let files = plot_run(&tmp.0).expect("plot");
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["fork_tree.png", "fork_tree.svg"]);
}

#[test]
fn missing_blocks_csv_is_an_error() {
    let tmp = TempDir::new("empty");
    let err = plot_run(&tmp.0).unwrap_err();
    assert!(matches!(err, ReportError::Missing { .. }), "{err}");
    assert!(err.to_string().contains("blocks.csv"), "{err}");
}

#[test]
fn malformed_csv_names_file_and_line() {
    let tmp = TempDir::new("malformed");
    write_csv(&tmp.0, BLOCKS_CSV, &blocks());
    let text = fs::read_to_string(tmp.0.join(BLOCKS_CSV)).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    // Line 3 (header is line 1): a height that is not a number.
    lines[2] = lines[2].replacen(",2,", ",two,", 1);
    fs::write(tmp.0.join(BLOCKS_CSV), lines.join("\n") + "\n").unwrap();
    let err = plot_run(&tmp.0).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, ReportError::Csv { line: Some(3), .. }),
        "{msg}"
    );
    assert!(msg.contains("blocks.csv line 3"), "{msg}");

    // A value out of range is reported the same way.
    write_csv(&tmp.0, BLOCKS_CSV, &blocks());
    fs::write(
        tmp.0.join(BALANCES_CSV),
        "time_s,wallet,address,confirmed_sats\n0,1,1A,5\n-3,1,1A,5\n",
    )
    .unwrap();
    let msg = plot_run(&tmp.0).unwrap_err().to_string();
    assert!(
        msg.contains("balances.csv line 3") && msg.contains("time_s"),
        "{msg}"
    );
}

#[test]
fn no_reorgs_still_gets_a_chart() {
    let tmp = TempDir::new("no-reorgs");
    write_csv(&tmp.0, BLOCKS_CSV, &blocks());
    fs::write(
        tmp.0.join(REORGS_CSV),
        "node,time_s,depth,old_tip,new_tip,old_height,new_height\n",
    )
    .unwrap();
    let files = plot_run(&tmp.0).expect("plot");
    assert_eq!(files.len(), 4);
    check_png(&tmp.0.join("charts/reorg_depths.png"));
    let svg = fs::read_to_string(tmp.0.join("charts/reorg_depths.svg")).unwrap();
    assert!(svg.contains("no reorgs"));
}

#[test]
fn many_nodes_get_a_summary_in_the_tip_timeline() {
    let tmp = TempDir::new("many-nodes");
    write_csv(&tmp.0, BLOCKS_CSV, &blocks());
    write_csv(&tmp.0, TIPS_CSV, &tips(200));
    plot_run(&tmp.0).expect("plot");
    let svg = fs::read_to_string(tmp.0.join("charts/tip_timeline.svg")).unwrap();
    // Not 200 rows: the share of all nodes up to date, behind or stale.
    for label in [
        "Tips of all 200 nodes",
        "share of nodes (%)",
        "up to date:",
        "on a stale",
    ] {
        assert!(svg.contains(label), "summary lacks {label:?}");
    }
    // The sampled loader (small runs' rows) keeps the first and last node.
    let (rows, total) = report::load_tips_sampled(&tmp.0, 50).unwrap();
    assert_eq!(total, 200);
    assert!(rows.iter().any(|r| r.node == 199));
    let shown: std::collections::BTreeSet<u32> = rows.iter().map(|r| r.node).collect();
    assert_eq!(shown.len(), 50);
}

/// Manual tool: `FORKLAB_PLOT_DIR=output/run cargo test --test report_charts
/// -- --ignored plot_dir_from_env` draws the charts of an existing run.
#[test]
#[ignore]
fn plot_dir_from_env() {
    let dir = std::env::var_os("FORKLAB_PLOT_DIR").expect("set FORKLAB_PLOT_DIR");
    for f in plot_run(Path::new(&dir)).expect("plot") {
        println!("{}", f.display());
    }
}

#[test]
fn two_runs_propagation_cdfs_overlay_on_one_chart() {
    let tmp = TempDir::new("compare");
    let fast = propagation();
    let slow: Vec<PropagationRow> = propagation()
        .into_iter()
        .map(|mut r| {
            for p in [
                &mut r.p10_ms,
                &mut r.p20_ms,
                &mut r.p30_ms,
                &mut r.p40_ms,
                &mut r.p50_ms,
                &mut r.p60_ms,
                &mut r.p70_ms,
                &mut r.p80_ms,
                &mut r.p90_ms,
                &mut r.p100_ms,
            ] {
                *p = p.map(|t| t * 3.0);
            }
            r
        })
        .collect();
    let files = report::propagation_compare([("compact", &fast), ("whole_blocks", &slow)], &tmp.0)
        .expect("plot");
    assert_eq!(files.len(), 2);
    check_png(&tmp.0.join("propagation_compare.png"));
    let doc = check_svg(
        &tmp.0.join("propagation_compare.svg"),
        "Block propagation: two runs",
    );
    assert!(doc.contains("compact:") && doc.contains("whole_blocks:"));
}
