//! Observes a run and folds what happens into rows for the output CSVs.
//!
//! The [`Recorder`] only records: nothing in it feeds back into the
//! simulation, so turning any of it off cannot change the event digest.
//! Row types live in [`crate::report::rows`], shared with the chart code
//! that reads the files back.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::ledger::address::Address;
use crate::ledger::chainstate::TipChange;
use crate::ledger::{Amount, Block, BlockHash, Txid};
pub use crate::report::rows::{AttackRow, PaymentRow, SpvRow};
use crate::report::rows::{
    BalanceRow, BlockRow, MinerShareRow, NodeRow, PropagationRow, ReorgRow, SummaryRow, TipRow,
    NO_MINER,
};
use crate::sim::SimTime;

/// What the recorder needs to know about a run before it starts, as plain
/// values (the metrics layer imports nothing above it).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunShape {
    /// Whether every node's tip changes are recorded (`tips.csv`).
    pub record_tips: bool,
    /// Region names, by region index.
    pub region_names: Vec<String>,
    /// Every node's hashrate at the start, by node id.
    pub initial_hashrates: Vec<f64>,
    /// Number of full (non-light) nodes.
    pub full_nodes: u32,
}

/// What the world reports about each node at the end.
pub struct NodeFinal {
    /// Node id.
    pub node: u32,
    /// Role name (`miner`, `relay` or `light`).
    pub role: &'static str,
    /// Region index.
    pub region: usize,
    /// Final hashrate.
    pub hashrate_hps: f64,
    /// Number of peers.
    pub peers: u32,
    /// Final tip height.
    pub height: u32,
    /// Final tip.
    pub tip: BlockHash,
    /// Its peers at the end, sorted.
    pub peer_list: Vec<u32>,
}

/// An adversary as configured, for the summary.
#[derive(Clone, Debug, PartialEq)]
pub struct AttackerInfo {
    /// Index in the scenario's `adversaries`.
    pub index: u32,
    /// The attacker's node.
    pub node: u32,
    /// Its kind (`selfish`, …).
    pub kind: String,
    /// When the behaviour switched on, seconds.
    pub start_s: f64,
    /// For an explicit γ: the share of honest hashrate in the γ set.
    pub gamma_effective: Option<f64>,
    /// Its genesis coins, satoshis.
    pub endowment_sats: u64,
}

/// One block of the run as [`Recorder::mined_blocks`] yields it.
pub struct MinedBlock<'a> {
    /// Its `blocks.csv` row.
    pub row: &'a BlockRow,
    /// The block.
    pub block: &'a Rc<Block>,
    /// Its txids in block order (empty before [`Recorder::finish`]).
    pub txids: &'a [Txid],
    /// When it was found (zero for genesis).
    pub found: SimTime,
    /// Nodes that received it, in arrival order (the miner first).
    pub arrival_nodes: &'a [u32],
    /// Nanoseconds from being found to each of those arrivals.
    pub arrival_ns: &'a [u64],
}

/// Most miners `miner_share.csv` lists one by one; above it, attackers are
/// listed and every other miner is pooled as miner `-1`.
pub const MINER_SHARE_MAX_MINERS: usize = 100;

/// Most main-chain heights sampled in `miner_share.csv` (evenly, plus the
/// last).
pub const MINER_SHARE_MAX_SAMPLES: u32 = 1_000;

struct BlockRecord {
    row: BlockRow,
    found: SimTime,
    /// The block itself (shared with the block cache, not copied).
    block: Rc<Block>,
    /// Its txids, in block order (filled by [`Recorder::finish`]).
    txids: Vec<Txid>,
    /// First arrival (ns after found) at each node that got it.
    arrivals: Vec<u64>,
    /// The node of each entry of `arrivals`.
    arrival_nodes: Vec<u32>,
    /// Bitset over node ids: which nodes already counted.
    seen: Vec<u64>,
}

