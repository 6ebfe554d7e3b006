//! Block announcements elided behind one already on its way
//! (`World::announce_blocks`) were no-ops: with and without the elision a
//! run's nodes decide exactly the same outputs at the same times, and the
//! run ends on the same chain, with fewer events.

use std::sync::{Arc, Mutex};

use forklab::scenario::Scenario;
use forklab::world::{Config, Narration, World};

/// SimBlock's relay on a small network: regions with Pareto latencies,
/// stop-and-wait senders, compact blocks with modelled padding; and one
/// with real payments relayed by messages and a whole-block fallback share.
fn yaml(seed: u64, payments: bool) -> String {
    let workload = if payments {
        "workload: { wallets: 20, payments_per_s: 0.5, relay: messages }\n"
    } else {
        "workload: { wallets: 0 }\n"
    };
    let fill = if payments { 0 } else { 200000 };
    format!(
        "name: elision\n\
         seed: {seed}\n\
         stop: {{ height: 8, settle: 1m }}\n\
         consensus: {{ target_interval: 1m, retarget_window: 0, block_fill_bytes: {fill} }}\n\
         pow: {{ grind: false }}\n\
         network:\n\
         \x20 topology: {{ kind: bitcoin_outbound, outbound: 8, max_inbound: 40 }}\n\
         \x20 latency: {{ kind: regions, jitter: pareto }}\n\
         \x20 uplink: stop_and_wait\n\
         \x20 processing: 2ms\n\
         \x20 control_processing: 10ms\n\
         \x20 relay: {{ compact: true, high_bandwidth_peers: 1, usage_share: 0.9 }}\n\
         \x20 regions:\n\
         \x20   - {{ name: A, share: 0.6, up_mbps: 20, down_mbps: 40, latency_ms: [30, 150] }}\n\
         \x20   - {{ name: B, share: 0.4, up_mbps: 5, down_mbps: 20, latency_ms: [150, 60] }}\n\
         nodes: {{ count: 150 }}\n\
         {workload}\
         metrics: {{ tips: false }}\n"
    )
}

/// Every node output with its time and node, and the event count.
fn run(seed: u64, payments: bool, elide: bool) -> (Vec<String>, u64, String) {
    let scenario =
        Scenario::from_yaml_str(&yaml(seed, payments), "elision", &[]).expect("scenario");
    let mut world = World::new(Config::from_scenario(&scenario).expect("config"));
    if !elide {
        world.expect_live_inputs();
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    world.set_observer(Box::new(move |now, n| {
        let line = match n {
            // The trace's line (whole blocks are not printed), or the
            // bookkeeping output itself.
            Narration::Node(i, o) => match o.narrate(i) {
                Some(line) => format!("{now} {line}"),
                None => format!("{now} {i} {o:?}"),
            },
            Narration::Payment { txid, home, .. } => format!("{now} pay {txid} {home}"),
        };
        s.lock().unwrap().push(line);
    }));
    world.run();
    let events = world.events();
    let out = world.finish();
    let lines = std::mem::take(&mut *seen.lock().unwrap());
    (lines, events, format!("{:?}", out.main_chain))
}

#[test]
fn elided_announcements_change_no_node_decision() {
    for (seed, payments) in [(1, false), (2, false), (3, true)] {
        let (kept, kept_events, kept_chain) = run(seed, payments, false);
        let (elided, elided_events, elided_chain) = run(seed, payments, true);
        assert_eq!(
            kept.len(),
            elided.len(),
            "seed {seed}: outputs differ in number"
        );
        if let Some(k) = (0..kept.len()).find(|&k| kept[k] != elided[k]) {
            panic!(
                "seed {seed}: first different output #{k}:\n  {}\n  {}",
                kept[k], elided[k]
            );
        }
        assert_eq!(kept_chain, elided_chain, "seed {seed}");
        assert!(
            elided_events < kept_events,
            "seed {seed}: {elided_events} events with the elision, {kept_events} without"
        );
    }
}
