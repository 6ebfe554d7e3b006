//! Wire messages between simulated nodes and their sizes on the wire.
//!
//! Names follow Bitcoin's P2P protocol where the message exists there
//! (`inv`, `getdata`, `block`, `tx`, `notfound`, `headers`, `merkleblock`);
//! [`Msg::SendTip`] stands for the tip exchange two reconnecting peers do
//! with `getheaders`. BIP152's messages (`sendcmpct`, `getdata` of a
//! compact block, `cmpctblock`, `getblocktxn`, `blocktxn`) carry the real
//! structures of [`crate::node::compact`]; their sizes are the encoded
//! sizes, plus the modelled bytes of block padding where a message stands
//! for padding (see [`crate::node::compact_relay`]). Payloads are `Rc`s shared with the sender: a message
//! never copies a block. [`Msg::wire_size`] is the encoded size used for
//! transmission delays (24-byte framing plus the payload).

use std::rc::Rc;

use crate::ledger::merkle::MerkleProof;
use crate::ledger::{Block, BlockHash, Encodable, Header, Transaction, Txid};
use crate::node::compact::{BlockTxn, BlockTxnRequest, CompactBlock, SENDCMPCT_BYTES};

/// A `merkleblock`: proofs of payments to a light client's watched address.
///
/// Boxed inside [`Msg`]: it is a light client's message, rare beside the
/// block relay, and held inline it would make every message (and with it
/// every queued event) 8 bytes larger, past a cache line per queue slot.
#[derive(Clone, Debug)]
pub struct MerkleBlockMsg {
    /// The block the proofs are for.
    pub block: BlockHash,
    /// One proof per matching transaction.
    pub proofs: Vec<MerkleProof>,
}

/// Index of a node in the world (`0..n`).
pub type NodeIdx = u32;

/// A message between nodes.
#[derive(Clone, Debug)]
pub enum Msg {
    /// Announces blocks the sender has connected (oldest first).
    InvBlocks(Rc<[BlockHash]>),
    /// Requests blocks by hash.
    GetBlocks(Rc<[BlockHash]>),
    /// A full block, its hash and serialized size.
    Block(Rc<Block>, BlockHash, u32),
    /// Asks the receiver to announce its tip (sent on reconnecting).
    SendTip,
    /// Announces transactions (batched, like Bitcoin's trickling).
    InvTx(Rc<[Txid]>),
    /// Requests transactions.
    GetTx(Vec<Txid>),
    /// Transactions.
    Txs(Vec<(Txid, Rc<Transaction>)>),
    /// Requested transactions the sender no longer has (Bitcoin's `notfound`).
    NotFound(Vec<Txid>),
    /// Headers for a light client (oldest first).
    Headers(Rc<[Header]>),
    /// Merkle proofs of payments to a light client's watched address
    /// (boxed: see [`MerkleBlockMsg`]).
    MerkleBlock(Box<MerkleBlockMsg>),
    /// BIP152 `sendcmpct` (version 1): the sender speaks compact blocks;
    /// `high_bandwidth` asks the receiver to push new blocks to it as
    /// `cmpctblock` without announcing them first.
    SendCmpct {
        /// The high-bandwidth flag.
        high_bandwidth: bool,
    },
    /// `getdata(MSG_CMPCT_BLOCK)`: asks for a block in compact form.
    GetCmpct(BlockHash),
    /// `cmpctblock`: a compact block, its block's hash and the message's
    /// payload size.
    CmpctBlock(Rc<CompactBlock>, BlockHash, u32),
    /// `getblocktxn`: the missing transactions of a compact block, and the
    /// bytes of padding the receiver missed (modelled; 0 without padding).
    GetBlockTxn(Rc<BlockTxnRequest>, u32),
    /// `blocktxn`: the requested transactions, and the bytes of padding
    /// that stand for the missed transactions (modelled; 0 without padding).
    BlockTxn(Rc<BlockTxn>, u32),
}

/// Names of the message kinds, as `bandwidth.csv` lists them, indexed by
/// [`Msg::kind`]. Bitcoin's command names, with `inv` and `getdata` split
/// by what they carry.
pub const KIND_NAMES: [&str; 15] = [
    "inv_block",
    "getdata_block",
    "block",
    "getheaders",
    "inv_tx",
    "getdata_tx",
    "tx",
    "notfound",
    "headers",
    "merkleblock",
    "sendcmpct",
    "getdata_cmpctblock",
    "cmpctblock",
    "getblocktxn",
    "blocktxn",
];

