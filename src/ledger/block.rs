//! Block headers and blocks.
//!
//! The 80-byte header has Bitcoin's exact layout, all integers little-endian:
//! `version:i32 | prev_blockhash:32 | merkle_root:32 | time:u32 | bits:u32 | nonce:u32`.
//! Its hash ([`Header::block_hash`]) is `sha256d` of those 80 bytes, so real
//! Bitcoin headers hash to their real block hashes. A [`Block`] is a header
//! followed by a varint count and its transactions.

use super::encode::{varint_len, write_varint, Decodable, DecodeError, Encodable, Reader};
use super::hash::{BlockHash, MerkleNode};
use super::merkle;
use super::pow::{CompactTarget, PowError, Target, Work};
use super::tx::Transaction;

/// The raw coinbase transaction of Bitcoin's mainnet genesis block (txid
/// `4a5e1e4b…a33b`), as in Bitcoin Core `chainparams.cpp` `CreateGenesisBlock`
/// and rust-bitcoin `blockdata/constants.rs`: its `script_sig` carries "The
/// Times 03/Jan/2009 Chancellor on brink of second bailout for banks".
const GENESIS_COINBASE_HEX: &str = "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000";

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

    /// The target encoded in `bits`; `Err` if the encoding is negative or
    /// overflows.
    pub fn target(&self) -> Result<Target, PowError> {
        Target::from_compact(self.bits)
    }

    /// The work this header proves if its hash meets its target.
    pub fn work(&self) -> Result<Work, PowError> {
        self.target().map(Target::to_work)
    }
}

impl Encodable for Header {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bytes());
    }

    fn encoded_len(&self) -> usize {
        80
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
    /// Bitcoin's mainnet genesis block, byte for byte: hash
    /// `000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f`,
    /// 285 bytes (Bitcoin Core `CreateGenesisBlock(1231006505, 2083236893,
    /// 0x1d00ffff, 1, 50 * COIN)`).
    pub fn bitcoin_genesis() -> Block {
        let coinbase = Transaction::from_hex(GENESIS_COINBASE_HEX)
            .expect("the genesis coinbase constant is a valid transaction");
        Block {
            header: Header {
                version: 1,
                prev_blockhash: BlockHash::GENESIS_PREV,
                merkle_root: MerkleNode::from(coinbase.compute_txid()),
                time: 1_231_006_505,
                bits: CompactTarget::from_consensus(0x1d00ffff),
                nonce: 2_083_236_893,
            },
            txdata: vec![coinbase],
        }
    }

    /// The block hash (hash of the header).
    pub fn block_hash(&self) -> BlockHash {
        self.header.block_hash()
    }

    /// Serialized size in bytes.
    pub fn size(&self) -> usize {
        self.encoded_len()
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

    fn encoded_len(&self) -> usize {
        80 + varint_len(self.txdata.len() as u64)
            + self.txdata.iter().map(Transaction::size).sum::<usize>()
    }
}

impl Decodable for Block {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let header = Header::decode_from(r)?;
        // The smallest encodable transaction is 10 bytes (version, two empty
        // varint counts, lock time); a tighter bound would reject blocks that
        // decode fine transaction by transaction and leave it to validation.
        let n = r.length(10)?;
        let mut txdata = Vec::with_capacity(n);
        for _ in 0..n {
            txdata.push(Transaction::decode_from(r)?);
        }
        Ok(Block { header, txdata })
    }
}

/// proptest strategies for ledger types (tests only): arbitrary
/// transactions, headers and blocks, for encode/decode round trips and other
/// invariants elsewhere in the crate.
#[cfg(test)]
pub mod arb {
    use proptest::prelude::*;

    use super::{Block, Header};
    use crate::ledger::amount::Amount;
    use crate::ledger::hash::{BlockHash, MerkleNode, Txid};
    use crate::ledger::pow::CompactTarget;
    use crate::ledger::script::ScriptBuf;
    use crate::ledger::tx::{OutPoint, Transaction, TxIn, TxOut};

