//! Integration tests that run the `sim` binary as a user would.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{files, run_to, sim, summary};

/// A fresh, empty directory for one test.
fn scratch(name: &str) -> PathBuf {
    common::scratch("sim_run", name)
}

/// The records of a CSV file (header skipped), as strings by position.
fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn golden_same_seed_identical_other_seed_differs() {
    let base = scratch("golden");
    let (a, b, c) = (base.join("a"), base.join("b"), base.join("c"));
    run_to("tests/scenarios/small.yaml", &a, &[]);
    run_to("tests/scenarios/small.yaml", &b, &[]);
    run_to("tests/scenarios/small.yaml", &c, &["--seed", "8"]);
    let (fa, fb, fc) = (files(&a), files(&b), files(&c));
    assert!(fa.contains_key("manifest.json") && fa.contains_key("blocks.csv"));
    assert_eq!(
        fa.keys().collect::<Vec<_>>(),
        fb.keys().collect::<Vec<_>>(),
        "same file set (seed 7)"
    );
    for (name, bytes) in &fa {
        assert!(
            fb[name] == *bytes,
            "{name} differs between two runs with seed 7: rerun `sim run tests/scenarios/small.yaml --seed 7`"
        );
    }
    assert_ne!(
        fa["blocks.csv"], fc["blocks.csv"],
        "seed 8 must give another run"
    );
    assert_ne!(fa["manifest.json"], fc["manifest.json"]);
}

#[test]
fn run_converges_and_conserves_value() {
    let dir = scratch("converge").join("run");
    run_to("tests/scenarios/small.yaml", &dir, &[]);
    let s = summary(&dir);
    assert_eq!(
        s["converged"], "1",
        "all online nodes share the tip after settling"
    );
    assert_eq!(s["main_chain_height"], "30");
    assert_eq!(
        s["utxo_total_sats"], s["issued_sats"],
        "sum of UTXO values on the main chain equals genesis endowment + subsidies (fees move value, they don't create it)"
    );
    assert!(
        s["txs_confirmed"].parse::<u64>().unwrap() > 0,
        "payments got confirmed"
    );
    // Every block row is well formed and the main chain is contiguous.
    let blocks = csv_rows(&dir.join("blocks.csv"));
    let mut main_heights: Vec<u32> = blocks
        .iter()
        .filter(|r| r[7] == "1")
        .map(|r| r[2].parse().unwrap())
        .collect();
    main_heights.sort();
    assert_eq!(main_heights, (0..=30).collect::<Vec<_>>());
    // The light client verified real payment proofs.
    let spv = csv_rows(&dir.join("spv.csv"));
    assert!(
        spv.iter().any(|r| r[4] == "1"),
        "a light client accepted a payment proof"
    );
    // Manifest says PoW was ground.
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["pow"]["ground"], true);
    assert_eq!(manifest["seed"], 7);
}

#[test]
fn partition_forks_then_resolves_with_a_reorg() {
    let dir = scratch("partition").join("run");
    run_to("tests/scenarios/partition.yaml", &dir, &[]);
    let s = summary(&dir);
    assert_eq!(s["converged"], "1", "the network reconverges after healing");
    let reorgs = csv_rows(&dir.join("reorgs.csv"));
    assert!(
        !reorgs.is_empty(),
        "healing must reorganise the lighter side"
    );
    let deepest: u32 = s["deepest_reorg"].parse().unwrap();
    assert!(
        deepest >= 3,
        "15 minutes apart, the losing branch is several blocks deep (got {deepest})"
    );
    assert!(s["stale_blocks"].parse::<u32>().unwrap() >= deepest);
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["pow"]["ground"], false);
}