/// How compact blocks ended at their receivers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CompactCounts {
    /// Reconstructed with no round trip.
    pub reconstructed: u64,
    /// Needed a `getblocktxn` round trip.
    pub fetched: u64,
    /// Real transactions those round trips fetched.
    pub fetched_txs: u64,
    /// Round trips that fetched missed padding (the modelled part).
    pub padding_missed: u64,
    /// Fell back to a full block.
    pub fell_back: u64,
}

/// Collects everything a run writes.
pub struct Recorder {
    record_tips: bool,
    /// The last tip written to a tip row, and its hex: a block's arrival
    /// changes the tip of node after node to the same hash, formatted once.
    last_tip: Option<(BlockHash, String)>,
    region_names: Vec<String>,
    blocks: Vec<BlockRecord>,
    index: crate::ledger::hash::HashKeyMap<BlockHash, usize>,
    reorgs: Vec<ReorgRow>,
    tips: Vec<TipRow>,
    balances: Vec<BalanceRow>,
    spv: Vec<SpvRow>,
    payments: Vec<PaymentRow>,
    rejections: BTreeMap<String, u64>,
    tx_rejections: BTreeMap<String, u64>,
    timeline: Vec<(f64, String)>,
    per_node_reorgs: BTreeMap<u32, (u32, u32)>,
    messages: u64,
    bytes: u64,
    dropped: u64,
    /// `(messages, bytes)` per message kind ([`crate::node::msg::Msg::kind`]).
    by_kind: [(u64, u64); crate::node::msg::KIND_NAMES.len()],
    compact: CompactCounts,
    tx_accepts: u64,
    payments_skipped: u64,
    nodes: Vec<NodeRow>,
    /// Each node's peers at the end (from [`NodeFinal::peer_list`]).
    peer_lists: Vec<Vec<u32>>,
    summary: Vec<SummaryRow>,
    full_nodes: u32,
    node_count: usize,
    attacks: Vec<AttackRow>,
    attackers: Vec<AttackerInfo>,
    disconnections: u64,
    invalid_sent: u64,
    /// Hashrate of every node at the start.
    initial_hashrates: Vec<f64>,
    /// `(time, node, hps)` hashrate changes, in time order.
    hashrate_changes: Vec<(f64, u32, f64)>,
    miner_share: Vec<MinerShareRow>,
}

fn secs(t: SimTime) -> f64 {
    t.as_nanos() as f64 / 1e9
}

impl Recorder {
    /// A recorder for a run of this shape starting from `genesis`.
    pub fn new(shape: RunShape, genesis: &Rc<Block>) -> Recorder {
        let node_count = shape.initial_hashrates.len();
        let mut r = Recorder {
            record_tips: shape.record_tips,
            last_tip: None,
            region_names: shape.region_names,
            blocks: Vec::new(),
            index: Default::default(),
            reorgs: Vec::new(),
            tips: Vec::new(),
            balances: Vec::new(),
            spv: Vec::new(),
            payments: Vec::new(),
            rejections: BTreeMap::new(),
            tx_rejections: BTreeMap::new(),
            timeline: Vec::new(),
            per_node_reorgs: BTreeMap::new(),
            messages: 0,
            bytes: 0,
            dropped: 0,
            by_kind: Default::default(),
            compact: CompactCounts::default(),
            tx_accepts: 0,
            payments_skipped: 0,
            nodes: Vec::new(),
            peer_lists: Vec::new(),
            summary: Vec::new(),
            full_nodes: shape.full_nodes,
            node_count,
            attacks: Vec::new(),
            attackers: Vec::new(),
            disconnections: 0,
            invalid_sent: 0,
            initial_hashrates: shape.initial_hashrates,
            hashrate_changes: Vec::new(),
            miner_share: Vec::new(),
        };
        let hash = genesis.block_hash();
        r.index.insert(hash, 0);
        r.blocks.push(BlockRecord {
            row: BlockRow {
                hash: hash.to_string(),
                parent: genesis.header.prev_blockhash.to_string(),
                height: 0,
                miner: NO_MINER,
                time_s: 0.0,
                txs: genesis.txdata.len() as u32,
                size_bytes: genesis.size() as u64,
                main_chain: 1,
            },
            found: SimTime::ZERO,
            block: genesis.clone(),
            txids: Vec::new(),
            arrivals: Vec::new(),
            arrival_nodes: Vec::new(),
            seen: Vec::new(),
        });
        r
    }