/// Size of a message header on the wire (Bitcoin's P2P framing: magic,
/// command, length, checksum).
pub const MSG_HEADER_BYTES: u64 = 24;
/// Size of one inventory entry (type + hash).
pub const INV_ENTRY_BYTES: u64 = 36;

impl Msg {
    /// Size on the wire in bytes (used for transmission delay).
    pub fn wire_size(&self) -> u64 {
        MSG_HEADER_BYTES
            + match self {
                Msg::InvBlocks(h) => 1 + INV_ENTRY_BYTES * h.len() as u64,
                Msg::GetBlocks(h) => 1 + INV_ENTRY_BYTES * h.len() as u64,
                Msg::Block(_, _, size) => *size as u64,
                Msg::SendTip => 0,
                Msg::InvTx(t) => 3 + INV_ENTRY_BYTES * t.len() as u64,
                Msg::GetTx(t) => 3 + INV_ENTRY_BYTES * t.len() as u64,
                Msg::Txs(t) => t.iter().map(|(_, tx)| tx.size() as u64).sum(),
                Msg::NotFound(t) => 3 + INV_ENTRY_BYTES * t.len() as u64,
                Msg::Headers(h) => 1 + 81 * h.len() as u64,
                Msg::MerkleBlock(m) => {
                    84 + m
                        .proofs
                        .iter()
                        .map(|p| 40 + 32 * p.siblings.len() as u64)
                        .sum::<u64>()
                }
                Msg::SendCmpct { .. } => SENDCMPCT_BYTES as u64,
                Msg::GetCmpct(_) => 1 + INV_ENTRY_BYTES,
                Msg::CmpctBlock(_, _, size) => *size as u64,
                Msg::GetBlockTxn(req, _) => req.encoded_len() as u64,
                Msg::BlockTxn(txn, padding) => txn.encoded_len() as u64 + *padding as u64,
            }
    }

    /// The message's kind, an index into [`KIND_NAMES`].
    pub fn kind(&self) -> usize {
        match self {
            Msg::InvBlocks(_) => 0,
            Msg::GetBlocks(_) => 1,
            Msg::Block(..) => 2,
            Msg::SendTip => 3,
            Msg::InvTx(_) => 4,
            Msg::GetTx(_) => 5,
            Msg::Txs(_) => 6,
            Msg::NotFound(_) => 7,
            Msg::Headers(_) => 8,
            Msg::MerkleBlock { .. } => 9,
            Msg::SendCmpct { .. } => 10,
            Msg::GetCmpct(_) => 11,
            Msg::CmpctBlock(..) => 12,
            Msg::GetBlockTxn(..) => 13,
            Msg::BlockTxn(..) => 14,
        }
    }

    /// Whether the message occupies the sender's uplink. Only payloads
    /// (blocks, transactions) do; announcements, requests and headers are a
    /// few dozen bytes and travel with latency alone (as in SimBlock).
    pub fn uses_uplink(&self) -> bool {
        matches!(
            self,
            Msg::Block(..) | Msg::Txs(_) | Msg::CmpctBlock(..) | Msg::BlockTxn(..)
        )
    }

    pub(crate) fn tag(&self) -> u64 {
        match self {
            Msg::InvBlocks(_) => 1,
            Msg::GetBlocks(_) => 2,
            Msg::Block(..) => 3,
            Msg::SendTip => 4,
            Msg::InvTx(_) => 5,
            Msg::GetTx(_) => 6,
            Msg::Txs(_) => 7,
            Msg::NotFound(_) => 10,
            Msg::Headers(_) => 8,
            Msg::MerkleBlock { .. } => 9,
            Msg::SendCmpct { .. } => 11,
            Msg::GetCmpct(_) => 12,
            Msg::CmpctBlock(..) => 13,
            Msg::GetBlockTxn(..) => 14,
            Msg::BlockTxn(..) => 15,
        }
    }

