//! Transaction trickling as Bitcoin Core does it (`net_processing.cpp`,
//! `SendMessages`): a full node does not announce a transaction the moment
//! it accepts it. It queues the txid for every peer that is not known to
//! have it (Core's `m_tx_inventory_to_send`) and announces each peer's queue
//! in one `inv` when that peer's trickle timer fires:
//!
//! - an **outbound** peer (a link this node opened) has its own timer, a
//!   Poisson process with mean [`TrickleConfig::outbound_interval`]
//!   (Core's `OUTBOUND_INVENTORY_BROADCAST_INTERVAL`, 2 s);
//! - all **inbound** peers share one timer with mean
//!   [`TrickleConfig::inbound_interval`] (Core's `NextInvToInbounds` with
//!   `INBOUND_INVENTORY_BROADCAST_INTERVAL`, 5 s), so inbound peers cannot
//!   time a transaction's origin by connecting many times;
//! - one `inv` carries at most `broadcast_per_s × inbound_interval` txids
//!   plus 5 per 1,000 still queued, capped at
//!   [`TrickleConfig::broadcast_max`] (Core's `INVENTORY_BROADCAST_TARGET`
//!   and `INVENTORY_BROADCAST_MAX`); the rest waits for the next firing;
//! - a txid is never queued for, and is dropped from the queue of, a peer
//!   known to have it: the peer it came from, and peers that announced it
//!   (Core's `m_tx_inventory_known_filter`, filled by `AddKnownTx`). A
//!   transaction announced to a peer has left that peer's queue, so it is
//!   not announced to it again.
//!
//! Timers are set only while a queue holds something: a Poisson process is
//! memoryless, so the time from a txid's queueing to the next firing is the
//! same exponential whether the timer kept ticking over empty queues (as in
//! Core) or is drawn when the queue stops being empty (as here). The draws
//! come from the node's own `trickle` stream. What differs from Core: the
//! queue is announced in arrival order (Core sorts by ancestor count and
//! fee rate), and the known filter is exact (Core's is a rolling Bloom
//! filter of 50,000 entries with a one-in-a-million false-positive rate).
//!
//! Announcements of transactions a peer has already seen are left out by
//! the world when it carries out [`Output::TrickleTxs`] (it reads the
//! peer's known-transaction column; see `world`): they would do nothing on
//! arrival.

use std::collections::VecDeque;

use rand::Rng;
use rand_chacha::ChaCha12Rng;

use crate::ledger::Txid;
use crate::node::io::{Outbox, Output, Timer};
use crate::node::msg::NodeIdx;
use crate::sim::SimDuration;

/// How a node trickles transaction announcements (`network.trickle`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrickleConfig {
    /// Mean interval of the timer all inbound peers share (Core: 5 s).
    pub inbound_interval: SimDuration,
    /// Mean interval of each outbound peer's timer (Core: 2 s).
    pub outbound_interval: SimDuration,
    /// Target announcements per second (Core's
    /// `INVENTORY_BROADCAST_PER_SECOND`, 7); times `inbound_interval` it is
    /// the target size of one `inv`.
    pub broadcast_per_s: u32,
    /// Most txids in one `inv` (Core's `INVENTORY_BROADCAST_MAX`, 1,000).
    pub broadcast_max: u32,
}

impl Default for TrickleConfig {
    /// Bitcoin Core's values.
    fn default() -> Self {
        TrickleConfig {
            inbound_interval: SimDuration::from_secs(5),
            outbound_interval: SimDuration::from_secs(2),
            broadcast_per_s: 7,
            broadcast_max: 1000,
        }
    }
}

impl TrickleConfig {
    /// Most txids one `inv` may carry when `queued` are waiting: Core's
    /// `INVENTORY_BROADCAST_TARGET + queued / 1000 * 5`, capped at
    /// `broadcast_max`, and at least one.
    pub fn broadcast_limit(&self, queued: usize) -> usize {
        let target = (self.broadcast_per_s as f64 * self.inbound_interval.as_secs_f64()).round();
        let target = (target as usize).max(1);
        (target + queued / 1000 * 5).min(self.broadcast_max.max(1) as usize)
    }
}