    /// A miner found a block.
    pub fn block_mined(
        &mut self,
        now: SimTime,
        miner: u32,
        block: &Rc<Block>,
        hash: BlockHash,
        height: u32,
    ) {
        self.index.insert(hash, self.blocks.len());
        self.blocks.push(BlockRecord {
            row: BlockRow {
                hash: hash.to_string(),
                parent: block.header.prev_blockhash.to_string(),
                height,
                miner: miner as i64,
                time_s: secs(now),
                txs: block.txdata.len() as u32,
                size_bytes: block.size() as u64,
                main_chain: 0,
            },
            found: now,
            block: block.clone(),
            txids: Vec::new(),
            // At most one arrival per full node: reserved once, so the
            // columns never grow by doubling (up to half of them idle) and
            // only the pages arrivals fill are resident.
            arrivals: Vec::with_capacity(self.full_nodes as usize),
            arrival_nodes: Vec::with_capacity(self.full_nodes as usize),
            seen: vec![0; self.node_count.div_ceil(64)],
        });
    }

    /// A full node has a block for the first time (the miner counts at 0 ms).
    pub fn block_arrived(&mut self, now: SimTime, node: u32, hash: &BlockHash) {
        let Some(&bi) = self.index.get(hash) else {
            return;
        };
        let rec = &mut self.blocks[bi];
        let (word, bit) = (node as usize / 64, 1u64 << (node % 64));
        match rec.seen.get_mut(word) {
            Some(w) if *w & bit == 0 => *w |= bit,
            _ => return,
        }
        rec.arrivals
            .push(now.saturating_duration_since(rec.found).as_nanos());
        rec.arrival_nodes.push(node);
    }

    /// A node's tip changed.
    pub fn tip_changed(&mut self, now: SimTime, node: u32, tip: &BlockHash, height: u32) {
        if self.record_tips {
            let tip = match &self.last_tip {
                Some((last, hex)) if last == tip => hex.clone(),
                _ => {
                    let hex = tip.to_string();
                    self.last_tip = Some((*tip, hex.clone()));
                    hex
                }
            };
            self.tips.push(TipRow {
                node,
                time_s: secs(now),
                tip,
                height,
            });
        }
    }

    /// A node switched branches.
    pub fn reorg(&mut self, now: SimTime, node: u32, change: &TipChange, new_height: u32) {
        let depth = change.disconnected.len() as u32;
        let old_height = new_height + depth - change.connected.len() as u32;
        self.reorgs.push(ReorgRow {
            node,
            time_s: secs(now),
            depth,
            old_tip: change.old_tip.to_string(),
            new_tip: change.new_tip.to_string(),
            old_height,
            new_height,
        });
        let e = self.per_node_reorgs.entry(node).or_insert((0, 0));
        e.0 += 1;
        e.1 = e.1.max(depth);
    }

    /// A block or header was rejected.
    pub fn rejected(&mut self, reason: &str) {
        // Keep the reason class, not the hash, as the key.
        let key = reason.rsplit(": ").next().unwrap_or(reason).to_string();
        *self.rejections.entry(key).or_insert(0) += 1;
    }

    /// An adversary was configured.
    pub fn adversary(&mut self, info: AttackerInfo) {
        self.attackers.push(info);
    }

    /// A double-spend attempt's final row.
    pub fn attack(&mut self, row: AttackRow) {
        self.attacks.push(row);
    }

    /// An honest node dropped a misbehaving peer.
    pub fn disconnected(&mut self) {
        self.disconnections += 1;
    }

    /// An invalid-data attacker sent one item.
    pub fn invalid_sent(&mut self) {
        self.invalid_sent += 1;
    }

