//! A header-only light client (Simplified Payment Verification, section 8 of
//! the Bitcoin paper).
//!
//! A [`HeaderChain`] keeps a tree of 80-byte headers and follows the one
//! with the most work, checking for each header exactly what can be checked
//! without transactions: it links to a known parent (orphans are rejected,
//! not kept), its proof of work meets its bits, its bits follow the
//! retarget rule ([`validate::next_work_required`], the same rule full nodes
//! apply) and its time is after the median of the previous 11 and not too
//! far ahead of the client's clock. Ties in work go to the header seen
//! first.
//!
//! [`HeaderChain::verify_payment`] then checks a [`MerkleProof`] against a
//! header of the best chain and reports confirmations. What SPV cannot
//! know: whether the transaction's inputs exist or its signatures are valid;
//! it trusts the hash power behind the headers for that.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::block::Header;
use super::hash::BlockHash;
use super::merkle::{MerkleError, MerkleProof};
use super::params::Params;
use super::pow::{CompactTarget, Target, Work};
use super::validate::{self, BlockError, MEDIAN_TIME_SPAN};

/// Why a header or a payment proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpvError {
    /// The header's parent is unknown (`prev-blk-not-found`); light clients
    /// fetch headers in order, so there is no orphan pool.
    #[error("header {hash} has unknown parent {parent}")]
    UnknownParent {
        /// The header's hash.
        hash: BlockHash,
        /// Its `prev_blockhash`.
        parent: BlockHash,
    },
    /// The header breaks a header rule (proof of work, `bits`, time).
    #[error("invalid header: {0}")]
    InvalidHeader(BlockError),
    /// No header with this hash is known.
    #[error("unknown block {0}")]
    UnknownBlock(BlockHash),
    /// The block is known but not on the best header chain (stale).
    #[error("block {0} is not on the best header chain")]
    NotInBestChain(BlockHash),
    /// The Merkle proof does not lead to the block's Merkle root.
    #[error("merkle proof does not verify: {0}")]
    BadProof(MerkleError),
}

/// What [`HeaderChain::accept_header`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderOutcome {
    /// The header was already known.
    AlreadyKnown,
    /// Stored on a branch with no more work than the best chain.
    SideBranch,
    /// The header is the new best tip; `reorg_depth` headers of the old best
    /// chain were abandoned (0 when it simply extends it).
    NewTip {
        /// Headers of the old best chain no longer on it.
        reorg_depth: u32,
    },
}

#[derive(Clone, Debug)]
struct HeaderEntry {
    header: Header,
    height: u32,
    chain_work: Work,
    median_time_past: u32,
    next_bits: CompactTarget,
    seq: u64,
}

/// A tree of headers following the most-work chain.
#[derive(Clone, Debug)]
pub struct HeaderChain {
    params: Rc<Params>,
    headers: BTreeMap<BlockHash, HeaderEntry>,
    /// Best chain, genesis first.
    best: Vec<BlockHash>,
    next_seq: u64,
}

impl HeaderChain {
    /// A chain knowing only `genesis` (trusted, not checked).
    pub fn new(genesis: Header, params: Rc<Params>) -> HeaderChain {
        let hash = genesis.block_hash();
        let work = Target::from_compact(genesis.bits)
            .map(Target::to_work)
            .unwrap_or_default();
        let next_bits =
            validate::next_work_required(0, genesis.bits, genesis.time, |_| genesis.time, &params);
        let mut headers = BTreeMap::new();
        headers.insert(
            hash,
            HeaderEntry {
                header: genesis,
                height: 0,
                chain_work: work,
                median_time_past: genesis.time,
                next_bits,
                seq: 0,
            },
        );
        HeaderChain {
            params,
            headers,
            best: vec![hash],
            next_seq: 1,
        }
    }