/// One peer's announcement queue.
#[derive(Debug)]
struct PeerQueue {
    peer: NodeIdx,
    /// This node opened the link (the peer has its own timer).
    outbound: bool,
    /// The peer's own timer is set (outbound peers only).
    timer_set: bool,
    /// Txids waiting for the next firing, in arrival order.
    to_send: Vec<Txid>,
}

/// Peers' announcements remembered before the transaction was accepted
/// (a rolling window: the oldest is forgotten beyond this many).
const EARLY_ANNOUNCEMENTS: usize = 1024;

/// A full node's trickle state: a queue per peer, the timers that are set,
/// and the node's random stream for timer draws.
#[derive(Debug)]
pub struct Trickle {
    peers: Vec<PeerQueue>,
    inbound_timer_set: bool,
    /// `(txid, peer)`: the peer announced the txid before this node
    /// accepted it (the part of Core's known filter that precedes
    /// acceptance).
    early: VecDeque<(Txid, NodeIdx)>,
    rng: ChaCha12Rng,
}

impl Trickle {
    /// Queues for `peers` (`(peer, outbound)`, in the node's peer order),
    /// drawing timers from `rng`.
    pub fn new(peers: impl IntoIterator<Item = (NodeIdx, bool)>, rng: ChaCha12Rng) -> Trickle {
        Trickle {
            peers: peers
                .into_iter()
                .map(|(peer, outbound)| PeerQueue {
                    peer,
                    outbound,
                    timer_set: false,
                    to_send: Vec::new(),
                })
                .collect(),
            inbound_timer_set: false,
            early: VecDeque::new(),
            rng,
        }
    }

    /// The link to `peer` is gone: forget its queue.
    pub fn remove_peer(&mut self, peer: NodeIdx) {
        self.peers.retain(|q| q.peer != peer);
    }

    /// Txids waiting for `peer` (empty for an unknown peer).
    pub fn queued(&self, peer: NodeIdx) -> &[Txid] {
        self.peers
            .iter()
            .find(|q| q.peer == peer)
            .map_or(&[], |q| &q.to_send[..])
    }

    /// `from` announced `txid`; `accepted`: this node already holds it.
    /// The peer knows it: it leaves that peer's queue, or, while this node
    /// has not accepted it yet, is remembered so it is never queued for
    /// that peer.
    pub fn on_announced(&mut self, from: NodeIdx, txid: &Txid, accepted: bool) {
        if accepted {
            if let Some(q) = self.peers.iter_mut().find(|q| q.peer == from) {
                q.to_send.retain(|t| t != txid);
            }
        } else {
            if self.early.len() == EARLY_ANNOUNCEMENTS {
                self.early.pop_front();
            }
            self.early.push_back((*txid, from));
        }
    }

    /// This node will not accept `txid` (rejected): forget who announced it.
    pub fn forget(&mut self, txid: &Txid) {
        if !self.early.is_empty() {
            self.early.retain(|(t, _)| t != txid);
        }
    }