    /// A node's hashrate changed (timeline).
    pub fn hashrate_changed(&mut self, now: SimTime, node: u32, hps: f64) {
        self.hashrate_changes.push((secs(now), node, hps));
    }

    /// A transaction was accepted into a mempool.
    pub fn tx_accepted(&mut self, _now: SimTime, _node: u32, _txid: &Txid) {
        self.tx_accepts += 1;
    }

    /// A flooded payment reached `n` nodes (`workload.relay: flood`):
    /// counted like `n` mempool acceptances.
    pub fn tx_arrivals(&mut self, n: u64) {
        self.tx_accepts += n;
    }

    /// A transaction was refused by a mempool, for this reject reason
    /// (Core's, e.g. `txn-mempool-conflict`).
    pub fn tx_rejected(&mut self, reason: &str) {
        *self.tx_rejections.entry(reason.to_string()).or_insert(0) += 1;
    }

    /// A message was put on the wire.
    pub fn message_sent(&mut self, kind: usize, bytes: u64) {
        self.messages += 1;
        self.bytes += bytes;
        let k = &mut self.by_kind[kind];
        k.0 += 1;
        k.1 += bytes;
    }

    /// A compact block ended at its receiver.
    pub fn compact(&mut self, outcome: crate::node::io::CompactOutcome) {
        use crate::node::io::CompactOutcome;
        let c = &mut self.compact;
        match outcome {
            CompactOutcome::Reconstructed => c.reconstructed += 1,
            CompactOutcome::FetchedTxs { txs, padding } => {
                c.fetched += 1;
                c.fetched_txs += u64::from(txs);
                c.padding_missed += u64::from(padding);
            }
            CompactOutcome::FellBack => c.fell_back += 1,
        }
    }

    /// Compact-block outcomes so far.
    pub fn compact_counts(&self) -> CompactCounts {
        self.compact
    }

    /// Rows of `bandwidth.csv`: every message kind that was sent, in
    /// [`crate::node::msg::KIND_NAMES`] order.
    pub fn bandwidth_rows(&self) -> Vec<crate::report::rows::BandwidthRow> {
        crate::node::msg::KIND_NAMES
            .iter()
            .zip(&self.by_kind)
            .filter(|(_, (m, _))| *m > 0)
            .map(|(k, (m, b))| crate::report::rows::BandwidthRow {
                kind: k.to_string(),
                messages: *m,
                bytes: *b,
            })
            .collect()
    }

    /// A message was lost to a partition or an offline receiver.
    pub fn message_dropped(&mut self) {
        self.dropped += 1;
    }

    /// The workload issued a payment.
    pub fn payment_issued(&mut self, now: SimTime, from: u32, to: u32, txid: &Txid, sats: u64) {
        self.payments.push(PaymentRow {
            time_s: secs(now),
            from_wallet: from,
            to_wallet: to,
            txid: txid.to_string(),
            amount_sats: sats,
            confirmed: 0,
            block: String::new(),
            height: None,
            fee_sats: None,
        });
    }

    /// The workload had nothing to spend.
    pub fn payment_skipped(&mut self) {
        self.payments_skipped += 1;
    }

    /// A wallet balance sample.
    pub fn balance(&mut self, now: SimTime, wallet: u32, pkh: &[u8; 20], bal: Amount) {
        let t = secs(now);
        // The end-of-run sample may coincide with a periodic one.
        if let Some(last) = self.balances.iter().rev().find(|r| r.wallet == wallet) {
            if last.time_s == t {
                return;
            }
        }
        self.balances.push(BalanceRow {
            time_s: t,
            wallet,
            address: Address::from_pubkey_hash(*pkh).to_string(),
            confirmed_sats: bal.to_sat(),
        });
    }

    /// A light client checked a payment proof.
    pub fn spv_check(
        &mut self,
        now: SimTime,
        node: u32,
        txid: &Txid,
        block: &BlockHash,
        verdict: Result<u32, String>,
    ) {
        let (valid, confirmations, error) = match verdict {
            Ok(c) => (1, c, String::new()),
            Err(e) => (0, 0, e),
        };
        self.spv.push(SpvRow {
            node,
            time_s: secs(now),
            txid: txid.to_string(),
            block: block.to_string(),
            valid,
            confirmations,
            error,
        });
    }