    /// Any script up to 300 bytes (crosses the 0xfd varint boundary).
    pub fn script() -> impl Strategy<Value = ScriptBuf> {
        prop::collection::vec(any::<u8>(), 0..300).prop_map(ScriptBuf)
    }

    /// Any input (arbitrary prevout, script and sequence).
    pub fn tx_in() -> impl Strategy<Value = TxIn> {
        (any::<[u8; 32]>(), any::<u32>(), script(), any::<u32>()).prop_map(
            |(txid, vout, script_sig, sequence)| TxIn {
                previous_output: OutPoint {
                    txid: Txid(txid),
                    vout,
                },
                script_sig,
                sequence,
            },
        )
    }

    /// Any output (values may be out of the money range: decoding does not check).
    pub fn tx_out() -> impl Strategy<Value = TxOut> {
        (any::<u64>(), script()).prop_map(|(sats, script_pubkey)| TxOut {
            value: Amount::from_sat_unchecked(sats),
            script_pubkey,
        })
    }

    /// Any transaction with 0..4 inputs and 0..4 outputs.
    pub fn transaction() -> impl Strategy<Value = Transaction> {
        (
            any::<i32>(),
            prop::collection::vec(tx_in(), 0..4),
            prop::collection::vec(tx_out(), 0..4),
            any::<u32>(),
        )
            .prop_map(|(version, input, output, lock_time)| Transaction {
                version,
                input,
                output,
                lock_time,
            })
    }

    /// Any header.
    pub fn header() -> impl Strategy<Value = Header> {
        (
            any::<i32>(),
            any::<[u8; 32]>(),
            any::<[u8; 32]>(),
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
        )
            .prop_map(|(version, prev, merkle, time, bits, nonce)| Header {
                version,
                prev_blockhash: BlockHash(prev),
                merkle_root: MerkleNode(merkle),
                time,
                bits: CompactTarget::from_consensus(bits),
                nonce,
            })
    }

