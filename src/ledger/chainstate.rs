//! The block tree of one node, with most-work fork choice and reorgs, and the
//! [`BlockCache`] that lets thousands of simulated nodes share the work.
//!
//! # Two structures
//!
//! - [`BlockCache`]: one per run (a standalone user makes one). It interns
//!   every block once as an `Rc<`[`BlockInfo`]`>` (hash, txids, height,
//!   chain work, median time past, the bits a child must carry) and memoises
//!   what is a pure function of the block: the context-free
//!   [`validate::check_block`] verdict and the result of connecting it on its
//!   parent's UTXO set (the set after it, the undo data and the fees). That
//!   result is pure because a block hash commits to the whole ancestry, and
//!   the UTXO set of a tip is a function of that ancestry. It also owns the
//!   [`SigCache`]. So a block is validated once per run, whichever node sees
//!   it first; every other node takes the memo.
//! - [`Chainstate`]: one per node, deliberately small: a map from hash to a
//!   24-byte entry (`Rc<BlockInfo>`, status, sequence number), the active
//!   chain as a vector of `Rc<BlockInfo>`, the current [`UtxoSet`] (an O(1)
//!   clone of a shared snapshot), the undo data of the active chain (shared
//!   `Rc`s) and the orphans waiting for a parent.
//!
//! A cache must only be shared by nodes running the same [`Params`]: its
//! verdicts depend on them. A node must be given the same cache for its
//! whole life (its tree holds the cache's interned infos).
//!
//! # Fork choice
//!
//! The active chain ends at the valid block with the most cumulative work;
//! among equal work, the one that entered the block tree first (Core's
//! `nSequenceId`, assigned when a block's parent is known, so an orphan
//! connected later never displaces an equal-work tip); a node may instead
//! give one block priority among equal-work candidates with
//! [`Chainstate::prefer_on_tie`] (used to model the tie-breaking advantage γ
//! of a selfish miner). A block is first
//! *accepted* (context-free checks, header against its parent: difficulty,
//! median time past, future drift) and only *connected* (transactions
//! against the UTXO set) when its branch becomes the best. If connecting
//! fails, the block and all its descendants are marked invalid and the fork
//! choice runs again, possibly back to the branch the node just left. The
//! node is never left on an invalid or half-connected state: every block on
//! the active chain has been fully validated.
//!
//! # Deliberate differences from Bitcoin
//!
//! - The coinbase outputs of genesis are added to the UTXO set at height 0,
//!   so a simulation can endow wallets in genesis (Bitcoin's genesis output
//!   is unspendable). They are spendable at once (no coinbase maturity, see
//!   [`crate::ledger::validate`]). Genesis itself is trusted, not validated.
//! - Orphan blocks (unknown parent) are kept and connected when the parent
//!   arrives, as pre-headers-first Bitcoin did; at most
//!   [`Chainstate::DEFAULT_MAX_ORPHANS`] of them, the oldest evicted first.
//! - A block whose proof of work fails is rejected without being recorded
//!   (rechecking it costs one hash); other permanent failures are recorded
//!   as [`BlockStatus::Invalid`]. Merkle mismatches, mutations and
//!   `time-too-new` are never recorded against the hash
//!   ([`BlockError::is_permanent`]).

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::rc::Rc;

use super::amount::Amount;
use super::block::{Block, Header};
use super::block_index::{BlockIndex, Keyed};
use super::hash::{BlockHash, HashKeyMap, Txid};
use super::nonce;
use super::params::Params;
use super::pow::{CompactTarget, Target, Work};
use super::script::ScriptBuf;
use super::tx::{OutPoint, Transaction, TxOut};
use super::utxo::{BlockUndo, UtxoError, UtxoSet};
use super::validate::{self, BlockError, SigCache, TxError, MEDIAN_TIME_SPAN};

/// A block as every node sees it: interned once per run by the
/// [`BlockCache`], with what is costly to recompute.
#[derive(Debug)]
pub struct BlockInfo {
    /// The block hash.
    pub hash: BlockHash,
    /// The hash again, as a shared one-entry list: what a message naming
    /// this block alone (an `inv` of a new tip) carries, so the nodes that
    /// take the block share one list instead of allocating one each.
    pub hash_list: Rc<[BlockHash]>,
    /// The block.
    pub block: Rc<Block>,
    /// Height (genesis is 0).
    pub height: u32,
    /// Cumulative work from genesis to this block, inclusive.
    pub chain_work: Work,
    /// The parent's hash ([`BlockHash::GENESIS_PREV`] for genesis).
    pub parent: BlockHash,
    /// Serialized size in bytes.
    pub size: usize,
    /// The txids, in block order (computed once).
    pub txids: Vec<Txid>,
    /// Median time of the 11 blocks ending at this one: a child's time must
    /// be greater (Core `GetMedianTimePast`).
    pub median_time_past: u32,
    /// The bits a child of this block must carry
    /// ([`validate::next_work_required`]).
    pub next_bits: CompactTarget,
}

impl BlockInfo {
    /// The header.
    pub fn header(&self) -> &Header {
        &self.block.header
    }

    /// The header's timestamp.
    pub fn time(&self) -> u32 {
        self.block.header.time
    }
}

/// The memoised result of connecting a block on its parent's UTXO set.
#[derive(Clone, Debug)]
pub struct Connected {
    /// The UTXO set after the block, if the cache kept it (see
    /// [`BlockCache::with_snapshots`] and [`BlockCache::prune_snapshots_below`]).
    pub utxo_after: Option<UtxoSet>,
    /// The coins the block spent.
    pub undo: Rc<BlockUndo>,
    /// Total fees the block's transactions paid.
    pub fees: Amount,
}

/// Counters of a [`BlockCache`], for a run's manifest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CacheStats {
    /// Blocks interned.
    pub blocks: usize,
    /// Context-free checks answered from the memo.
    pub check_hits: u64,
    /// Context-free checks computed.
    pub check_misses: u64,
    /// Block connections answered from the memo.
    pub connect_hits: u64,
    /// Block connections validated.
    pub connect_misses: u64,
    /// Signature checks answered from the memo.
    pub sig_hits: u64,
    /// Signature checks computed.
    pub sig_misses: u64,
    /// UTXO snapshots currently kept.
    pub snapshots: usize,
}

struct CacheEntry {
    block: Rc<Block>,
    txids: Vec<Txid>,
    size: usize,
    check: Result<(), BlockError>,
    info: Option<Rc<BlockInfo>>,
    connect: Option<Result<Connected, BlockError>>,
}

/// Per-run memo of block facts shared by all nodes (see the module docs).
///
/// Memory: every block ever seen is kept (runs see hundreds to a few
/// thousand blocks), and by default so is the UTXO set after each connected
/// block. Consecutive snapshots share all unmodified B-tree nodes, so a
/// snapshot costs roughly the nodes its block touched. A long run can drop
/// old snapshots with [`BlockCache::prune_snapshots_below`] or keep none
/// with [`BlockCache::with_snapshots`]; nodes then apply blocks and undo
/// data themselves (still without re-validating memoised blocks).
pub struct BlockCache {
    entries: HashKeyMap<BlockHash, CacheEntry>,
    /// Address of each stored block's allocation → its hash. The cache
    /// keeps every stored block alive, so an address here cannot be reused
    /// by another block: the same `Rc` handed to many nodes is hashed once
    /// ([`BlockCache::known_hash`]).
    hash_by_addr: HashKeyMap<u64, BlockHash>,
    /// The txids of the block last assembled, computed by its assembler
    /// ([`BlockCache::remember_txids`]), until that block is first checked.
    mined_txids: Option<(Rc<Block>, Vec<Txid>)>,
    sigs: SigCache,
    keep_snapshots: bool,
    check_hits: u64,
    check_misses: u64,
    connect_hits: u64,
    connect_misses: u64,
}

impl Default for BlockCache {
    fn default() -> Self {
        BlockCache::new()
    }
}

impl std::fmt::Debug for BlockCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockCache")
            .field("stats", &self.stats())
            .finish()
    }
}

impl BlockCache {
    /// An empty cache that keeps UTXO snapshots.
    pub fn new() -> BlockCache {
        BlockCache {
            entries: HashMap::default(),
            hash_by_addr: HashMap::default(),
            mined_txids: None,
            sigs: SigCache::new(),
            keep_snapshots: true,
            check_hits: 0,
            check_misses: 0,
            connect_hits: 0,
            connect_misses: 0,
        }
    }

    /// Whether to keep the UTXO set after each connected block (default
    /// true). Genesis's set is always kept.
    pub fn with_snapshots(mut self, keep: bool) -> BlockCache {
        self.keep_snapshots = keep;
        self
    }

    /// The shared signature cache (a mempool verifies through it too).
    pub fn sigs(&mut self) -> &mut SigCache {
        &mut self.sigs
    }

