//! Modelled transaction flood (`workload.relay: flood`), for networks too
//! large to relay every payment hop by hop.
//!
//! With `relay: messages` every node takes each transaction through `inv`,
//! `getdata` and `tx` messages and its own mempool: at 10,000 nodes and one
//! payment a second that is over 10^9 events per simulated day. The flood
//! keeps the ledger real and models only the hops:
//!
//! - A payment is signed by its wallet and validated once, with the real
//!   mempool rules, against its home node's chain ([`Flood::add`] is only
//!   called for a payment that passed).
//! - Its arrival time at every node is the shortest path from the home node
//!   over the peer graph as it is when the payment is sent (partitions and
//!   offline nodes cut links). One hop from `u` to `v` costs what the
//!   message relay costs a node with nothing else pending: one announce
//!   interval, the mean latencies of `inv` (u→v), `getdata` (v→u) and `tx`
//!   (u→v), the transmission time of a payment of nominal size (one input,
//!   two outputs: 226 bytes) at the pair's bandwidth, and the processing
//!   delays of the two control messages and the `tx` ([`hop_delay`]). Per-message jitter and uplink queueing behind
//!   blocks are not modelled.
//! - A miner's mempool is rebuilt when it finds a block
//!   ([`Flood::mempool_for`]): the payments that have reached it and are not
//!   confirmed on its active chain, accepted in arrival order by the real
//!   [`Mempool`] against its tip (fee-rate order, size limit, conflicts).
//!   Blocks are relayed and validated by every node as in the message relay.
//! - A payment confirmed [`PRUNE_DEPTH`] blocks deep on a miner's active
//!   chain is forgotten; a reorg deeper than that does not return it.
//!
//! Scenario validation refuses the flood together with adversaries, whose
//! attacks need per-node mempools.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use petgraph::graph::{DiGraph, NodeIndex};

use crate::ledger::chainstate::{BlockCache, Chainstate};
use crate::ledger::hash::HashKeyMap;
use crate::ledger::{BlockHash, OutPoint, Params, Transaction, Txid};
use crate::net::link::LinkModel;
use crate::net::partition::Partitions;
use crate::net::topology::NodeId;
use crate::node::mempool::Mempool;
use crate::sim::{SimDuration, SimTime};

use super::event::MSG_HEADER_BYTES;

/// The network a payment floods over, as it is when it is sent.
pub struct Network<'a> {
    /// Every node's full-node peer list.
    pub peers: &'a dyn Fn(usize) -> &'a [u32],
    /// Which nodes are online and which links a partition cuts.
    pub partitions: &'a Partitions,
    /// What one hop costs.
    pub cost: HopCost<'a>,
}

/// Confirmations after which a flooded payment is forgotten.
pub const PRUNE_DEPTH: u32 = 100;

/// Arrival offsets from one home node: nanoseconds after sending, or
/// `u64::MAX` where the payment cannot reach.
type Offsets = Rc<[u64]>;

/// What one hop of the message relay costs, see the module docs.
#[derive(Clone, Copy)]
pub struct HopCost<'a> {
    /// The latency and bandwidth model.
    pub link: &'a LinkModel,
    /// Each node's region.
    pub regions: &'a [u16],
    /// Batched announcement interval.
    pub announce_interval: SimDuration,
    /// Processing delay of the `tx` message.
    pub processing: SimDuration,
    /// Processing delay of the `inv` and `getdata` messages.
    pub control_processing: SimDuration,
    /// Size of a relayed payment in bytes (a nominal size: the hop costs are
    /// cached per home node, not per payment).
    pub tx_bytes: u64,
}

/// The delay of one relay hop from `u` to `v`.
pub fn hop_delay(c: &HopCost<'_>, u: usize, v: usize) -> SimDuration {
    let (ru, rv) = (c.regions[u] as usize, c.regions[v] as usize);
    let there = c.link.model(ru, rv).mean_ms();
    let back = c.link.model(rv, ru).mean_ms();
    c.announce_interval
        + SimDuration::from_millis_f64(2.0 * there + back)
        + c.link.transmission(MSG_HEADER_BYTES + c.tx_bytes, ru, rv)
        + c.control_processing.saturating_mul(2)
        + c.processing
}

struct FloodTx {
    txid: Txid,
    tx: Rc<Transaction>,
    sent: SimTime,
    offsets: Offsets,
    /// Blocks that included it (on any branch).
    mined_in: Vec<BlockHash>,
}

