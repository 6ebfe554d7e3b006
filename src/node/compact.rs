//! BIP152 compact blocks: the wire structures and block reconstruction.
//!
//! A `cmpctblock` carries a block's 80-byte header, a random nonce, a 6-byte
//! *short ID* for every transaction the receiver probably already holds, and
//! the transactions it probably does not (at least the coinbase) in full.
//! The receiver matches short IDs against its own mempool, asks for what is
//! missing with `getblocktxn` / `blocktxn`, and falls back to a full
//! `getdata(block)` when short IDs collide or the reconstructed transactions
//! do not hash to the header's Merkle root
//! ([BIP152](https://github.com/bitcoin/bips/blob/master/bip-0152.mediawiki)).
//!
//! Everything here is computed, not modelled: short IDs are SipHash-2-4 of
//! the txid keyed from `SHA-256(header ‖ nonce)` exactly as BIP152 version 1
//! specifies (the `siphasher` crate does the hashing), and the encoded sizes
//! are the lengths of the real encodings. forklab's transactions are legacy
//! (no witness), so version 1 (txids) is the version spoken.
//!
//! The module is sans-IO: it turns blocks into messages and messages plus a
//! mempool into blocks; which peers get what and when is the relay's business.

use std::hash::Hasher;
use std::rc::Rc;

use siphasher::sip::SipHasher24;

use crate::ledger::encode::{varint_len, write_varint, Reader};
use crate::ledger::hash::sha256;
use crate::ledger::merkle::merkle_root_checked;
use crate::ledger::{
    Block, BlockHash, Decodable, DecodeError, Encodable, Header, Transaction, Txid,
};

/// Bytes of a short transaction ID on the wire.
pub const SHORT_ID_BYTES: usize = 6;

/// Payload of a `sendcmpct` message: a one-byte high-bandwidth flag and an
/// eight-byte version.
pub const SENDCMPCT_BYTES: usize = 9;

/// The compact-block version forklab speaks (1: short IDs of txids, no
/// witness data).
pub const COMPACT_VERSION: u64 = 1;

/// Smallest encodable transaction (version, two empty counts, lock time),
/// used to bound the transaction count a decoder will believe.
const MIN_TX_BYTES: usize = 10;

/// Why a compact-block message could not be decoded or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompactError {
    /// The bytes are not a well-formed message.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A transaction index does not fit in 16 bits (BIP152 limits blocks to
    /// 65,536 transactions in compact form).
    #[error("transaction index {index} is out of range (at most 65535)")]
    IndexOverflow {
        /// The absolute index the differential encoding reached.
        index: u64,
    },
    /// A `cmpctblock` holds no transaction at all.
    #[error("compact block has no transactions")]
    Empty,
    /// A prefilled transaction's index lies beyond the block's last
    /// transaction.
    #[error("prefilled transaction index {index} is beyond the block's {count} transactions")]
    PrefilledOutOfRange {
        /// The prefilled index.
        index: u32,
        /// Transactions in the block.
        count: usize,
    },
    /// Two short IDs of the `cmpctblock` are equal, so the block cannot be
    /// reconstructed from short IDs (Core: `READ_STATUS_FAILED`, fetch the
    /// full block).
    #[error("two transactions of the compact block share a short ID")]
    ShortIdCollision,
    /// A `getblocktxn` asks for an index the block does not have.
    #[error("requested transaction index {index} is beyond the block's {count} transactions")]
    RequestOutOfRange {
        /// The requested index.
        index: u32,
        /// Transactions in the block.
        count: usize,
    },
    /// A `blocktxn` answers another block or brings the wrong number of
    /// transactions.
    #[error("blocktxn does not answer the request (block {block}, {got} transactions for {wanted} missing)")]
    WrongBlockTxn {
        /// Block the `blocktxn` names.
        block: BlockHash,
        /// Transactions it brought.
        got: usize,
        /// Transactions that were missing.
        wanted: usize,
    },
    /// The reconstructed transactions do not hash to the header's Merkle
    /// root, or the tree is mutated (CVE-2012-2459): a short ID matched the
    /// wrong transaction. Core then requests the full block.
    #[error("reconstructed block does not match its Merkle root")]
    MerkleMismatch,
}