    /// Counters for a run's manifest.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            blocks: self.entries.len(),
            check_hits: self.check_hits,
            check_misses: self.check_misses,
            connect_hits: self.connect_hits,
            connect_misses: self.connect_misses,
            sig_hits: self.sigs.hits(),
            sig_misses: self.sigs.misses(),
            snapshots: self
                .entries
                .values()
                .filter(|e| matches!(&e.connect, Some(Ok(c)) if c.utxo_after.is_some()))
                .count(),
        }
    }

    /// The hash of `block` if this very allocation is stored in the cache
    /// (its header was hashed when it was first checked; a block is
    /// immutable behind its `Rc`), without rehashing.
    pub fn known_hash(&self, block: &Rc<Block>) -> Option<BlockHash> {
        let hash = *self.hash_by_addr.get(&(Rc::as_ptr(block).addr() as u64))?;
        // The cache holds the block, so the address is its own; check anyway.
        let entry = self.entries.get(&hash)?;
        Rc::ptr_eq(&entry.block, block).then_some(hash)
    }

    /// Whether `header` hashes to `hash`, answered from the memo when the
    /// cache stores a block under `hash` whose header hash it computed
    /// itself (see [`BlockCache::known_hash`]) and that header equals
    /// `header` (80 bytes compared instead of a double SHA-256); otherwise
    /// computed. A header's hash is a pure function of it, so the answer is
    /// the same either way.
    pub fn header_hashes_to(&self, header: &Header, hash: &BlockHash) -> bool {
        match self.entries.get(hash) {
            Some(e) if e.block.header == *header && self.known_hash(&e.block) == Some(*hash) => {
                true
            }
            _ => header.block_hash() == *hash,
        }
    }

    fn store(&mut self, hash: BlockHash, entry: CacheEntry) {
        // Hashed here once (callers pass the hash they computed; a caller's
        // mistake must not become a memo).
        if entry.block.block_hash() == hash {
            self.hash_by_addr
                .insert(Rc::as_ptr(&entry.block).addr() as u64, hash);
        }
        self.entries.insert(hash, entry);
    }

    /// Notes the txids of `block` as its assembler computed them (the
    /// coinbase hashed, the rest already known from the mempool): the
    /// first [`BlockCache::check`] of this very allocation uses them
    /// instead of hashing every transaction again. A txid is a pure function
    /// of its transaction, so this changes no result, only how often a
    /// 1 MB coinbase is hashed. Only the last assembled block is kept.
    pub fn remember_txids(&mut self, block: &Rc<Block>, txids: Vec<Txid>) {
        debug_assert!(
            txids.len() == block.txdata.len()
                && block
                    .txdata
                    .iter()
                    .zip(&txids)
                    .all(|(t, id)| t.compute_txid() == *id),
            "remembered txids are the block's"
        );
        self.mined_txids = Some((block.clone(), txids));
    }

    /// The txids of a stored block, in block order.
    pub fn txids(&self, hash: &BlockHash) -> Option<&[Txid]> {
        self.entries.get(hash).map(|e| e.txids.as_slice())
    }

    /// The interned info of `hash`, if the cache has built it (its parent
    /// chain is known to the cache).
    pub fn info(&self, hash: &BlockHash) -> Option<&Rc<BlockInfo>> {
        self.entries.get(hash).and_then(|e| e.info.as_ref())
    }

    /// The UTXO set after `hash`, if connected and kept.
    pub fn utxo_after(&self, hash: &BlockHash) -> Option<UtxoSet> {
        match &self.entries.get(hash)?.connect {
            Some(Ok(c)) => c.utxo_after.clone(),
            _ => None,
        }
    }

    /// Drops the UTXO snapshots of blocks below `height` (genesis's is
    /// kept) to bound memory; verdicts, undo data and fees stay.
    pub fn prune_snapshots_below(&mut self, height: u32) {
        for e in self.entries.values_mut() {
            let low = e
                .info
                .as_ref()
                .is_some_and(|i| i.height > 0 && i.height < height);
            if let (true, Some(Ok(c))) = (low, e.connect.as_mut()) {
                c.utxo_after = None;
            }
        }
    }

    /// Interns `genesis` (trusted: not validated) with its outputs as the
    /// UTXO set at height 0.
    pub fn intern_genesis(&mut self, genesis: Rc<Block>, params: &Params) -> Rc<BlockInfo> {
        let hash = genesis.block_hash();
        if let Some(info) = self.info(&hash) {
            return info.clone();
        }
        let txids: Vec<Txid> = genesis.txdata.iter().map(|t| t.compute_txid()).collect();
        let size = genesis.size();
        let header = genesis.header;
        let work = Target::from_compact(header.bits)
            .map(Target::to_work)
            .unwrap_or_default();
        let info = Rc::new(BlockInfo {
            hash,
            hash_list: Rc::new([hash]),
            block: genesis.clone(),
            height: 0,
            chain_work: work,
            parent: header.prev_blockhash,
            size,
            txids: txids.clone(),
            median_time_past: header.time,
            next_bits: validate::next_work_required(
                0,
                header.bits,
                header.time,
                |_| header.time,
                params,
            ),
        });
        let mut utxos = UtxoSet::new();
        for (tx, txid) in genesis.txdata.iter().zip(&txids) {
            // A duplicate transaction in a hand-made genesis adds nothing twice.
            let _ = utxos.add_tx_outputs_with_txid(tx, *txid, 0);
        }
        self.store(
            hash,
            CacheEntry {
                block: genesis,
                txids,
                size,
                check: Ok(()),
                info: Some(info.clone()),
                connect: Some(Ok(Connected {
                    utxo_after: Some(utxos),
                    undo: Rc::default(),
                    fees: Amount::ZERO,
                })),
            },
        );
        info
    }

    /// [`validate::check_block`] on `block` (whose hash is `hash`),
    /// memoised. Only blocks whose body matches their header's Merkle root
    /// are stored (then the hash commits to every byte); a different body
    /// under a known hash is checked afresh and not stored (CVE-2012-2459).
    /// Proof-of-work failures are not stored either (one hash to recheck).
    pub fn check(
        &mut self,
        block: &Rc<Block>,
        hash: BlockHash,
        params: &Params,
    ) -> Result<(), BlockError> {
        if let Some(e) = self.entries.get(&hash) {
            if Rc::ptr_eq(&e.block, block) || *e.block == **block {
                self.check_hits += 1;
                return e.check.clone();
            }
        }
        self.check_misses += 1;
        validate::check_proof_of_work(&hash, block.header.bits, params)?;
        let txids: Vec<Txid> = match self.mined_txids.take() {
            Some((mined, txids)) if Rc::ptr_eq(&mined, block) => txids,
            other => {
                self.mined_txids = other;
                block.txdata.iter().map(|t| t.compute_txid()).collect()
            }
        };
        let size = block.size();
        let check = validate::check_block_precomputed(block, &hash, &txids, size, params);
        if matches!(&check, Err(e) if !e.is_permanent()) || self.entries.contains_key(&hash) {
            return check;
        }
        self.store(
            hash,
            CacheEntry {
                block: block.clone(),
                txids,
                size,
                check: check.clone(),
                info: None,
                connect: None,
            },
        );
        check
    }

    /// Builds (once) the info of a block stored by [`BlockCache::check`]
    /// whose parent's info exists.
    pub fn intern(&mut self, hash: &BlockHash, params: &Params) -> Option<Rc<BlockInfo>> {
        let entry = self.entries.get(hash)?;
        if let Some(info) = &entry.info {
            return Some(info.clone());
        }
        let header = entry.block.header;
        let parent = self.info(&header.prev_blockhash)?.clone();
        let height = parent.height + 1;
        let work = Target::from_compact(header.bits)
            .map(Target::to_work)
            .unwrap_or_default();
        let mut times = Vec::with_capacity(MEDIAN_TIME_SPAN);
        times.push(header.time);
        let mut cur = parent.clone();
        while times.len() < MEDIAN_TIME_SPAN {
            times.push(cur.time());
            match self.info(&cur.parent) {
                Some(p) if cur.height > 0 => cur = p.clone(),
                _ => break,
            }
        }
        let median_time_past = validate::median_time(&mut times);
        let next_bits = validate::next_work_required(
            height,
            header.bits,
            header.time,
            |h| {
                if h == height {
                    return header.time;
                }
                let mut cur = parent.clone();
                while cur.height > h {
                    cur = self
                        .info(&cur.parent)
                        .expect("ancestors of an interned block are interned")
                        .clone();
                }
                cur.time()
            },
            params,
        );
        let entry = self.entries.get(hash).expect("looked up above");
        let info = Rc::new(BlockInfo {
            hash: *hash,
            hash_list: Rc::new([*hash]),
            block: entry.block.clone(),
            height,
            chain_work: parent.chain_work.saturating_add(work),
            parent: header.prev_blockhash,
            size: entry.size,
            txids: entry.txids.clone(),
            median_time_past,
            next_bits,
        });
        self.entries.get_mut(hash).expect("looked up above").info = Some(info.clone());
        Some(info)
    }

    /// Connects `info`'s block on `parent_utxos` (which must be the UTXO set
    /// of its parent), memoised: validated with
    /// [`validate::connect_block_with_txids`] the first time, answered from
    /// the memo afterwards. The returned `utxo_after` is `None` only when
    /// the memo holds no snapshot; the caller then applies the (valid) block
    /// itself.
    pub fn connect(
        &mut self,
        info: &BlockInfo,
        parent_utxos: &UtxoSet,
        params: &Params,
    ) -> Result<Connected, BlockError> {
        if let Some(done) = self.entries.get(&info.hash).and_then(|e| e.connect.clone()) {
            self.connect_hits += 1;
            return done;
        }
        self.connect_misses += 1;
        let mut utxos = parent_utxos.clone();
        let result = validate::connect_block_with_txids(
            &info.block,
            &info.txids,
            &mut utxos,
            info.height,
            params,
            &mut self.sigs,
        )
        .map(|(undo, fees)| Connected {
            utxo_after: Some(utxos),
            undo: Rc::new(undo),
            fees,
        });
        if let Some(e) = self.entries.get_mut(&info.hash) {
            let mut memo = result.clone();
            if let (false, Ok(c)) = (self.keep_snapshots, memo.as_mut()) {
                c.utxo_after = None;
            }
            e.connect = Some(memo);
        }
        result
    }
}

/// Where a block stands in one node's tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BlockStatus {
    /// Waiting for its parent.
    Orphan,
    /// Passed the context-free and header checks; transactions not yet
    /// validated (a side branch that was never the best).
    Accepted,
    /// Fully validated (on the active chain now or before).
    Valid,
    /// Failed validation, or descends from a block that did.
    Invalid,
}

/// What happened to a block given to [`Chainstate::accept_block`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AcceptStatus {
    /// Entered the block tree (see [`AcceptOutcome::newly_invalid`]: its
    /// transactions may still have failed when its branch was connected).
    Accepted,
    /// Kept until `missing_parent` arrives (the first unknown ancestor).
    Orphan {
        /// The block the node should ask for.
        missing_parent: BlockHash,
    },
    /// Already in the tree or the orphan pool.
    AlreadyKnown,
}

/// How the active chain changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TipChange {
    /// Tip before.
    pub old_tip: BlockHash,
    /// Tip after.
    pub new_tip: BlockHash,
    /// Last common block of the old and new chains.
    pub fork_point: BlockHash,
    /// Blocks removed from the active chain, old tip first.
    pub disconnected: Vec<Rc<Block>>,
    /// Blocks added to the active chain, oldest first (usually one, kept
    /// inline: a run makes one change per node and block).
    pub connected: smallvec::SmallVec<[Rc<Block>; 1]>,
}

impl TipChange {
    /// Reorg depth: number of blocks disconnected (0 for a plain extension).
    pub fn depth(&self) -> usize {
        self.disconnected.len()
    }
}

/// Result of [`Chainstate::accept_block`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptOutcome {
    /// What happened to the block itself.
    pub status: AcceptStatus,
    /// The active chain's change, if any.
    pub tip_change: Option<TipChange>,
    /// Blocks found invalid while processing (connect failures, their
    /// descendants, orphans descending from them), in discovery order.
    pub newly_invalid: Vec<(BlockHash, BlockError)>,
}

#[derive(Clone, Debug)]
struct IndexEntry {
    info: Rc<BlockInfo>,
    status: BlockStatus,
    seq: u64,
}

impl Keyed for IndexEntry {
    fn key(&self) -> &BlockHash {
        &self.info.hash
    }
}

#[derive(Clone, Debug)]
struct OrphanEntry {
    block: Rc<Block>,
    seq: u64,
}

/// What checking a child reads of its parent, copied out of the parent's
/// shared [`BlockInfo`] (no reference count taken and dropped per block).
#[derive(Clone, Copy)]
struct ParentView {
    hash: BlockHash,
    chain_work: Work,
    median_time_past: u32,
    next_bits: CompactTarget,
}

impl ParentView {
    fn of(info: &BlockInfo) -> Self {
        ParentView {
            hash: info.hash,
            chain_work: info.chain_work,
            median_time_past: info.median_time_past,
            next_bits: info.next_bits,
        }
    }
}

/// Sequence number of the first block after genesis (genesis has 0).
/// Numbers below it are handed out, counting down, by
/// [`Chainstate::prefer_on_tie`], so a preferred block sorts before every
/// block that entered the tree normally.
const FIRST_SEQ: u64 = 1 << 62;

/// Fork-choice order: most work, then first seen (lowest sequence number).
type CandidateKey = (Work, Reverse<u64>, BlockHash);