    /// Any block of 0..6 transactions (the header is not made consistent).
    pub fn block() -> impl Strategy<Value = Block> {
        (header(), prop::collection::vec(transaction(), 0..6))
            .prop_map(|(header, txdata)| Block { header, txdata })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Bitcoin's genesis header (Bitcoin Core `chainparams.cpp`; also
    /// `bitcoin-cli getblockheader 000000000019d6… false`).
    const GENESIS_HEADER_HEX: &str = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";
    const GENESIS_HASH: &str = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";
    const GENESIS_TXID: &str = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b";

    /// Block 100000's header (`bitcoin-cli getblockheader
    /// 000000000003ba27aa200b1cecaad478d2b00432346c3f1f3986da1afd33e506 false`).
    const BLOCK_100000_HEADER_HEX: &str = "0100000050120119172a610421a6c3011dd330d9df07b63616c2cc1f1cd00200000000006657a9252aacd5c0b2940996ecff952228c3067cc38d4885efb5a4ac4247e9f337221b4d4c86041b0f2b5710";
    const BLOCK_100000_HASH: &str =
        "000000000003ba27aa200b1cecaad478d2b00432346c3f1f3986da1afd33e506";

    #[test]
    fn genesis_header_hashes_to_the_real_genesis_hash() {
        let g = Block::bitcoin_genesis();
        assert_eq!(hex::encode(g.header.to_bytes()), GENESIS_HEADER_HEX);
        assert_eq!(g.block_hash().to_string(), GENESIS_HASH);
        assert_eq!(g.header.block_hash(), GENESIS_HASH.parse().unwrap());
        assert_eq!(Header::from_hex(GENESIS_HEADER_HEX).unwrap(), g.header);
    }

    #[test]
    fn genesis_merkle_root_is_its_coinbase_txid() {
        let g = Block::bitcoin_genesis();
        assert_eq!(g.txdata.len(), 1);
        assert!(g.txdata[0].is_coinbase());
        assert_eq!(g.txdata[0].compute_txid().to_string(), GENESIS_TXID);
        assert_eq!(g.header.merkle_root.to_string(), GENESIS_TXID);
        assert_eq!(g.compute_merkle_root(), Some(g.header.merkle_root));
        assert_eq!(g.txdata[0].output[0].value.to_sat(), 50 * 100_000_000);
    }

    #[test]
    fn genesis_meets_its_target() {
        let g = Block::bitcoin_genesis();
        let target = g.header.target().unwrap();
        assert!(target.is_met_by(g.block_hash().as_bytes()));
        assert_eq!(
            crate::ledger::pow::check_proof_of_work(&g.block_hash(), g.header.bits, target),
            Ok(())
        );
        // Chain work after genesis: getblockheader's chainwork 0x100010001.
        assert_eq!(g.header.work().unwrap().to_string(), "4295032833");
        // …and not a much harder one.
        assert!(!Target::from_leading_zero_bits(48).is_met_by(g.block_hash().as_bytes()));
    }

    #[test]
    fn genesis_block_round_trips_and_is_285_bytes() {
        let g = Block::bitcoin_genesis();
        let bytes = g.encode();
        assert_eq!(bytes.len(), 285);
        assert_eq!(g.size(), 285);
        // Header, one-transaction varint, then the coinbase.
        assert_eq!(hex::encode(&bytes[..80]), GENESIS_HEADER_HEX);
        assert_eq!(bytes[80], 1);
        assert_eq!(hex::encode(&bytes[81..]), GENESIS_COINBASE_HEX);
        assert_eq!(Block::decode(&bytes).unwrap(), g);
        // Truncated or padded input is rejected.
        assert!(Block::decode(&bytes[..284]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(Block::decode(&longer), Err(DecodeError::TrailingBytes(1)));
    }

    #[test]
    fn block_100000_header_hashes_correctly() {
        let h = Header::from_hex(BLOCK_100000_HEADER_HEX).unwrap();
        assert_eq!(h.block_hash().to_string(), BLOCK_100000_HASH);
        assert_eq!(h.version, 1);
        assert_eq!(
            h.prev_blockhash.to_string(),
            "000000000002d01c1fccc21636b607dfd930d31d01c3a62104612a1719011250"
        );
        assert_eq!(
            h.merkle_root.to_string(),
            "f3e94742aca4b5ef85488dc37c06c3282295ffec960994b2c0d5ac2a25a95766"
        );
        assert_eq!(h.time, 1_293_623_863);
        assert_eq!(h.bits.to_consensus(), 453_281_356);
        assert_eq!(h.nonce, 274_148_111);
        assert!(h.target().unwrap().is_met_by(h.block_hash().as_bytes()));
        assert_eq!(hex::encode(h.encode()), BLOCK_100000_HEADER_HEX);
    }

    #[test]
    fn grinding_a_genesis_like_header_finds_a_valid_block() {
        let mut h = Block::bitcoin_genesis().header;
        h.nonce = 0;
        let target = Target::from_leading_zero_bits(10);
        let tries = crate::ledger::nonce::grind(&mut h, target, 1 << 20).unwrap();
        assert!(tries >= 1);
        assert!(target.is_met_by(h.block_hash().as_bytes()));
    }

    proptest! {
        #[test]
        fn transaction_encode_decode_round_trips(tx in arb::transaction()) {
            let bytes = tx.encode();
            prop_assert_eq!(tx.size(), bytes.len());
            prop_assert_eq!(Transaction::decode(&bytes).unwrap(), tx);
        }

        #[test]
        fn header_encode_decode_round_trips(h in arb::header()) {
            let bytes = h.encode();
            prop_assert_eq!(bytes.len(), HEADER_SIZE);
            prop_assert_eq!(Header::decode(&bytes).unwrap(), h);
        }

        #[test]
        fn block_encode_decode_round_trips(b in arb::block()) {
            let bytes = b.encode();
            prop_assert_eq!(b.size(), bytes.len());
            let back = Block::decode(&bytes).unwrap();
            prop_assert_eq!(back.block_hash(), b.block_hash());
            prop_assert_eq!(back, b);
            // Dropping the last byte makes decoding fail.
            if bytes.len() > 1 {
                prop_assert!(Block::decode(&bytes[..bytes.len() - 1]).is_err());
            }
        }
    }
}
