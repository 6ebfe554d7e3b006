//! Transaction relay by messages with Bitcoin Core's trickling, end to end
//! through the world: every payment reaches every full node's mempool, each
//! node announces a transaction at most once per peer and never back to the
//! peer it got it from, and payments get mined.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use forklab::ledger::Txid;
use forklab::node::io::{Observation, Output};
use forklab::node::msg::Msg;
use forklab::scenario::Scenario;
use forklab::sim::SimTime;
use forklab::world::{Config, Narration, World};

const NODES: u32 = 40;

fn yaml(seed: u64) -> String {
    format!(
        "name: trickle\n\
         seed: {seed}\n\
         stop: {{ height: 5, settle: 2m }}\n\
         consensus: {{ target_interval: 10m, retarget_window: 0 }}\n\
         pow: {{ grind: false }}\n\
         network:\n\
         \x20 topology: {{ kind: bitcoin_outbound, outbound: 4, max_inbound: 12 }}\n\
         \x20 latency: {{ kind: constant, ms: 50 }}\n\
         \x20 trickle: {{ enabled: true }}\n\
         nodes: {{ count: {NODES} }}\n\
         workload: {{ wallets: 6, payments_per_s: 0.02, relay: messages }}\n\
         metrics: {{ tips: false }}\n"
    )
}

#[derive(Default)]
struct Seen {
    payments: Vec<(SimTime, Txid)>,
    accepted: BTreeMap<Txid, BTreeSet<u32>>,
    /// (node, peer, txid) of every announcement a node decided.
    announced: Vec<(u32, u32, Txid)>,
    /// (receiver, sender, txid) of every transaction sent.
    delivered_from: BTreeSet<(u32, u32, Txid)>,
    mined_at: Vec<SimTime>,
}

#[test]
fn payments_reach_every_mempool_once_per_link_and_get_mined() {
    let scenario = Scenario::from_yaml_str(&yaml(3), "trickle", &[]).expect("scenario");
    let mut world = World::new(Config::from_scenario(&scenario).expect("config"));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let s = seen.clone();
    world.set_observer(Box::new(move |now, n| {
        let mut s = s.lock().unwrap();
        match n {
            Narration::Payment { txid, .. } => s.payments.push((now, txid)),
            Narration::Node(i, Output::Observe(Observation::TxAccepted { txid })) => {
                s.accepted.entry(*txid).or_default().insert(i);
            }
            Narration::Node(i, Output::TrickleTxs { to, txids }) => {
                for t in txids {
                    s.announced.push((i, *to, *t));
                }
            }
            Narration::Node(
                i,
                Output::Send {
                    to,
                    msg: Msg::Txs(txs),
                },
            ) => {
                for (t, _) in txs {
                    s.delivered_from.insert((*to, i, *t));
                }
            }
            Narration::Node(_, Output::Mined { .. }) => s.mined_at.push(now),
            _ => {}
        }
    }));
    world.run();
    let seen = seen.lock().unwrap();
    assert!(
        seen.payments.len() >= 10,
        "{} payments",
        seen.payments.len()
    );

    // Every payment is in every full node's mempool.
    for (_, txid) in &seen.payments {
        let nodes = seen.accepted.get(txid).map_or(0, |n| n.len());
        assert_eq!(
            nodes, NODES as usize,
            "payment {txid} reached {nodes} nodes"
        );
    }

    // A node announces a transaction at most once to each peer, and never
    // to the peer that sent it.
    let mut once = BTreeSet::new();
    for a in &seen.announced {
        assert!(once.insert(*a), "announced twice: {a:?}");
        let (node, peer, txid) = *a;
        assert!(
            !seen.delivered_from.contains(&(node, peer, txid)),
            "node {node} announced {txid} back to node {peer}, which sent it"
        );
    }
    assert!(!once.is_empty());

    // Payments issued a minute before the last block are on the main chain.
    let last_block = *seen.mined_at.last().expect("blocks were mined");
    let full = world.full_node(0).expect("node 0 is a full node");
    let mut on_chain = BTreeSet::new();
    let mut h = full.chain.tip();
    while let Some(info) = full.chain.info(&h) {
        on_chain.extend(info.txids.iter().copied());
        if info.height == 0 {
            break;
        }
        h = info.parent;
    }
    let due: Vec<&Txid> = seen
        .payments
        .iter()
        .filter(|(t, _)| t.as_nanos() + 60_000_000_000 < last_block.as_nanos())
        .map(|(_, txid)| txid)
        .collect();
    assert!(!due.is_empty());
    for txid in due {
        assert!(on_chain.contains(txid), "payment {txid} was not mined");
    }
}

#[test]
fn the_same_seed_gives_the_same_announcements() {
    let run = |seed: u64| {
        let scenario = Scenario::from_yaml_str(&yaml(seed), "trickle", &[]).expect("scenario");
        let mut world = World::new(Config::from_scenario(&scenario).expect("config"));
        world.run();
        world.finish().digest.hex()
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6));
}