/// The fork-choice candidates, sorted ascending (the best is last). A
/// sorted vector rather than a B-tree: a node has one candidate per leaf of
/// its tree, usually one or two, and a vector's memory can be prefetched.
#[derive(Clone, Debug, Default)]
struct Candidates(Vec<CandidateKey>);

impl Candidates {
    fn insert(&mut self, key: CandidateKey) -> bool {
        match self.0.binary_search(&key) {
            Ok(_) => false,
            Err(i) => {
                self.0.insert(i, key);
                true
            }
        }
    }

    fn remove(&mut self, key: &CandidateKey) -> bool {
        match self.0.binary_search(key) {
            Ok(i) => {
                self.0.remove(i);
                true
            }
            Err(_) => false,
        }
    }

    fn last(&self) -> Option<&CandidateKey> {
        self.0.last()
    }

    fn iter(&self) -> std::slice::Iter<'_, CandidateKey> {
        self.0.iter()
    }
}

/// One node's view of the chain (see the module docs).
#[derive(Clone, Debug)]
pub struct Chainstate {
    params: Rc<Params>,
    index: BlockIndex<IndexEntry>,
    active: Vec<Rc<BlockInfo>>,
    undo: Vec<Rc<BlockUndo>>,
    utxos: UtxoSet,
    /// Non-invalid blocks, including every leaf of the tree (a non-leaf may
    /// linger: it has less work than its descendants, so it never wins).
    candidates: Candidates,
    next_seq: u64,
    /// Next sequence number [`Chainstate::prefer_on_tie`] hands out
    /// (counting down from below [`FIRST_SEQ`]).
    next_preferred_seq: u64,
    orphans: HashKeyMap<BlockHash, OrphanEntry>,
    /// Missing parent → orphans waiting for it, in arrival order.
    orphans_by_parent: HashKeyMap<BlockHash, Vec<BlockHash>>,
    /// Arrival order of orphans, for eviction.
    orphans_by_arrival: BTreeMap<u64, BlockHash>,
    next_orphan_seq: u64,
    max_orphans: usize,
    /// Orphans that left the pool without entering the tree: evicted, or
    /// rejected when their parent arrived without being recorded as invalid
    /// (a transient error such as a timestamp too far ahead).
    orphans_dropped: u64,
}

impl Chainstate {
    /// Orphans kept by default before the oldest is evicted.
    pub const DEFAULT_MAX_ORPHANS: usize = 1_000;

    /// A node that knows only `genesis`, whose outputs form its UTXO set
    /// (see the module docs).
    pub fn new(genesis: Rc<Block>, params: Rc<Params>, cache: &mut BlockCache) -> Chainstate {
        let info = cache.intern_genesis(genesis, &params);
        let utxos = match cache.utxo_after(&info.hash) {
            Some(u) => u,
            None => {
                // Interned under another cache policy: rebuild (cheap, once).
                let mut u = UtxoSet::new();
                for (tx, txid) in info.block.txdata.iter().zip(&info.txids) {
                    let _ = u.add_tx_outputs_with_txid(tx, *txid, 0);
                }
                u
            }
        };
        let mut index = BlockIndex::default();
        index.insert(IndexEntry {
            info: info.clone(),
            status: BlockStatus::Valid,
            seq: 0,
        });
        let mut candidates = Candidates::default();
        candidates.insert((info.chain_work, Reverse(0), info.hash));
        Chainstate {
            params,
            index,
            active: vec![info],
            undo: vec![Rc::default()],
            utxos,
            candidates,
            next_seq: FIRST_SEQ,
            next_preferred_seq: FIRST_SEQ - 1,
            orphans: HashKeyMap::default(),
            orphans_by_parent: HashKeyMap::default(),
            orphans_by_arrival: BTreeMap::new(),
            next_orphan_seq: 0,
            max_orphans: Self::DEFAULT_MAX_ORPHANS,
            orphans_dropped: 0,
        }
    }

    /// Makes room for `blocks` more blocks in the tree and the active chain.
    pub fn reserve(&mut self, blocks: usize) {
        self.index.reserve(blocks);
        self.active.reserve_exact(blocks);
        self.undo.reserve_exact(blocks);
    }

    /// Sets how many orphans are kept before the oldest is evicted.
    pub fn set_max_orphans(&mut self, max: usize) {
        self.max_orphans = max;
        self.evict_orphans();
    }

    /// The consensus parameters.
    pub fn params(&self) -> &Rc<Params> {
        &self.params
    }

    /// Processes a block received at `now` (seconds, the node's clock).
    ///
    /// Known blocks give [`AcceptStatus::AlreadyKnown`]; a block with an
    /// unknown parent is kept as an orphan (after its context-free checks)
    /// and connected when the parent arrives. Otherwise the block is checked
    /// (context-free, then its header against its parent) and the fork
    /// choice runs. `Err` means the block itself was rejected before
    /// entering the tree; its orphan descendants, if any, are then marked
    /// invalid too. Failures found while connecting a branch are reported
    /// in [`AcceptOutcome::newly_invalid`], not as `Err`.
    pub fn accept_block(
        &mut self,
        block: Rc<Block>,
        now: u32,
        cache: &mut BlockCache,
    ) -> Result<AcceptOutcome, BlockError> {
        let hash = cache
            .known_hash(&block)
            .unwrap_or_else(|| block.block_hash());
        if self.index.contains_key(&hash) || self.orphans.contains_key(&hash) {
            return Ok(AcceptOutcome {
                status: AcceptStatus::AlreadyKnown,
                tip_change: None,
                newly_invalid: Vec::new(),
            });
        }
        let prev = block.header.prev_blockhash;
        // Extending the tip is the common case: the tip is in the tree.
        if prev != self.tip() && !self.index.contains_key(&prev) {
            return self.accept_orphan(block, hash, cache);
        }
        let old_tip = self.tip_at();
        let mut newly_invalid = Vec::new();
        let first = self.add_to_tree(block, hash, now, cache);
        if let Err(e) = &first {
            if !self.index.contains_key(&hash) {
                // Not recorded (transient or unrecordable failure): its
                // orphans keep waiting for a good copy.
                return Err(e.clone());
            }
        }
        if !self.orphans_by_parent.is_empty() {
            self.connect_orphans(hash, now, cache, &mut newly_invalid);
        }
        first?;
        self.activate_best_chain(cache, &mut newly_invalid);
        Ok(AcceptOutcome {
            status: AcceptStatus::Accepted,
            tip_change: self.tip_change_from(old_tip),
            newly_invalid,
        })
    }

    /// [`Self::accept_block`] of a block whose parent is not in the tree:
    /// checked and stored as an orphan (out of line: rare beside extending
    /// the tree).
    #[inline(never)]
    fn accept_orphan(
        &mut self,
        block: Rc<Block>,
        hash: BlockHash,
        cache: &mut BlockCache,
    ) -> Result<AcceptOutcome, BlockError> {
        let prev = block.header.prev_blockhash;
        if prev == BlockHash::GENESIS_PREV {
            return Err(BlockError::PrevBlockNotFound(prev));
        }
        cache.check(&block, hash, &self.params)?;
        let missing_parent = self.add_orphan(block, hash);
        Ok(AcceptOutcome {
            status: AcceptStatus::Orphan { missing_parent },
            tip_change: None,
            newly_invalid: Vec::new(),
        })
    }

    /// Adds the orphans whose parent `hash` just entered the tree, and
    /// theirs, breadth first; those found invalid go to `newly_invalid`.
    #[inline(never)]
    fn connect_orphans(
        &mut self,
        hash: BlockHash,
        now: u32,
        cache: &mut BlockCache,
        newly_invalid: &mut Vec<(BlockHash, BlockError)>,
    ) {
        let mut queue = VecDeque::from([hash]);
        while let Some(parent) = queue.pop_front() {
            if self.orphans_by_parent.is_empty() {
                break;
            }
            for child in self.orphans_by_parent.remove(&parent).unwrap_or_default() {
                let orphan = self.orphans.remove(&child).expect("indexed orphan");
                self.orphans_by_arrival.remove(&orphan.seq);
                match self.add_to_tree(orphan.block, child, now, cache) {
                    Ok(()) => queue.push_back(child),
                    Err(e) => {
                        if self.index.contains_key(&child) {
                            newly_invalid.push((child, e));
                            queue.push_back(child);
                        } else {
                            self.orphans_dropped += 1;
                        }
                    }
                }
            }
        }
    }

    /// Stores an orphan; returns its first missing ancestor.
    fn add_orphan(&mut self, block: Rc<Block>, hash: BlockHash) -> BlockHash {
        let prev = block.header.prev_blockhash;
        let seq = self.next_orphan_seq;
        self.next_orphan_seq += 1;
        self.orphans.insert(hash, OrphanEntry { block, seq });
        self.orphans_by_parent.entry(prev).or_default().push(hash);
        self.orphans_by_arrival.insert(seq, hash);
        self.evict_orphans();
        let mut missing = prev;
        while let Some(o) = self.orphans.get(&missing) {
            missing = o.block.header.prev_blockhash;
        }
        missing
    }

    fn evict_orphans(&mut self) {
        while self.orphans.len() > self.max_orphans {
            let (_, hash) = self
                .orphans_by_arrival
                .pop_first()
                .expect("orphans are indexed by arrival");
            let orphan = self.orphans.remove(&hash).expect("indexed orphan");
            self.orphans_dropped += 1;
            let prev = orphan.block.header.prev_blockhash;
            if let Some(list) = self.orphans_by_parent.get_mut(&prev) {
                list.retain(|h| *h != hash);
                if list.is_empty() {
                    self.orphans_by_parent.remove(&prev);
                }
            }
        }
    }