    /// Checks and stores `header` (received at `now`, the client's clock in
    /// seconds), then follows the most-work chain.
    pub fn accept_header(&mut self, header: Header, now: u32) -> Result<HeaderOutcome, SpvError> {
        let hash = header.block_hash();
        if self.headers.contains_key(&hash) {
            return Ok(HeaderOutcome::AlreadyKnown);
        }
        let parent = self
            .headers
            .get(&header.prev_blockhash)
            .ok_or(SpvError::UnknownParent {
                hash,
                parent: header.prev_blockhash,
            })?;
        validate::check_proof_of_work(&hash, header.bits, &self.params)
            .map_err(SpvError::InvalidHeader)?;
        validate::check_header_context(
            &header,
            parent.next_bits,
            parent.median_time_past,
            now,
            &self.params,
        )
        .map_err(SpvError::InvalidHeader)?;

        let height = parent.height + 1;
        let work = Target::from_compact(header.bits)
            .map(Target::to_work)
            .unwrap_or_default();
        let chain_work = parent.chain_work.saturating_add(work);
        let mut times = Vec::with_capacity(MEDIAN_TIME_SPAN);
        times.push(header.time);
        times.extend(
            self.ancestors(header.prev_blockhash)
                .take(MEDIAN_TIME_SPAN - 1)
                .map(|e| e.header.time),
        );
        let median_time_past = validate::median_time(&mut times);
        let next_bits = validate::next_work_required(
            height,
            header.bits,
            header.time,
            |h| {
                if h == height {
                    header.time
                } else {
                    self.ancestors(header.prev_blockhash)
                        .find(|e| e.height == h)
                        .expect("ancestor heights run down to genesis")
                        .header
                        .time
                }
            },
            &self.params,
        );
        let seq = self.next_seq;
        self.next_seq += 1;
        self.headers.insert(
            hash,
            HeaderEntry {
                header,
                height,
                chain_work,
                median_time_past,
                next_bits,
                seq,
            },
        );
        // Strictly more work wins: the current tip was seen first.
        if chain_work <= self.tip_entry().chain_work {
            return Ok(HeaderOutcome::SideBranch);
        }
        let old_height = self.height();
        let mut branch = vec![hash];
        let mut cur = header.prev_blockhash;
        while !self.is_in_best_chain(&cur) {
            branch.push(cur);
            cur = self.headers[&cur].header.prev_blockhash;
        }
        let fork_height = self.headers[&cur].height;
        self.best.truncate(fork_height as usize + 1);
        self.best.extend(branch.into_iter().rev());
        Ok(HeaderOutcome::NewTip {
            reorg_depth: old_height - fork_height,
        })
    }

