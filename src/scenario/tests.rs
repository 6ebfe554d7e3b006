//! Unit tests of loading: defaults, every tagged union, overrides, error
//! positions and suggestions, resolution helpers, and the agreement of the
//! known-keys table with the serde structs.

use std::collections::BTreeSet;

use primitive_types::U256;
use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;
use serde_yaml::Value;

use super::known::{Shape, SCENARIO};
use super::*;
use crate::sim::time::SimDuration;

const TEN_LINES: &str = "\
name: tiny
stop: { height: 20 }
nodes: { count: 3 }
";

fn load(text: &str) -> Result<Scenario, ScenarioError> {
    Scenario::from_yaml_str(text, "t.yaml", &[])
}

fn load_with(text: &str, sets: &[&str]) -> Result<Scenario, ScenarioError> {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    Scenario::from_yaml_str(text, "t.yaml", &sets)
}

fn err(text: &str) -> String {
    load(text)
        .expect_err("scenario should be rejected")
        .to_string()
}

#[test]
fn a_short_file_gets_sensible_defaults() {
    let s = load(TEN_LINES).unwrap();
    assert_eq!(s.name, "tiny");
    assert_eq!(s.seed, 1);
    assert_eq!(s.stop.height, Some(20));
    assert_eq!(s.stop.settle, SimDuration::from_secs(30));
    assert_eq!(
        s.consensus.target_interval,
        Some(SimDuration::from_secs(600))
    );
    assert_eq!(s.consensus.difficulty_bits, None);
    assert_eq!(s.consensus.retarget_window, 2016);
    assert_eq!(s.consensus.max_block_bytes, 1_000_000);
    assert_eq!(s.pow.grind, Switch::Auto);
    assert_eq!(s.network.topology, Topology::FullMesh);
    assert_eq!(s.network.latency, Latency::Constant { ms: 100.0 });
    assert_eq!(s.network.processing, SimDuration::from_millis(1));
    assert_eq!(s.network.tx_announce_interval, SimDuration::from_secs(2));
    assert_eq!(
        s.nodes.hashrate,
        Some(Hashrate::Equal { total_hps: 1000.0 })
    );
    assert_eq!(s.workload.wallets, 0);
    assert_eq!(s.workload.fee_rate_sat_per_byte, 2);
    assert_eq!(s.mempool.max_bytes, 5_000_000);
    assert!(s.timeline.is_empty());
    assert_eq!(s.metrics.balance_interval, SimDuration::from_secs(600));
    assert_eq!(s.node_count(), 3);
    assert_eq!(s.total_hashrate(), 1000.0);
    // 600 s × 1000 H/s = 600,000 expected hashes ≤ 2^24: auto grinds.
    let hashes = s.expected_hashes_per_block();
    assert!((hashes - 600_000.0).abs() / 600_000.0 < 1e-4, "{hashes}");
    assert!(s.grind_enabled());
    assert!(s.tips_enabled());
    assert_eq!(s.to_params().pow_target_spacing_secs, 600);
}

#[test]
fn empty_sections_mean_defaults() {
    let s =
        load("name: a\nstop: {height: 1}\nnodes: {count: 1}\nconsensus:\nnetwork:\ntimeline:\n")
            .unwrap();
    assert_eq!(s.consensus.retarget_window, 2016);
    assert!(s.timeline.is_empty());
}

#[test]
fn resolved_scenario_round_trips_through_yaml() {
    let text = "\
name: rt
seed: 7
stop: { height: 10, time: 1h, settle: 5s }
consensus: { difficulty_bits: 12, retarget_window: 0 }
pow: { grind: true }
network:
  topology: { kind: bitcoin_outbound, outbound: 4, distribution: simblock_2019 }
  latency: { kind: regions, jitter: lognormal }
  regions:
    - { name: A, share: 0.25, up_mbps: 1, down_mbps: 2, latency_ms: [1, 2] }
    - { name: B, share: 0.75, up_mbps: 3, down_mbps: 4, latency_ms: [2, 1] }
nodes:
  list:
    - { hashrate_hps: 5, region: A }
    - { hashrate_hps: 0 }
    - { hashrate_hps: 0, role: light }
    - { hashrate_hps: 0 }
    - { hashrate_hps: 0 }
    - { hashrate_hps: 0 }
  light: 2
workload: { wallets: 3, payments_per_s: 1, watch: none }
timeline:
  - { at: 2h, heal: all }
  - { at: 1h, partition: [[0], [1, 2]] }
  - { at: 1h, hashrate: { node: 0, hps: 1.5 } }
metrics: { tips: false }
";
    let s = load(text).unwrap();
    // Sorted by time, stable among equal times.
    let actions: Vec<_> = s.timeline.iter().map(|e| e.action().unwrap()).collect();
    assert_eq!(
        actions,
        vec![
            TimelineAction::Partition(vec![vec![0], vec![1, 2]]),
            TimelineAction::SetHashrate { node: 0, hps: 1.5 },
            TimelineAction::HealAll,
        ]
    );
    let again = Scenario::from_yaml_str(&s.to_yaml(), "manifest", &[]).unwrap();
    assert_eq!(again, s);
    let json = serde_json::to_string(&s).unwrap();
    assert!(json.contains("\"grind\":true"), "{json}");
    assert!(!s.tips_enabled());
}