    /// Checks a block whose parent is in the tree and records it: as
    /// accepted (a fork-choice candidate) or, on a permanent failure, as
    /// invalid.
    fn add_to_tree(
        &mut self,
        block: Rc<Block>,
        hash: BlockHash,
        now: u32,
        cache: &mut BlockCache,
    ) -> Result<(), BlockError> {
        let prev = block.header.prev_blockhash;
        let (parent_info, parent_status, parent_seq) = match self.candidates.last() {
            // Extending the tip, the best candidate (the common case): its
            // status and sequence number are known without an index probe.
            Some(&(_, Reverse(seq), best)) if best == prev && prev == self.tip() => {
                (ParentView::of(self.tip_info()), BlockStatus::Valid, seq)
            }
            _ => {
                let parent = self.index.get(&prev).expect("parent is in the tree");
                (ParentView::of(&parent.info), parent.status, parent.seq)
            }
        };
        debug_assert_eq!(
            (parent_status, parent_seq),
            (self.index[&prev].status, self.index[&prev].seq)
        );
        let verdict = if parent_status == BlockStatus::Invalid {
            // Store the block in the cache (if its body is sound) so that
            // the node can remember the hash as invalid.
            let _ = cache.check(&block, hash, &self.params);
            Err(BlockError::BadPrevBlock(prev))
        } else {
            cache.check(&block, hash, &self.params).and_then(|()| {
                validate::check_header_context(
                    &block.header,
                    parent_info.next_bits,
                    parent_info.median_time_past,
                    now,
                    &self.params,
                )
            })
        };
        let status = match &verdict {
            Ok(()) => BlockStatus::Accepted,
            Err(e) if e.is_permanent() => BlockStatus::Invalid,
            Err(_) => return verdict,
        };
        let Some(info) = cache.intern(&hash, &self.params) else {
            return verdict; // proof of work failed: not stored anywhere
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        if status == BlockStatus::Accepted {
            if parent_status != BlockStatus::Invalid {
                self.candidates.remove(&(
                    parent_info.chain_work,
                    Reverse(parent_seq),
                    parent_info.hash,
                ));
            }
            self.candidates
                .insert((info.chain_work, Reverse(seq), info.hash));
        }
        self.index.insert(IndexEntry { info, status, seq });
        verdict
    }

    fn key_of(&self, hash: &BlockHash) -> CandidateKey {
        let e = &self.index[hash];
        (e.info.chain_work, Reverse(e.seq), *hash)
    }

    /// Moves the active chain to the best valid candidate, connecting and
    /// disconnecting blocks; invalid blocks found on the way are marked with
    /// their descendants and the choice runs again.
    fn activate_best_chain(
        &mut self,
        cache: &mut BlockCache,
        newly_invalid: &mut Vec<(BlockHash, BlockError)>,
    ) {
        loop {
            let &(_, _, best) = self
                .candidates
                .last()
                .expect("the tip or one of its descendants is always a candidate");
            if best == self.tip() {
                return;
            }
            let mut cur = self.index[&best].info.clone();
            if cur.parent == self.tip() {
                // The common case, one block on the tip: no walk.
                if let Err((e, cur)) = self.connect_tip(cur, cache) {
                    self.invalidate(&cur, e, newly_invalid);
                }
                continue;
            }
            let mut path = Vec::new();
            while !self.is_active(&cur) {
                let parent = self.index[&cur.parent].info.clone();
                path.push(cur);
                cur = parent;
            }
            while self.height() > cur.height {
                self.disconnect_tip(cache);
            }
            for info in path.into_iter().rev() {
                if let Err((e, info)) = self.connect_tip(info, cache) {
                    self.invalidate(&info, e, newly_invalid);
                    break;
                }
            }
        }
    }

    fn is_active(&self, info: &BlockInfo) -> bool {
        self.active
            .get(info.height as usize)
            .is_some_and(|a| a.hash == info.hash)
    }

    /// Connects `info` on the tip, moving it into the active chain; on
    /// failure gives it back with the error.
    fn connect_tip(
        &mut self,
        info: Rc<BlockInfo>,
        cache: &mut BlockCache,
    ) -> Result<(), (BlockError, Rc<BlockInfo>)> {
        debug_assert_eq!(info.parent, self.tip());
        let connected = match cache.connect(&info, &self.utxos, &self.params) {
            Ok(connected) => connected,
            Err(e) => return Err((e, info)),
        };
        match connected.utxo_after {
            Some(after) => self.utxos = after,
            None => {
                // The memo says the block is valid on this very state; only
                // apply it (no signature or value checks needed).
                match self
                    .utxos
                    .connect_block_with_txids(&info.block, &info.txids, info.height)
                {
                    Ok(undo) => debug_assert_eq!(undo, *connected.undo),
                    Err(e) => return Err((utxo_error_to_block_error(e), info)),
                }
            }
        }
        self.index
            .get_mut(&info.hash)
            .expect("connected blocks are in the tree")
            .status = BlockStatus::Valid;
        self.active.push(info);
        self.undo.push(connected.undo);
        Ok(())
    }

    fn disconnect_tip(&mut self, cache: &BlockCache) {
        let info = self.active.pop().expect("never disconnects genesis");
        let undo = self.undo.pop().expect("one undo per active block");
        let parent = self.active.last().expect("never disconnects genesis");
        match cache.utxo_after(&parent.hash) {
            Some(set) => self.utxos = set,
            None => self
                .utxos
                .disconnect_block_with_txids(&info.block, &info.txids, &undo)
                .expect("the undo data of the active chain matches its utxo set"),
        }
    }

    /// Marks `info` invalid with `error`, and every descendant in the tree
    /// with `bad-prevblk`; its parent becomes a candidate again.
    fn invalidate(
        &mut self,
        info: &Rc<BlockInfo>,
        error: BlockError,
        newly_invalid: &mut Vec<(BlockHash, BlockError)>,
    ) {
        let key = self.key_of(&info.hash);
        self.candidates.remove(&key);
        self.index.get_mut(&info.hash).expect("in tree").status = BlockStatus::Invalid;
        newly_invalid.push((info.hash, error));
        let above: Vec<CandidateKey> = self
            .candidates
            .iter()
            .filter(|(_, _, h)| self.index[h].info.height > info.height)
            .copied()
            .collect();
        for key in above {
            let mut path = Vec::new();
            let mut cur = self.index[&key.2].info.clone();
            while cur.height > info.height {
                let parent = self.index[&cur.parent].info.clone();
                path.push(cur);
                cur = parent;
            }
            if cur.hash != info.hash {
                continue;
            }
            self.candidates.remove(&key);
            for d in path.into_iter().rev() {
                let e = self.index.get_mut(&d.hash).expect("in tree");
                if e.status != BlockStatus::Invalid {
                    e.status = BlockStatus::Invalid;
                    newly_invalid.push((d.hash, BlockError::BadPrevBlock(d.parent)));
                }
            }
        }
        if self.index[&info.parent].status != BlockStatus::Invalid {
            let key = self.key_of(&info.parent);
            self.candidates.insert(key);
        }
    }

    /// The tip's hash and height, to compare with after a change
    /// ([`Chainstate::tip_change_from`]).
    fn tip_at(&self) -> (BlockHash, u32) {
        let tip = self.tip_info();
        (tip.hash, tip.height)
    }

    /// The change from the tip `(hash, height)` (see
    /// [`Chainstate::tip_at`]) to the current one, if any.
    fn tip_change_from(&self, (old_hash, old_height): (BlockHash, u32)) -> Option<TipChange> {
        if old_hash == self.tip() {
            return None;
        }
        let mut disconnected = Vec::new();
        // Still active (the new tip extends it: the common case), the old
        // tip is found by height; otherwise in the tree.
        let mut cur = match self.active.get(old_height as usize) {
            Some(info) if info.hash == old_hash => info,
            _ => &self.index[&old_hash].info,
        };
        while !self.is_active(cur) {
            disconnected.push(cur.block.clone());
            cur = &self.index[&cur.parent].info;
        }
        Some(TipChange {
            old_tip: old_hash,
            new_tip: self.tip(),
            fork_point: cur.hash,
            disconnected,
            connected: self.active[cur.height as usize + 1..]
                .iter()
                .map(|i| i.block.clone())
                .collect(),
        })
    }

    /// Gives `hash` priority over every block of equal chain work, as if it
    /// had been seen first (a later preference beats an earlier one), and
    /// re-runs the fork choice. Work still decides first: a preferred block
    /// never displaces a branch with more work.
    ///
    /// This models a node that, in a tie between two equal-work tips,
    /// switches to a particular one (the share γ of honest hashrate that
    /// mines on a selfish miner's block in Eyal–Sirer's model). Unknown,
    /// orphan or invalid blocks are ignored. Returns the tip change, and any
    /// block found invalid while connecting, with status
    /// [`AcceptStatus::AlreadyKnown`].
    pub fn prefer_on_tie(&mut self, hash: &BlockHash, cache: &mut BlockCache) -> AcceptOutcome {
        let mut outcome = AcceptOutcome {
            status: AcceptStatus::AlreadyKnown,
            tip_change: None,
            newly_invalid: Vec::new(),
        };
        match self.index.get(hash) {
            Some(e) if e.status != BlockStatus::Invalid && e.seq != 0 => {}
            _ => return outcome,
        }
        let old_key = self.key_of(hash);
        let seq = self.next_preferred_seq;
        self.next_preferred_seq -= 1;
        let entry = self.index.get_mut(hash).expect("checked above");
        entry.seq = seq;
        if self.candidates.remove(&old_key) {
            self.candidates.insert((old_key.0, Reverse(seq), *hash));
        }
        let old_tip = self.tip_at();
        self.activate_best_chain(cache, &mut outcome.newly_invalid);
        outcome.tip_change = self.tip_change_from(old_tip);
        outcome
    }

    /// Hash of the active tip.
    pub fn tip(&self) -> BlockHash {
        self.tip_info().hash
    }

    /// Info of the active tip.
    pub fn tip_info(&self) -> &Rc<BlockInfo> {
        self.active.last().expect("the active chain holds genesis")
    }

    /// Hash of genesis.
    pub fn genesis_hash(&self) -> BlockHash {
        self.active[0].hash
    }

    /// Height of the active tip.
    pub fn height(&self) -> u32 {
        self.tip_info().height
    }

    /// Cumulative work of the active chain.
    pub fn chain_work(&self) -> Work {
        self.tip_info().chain_work
    }

    /// The active block at `height`.
    pub fn block_at_height(&self, height: u32) -> Option<BlockHash> {
        self.active.get(height as usize).map(|i| i.hash)
    }

    /// Info of the active block at `height`.
    pub fn info_at_height(&self, height: u32) -> Option<&Rc<BlockInfo>> {
        self.active.get(height as usize)
    }

    /// Whether `hash` is on the active chain.
    pub fn is_on_active_chain(&self, hash: &BlockHash) -> bool {
        self.index
            .get(hash)
            .is_some_and(|e| self.is_active(&e.info))
    }

    /// Hints the CPU to fetch what [`Self::accept_block`] of the block
    /// `hash` will read first in this node's own state: the index position
    /// of `hash`, and the ends of the index and of the active chain. For a
    /// simulator running many nodes, one event ahead; changes nothing.
    pub fn prefetch_accept(&self, hash: &BlockHash) {
        self.index.prefetch(hash);
        if let Some(tip) = self.active.last() {
            crate::sim::prefetch(tip);
        }
        if let Some(undo) = self.undo.last() {
            crate::sim::prefetch(undo);
        }
        if let Some(best) = self.candidates.last() {
            crate::sim::prefetch_all(best);
        }
    }

    /// Whether the node knows `hash` (in the tree or as an orphan).
    pub fn contains(&self, hash: &BlockHash) -> bool {
        self.index.contains_key(hash) || self.orphans.contains_key(hash)
    }

    /// Status of `hash`, if known.
    pub fn status(&self, hash: &BlockHash) -> Option<BlockStatus> {
        if self.orphans.contains_key(hash) {
            return Some(BlockStatus::Orphan);
        }
        self.index.get(hash).map(|e| e.status)
    }

    /// Info of a block in the tree (not orphans).
    pub fn info(&self, hash: &BlockHash) -> Option<&Rc<BlockInfo>> {
        self.index.get(hash).map(|e| &e.info)
    }

    /// A known block (in the tree or an orphan).
    pub fn get_block(&self, hash: &BlockHash) -> Option<Rc<Block>> {
        self.index
            .get(hash)
            .map(|e| e.info.block.clone())
            .or_else(|| self.orphans.get(hash).map(|o| o.block.clone()))
    }

    /// The UTXO set of the active tip.
    pub fn utxos(&self) -> &UtxoSet {
        &self.utxos
    }

    /// Balance of a P2PKH pubkey hash at the tip.
    pub fn balance(&self, pubkey_hash: &[u8; 20]) -> Amount {
        self.utxos.balance(pubkey_hash)
    }

    /// Unspent P2PKH outputs of a pubkey hash at the tip, sorted.
    pub fn utxos_of(&self, pubkey_hash: &[u8; 20]) -> Vec<(OutPoint, Amount)> {
        self.utxos.utxos_of(pubkey_hash)
    }

    /// Median time past of the tip: a child's time must be greater.
    pub fn median_time_past(&self) -> u32 {
        self.tip_info().median_time_past
    }

    /// The bits a child of the tip must carry.
    pub fn next_bits(&self) -> CompactTarget {
        self.tip_info().next_bits
    }

    /// Undo data of the active block at `height` (genesis's is empty).
    pub fn undo_at_height(&self, height: u32) -> Option<&Rc<BlockUndo>> {
        self.undo.get(height as usize)
    }

    /// Blocks in the tree (any status but orphan), genesis included.
    pub fn block_count(&self) -> usize {
        self.index.len()
    }

    /// Orphans waiting for a parent.
    pub fn orphan_count(&self) -> usize {
        self.orphans.len()
    }

    /// How many orphans left the orphan pool without entering the tree:
    /// evicted to respect the orphan limit, or rejected with a transient
    /// error (not recorded as invalid) when their parent arrived. While this
    /// is 0 and no orphan waits, every block this chainstate was given that
    /// reached the orphan pool is in its tree.
    pub fn orphans_dropped(&self) -> u64 {
        self.orphans_dropped
    }

    /// Hashes the orphans wait for that the node does not have, sorted.
    pub fn missing_parents(&self) -> Vec<BlockHash> {
        self.orphans_by_parent
            .keys()
            .filter(|h| !self.orphans.contains_key(h))
            .copied()
            .collect()
    }

    /// The active chain's hashes, genesis first.
    pub fn active_chain_hashes(&self) -> Vec<BlockHash> {
        self.active.iter().map(|i| i.hash).collect()
    }

    /// A block locator (Core `GetLocator`): the tip, then back with gaps
    /// doubling after ten steps, ending at genesis.
    pub fn locator(&self) -> Vec<BlockHash> {
        let mut out = Vec::new();
        let mut height = self.height() as i64;
        let mut step = 1;
        while height > 0 {
            out.push(self.active[height as usize].hash);
            if out.len() >= 10 {
                step *= 2;
            }
            height -= step;
        }
        out.push(self.active[0].hash);
        out
    }
}

fn utxo_error_to_block_error(e: UtxoError) -> BlockError {
    match e {
        UtxoError::MissingInput {
            txid,
            input,
            outpoint,
        } => BlockError::Tx {
            index: 0,
            txid,
            error: TxError::MissingOrSpent { input, outpoint },
        },
        UtxoError::OutputExists(o) => BlockError::OutputExists(o),
        _ => BlockError::NoTransactions,
    }
}

/// Expected hashes up to which [`new_genesis`] grinds the nonce (2^32).
pub const GENESIS_GRIND_LIMIT: f64 = 4_294_967_296.0;

/// A genesis block: a height-0 coinbase paying `outputs` (one empty
/// zero-value output if none), the Merkle root set, and the nonce ground so
/// the hash meets `bits` when `params.check_pow` and the target needs at
/// most [`GENESIS_GRIND_LIMIT`] expected hashes. Harder genesis blocks keep
/// nonce 0: genesis is trusted, never validated.
pub fn new_genesis(params: &Params, time: u32, bits: CompactTarget, outputs: Vec<TxOut>) -> Block {
    let mut coinbase = Transaction::new_coinbase(0, 0, Amount::ZERO, ScriptBuf::default());
    if !outputs.is_empty() {
        coinbase.output = outputs;
    }
    let mut header = Header {
        version: 1,
        prev_blockhash: BlockHash::GENESIS_PREV,
        merkle_root: coinbase.compute_txid().into(),
        time,
        bits,
        nonce: 0,
    };
    if let Ok(target) = Target::from_compact(bits) {
        let easy = target.to_work().to_f64_lossy() <= GENESIS_GRIND_LIMIT;
        if params.check_pow && easy && !target.0.is_zero() {
            nonce::grind(&mut header, target, u64::MAX);
        }
    }
    Block {
        header,
        txdata: vec![coinbase],
    }
}

/// Builders shared by the ledger's unit tests.
#[cfg(test)]
pub(crate) mod testkit {
    use super::*;
    use crate::ledger::keys::PrivateKey;
    use crate::ledger::merkle;
    use crate::ledger::sighash;
    use crate::ledger::tx::TxIn;