/// The flooded payments and the arrival-time cache.
#[derive(Default)]
pub struct Flood {
    /// The per-hop delay graph for the current connectivity.
    graph: Option<DiGraph<(), u64>>,
    /// Arrival offsets per home node, for `graph`.
    offsets: BTreeMap<u32, Offsets>,
    /// Unforgotten payments by send order.
    pending: BTreeMap<u64, FloodTx>,
    by_txid: HashKeyMap<Txid, u64>,
    /// Outpoints spent by unforgotten payments.
    spent: BTreeSet<OutPoint>,
    next_seq: u64,
    arrivals: u64,
}

impl Flood {
    /// Forgets the graph: connectivity changed (partition, heal, a node
    /// going offline or online, a disconnect). Payments already sent keep
    /// the arrival times of their moment.
    pub fn invalidate(&mut self) {
        self.graph = None;
        self.offsets.clear();
    }

    /// Whether an unforgotten payment spends `op`.
    pub fn spends(&self, op: &OutPoint) -> bool {
        self.spent.contains(op)
    }

    /// Node-arrivals computed so far (one per payment and reachable node).
    pub fn arrivals(&self) -> u64 {
        self.arrivals
    }

    /// Floods a payment validated at `home` at time `sent` over `net`.
    pub fn add(
        &mut self,
        txid: Txid,
        tx: Rc<Transaction>,
        sent: SimTime,
        home: u32,
        net: &Network<'_>,
    ) {
        let offsets = self.offsets_from(home, net);
        self.arrivals += offsets.iter().filter(|&&o| o != u64::MAX).count() as u64;
        for input in &tx.input {
            self.spent.insert(input.previous_output);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.by_txid.insert(txid, seq);
        self.pending.insert(
            seq,
            FloodTx {
                txid,
                tx,
                sent,
                offsets,
                mined_in: Vec::new(),
            },
        );
    }

    fn offsets_from(&mut self, home: u32, net: &Network<'_>) -> Offsets {
        let (cost, partitions) = (&net.cost, net.partitions);
        if let Some(o) = self.offsets.get(&home) {
            return o.clone();
        }
        let n = cost.regions.len();
        let graph = self.graph.get_or_insert_with(|| {
            let mut g = DiGraph::with_capacity(n, 0);
            for _ in 0..n {
                g.add_node(());
            }
            for u in 0..n {
                if !partitions.is_online(NodeId(u as u32)) {
                    continue;
                }
                for &v in (net.peers)(u) {
                    if partitions.can_communicate(NodeId(u as u32), NodeId(v)) {
                        // Capped so no path of at most n hops overflows
                        // (petgraph adds weights unchecked); a cap this
                        // large is "never" in practice.
                        let w = hop_delay(cost, u, v as usize)
                            .as_nanos()
                            .min(u64::MAX / (n as u64 + 1));
                        g.add_edge(NodeIndex::new(u), NodeIndex::new(v as usize), w);
                    }
                }
            }
            g
        });
        let mut out = vec![u64::MAX; n];
        for (node, d) in
            petgraph::algo::dijkstra(&*graph, NodeIndex::new(home as usize), None, |e| {
                *e.weight()
            })
        {
            out[node.index()] = d;
        }
        let out: Offsets = Rc::from(out);
        self.offsets.insert(home, out.clone());
        out
    }

    /// Records that block `hash` includes `txids`.
    pub fn mined(&mut self, hash: BlockHash, txids: impl IntoIterator<Item = Txid>) {
        for t in txids {
            if let Some(seq) = self.by_txid.get(&t) {
                if let Some(p) = self.pending.get_mut(seq) {
                    p.mined_in.push(hash);
                }
            }
        }
    }

    /// Node `node`'s mempool at `now`: the payments that have reached it
    /// and are not confirmed on `chain`, accepted in arrival order (ties in
    /// send order) against its tip. Also forgets payments confirmed
    /// [`PRUNE_DEPTH`] deep on `chain`.
    pub fn mempool_for(
        &mut self,
        node: u32,
        now: SimTime,
        chain: &Chainstate,
        params: &Params,
        cache: &mut BlockCache,
        max_bytes: usize,
    ) -> Mempool {
        let height = chain.height();
        let mut arrived = Vec::new();
        let mut forget = Vec::new();
        for (&seq, p) in &self.pending {
            let confirmed_at = p
                .mined_in
                .iter()
                .filter(|h| chain.is_on_active_chain(h))
                .filter_map(|h| chain.info(h).map(|i| i.height))
                .min();
            if let Some(at) = confirmed_at {
                if height.saturating_sub(at) + 1 >= PRUNE_DEPTH {
                    forget.push(seq);
                }
                continue;
            }
            let off = p.offsets[node as usize];
            if off != u64::MAX && p.sent + SimDuration::from_nanos(off) <= now {
                arrived.push((p.sent.as_nanos().saturating_add(off), seq));
            }
        }
        arrived.sort_unstable();
        let mut pool = Mempool::new(max_bytes);
        for (_, seq) in arrived {
            let p = &self.pending[&seq];
            // A payment the miner cannot use yet (its coin is not confirmed
            // on this branch) or that lost to a conflict is left out.
            let _ = pool.accept(
                p.txid,
                p.tx.clone(),
                chain.utxos(),
                height,
                params,
                cache.sigs(),
            );
        }
        for seq in forget {
            if let Some(p) = self.pending.remove(&seq) {
                self.by_txid.remove(&p.txid);
                for input in &p.tx.input {
                    self.spent.remove(&input.previous_output);
                }
            }
        }
        pool
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::link::LatencyModel;

    fn line(n: u32) -> Vec<Vec<u32>> {
        (0..n)
            .map(|u| {
                let mut p = Vec::new();
                if u > 0 {
                    p.push(u - 1);
                }
                if u + 1 < n {
                    p.push(u + 1);
                }
                p
            })
            .collect()
    }

    #[test]
    fn hop_is_interval_three_latencies_transmission_and_processing() {
        // 100 ms each way, 8 Mbit/s: 100 + 24 bytes take 124 µs.
        let link = LinkModel::uniform(LatencyModel::Constant { ms: 100.0 }, 8.0, 8.0).unwrap();
        let regions = [0u16, 0];
        let cost = HopCost {
            link: &link,
            regions: &regions,
            announce_interval: SimDuration::from_secs(2),
            processing: SimDuration::from_millis(1),
            control_processing: SimDuration::from_millis(1),
            tx_bytes: 100,
        };
        assert_eq!(
            hop_delay(&cost, 0, 1),
            SimDuration::from_nanos(2_000_000_000 + 300_000_000 + 124_000 + 3_000_000)
        );
        // SimBlock's split: 10 ms per control message (inv, getdata), 2 ms
        // per payload (tx).
        let split = HopCost {
            processing: SimDuration::from_millis(2),
            control_processing: SimDuration::from_millis(10),
            ..cost
        };
        assert_eq!(
            hop_delay(&split, 0, 1),
            SimDuration::from_nanos(2_000_000_000 + 300_000_000 + 124_000 + 22_000_000)
        );
    }

    #[test]
    fn arrivals_follow_shortest_paths_and_stop_at_a_partition() {
        let link = LinkModel::uniform(LatencyModel::Constant { ms: 10.0 }, 100.0, 100.0).unwrap();
        let regions = [0u16; 5];
        let cost = HopCost {
            link: &link,
            regions: &regions,
            announce_interval: SimDuration::from_secs(1),
            processing: SimDuration::ZERO,
            control_processing: SimDuration::ZERO,
            tx_bytes: 200,
        };
        let hop = hop_delay(&cost, 0, 1).as_nanos();
        let peers = line(5);
        let peers_of = |u: usize| peers[u].as_slice();
        let parts = Partitions::new(5);
        let mut flood = Flood::default();
        fn net<'a>(
            peers: &'a dyn Fn(usize) -> &'a [u32],
            partitions: &'a Partitions,
            cost: HopCost<'a>,
        ) -> Network<'a> {
            Network {
                peers,
                partitions,
                cost,
            }
        }
        let o = flood.offsets_from(2, &net(&peers_of, &parts, cost));
        assert_eq!(&*o, &[2 * hop, hop, 0, hop, 2 * hop]);
        // Cached until the links change.
        let mut cut_parts = Partitions::new(5);
        cut_parts
            .partition(vec![vec![NodeId(0), NodeId(1)]])
            .unwrap();
        let same = flood.offsets_from(2, &net(&peers_of, &cut_parts, cost));
        assert!(Rc::ptr_eq(&o, &same));
        flood.invalidate();
        let cut = flood.offsets_from(2, &net(&peers_of, &cut_parts, cost));
        assert_eq!(&*cut, &[u64::MAX, u64::MAX, 0, hop, 2 * hop]);
    }
}
