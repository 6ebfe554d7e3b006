//! Block headers and blocks.
//!
//! The 80-byte header has Bitcoin's exact layout, all integers little-endian:
//! `version:i32 | prev_blockhash:32 | merkle_root:32 | time:u32 | bits:u32 | nonce:u32`.
//! Its hash ([`Header::block_hash`]) is `sha256d` of those 80 bytes, so real
//! Bitcoin headers hash to their real block hashes. A [`Block`] is a header
//! followed by a varint count and its transactions.

use super::encode::{write_varint, Decodable, DecodeError, Encodable, Reader};
use super::hash::{BlockHash, MerkleNode};
use super::merkle;
use super::pow::CompactTarget;
use super::tx::Transaction;

/// Size of a serialized header.
pub const HEADER_SIZE: usize = 80;

/// An 80-byte block header.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Header {
    /// Block version.
    pub version: i32,
    /// Hash of the previous block's header ([`BlockHash::GENESIS_PREV`] for genesis).
    pub prev_blockhash: BlockHash,
    /// Merkle root of the block's txids.
    pub merkle_root: MerkleNode,
    /// Timestamp, seconds since the Unix epoch.
    pub time: u32,
    /// Compact encoding of the target the hash must not exceed.
    pub bits: CompactTarget,
    /// Nonce varied by miners.
    pub nonce: u32,
}

impl Header {
    /// The 80 serialized bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_SIZE] {
        let mut b = [0u8; HEADER_SIZE];
        b[0..4].copy_from_slice(&self.version.to_le_bytes());
        b[4..36].copy_from_slice(self.prev_blockhash.as_bytes());
        b[36..68].copy_from_slice(self.merkle_root.as_bytes());
        b[68..72].copy_from_slice(&self.time.to_le_bytes());
        b[72..76].copy_from_slice(&self.bits.to_consensus().to_le_bytes());
        b[76..80].copy_from_slice(&self.nonce.to_le_bytes());
        b
    }

    /// Computes the block hash (`sha256d` of the 80 bytes).
    pub fn block_hash(&self) -> BlockHash {
        BlockHash::hash(&self.to_bytes())
    }
}

impl Encodable for Header {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bytes());
    }
}

impl Decodable for Header {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Header {
            version: r.i32_le()?,
            prev_blockhash: BlockHash(r.array()?),
            merkle_root: MerkleNode(r.array()?),
            time: r.u32_le()?,
            bits: CompactTarget::from_consensus(r.u32_le()?),
            nonce: r.u32_le()?,
        })
    }
}

/// A block: header and transactions (the first must be the coinbase).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Block {
    /// The header.
    pub header: Header,
    /// The transactions, coinbase first.
    pub txdata: Vec<Transaction>,
}

impl Block {
    /// The block hash (hash of the header).
    pub fn block_hash(&self) -> BlockHash {
        self.header.block_hash()
    }

    /// Serialized size in bytes.
    pub fn size(&self) -> usize {
        self.encode().len()
    }

    /// Computes the Merkle root of the transactions (hashes every txid),
    /// or `None` for a block with no transactions.
    pub fn compute_merkle_root(&self) -> Option<MerkleNode> {
        let txids: Vec<_> = self.txdata.iter().map(|t| t.compute_txid()).collect();
        merkle::merkle_root(&txids)
    }
}

impl Encodable for Block {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.header.encode_to(out);
        write_varint(out, self.txdata.len() as u64);
        for t in &self.txdata {
            t.encode_to(out);
        }
    }
}

impl Decodable for Block {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let header = Header::decode_from(r)?;
        let n = r.length(60)?;
        let mut txdata = Vec::with_capacity(n);
        for _ in 0..n {
            txdata.push(Transaction::decode_from(r)?);
        }
        Ok(Block { header, txdata })
    }
}