    /// Value of each wallet's genesis output.
    pub const ENDOWMENT: u64 = 10 * Amount::SAT_PER_BTC;
    /// Genesis time.
    pub const T0: u32 = 1_700_000_000;
    /// Number of endowed wallets.
    pub const WALLETS: usize = 3;

    /// Teaching parameters: 4-bit difficulty (grinding is instant), no
    /// retargeting, maturity 10.
    pub fn kit_params() -> Params {
        let mut p = Params::bitcoin();
        p.pow_limit = Target::from_leading_zero_bits(4);
        p.retarget_window = 0;
        p.coinbase_maturity = 10;
        p.halving_interval = 150;
        p.bip34_height = 0;
        p
    }

    pub fn key(i: usize) -> PrivateKey {
        PrivateKey::from_seed(i as u64 + 1)
    }

    pub fn pkh(i: usize) -> [u8; 20] {
        key(i).public_key().pubkey_hash()
    }

    pub fn script(i: usize) -> ScriptBuf {
        ScriptBuf::new_p2pkh(&pkh(i))
    }

    /// A script no wallet owns (miners' coinbases).
    pub fn miner_script() -> ScriptBuf {
        ScriptBuf::new_p2pkh(&[0xee; 20])
    }

    pub fn genesis_with(params: &Params, bits: CompactTarget) -> Block {
        let outputs = (0..WALLETS)
            .map(|i| TxOut {
                value: Amount::from_sat_unchecked(ENDOWMENT),
                script_pubkey: script(i),
            })
            .collect();
        new_genesis(params, T0, bits, outputs)
    }

    /// Sets the Merkle root (optionally) and grinds the nonce again.
    pub fn finish(block: &mut Block, recompute_merkle: bool) {
        if recompute_merkle {
            let txids: Vec<Txid> = block.txdata.iter().map(|t| t.compute_txid()).collect();
            block.header.merkle_root = merkle::merkle_root(&txids).unwrap_or_default();
        }
        let target = Target::from_compact(block.header.bits).expect("test bits decode");
        block.header.nonce = 0;
        nonce::grind(&mut block.header, target, u64::MAX).expect("teaching difficulty");
    }

    /// Assembles and grinds a block.
    #[allow(clippy::too_many_arguments)]
    pub fn mine(
        prev: BlockHash,
        height: u32,
        time: u32,
        bits: CompactTarget,
        txs: Vec<Transaction>,
        coinbase_value: Amount,
        coinbase_script: ScriptBuf,
        extra_nonce: u64,
    ) -> Block {
        let mut txdata = vec![Transaction::new_coinbase(
            height,
            extra_nonce,
            coinbase_value,
            coinbase_script,
        )];
        txdata.extend(txs);
        let mut block = Block {
            header: Header {
                version: 1,
                prev_blockhash: prev,
                merkle_root: Default::default(),
                time,
                bits,
                nonce: 0,
            },
            txdata,
        };
        finish(&mut block, true);
        block
    }

    /// Signs every input of `tx` with wallet `w`'s key (each spends a coin
    /// locked to `w`).
    pub fn sign_all(tx: &mut Transaction, w: usize) {
        for i in 0..tx.input.len() {
            sighash::sign_p2pkh_input(tx, i, &script(w), &key(w)).expect("sign");
        }
    }

    /// A signed payment spending `coin` (of value `value`, owned by `from`):
    /// `amount` to `to`, `fee` to the miner, the change back to `from`.
    pub fn payment(
        coin: OutPoint,
        value: u64,
        from: usize,
        to: usize,
        amount: u64,
        fee: u64,
    ) -> Transaction {
        let mut tx = Transaction {
            version: 1,
            input: vec![TxIn {
                previous_output: coin,
                script_sig: ScriptBuf::default(),
                sequence: u32::MAX,
            }],
            output: vec![
                TxOut {
                    value: Amount::from_sat_unchecked(amount),
                    script_pubkey: script(to),
                },
                TxOut {
                    value: Amount::from_sat_unchecked(value - amount - fee),
                    script_pubkey: script(from),
                },
            ],
            lock_time: 0,
        };
        sign_all(&mut tx, from);
        tx
    }

    /// A validation fixture: genesis endowing [`WALLETS`] wallets, and the
    /// state at a tip.
    pub struct Kit {
        pub params: Params,
        pub keys: Vec<PrivateKey>,
        pub genesis: Block,
        pub utxos: UtxoSet,
        pub height: u32,
        pub tip: BlockHash,
        pub time: u32,
        pub bits: CompactTarget,
        pub extra_nonce: u64,
    }

    impl Kit {
        pub fn new() -> Kit {
            let params = kit_params();
            let bits = params.pow_limit.to_compact_lossy();
            let genesis = genesis_with(&params, bits);
            let mut utxos = UtxoSet::new();
            utxos.add_tx_outputs(&genesis.txdata[0], 0).unwrap();
            Kit {
                keys: (0..WALLETS).map(key).collect(),
                tip: genesis.block_hash(),
                time: genesis.header.time,
                genesis,
                utxos,
                height: 0,
                bits,
                params,
                extra_nonce: 0,
            }
        }

        pub fn target(&self) -> Target {
            Target::from_compact(self.bits).unwrap()
        }

        pub fn pkh(&self, i: usize) -> [u8; 20] {
            pkh(i)
        }

        pub fn script(&self, i: usize) -> ScriptBuf {
            script(i)
        }

        /// Wallet `from`'s genesis coin.
        pub fn genesis_coin(&self, from: usize) -> OutPoint {
            OutPoint {
                txid: self.genesis.txdata[0].compute_txid(),
                vout: from as u32,
            }
        }

        /// Pays `amount` from wallet `from`'s genesis coin to `to`.
        pub fn pay(&self, from: usize, to: usize, amount: u64, fee: u64) -> Transaction {
            payment(self.genesis_coin(from), ENDOWMENT, from, to, amount, fee)
        }

        /// Spends output `vout` of `parent` (owned by `owner`).
        pub fn spend_output(
            &self,
            parent: &Transaction,
            vout: u32,
            owner: usize,
            to: usize,
            amount: u64,
            fee: u64,
        ) -> Transaction {
            let value = parent.output[vout as usize].value.to_sat();
            let coin = OutPoint {
                txid: parent.compute_txid(),
                vout,
            };
            payment(coin, value, owner, to, amount, fee)
        }

        pub fn sign(&self, tx: &mut Transaction, w: usize) {
            sign_all(tx, w)
        }

