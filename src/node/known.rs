//! What each node knows, stored column-wise across nodes: per mined block,
//! which nodes hold it and when each requested it; per relayed transaction,
//! which nodes have seen it and which have a request in flight.
//!
//! The world owns one [`Known`] for the whole run (a shared column per
//! block and transaction, so the common "already have it" check touches one
//! small array instead of every node's block tree). A node reads and writes
//! only its own bit of each column, through [`crate::node::io::Ctx`]; the
//! world's execution of outputs may read a peer's bits (the announcement
//! elision, documented in `world`).

use std::rc::Rc;

use crate::ledger::hash::HashKeyMap;
use crate::ledger::{Block, Transaction};
use crate::ledger::{BlockHash, Txid};
use crate::node::msg::NodeIdx;
use crate::sim::{SimDuration, SimTime};

/// How long a node waits for a requested block or transaction before it
/// asks another peer that announces it.
pub const REQUEST_TIMEOUT: SimDuration = SimDuration::from_secs(20);

/// Per mined block: which nodes hold it (bitset) and when each requested it.
pub struct BlockTrack {
    /// Mined by an active attacker (honest nodes in the γ set prefer it in
    /// a tie).
    pub by_attacker: bool,
    have: Vec<u64>,
    /// Request time per node in ns, `u64::MAX` = none. Freed once every
    /// node holds the block.
    requested_at: Vec<u64>,
    /// Per node, the arrival time in ns of an announcement on its way to
    /// it (the earliest scheduled while none was pending), `u64::MAX` =
    /// none noted. Kept only where the world elides announcements behind a
    /// pending one (see [`BlockTrack::covered_by_pending`]); freed with
    /// `requested_at`.
    inv_at: Vec<u64>,
    holders: usize,
}

impl BlockTrack {
    fn new(nodes: usize, by_attacker: bool) -> Self {
        BlockTrack {
            by_attacker,
            have: vec![0; nodes.div_ceil(64)],
            requested_at: vec![u64::MAX; nodes],
            inv_at: Vec::new(),
            holders: 0,
        }
    }

    /// Hints the CPU to fetch node `i`'s entries of this track (what an
    /// announcement's arrival reads). Changes nothing.
    pub fn prefetch(&self, i: NodeIdx) {
        crate::sim::prefetch_range(self.have.as_ptr().wrapping_add(i as usize / 64).addr(), 8);
        crate::sim::prefetch_range(
            self.requested_at.as_ptr().wrapping_add(i as usize).addr(),
            8,
        );
    }

    /// Whether node `i` holds the block (permanent once true).
    pub fn has(&self, i: NodeIdx) -> bool {
        self.have[i as usize / 64] & (1 << (i % 64)) != 0
    }

    /// Node `i` holds the block.
    pub fn set_have(&mut self, i: NodeIdx) {
        if !self.has(i) {
            self.have[i as usize / 64] |= 1 << (i % 64);
            self.holders += 1;
            if self.holders == self.requested_at.len() {
                self.requested_at = Vec::new();
                self.inv_at = Vec::new();
            }
        }
    }

    /// Node `i` requested the block at `now`.
    pub fn set_requested(&mut self, i: NodeIdx, now: SimTime) {
        if let Some(r) = self.requested_at.get_mut(i as usize) {
            *r = now.as_nanos();
        }
    }

    /// Node `i` has no request for the block any more (what stood for one
    /// never reached it).
    pub fn clear_requested(&mut self, i: NodeIdx) {
        if let Some(r) = self.requested_at.get_mut(i as usize) {
            *r = u64::MAX;
        }
    }

    /// Whether an announcement arriving at node `i` at `at` (scheduled
    /// `now`) is sure to find the node holding the block or with a live
    /// request for it, because of an announcement already on its way that
    /// arrives first, at `t1` (`now < t1 <= at`, noted by
    /// [`BlockTrack::note_pending`]):
    ///
    /// - at `t1` the node holds the block (permanent), or has a live
    ///   request: one made before `t1` but at or after `now` (live until at
    ///   least `now + REQUEST_TIMEOUT`), or its request from before `now`
    ///   if that is still live at `t1` — the case excluded here, as it may
    ///   lapse before `at`; otherwise the announcement at `t1` makes it
    ///   request at `t1`;
    /// - so at `at < now + REQUEST_TIMEOUT` the request is still live.
    ///
    /// This holds only when every announcement scheduled is delivered and
    /// acted on as an honest full node does (no partitions, nobody going
    /// offline, no attackers), and requests are only cleared by a dropped
    /// delivery: the world asks only then.
    pub fn covered_by_pending(&self, i: NodeIdx, now: SimTime, at: SimTime) -> bool {
        self.covered_window(i, now)
            .is_some_and(|(from, until)| from <= at.as_nanos() && at.as_nanos() < until)
    }