/// The SipHash-2-4 keys of one compact block: the first two little-endian
/// 64-bit words of `SHA-256(header ‖ nonce)` (BIP152, "Short transaction
/// IDs").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShortIdKeys {
    k0: u64,
    k1: u64,
}

impl ShortIdKeys {
    /// Keys for the block with `header` announced with `nonce`.
    pub fn new(header: &Header, nonce: u64) -> Self {
        let mut data = [0u8; 88];
        data[..80].copy_from_slice(&header.to_bytes());
        data[80..].copy_from_slice(&nonce.to_le_bytes());
        let h = sha256(&data);
        ShortIdKeys {
            k0: u64::from_le_bytes(h[0..8].try_into().expect("8 bytes")),
            k1: u64::from_le_bytes(h[8..16].try_into().expect("8 bytes")),
        }
    }

    /// The short ID of a transaction: SipHash-2-4 of its txid (internal byte
    /// order), the two most significant bytes dropped.
    pub fn short_id(&self, txid: &Txid) -> ShortId {
        self.short_id_of_hash(&txid.0)
    }

    /// The short ID of any 32-byte hash (a wtxid in BIP152 version 2).
    pub fn short_id_of_hash(&self, hash: &[u8; 32]) -> ShortId {
        let mut s = SipHasher24::new_with_keys(self.k0, self.k1);
        s.write(hash);
        ShortId(s.finish() & 0xffff_ffff_ffff)
    }
}

/// A 48-bit short transaction ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShortId(u64);

impl ShortId {
    /// The six little-endian bytes sent on the wire.
    pub fn to_bytes(self) -> [u8; SHORT_ID_BYTES] {
        let b = self.0.to_le_bytes();
        [b[0], b[1], b[2], b[3], b[4], b[5]]
    }

    /// Reads the six wire bytes.
    pub fn from_bytes(b: [u8; SHORT_ID_BYTES]) -> Self {
        ShortId(u64::from_le_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], 0, 0,
        ]))
    }
}

/// A transaction sent in full inside a `cmpctblock`, at its absolute index
/// in the block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrefilledTx {
    /// Position in the block (0 is the coinbase).
    pub index: u16,
    /// The transaction.
    pub tx: Rc<Transaction>,
}

/// The `cmpctblock` message (BIP152 `HeaderAndShortIDs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompactBlock {
    /// The block's header.
    pub header: Header,
    /// The sender's random nonce, mixed into the short-ID keys so that a
    /// collision on one link is not a collision on all.
    pub nonce: u64,
    /// Short IDs of the transactions not prefilled, in block order.
    pub short_ids: Vec<ShortId>,
    /// Transactions sent in full, in increasing index order.
    pub prefilled: Vec<PrefilledTx>,
}

impl CompactBlock {
    /// The compact form of `block` with the coinbase prefilled, as Core
    /// sends it.
    pub fn from_block(block: &Block, nonce: u64) -> Self {
        Self::with_prefilled(block, nonce, &[0])
    }

    /// The compact form of `block` with the transactions at `prefill`
    /// (indexes, any order; out-of-range ones ignored) sent in full.
    ///
    /// # Panics
    /// If the block has more than 65,536 transactions, which BIP152 cannot
    /// express (a 1 MB block holds at most ~16,600 legacy transactions).
    pub fn with_prefilled(block: &Block, nonce: u64, prefill: &[usize]) -> Self {
        assert!(
            block.txdata.len() <= usize::from(u16::MAX) + 1,
            "a compact block holds at most 65,536 transactions"
        );
        let keys = ShortIdKeys::new(&block.header, nonce);
        let mut short_ids = Vec::with_capacity(block.txdata.len().saturating_sub(prefill.len()));
        let mut prefilled = Vec::with_capacity(prefill.len());
        for (i, tx) in block.txdata.iter().enumerate() {
            if prefill.contains(&i) {
                prefilled.push(PrefilledTx {
                    index: i as u16,
                    tx: Rc::new(tx.clone()),
                });
            } else {
                short_ids.push(keys.short_id(&tx.compute_txid()));
            }
        }
        CompactBlock {
            header: block.header,
            nonce,
            short_ids,
            prefilled,
        }
    }