        /// A block on the kit's tip whose coinbase (paying wallet 0) claims
        /// the subsidy plus `coinbase_extra`.
        pub fn block(&self, txs: Vec<Transaction>, coinbase_extra: u64) -> Block {
            let value = self.params.block_subsidy(self.height + 1).to_sat() + coinbase_extra;
            mine(
                self.tip,
                self.height + 1,
                self.time + 60,
                self.bits,
                txs,
                Amount::from_sat_unchecked(value),
                script(0),
                self.extra_nonce,
            )
        }

        pub fn regrind(&self, block: &mut Block, recompute_merkle: bool) {
            finish(block, recompute_merkle)
        }

        /// Connects `block` to the kit's state (must be valid).
        pub fn advance(&mut self, block: &Block) {
            validate::connect_block(
                block,
                &mut self.utxos,
                self.height + 1,
                &self.params,
                &mut SigCache::new(),
            )
            .expect("valid block");
            self.height += 1;
            self.tip = block.block_hash();
            self.time = block.header.time;
        }
    }

    /// Mines a child of `parent` (interned in `cache`) with the bits and a
    /// time its header context accepts, claiming subsidy + `fees`, and
    /// interns it.
    pub fn mine_child(
        cache: &mut BlockCache,
        params: &Params,
        parent: &BlockHash,
        txs: Vec<Transaction>,
        fees: u64,
        time_delta: u32,
        extra_nonce: u64,
    ) -> Rc<Block> {
        let p = cache.info(parent).expect("parent interned").clone();
        let height = p.height + 1;
        let value = params.block_subsidy(height).to_sat() + fees;
        let block = Rc::new(mine(
            p.hash,
            height,
            p.time().max(p.median_time_past) + time_delta,
            p.next_bits,
            txs,
            Amount::from_sat_unchecked(value),
            miner_script(),
            extra_nonce,
        ));
        let hash = block.block_hash();
        cache.check(&block, hash, params).expect("valid test block");
        cache.intern(&hash, params).expect("parent interned");
        block
    }
}

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use super::*;
    use proptest::prelude::*;

    const NOW: u32 = u32::MAX - 100_000;

    /// How a test block differs from a plain valid one.
    #[derive(Clone, Copy, Debug)]
    enum Kind {
        /// Valid, 600 s after its parent.
        Plain,
        /// Valid, `n` seconds after its parent.
        After(u32),
        /// Spends a coin that does not exist: fails when connected.
        BadTx,
    }

    struct Tree {
        params: Rc<Params>,
        genesis: Rc<Block>,
        /// Cache used only to build blocks (so nodes validate for real).
        builder: BlockCache,
        blocks: BTreeMap<&'static str, Rc<Block>>,
    }

    impl Tree {
        /// A tree on the kit parameters at the proof-of-work limit.
        fn kit() -> Tree {
            let params = kit_params();
            let bits = params.pow_limit.to_compact_lossy();
            Tree::new(params, bits)
        }

        fn new(params: Params, bits: CompactTarget) -> Tree {
            let genesis = Rc::new(genesis_with(&params, bits));
            let mut builder = BlockCache::new();
            builder.intern_genesis(genesis.clone(), &params);
            Tree {
                params: Rc::new(params),
                genesis,
                builder,
                blocks: BTreeMap::new(),
            }
        }

        fn hash(&self, name: &str) -> BlockHash {
            if name == "G" {
                return self.genesis.block_hash();
            }
            self.blocks[name].block_hash()
        }

        fn add(&mut self, name: &'static str, parent: &str, kind: Kind) {
            let parent = self.hash(parent);
            let (txs, delta) = match kind {
                Kind::Plain => (vec![], 600),
                Kind::After(d) => (vec![], d),
                Kind::BadTx => {
                    let ghost = OutPoint {
                        txid: Txid([0xab; 32]),
                        vout: 0,
                    };
                    (vec![payment(ghost, 1_000, 0, 1, 10, 0)], 600)
                }
            };
            let nonce = self.blocks.len() as u64 + 1;
            let b = mine_child(
                &mut self.builder,
                &self.params,
                &parent,
                txs,
                0,
                delta,
                nonce,
            );
            self.blocks.insert(name, b);
        }

        fn node(&self, cache: &mut BlockCache) -> Chainstate {
            Chainstate::new(self.genesis.clone(), self.params.clone(), cache)
        }
    }

    /// The UTXO set obtained by connecting the node's active chain from
    /// genesis with plain `UtxoSet` operations.
    fn direct_utxos(node: &Chainstate) -> UtxoSet {
        let mut set = UtxoSet::new();
        set.add_tx_outputs(&node.info_at_height(0).unwrap().block.txdata[0], 0)
            .unwrap();
        for h in 1..=node.height() {
            let info = node.info_at_height(h).unwrap();
            set.connect_block(&info.block, h).unwrap();
        }
        set
    }

