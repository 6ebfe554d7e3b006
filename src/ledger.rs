//! The real chain code: hashes, keys and addresses, transactions, blocks,
//! Merkle trees, proof of work, the UTXO set, validation, the block tree with
//! most-work fork choice, and a header-only light client.
//!
//! This module knows nothing of time, networks or randomness of its own: a
//! student can build, sign, mine and validate a block with it alone, and every
//! simulated node runs exactly this code.

pub mod address;
pub mod amount;
pub mod block;
pub mod block_index;
pub mod chainstate;
pub mod encode;
pub mod hash;
pub mod keys;
pub mod merkle;
pub mod nonce;
pub mod params;
pub mod pow;
pub mod script;
pub mod sighash;
pub mod spv;
pub mod tx;
pub mod utxo;
pub mod validate;

pub use address::Address;
pub use amount::Amount;
pub use block::{Block, Header};
pub use encode::{Decodable, DecodeError, Encodable};
pub use hash::{BlockHash, MerkleNode, Txid};
pub use keys::{PrivateKey, PublicKey};
pub use params::Params;
pub use pow::{CompactTarget, Target, Work};
pub use script::ScriptBuf;
pub use tx::{OutPoint, Transaction, TxIn, TxOut};