    /// The compact form, with the coinbase prefilled, of the block with
    /// `header` whose transactions have `txids` (coinbase first), sharing
    /// the caller's `coinbase` allocation instead of copying it: what a
    /// node that holds the block's txids sends.
    ///
    /// # Panics
    /// If `txids` is empty or longer than 65,536 (see
    /// [`CompactBlock::with_prefilled`]).
    pub fn from_parts(
        header: Header,
        nonce: u64,
        coinbase: Rc<Transaction>,
        txids: &[Txid],
    ) -> Self {
        assert!(
            !txids.is_empty() && txids.len() <= usize::from(u16::MAX) + 1,
            "a compact block holds 1 to 65,536 transactions"
        );
        // The keys are only needed for short IDs: a block of a coinbase
        // alone (a padded block of the SimBlock model) has none.
        let short_ids = match &txids[1..] {
            [] => Vec::new(),
            rest => {
                let keys = ShortIdKeys::new(&header, nonce);
                rest.iter().map(|t| keys.short_id(t)).collect()
            }
        };
        CompactBlock {
            header,
            nonce,
            short_ids,
            prefilled: vec![PrefilledTx {
                index: 0,
                tx: coinbase,
            }],
        }
    }

    /// Transactions in the block (short IDs plus prefilled).
    pub fn tx_count(&self) -> usize {
        self.short_ids.len() + self.prefilled.len()
    }

    /// The block's hash.
    pub fn block_hash(&self) -> BlockHash {
        self.header.block_hash()
    }

    /// The short-ID keys of this message.
    pub fn keys(&self) -> ShortIdKeys {
        ShortIdKeys::new(&self.header, self.nonce)
    }

    /// Decodes exactly `data`, checking what Core's deserialiser checks:
    /// indexes fit in 16 bits and the count fits the data.
    pub fn decode(data: &[u8]) -> Result<Self, CompactError> {
        let mut r = Reader::new(data);
        let header = Header::decode_from(&mut r)?;
        let nonce = r.u64_le()?;
        let n = r.length(SHORT_ID_BYTES)?;
        let mut short_ids = Vec::with_capacity(n);
        for _ in 0..n {
            short_ids.push(ShortId::from_bytes(r.array()?));
        }
        let m = r.length(1 + MIN_TX_BYTES)?;
        let mut prefilled = Vec::with_capacity(m);
        let mut next: u64 = 0;
        for _ in 0..m {
            let index = next.saturating_add(r.varint()?);
            if index > u64::from(u16::MAX) {
                return Err(CompactError::IndexOverflow { index });
            }
            let tx = Transaction::decode_from(&mut r)?;
            prefilled.push(PrefilledTx {
                index: index as u16,
                tx: Rc::new(tx),
            });
            next = index + 1;
        }
        r.finish()?;
        let cb = CompactBlock {
            header,
            nonce,
            short_ids,
            prefilled,
        };
        if cb.tx_count() == 0 {
            return Err(CompactError::Empty);
        }
        if let Some(last) = cb.prefilled.last() {
            if usize::from(last.index) >= cb.tx_count() {
                return Err(CompactError::PrefilledOutOfRange {
                    index: u32::from(last.index),
                    count: cb.tx_count(),
                });
            }
        }
        Ok(cb)
    }
}

impl Encodable for CompactBlock {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.header.encode_to(out);
        out.extend_from_slice(&self.nonce.to_le_bytes());
        write_varint(out, self.short_ids.len() as u64);
        for id in &self.short_ids {
            out.extend_from_slice(&id.to_bytes());
        }
        write_varint(out, self.prefilled.len() as u64);
        let mut next = 0u64;
        for p in &self.prefilled {
            write_varint(out, u64::from(p.index) - next);
            next = u64::from(p.index) + 1;
            p.tx.encode_to(out);
        }
    }

    fn encoded_len(&self) -> usize {
        let mut next = 0u64;
        let prefilled: usize = self
            .prefilled
            .iter()
            .map(|p| {
                let d = u64::from(p.index) - next;
                next = u64::from(p.index) + 1;
                varint_len(d) + p.tx.size()
            })
            .sum();
        80 + 8
            + varint_len(self.short_ids.len() as u64)
            + SHORT_ID_BYTES * self.short_ids.len()
            + varint_len(self.prefilled.len() as u64)
            + prefilled
    }
}

