//! The terminal tells the story: usage, help examples, errors a newcomer
//! can act on, the end-of-run summary with attack results, default output
//! directories that never replace the plain run, and CSV precision.
//! Each test runs `sim` as a user would, from the repository root or a
//! scratch directory.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const GENESIS_COINBASE: &str = "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000";

/// Runs `sim` in `dir` (the repository root unless given).
fn sim_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sim"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the sim binary runs")
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sim(args: &[&str]) -> Output {
    sim_in(&repo(), args)
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn no_arguments_print_usage_with_an_example() {
    for cmd in ["run", "validate", "sweep", "replay", "plot", "tx", "header"] {
        let o = sim(&[cmd]);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "sim {cmd}");
        let all = out + &err;
        assert!(all.contains("Usage: sim"), "sim {cmd}: {all}");
        assert!(all.contains("Example"), "sim {cmd} has no example: {all}");
    }
}

#[test]
fn every_subcommand_help_has_examples() {
    for cmd in [
        &["run"][..],
        &["validate"],
        &["replay"],
        &["sweep"],
        &["plot"],
        &["wallet"],
        &["wallet", "new"],
        &["wallet", "show"],
        &["tx"],
        &["header"],
    ] {
        let mut args = cmd.to_vec();
        args.push("--help");
        let o = sim(&args);
        let (out, _) = text(&o);
        assert!(o.status.success(), "sim {args:?}");
        assert!(out.contains("Example"), "sim {args:?}: {out}");
    }
    let (out, _) = text(&sim(&["sweep", "--help"]));
    for chart in [
        "stale_rate",
        "block_interval",
        "reorg_depths",
        "relative_revenue",
        "double_spend_success",
    ] {
        assert!(out.contains(chart), "sweep --help lists {chart}");
    }
    assert!(
        !out.contains("little-endian"),
        "the seed derivation is in the README, not the help"
    );
}

