//! Misbehaviour scoring of peers, after Bitcoin Core's `Misbehaving` (the
//! "DoS score" of v0.20 to v27, `net_processing.cpp`).
//!
//! Each node keeps a score per peer. Data that breaks a consensus rule adds
//! points ([`block_penalty`], [`tx_penalty`], [`mempool_penalty`], or
//! [`penalty`] on a reject-reason string); when a peer's score reaches
//! [`DISCOURAGEMENT_THRESHOLD`] the node should disconnect it (Core then
//! also discourages its address). Data that is merely unwanted (already
//! known, conflicting with the mempool, premature, missing inputs that may
//! yet appear) costs nothing: honest peers send such data all the time.
//!
//! # The table (Core `MaybePunishNodeForBlock` / `MaybePunishNodeForTx`)
//!
//! Blocks, by Core's `BlockValidationResult`:
//!
//! | reason | Core result | points |
//! |---|---|---|
//! | `high-hash`, `bad-diffbits`, `time-too-old` | `BLOCK_INVALID_HEADER` | 100 |
//! | `bad-txnmrklroot`, `bad-txns-duplicate` | `BLOCK_MUTATED` | 100 |
//! | `bad-prevblk` | `BLOCK_INVALID_PREV` | 100 |
//! | `bad-blk-length`, `bad-cb-*`, `bad-txns-*`, `mandatory-script-verify-flag-failed` (any transaction rule inside a block) | `BLOCK_CONSENSUS` | 100 |
//! | `prev-blk-not-found` | `BLOCK_MISSING_PREV` ("10 DoS points is super arbitrary") | 10 |
//! | `time-too-new` | `BLOCK_TIME_FUTURE` | 0 |
//!
//! Transactions, by Core's `TxValidationResult`:
//!
//! | reason | Core result | points |
//! |---|---|---|
//! | `bad-txns-vin-empty`, `-vout-empty`, `-vout-toolarge`, `-txouttotal-toolarge`, `-inputs-duplicate`, `-prevout-null`, `bad-cb-length`, `coinbase`, `bad-txns-inputvalues-outofrange`, `bad-txns-in-belowout`, `mandatory-script-verify-flag-failed` | `TX_CONSENSUS` | 100 |
//! | `bad-txns-inputs-missingorspent` | `TX_MISSING_INPUTS` (could be an orphan) | 0 |
//! | `bad-txns-premature-spend-of-coinbase` | `TX_PREMATURE_SPEND` | 0 |
//! | already in the mempool, mempool conflict, mempool full | `TX_CONFLICT` / `TX_MEMPOOL_POLICY` | 0 |
//!
//! Unknown reason strings score 0: never punish what is not understood.
//!
//! Blocks whose parent is unknown are kept as orphans by
//! [`crate::ledger::chainstate::Chainstate`] rather than refused, and honest
//! peers send some (after a partition, or when blocks cross on two links).
//! For those, [`PeerScores::record_unconnecting`] follows Core's handling
//! of headers that do not connect (v0.15 to v26): every
//! [`MAX_UNCONNECTING`]-th in a row from one peer costs
//! [`UNCONNECTING_PENALTY`] points, and a block from that peer that does
//! connect ([`PeerScores::record_connecting`]) resets the run. A flood of
//! made-up parents thus reaches the threshold after 50 in a row.
//!
//! # Deliberate differences from Bitcoin
//!
//! - Core v28 dropped the points: any misbehaviour discourages at once.
//!   The scored form is kept here because it shows how a gradual offence
//!   (an orphan flood) accumulates.
//! - No exemptions: Core spares blocks relayed as high-bandwidth compact
//!   blocks (`BLOCK_MUTATED` via compact block), manual connections, and
//!   inbound peers on an invalid chain (`BLOCK_CACHED_INVALID`).
//!
//! # Layout
//!
//! [`PeerScores`] holds, per node, a vector of the peers that ever scored,
//! sorted by peer (12 bytes each): a 10,000-node run where nobody
//! misbehaves costs one empty vector per node.

use crate::ledger::validate::{BlockError, TxError};
use crate::node::mempool::MempoolError;