/// The `getblocktxn` message: the indexes of a block's transactions the
/// receiver of a `cmpctblock` could not find (BIP152 `BlockTransactionsRequest`,
/// indexes differentially encoded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockTxnRequest {
    /// The block.
    pub block_hash: BlockHash,
    /// Absolute indexes, increasing.
    pub indexes: Vec<u16>,
}

impl BlockTxnRequest {
    /// Decodes exactly `data`.
    pub fn decode(data: &[u8]) -> Result<Self, CompactError> {
        let mut r = Reader::new(data);
        let block_hash = BlockHash(r.array()?);
        let n = r.length(1)?;
        let mut indexes = Vec::with_capacity(n);
        let mut next: u64 = 0;
        for _ in 0..n {
            let index = next.saturating_add(r.varint()?);
            if index > u64::from(u16::MAX) {
                return Err(CompactError::IndexOverflow { index });
            }
            indexes.push(index as u16);
            next = index + 1;
        }
        r.finish()?;
        Ok(BlockTxnRequest {
            block_hash,
            indexes,
        })
    }
}

impl Encodable for BlockTxnRequest {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.block_hash.0);
        write_varint(out, self.indexes.len() as u64);
        let mut next = 0u64;
        for &i in &self.indexes {
            write_varint(out, u64::from(i) - next);
            next = u64::from(i) + 1;
        }
    }

    fn encoded_len(&self) -> usize {
        let mut next = 0u64;
        32 + varint_len(self.indexes.len() as u64)
            + self
                .indexes
                .iter()
                .map(|&i| {
                    let d = u64::from(i) - next;
                    next = u64::from(i) + 1;
                    varint_len(d)
                })
                .sum::<usize>()
    }
}

/// The `blocktxn` message: the requested transactions, in request order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockTxn {
    /// The block.
    pub block_hash: BlockHash,
    /// The transactions at the requested indexes.
    pub txs: Vec<Rc<Transaction>>,
}

