//! Wire messages between simulated nodes and their sizes on the wire.
//!
//! Names follow Bitcoin's P2P protocol where the message exists there
//! (`inv`, `getdata`, `block`, `tx`, `notfound`, `headers`, `merkleblock`);
//! [`Msg::SendTip`] stands for the tip exchange two reconnecting peers do
//! with `getheaders`. Payloads are `Arc`s shared with the sender: a message
//! never copies a block. [`Msg::wire_size`] is the encoded size used for
//! transmission delays (24-byte framing plus the payload).

use std::sync::Arc;

use crate::ledger::merkle::MerkleProof;
use crate::ledger::{Block, BlockHash, Header, Transaction, Txid};

/// Index of a node in the world (`0..n`).
pub type NodeIdx = u32;

/// A message between nodes.
#[derive(Clone, Debug)]
pub enum Msg {
    /// Announces blocks the sender has connected (oldest first).
    InvBlocks(Arc<[BlockHash]>),
    /// Requests blocks by hash.
    GetBlocks(Arc<[BlockHash]>),
    /// A full block, its hash and serialized size.
    Block(Arc<Block>, BlockHash, u32),
    /// Asks the receiver to announce its tip (sent on reconnecting).
    SendTip,
    /// Announces transactions (batched, like Bitcoin's trickling).
    InvTx(Arc<[Txid]>),
    /// Requests transactions.
    GetTx(Vec<Txid>),
    /// Transactions.
    Txs(Vec<(Txid, Arc<Transaction>)>),
    /// Requested transactions the sender no longer has (Bitcoin's `notfound`).
    NotFound(Vec<Txid>),
    /// Headers for a light client (oldest first).
    Headers(Arc<[Header]>),
    /// Merkle proofs of payments to a light client's watched address.
    MerkleBlock {
        /// The block the proofs are for.
        block: BlockHash,
        /// One proof per matching transaction.
        proofs: Vec<MerkleProof>,
    },
}

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
                Msg::MerkleBlock { proofs, .. } => {
                    84 + proofs
                        .iter()
                        .map(|p| 40 + 32 * p.siblings.len() as u64)
                        .sum::<u64>()
                }
            }
    }

    /// Whether the message occupies the sender's uplink. Only payloads
    /// (blocks, transactions) do; announcements, requests and headers are a
    /// few dozen bytes and travel with latency alone (as in SimBlock).
    pub fn uses_uplink(&self) -> bool {
        matches!(self, Msg::Block(..) | Msg::Txs(_))
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
            Msg::MerkleBlock { block, proofs } => {
                format!("merkleblock {} proofs={}", short(block), proofs.len())
            }
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
            Msg::MerkleBlock { block, proofs } => k(block.as_bytes()) ^ proofs.len() as u64,
        }
    }
}