#[test]
fn every_tagged_union_variant_parses() {
    let topologies = [
        ("{kind: full_mesh}", Topology::FullMesh),
        ("{kind: ring}", Topology::Ring),
        (
            "{kind: random_regular, k: 2}",
            Topology::RandomRegular { k: 2 },
        ),
        (
            "{kind: erdos_renyi, p: 0.5}",
            Topology::ErdosRenyi { p: 0.5 },
        ),
        (
            "{kind: small_world, k: 2, beta: 0.1}",
            Topology::SmallWorld { k: 2, beta: 0.1 },
        ),
        (
            "{kind: bitcoin_outbound, outbound: 2}",
            Topology::BitcoinOutbound {
                outbound: 2,
                max_inbound: 125,
                distribution: OutboundDistribution::Fixed,
            },
        ),
        (
            "{kind: edges, list: [[0, 1], [1, 3]]}",
            Topology::Edges {
                list: vec![[0, 1], [1, 3]],
            },
        ),
    ];
    for (yaml, want) in topologies {
        let s = load_with(
            TEN_LINES,
            &["nodes.count=4", &format!("network.topology={yaml}")],
        )
        .unwrap_or_else(|e| panic!("{yaml}: {e}"));
        assert_eq!(s.network.topology, want, "{yaml}");
    }
    let latencies = [
        ("{kind: constant, ms: 5}", Latency::Constant { ms: 5.0 }),
        (
            "{kind: uniform, min_ms: 1, max_ms: 2}",
            Latency::Uniform {
                min_ms: 1.0,
                max_ms: 2.0,
            },
        ),
        (
            "{kind: normal, mean_ms: 3, sd_ms: 1}",
            Latency::Normal {
                mean_ms: 3.0,
                sd_ms: 1.0,
            },
        ),
        (
            "{kind: lognormal, mean_ms: 3, sd_ms: 1}",
            Latency::Lognormal {
                mean_ms: 3.0,
                sd_ms: 1.0,
            },
        ),
        (
            "{kind: pareto, mean_ms: 3}",
            Latency::Pareto {
                mean_ms: 3.0,
                shape: 5.0,
            },
        ),
    ];
    for (yaml, want) in latencies {
        let s = load_with(TEN_LINES, &[&format!("network.latency={yaml}")])
            .unwrap_or_else(|e| panic!("{yaml}: {e}"));
        assert_eq!(s.network.latency, want, "{yaml}");
    }
    let s = load_with(
        TEN_LINES,
        &[
            "network.latency={kind: regions}",
            "network.regions=[{name: X, share: 1, up_mbps: 1, down_mbps: 1, latency_ms: [3]}]",
        ],
    )
    .unwrap();
    assert_eq!(
        s.network.latency,
        Latency::Regions {
            jitter: Jitter::Pareto
        }
    );
    let hashrates = [
        (
            "{kind: equal, total_hps: 30}",
            Hashrate::Equal { total_hps: 30.0 },
        ),
        (
            "{kind: normal, total_hps: 30}",
            Hashrate::Normal {
                total_hps: 30.0,
                sd_fraction: 0.3,
            },
        ),
        (
            "{kind: shares, total_hps: 30, shares: [0.5, 0.25, 0.25]}",
            Hashrate::Shares {
                total_hps: 30.0,
                shares: vec![0.5, 0.25, 0.25],
            },
        ),
    ];
    for (yaml, want) in hashrates {
        let s = load_with(TEN_LINES, &[&format!("nodes.hashrate={yaml}")])
            .unwrap_or_else(|e| panic!("{yaml}: {e}"));
        assert_eq!(s.nodes.hashrate, Some(want), "{yaml}");
    }
}

#[test]
fn overrides_address_nested_paths_and_create_maps() {
    let s = load_with(
        TEN_LINES,
        &[
            "nodes.count=10000",
            "network.topology.kind=bitcoin_outbound",
            "consensus.target_interval=10m",
            "stop={height: 5}",
            "seed=99",
            "workload.wallets=4",
            "workload.payments_per_s=0.5",
        ],
    )
    .unwrap();
    assert_eq!(s.nodes.count, Some(10_000));
    assert_eq!(s.stop.height, Some(5));
    assert_eq!(s.seed, 99);
    assert_eq!(s.workload.wallets, 4);
    assert!(matches!(
        s.network.topology,
        Topology::BitcoinOutbound { outbound: 8, .. }
    ));
    // Later overrides win.
    let s = load_with(TEN_LINES, &["seed=1", "seed=2"]).unwrap();
    assert_eq!(s.seed, 2);
}