impl BlockTxn {
    /// Answers `request` from the full `block` (Core refuses an index
    /// beyond the block and treats the peer as misbehaving).
    pub fn answer(request: &BlockTxnRequest, block: &Block) -> Result<Self, CompactError> {
        let txs = request
            .indexes
            .iter()
            .map(|&i| {
                block
                    .txdata
                    .get(usize::from(i))
                    .map(|tx| Rc::new(tx.clone()))
                    .ok_or(CompactError::RequestOutOfRange {
                        index: u32::from(i),
                        count: block.txdata.len(),
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(BlockTxn {
            block_hash: request.block_hash,
            txs,
        })
    }
}

impl Encodable for BlockTxn {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.block_hash.0);
        write_varint(out, self.txs.len() as u64);
        for tx in &self.txs {
            tx.encode_to(out);
        }
    }

    fn encoded_len(&self) -> usize {
        32 + varint_len(self.txs.len() as u64) + self.txs.iter().map(|t| t.size()).sum::<usize>()
    }
}

/// A block being reconstructed from a `cmpctblock` (Core's
/// `PartiallyDownloadedBlock`): every slot is filled from the prefilled
/// transactions or the receiver's mempool, or listed as missing.
#[derive(Clone, Debug)]
pub struct PartialBlock {
    header: Header,
    slots: Vec<Option<Rc<Transaction>>>,
    /// Txids of the slots filled from the pool (known from its keys), by
    /// slot; empty when no slot was filled from the pool.
    txids: Vec<Option<Txid>>,
    missing: Vec<u16>,
}

/// A reconstructed block whose transactions hash to its header's Merkle
/// root (the tree not mutated), still as shared transactions.
#[derive(Clone, Debug)]
pub struct CheckedBlock {
    /// The header.
    pub header: Header,
    /// The transactions, in block order.
    pub txs: Vec<Rc<Transaction>>,
    /// Their txids.
    pub txids: Vec<Txid>,
}

impl CheckedBlock {
    /// The block, copying the transactions out of their shared allocations.
    pub fn into_block(self) -> Block {
        Block {
            header: self.header,
            txdata: self.txs.into_iter().map(Rc::unwrap_or_clone).collect(),
        }
    }
}

impl PartialBlock {
    /// Starts reconstruction of `compact` from `pool`, the receiver's
    /// candidate transactions (its mempool, and any extra pool it keeps).
    ///
    /// As in Core's `InitData`: equal short IDs inside the message fail the
    /// whole reconstruction ([`CompactError::ShortIdCollision`]); a short
    /// ID matched by two pool transactions is left empty and requested, so
    /// the outcome does not depend on the order `pool` is visited in.
    pub fn new<'a>(
        compact: &CompactBlock,
        pool: impl IntoIterator<Item = (&'a Txid, &'a Rc<Transaction>)>,
    ) -> Result<Self, CompactError> {
        let count = compact.tx_count();
        if count == 0 {
            return Err(CompactError::Empty);
        }
        let mut slots: Vec<Option<Rc<Transaction>>> = vec![None; count];
        for p in &compact.prefilled {
            let i = usize::from(p.index);
            if i >= count {
                return Err(CompactError::PrefilledOutOfRange {
                    index: u32::from(p.index),
                    count,
                });
            }
            slots[i] = Some(Rc::clone(&p.tx));
        }
        // Txids of the slots filled from the pool; empty (no allocation)
        // while nothing was matched, as for a block of prefilled
        // transactions only.
        let mut txids: Vec<Option<Txid>> = Vec::new();
        if !compact.short_ids.is_empty() {
            // Short ID -> slot, for the slots not prefilled (the filled ones).
            let mut by_id: Vec<(ShortId, u16)> = Vec::with_capacity(compact.short_ids.len());
            let mut ids = compact.short_ids.iter();
            for (i, slot) in slots.iter().enumerate() {
                if slot.is_none() {
                    let id = ids.next().expect("short IDs fill the slots not prefilled");
                    by_id.push((*id, i as u16));
                }
            }
            by_id.sort_unstable();
            if by_id.windows(2).any(|w| w[0].0 == w[1].0) {
                return Err(CompactError::ShortIdCollision);
            }
            let mut pool = pool.into_iter().peekable();
            if pool.peek().is_some() {
                let keys = compact.keys();
                txids = vec![None; count];
                // Matches per slot: 0, 1 (filled) or more (ambiguous, requested).
                let mut matches = vec![0u8; count];
                for (txid, tx) in pool {
                    let id = keys.short_id(txid);
                    if let Ok(k) = by_id.binary_search_by_key(&id, |&(s, _)| s) {
                        let slot = usize::from(by_id[k].1);
                        matches[slot] = matches[slot].saturating_add(1);
                        slots[slot] = (matches[slot] == 1).then(|| Rc::clone(tx));
                        txids[slot] = (matches[slot] == 1).then_some(*txid);
                    }
                }
            }
        }
        let missing = (0..count)
            .filter(|&i| slots[i].is_none())
            .map(|i| i as u16)
            .collect();
        Ok(PartialBlock {
            header: compact.header,
            slots,
            txids,
            missing,
        })
    }

    /// Indexes still missing: what a `getblocktxn` asks for.
    pub fn missing(&self) -> &[u16] {
        &self.missing
    }

    /// The `getblocktxn` for the missing transactions, if any are missing.
    pub fn request(&self) -> Option<BlockTxnRequest> {
        (!self.missing.is_empty()).then(|| BlockTxnRequest {
            block_hash: self.header.block_hash(),
            indexes: self.missing.clone(),
        })
    }

    /// Fills the missing slots from a `blocktxn` (pass `None` when nothing
    /// was missing) and returns the block if its transactions hash to the
    /// header's Merkle root and the tree is not mutated. Any error means
    /// the receiver fetches the full block.
    pub fn finish(self, txn: Option<&BlockTxn>) -> Result<Block, CompactError> {
        let hash = self.header.block_hash();
        self.finish_checked(&hash, txn, |_| None)
            .map(CheckedBlock::into_block)
    }

    /// As [`PartialBlock::finish`], without copying the transactions out:
    /// `known_txid` may supply the txid of a prefilled or fetched
    /// transaction the caller already knows (looked up by allocation, so a
    /// large shared coinbase is not rehashed); the others are computed.
    /// `block_hash` is the hash of this block's header, as the caller
    /// checked it (a `blocktxn` for another block is refused; the relay
    /// checked the header against the hash when the `cmpctblock` came, so
    /// the header is not hashed again for every `blocktxn`).
    pub fn finish_checked(
        mut self,
        block_hash: &BlockHash,
        txn: Option<&BlockTxn>,
        known_txid: impl Fn(&Rc<Transaction>) -> Option<Txid>,
    ) -> Result<CheckedBlock, CompactError> {
        let wanted = self.missing.len();
        match txn {
            None if wanted == 0 => {}
            None => {
                return Err(CompactError::WrongBlockTxn {
                    block: self.header.block_hash(),
                    got: 0,
                    wanted,
                })
            }
            Some(t) => {
                if t.block_hash != *block_hash || t.txs.len() != wanted {
                    return Err(CompactError::WrongBlockTxn {
                        block: t.block_hash,
                        got: t.txs.len(),
                        wanted,
                    });
                }
                for (&i, tx) in self.missing.iter().zip(&t.txs) {
                    self.slots[usize::from(i)] = Some(Rc::clone(tx));
                }
            }
        }
        let txs: Vec<Rc<Transaction>> = self
            .slots
            .into_iter()
            .map(|s| s.expect("every slot is filled"))
            .collect();
        let txids: Vec<Txid> = txs
            .iter()
            .enumerate()
            .map(|(i, tx)| {
                self.txids
                    .get(i)
                    .copied()
                    .flatten()
                    .or_else(|| known_txid(tx))
                    .unwrap_or_else(|| tx.compute_txid())
            })
            .collect();
        let (root, mutated) = merkle_root_checked(&txids);
        if mutated || root != Some(self.header.merkle_root) {
            return Err(CompactError::MerkleMismatch);
        }
        Ok(CheckedBlock {
            header: self.header,
            txs,
            txids,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::hash::sha256d;
    use crate::ledger::{Amount, ScriptBuf, TxIn, TxOut};

    /// rust-bitcoin's `test_compact_block_vector` (bitcoin/src/bip152.rs),
    /// which its authors checked against the Elements implementation: a
    /// regtest block of a coinbase and one segwit spend, sent as a version-2
    /// `cmpctblock` with nonce 18053200567810711460. Version 2 takes the
    /// short ID of the wtxid, so the spend's wtxid is hashed from its raw
    /// bytes here; the SipHash keying is the same in both versions.
    #[test]
    fn short_id_matches_the_published_cmpctblock() {
        let header = "000000206c750a364035aefd5f81508a08769975116d9195312ee4520dceac39e1fdc62c4dc67473b8e354358c1e610afeaff7410858bd45df43e2940f8a62bd3d5e3ac943c2975cffff7f2000000000";
        let spend = "020000000001021fc20ba2bd745507b8e00679e3b362558f9457db374ca28ffa5243f4c23a4d5f00000000171600147c9dea14ffbcaec4b575e03f05ceb7a81cd3fcbffdffffff915d689be87b43337f42e26033df59807b768223368f189a023d0242d837768900000000171600147c9dea14ffbcaec4b575e03f05ceb7a81cd3fcbffdffffff0200cdf5050000000017a9146803c72d9154a6a20f404bed6d3dcee07986235a8700e1f5050000000017a9144e6a4c7cb5b5562904843bdf816342f4db9f5797870247304402205e9bf6e70eb0e4b495bf483fd8e6e02da64900f290ef8aaa64bb32600d973c450220670896f5d0e5f33473e5f399ab680cc1d25c2d2afd15abd722f04978f28be887012103e4e4d9312b2261af508b367d8ba9be4f01b61d6d6e78bec499845b4f410bcf2702473044022045ac80596a6ac9c8c572f94708709adaf106677221122e08daf8b9741a04f66a022003ccd52a3b78f8fd08058fc04fc0cffa5f4c196c84eae9e37e2a85babe731b57012103e4e4d9312b2261af508b367d8ba9be4f01b61d6d6e78bec499845b4f410bcf276a000000";
        let header = Header::from_hex(header).unwrap();
        let keys = ShortIdKeys::new(&header, 18053200567810711460);
        let wtxid = sha256d(&hex::decode(spend).unwrap());
        // The cmpctblock's nonce bytes are a4df3c3744da89fa, then one short
        // ID: 0a6979e97145.
        assert_eq!(
            hex::encode(keys.short_id_of_hash(&wtxid).to_bytes()),
            "0a6979e97145"
        );
    }

    fn pay(n: u8) -> Transaction {
        Transaction {
            version: 1,
            input: vec![TxIn {
                previous_output: crate::ledger::OutPoint {
                    txid: Txid([n; 32]),
                    vout: 0,
                },
                script_sig: ScriptBuf(vec![n; 70]),
                sequence: 0xffff_ffff,
            }],
            output: vec![TxOut {
                value: Amount::from_sat_unchecked(1000 + u64::from(n)),
                script_pubkey: ScriptBuf(vec![0x51]),
            }],
            lock_time: 0,
        }
    }

    fn block_of(n: u8) -> Block {
        let mut txdata = vec![pay(0)];
        txdata.extend((1..=n).map(pay));
        let txids: Vec<Txid> = txdata.iter().map(Transaction::compute_txid).collect();
        let mut header = Block::bitcoin_genesis().header;
        header.merkle_root = merkle_root_checked(&txids).0.unwrap();
        Block { header, txdata }
    }

    fn pool(txs: &[Transaction]) -> Vec<(Txid, Rc<Transaction>)> {
        txs.iter()
            .map(|t| (t.compute_txid(), Rc::new(t.clone())))
            .collect()
    }

    #[test]
    fn encoding_round_trips_and_sizes_are_the_encoded_lengths() {
        let block = block_of(5);
        for prefill in [&[0usize][..], &[0, 3], &[0, 1, 2, 3, 4, 5]] {
            let cb = CompactBlock::with_prefilled(&block, 7, prefill);
            let bytes = cb.encode();
            assert_eq!(bytes.len(), cb.encoded_len());
            assert_eq!(CompactBlock::decode(&bytes).unwrap(), cb);
        }
        let req = BlockTxnRequest {
            block_hash: block.block_hash(),
            indexes: vec![1, 2, 300, 301],
        };
        let bytes = req.encode();
        assert_eq!(bytes.len(), req.encoded_len());
        assert_eq!(BlockTxnRequest::decode(&bytes).unwrap(), req);
        let txn = BlockTxn::answer(
            &BlockTxnRequest {
                block_hash: block.block_hash(),
                indexes: vec![2, 4],
            },
            &block,
        )
        .unwrap();
        assert_eq!(txn.encode().len(), txn.encoded_len());
    }

    /// rust-bitcoin's differential-encoding cases for `getblocktxn`.
    #[test]
    fn getblocktxn_indexes_are_differentially_encoded() {
        for (wire, indexes) in [
            (vec![4u8, 0, 5, 1, 10], vec![0u16, 6, 8, 19]),
            (vec![1, 0], vec![0]),
            (vec![5, 0, 0, 0, 0, 0], vec![0, 1, 2, 3, 4]),
            (vec![3, 1, 1, 1], vec![1, 3, 5]),
            (vec![3, 0, 0, 253, 0, 1], vec![0, 1, 258]),
        ] {
            let mut raw = vec![0u8; 32];
            raw.extend(&wire);
            let req = BlockTxnRequest::decode(&raw).unwrap();
            assert_eq!(req.indexes, indexes);
            assert_eq!(req.encode(), raw);
        }
        let mut raw = vec![0u8; 32];
        raw.extend([2, 255, 254, 255, 255, 255, 255, 255, 255, 255, 0]);
        assert!(matches!(
            BlockTxnRequest::decode(&raw),
            Err(CompactError::IndexOverflow { .. })
        ));
    }

    #[test]
    fn a_compact_block_is_far_smaller_than_the_block() {
        let block = block_of(200);
        let cb = CompactBlock::from_block(&block, 1);
        assert_eq!(cb.short_ids.len(), 200);
        assert_eq!(
            cb.encoded_len(),
            80 + 8 + 1 + 6 * 200 + 1 + 1 + block.txdata[0].size()
        );
        assert!(cb.encoded_len() * 10 < block.size());
    }

    #[test]
    fn reconstruction_from_a_full_mempool_needs_no_round_trip() {
        let block = block_of(6);
        let cb = CompactBlock::from_block(&block, 99);
        let p = pool(&block.txdata[1..]);
        let pb = PartialBlock::new(&cb, p.iter().map(|(a, b)| (a, b))).unwrap();
        assert!(pb.missing().is_empty());
        assert!(pb.request().is_none());
        assert_eq!(pb.finish(None).unwrap(), block);
    }

    #[test]
    fn missing_transactions_are_fetched_with_getblocktxn() {
        let block = block_of(6);
        let cb = CompactBlock::from_block(&block, 99);
        // The receiver has transactions 1, 2, 4, 6 and an unrelated one.
        let mut have = vec![
            block.txdata[1].clone(),
            block.txdata[2].clone(),
            block.txdata[4].clone(),
            block.txdata[6].clone(),
        ];
        have.push(pay(77));
        let p = pool(&have);
        let pb = PartialBlock::new(&cb, p.iter().map(|(a, b)| (a, b))).unwrap();
        assert_eq!(pb.missing(), &[3, 5]);
        let req = pb.request().unwrap();
        let txn = BlockTxn::answer(&req, &block).unwrap();
        assert_eq!(pb.clone().finish(Some(&txn)).unwrap(), block);
        // A blocktxn with the wrong count is refused.
        let short = BlockTxn {
            block_hash: txn.block_hash,
            txs: txn.txs[..1].to_vec(),
        };
        assert!(matches!(
            pb.finish(Some(&short)),
            Err(CompactError::WrongBlockTxn { .. })
        ));
    }

    #[test]
    fn a_wrong_transaction_fails_the_merkle_check() {
        let block = block_of(3);
        let cb = CompactBlock::from_block(&block, 5);
        let pb = PartialBlock::new(&cb, std::iter::empty()).unwrap();
        assert_eq!(pb.missing(), &[1, 2, 3]);
        let mut txn = BlockTxn::answer(&pb.request().unwrap(), &block).unwrap();
        txn.txs[1] = Rc::new(pay(42));
        assert_eq!(pb.finish(Some(&txn)), Err(CompactError::MerkleMismatch));
    }

    #[test]
    fn colliding_short_ids_fail_or_are_requested() {
        let block = block_of(3);
        // Inside the message: two equal short IDs fail the reconstruction.
        let mut cb = CompactBlock::from_block(&block, 5);
        cb.short_ids[1] = cb.short_ids[0];
        assert_eq!(
            PartialBlock::new(&cb, std::iter::empty()).unwrap_err(),
            CompactError::ShortIdCollision
        );
        // In the pool: two candidates for one slot leave it missing,
        // whichever comes first.
        let cb = CompactBlock::from_block(&block, 5);
        let real = block.txdata[2].clone();
        let fake = Rc::new(pay(99));
        let real_id = real.compute_txid();
        let real = Rc::new(real);
        // A pool entry listed under the real txid but holding another
        // transaction stands in for a second match of the same short ID.
        for order in [
            [(real_id, real.clone()), (real_id, fake.clone())],
            [(real_id, fake.clone()), (real_id, real.clone())],
        ] {
            let pb = PartialBlock::new(&cb, order.iter().map(|(a, b)| (a, b))).unwrap();
            assert_eq!(pb.missing(), &[1, 2, 3]);
        }
    }

    #[test]
    fn decode_refuses_malformed_messages() {
        let block = block_of(2);
        let cb = CompactBlock::from_block(&block, 5);
        let bytes = cb.encode();
        assert!(CompactBlock::decode(&bytes[..bytes.len() - 1]).is_err());
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(CompactBlock::decode(&extra).is_err());
        // Prefilled index beyond the block.
        let mut bad = CompactBlock::from_block(&block, 5);
        bad.prefilled[0].index = 9;
        bad.short_ids.pop();
        assert!(matches!(
            CompactBlock::decode(&bad.encode()),
            Err(CompactError::PrefilledOutOfRange { .. })
        ));
    }
}
