//! The event-stream golden: the digest and event count of every shipped
//! scenario (and the test scenarios) at two seeds, shortened to at most
//! [`MAX_EVENTS`] events, plus a few variants that exercise paths the
//! shipped files leave off (flooded payments, message relay under load).
//!
//! Any change to what happens in a run, however small, changes a digest and
//! fails this test. A deliberate change of the event stream regenerates the
//! golden file in its own commit with the reason:
//!
//! ```text
//! FORKLAB_BLESS=1 cargo test --profile test-release --test golden_digests
//! ```

use std::fmt::Write as _;
use std::path::Path;

use forklab::scenario::Scenario;
use forklab::world::{Config, World};

/// Longest run kept per case (the shipped classroom runs are shorter).
const MAX_EVENTS: u64 = 60_000;
const SEEDS: [u64; 2] = [1, 2];
const GOLDEN: &str = "tests/golden/digests.txt";

/// Extra cases: scenario file and overrides.
const VARIANTS: &[(&str, &[&str])] = &[
    // Whole-block relay: the event stream of the versions before BIP152.
    (
        "scenarios/three_nodes.yaml",
        &["network.relay.compact=false"],
    ),
    (
        "scenarios/partition_heal.yaml",
        &["network.relay.compact=false"],
    ),
    // Compact relay with high-bandwidth peers and streaming uplinks on
    // padded blocks.
    (
        "scenarios/simblock_compare.yaml",
        &[
            "nodes.count=200",
            "network.relay.high_bandwidth_peers=3",
            "network.uplink=streaming",
        ],
    ),
    (
        "scenarios/three_nodes.yaml",
        &["workload.relay=flood", "workload.payments_per_s=2"],
    ),
    (
        "scenarios/simblock_compare.yaml",
        &[
            "nodes.count=200",
            "workload.wallets=40",
            "workload.payments_per_s=1",
        ],
    ),
    (
        "scenarios/simblock_compare.yaml",
        &[
            "nodes.count=200",
            "workload.wallets=40",
            "workload.payments_per_s=1",
            "workload.relay=flood",
        ],
    ),
];

fn case(file: &str, sets: &[&str], seed: u64) -> String {
    let mut sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    sets.push(format!("seed={seed}"));
    sets.push(format!("stop.events={MAX_EVENTS}"));
    let scenario =
        Scenario::load(Path::new(file), &sets).unwrap_or_else(|e| panic!("{file} {sets:?}: {e}"));
    let config = Config::from_scenario(&scenario).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut world = World::new(config);
    world.run();
    let events = world.events();
    let digest = world.digest().hex();
    let _ = world.finish();
    let extra = if sets.len() > 2 {
        format!(" {}", sets[..sets.len() - 2].join(" "))
    } else {
        String::new()
    };
    format!("{file}{extra} seed={seed} events={events} digest={digest}")
}

/// The scale benchmarks (100,000 and 1,000,000 nodes, BENCHMARKS.md) are
/// not run in CI: building their worlds alone takes gigabytes. Their
/// network is `simblock_compare.yaml`'s, whose digests are checked.
fn is_scale_benchmark(p: &std::path::Path) -> bool {
    p.file_name()
        .is_some_and(|n| n == "simblock_compare_100k.yaml" || n == "simblock_compare_1m.yaml")
}

fn scenario_files() -> Vec<String> {
    let mut files = Vec::new();
    for dir in ["scenarios", "tests/scenarios"] {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "yaml") && !is_scale_benchmark(&p) {
                files.push(p.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn event_digests_match_the_golden() {
    let mut got = String::new();
    for file in scenario_files() {
        for seed in SEEDS {
            writeln!(got, "{}", case(&file, &[], seed)).unwrap();
        }
    }
    for (file, sets) in VARIANTS {
        for seed in SEEDS {
            writeln!(got, "{}", case(file, sets, seed)).unwrap();
        }
    }
    if std::env::var_os("FORKLAB_BLESS").is_some() {
        std::fs::write(GOLDEN, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(GOLDEN).expect("tests/golden/digests.txt exists");
    let diff: Vec<String> = want
        .lines()
        .zip(got.lines())
        .filter(|(w, g)| w != g)
        .map(|(w, g)| format!("  want {w}\n  got  {g}"))
        .collect();
    assert!(
        diff.is_empty() && want.lines().count() == got.lines().count(),
        "the event stream changed ({} of {} cases differ; {} golden lines, {} now):\n{}\n\
         if the change is deliberate, rerun with FORKLAB_BLESS=1 and commit the golden \
         on its own with the reason",
        diff.len(),
        got.lines().count(),
        want.lines().count(),
        got.lines().count(),
        diff.join("\n")
    );
}