#[test]
fn override_errors_name_the_key() {
    let e = load_with(TEN_LINES, &["nodes.count=abc"])
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("--set nodes.count: nodes.count: invalid type: string"),
        "{e}"
    );
    let e = load_with(TEN_LINES, &["name.first=x"])
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "--set name.first: `name` is a string, not a mapping, so it has no field `first`"
    );
    let e = load_with(TEN_LINES, &["consensus.dificulty_bits=3"])
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("--set consensus.dificulty_bits: consensus.dificulty_bits: unknown field"),
        "{e}"
    );
    assert!(e.contains("did you mean `difficulty_bits`?"), "{e}");
    let e = load_with(TEN_LINES, &["nodes.count=0"])
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "--set nodes.count: nodes.count: 0 is out of range, allowed: 1..=1000000"
    );
    let e = load_with(TEN_LINES, &["bad"]).unwrap_err();
    assert!(matches!(e, ScenarioError::Override { .. }));
}

#[test]
fn unknown_keys_get_paths_positions_and_suggestions() {
    let e =
        err("name: a\nstop: {height: 1}\nnodes: {count: 1}\nconsensus:\n  dificulty_bits: 16\n");
    assert_eq!(
        e,
        "t.yaml:5:3: consensus.dificulty_bits: unknown field `dificulty_bits` in consensus; \
         did you mean `difficulty_bits`? known fields: difficulty_bits, target_interval, \
         retarget_window, subsidy_sats, halving_interval, max_block_bytes, coinbase_maturity, \
         block_fill_bytes"
    );
    let e = err("name: a\nstop: {height: 1}\nnodse: {count: 1}\n");
    assert!(
        e.starts_with(
            "t.yaml:3:1: nodse: unknown field `nodse` in the top level; did you mean `nodes`?"
        ),
        "{e}"
    );
    let e = err("name: a\nstop: {height: 1}\nnodes:\n  list:\n    - {hashrate_hps: 1}\n    - {hashrate: 1}\n");
    assert!(e.starts_with("t.yaml:6:8: nodes.list[1].hashrate: unknown field `hashrate` in nodes.list[1]; did you mean `hashrate_hps`?"), "{e}");
    let e = err(
        "name: a\nstop: {height: 1}\nnodes: {count: 2}\nnetwork:\n  topology: {kind: fullmesh}\n",
    );
    assert!(
        e.starts_with("t.yaml:5:20: network.topology.kind: unknown topology kind `fullmesh`; did you mean `full_mesh`? known kinds: full_mesh, ring,"),
        "{e}"
    );
    let e = err(
        "name: a\nstop: {height: 1}\nnodes: {count: 2}\nnetwork:\n  topology: {kind: ring, k: 3}\n",
    );
    assert!(
        e.starts_with("t.yaml:5:26: network.topology.k: unknown field `k` in network.topology"),
        "{e}"
    );
    let e = err("name: a\nstop: {height: 1}\nnodes: {count: 2}\nnetwork:\n  latency: {ms: 3}\n");
    assert!(e.starts_with("t.yaml:5:12: network.latency.kind: missing `kind` (latency kind), allowed: constant, uniform"), "{e}");
    let e = err("name: a\nstop: {height: 1}\nnodes: {count: 2}\nworkload: {watch: ligth}\n");
    assert!(e.starts_with("t.yaml:4:19: workload.watch: unknown value `ligth` (did you mean `light`?), allowed: none, light"), "{e}");
}

