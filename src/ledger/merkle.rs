//! Merkle trees over txids.
//!
//! TODO(helper): implement.

use super::hash::{MerkleNode, Txid};

/// Bitcoin's Merkle root of `txids` (last node duplicated on odd levels),
/// or `None` if empty.
pub fn merkle_root(_txids: &[Txid]) -> Option<MerkleNode> {
    todo!()
}