    /// The arrival times `[from, until)` in ns at which an announcement to
    /// node `i` scheduled `now` is covered by a pending one
    /// ([`Self::covered_by_pending`]); `None` if at none.
    fn covered_window(&self, i: NodeIdx, now: SimTime) -> Option<(u64, u64)> {
        let now = now.as_nanos();
        let &t1 = self.inv_at.get(i as usize)?;
        if t1 == u64::MAX || t1 <= now {
            return None;
        }
        let timeout = REQUEST_TIMEOUT.as_nanos();
        let old_request_lapses = match self.requested_at.get(i as usize) {
            Some(&r) if r != u64::MAX => r.saturating_add(timeout) <= t1,
            _ => true,
        };
        old_request_lapses.then(|| (t1, now.saturating_add(timeout)))
    }

    /// An announcement scheduled `now` arrives at node `i` at `at`: noted
    /// unless one noted earlier is still on its way and arrives first.
    pub fn note_pending(&mut self, i: NodeIdx, now: SimTime, at: SimTime) {
        if self.requested_at.is_empty() {
            return;
        }
        if self.inv_at.is_empty() {
            self.inv_at = vec![u64::MAX; self.requested_at.len()];
        }
        let (now, at) = (now.as_nanos(), at.as_nanos());
        let t = &mut self.inv_at[i as usize];
        if *t == u64::MAX || *t <= now || at < *t {
            *t = at;
        }
    }

    /// Whether node `i` would request the block at `at`: it does not hold
    /// it and has no request younger than [`REQUEST_TIMEOUT`].
    pub fn wants(&self, i: NodeIdx, at: SimTime) -> bool {
        self.wanted_from(i).is_some_and(|w| at.as_nanos() >= w)
    }

    /// The time in ns from which node `i` would request the block
    /// ([`Self::wants`]), `None` if never (it holds it).
    fn wanted_from(&self, i: NodeIdx) -> Option<u64> {
        if self.has(i) {
            return None;
        }
        match self.requested_at.get(i as usize) {
            Some(&r) if r != u64::MAX => r.checked_add(REQUEST_TIMEOUT.as_nanos()),
            _ => Some(0),
        }
    }

    /// Whether an announcement to node `i` scheduled `now` and arriving at
    /// some time from `low` on, before every time `x` for which
    /// `before(x)` holds, is worth sending: `Some` if the answer is the
    /// same at every such time (`wants(i, at)`, and not
    /// `covered_by_pending(i, now, at)` when `elide_behind_pending`),
    /// `None` if it depends on the exact time. `before` is an upper bound
    /// asked only as "is every arrival earlier than `x`?" (for a Pareto
    /// latency a multiplication, where a bound as a time costs a
    /// division; [`crate::net::link::LatencyDraw::surely_below`]).
    pub fn worth_announcing(
        &self,
        i: NodeIdx,
        now: SimTime,
        low: SimTime,
        before: impl Fn(SimTime) -> bool,
        elide_behind_pending: bool,
    ) -> Option<bool> {
        let low = low.as_nanos();
        let before = |ns: u64| before(SimTime::from_nanos(ns));
        // The arrivals run from `low` to an upper end known only through
        // `before`. Wanted from a time on: decided when every arrival is
        // before it, or `low` is at or after it.
        let Some(w) = self.wanted_from(i) else {
            return Some(false);
        };
        if before(w) {
            return Some(false);
        }
        if low < w {
            return None;
        }
        if !elide_behind_pending {
            return Some(true);
        }
        // Covered on an interval: decided if the arrivals all fall inside
        // it or all outside it.
        match self.covered_window(i, now) {
            None => Some(true),
            Some((from, until)) if from <= low && before(until) => Some(false),
            Some((from, until)) if before(from) || until <= low => Some(true),
            Some(_) => None,
        }
    }
}