    /// This node accepted `txid` (from peer `from`, `None`: submitted
    /// locally): queue it for every other peer not known to have it, and
    /// set the timers that are not set. `has_seen` is the simulator's
    /// oracle for peers that have already seen it (their announcement
    /// would be left out when sent, so they are not queued and cost no
    /// timer).
    pub fn queue(
        &mut self,
        txid: Txid,
        from: Option<NodeIdx>,
        has_seen: impl Fn(NodeIdx) -> bool,
        cfg: &TrickleConfig,
        out: &mut Outbox,
    ) {
        let mut knowers: [NodeIdx; 8] = [NodeIdx::MAX; 8];
        let mut n_knowers = 0;
        if !self.early.is_empty() {
            self.early.retain(|(t, p)| {
                if t == &txid {
                    if n_knowers < knowers.len() {
                        knowers[n_knowers] = *p;
                        n_knowers += 1;
                    }
                    false
                } else {
                    true
                }
            });
        }
        let knows = |p: NodeIdx| Some(p) == from || knowers[..n_knowers].contains(&p);
        let mut inbound_queued = false;
        for q in &mut self.peers {
            if knows(q.peer) || has_seen(q.peer) {
                continue;
            }
            q.to_send.push(txid);
            if q.outbound {
                if !q.timer_set {
                    q.timer_set = true;
                    let after = draw(&mut self.rng, cfg.outbound_interval);
                    out.push(Output::SetTimer {
                        timer: Timer::TxTrickle { peer: Some(q.peer) },
                        after,
                    });
                }
            } else {
                inbound_queued = true;
            }
        }
        if inbound_queued && !self.inbound_timer_set {
            self.inbound_timer_set = true;
            let after = draw(&mut self.rng, cfg.inbound_interval);
            out.push(Output::SetTimer {
                timer: Timer::TxTrickle { peer: None },
                after,
            });
        }
    }

    /// A trickle timer fired: `peer`'s own (`Some`, an outbound peer) or
    /// the one all inbound peers share (`None`). Each of those peers gets
    /// one `inv` of its queue (up to the broadcast limit; txids no longer
    /// in the mempool, `held` says, are dropped); a timer is set again if
    /// something is left.
    pub fn fire(
        &mut self,
        peer: Option<NodeIdx>,
        held: impl Fn(&Txid) -> bool,
        cfg: &TrickleConfig,
        out: &mut Outbox,
    ) {
        match peer {
            Some(p) => {
                let Some(q) = self.peers.iter_mut().find(|q| q.peer == p && q.outbound) else {
                    return; // the link is gone
                };
                q.timer_set = false;
                flush(q, &held, cfg, out);
                if !q.to_send.is_empty() {
                    q.timer_set = true;
                    let after = draw(&mut self.rng, cfg.outbound_interval);
                    out.push(Output::SetTimer {
                        timer: Timer::TxTrickle { peer: Some(p) },
                        after,
                    });
                }
            }
            None => {
                self.inbound_timer_set = false;
                let mut left = false;
                for q in self.peers.iter_mut().filter(|q| !q.outbound) {
                    flush(q, &held, cfg, out);
                    left |= !q.to_send.is_empty();
                }
                if left {
                    self.inbound_timer_set = true;
                    let after = draw(&mut self.rng, cfg.inbound_interval);
                    out.push(Output::SetTimer {
                        timer: Timer::TxTrickle { peer: None },
                        after,
                    });
                }
            }
        }
    }
}

/// Announces up to the broadcast limit of `q`'s queue (oldest first) in one
/// `inv`; txids no longer `held` are dropped without being counted.
fn flush(q: &mut PeerQueue, held: &impl Fn(&Txid) -> bool, cfg: &TrickleConfig, out: &mut Outbox) {
    if q.to_send.is_empty() {
        return;
    }
    let limit = cfg.broadcast_limit(q.to_send.len());
    let mut batch = Vec::with_capacity(q.to_send.len().min(limit));
    let mut taken = 0;
    for t in &q.to_send {
        if batch.len() == limit {
            break;
        }
        taken += 1;
        if held(t) {
            batch.push(*t);
        }
    }
    q.to_send.drain(..taken);
    if !batch.is_empty() {
        out.push(Output::TrickleTxs {
            to: q.peer,
            txids: batch,
        });
    }
}