    /// Walks from `from` (inclusive) towards genesis.
    fn ancestors(&self, from: BlockHash) -> impl Iterator<Item = &HeaderEntry> + '_ {
        let mut next = Some(from);
        std::iter::from_fn(move || {
            let e = self.headers.get(&next?)?;
            next = (e.height > 0).then_some(e.header.prev_blockhash);
            Some(e)
        })
    }

    fn tip_entry(&self) -> &HeaderEntry {
        &self.headers[self.best.last().expect("best chain holds genesis")]
    }

    /// Hash of the best tip.
    pub fn tip(&self) -> BlockHash {
        *self.best.last().expect("best chain holds genesis")
    }

    /// Height of the best tip.
    pub fn height(&self) -> u32 {
        self.tip_entry().height
    }

    /// Cumulative work of the best chain.
    pub fn chain_work(&self) -> Work {
        self.tip_entry().chain_work
    }

    /// Number of headers known, genesis included.
    pub fn len(&self) -> usize {
        self.headers.len()
    }

    /// Always false: genesis is known.
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }

    /// A known header.
    pub fn header(&self, hash: &BlockHash) -> Option<&Header> {
        self.headers.get(hash).map(|e| &e.header)
    }

    /// Height of a known header.
    pub fn height_of(&self, hash: &BlockHash) -> Option<u32> {
        self.headers.get(hash).map(|e| e.height)
    }

    /// The best-chain header hash at `height`.
    pub fn hash_at_height(&self, height: u32) -> Option<BlockHash> {
        self.best.get(height as usize).copied()
    }

    /// Whether `hash` is on the best chain.
    pub fn is_in_best_chain(&self, hash: &BlockHash) -> bool {
        self.headers
            .get(hash)
            .is_some_and(|e| self.best.get(e.height as usize) == Some(hash))
    }

    /// The bits a child of the best tip must carry.
    pub fn next_bits(&self) -> CompactTarget {
        self.tip_entry().next_bits
    }

    /// First-seen order of a header (genesis 0), for tie-breaking displays.
    pub fn seen_order(&self, hash: &BlockHash) -> Option<u64> {
        self.headers.get(hash).map(|e| e.seq)
    }

    /// Verifies that `proof.txid` is in block `block_hash` of the best chain
    /// and returns its confirmations (tip height − block height + 1). The
    /// caller compares `proof.txid` with the payment it expects.
    pub fn verify_payment(
        &self,
        proof: &MerkleProof,
        block_hash: &BlockHash,
    ) -> Result<u32, SpvError> {
        let entry = self
            .headers
            .get(block_hash)
            .ok_or(SpvError::UnknownBlock(*block_hash))?;
        if !self.is_in_best_chain(block_hash) {
            return Err(SpvError::NotInBestChain(*block_hash));
        }
        proof
            .check(&entry.header.merkle_root)
            .map_err(SpvError::BadProof)?;
        Ok(self.height() - entry.height + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::block::Block;
    use crate::ledger::chainstate::testkit::*;
    use crate::ledger::chainstate::BlockCache;
    use crate::ledger::hash::{MerkleNode, Txid};
    use crate::ledger::tx::OutPoint;

    const NOW: u32 = u32::MAX - 100_000;

    struct Fixture {
        params: Rc<Params>,
        cache: BlockCache,
        genesis: Rc<Block>,
    }

    impl Fixture {
        fn new() -> Fixture {
            let params = kit_params();
            let genesis = Rc::new(genesis_with(&params, params.pow_limit.to_compact_lossy()));
            let mut cache = BlockCache::new();
            cache.intern_genesis(genesis.clone(), &params);
            Fixture {
                params: Rc::new(params),
                cache,
                genesis,
            }
        }

        fn child(
            &mut self,
            parent: &BlockHash,
            txs: Vec<crate::ledger::Transaction>,
            nonce: u64,
        ) -> Rc<Block> {
            mine_child(&mut self.cache, &self.params, parent, txs, 0, 600, nonce)
        }

        fn client(&self) -> HeaderChain {
            HeaderChain::new(self.genesis.header, self.params.clone())
        }
    }

    /// Genesis ← b1 (with three payments) ← b2 ← b3.
    fn chain_with_payment(f: &mut Fixture) -> (Vec<Rc<Block>>, Vec<Txid>) {
        let cb = f.genesis.txdata[0].compute_txid();
        let txs: Vec<_> = (0..WALLETS)
            .map(|w| {
                payment(
                    OutPoint {
                        txid: cb,
                        vout: w as u32,
                    },
                    ENDOWMENT,
                    w,
                    (w + 1) % WALLETS,
                    1_000,
                    0,
                )
            })
            .collect();
        let g = f.genesis.block_hash();
        let b1 = f.child(&g, txs, 1);
        let b2 = f.child(&b1.block_hash(), vec![], 2);
        let b3 = f.child(&b2.block_hash(), vec![], 3);
        let txids = b1.txdata.iter().map(|t| t.compute_txid()).collect();
        (vec![b1, b2, b3], txids)
    }

    #[test]
    fn accepts_real_proof_with_confirmations() {
        let mut f = Fixture::new();
        let (blocks, txids) = chain_with_payment(&mut f);
        let mut spv = f.client();
        for b in &blocks {
            assert!(matches!(
                spv.accept_header(b.header, NOW).unwrap(),
                HeaderOutcome::NewTip { reorg_depth: 0 }
            ));
        }
        assert_eq!(
            spv.accept_header(blocks[0].header, NOW),
            Ok(HeaderOutcome::AlreadyKnown)
        );
        assert_eq!(spv.height(), 3);
        let b1 = blocks[0].block_hash();
        for index in 0..txids.len() {
            let proof = MerkleProof::build(&txids, index).unwrap();
            assert_eq!(spv.verify_payment(&proof, &b1), Ok(3));
        }
        let proof = MerkleProof::build(&txids, 2).unwrap();
        assert_eq!(
            spv.verify_payment(&proof, &blocks[2].block_hash())
                .unwrap_err(),
            SpvError::BadProof(MerkleError::RootMismatch {
                computed: proof.compute_root(),
                expected: blocks[2].header.merkle_root,
            })
        );
    }

    #[test]
    fn rejects_forged_proofs() {
        let mut f = Fixture::new();
        let (blocks, txids) = chain_with_payment(&mut f);
        let mut spv = f.client();
        for b in &blocks {
            spv.accept_header(b.header, NOW).unwrap();
        }
        let b1 = blocks[0].block_hash();
        let good = MerkleProof::build(&txids, 1).unwrap();
        let mut forged = good.clone();
        forged.siblings[0] = MerkleNode([0x42; 32]);
        assert!(matches!(
            spv.verify_payment(&forged, &b1),
            Err(SpvError::BadProof(MerkleError::RootMismatch { .. }))
        ));
        let mut forged = good.clone();
        forged.txid = Txid([0x42; 32]);
        assert!(matches!(
            spv.verify_payment(&forged, &b1),
            Err(SpvError::BadProof(_))
        ));
        let mut forged = good.clone();
        forged.index = 2;
        assert!(spv.verify_payment(&forged, &b1).is_err());
        assert_eq!(
            spv.verify_payment(&good, &BlockHash([9; 32])),
            Err(SpvError::UnknownBlock(BlockHash([9; 32])))
        );
    }

    #[test]
    fn stale_block_proof_is_rejected_after_reorg() {
        let mut f = Fixture::new();
        let (blocks, txids) = chain_with_payment(&mut f);
        let g = f.genesis.block_hash();
        // A competing branch of four empty blocks.
        let mut other = Vec::new();
        let mut parent = g;
        for n in 0..4 {
            let b = f.child(&parent, vec![], 100 + n);
            parent = b.block_hash();
            other.push(b);
        }
        let mut spv = f.client();
        for b in &blocks {
            spv.accept_header(b.header, NOW).unwrap();
        }
        let proof = MerkleProof::build(&txids, 1).unwrap();
        let b1 = blocks[0].block_hash();
        assert_eq!(spv.verify_payment(&proof, &b1), Ok(3));
        let outcomes: Vec<_> = other
            .iter()
            .map(|b| spv.accept_header(b.header, NOW).unwrap())
            .collect();
        assert_eq!(
            outcomes,
            vec![
                HeaderOutcome::SideBranch,
                HeaderOutcome::SideBranch,
                HeaderOutcome::SideBranch,
                HeaderOutcome::NewTip { reorg_depth: 3 },
            ]
        );
        assert_eq!(spv.tip(), other[3].block_hash());
        assert_eq!(
            spv.verify_payment(&proof, &b1),
            Err(SpvError::NotInBestChain(b1))
        );
        assert_eq!(spv.hash_at_height(1), Some(other[0].block_hash()));
    }

    #[test]
    fn rejects_bad_headers() {
        let mut f = Fixture::new();
        let (blocks, _) = chain_with_payment(&mut f);
        let mut spv = f.client();
        // Unknown parent: headers must come in order.
        let err = spv.accept_header(blocks[1].header, NOW).unwrap_err();
        assert_eq!(
            err,
            SpvError::UnknownParent {
                hash: blocks[1].block_hash(),
                parent: blocks[0].block_hash()
            }
        );
        // Bad proof of work.
        let mut bad = blocks[0].header;
        let target = Target::from_compact(bad.bits).unwrap();
        while target.is_met_by(bad.block_hash().as_bytes()) {
            bad.nonce = bad.nonce.wrapping_add(1);
        }
        let err = spv.accept_header(bad, NOW).unwrap_err();
        assert!(matches!(
            err,
            SpvError::InvalidHeader(BlockError::HighHash { .. })
        ));
        // Bits that do not follow the retarget rule.
        let mut bad = blocks[0].header;
        bad.bits = Target::from_leading_zero_bits(6).to_compact_lossy();
        crate::ledger::nonce::grind(&mut bad, Target::from_leading_zero_bits(6), u64::MAX).unwrap();
        let err = spv.accept_header(bad, NOW).unwrap_err();
        assert!(matches!(
            err,
            SpvError::InvalidHeader(BlockError::BadDiffBits { .. })
        ));
        // Too old a timestamp.
        let mut bad = blocks[0].header;
        bad.time = f.genesis.header.time;
        crate::ledger::nonce::grind(&mut bad, target, u64::MAX).unwrap();
        let err = spv.accept_header(bad, NOW).unwrap_err();
        assert!(matches!(
            err,
            SpvError::InvalidHeader(BlockError::TimeTooOld { .. })
        ));
        assert_eq!(spv.len(), 1);
        spv.accept_header(blocks[0].header, NOW).unwrap();
        assert_eq!(spv.height(), 1);
    }

    #[test]
    fn follows_the_same_retarget_rule_as_full_nodes() {
        let mut params = kit_params();
        params.pow_limit = Target::from_leading_zero_bits(1);
        params.retarget_window = 2;
        let bits = Target::from_leading_zero_bits(6).to_compact_lossy();
        let genesis = Rc::new(genesis_with(&params, bits));
        let mut cache = BlockCache::new();
        cache.intern_genesis(genesis.clone(), &params);
        let params = Rc::new(params);
        let mut spv = HeaderChain::new(genesis.header, params.clone());
        let mut parent = genesis.block_hash();
        for n in 0..5 {
            let b = mine_child(&mut cache, &params, &parent, vec![], 0, 1, n);
            spv.accept_header(b.header, NOW).unwrap();
            parent = b.block_hash();
            assert_eq!(spv.next_bits(), cache.info(&parent).unwrap().next_bits);
        }
        assert_ne!(spv.next_bits(), bits, "fast blocks raised the difficulty");
        assert_eq!(spv.chain_work(), cache.info(&parent).unwrap().chain_work);
    }
}