    /// A timeline action took effect (`action`: how the world describes it).
    pub fn timeline(&mut self, now: SimTime, action: String) {
        self.timeline.push((secs(now), action));
    }

    /// Closes the books: marks the final main chain, builds node rows and
    /// the summary. `known_txids` gives a block's txids when the caller
    /// already has them (the run's block cache), so a block is not hashed
    /// again; others are computed.
    pub fn finish(
        &mut self,
        nodes: Vec<NodeFinal>,
        main_chain: &[BlockHash],
        known_txids: impl Fn(&Rc<Block>) -> Option<Vec<Txid>>,
    ) {
        let main: std::collections::HashSet<String> =
            main_chain.iter().map(|h| h.to_string()).collect();
        for b in &mut self.blocks {
            b.row.main_chain = main.contains(&b.row.hash) as u8;
            b.txids = known_txids(&b.block)
                .unwrap_or_else(|| b.block.txdata.iter().map(|t| t.compute_txid()).collect());
        }
        self.locate_payments(main_chain);
        self.peer_lists = nodes.iter().map(|n| n.peer_list.clone()).collect();
        self.build_miner_share();
        let mut mined: BTreeMap<u32, (u32, u32)> = BTreeMap::new();
        for b in &self.blocks[1..] {
            let e = mined.entry(b.row.miner as u32).or_insert((0, 0));
            e.0 += 1;
            e.1 += b.row.main_chain as u32;
        }
        self.nodes = nodes
            .into_iter()
            .map(|n| {
                let (mined, main) = mined.get(&n.node).copied().unwrap_or((0, 0));
                let (reorgs, deepest) =
                    self.per_node_reorgs.get(&n.node).copied().unwrap_or((0, 0));
                NodeRow {
                    node: n.node,
                    role: n.role.to_string(),
                    region: self.region_names.get(n.region).cloned().unwrap_or_default(),
                    hashrate_hps: n.hashrate_hps,
                    peers: n.peers,
                    blocks_mined: mined,
                    blocks_main: main,
                    reorgs,
                    deepest_reorg: deepest,
                    final_height: n.height,
                    final_tip: n.tip.to_string(),
                }
            })
            .collect();
    }

    /// Builds `miner_share.csv`: at every main-chain height (at most
    /// [`MINER_SHARE_MAX_SAMPLES`], evenly spaced, and the last), each
    /// miner's main-chain blocks so far, their share of the height, and
    /// its share of the total hashrate at that block's time.
    fn build_miner_share(&mut self) {
        let mut main: Vec<&BlockRow> = self.blocks[1..]
            .iter()
            .map(|b| &b.row)
            .filter(|r| r.main_chain == 1)
            .collect();
        main.sort_by_key(|r| r.height);
        let Some(top) = main.last().map(|r| r.height) else {
            return;
        };
        let mut hashrates = self.initial_hashrates.clone();
        let mut miners: std::collections::BTreeSet<u32> = hashrates
            .iter()
            .enumerate()
            .filter(|(_, h)| **h > 0.0)
            .map(|(i, _)| i as u32)
            .collect();
        miners.extend(main.iter().map(|r| r.miner as u32));
        miners.extend(self.hashrate_changes.iter().map(|c| c.1));
        let attackers: std::collections::BTreeSet<u32> =
            self.attackers.iter().map(|a| a.node).collect();
        let pooled = miners.len() > MINER_SHARE_MAX_MINERS;
        // The miner id a node is reported under.
        let column = |m: u32| -> i64 {
            if pooled && !attackers.contains(&m) {
                NO_MINER
            } else {
                m as i64
            }
        };
        let columns: std::collections::BTreeSet<i64> = miners.iter().map(|m| column(*m)).collect();
        let step = top.div_ceil(MINER_SHARE_MAX_SAMPLES).max(1);
        let mut counts: BTreeMap<i64, u32> = BTreeMap::new();
        let mut next_change = 0;
        for r in main {
            *counts.entry(column(r.miner as u32)).or_default() += 1;
            while let Some(&(t, node, hps)) = self.hashrate_changes.get(next_change) {
                if t > r.time_s {
                    break;
                }
                if let Some(h) = hashrates.get_mut(node as usize) {
                    *h = hps;
                }
                next_change += 1;
            }
            if r.height % step != 0 && r.height != top {
                continue;
            }
            let total: f64 = hashrates.iter().sum();
            let mut by_column: BTreeMap<i64, f64> = BTreeMap::new();
            for (i, h) in hashrates.iter().enumerate() {
                if *h > 0.0 {
                    *by_column.entry(column(i as u32)).or_default() += h;
                }
            }
            for c in &columns {
                let blocks = counts.get(c).copied().unwrap_or(0);
                self.miner_share.push(MinerShareRow {
                    time_s: r.time_s,
                    height: r.height,
                    miner: *c,
                    blocks_main: blocks,
                    share_main: blocks as f64 / r.height as f64,
                    hashrate_share: if total > 0.0 {
                        by_column.get(c).copied().unwrap_or(0.0) / total
                    } else {
                        0.0
                    },
                });
            }
        }
    }