    struct Case {
        name: &'static str,
        blocks: &'static [(&'static str, &'static str, Kind)],
        arrival: &'static [&'static str],
        tip: &'static str,
        invalid: &'static [&'static str],
        orphans: usize,
    }

    const CASES: &[Case] = &[
        Case {
            name: "longer branch wins",
            blocks: &[
                ("a1", "G", Kind::Plain),
                ("a2", "a1", Kind::Plain),
                ("b1", "G", Kind::Plain),
                ("b2", "b1", Kind::Plain),
                ("b3", "b2", Kind::Plain),
            ],
            arrival: &["a1", "a2", "b1", "b2", "b3"],
            tip: "b3",
            invalid: &[],
            orphans: 0,
        },
        Case {
            name: "equal work keeps first seen",
            blocks: &[("a1", "G", Kind::Plain), ("b1", "G", Kind::Plain)],
            arrival: &["b1", "a1"],
            tip: "b1",
            invalid: &[],
            orphans: 0,
        },
        Case {
            name: "equal work keeps first seen (other order)",
            blocks: &[("a1", "G", Kind::Plain), ("b1", "G", Kind::Plain)],
            arrival: &["a1", "b1"],
            tip: "a1",
            invalid: &[],
            orphans: 0,
        },
        Case {
            name: "orphan connected when parent arrives",
            blocks: &[
                ("a1", "G", Kind::Plain),
                ("a2", "a1", Kind::Plain),
                ("a3", "a2", Kind::Plain),
            ],
            arrival: &["a3", "a2", "a1"],
            tip: "a3",
            invalid: &[],
            orphans: 0,
        },
        Case {
            name: "orphan whose parent never arrives stays orphan",
            blocks: &[
                ("a1", "G", Kind::Plain),
                ("a2", "a1", Kind::Plain),
                ("b1", "G", Kind::Plain),
            ],
            arrival: &["a2", "b1"],
            tip: "b1",
            invalid: &[],
            orphans: 1,
        },
        Case {
            name: "orphan connected late does not displace equal-work tip",
            blocks: &[
                ("a1", "G", Kind::Plain),
                ("a2", "a1", Kind::Plain),
                ("b1", "G", Kind::Plain),
                ("b2", "b1", Kind::Plain),
            ],
            arrival: &["a2", "b1", "b2", "a1"],
            tip: "b2",
            invalid: &[],
            orphans: 0,
        },
        Case {
            name: "invalid block marks descendants invalid",
            blocks: &[
                ("a1", "G", Kind::Plain),
                ("x2", "a1", Kind::BadTx),
                ("a3", "x2", Kind::Plain),
                ("a4", "a3", Kind::Plain),
                ("b1", "G", Kind::Plain),
            ],
            arrival: &["b1", "a1", "x2", "a3", "a4"],
            tip: "b1",
            invalid: &["x2", "a3", "a4"],
            orphans: 0,
        },
        Case {
            name: "invalid block found after its descendants arrived",
            blocks: &[
                ("a1", "G", Kind::Plain),
                ("x2", "a1", Kind::BadTx),
                ("a3", "x2", Kind::Plain),
                ("a4", "a3", Kind::Plain),
                ("b1", "G", Kind::Plain),
                ("b2", "b1", Kind::Plain),
                ("b3", "b2", Kind::Plain),
            ],
            arrival: &["b1", "b2", "b3", "a1", "a4", "a3", "x2"],
            tip: "b3",
            invalid: &["x2", "a3", "a4"],
            orphans: 0,
        },
        Case {
            name: "reorg back when new branch turns out invalid",
            blocks: &[
                ("a1", "G", Kind::Plain),
                ("a2", "a1", Kind::Plain),
                ("b1", "G", Kind::Plain),
                ("b2", "b1", Kind::Plain),
                ("x3", "b2", Kind::BadTx),
            ],
            arrival: &["a1", "a2", "b1", "b2", "x3"],
            tip: "a2",
            invalid: &["x3"],
            orphans: 0,
        },
        Case {
            name: "valid part of a failed branch kept when it has more work",
            blocks: &[
                ("a1", "G", Kind::Plain),
                ("b1", "G", Kind::Plain),
                ("b2", "b1", Kind::Plain),
                ("x3", "b2", Kind::BadTx),
            ],
            arrival: &["a1", "x3", "b2", "b1"],
            tip: "b2",
            invalid: &["x3"],
            orphans: 0,
        },
    ];

    fn run_case(case: &Case, snapshots: bool) {
        let mut tree = Tree::kit();
        for (name, parent, kind) in case.blocks {
            tree.add(name, parent, *kind);
        }
        let mut cache = BlockCache::new().with_snapshots(snapshots);
        let mut node = tree.node(&mut cache);
        for name in case.arrival {
            let block = tree.blocks[name].clone();
            let _ = node.accept_block(block, NOW, &mut cache);
            assert_eq!(
                node.utxos(),
                &direct_utxos(&node),
                "{}: utxos after {name}",
                case.name
            );
        }
        assert_eq!(node.tip(), tree.hash(case.tip), "{}: tip", case.name);
        for name in case.invalid {
            assert_eq!(
                node.status(&tree.hash(name)),
                Some(BlockStatus::Invalid),
                "{}: {name} invalid",
                case.name
            );
        }
        for name in case.arrival {
            if !case.invalid.contains(name) {
                assert_ne!(
                    node.status(&tree.hash(name)),
                    Some(BlockStatus::Invalid),
                    "{}: {name}",
                    case.name
                );
            }
        }
        assert_eq!(node.orphan_count(), case.orphans, "{}: orphans", case.name);
        assert_eq!(node.height() as usize + 1, node.active_chain_hashes().len());
    }

    #[test]
    fn cache_knows_the_hash_of_the_blocks_it_stores_only() {
        let params = kit_params();
        let bits = CompactTarget::from_consensus(0x207f_ffff);
        let genesis = Rc::new(genesis_with(&params, bits));
        let mut cache = BlockCache::new();
        let hash = genesis.block_hash();
        assert_eq!(cache.known_hash(&genesis), None);
        cache.intern_genesis(genesis.clone(), &params);
        assert_eq!(cache.known_hash(&genesis), Some(hash));
        // An equal block in another allocation is not vouched for.
        let copy = Rc::new((*genesis).clone());
        assert_eq!(cache.known_hash(&copy), None);
        // A block checked under a hash that is not its own is not memoised.
        let mut other = (*genesis).clone();
        other.header.time += 1;
        let other = Rc::new(other);
        let _ = cache.check(&other, hash, &params);
        assert_eq!(cache.known_hash(&other), None);
    }

    #[test]
    fn fork_choice_cases() {
        for case in CASES {
            run_case(case, true);
            run_case(case, false);
        }
    }

    #[test]
    fn prefer_on_tie_breaks_equal_work_only() {
        let mut tree = Tree::kit();
        tree.add("a1", "G", Kind::Plain);
        tree.add("b1", "G", Kind::Plain);
        tree.add("c1", "G", Kind::Plain);
        tree.add("a2", "a1", Kind::Plain);
        let mut cache = BlockCache::new();
        let mut node = tree.node(&mut cache);
        for n in ["a1", "b1", "c1"] {
            node.accept_block(tree.blocks[n].clone(), NOW, &mut cache)
                .unwrap();
        }
        assert_eq!(node.tip(), tree.hash("a1"), "first seen wins a tie");
        // Preferring b1 switches to it: equal work, priority.
        let out = node.prefer_on_tie(&tree.hash("b1"), &mut cache);
        let change = out.tip_change.expect("switches");
        assert_eq!(change.new_tip, tree.hash("b1"));
        assert_eq!(change.depth(), 1);
        // A later preference beats an earlier one.
        let out = node.prefer_on_tie(&tree.hash("c1"), &mut cache);
        assert_eq!(out.tip_change.unwrap().new_tip, tree.hash("c1"));
        // Preferring the tip again changes nothing.
        assert!(node
            .prefer_on_tie(&tree.hash("c1"), &mut cache)
            .tip_change
            .is_none());
        // Work decides first: a2 beats every preference.
        node.accept_block(tree.blocks["a2"].clone(), NOW, &mut cache)
            .unwrap();
        assert_eq!(node.tip(), tree.hash("a2"));
        assert!(node
            .prefer_on_tie(&tree.hash("b1"), &mut cache)
            .tip_change
            .is_none());
        assert_eq!(node.tip(), tree.hash("a2"));
        // Unknown blocks and genesis are ignored.
        assert!(node
            .prefer_on_tie(&BlockHash([7; 32]), &mut cache)
            .tip_change
            .is_none());
        assert!(node
            .prefer_on_tie(&tree.hash("G"), &mut cache)
            .tip_change
            .is_none());
        // A fresh node that preferred b1 before a1 arrives keeps b1.
        let mut other = tree.node(&mut cache);
        other
            .accept_block(tree.blocks["b1"].clone(), NOW, &mut cache)
            .unwrap();
        other.prefer_on_tie(&tree.hash("b1"), &mut cache);
        other
            .accept_block(tree.blocks["a1"].clone(), NOW, &mut cache)
            .unwrap();
        assert_eq!(other.tip(), tree.hash("b1"));
    }

    #[test]
    fn tip_change_reports_reorg() {
        let mut tree = Tree::kit();
        tree.add("a1", "G", Kind::Plain);
        tree.add("a2", "a1", Kind::Plain);
        tree.add("b1", "G", Kind::Plain);
        tree.add("b2", "b1", Kind::Plain);
        tree.add("b3", "b2", Kind::Plain);
        let mut cache = BlockCache::new();
        let mut node = tree.node(&mut cache);
        let out = node
            .accept_block(tree.blocks["a1"].clone(), NOW, &mut cache)
            .unwrap();
        let change = out.tip_change.unwrap();
        assert_eq!(change.depth(), 0);
        assert_eq!(change.fork_point, tree.hash("G"));
        node.accept_block(tree.blocks["a2"].clone(), NOW, &mut cache)
            .unwrap();
        for n in ["b1", "b2"] {
            let out = node
                .accept_block(tree.blocks[n].clone(), NOW, &mut cache)
                .unwrap();
            assert_eq!(out.status, AcceptStatus::Accepted);
            assert_eq!(out.tip_change, None);
        }
        assert_eq!(node.status(&tree.hash("b2")), Some(BlockStatus::Accepted));
        let out = node
            .accept_block(tree.blocks["b3"].clone(), NOW, &mut cache)
            .unwrap();
        let change = out.tip_change.unwrap();
        assert_eq!(change.old_tip, tree.hash("a2"));
        assert_eq!(change.new_tip, tree.hash("b3"));
        assert_eq!(change.fork_point, tree.hash("G"));
        assert_eq!(change.depth(), 2);
        assert_eq!(change.disconnected[0].block_hash(), tree.hash("a2"));
        assert_eq!(change.disconnected[1].block_hash(), tree.hash("a1"));
        let connected: Vec<BlockHash> = change.connected.iter().map(|b| b.block_hash()).collect();
        assert_eq!(
            connected,
            vec![tree.hash("b1"), tree.hash("b2"), tree.hash("b3")]
        );
        assert_eq!(node.status(&tree.hash("a2")), Some(BlockStatus::Valid));
        assert!(!node.is_on_active_chain(&tree.hash("a2")));
        assert_eq!(node.block_at_height(2), Some(tree.hash("b2")));
        // Already known.
        let out = node
            .accept_block(tree.blocks["b3"].clone(), NOW, &mut cache)
            .unwrap();
        assert_eq!(out.status, AcceptStatus::AlreadyKnown);
        assert_eq!(node.block_count(), 6);
        assert_eq!(node.locator().first(), Some(&tree.hash("b3")));
        assert_eq!(node.locator().last(), Some(&tree.hash("G")));
    }

    #[test]
    fn orphan_reports_first_missing_ancestor_and_failed_branch_outcome() {
        let mut tree = Tree::kit();
        tree.add("a1", "G", Kind::Plain);
        tree.add("b1", "G", Kind::Plain);
        tree.add("b2", "b1", Kind::Plain);
        tree.add("x3", "b2", Kind::BadTx);
        tree.add("b4", "x3", Kind::Plain);
        let mut cache = BlockCache::new();
        let mut node = tree.node(&mut cache);
        node.accept_block(tree.blocks["a1"].clone(), NOW, &mut cache)
            .unwrap();
        for (n, missing) in [("b4", "x3"), ("x3", "b2"), ("b2", "b1")] {
            let out = node
                .accept_block(tree.blocks[n].clone(), NOW, &mut cache)
                .unwrap();
            assert_eq!(
                out.status,
                AcceptStatus::Orphan {
                    missing_parent: tree.hash(missing)
                }
            );
        }
        assert_eq!(node.missing_parents(), vec![tree.hash("b1")]);
        assert_eq!(node.status(&tree.hash("x3")), Some(BlockStatus::Orphan));
        let out = node
            .accept_block(tree.blocks["b1"].clone(), NOW, &mut cache)
            .unwrap();
        let invalid: Vec<BlockHash> = out.newly_invalid.iter().map(|(h, _)| *h).collect();
        assert_eq!(invalid, vec![tree.hash("x3"), tree.hash("b4")]);
        assert_eq!(
            out.newly_invalid[0].1.reject_reason(),
            "bad-txns-inputs-missingorspent"
        );
        assert_eq!(
            out.newly_invalid[1].1,
            BlockError::BadPrevBlock(tree.hash("x3"))
        );
        let change = out.tip_change.unwrap();
        assert_eq!(change.new_tip, tree.hash("b2"));
        assert_eq!(change.depth(), 1);
        assert_eq!(node.orphan_count(), 0);
        assert!(node.missing_parents().is_empty());
        // A child of an invalid block is rejected as bad-prevblk.
        tree.add("b5", "b4", Kind::Plain);
        let err = node
            .accept_block(tree.blocks["b5"].clone(), NOW, &mut cache)
            .unwrap_err();
        assert_eq!(err, BlockError::BadPrevBlock(tree.hash("b4")));
        assert_eq!(node.status(&tree.hash("b5")), Some(BlockStatus::Invalid));
    }

    #[test]
    fn header_context_rejections() {
        let params = kit_params();
        let bits = params.pow_limit.to_compact_lossy();
        let tree = Tree::new(params.clone(), bits);
        let mut cache = BlockCache::new();
        let mut node = tree.node(&mut cache);
        let g = tree.genesis.block_hash();
        let build = |time: u32, bits: CompactTarget, nonce: u64| {
            Rc::new(mine(
                g,
                1,
                time,
                bits,
                vec![],
                params.block_subsidy(1),
                miner_script(),
                nonce,
            ))
        };
        // Bits easier than expected but within the limit: bad-diffbits.
        let harder = Target::from_leading_zero_bits(5).to_compact_lossy();
        let err = node
            .accept_block(build(T0 + 600, harder, 1), NOW, &mut cache)
            .unwrap_err();
        assert_eq!(err.reject_reason(), "bad-diffbits");
        // Time not after the median time past (genesis's time).
        let old = build(T0, bits, 2);
        let err = node.accept_block(old.clone(), NOW, &mut cache).unwrap_err();
        assert_eq!(err.reject_reason(), "time-too-old");
        assert_eq!(node.status(&old.block_hash()), Some(BlockStatus::Invalid));
        // Too far in the future: rejected, not remembered, fine later.
        let future = build(T0 + 10_000, bits, 3);
        let err = node
            .accept_block(future.clone(), T0, &mut cache)
            .unwrap_err();
        assert_eq!(err.reject_reason(), "time-too-new");
        assert_eq!(node.status(&future.block_hash()), None);
        node.accept_block(future.clone(), T0 + 10_000, &mut cache)
            .unwrap();
        assert_eq!(node.tip(), future.block_hash());
        // High hash: not recorded.
        let mut bad = (*build(T0 + 700, bits, 4)).clone();
        let target = Target::from_compact(bits).unwrap();
        while target.is_met_by(bad.block_hash().as_bytes()) {
            bad.header.nonce += 1;
        }
        let err = node
            .accept_block(Rc::new(bad.clone()), NOW, &mut cache)
            .unwrap_err();
        assert_eq!(err.reject_reason(), "high-hash");
        assert!(!node.contains(&bad.block_hash()));
        // A second genesis.
        let mut other = (*tree.genesis).clone();
        other.header.time += 1;
        testkit::finish(&mut other, false);
        assert!(matches!(
            node.accept_block(Rc::new(other), NOW, &mut cache),
            Err(BlockError::PrevBlockNotFound(_))
        ));
    }

    #[test]
    fn mutated_copy_does_not_poison_the_real_block() {
        // CVE-2012-2459: an attacker relays [cb, t, t] under the header of
        // the valid [cb, t]... here [cb, a, b, b] vs [cb, a, b].
        let params = kit_params();
        let bits = params.pow_limit.to_compact_lossy();
        let tree = Tree::new(params.clone(), bits);
        let g = tree.genesis.block_hash();
        let gen_cb = tree.genesis.txdata[0].compute_txid();
        let a = payment(
            OutPoint {
                txid: gen_cb,
                vout: 0,
            },
            ENDOWMENT,
            0,
            1,
            5,
            0,
        );
        let b = payment(
            OutPoint {
                txid: gen_cb,
                vout: 1,
            },
            ENDOWMENT,
            1,
            0,
            5,
            0,
        );
        let good = Rc::new(mine(
            g,
            1,
            T0 + 600,
            bits,
            vec![a, b.clone()],
            params.block_subsidy(1),
            miner_script(),
            0,
        ));
        let mut evil = (*good).clone();
        evil.txdata.push(b);
        assert_eq!(evil.block_hash(), good.block_hash());
        let mut cache = BlockCache::new();
        let mut node = tree.node(&mut cache);
        let err = node
            .accept_block(Rc::new(evil), NOW, &mut cache)
            .unwrap_err();
        assert_eq!(err, BlockError::MutatedMerkle);
        assert!(!node.contains(&good.block_hash()));
        let mut node2 = tree.node(&mut cache);
        for n in [&mut node, &mut node2] {
            n.accept_block(good.clone(), NOW, &mut cache).unwrap();
            assert_eq!(n.tip(), good.block_hash());
            assert_eq!(n.balance(&pkh(1)).to_sat(), ENDOWMENT);
        }
    }

    #[test]
    fn more_work_fewer_blocks_wins_after_retarget() {
        let mut params = kit_params();
        params.pow_limit = Target::from_leading_zero_bits(1);
        params.retarget_window = 2;
        params.pow_target_spacing_secs = 600;
        let bits = Target::from_leading_zero_bits(6).to_compact_lossy();
        let mut tree = Tree::new(params, bits);
        // Branch a: slow blocks (2400 s apart): each retarget halves the work.
        tree.add("a1", "G", Kind::After(2400));
        tree.add("a2", "a1", Kind::After(2400));
        tree.add("a3", "a2", Kind::After(2400));
        tree.add("a4", "a3", Kind::After(2400));
        tree.add("a5", "a4", Kind::After(2400));
        // Branch b: fast blocks: the retarget at height 2 quadruples the work.
        tree.add("b1", "G", Kind::After(1));
        tree.add("b2", "b1", Kind::After(1));
        let mut cache = BlockCache::new();
        let mut node = tree.node(&mut cache);
        for n in ["a1", "a2", "a3", "a4", "a5"] {
            node.accept_block(tree.blocks[n].clone(), NOW, &mut cache)
                .unwrap();
        }
        assert_eq!(node.tip(), tree.hash("a5"));
        assert_ne!(tree.blocks["a2"].header.bits, bits, "a retarget happened");
        let b2 = tree.blocks["b2"].header.bits;
        assert_eq!(
            b2,
            crate::ledger::pow::retarget(bits, 1, 1200, node.params().pow_limit)
        );
        for n in ["b1", "b2"] {
            node.accept_block(tree.blocks[n].clone(), NOW, &mut cache)
                .unwrap();
        }
        assert_eq!(node.tip(), tree.hash("b2"));
        assert_eq!(node.height(), 2);
        let a5 = node.info(&tree.hash("a5")).unwrap();
        assert!(a5.height > node.height() && a5.chain_work < node.chain_work());
        // A block ignoring the retarget is bad-diffbits.
        let wrong = Rc::new(mine(
            tree.hash("b1"),
            2,
            tree.blocks["b1"].header.time + 1,
            bits,
            vec![],
            node.params().block_subsidy(2),
            miner_script(),
            99,
        ));
        let err = node.accept_block(wrong, NOW, &mut cache).unwrap_err();
        assert_eq!(err.reject_reason(), "bad-diffbits");
    }

    #[test]
    fn nodes_share_validation_through_the_cache() {
        let params = kit_params();
        let bits = params.pow_limit.to_compact_lossy();
        let mut tree = Tree::new(params.clone(), bits);
        let gen_cb = tree.genesis.txdata[0].compute_txid();
        let pay = payment(
            OutPoint {
                txid: gen_cb,
                vout: 2,
            },
            ENDOWMENT,
            2,
            0,
            1_000,
            50,
        );
        let g = tree.hash("G");
        let b1 = mine_child(&mut tree.builder, &tree.params, &g, vec![pay], 50, 600, 0);
        let mut cache = BlockCache::new();
        let mut nodes: Vec<Chainstate> = (0..5).map(|_| tree.node(&mut cache)).collect();
        for n in &mut nodes {
            n.accept_block(b1.clone(), NOW, &mut cache).unwrap();
            assert_eq!(n.balance(&pkh(0)).to_sat(), ENDOWMENT + 1_000);
            assert_eq!(n.balance(&pkh(2)).to_sat(), ENDOWMENT - 1_050);
        }
        let s = cache.stats();
        assert_eq!((s.connect_misses, s.connect_hits), (1, 4));
        assert_eq!((s.check_misses, s.check_hits), (1, 4));
        assert_eq!(s.sig_misses, 1);
        assert!(nodes.iter().all(|n| n.utxos().ptr_eq(nodes[0].utxos())));
        assert_eq!(nodes[0].undo_at_height(1).unwrap().spent.len(), 1);
    }

    #[test]
    fn an_orphan_rejected_for_a_transient_reason_counts_as_dropped() {
        let mut tree = Tree::kit();
        tree.add("a1", "G", Kind::Plain);
        tree.add("a2", "a1", Kind::After(3 * 3600));
        let mut cache = BlockCache::new();
        let mut node = tree.node(&mut cache);
        let now = tree.blocks["a1"].header.time;
        let r = node
            .accept_block(tree.blocks["a2"].clone(), now, &mut cache)
            .unwrap();
        assert!(matches!(r.status, AcceptStatus::Orphan { .. }));
        assert!(node.contains(&tree.hash("a2")));
        assert_eq!(node.orphans_dropped(), 0);
        node.accept_block(tree.blocks["a1"].clone(), now, &mut cache)
            .unwrap();
        assert_eq!(node.tip(), tree.hash("a1"));
        // a2 is two hours too far ahead of `now` (transient, not recorded
        // as invalid): it leaves the orphan pool without entering the tree.
        assert!(!node.contains(&tree.hash("a2")));
        assert_eq!(node.orphan_count(), 0);
        assert_eq!(node.orphans_dropped(), 1);
    }

    #[test]
    fn orphan_pool_is_bounded() {
        let mut tree = Tree::kit();
        tree.add("a1", "G", Kind::Plain);
        tree.add("a2", "a1", Kind::Plain);
        tree.add("a3", "a2", Kind::Plain);
        tree.add("a4", "a3", Kind::Plain);
        let mut cache = BlockCache::new();
        let mut node = tree.node(&mut cache);
        node.set_max_orphans(2);
        for n in ["a2", "a3", "a4"] {
            node.accept_block(tree.blocks[n].clone(), NOW, &mut cache)
                .unwrap();
        }
        assert_eq!(node.orphan_count(), 2);
        assert!(!node.contains(&tree.hash("a2")), "oldest evicted");
        assert_eq!(node.orphans_dropped(), 1);
        assert_eq!(node.missing_parents(), vec![tree.hash("a2")]);
        node.accept_block(tree.blocks["a1"].clone(), NOW, &mut cache)
            .unwrap();
        assert_eq!(node.tip(), tree.hash("a1"));
        node.accept_block(tree.blocks["a2"].clone(), NOW, &mut cache)
            .unwrap();
        assert_eq!(node.tip(), tree.hash("a4"));
    }

    #[test]
    fn genesis_helper_grinds_and_endows() {
        let params = kit_params();
        let bits = params.pow_limit.to_compact_lossy();
        let g = genesis_with(&params, bits);
        validate::check_proof_of_work(&g.block_hash(), bits, &params).unwrap();
        assert_eq!(g.txdata[0].coinbase_height(), Some(0));
        assert_eq!(g.compute_merkle_root(), Some(g.header.merkle_root));
        let mut cache = BlockCache::new();
        let node = Chainstate::new(Rc::new(g), Rc::new(params), &mut cache);
        assert_eq!(node.height(), 0);
        assert_eq!(
            node.utxos().total_value().to_sat(),
            ENDOWMENT * WALLETS as u64
        );
        assert_eq!(node.utxos_of(&pkh(1)).len(), 1);
        assert_eq!(node.median_time_past(), T0);
        assert_eq!(node.next_bits(), bits);
    }

    /// A random block tree: block i's parent is an earlier block (or
    /// genesis); each may carry a payment between wallets, from a coin
    /// unspent on its branch, whose fee its coinbase claims.
    fn random_tree(shape: &[(u8, bool, u16)]) -> (Tree, Vec<Rc<Block>>) {
        let mut tree = Tree::kit();
        let mut hashes = vec![tree.hash("G")];
        let mut blocks = Vec::new();
        for (i, (parent, with_tx, fee)) in shape.iter().enumerate() {
            let parent = hashes[*parent as usize % hashes.len()];
            let before = tree
                .builder
                .utxo_after(&parent)
                .expect("parents are connected before children");
            let mut txs = vec![];
            let mut fees = 0;
            if *with_tx {
                let from = i % WALLETS;
                if let Some((coin, value)) = before.utxos_of(&pkh(from)).first().copied() {
                    let fee = (*fee as u64).min(value.to_sat() / 2);
                    txs.push(payment(
                        coin,
                        value.to_sat(),
                        from,
                        (i + 1) % WALLETS,
                        value.to_sat() / 3,
                        fee,
                    ));
                    fees = fee;
                }
            }
            let b = mine_child(
                &mut tree.builder,
                &tree.params,
                &parent,
                txs,
                fees,
                600,
                i as u64,
            );
            let binfo = tree.builder.info(&b.block_hash()).unwrap().clone();
            tree.builder
                .connect(&binfo, &before, &tree.params)
                .expect("random tree blocks are valid");
            hashes.push(b.block_hash());
            blocks.push(b);
        }
        (tree, blocks)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Whatever the arrival order, the node ends on a most-work tip, with
        /// the UTXO set of connecting its active chain directly, holding
        /// exactly the endowment plus the subsidies of the active chain.
        #[test]
        fn most_work_tip_wins_any_arrival_order(
            shape in prop::collection::vec((any::<u8>(), any::<bool>(), 0u16..5_000), 1..10),
            keys in prop::collection::vec(any::<u32>(), 10),
            snapshots in any::<bool>(),
        ) {
            let (tree, blocks) = random_tree(&shape);
            let mut cache = BlockCache::new().with_snapshots(snapshots);
            let mut node = tree.node(&mut cache);
            let mut arrival: Vec<usize> = (0..blocks.len()).collect();
            arrival.sort_by_key(|i| (keys[*i], *i));
            for i in &arrival {
                node.accept_block(blocks[*i].clone(), NOW, &mut cache).unwrap();
                prop_assert_eq!(node.utxos(), &direct_utxos(&node));
            }
            let best = blocks
                .iter()
                .map(|b| tree.builder.info(&b.block_hash()).unwrap().chain_work)
                .max()
                .unwrap();
            prop_assert_eq!(node.chain_work(), best);
            prop_assert_eq!(node.orphan_count(), 0);
            prop_assert_eq!(node.block_count(), blocks.len() + 1);
            let issued: u64 = (1..=node.height()).map(|h| node.params().block_subsidy(h).to_sat()).sum();
            prop_assert_eq!(
                node.utxos().total_value().to_sat(),
                ENDOWMENT * WALLETS as u64 + issued
            );
            // A second node receiving the blocks in creation order agrees on
            // the work and, on the same tip, on the UTXO set.
            let mut other = tree.node(&mut cache);
            for b in &blocks {
                other.accept_block(b.clone(), NOW, &mut cache).unwrap();
            }
            prop_assert_eq!(other.chain_work(), best);
            if other.tip() == node.tip() {
                prop_assert_eq!(other.utxos(), node.utxos());
            }
        }
    }
}