/// Per transaction relayed: which nodes have seen it and which have a
/// request for it in flight. A node never requests a transaction it has
/// seen, even after it left the mempool (Bitcoin keeps recently confirmed
/// and rejected ids for the same reason). Bitsets are freed once every full
/// node has seen it.
pub struct TxTrack {
    seen: Vec<u64>,
    requested: Vec<u64>,
    seen_count: usize,
    all_seen: bool,
}

impl TxTrack {
    fn new(nodes: usize) -> Self {
        let words = nodes.div_ceil(64);
        TxTrack {
            seen: vec![0; words],
            requested: vec![0; words],
            seen_count: 0,
            all_seen: false,
        }
    }

    fn bit(v: &[u64], i: NodeIdx) -> bool {
        v.get(i as usize / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// Whether node `i` has seen the transaction (permanent once true).
    pub fn seen(&self, i: NodeIdx) -> bool {
        self.all_seen || Self::bit(&self.seen, i)
    }

    /// Whether node `i` has a request for it in flight.
    pub fn requested(&self, i: NodeIdx) -> bool {
        Self::bit(&self.requested, i)
    }

    /// Sets or clears node `i`'s request mark.
    pub fn set_requested(&mut self, i: NodeIdx, on: bool) {
        if let Some(w) = self.requested.get_mut(i as usize / 64) {
            if on {
                *w |= 1 << (i % 64);
            } else {
                *w &= !(1 << (i % 64));
            }
        }
    }

    /// Node `i` has seen it (`full_nodes`: how many must see it before the
    /// bitsets are freed).
    pub fn set_seen(&mut self, i: NodeIdx, full_nodes: usize) {
        if self.seen(i) {
            return;
        }
        self.seen[i as usize / 64] |= 1 << (i % 64);
        self.seen_count += 1;
        if self.seen_count >= full_nodes {
            self.all_seen = true;
            self.seen = Vec::new();
            self.requested = Vec::new();
        }
    }
}

/// The known-block and known-transaction columns of every node of a run.
pub struct Known {
    nodes: usize,
    full_nodes: usize,
    /// Every mined block's index into `tracks`.
    block_ids: HashKeyMap<BlockHash, u32>,
    /// Per mined block, which nodes hold it and which have requested it.
    tracks: Vec<BlockTrack>,
    /// Every relayed transaction's index into `tx_tracks`.
    tx_ids: HashKeyMap<Txid, u32>,
    /// Per transaction, who has seen or requested it.
    tx_tracks: Vec<TxTrack>,
    /// The coinbases of the latest blocks sent in compact form, one shared
    /// allocation each with its txid (see [`Known::shared_coinbase`]).
    coinbases: std::collections::VecDeque<(BlockHash, Rc<Transaction>, Txid)>,
}

/// Coinbases [`Known`] keeps shared (the latest blocks relayed compactly).
const SHARED_COINBASES: usize = 32;

impl Known {
    /// Empty columns for `nodes` nodes, `full_nodes` of them full nodes.
    pub fn new(nodes: usize, full_nodes: usize) -> Known {
        Known {
            nodes,
            full_nodes,
            block_ids: Default::default(),
            tracks: Vec::new(),
            tx_ids: Default::default(),
            tx_tracks: Vec::new(),
            coinbases: Default::default(),
        }
    }

    /// The coinbase of block `hash` (whose transactions are `block`'s) as
    /// one allocation shared by every `cmpctblock` of the block, with its
    /// txid. A coinbase is a pure function of its block, so sharing it
    /// changes no outcome; it saves copying (and a receiver rehashing) a
    /// padded coinbase once per sender.
    pub fn shared_coinbase(
        &mut self,
        hash: &BlockHash,
        block: &Block,
        txid: Txid,
    ) -> Rc<Transaction> {
        // Newest first: the block being relayed is nearly always the last.
        if let Some((_, tx, _)) = self.coinbases.iter().rev().find(|(h, _, _)| h == hash) {
            return tx.clone();
        }
        let tx = Rc::new(block.txdata[0].clone());
        if self.coinbases.len() == SHARED_COINBASES {
            self.coinbases.pop_front();
        }
        self.coinbases.push_back((*hash, tx.clone(), txid));
        tx
    }

    /// The txid of `tx` if it is one of the shared coinbases (by
    /// allocation, not content).
    pub fn shared_txid(&self, tx: &Rc<Transaction>) -> Option<Txid> {
        self.coinbases
            .iter()
            .rev()
            .find(|(_, t, _)| Rc::ptr_eq(t, tx))
            .map(|(_, _, id)| *id)
    }

    /// Books a freshly mined block (nobody holds it yet).
    pub fn register_mined(&mut self, hash: BlockHash, by_attacker: bool) {
        self.block_ids.insert(hash, self.tracks.len() as u32);
        self.tracks.push(BlockTrack::new(self.nodes, by_attacker));
    }

    /// The index of mined block `hash`'s track.
    #[inline]
    pub fn block_id(&self, hash: &BlockHash) -> Option<u32> {
        self.block_ids.get(hash).copied()
    }

    /// The track at index `id` (from [`Known::block_id`]).
    #[inline]
    pub fn track(&self, id: u32) -> &BlockTrack {
        &self.tracks[id as usize]
    }

    /// The track at index `id`, to update.
    #[inline]
    pub fn track_mut(&mut self, id: u32) -> &mut BlockTrack {
        &mut self.tracks[id as usize]
    }

    /// The track of mined block `hash`.
    #[inline]
    pub fn block(&self, hash: &BlockHash) -> Option<&BlockTrack> {
        self.block_ids.get(hash).map(|&b| &self.tracks[b as usize])
    }

    /// The track of mined block `hash`, to update.
    #[inline]
    pub fn block_mut(&mut self, hash: &BlockHash) -> Option<&mut BlockTrack> {
        self.block_ids
            .get(hash)
            .map(|&b| &mut self.tracks[b as usize])
    }

    /// Whether `hash` was ever mined in this run (an oracle: a real node
    /// cannot know this).
    pub fn ever_mined(&self, hash: &BlockHash) -> bool {
        self.block_ids.contains_key(hash)
    }

    /// The index of `txid`'s track, created on first sight.
    pub fn tx_track(&mut self, txid: &Txid) -> usize {
        if let Some(&k) = self.tx_ids.get(txid) {
            return k as usize;
        }
        let k = self.tx_tracks.len();
        self.tx_ids.insert(*txid, k as u32);
        self.tx_tracks.push(TxTrack::new(self.nodes));
        k
    }

    /// The transaction track at index `k`.
    pub fn tx(&self, k: usize) -> &TxTrack {
        &self.tx_tracks[k]
    }

    /// The transaction track at index `k`, to update.
    pub fn tx_mut(&mut self, k: usize) -> &mut TxTrack {
        &mut self.tx_tracks[k]
    }

    /// Number of full nodes (a transaction's bitsets are freed once this
    /// many have seen it).
    pub fn full_nodes(&self) -> usize {
        self.full_nodes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn t(ms: u64) -> SimTime {
        SimTime::from_nanos(ms * MS)
    }

    #[test]
    fn a_later_announcement_is_covered_by_one_on_its_way() {
        let mut b = BlockTrack::new(4, false);
        assert!(!b.covered_by_pending(1, t(0), t(50)), "nothing noted");
        b.note_pending(1, t(0), t(30));
        assert!(b.covered_by_pending(1, t(10), t(50)));
        assert!(
            b.covered_by_pending(1, t(10), t(30)),
            "same time: scheduled first, acted on first"
        );
        assert!(
            !b.covered_by_pending(1, t(10), t(20)),
            "arrives before the pending one"
        );
        assert!(!b.covered_by_pending(2, t(10), t(50)), "another node");
        assert!(
            !b.covered_by_pending(1, t(30), t(50)),
            "the pending one arrived already"
        );
        let late = t(10) + REQUEST_TIMEOUT;
        assert!(
            !b.covered_by_pending(1, t(10), late),
            "a request could lapse first"
        );
    }

    #[test]
    fn the_earliest_pending_arrival_is_kept() {
        let mut b = BlockTrack::new(2, false);
        b.note_pending(0, t(0), t(80));
        b.note_pending(0, t(1), t(40));
        b.note_pending(0, t(2), t(60));
        assert!(b.covered_by_pending(0, t(3), t(45)));
        assert!(!b.covered_by_pending(0, t(3), t(39)));
        // Once it has arrived, the next one noted replaces it.
        b.note_pending(0, t(50), t(90));
        assert!(b.covered_by_pending(0, t(51), t(95)));
        assert!(!b.covered_by_pending(0, t(51), t(85)));
    }

    #[test]
    fn an_old_request_that_may_lapse_first_is_not_covered() {
        let mut b = BlockTrack::new(2, false);
        // Requested at 0: live until 20 s, so at 19.9 s the pending
        // announcement is ignored and one arriving at 20.1 s would ask again.
        b.set_requested(0, t(0));
        b.note_pending(0, t(19_000), t(19_900));
        assert!(b.wants(0, t(20_100)));
        assert!(!b.covered_by_pending(0, t(19_000), t(20_100)));
        // A request that has lapsed by the pending arrival is renewed then.
        let mut c = BlockTrack::new(2, false);
        c.set_requested(0, t(0));
        c.note_pending(0, t(20_000), t(20_500));
        assert!(c.covered_by_pending(0, t(20_000), t(21_000)));
    }

    proptest::proptest! {
        /// Whatever the track's state, a decision from bounds is the one
        /// the exact rule makes at every arrival time between them.
        #[test]
        fn worth_announcing_agrees_with_the_exact_rule_between_its_bounds(
            has in proptest::bool::ANY,
            requested in proptest::option::of(0u64..40_000),
            pending in proptest::option::of((0u64..40_000, 0u64..40_000)),
            now in 0u64..40_000,
            low in 0u64..45_000,
            width in 0u64..25_000,
            elide in proptest::bool::ANY,
        ) {
            let mut b = BlockTrack::new(2, false);
            if has {
                b.set_have(0);
            }
            if let Some(r) = requested {
                b.set_requested(0, t(r));
            }
            if let Some((at, arrives)) = pending {
                b.note_pending(0, t(at), t(at + arrives));
            }
            let (now, low) = (t(now), t(now + low));
            let high = low + SimDuration::from_nanos(width * MS);
            let exact = |at: SimTime| b.wants(0, at) && !(elide && b.covered_by_pending(0, now, at));
            if let Some(worth) = b.worth_announcing(0, now, low, |x| high < x, elide) {
                // Every millisecond between the bounds, and the nanoseconds
                // around each end.
                let ms = (low.as_nanos()..=high.as_nanos()).step_by(MS as usize);
                let ends = [low, high].into_iter().flat_map(|x| {
                    let x = x.as_nanos();
                    [x.saturating_sub(1).max(low.as_nanos()), x, (x + 1).min(high.as_nanos())]
                });
                for at in ms.chain(ends) {
                    proptest::prop_assert_eq!(exact(SimTime::from_nanos(at)), worth, "at {}", at);
                }
            }
        }
    }

    #[test]
    fn worth_announcing_leaves_undecided_what_depends_on_the_time() {
        let mut b = BlockTrack::new(2, false);
        assert_eq!(
            b.worth_announcing(0, t(0), t(5), |x| t(50) < x, true),
            Some(true)
        );
        b.set_requested(0, t(0));
        // The request lapses at 20 s: decided before, open across it.
        assert_eq!(
            b.worth_announcing(0, t(10), t(100), |x| t(900) < x, true),
            Some(false)
        );
        assert_eq!(
            b.worth_announcing(0, t(10), t(19_000), |x| t(21_000) < x, true),
            None
        );
        assert_eq!(
            b.worth_announcing(0, t(10), t(20_000), |x| t(21_000) < x, false),
            Some(true)
        );
        let mut c = BlockTrack::new(2, false);
        c.note_pending(0, t(0), t(30));
        assert_eq!(
            c.worth_announcing(0, t(10), t(40), |x| t(60) < x, true),
            Some(false)
        );
        assert_eq!(
            c.worth_announcing(0, t(10), t(20), |x| t(60) < x, true),
            None
        );
        assert_eq!(
            c.worth_announcing(0, t(10), t(12), |x| t(29) < x, true),
            Some(true)
        );
        assert_eq!(
            c.worth_announcing(0, t(10), t(40), |x| t(60) < x, false),
            Some(true)
        );
        c.set_have(0);
        assert_eq!(
            c.worth_announcing(0, t(10), t(40), |x| t(60) < x, true),
            Some(false)
        );
    }

    #[test]
    fn holding_everywhere_frees_the_notes() {
        let mut b = BlockTrack::new(2, false);
        b.note_pending(0, t(0), t(10));
        b.set_have(0);
        b.set_have(1);
        assert!(b.inv_at.is_empty() && b.requested_at.is_empty());
        b.note_pending(0, t(0), t(10));
        assert!(!b.covered_by_pending(0, t(1), t(20)));
    }
}