    /// Fills each payment's final-main-chain block, height and fee from
    /// the mined blocks (after their txids are known).
    fn locate_payments(&mut self, main_chain: &[BlockHash]) {
        use std::collections::HashMap;
        let main: HashMap<BlockHash, u32> = main_chain
            .iter()
            .enumerate()
            .map(|(h, b)| (*b, h as u32))
            .collect();
        let mut confirmed: HashMap<Txid, (BlockHash, u32)> = HashMap::new();
        let mut txs: HashMap<Txid, &crate::ledger::Transaction> = HashMap::new();
        for b in &self.blocks {
            let hash = b.block.block_hash();
            for (t, txid) in b.block.txdata.iter().zip(&b.txids) {
                txs.entry(*txid).or_insert(t);
                if let Some(h) = main.get(&hash) {
                    confirmed.insert(*txid, (hash, *h));
                }
            }
        }
        let value = |o: &crate::ledger::OutPoint| -> Option<u64> {
            txs.get(&o.txid)
                .and_then(|t| t.output.get(o.vout as usize))
                .map(|out| out.value.to_sat())
        };
        for p in &mut self.payments {
            let Ok(txid) = p.txid.parse::<Txid>() else {
                continue;
            };
            if let Some((b, h)) = confirmed.get(&txid) {
                p.block = b.to_string();
                p.height = Some(*h);
            }
            p.fee_sats = txs.get(&txid).and_then(|t| {
                let ins: Option<u64> = t.input.iter().map(|i| value(&i.previous_output)).sum();
                let outs: u64 = t.output.iter().map(|o| o.value.to_sat()).sum();
                ins.and_then(|i| i.checked_sub(outs))
            });
        }
    }