#[test]
fn replay_reproduces_the_digest() {
    let dir = scratch("replay").join("run");
    run_to(
        "tests/scenarios/small.yaml",
        &dir,
        &["--set", "stop.height=10"],
    );
    let o = sim(&["replay", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("replay ok"));
    // Tamper with the recorded digest: an edit (exit 2), since the
    // manifest no longer matches its own manifest_sha256.
    let path = dir.join("manifest.json");
    let original: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    assert_eq!(original["seed"], original["scenario"]["seed"]);
    let mut m = original.clone();
    m["event_digest"] = serde_json::Value::String("0".repeat(32));
    fs::write(&path, serde_json::to_vec(&m).unwrap()).unwrap();
    let o = sim(&["replay", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("edited") && err.contains("events 0..4096"),
        "{err}"
    );
    // The same record made self-consistent is what a real divergence looks
    // like: exit 1 with the window to inspect.
    let mut consistent = m.clone();
    consistent["manifest_sha256"] = forklab::world::output::manifest_sha256(&m).into();
    fs::write(&path, serde_json::to_vec(&consistent).unwrap()).unwrap();
    let o = sim(&["replay", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("diverged") && err.contains("events 0..4096"),
        "{err}"
    );
    assert!(err.contains("--trace --from 0.000s --to "), "{err}");
    // An edited seed or event count is reported, not replayed as ok.
    for (key, value) in [("seed", 8u64), ("events", 1)] {
        let mut m = m.clone();
        m["event_digest"] = original["event_digest"].clone();
        m[key] = serde_json::Value::from(value);
        fs::write(&path, serde_json::to_vec(&m).unwrap()).unwrap();
        let o = sim(&["replay", dir.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{key}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("edited"), "{key}: {err}");
    }
    fs::write(&path, serde_json::to_vec(&original).unwrap()).unwrap();
    // Filters that can match nothing are errors, not silence.
    for args in [
        vec!["--trace", "--node", "99"],
        vec!["--trace", "--from", "5m", "--to", "1m"],
        vec!["--node", "1"],
    ] {
        let mut all = vec!["replay", dir.to_str().unwrap()];
        all.extend(args.iter().copied());
        let o = sim(&all);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&o.stderr).trim().lines().count(), 1);
    }
    // --trace prints filtered events.
    let o = sim(&[
        "replay",
        dir.to_str().unwrap(),
        "--trace",
        "--node",
        "1",
        "--to",
        "5s",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.lines().any(|l| l.contains("node 1")), "{out}");
}

#[test]
fn validate_accepts_shipped_scenarios_and_rejects_bad_ones() {
    for f in fs::read_dir("scenarios").unwrap() {
        let p = f.unwrap().path();
        if p.extension().is_some_and(|e| e == "yaml") {
            // The scale benchmarks are estimated above the work bound and
            // say in their header that they run with --force.
            let name = p.file_name().unwrap().to_str().unwrap();
            let scale = name == "simblock_compare_100k.yaml" || name == "simblock_compare_1m.yaml";
            let o = if scale {
                sim(&["validate", p.to_str().unwrap(), "--force"])
            } else {
                sim(&["validate", p.to_str().unwrap()])
            };
            assert!(
                o.status.success(),
                "{}: {}",
                p.display(),
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
    let o = sim(&[
        "validate",
        "tests/scenarios/small.yaml",
        "--set",
        "consensus.difficulty_bits=999",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains("difficulty_bits"), "{err}");
    assert!(!err.contains("panicked"));
}

#[test]
fn out_replaces_an_earlier_run_but_never_a_directory_of_the_users() {
    let base = scratch("out-guard");
    let mine = base.join("thesis");
    fs::create_dir_all(mine.join("chapters")).unwrap();
    fs::write(mine.join("notes.txt"), "keep me").unwrap();
    let file = base.join("afile");
    fs::write(&file, "x").unwrap();
    for target in [&mine, &file] {
        let o = sim(&[
            "run",
            "tests/scenarios/small.yaml",
            "--quiet",
            "--out",
            target.to_str().unwrap(),
            "--set",
            "stop.height=2",
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", target.display());
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(err.contains("output directory"), "{err}");
    }
    assert_eq!(
        fs::read_to_string(mine.join("notes.txt")).unwrap(),
        "keep me"
    );
    assert!(mine.join("chapters").is_dir());
    assert_eq!(fs::read_to_string(&file).unwrap(), "x");
    assert_eq!(fs::read_dir(&base).unwrap().count(), 2, "no temp dirs");
    // An earlier run is replaced as a whole.
    let run = base.join("run");
    run_to(
        "tests/scenarios/small.yaml",
        &run,
        &["--set", "stop.height=2"],
    );
    fs::write(run.join("stale.txt"), "old").unwrap();
    run_to(
        "tests/scenarios/small.yaml",
        &run,
        &["--set", "stop.height=3"],
    );
    assert!(run.join("manifest.json").is_file() && !run.join("stale.txt").exists());
}

#[test]
fn bad_scenario_writes_nothing() {
    let base = scratch("bad-nothing");
    let out = base.join("run");
    let o = sim(&[
        "run",
        "tests/scenarios/small.yaml",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
        "--set",
        "nodes.count=abc",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.exists(), "nothing written for a bad scenario");
    assert_eq!(
        fs::read_dir(&base).unwrap().count(),
        0,
        "no temp dirs left behind"
    );
}

#[test]
fn flood_relay_is_deterministic_and_confirms_payments_like_message_relay() {
    let base = scratch("flood");
    let (m, f, g) = (
        base.join("messages"),
        base.join("flood"),
        base.join("again"),
    );
    let flood = ["--set", "workload.relay=flood", "--no-charts"];
    run_to("tests/scenarios/small.yaml", &m, &["--no-charts"]);
    run_to("tests/scenarios/small.yaml", &f, &flood);
    run_to("tests/scenarios/small.yaml", &g, &flood);
    assert!(
        files(&f) == files(&g),
        "a flood run differs between two runs with seed 7"
    );
    let (sm, sf) = (summary(&m), summary(&f));
    assert_eq!(sf["converged"], "1");
    assert_eq!(
        sf["utxo_total_sats"], sf["issued_sats"],
        "value is conserved with flooded payments"
    );
    let confirmed = |s: &std::collections::BTreeMap<String, String>| -> u64 {
        s["txs_confirmed"].parse().unwrap()
    };
    // Both relays see the same payments issued at the same times (the
    // workload stream is shared); blocks differ only by what they carry.
    assert!(confirmed(&sm) > 5, "messages confirmed {}", confirmed(&sm));
    assert!(
        confirmed(&sf) * 10 >= confirmed(&sm) * 8,
        "flood confirmed {} of the {} payments message relay confirmed",
        confirmed(&sf),
        confirmed(&sm)
    );
    let manifest = |d: &Path| -> serde_json::Value {
        serde_json::from_slice(&fs::read(d.join("manifest.json")).unwrap()).unwrap()
    };
    assert_eq!(manifest(&f)["tx_relay"]["mode"], "flood");
    assert_eq!(manifest(&m)["tx_relay"]["mode"], "messages");
    assert_eq!(manifest(&f)["scenario"]["workload"]["relay"], "flood");
}

#[test]
fn flood_relay_survives_a_partition_and_returns_reorged_payments() {
    let base = scratch("flood_partition");
    let (m, f) = (base.join("messages"), base.join("flood"));
    run_to("tests/scenarios/partition.yaml", &m, &["--no-charts"]);
    run_to(
        "tests/scenarios/partition.yaml",
        &f,
        &["--no-charts", "--set", "workload.relay=flood"],
    );
    let (sm, sf) = (summary(&m), summary(&f));
    assert_eq!(sf["converged"], "1");
    assert_eq!(sf["utxo_total_sats"], sf["issued_sats"]);
    assert!(
        sf["deepest_reorg"].parse::<u32>().unwrap() >= 3,
        "the partition still forks with flooded payments"
    );
    // Payments confirmed only on the losing branch are mined again after
    // the heal (they stay known to the flood), as mempools do in the
    // message relay.
    let confirmed = |s: &std::collections::BTreeMap<String, String>| -> u64 {
        s["txs_confirmed"].parse().unwrap()
    };
    assert!(
        confirmed(&sf) * 10 >= confirmed(&sm) * 9,
        "flood confirmed {}, messages {}",
        confirmed(&sf),
        confirmed(&sm)
    );
}

/// SimBlock's processing delays: 10 ms per control message (`inv`,
/// `getdata`), 2 ms per payload. Two nodes 100 ms apart with an almost
/// infinitely fast link and no validation cost: a block reaches the other
/// node 100 + 10 (inv) + 100 + 10 (getdata) + 100 + 2 (block) ms after it
/// was found; with one `processing` for every message, 3 × (100 + 2) ms.
#[test]
fn control_messages_take_their_own_processing_delay() {
    let base = scratch("control_processing");
    let scenario = base.join("two.yaml");
    fs::write(
        &scenario,
        "name: two\nseed: 3\nstop: { height: 4, settle: 10s }\n\
         consensus: { difficulty_bits: 8 }\npow: { grind: true }\n\
         network:\n  topology: { kind: full_mesh }\n\
         \x20 latency: { kind: constant, ms: 100 }\n\
         \x20 bandwidth: { up_mbps: 1000000, down_mbps: 1000000 }\n\
         \x20 validation: { per_block: 0ms, per_tx: 0us }\n\
         \x20 relay: { compact: false }\n  processing: 2ms\n  control_processing: 10ms\n\
         nodes: { count: 2, hashrate: { kind: equal, total_hps: 10 } }\n\
         workload: { wallets: 0 }\n",
    )
    .unwrap();
    for (extra, want_ms) in [
        (vec![], 322.0),
        (vec!["--set", "network.control_processing=2ms"], 306.0),
    ] {
        let out = base.join(format!("run{}", extra.len()));
        run_to(scenario.to_str().unwrap(), &out, &extra);
        let rows = common::rows(&out.join("propagation.csv"));
        assert!(rows.len() >= 4, "{} blocks", rows.len());
        for r in &rows {
            let got: f64 = r["p100_ms"].parse().unwrap();
            assert!(
                (got - want_ms).abs() < 0.01,
                "block {} reached both nodes after {got} ms, want {want_ms} ms ({extra:?})",
                r["height"]
            );
        }
    }
}

#[test]
fn manifest_says_which_part_of_block_relay_was_modelled() {
    let base = scratch("block_relay_note");
    let (compact, padded, whole) = (
        base.join("compact"),
        base.join("padded"),
        base.join("whole"),
    );
    let short = [
        "--no-charts",
        "--no-db",
        "--set",
        "stop={height: 5, settle: 10s}",
    ];
    run_to("tests/scenarios/small.yaml", &compact, &short);
    let padding = [&short[..], &["--set", "consensus.block_fill_bytes=200000"]].concat();
    run_to("tests/scenarios/small.yaml", &padded, &padding);
    let off = [
        &short[..],
        &[
            "--set",
            "network.relay.compact=false",
            "--set",
            "consensus.block_fill_bytes=200000",
        ],
    ]
    .concat();
    run_to("tests/scenarios/small.yaml", &whole, &off);
    let note = |d: &Path| -> serde_json::Value {
        let m: serde_json::Value =
            serde_json::from_slice(&fs::read(d.join("manifest.json")).unwrap()).unwrap();
        m["block_relay"].clone()
    };
    let (c, p, w) = (note(&compact), note(&padded), note(&whole));
    assert_eq!(c["mode"], "compact");
    assert_eq!(
        c["modelled"],
        serde_json::json!([]),
        "no padding: every message simulated"
    );
    assert_eq!(p["mode"], "compact");
    assert_eq!(
        p["modelled"],
        serde_json::json!(["compact_block_padding"]),
        "compact relay of padded blocks models the padding's reconstruction"
    );
    assert!(p["note"]
        .as_str()
        .unwrap()
        .contains("modelled as in SimBlock"));
    // The padding model really ran: a padded block's cmpctblock carries
    // `padding.compact_bytes` (18,000 by default) for its padding.
    let cmpct_mean = |d: &Path| -> u64 {
        let rows = common::rows(&d.join("bandwidth.csv"));
        let r = rows
            .iter()
            .find(|r| r["kind"] == "cmpctblock")
            .expect("cmpctblock row");
        r["bytes"].parse::<u64>().unwrap() / r["messages"].parse::<u64>().unwrap()
    };
    assert!(
        cmpct_mean(&padded) > 10_000,
        "{} bytes",
        cmpct_mean(&padded)
    );
    assert!(
        cmpct_mean(&compact) < 2_000,
        "{} bytes",
        cmpct_mean(&compact)
    );
    assert_eq!(w["mode"], "whole_blocks");
    assert_eq!(
        w["modelled"],
        serde_json::json!([]),
        "padded blocks sent whole are real bytes, not a model"
    );
}

#[test]
fn a_heal_under_compact_relay_reorganises_at_once() {
    // partition_heal.yaml heals at 600 s. A cmpctblock pushed across the
    // partition used to count as the receiver's request until the request
    // timeout, so the minority ignored the majority's tips at the heal and
    // reorganised only at the majority's next block, ~20 s later.
    let dir = scratch("heal_compact").join("run");
    run_to(
        "scenarios/partition_heal.yaml",
        &dir,
        &[
            "--no-charts",
            "--no-db",
            "--set",
            "network.relay.compact=true",
        ],
    );
    let deep: Vec<f64> = csv_rows(&dir.join("reorgs.csv"))
        .iter()
        .filter(|r| r[2].parse::<u32>().unwrap() >= 2)
        .map(|r| r[1].parse().unwrap())
        .collect();
    assert!(!deep.is_empty(), "the minority reorganises at the heal");
    for t in deep {
        assert!(
            (600.0..605.0).contains(&t),
            "a deep reorg at {t} s, not within 5 s of the heal at 600 s"
        );
    }
}