#[test]
fn missing_scenario_suggests_the_nearest_file() {
    let o = sim(&["run", "scenarios/three_node.yaml"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("did you mean scenarios/three_nodes.yaml"),
        "{err}"
    );
    let o = sim(&["validate", "nowhere/zzzz.yaml"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("scenarios/"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn set_errors_name_the_users_key_value_and_the_full_key() {
    let o = sim(&[
        "validate",
        "scenarios/three_nodes.yaml",
        "--set",
        "difficulty_bits=12",
    ]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("--set difficulty_bits=12"), "{err}");
    assert!(err.contains("consensus.difficulty_bits"), "{err}");
    let o = sim(&[
        "validate",
        "scenarios/three_nodes.yaml",
        "--set",
        "consensus.difficulty_bits=abc",
    ]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("--set consensus.difficulty_bits=abc") && err.contains("whole number"),
        "{err}"
    );
    assert!(
        !err.contains("three_nodes.yaml:"),
        "no file line blamed: {err}"
    );
}

#[test]
fn sweep_checks_every_param_before_running() {
    let base = common::scratch("cli_story", "sweep_check");
    for (param, what) in [
        ("consensus.dificulty_bits=10,11", "dificulty_bits"),
        ("consensus.difficulty_bits=12,abc", "=abc"),
    ] {
        let out = base.join(what.trim_start_matches('='));
        let o = sim(&[
            "sweep",
            "scenarios/three_nodes.yaml",
            "--param",
            param,
            "--seeds",
            "3",
            "--out",
            out.to_str().unwrap(),
        ]);
        let (stdout, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{param}: {err}");
        assert_eq!(err.lines().count(), 1, "{param}: one error line: {err}");
        assert!(err.contains("--param") && err.contains(what), "{err}");
        assert!(err.contains("nothing was run"), "{err}");
        assert!(stdout.is_empty(), "{stdout}");
        assert!(!out.exists(), "{param}: nothing written");
    }
}

#[test]
fn validate_lists_block_relay_workload_and_timeline_and_warns_after_the_stop() {
    let o = sim(&["validate", "scenarios/partition_heal.yaml"]);
    let (out, _) = text(&o);
    assert!(o.status.success());
    assert!(out.contains("workload: "), "{out}");
    assert!(out.contains("timeline: 2 events"), "{out}");
    assert!(out.contains("partition into [0, 1, 2] [3, 4]"), "{out}");
    assert!(
        out.contains("block relay: compact blocks (BIP152) between the 96.4% of nodes that speak it, up to 3 high-bandwidth peers per node\n"),
        "{out}"
    );
    let (out, _) = text(&sim(&["validate", "scenarios/big_blocks.yaml"]));
    assert!(
        out.contains("block relay: whole blocks (inv, getdata, block) on every hop\n"),
        "{out}"
    );
    let (out, _) = text(&sim(&[
        "validate",
        "scenarios/big_blocks.yaml",
        "--set",
        "network.relay.compact=true",
    ]));
    assert!(
        out.contains("; padding modelled as SimBlock: 18000 B cmpctblock"),
        "{out}"
    );
    let o = sim(&[
        "validate",
        "scenarios/partition_heal.yaml",
        "--set",
        "stop.time=8m",
    ]);
    let (_, err) = text(&o);
    assert!(o.status.success());
    assert!(
        err.contains("warning: the timeline event at 10m comes after the stop"),
        "{err}"
    );
    let (out, _) = text(&sim(&["validate", "scenarios/light_client.yaml"]));
    assert!(out.contains("timeline: none"), "{out}");
    assert!(!out.contains(" 1 miners"), "{out}");
}

#[test]
fn variant_runs_get_their_own_default_directory() {
    let cwd = common::scratch("cli_story", "default_dirs");
    let scenario = repo().join("tests/scenarios/small.yaml");
    let scenario = scenario.to_str().unwrap();
    for (extra, dir) in [
        (&[][..], "output/small"),
        (&["--seed", "8"][..], "output/small-seed8"),
    ] {
        let mut args = vec!["run", scenario, "--no-charts"];
        args.extend_from_slice(extra);
        let o = sim_in(&cwd, &args);
        assert!(o.status.success(), "{:?}", text(&o));
        assert!(cwd.join(dir).join("manifest.json").is_file(), "{dir}");
    }
    let o = sim_in(
        &cwd,
        &[
            "run",
            scenario,
            "--no-charts",
            "--set",
            "stop.height=5",
            "--quiet",
        ],
    );
    assert!(o.status.success());
    let dirs: Vec<String> = std::fs::read_dir(cwd.join("output"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        dirs.iter()
            .any(|d| d.starts_with("small-set-") && d.len() == 18),
        "{dirs:?}"
    );
    // The plain run is still the plain run.
    let s = common::summary(&cwd.join("output/small"));
    assert_eq!(s["main_chain_height"], "30");
    // Running it again says it replaced the earlier run.
    let o = sim_in(&cwd, &["run", scenario, "--no-charts"]);
    let (out, _) = text(&o);
    assert!(out.contains("replacing the earlier run there"), "{out}");
}

#[test]
fn summary_counts_payments_like_with_like_and_tells_the_attack() {
    let dir = common::scratch("cli_story", "summary");
    let o = sim(&[
        "run",
        "tests/scenarios/small.yaml",
        "--out",
        dir.join("small").to_str().unwrap(),
        "--no-charts",
    ]);
    let (out, _) = text(&o);
    assert!(o.status.success());
    let payments = common::rows(&dir.join("small/payments.csv"));
    let confirmed = payments.iter().filter(|p| p["confirmed"] == "1").count();
    assert!(
        out.contains(&format!(
            "{confirmed} of {} workload payments confirmed",
            payments.len()
        )),
        "{out}"
    );
    let o = sim(&[
        "run",
        "scenarios/double_spend.yaml",
        "--set",
        "stop.height=400",
        "--out",
        dir.join("ds").to_str().unwrap(),
        "--no-charts",
    ]);
    let (out, _) = text(&o);
    assert!(o.status.success());
    let s = common::summary(&dir.join("ds"));
    assert!(
        out.contains(&format!(
            "{} of {} attempts succeeded",
            s["double_spend_successes"], s["double_spend_attempts"]
        )),
        "{out}"
    );
    assert!(
        out.contains("exact race (q = 0.300, z = 2, give up 6 behind)"),
        "{out}"
    );
    assert!(
        out.contains("other transactions on the main chain (the attackers' own)"),
        "{out}"
    );
    assert!(
        out.contains("payments              none (no workload)"),
        "{out}"
    );
    // Simulated time above 10 s is in seconds with days.
    assert!(out.contains(" days)"), "{out}");
    let o = sim(&[
        "run",
        "scenarios/selfish_mining.yaml",
        "--set",
        "stop.height=200",
        "--out",
        dir.join("selfish").to_str().unwrap(),
        "--no-charts",
    ]);
    let (out, _) = text(&o);
    assert!(o.status.success());
    assert!(out.contains("relative revenue"), "{out}");
    assert!(
        out.contains("Eyal-Sirer R(α = 0.333, γ = 0.500) = 0.3846"),
        "{out}"
    );
}

#[test]
fn csv_floats_have_at_most_six_decimals() {
    let dir = common::scratch("cli_story", "csv").join("run");
    common::run_to(
        "scenarios/selfish_mining.yaml",
        &dir,
        &["--set", "stop.height=50", "--no-charts"],
    );
    for (file, cols) in [
        ("nodes.csv", &["hashrate_hps"][..]),
        ("miner_share.csv", &["share_main", "hashrate_share"]),
        ("propagation.csv", &["p50_ms", "p90_ms"]),
    ] {
        for row in common::rows(&dir.join(file)) {
            for c in cols {
                let v = &row[*c];
                let decimals = v.split_once('.').map_or(0, |(_, d)| d.len());
                assert!(decimals <= 6, "{file} {c} = {v}");
            }
        }
    }
}

#[test]
fn wallet_and_tx_messages() {
    let (out, _) = text(&sim(&["wallet", "new", "--seed", "7"]));
    assert!(out.contains("simulations and exercises only"), "{out}");
    let (out, _) = text(&sim(&["wallet", "new"]));
    assert!(!out.contains("warning"), "{out}");
    let o = sim(&["wallet", "show", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("that is an address, not a WIF"), "{err}");
    let (out, _) = text(&sim(&["tx", GENESIS_COINBASE]));
    assert!(
        out.contains("The Times 03/Jan/2009 Chancellor on brink of second bailout for banks"),
        "{out}"
    );
    let o = sim(&["tx", &GENESIS_COINBASE[..100]]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("truncated") && err.contains("cut off"),
        "{err}"
    );
}

#[test]
fn attack_sweeps_summarise_double_spends_with_wilson_intervals() {
    let out = common::scratch("cli_story", "ds_sweep").join("sweep");
    let o = sim(&[
        "sweep",
        "scenarios/double_spend.yaml",
        "--set",
        "stop.height=300",
        "--param",
        "adversaries.0.confirmations=1,2",
        "--seeds",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    let (stdout, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(stdout.contains("double spends ok/tried"), "{stdout}");
    assert!(!stdout.contains("model"), "no stale-rate model: {stdout}");
    for row in common::rows(&out.join("sweep_summary.csv")) {
        let n: u64 = row["double_spend_attempts"].parse().unwrap();
        let k: u64 = row["double_spend_successes"].parse().unwrap();
        let rate: f64 = row["double_spend_success_rate"].parse().unwrap();
        let lo: f64 = row["double_spend_success_wilson95_low"].parse().unwrap();
        let hi: f64 = row["double_spend_success_wilson95_high"].parse().unwrap();
        assert!(n > 0 && k <= n);
        assert!((rate - k as f64 / n as f64).abs() < 1e-6);
        assert!(
            0.0 <= lo && lo <= rate && rate <= hi && hi <= 1.0,
            "{row:?}"
        );
        assert_eq!(row["model_stale_rate"], "", "no model with an adversary");
    }
}