    /// Every block of the run in mining order (genesis first): its row,
    /// the block, its txids, when it was found, and each full node's first
    /// arrival as `(node, ns after found)` in arrival order.
    pub fn mined_blocks(&self) -> impl Iterator<Item = MinedBlock<'_>> {
        self.blocks.iter().map(|b| MinedBlock {
            row: &b.row,
            block: &b.block,
            txids: &b.txids,
            found: b.found,
            arrival_nodes: &b.arrival_nodes,
            arrival_ns: &b.arrivals,
        })
    }

    /// Each node's peers at the end of the run (after [`Recorder::finish`]).
    pub fn peer_lists(&self) -> &[Vec<u32>] {
        &self.peer_lists
    }

    /// Number of nodes in the run.
    pub fn node_count(&self) -> usize {
        self.node_count
    }

    /// Mark payments confirmed given the set of txids on the final main chain.
    pub fn mark_confirmed(&mut self, confirmed: &std::collections::HashSet<Txid>) {
        for p in &mut self.payments {
            if let Ok(t) = p.txid.parse::<Txid>() {
                p.confirmed = confirmed.contains(&t) as u8;
            }
        }
    }

    /// Rows of `blocks.csv`, in mining order (genesis first).
    pub fn block_rows(&self) -> Vec<BlockRow> {
        self.blocks.iter().map(|b| b.row.clone()).collect()
    }

    /// Rows of `propagation.csv` (mined blocks only).
    pub fn propagation_rows(&self) -> Vec<PropagationRow> {
        let n = self.full_nodes.max(1);
        self.blocks[1..]
            .iter()
            .map(|b| {
                let mut a = b.arrivals.clone();
                a.sort_unstable();
                let pct = |k: u32| -> Option<f64> {
                    // Nodes needed for k% (rounded up), at least one.
                    let need = ((n as u64 * k as u64).div_ceil(100)).max(1) as usize;
                    a.get(need - 1).map(|ns| *ns as f64 / 1e6)
                };
                PropagationRow {
                    hash: b.row.hash.clone(),
                    height: b.row.height,
                    miner: b.row.miner,
                    nodes: n,
                    reached: a.len() as u32,
                    p10_ms: pct(10),
                    p20_ms: pct(20),
                    p30_ms: pct(30),
                    p40_ms: pct(40),
                    p50_ms: pct(50),
                    p60_ms: pct(60),
                    p70_ms: pct(70),
                    p80_ms: pct(80),
                    p90_ms: pct(90),
                    p100_ms: pct(100),
                }
            })
            .collect()
    }

    /// Rows of `reorgs.csv`.
    pub fn reorg_rows(&self) -> &[ReorgRow] {
        &self.reorgs
    }
    /// Rows of `tips.csv` (empty when not recorded).
    pub fn tip_rows(&self) -> &[TipRow] {
        &self.tips
    }
    /// Whether tips were recorded.
    pub fn records_tips(&self) -> bool {
        self.record_tips
    }
    /// Rows of `balances.csv`.
    pub fn balance_rows(&self) -> &[BalanceRow] {
        &self.balances
    }
    /// Rows of `spv.csv`.
    pub fn spv_rows(&self) -> &[SpvRow] {
        &self.spv
    }
    /// Rows of `payments.csv`.
    pub fn payment_rows(&self) -> &[PaymentRow] {
        &self.payments
    }
    /// Rows of `nodes.csv`.
    pub fn node_rows(&self) -> &[NodeRow] {
        &self.nodes
    }
    /// Rejected blocks/headers by reason.
    pub fn rejections(&self) -> &BTreeMap<String, u64> {
        &self.rejections
    }
    /// Rejected transactions by reason.
    pub fn tx_rejections(&self) -> &BTreeMap<String, u64> {
        &self.tx_rejections
    }
    /// Messages sent, bytes sent, messages dropped.
    pub fn traffic(&self) -> (u64, u64, u64) {
        (self.messages, self.bytes, self.dropped)
    }
    /// Mempool acceptances and skipped payments.
    pub fn tx_counts(&self) -> (u64, u64) {
        (self.tx_accepts, self.payments_skipped)
    }
    /// Rows of `attacks.csv`.
    pub fn attack_rows(&self) -> &[AttackRow] {
        &self.attacks
    }
    /// Rows of `miner_share.csv` (after [`Recorder::finish`]).
    pub fn miner_share_rows(&self) -> &[MinerShareRow] {
        &self.miner_share
    }
    /// The configured adversaries.
    pub fn attackers(&self) -> &[AttackerInfo] {
        &self.attackers
    }
    /// Links honest nodes dropped for misbehaviour.
    pub fn disconnections(&self) -> u64 {
        self.disconnections
    }
    /// Invalid items sent by invalid-data attackers.
    pub fn invalid_items_sent(&self) -> u64 {
        self.invalid_sent
    }
    /// Rows of `summary.csv` computed so far.
    pub fn summary_rows(&self) -> &[SummaryRow] {
        &self.summary
    }
}