    /// A short description for traces, named as Bitcoin names the message
    /// (`inv`, `getdata`, `block`, `tx`, `notfound`, `headers`, `merkleblock`;
    /// the tip request is `getheaders`), with the first hash shortened.
    pub fn describe(&self) -> String {
        fn first<T: std::fmt::Display>(v: &[T]) -> String {
            match v {
                [] => String::new(),
                [one] => format!(" {}", short(one)),
                [a, ..] => format!(" {} +{}", short(a), v.len() - 1),
            }
        }
        fn short<T: std::fmt::Display>(x: &T) -> String {
            x.to_string().chars().take(12).collect()
        }
        match self {
            Msg::InvBlocks(h) => format!("inv block{}", first(h)),
            Msg::GetBlocks(h) => format!("getdata block{}", first(h)),
            Msg::Block(_, h, _) => format!("block {}", short(h)),
            Msg::SendTip => "getheaders".to_string(),
            Msg::InvTx(t) => format!("inv tx{}", first(t)),
            Msg::GetTx(t) => format!("getdata tx{}", first(t)),
            Msg::Txs(t) => format!(
                "tx{}",
                first(&t.iter().map(|(id, _)| *id).collect::<Vec<_>>())
            ),
            Msg::NotFound(t) => format!("notfound{}", first(t)),
            Msg::Headers(h) => format!("headers x{}", h.len()),
            Msg::MerkleBlock(m) => {
                format!("merkleblock {} proofs={}", short(&m.block), m.proofs.len())
            }
            Msg::SendCmpct { high_bandwidth } => {
                format!("sendcmpct high_bandwidth={}", *high_bandwidth as u8)
            }
            Msg::GetCmpct(h) => format!("getdata cmpctblock {}", short(h)),
            Msg::CmpctBlock(cb, h, _) => format!(
                "cmpctblock {} short_ids={} prefilled={}",
                short(h),
                cb.short_ids.len(),
                cb.prefilled.len()
            ),
            Msg::GetBlockTxn(req, padding) => format!(
                "getblocktxn {} indexes={}{}",
                short(&req.block_hash),
                req.indexes.len(),
                if *padding > 0 {
                    format!(" padding={padding}")
                } else {
                    String::new()
                }
            ),
            Msg::BlockTxn(txn, padding) => format!(
                "blocktxn {} txs={}{}",
                short(&txn.block_hash),
                txn.txs.len(),
                if *padding > 0 {
                    format!(" padding={padding}")
                } else {
                    String::new()
                }
            ),
        }
    }

    /// First 8 bytes of the primary hash carried, for the digest.
    pub(crate) fn key(&self) -> u64 {
        fn k(b: &[u8; 32]) -> u64 {
            u64::from_le_bytes(b[..8].try_into().expect("8 bytes"))
        }
        match self {
            Msg::InvBlocks(h) => h.first().map_or(0, |h| k(h.as_bytes())) ^ h.len() as u64,
            Msg::GetBlocks(h) => h.first().map_or(0, |h| k(h.as_bytes())) ^ h.len() as u64,
            Msg::Block(_, h, _) => k(h.as_bytes()),
            Msg::SendTip => 0,
            Msg::InvTx(t) => t.first().map_or(0, |h| k(h.as_bytes())) ^ t.len() as u64,
            Msg::GetTx(t) => t.first().map_or(0, |h| k(h.as_bytes())) ^ t.len() as u64,
            Msg::Txs(t) => t.first().map_or(0, |(h, _)| k(h.as_bytes())) ^ t.len() as u64,
            Msg::NotFound(t) => t.first().map_or(0, |h| k(h.as_bytes())) ^ t.len() as u64,
            Msg::Headers(h) => h.len() as u64,
            Msg::MerkleBlock(m) => k(m.block.as_bytes()) ^ m.proofs.len() as u64,
            Msg::SendCmpct { high_bandwidth } => *high_bandwidth as u64,
            Msg::GetCmpct(h) => k(h.as_bytes()),
            Msg::CmpctBlock(_, h, _) => k(h.as_bytes()),
            Msg::GetBlockTxn(req, padding) => {
                k(req.block_hash.as_bytes()) ^ req.indexes.len() as u64 ^ ((*padding as u64) << 32)
            }
            Msg::BlockTxn(txn, padding) => {
                k(txn.block_hash.as_bytes()) ^ txn.txs.len() as u64 ^ ((*padding as u64) << 32)
            }
        }
    }
}