/// A score at or above this disconnects the peer (Core
/// `DISCOURAGEMENT_THRESHOLD`, formerly `-banscore`'s default).
pub const DISCOURAGEMENT_THRESHOLD: u32 = 100;

/// Every this many unconnecting blocks in a row cost
/// [`UNCONNECTING_PENALTY`] (Core `MAX_UNCONNECTING_HEADERS`).
pub const MAX_UNCONNECTING: u32 = 10;

/// Points per [`MAX_UNCONNECTING`] unconnecting blocks in a row (Core's
/// `Misbehaving(peer, 20, "%d non-connecting headers")`).
pub const UNCONNECTING_PENALTY: u32 = 20;

/// Where a rejected item came from: the same reason can cost differently
/// in a block and loose (missing inputs are fatal in a block, not in a
/// relayed transaction).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Source {
    /// A block message.
    Block,
    /// A transaction message.
    Tx,
}

/// Points for a rejection with Core reject `reason` (a
/// [`BlockError::reject_reason`] or [`TxError::reject_reason`] string) from
/// `source`; see the module docs for the table.
pub fn penalty(source: Source, reason: &str) -> u32 {
    match source {
        Source::Block => match reason {
            "time-too-new" => 0,
            "prev-blk-not-found" => 10,
            "high-hash"
            | "bad-diffbits"
            | "time-too-old"
            | "bad-txnmrklroot"
            | "bad-txns-duplicate"
            | "bad-prevblk"
            | "bad-blk-length"
            | "bad-cb-missing"
            | "bad-cb-multiple"
            | "bad-cb-amount"
            | "bad-cb-height"
            | "bad-cb-length"
            | "coinbase"
            | "mandatory-script-verify-flag-failed" => DISCOURAGEMENT_THRESHOLD,
            r if r.starts_with("bad-txns-") => DISCOURAGEMENT_THRESHOLD,
            _ => 0,
        },
        Source::Tx => match reason {
            "bad-txns-vin-empty"
            | "bad-txns-vout-empty"
            | "bad-txns-vout-toolarge"
            | "bad-txns-txouttotal-toolarge"
            | "bad-txns-inputs-duplicate"
            | "bad-txns-prevout-null"
            | "bad-cb-length"
            | "coinbase"
            | "bad-txns-inputvalues-outofrange"
            | "bad-txns-in-belowout"
            | "mandatory-script-verify-flag-failed" => DISCOURAGEMENT_THRESHOLD,
            _ => 0,
        },
    }
}

/// Points for a block rejected with `e`.
pub fn block_penalty(e: &BlockError) -> u32 {
    penalty(Source::Block, e.reject_reason())
}

/// Points for a relayed transaction rejected with `e`.
pub fn tx_penalty(e: &TxError) -> u32 {
    penalty(Source::Tx, e.reject_reason())
}