/// An exponential delay with mean `mean` from the node's stream (`0` for
/// a zero mean: announce at once).
fn draw(rng: &mut ChaCha12Rng, mean: SimDuration) -> SimDuration {
    if mean == SimDuration::ZERO {
        return SimDuration::ZERO;
    }
    let x: f64 = rng.sample(rand_distr::Exp1);
    SimDuration::from_secs_f64(x * mean.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn txid(n: u8) -> Txid {
        Txid::from_byte_array([n; 32])
    }

    /// Node with outbound peers 1, 2 and inbound peers 3, 4.
    fn node(seed: u64) -> Trickle {
        Trickle::new(
            [(1, true), (2, true), (3, false), (4, false)],
            ChaCha12Rng::seed_from_u64(seed),
        )
    }

    fn timers(out: &mut Outbox) -> Vec<(Option<NodeIdx>, SimDuration)> {
        out.drain()
            .filter_map(|o| match o {
                Output::SetTimer {
                    timer: Timer::TxTrickle { peer },
                    after,
                } => Some((peer, after)),
                _ => None,
            })
            .collect()
    }

    fn invs(out: &mut Outbox) -> Vec<(NodeIdx, Vec<Txid>)> {
        out.drain()
            .filter_map(|o| match o {
                Output::TrickleTxs { to, txids } => Some((to, txids)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn queues_for_every_peer_but_the_sender_and_sets_each_timer_once() {
        let cfg = TrickleConfig::default();
        let mut t = node(1);
        let mut out = Outbox::default();
        t.queue(txid(1), Some(2), |_| false, &cfg, &mut out);
        t.queue(txid(2), Some(2), |_| false, &cfg, &mut out);
        assert_eq!(t.queued(1), &[txid(1), txid(2)]);
        assert!(t.queued(2).is_empty(), "not back to the peer it came from");
        assert_eq!(t.queued(3), &[txid(1), txid(2)]);
        let set = timers(&mut out);
        // Outbound peer 1's own timer and the shared inbound timer, once.
        assert_eq!(
            set.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
            vec![Some(1), None]
        );
    }

    #[test]
    fn peers_that_have_seen_it_are_not_queued() {
        let cfg = TrickleConfig::default();
        let mut t = node(9);
        let mut out = Outbox::default();
        t.queue(txid(1), None, |p| p == 1 || p == 3, &cfg, &mut out);
        assert!(t.queued(1).is_empty() && t.queued(3).is_empty());
        assert_eq!(t.queued(2), &[txid(1)]);
        assert_eq!(t.queued(4), &[txid(1)]);
    }

    #[test]
    fn a_txid_is_announced_once_per_peer() {
        let cfg = TrickleConfig::default();
        let mut t = node(2);
        let mut out = Outbox::default();
        t.queue(txid(1), None, |_| false, &cfg, &mut out);
        out.drain().for_each(drop);
        t.fire(Some(1), |_| true, &cfg, &mut out);
        assert_eq!(invs(&mut out), vec![(1, vec![txid(1)])]);
        t.fire(Some(1), |_| true, &cfg, &mut out);
        assert!(invs(&mut out).is_empty(), "announced once");
        t.fire(None, |_| true, &cfg, &mut out);
        assert_eq!(
            invs(&mut out),
            vec![(3, vec![txid(1)]), (4, vec![txid(1)])],
            "the shared timer announces to every inbound peer"
        );
        t.fire(None, |_| true, &cfg, &mut out);
        assert!(invs(&mut out).is_empty());
        let mut out = Outbox::default();
        t.fire(Some(2), |_| true, &cfg, &mut out);
        assert_eq!(invs(&mut out), vec![(2, vec![txid(1)])]);
    }

    #[test]
    fn not_announced_to_a_peer_that_announced_it() {
        let cfg = TrickleConfig::default();
        let mut t = node(3);
        let mut out = Outbox::default();
        // Peer 3 announces tx 1 before this node has it; peer 1 after.
        t.on_announced(3, &txid(1), false);
        t.queue(txid(1), Some(2), |_| false, &cfg, &mut out);
        assert!(t.queued(3).is_empty());
        assert_eq!(t.queued(1), &[txid(1)]);
        t.on_announced(1, &txid(1), true);
        assert!(t.queued(1).is_empty());
        assert_eq!(t.queued(4), &[txid(1)]);
        out.drain().for_each(drop);
        t.fire(Some(1), |_| true, &cfg, &mut out);
        t.fire(None, |_| true, &cfg, &mut out);
        assert_eq!(invs(&mut out), vec![(4, vec![txid(1)])]);
    }

    #[test]
    fn an_inv_carries_at_most_the_broadcast_limit() {
        let cfg = TrickleConfig::default();
        // Core: 7/s × 5 s = 35, plus 5 per 1,000 queued, at most 1,000.
        assert_eq!(cfg.broadcast_limit(10), 35);
        assert_eq!(cfg.broadcast_limit(2_500), 45);
        assert_eq!(cfg.broadcast_limit(1_000_000), 1000);
        let mut t = node(4);
        let mut out = Outbox::default();
        for n in 0..40 {
            t.queue(txid(n), None, |_| false, &cfg, &mut out);
        }
        out.drain().for_each(drop);
        t.fire(Some(1), |_| true, &cfg, &mut out);
        let sent = invs(&mut out);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].1, (0..35).map(txid).collect::<Vec<_>>());
        assert_eq!(t.queued(1), &(35..40).map(txid).collect::<Vec<_>>()[..]);
        // The rest goes at the next firing, which was set again.
        let mut out = Outbox::default();
        t.fire(Some(1), |_| true, &cfg, &mut out);
        assert_eq!(invs(&mut out)[0].1.len(), 5);
    }

    #[test]
    fn evicted_transactions_are_not_announced() {
        let cfg = TrickleConfig::default();
        let mut t = node(5);
        let mut out = Outbox::default();
        t.queue(txid(1), None, |_| false, &cfg, &mut out);
        t.queue(txid(2), None, |_| false, &cfg, &mut out);
        out.drain().for_each(drop);
        t.fire(Some(1), |x| *x != txid(1), &cfg, &mut out);
        assert_eq!(invs(&mut out), vec![(1, vec![txid(2)])]);
    }

    #[test]
    fn timers_are_exponential_and_deterministic_by_seed() {
        let cfg = TrickleConfig::default();
        let draws = |seed: u64| {
            let mut t = node(seed);
            let mut all = Vec::new();
            for n in 0..2000u32 {
                let mut out = Outbox::default();
                let id = Txid::from_byte_array({
                    let mut b = [0u8; 32];
                    b[..4].copy_from_slice(&n.to_le_bytes());
                    b
                });
                t.queue(id, None, |_| false, &cfg, &mut out);
                all.extend(timers(&mut out));
                let mut out = Outbox::default();
                t.fire(Some(1), |_| true, &cfg, &mut out);
                t.fire(Some(2), |_| true, &cfg, &mut out);
                t.fire(None, |_| true, &cfg, &mut out);
            }
            all
        };
        let a = draws(7);
        assert_eq!(a, draws(7), "same seed, same timers");
        assert_ne!(a, draws(8), "another seed, other timers");
        let mean = |peer: Option<NodeIdx>| {
            let v: Vec<f64> = a
                .iter()
                .filter(|(p, _)| *p == peer)
                .map(|(_, d)| d.as_secs_f64())
                .collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        // 2,000 draws each: the sample mean is within 10% of the mean
        // (standard error 2.2%).
        assert!((mean(Some(1)) - 2.0).abs() < 0.2, "{}", mean(Some(1)));
        assert!((mean(None) - 5.0).abs() < 0.5, "{}", mean(None));
    }

    #[test]
    fn a_removed_peer_gets_nothing() {
        let cfg = TrickleConfig::default();
        let mut t = node(6);
        let mut out = Outbox::default();
        t.remove_peer(1);
        t.queue(txid(1), None, |_| false, &cfg, &mut out);
        out.drain().for_each(drop);
        t.fire(Some(1), |_| true, &cfg, &mut out);
        assert!(invs(&mut out).is_empty());
    }
}