#[test]
fn type_and_syntax_errors_have_positions() {
    let e = err("name: a\nstop: {height: 1}\nnodes:\n  count: three\n");
    assert!(
        e.starts_with("t.yaml:4:10: nodes.count: invalid type: string \"three\""),
        "{e}"
    );
    let e = err("name: a\nstop: {height: 1, time: soon}\nnodes: {count: 1}\n");
    assert!(
        e.starts_with("t.yaml:2:25: stop.time: invalid duration `soon`"),
        "{e}"
    );
    let e = err("stop: {height: 1}\nnodes: {count: 1}\n");
    assert!(
        e.starts_with("t.yaml:1:1: name: missing field `name`"),
        "{e}"
    );
    let e = err("name: a\nstop: {height: 1\nnodes: {count: 1}\n");
    assert!(e.starts_with("t.yaml:3:"), "{e}");
    assert!(e.contains("yaml syntax error"), "{e}");
    let e = err("- 1\n- 2\n");
    assert!(e.contains("a scenario is a mapping"), "{e}");
    let e = err("name: a\nname: b\n");
    assert!(e.contains("duplicate"), "{e}");
    // serde_yaml cannot hold integers beyond u64/i64 in a Value.
    let e = err("name: a\nstop: {height: 1}\nnodes: {count: 1, hashrate: {kind: equal, total_hps: 700000000000000000000}}\n");
    assert!(e.starts_with("t.yaml:3:"), "{e}");
    assert!(
        e.contains("nodes.hashrate.total_hps: invalid type: integer"),
        "{e}"
    );
    let e = err("");
    assert!(e.contains("missing field `name`"), "{e}");
    let e = err("name: a\nstop: {height: 1}\nnodes: {count: 1}\nnetwork:\n  latency: {kind: constant, ms: fast}\n");
    assert!(
        e.starts_with("t.yaml:5:33: network.latency.ms: invalid type: string \"fast\""),
        "{e}"
    );
    let e = err("name: a\nstop: {height: 1}\nnodes: {count: 1}\nnetwork:\n  latency: {kind: uniform, min_ms: 1}\n");
    assert!(
        e.starts_with("t.yaml:5:12: network.latency.max_ms: missing field `max_ms`"),
        "{e}"
    );
    let e = err("name: a\nstop: {height: 1}\nnodes: {count: 1}\ntimeline:\n  - {at: 1h, heal: all}\n  - {at: soon, heal: all}\n");
    assert!(
        e.starts_with("t.yaml:6:10: timeline[1].at: invalid duration `soon`"),
        "{e}"
    );
    let e =
        err("name: a\nstop: {height: 1}\nnodes: {count: 1}\nnetwork:\n  bandwidth: {up_mbps: 1}\n");
    assert!(
        e.starts_with("t.yaml:5:14: network.bandwidth.down_mbps: missing field `down_mbps`"),
        "{e}"
    );
}