/// Points for a relayed transaction the mempool refused: policy refusals
/// (already known, conflict, full) cost nothing, a coinbase costs like
/// Core's `coinbase` (`TX_CONSENSUS`), invalid ones as [`tx_penalty`].
pub fn mempool_penalty(e: &MempoolError) -> u32 {
    match e {
        MempoolError::AlreadyKnown | MempoolError::Conflict(_) | MempoolError::FeeTooLow => 0,
        MempoolError::Coinbase => penalty(Source::Tx, "coinbase"),
        MempoolError::Invalid(e) => tx_penalty(e),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    peer: u32,
    score: u32,
    unconnecting: u32,
}

/// Misbehaviour scores of every (node, peer) pair (see the module docs).
/// Nodes and peers are indices (`u32`); the table grows on demand.
#[derive(Clone, Debug, Default)]
pub struct PeerScores {
    nodes: Vec<Vec<Entry>>,
    /// Entries in all lists (never removed): while none, lookups skip the
    /// node's list, which a large run reads cold on every block.
    pairs: usize,
}

impl PeerScores {
    /// An empty table.
    pub fn new() -> PeerScores {
        PeerScores::default()
    }

    /// An empty table with room for `nodes` nodes.
    pub fn with_nodes(nodes: usize) -> PeerScores {
        PeerScores {
            nodes: vec![Vec::new(); nodes],
            pairs: 0,
        }
    }

    fn entry(&mut self, node: u32, peer: u32) -> &mut Entry {
        let node = node as usize;
        if self.nodes.len() <= node {
            self.nodes.resize_with(node + 1, Vec::new);
        }
        let list = &mut self.nodes[node];
        let i = match list.binary_search_by_key(&peer, |e| e.peer) {
            Ok(i) => i,
            Err(i) => {
                self.pairs += 1;
                list.insert(
                    i,
                    Entry {
                        peer,
                        score: 0,
                        unconnecting: 0,
                    },
                );
                i
            }
        };
        &mut list[i]
    }

    fn get(&self, node: u32, peer: u32) -> Option<&Entry> {
        if self.pairs == 0 {
            return None;
        }
        let list = self.nodes.get(node as usize)?;
        list.binary_search_by_key(&peer, |e| e.peer)
            .ok()
            .map(|i| &list[i])
    }

    /// Adds `points` to `peer`'s score at `node` (Core `Misbehaving`).
    /// Returns true when the peer should be disconnected: `points > 0` and
    /// the score is now at or above [`DISCOURAGEMENT_THRESHOLD`] (so a
    /// caller may disconnect on every true; zero points never disconnect
    /// and record nothing).
    pub fn record(&mut self, node: u32, peer: u32, points: u32) -> bool {
        if points == 0 {
            return false;
        }
        let e = self.entry(node, peer);
        e.score = e.score.saturating_add(points);
        e.score >= DISCOURAGEMENT_THRESHOLD
    }

    /// Records a block from `peer` whose parent `node` does not have;
    /// every [`MAX_UNCONNECTING`]-th in a row adds [`UNCONNECTING_PENALTY`].
    /// Returns what [`PeerScores::record`] returns for those points (false
    /// when none were added).
    pub fn record_unconnecting(&mut self, node: u32, peer: u32) -> bool {
        let e = self.entry(node, peer);
        e.unconnecting = e.unconnecting.saturating_add(1);
        if e.unconnecting % MAX_UNCONNECTING != 0 {
            return false;
        }
        self.record(node, peer, UNCONNECTING_PENALTY)
    }

    /// Records a block from `peer` that connected to `node`'s tree: ends
    /// the peer's run of unconnecting blocks (its score stays).
    pub fn record_connecting(&mut self, node: u32, peer: u32) {
        if self.pairs == 0 {
            return;
        }
        if let Some(list) = self.nodes.get_mut(node as usize) {
            if let Ok(i) = list.binary_search_by_key(&peer, |e| e.peer) {
                list[i].unconnecting = 0;
            }
        }
    }

    /// `peer`'s score at `node` (0 if it never misbehaved).
    pub fn score(&self, node: u32, peer: u32) -> u32 {
        self.get(node, peer).map_or(0, |e| e.score)
    }

    /// `peer`'s current run of unconnecting blocks at `node`.
    pub fn unconnecting(&self, node: u32, peer: u32) -> u32 {
        self.get(node, peer).map_or(0, |e| e.unconnecting)
    }

    /// Whether `peer`'s score at `node` reached the threshold.
    pub fn is_discouraged(&self, node: u32, peer: u32) -> bool {
        self.score(node, peer) >= DISCOURAGEMENT_THRESHOLD
    }

    /// Every (node, peer, score) with a positive score, sorted by node then
    /// peer.
    pub fn scored(&self) -> Vec<(u32, u32, u32)> {
        self.nodes
            .iter()
            .enumerate()
            .flat_map(|(n, list)| {
                list.iter()
                    .filter(|e| e.score > 0)
                    .map(move |e| (n as u32, e.peer, e.score))
            })
            .collect()
    }

    /// Number of (node, peer) pairs at or above the threshold.
    pub fn discouraged_count(&self) -> usize {
        self.nodes
            .iter()
            .flatten()
            .filter(|e| e.score >= DISCOURAGEMENT_THRESHOLD)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::hash::{BlockHash, MerkleNode, Txid};
    use crate::ledger::pow::{CompactTarget, PowError, Target};
    use crate::ledger::sighash::ScriptError;
    use crate::ledger::{Amount, OutPoint};

    fn op() -> OutPoint {
        OutPoint {
            txid: Txid([7; 32]),
            vout: 1,
        }
    }

    /// Every `TxError` variant, with its points loose and inside a block.
    fn tx_table() -> Vec<(TxError, u32, u32)> {
        let a = Amount::from_sat_unchecked(1);
        vec![
            (TxError::InputsEmpty, 100, 100),
            (TxError::OutputsEmpty, 100, 100),
            (TxError::OutputTooLarge { vout: 0, value: a }, 100, 100),
            (TxError::OutputTotalTooLarge, 100, 100),
            (TxError::DuplicateInput(op()), 100, 100),
            (TxError::CoinbaseScriptSize(1), 100, 100),
            (TxError::NullPrevout { input: 0 }, 100, 100),
            (TxError::Coinbase, 100, 100),
            // Missing inputs may be an orphan's: Core keeps it, no points.
            (
                TxError::MissingOrSpent {
                    input: 0,
                    outpoint: op(),
                },
                0,
                100,
            ),
            (
                TxError::PrematureCoinbaseSpend {
                    input: 0,
                    outpoint: op(),
                    depth: 1,
                    maturity: 100,
                },
                0,
                100,
            ),
            (TxError::InputValuesOutOfRange, 100, 100),
            (
                TxError::InBelowOut {
                    value_in: a,
                    value_out: a,
                },
                100,
                100,
            ),
            (
                TxError::Script {
                    input: 0,
                    error: ScriptError::BadSignature,
                },
                100,
                100,
            ),
        ]
    }

    #[test]
    fn every_tx_error_has_its_core_points() {
        for (e, loose, in_block) in tx_table() {
            assert_eq!(tx_penalty(&e), loose, "{}", e.reject_reason());
            let b = BlockError::Tx {
                index: 1,
                txid: Txid::ZERO,
                error: e.clone(),
            };
            assert_eq!(block_penalty(&b), in_block, "{}", e.reject_reason());
            assert_eq!(
                mempool_penalty(&MempoolError::Invalid(e.clone())),
                loose,
                "{}",
                e.reject_reason()
            );
        }
    }

    #[test]
    fn every_block_error_has_its_core_points() {
        let h = BlockHash([1; 32]);
        let bits = CompactTarget::from_consensus(0x1d00ffff);
        let table = vec![
            (
                BlockError::HighHash {
                    hash: h,
                    target: Target::MAX,
                },
                100,
            ),
            (BlockError::BadBits(PowError::AboveLimit(1)), 100),
            (
                BlockError::BadDiffBits {
                    expected: bits,
                    got: bits,
                },
                100,
            ),
            (
                BlockError::TimeTooOld {
                    time: 1,
                    median_time_past: 2,
                },
                100,
            ),
            (BlockError::TimeTooNew { time: 2, max: 1 }, 0),
            (
                BlockError::BadMerkleRoot {
                    header: MerkleNode::ZERO,
                    computed: MerkleNode([1; 32]),
                },
                100,
            ),
            (BlockError::MutatedMerkle, 100),
            (BlockError::DuplicateTx(Txid::ZERO), 100),
            (BlockError::NoTransactions, 100),
            (BlockError::TooLarge { size: 2, max: 1 }, 100),
            (BlockError::CoinbaseMissing, 100),
            (BlockError::CoinbaseMultiple { index: 1 }, 100),
            (
                BlockError::CoinbaseAmount {
                    got: Amount::from_sat_unchecked(2),
                    max: Amount::from_sat_unchecked(1),
                },
                100,
            ),
            (
                BlockError::CoinbaseHeight {
                    expected: 1,
                    got: None,
                },
                100,
            ),
            (BlockError::FeesOutOfRange, 100),
            (BlockError::OutputExists(op()), 100),
            (BlockError::PrevBlockNotFound(h), 10),
            (BlockError::BadPrevBlock(h), 100),
        ];
        for (e, points) in table {
            assert_eq!(block_penalty(&e), points, "{}", e.reject_reason());
        }
    }

    #[test]
    fn policy_refusals_and_unknown_reasons_cost_nothing() {
        assert_eq!(mempool_penalty(&MempoolError::AlreadyKnown), 0);
        assert_eq!(mempool_penalty(&MempoolError::Conflict(Txid::ZERO)), 0);
        assert_eq!(mempool_penalty(&MempoolError::FeeTooLow), 0);
        assert_eq!(mempool_penalty(&MempoolError::Coinbase), 100);
        assert_eq!(penalty(Source::Block, "something-new"), 0);
        assert_eq!(penalty(Source::Tx, "txn-mempool-conflict"), 0);
        // The same reason costs differently loose and in a block.
        assert_eq!(penalty(Source::Tx, "bad-txns-inputs-missingorspent"), 0);
        assert_eq!(
            penalty(Source::Block, "bad-txns-inputs-missingorspent"),
            100
        );
    }

    #[test]
    fn score_accumulates_per_pair_until_the_threshold() {
        let mut s = PeerScores::new();
        assert!(!s.record(3, 7, 10));
        assert!(!s.record(3, 7, 0), "zero points never disconnect");
        for _ in 0..8 {
            assert!(!s.record(3, 7, 10));
        }
        assert_eq!(s.score(3, 7), 90);
        assert!(!s.is_discouraged(3, 7));
        assert!(s.record(3, 7, 10));
        assert!(s.is_discouraged(3, 7));
        assert!(s.record(3, 7, 1), "stays over the threshold");
        // Other pairs are untouched, in both directions.
        assert_eq!(s.score(7, 3), 0);
        assert_eq!(s.score(3, 8), 0);
        assert!(s.record(0, 1, 100));
        assert_eq!(s.score(0, 1), 100);
        assert_eq!(s.scored(), vec![(0, 1, 100), (3, 7, 101)]);
        assert_eq!(s.discouraged_count(), 2);
        // Saturates instead of wrapping.
        assert!(s.record(0, 1, u32::MAX));
        assert_eq!(s.score(0, 1), u32::MAX);
    }

    #[test]
    fn peers_stay_sorted_and_independent() {
        let mut s = PeerScores::with_nodes(2);
        for peer in [9, 2, 5, 0, 7] {
            s.record(1, peer, peer + 1);
        }
        for peer in [0, 2, 5, 7, 9] {
            assert_eq!(s.score(1, peer), peer + 1);
        }
        let peers: Vec<u32> = s.scored().iter().map(|(_, p, _)| *p).collect();
        assert_eq!(peers, vec![0, 2, 5, 7, 9]);
        assert_eq!(s.score(0, 9), 0);
        assert_eq!(s.score(500, 9), 0, "unknown nodes read as zero");
    }

    #[test]
    fn unconnecting_blocks_score_every_tenth_in_a_row() {
        let mut s = PeerScores::new();
        // Nine in a row cost nothing; a connecting block resets the run.
        for _ in 0..9 {
            assert!(!s.record_unconnecting(0, 1));
        }
        assert_eq!((s.score(0, 1), s.unconnecting(0, 1)), (0, 9));
        s.record_connecting(0, 1);
        assert_eq!(s.unconnecting(0, 1), 0);
        for _ in 0..9 {
            s.record_unconnecting(0, 1);
        }
        assert_eq!(s.score(0, 1), 0, "the run restarted");
        // A flood: every tenth costs 20, the fiftieth disconnects.
        let mut disconnect_at = None;
        for i in 10..=60 {
            if s.record_unconnecting(0, 1) && disconnect_at.is_none() {
                disconnect_at = Some(i);
            }
        }
        assert_eq!(disconnect_at, Some(50));
        assert_eq!(s.score(0, 1), 120);
        // Connecting does not forgive the points.
        s.record_connecting(0, 1);
        assert!(s.is_discouraged(0, 1));
        // Resetting a pair that never scored is a no-op.
        s.record_connecting(4, 4);
        assert_eq!(s.scored().len(), 1);
    }
}