#[test]
fn semantic_errors_name_field_and_range() {
    let base = "name: a\nstop: {height: 1}\nnodes: {count: 4}\n";
    let cases: &[(&str, &str)] = &[
        (
            "consensus: {difficulty_bits: 0}",
            "t.yaml:4:30: consensus.difficulty_bits: 0 is out of range, allowed: 1..=255",
        ),
        (
            "consensus: {difficulty_bits: 8, target_interval: 1m}",
            "consensus.target_interval: both difficulty_bits and target_interval are set",
        ),
        (
            "network: {topology: {kind: random_regular, k: 3}}\nnodes: {count: 5}",
            "",
        ),
        (
            "network: {topology: {kind: small_world, k: 3, beta: 0.1}}",
            "k even, 2 <= k < number of nodes",
        ),
        (
            "network: {topology: {kind: erdos_renyi, p: 1.5}}",
            "network.topology.p: 1.5 is not a probability, allowed: 0..=1",
        ),
        (
            "network: {topology: {kind: edges, list: [[0, 4]]}}",
            "network.topology.list[0][1]: node 4 does not exist (4 nodes), allowed: node ids 0..=3",
        ),
        (
            "network: {latency: {kind: uniform, min_ms: 5, max_ms: 1}}",
            "min_ms <= max_ms",
        ),
        (
            "network: {latency: {kind: pareto, mean_ms: 5, shape: 1}}",
            "network.latency.shape",
        ),
        (
            "network: {latency: {kind: regions}}",
            "`regions` latency needs network.regions",
        ),
        (
            "network: {bandwidth: {up_mbps: 0, down_mbps: 1}}",
            "network.bandwidth.up_mbps: 0 Mbit/s is out of range, allowed: > 0 Mbit/s",
        ),
        (
            "network: {relay: {usage_share: 1.5}}",
            "network.relay.usage_share: 1.5 is not a probability, allowed: 0..=1",
        ),
        (
            "network: {relay: {high_bandwidth_peers: 9}}",
            "network.relay.high_bandwidth_peers: 9 is out of range, allowed: 0..=8 (Bitcoin Core uses 3)",
        ),
        (
            "network: {relay: {padding: {failure_churn: -0.1}}}",
            "network.relay.padding.failure_churn: -0.1 is not a probability",
        ),
        ("network: {uplink: sideways}", "network.uplink"),
        (
            "network: {trickle: {outbound_interval: 2h}}",
            "network.trickle.outbound_interval: 2h is out of range, allowed: 0s..=1h (Bitcoin Core uses 2s)",
        ),
        (
            "network: {trickle: {broadcast_max: 0}}",
            "network.trickle.broadcast_max: 0 is out of range, allowed: 1..=5000 (Bitcoin Core uses 1000)",
        ),
        (
            "network: {trickle: {broadcast_per_s: 5000}}",
            "network.trickle.broadcast_per_s: 5000 is out of range, allowed: 1..=1000 (Bitcoin Core uses 7)",
        ),
        ("network: {trickle: {every: 1s}}", "network.trickle"),
        (
            "workload: {wallets: 1, payments_per_s: 1}",
            "workload.wallets: 1 wallets cannot pay each other",
        ),
        ("timeline: [{at: 1h}]", "timeline[0]: event has no action"),
        (
            "timeline: [{at: 1h, heal: all, offline: [1]}]",
            "timeline[0].offline: event has several actions (heal, offline)",
        ),
        (
            "timeline: [{at: 1h, partition: [[0, 1], [1]]}]",
            "timeline[0].partition[1][0]: node 1 is in two groups",
        ),
        (
            "timeline: [{at: 1h, hashrate: {node: 9, hps: 1}}]",
            "timeline[0].hashrate.node: node 9 does not exist",
        ),
        (
            "metrics: {balance_interval: 0s}",
            "metrics.balance_interval: 0s is too short",
        ),
        (
            "consensus: {max_block_bytes: 2000, block_fill_bytes: 3000}",
            "consensus.block_fill_bytes: 3000 exceeds max_block_bytes 2000",
        ),
        ("name: 'my run'", "name: `my run` contains ` `"),
    ];
    for (extra, want) in cases {
        // Later keys replace the base's (merge by writing the extra first
        // would be a duplicate key), so build the text per case.
        let mut text = String::new();
        for line in base.lines() {
            let key = line.split(':').next().unwrap();
            if !extra.lines().any(|l| l.starts_with(&format!("{key}:"))) {
                text.push_str(line);
                text.push('\n');
            }
        }
        text.push_str(extra);
        text.push('\n');
        let e = load(&text);
        if want.is_empty() {
            let e = e.expect_err(extra).to_string();
            assert!(e.contains("n·k is odd"), "{e}");
            continue;
        }
        let e = e.expect_err(extra).to_string();
        assert!(e.contains(want), "{extra}\n  got: {e}\n want: {want}");
        assert!(e.starts_with("t.yaml:"), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }
}

#[test]
fn semantic_errors_about_defaults_point_at_the_nearest_existing_part() {
    let e = err("name: a\nnodes: {count: 3}\n");
    assert_eq!(
        e,
        "t.yaml:1:1: stop: no stop condition, allowed: at least one of stop.height, stop.time, stop.events"
    );
    let e = err("name: a\nstop: {height: 1}\nnodes: {count: 2500}\n");
    // `network` is not in the file: the top level is the nearest part.
    assert!(
        e.starts_with("t.yaml:1:1: network.topology.kind: full_mesh with 2500 nodes"),
        "{e}"
    );
    assert!(e.contains("bitcoin_outbound"), "{e}");
}

#[test]
fn grinding_rules() {
    let base =
        "name: a\nstop: {height: 1}\nnodes: {count: 1, hashrate: {kind: equal, total_hps: 1000}}\n";
    let bits = |b: u32, grind: &str| {
        load(&format!(
            "{base}consensus: {{difficulty_bits: {b}}}\npow: {{grind: {grind}}}\n"
        ))
    };
    assert!(bits(24, "auto").unwrap().grind_enabled());
    assert!(!bits(25, "auto").unwrap().grind_enabled());
    assert!(bits(28, "true").unwrap().grind_enabled());
    assert!(!bits(8, "false").unwrap().grind_enabled());
    let e = bits(40, "true").unwrap_err().to_string();
    assert!(
        e.starts_with("t.yaml:5:14: pow.grind: `true` would grind"),
        "{e}"
    );
    assert!(e.contains("allowed: `true` only up to 2^28"), "{e}");
    let e = bits(8, "maybe").unwrap_err().to_string();
    assert!(
        e.contains(
            "pow.grind: invalid value: string \"maybe\", expected `auto`, `true` or `false`"
        ),
        "{e}"
    );
}

#[test]
fn initial_target_and_params() {
    let s = load("name: a\nstop: {height: 1}\nnodes: {count: 2}\nconsensus: {difficulty_bits: 16, retarget_window: 0}\n").unwrap();
    // 2^240 - 1 rounded to compact precision: 0xffff << 224 (0x1f00ffff).
    assert_eq!(s.initial_target().0, U256::from(0xffffu32) << 224);
    assert!((s.expected_hashes_per_block() - 65536.0).abs() < 1.01);
    let p = s.to_params();
    assert_eq!(p.retarget_window, 0);
    assert_eq!(p.pow_limit.0, U256::from(0xffffu32) << 240);
    // 65536 hashes / 1000 H/s = 65.5 s.
    assert_eq!(p.pow_target_spacing_secs, 66);
    assert!(p.check_pow);

    let s = load("name: a\nstop: {height: 1}\nnodes: {count: 2, hashrate: {kind: equal, total_hps: 7e20}}\nconsensus: {target_interval: 10m}\n").unwrap();
    let hashes = s.expected_hashes_per_block();
    assert!((hashes / 4.2e23 - 1.0).abs() < 1e-4, "{hashes}");
    let interval = s.expected_block_interval().as_secs_f64();
    assert!((interval - 600.0).abs() < 0.1, "{interval}");
    let p = s.to_params();
    assert_eq!(p.pow_target_spacing_secs, 600);
    assert_eq!(p.pow_limit.0 >> 4, s.initial_target().0);
    assert!(!s.grind_enabled());
    assert!(!p.check_pow);
    assert!(
        s.summary().contains("expected block interval: 600.0"),
        "{}",
        s.summary()
    );
}

#[test]
fn node_specs_follow_the_hashrate_and_regions() {
    let s = load("name: a\nstop: {height: 1}\nnodes: {count: 4, light: 2, hashrate: {kind: shares, total_hps: 100, shares: [0.5, 0.5, 0, 0]}}\n").unwrap();
    let specs = s.node_specs(&mut ChaCha12Rng::seed_from_u64(1));
    let roles: Vec<Role> = specs.iter().map(|n| n.role).collect();
    assert_eq!(
        roles,
        [
            Role::Miner,
            Role::Miner,
            Role::Relay,
            Role::Relay,
            Role::Light,
            Role::Light
        ]
    );
    assert_eq!(specs[0].hashrate_hps, 50.0);
    assert!(specs.iter().all(|n| n.region.is_none()));

    let text = "name: a\nstop: {height: 1}\nnodes: {count: 1000, hashrate: {kind: normal, total_hps: 1000}}\nnetwork:\n  topology: {kind: bitcoin_outbound}\n  latency: {kind: regions}\n  regions:\n    - {name: A, share: 0.25, up_mbps: 1, down_mbps: 1, latency_ms: [1, 2]}\n    - {name: B, share: 0.75, up_mbps: 1, down_mbps: 1, latency_ms: [2, 1]}\n";
    let s = load(text).unwrap();
    let a = s.node_specs(&mut ChaCha12Rng::seed_from_u64(7));
    let b = s.node_specs(&mut ChaCha12Rng::seed_from_u64(7));
    let c = s.node_specs(&mut ChaCha12Rng::seed_from_u64(8));
    assert_eq!(a, b, "same stream, same specs");
    assert_ne!(a, c, "another stream, other draws");
    let total: f64 = a.iter().map(|n| n.hashrate_hps).sum();
    assert!((total - 1000.0).abs() < 1e-9, "{total}");
    assert!(a
        .iter()
        .all(|n| n.hashrate_hps > 0.0 && n.role == Role::Miner));
    let in_a = a.iter().filter(|n| n.region == Some(0)).count();
    assert_eq!(in_a, 250);
    assert!(
        a[..250].iter().any(|n| n.region == Some(1)),
        "placement is shuffled"
    );

    let text = "name: a\nstop: {height: 1}\nnodes:\n  list:\n    - {hashrate_hps: 3, region: B}\n    - {}\n    - {role: light}\nnetwork:\n  latency: {kind: regions}\n  regions:\n    - {name: A, share: 1, up_mbps: 1, down_mbps: 1, latency_ms: [1, 2]}\n    - {name: B, share: 0, up_mbps: 1, down_mbps: 1, latency_ms: [2, 1]}\n";
    let s = load(text).unwrap();
    let specs = s.node_specs(&mut ChaCha12Rng::seed_from_u64(1));
    assert_eq!(
        specs,
        vec![
            NodeSpec {
                hashrate_hps: 3.0,
                region: Some(1),
                role: Role::Miner
            },
            NodeSpec {
                hashrate_hps: 0.0,
                region: Some(0),
                role: Role::Relay
            },
            NodeSpec {
                hashrate_hps: 0.0,
                region: Some(0),
                role: Role::Light
            },
        ]
    );
    assert_eq!(s.total_hashrate(), 3.0);
}

#[test]
fn summary_names_the_essentials() {
    let s = load(TEN_LINES).unwrap();
    let text = s.summary();
    for want in [
        "scenario: tiny (seed 1)",
        "nodes: 3 (3 miners, 0 relays, 0 light), total hashrate 1000 H/s (equal)",
        "network: full_mesh, latency constant 100 ms",
        "block relay: compact blocks (BIP152) between the 96.4% of nodes that speak it, up to 3 high-bandwidth peers per node",
        "tx relay: messages (inv, getdata, tx), announced to all peers in batches every 2s",
        "stop: height 20 (whichever first), then settle 30s",
        "consensus: target_interval 10m",
        "grinding on",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
}

/// Checks `value` (a serialized scenario with every field present) against
/// `shape`: the key sets must be equal, in both directions.
fn assert_shape(shape: &Shape, value: &Value, path: &str, seen: &mut BTreeSet<String>) {
    let keys = |v: &Value| -> BTreeSet<String> {
        v.as_mapping()
            .unwrap_or_else(|| panic!("{path} is not a mapping: {v:?}"))
            .keys()
            .map(|k| k.as_str().unwrap().to_string())
            .collect()
    };
    match shape {
        Shape::Leaf => {}
        Shape::Word(words) => {
            let s = value
                .as_str()
                .unwrap_or_else(|| panic!("{path}: {value:?}"));
            assert!(words.contains(&s), "{path}: `{s}` not in {words:?}");
        }
        Shape::Struct(fields) => {
            let want: BTreeSet<String> = fields.iter().map(|(n, _)| n.to_string()).collect();
            assert_eq!(keys(value), want, "fields of {path}");
            for (name, shape) in fields.iter() {
                assert_shape(shape, &value[*name], &format!("{path}.{name}"), seen);
            }
        }
        Shape::Tagged(label, variants, _) => {
            let kind = value["kind"].as_str().unwrap();
            let (_, fields) = variants.iter().find(|(k, _)| *k == kind).unwrap();
            let mut want: BTreeSet<String> = fields.iter().map(|(n, _)| n.to_string()).collect();
            want.insert("kind".into());
            assert_eq!(keys(value), want, "fields of {path} ({kind})");
            seen.insert(format!("{label}/{kind}"));
            for (name, shape) in fields.iter() {
                assert_shape(shape, &value[*name], &format!("{path}.{name}"), seen);
            }
        }
        Shape::Seq(elem) => {
            let items = value.as_sequence().unwrap();
            assert!(
                !items.is_empty(),
                "{path}: give the full scenario an element"
            );
            for (i, item) in items.iter().enumerate() {
                assert_shape(elem, item, &format!("{path}[{i}]"), seen);
            }
        }
    }
}

/// One adversary of every kind, with every optional field set.
fn every_adversary_kind() -> Vec<schema::Adversary> {
    use schema::{Adversary, DoubleSpendTarget, InvalidKind, Stubborn};
    let t = SimDuration::from_secs(1);
    vec![
        Adversary::Selfish {
            node: 0,
            gamma: Some(0.5),
            stubborn: Stubborn::default(),
            start: t,
            share: Some(0.3),
        },
        Adversary::DoubleSpend {
            node: 0,
            merchant_wallet: 1,
            confirmations: 2,
            give_up_behind: 3,
            premine: 1,
            amount_sats: 4,
            start: t,
            share: Some(0.3),
        },
        Adversary::Eclipse {
            node: 0,
            victim: 1,
            withhold: true,
            delay: t,
            double_spend: Some(DoubleSpendTarget {
                merchant_wallet: 1,
                confirmations: 2,
                give_up_behind: 3,
                amount_sats: 4,
            }),
            start: t,
            share: Some(0.3),
        },
        Adversary::Majority {
            node: 0,
            depth: 2,
            withhold: false,
            start: t,
            share: Some(0.6),
        },
        Adversary::InvalidData {
            node: 0,
            interval: t,
            kinds: vec![InvalidKind::BadPow],
            start: t,
            share: Some(0.1),
        },
    ]
}

#[test]
fn known_keys_table_matches_the_serde_structs() {
    let full = Scenario {
        name: "full".into(),
        seed: 3,
        stop: Stop {
            height: Some(1),
            time: Some(SimDuration::from_secs(1)),
            events: Some(1),
            settle: SimDuration::from_secs(1),
        },
        consensus: Consensus {
            difficulty_bits: Some(8),
            target_interval: Some(SimDuration::from_secs(1)),
            ..Consensus::default()
        },
        pow: Pow::default(),
        network: Network {
            regions: vec![Region {
                name: "A".into(),
                share: 1.0,
                up_mbps: 1.0,
                down_mbps: 1.0,
                latency_ms: vec![1.0],
            }],
            control_processing: Some(SimDuration::from_millis(10)),
            ..Network::default()
        },
        nodes: Nodes {
            count: Some(1),
            hashrate: Some(Hashrate::default()),
            light: 1,
            list: Some(vec![NodeEntry {
                hashrate_hps: 1.0,
                region: Some("A".into()),
                role: Some(Role::Miner),
            }]),
        },
        workload: Workload::default(),
        mempool: Mempool::default(),
        timeline: vec![TimelineEvent {
            at: SimDuration::ZERO,
            partition: Some(vec![vec![0]]),
            heal: Some(Heal::All),
            offline: Some(vec![0]),
            online: Some(vec![0]),
            hashrate: Some(HashrateChange { node: 0, hps: 1.0 }),
        }],
        metrics: Metrics::default(),
        adversaries: every_adversary_kind(),
    };
    let topologies = [
        Topology::FullMesh,
        Topology::Ring,
        Topology::RandomRegular { k: 1 },
        Topology::ErdosRenyi { p: 0.1 },
        Topology::SmallWorld { k: 2, beta: 0.1 },
        Topology::BitcoinOutbound {
            outbound: 1,
            max_inbound: 1,
            distribution: OutboundDistribution::Simblock2019,
        },
        Topology::Edges { list: vec![[0, 1]] },
    ];
    let latencies = [
        Latency::Constant { ms: 1.0 },
        Latency::Uniform {
            min_ms: 1.0,
            max_ms: 2.0,
        },
        Latency::Normal {
            mean_ms: 1.0,
            sd_ms: 1.0,
        },
        Latency::Lognormal {
            mean_ms: 1.0,
            sd_ms: 1.0,
        },
        Latency::Pareto {
            mean_ms: 1.0,
            shape: 2.0,
        },
        Latency::Regions {
            jitter: Jitter::Constant,
        },
    ];
    let hashrates = [
        Hashrate::Equal { total_hps: 1.0 },
        Hashrate::Normal {
            total_hps: 1.0,
            sd_fraction: 0.1,
        },
        Hashrate::Shares {
            total_hps: 1.0,
            shares: vec![1.0],
        },
    ];
    let mut seen = BTreeSet::new();
    for i in 0..topologies.len() {
        let mut s = full.clone();
        s.network.topology = topologies[i].clone();
        s.network.latency = latencies[i % latencies.len()].clone();
        s.nodes.hashrate = Some(hashrates[i % hashrates.len()].clone());
        let value = serde_yaml::to_value(&s).unwrap();
        assert_shape(&SCENARIO, &value, "", &mut seen);
    }
    let mut all = BTreeSet::new();
    fn tagged(shape: &Shape, all: &mut BTreeSet<String>) {
        match shape {
            Shape::Struct(fields) => fields.iter().for_each(|(_, s)| tagged(s, all)),
            Shape::Seq(s) => tagged(s, all),
            Shape::Tagged(label, variants, _) => {
                for (kind, fields) in variants.iter() {
                    all.insert(format!("{label}/{kind}"));
                    fields.iter().for_each(|(_, s)| tagged(s, all));
                }
            }
            Shape::Leaf | Shape::Word(_) => {}
        }
    }
    tagged(&SCENARIO, &mut all);
    assert_eq!(seen, all, "every tagged variant was compared");
}

#[test]
fn serde_message_splitting() {
    let e = serde_yaml::from_str::<Scenario>("name: a\nseed: x\n").unwrap_err();
    let (path, message) = split_serde_message(&e);
    assert_eq!(path.to_string(), "seed");
    assert!(
        message.starts_with("invalid type: string \"x\", expected u64"),
        "{message}"
    );
    let e = serde_yaml::from_str::<Scenario>("seed: 1\n").unwrap_err();
    let (path, message) = split_serde_message(&e);
    assert_eq!(path.to_string(), "");
    assert_eq!(message, "missing field `name`");
}

proptest::proptest! {
    #[test]
    fn difficulty_bits_give_2_pow_bits_hashes(bits in 1u32..=255) {
        let text = format!("name: p\nstop: {{height: 1, time: 1h}}\nnodes: {{count: 1}}\nconsensus: {{difficulty_bits: {bits}}}\n");
        let s = load(&text).unwrap();
        let t = s.initial_target().0;
        proptest::prop_assert_eq!(super::resolve::round_to_compact(t), t);
        let ratio = s.expected_hashes_per_block() / 2f64.powi(bits as i32);
        // Compact rounding costs at most 2^-15 of the target.
        proptest::prop_assert!((1.0..1.0 + 1e-4).contains(&ratio), "{}", ratio);
    }

    #[test]
    fn target_interval_gives_that_interval(secs in 1u64..100_000, hps in 1.0f64..1e21) {
        let text = format!("name: p\nstop: {{height: 1}}\nnodes: {{count: 1, hashrate: {{kind: equal, total_hps: {hps:?}}}}}\nconsensus: {{target_interval: {secs}s}}\n");
        let s = load(&text).unwrap();
        let expected = secs as f64 * hps;
        let got = s.expected_block_interval().as_secs_f64();
        if expected > 2.0 {
            proptest::prop_assert!((got / secs as f64 - 1.0).abs() < 1e-4, "{} vs {}", got, secs);
        }
        let t = s.initial_target().0;
        proptest::prop_assert_eq!(super::resolve::round_to_compact(t), t);
    }

    #[test]
    fn set_seed_overrides(seed in proptest::prelude::any::<u64>()) {
        let s = load_with(TEN_LINES, &[&format!("seed={seed}")]).unwrap();
        proptest::prop_assert_eq!(s.seed, seed);
    }
}
