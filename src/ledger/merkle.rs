//! Merkle trees over txids: roots, CVE-2012-2459 mutation detection and
//! inclusion proofs for light (SPV) clients.
//!
//! Bitcoin's tree: the leaves are the txids in block order (internal byte
//! order); each parent is `sha256d(left || right)`; a level with an odd number
//! of nodes pairs its last node with itself. So real blocks reproduce their
//! real Merkle roots (block 100000's is tested below).
//!
//! Duplicating the last node makes the tree ambiguous: `[a, b, c]` and
//! `[a, b, c, c]` have the same root (CVE-2012-2459). Bitcoin Core's
//! `ComputeMerkleRoot` therefore reports a block as *mutated* when two
//! identical nodes are paired at any level, and validation rejects it;
//! [`merkle_root_checked`] does the same.
//!
//! A [`MerkleProof`] shows that one txid is in a block knowing only its header:
//! the txid, its position, the block's transaction count and one sibling per
//! level. [`MerkleProof::steps`] lists every hash on the way to the root, for
//! checking a proof by hand.
//!
//! Invariants: every function here treats an empty list as having no root
//! (Core would return all zeros) and never panics on user input.

use sha2::{Digest, Sha256};

use super::hash::{MerkleNode, Txid};

/// `sha256d(left || right)`: the parent of two nodes.
pub fn merkle_parent(left: &MerkleNode, right: &MerkleNode) -> MerkleNode {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(left.as_bytes());
    buf[32..].copy_from_slice(right.as_bytes());
    MerkleNode(Sha256::digest(Sha256::digest(buf)).into())
}

/// Bitcoin's Merkle root of `txids` (last node duplicated on odd levels),
/// or `None` if empty.
///
/// This does not detect CVE-2012-2459 mutations; validation must use
/// [`merkle_root_checked`].
pub fn merkle_root(txids: &[Txid]) -> Option<MerkleNode> {
    merkle_root_checked(txids).0
}

/// The Merkle root and whether the tree is *mutated* (Bitcoin Core
/// `ComputeMerkleRoot(leaves, &mutated)`): two identical nodes were paired at
/// some level before odd-level duplication, so another transaction list
/// (with a repeated tail) has the same root. A block whose tree is mutated
/// must be rejected as invalid without marking its hash as permanently bad.
pub fn merkle_root_checked(txids: &[Txid]) -> (Option<MerkleNode>, bool) {
    match txids {
        [] => return (None, false),
        // One leaf is its own root, nothing paired (a coinbase-only block):
        // no level to allocate.
        [t] => return (Some(MerkleNode::from(*t)), false),
        _ => {}
    }
    let mut level: Vec<MerkleNode> = txids.iter().map(|t| MerkleNode::from(*t)).collect();
    let mut mutated = false;
    while level.len() > 1 {
        mutated |= level.chunks_exact(2).any(|pair| pair[0] == pair[1]);
        level = next_level(&level);
    }
    (Some(level[0]), mutated)
}

/// Parents of one level (the last node paired with itself if odd).
fn next_level(level: &[MerkleNode]) -> Vec<MerkleNode> {
    level
        .chunks(2)
        .map(|pair| merkle_parent(&pair[0], pair.get(1).unwrap_or(&pair[0])))
        .collect()
}

/// Every level of the tree, leaves first, root last (no duplicated nodes are
/// stored: an odd level's last node is paired with itself implicitly). Empty
/// for no txids. Meant for drawing trees when teaching.
pub fn merkle_levels(txids: &[Txid]) -> Vec<Vec<MerkleNode>> {
    if txids.is_empty() {
        return Vec::new();
    }
    let mut levels = vec![txids
        .iter()
        .map(|t| MerkleNode::from(*t))
        .collect::<Vec<_>>()];
    while levels.last().map_or(0, Vec::len) > 1 {
        let next = next_level(levels.last().expect("loop condition: a level exists"));
        levels.push(next);
    }
    levels
}

/// The number of levels above the leaves of a tree of `tx_count` leaves
/// (the number of siblings in a proof): `ceil(log2(tx_count))`.
pub fn merkle_depth(tx_count: u32) -> u32 {
    match tx_count {
        0 | 1 => 0,
        n => u32::BITS - (n - 1).leading_zeros(),
    }
}

/// Why a [`MerkleProof`] does not check out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MerkleError {
    /// The index is not below the transaction count.
    #[error("index {index} is out of range for {tx_count} transactions")]
    IndexOutOfRange {
        /// The proof's index.
        index: u32,
        /// The proof's transaction count.
        tx_count: u32,
    },
    /// The number of siblings does not match the tree depth for `tx_count`.
    #[error("expected {expected} siblings for {tx_count} transactions, got {got}")]
    WrongSiblingCount {
        /// `ceil(log2(tx_count))`.
        expected: u32,
        /// Siblings in the proof.
        got: usize,
        /// The proof's transaction count.
        tx_count: u32,
    },
    /// At `level` the node is the last of an odd level, so its sibling must
    /// be itself, or it is not, so its sibling must differ from it (identical
    /// real siblings mean a mutated tree).
    #[error("sibling at level {level} breaks the odd-level duplication rule")]
    BadDuplicate {
        /// Level of the offending sibling (0 = leaves).
        level: u32,
    },
    /// The proof leads to a different root.
    #[error("proof leads to root {computed}, expected {expected}")]
    RootMismatch {
        /// Root computed from the proof.
        computed: MerkleNode,
        /// Root it had to match.
        expected: MerkleNode,
    },
}

/// An inclusion proof: `txid` is leaf `index` of a tree of `tx_count` leaves
/// whose root is reached by hashing with `siblings`, leaves first.
///
/// Serializes with hashes as reversed hex, like Bitcoin Core's RPC.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MerkleProof {
    /// The transaction proven.
    pub txid: Txid,
    /// Its position in the block (0 = coinbase).
    pub index: u32,
    /// Number of transactions in the block.
    pub tx_count: u32,
    /// One sibling per level, from the leaves up.
    pub siblings: Vec<MerkleNode>,
}

/// One hash on the way from a leaf to the root (see [`MerkleProof::steps`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub struct MerkleStep {
    /// Level of the two children (0 = leaves).
    pub level: u32,
    /// Left child.
    pub left: MerkleNode,
    /// Right child.
    pub right: MerkleNode,
    /// `sha256d(left || right)`.
    pub parent: MerkleNode,
}

impl MerkleProof {
    /// Builds the proof for `txids[index]`. `None` if `index` is out of
    /// range, there are more than `u32::MAX` txids, or the tree is mutated
    /// (CVE-2012-2459: such a block is invalid, so nothing in it can be
    /// proven).
    pub fn build(txids: &[Txid], index: usize) -> Option<MerkleProof> {
        if index >= txids.len() {
            return None;
        }
        let tx_count = u32::try_from(txids.len()).ok()?;
        let levels = merkle_levels(txids);
        let mut siblings = Vec::with_capacity(levels.len().saturating_sub(1));
        let mut pos = index;
        for level in &levels[..levels.len() - 1] {
            if level.chunks_exact(2).any(|pair| pair[0] == pair[1]) {
                return None;
            }
            siblings.push(*level.get(pos ^ 1).unwrap_or(&level[pos]));
            pos >>= 1;
        }
        Some(MerkleProof {
            txid: txids[index],
            index: index as u32,
            tx_count,
            siblings,
        })
    }

    /// Every hash from the leaf to the root, in order. The last step's
    /// `parent` is the root; no steps for a one-transaction block (its txid
    /// is the root).
    pub fn steps(&self) -> Vec<MerkleStep> {
        let mut node = MerkleNode::from(self.txid);
        let mut pos = self.index;
        let mut steps = Vec::with_capacity(self.siblings.len());
        for (level, sibling) in self.siblings.iter().enumerate() {
            let (left, right) = if pos & 1 == 0 {
                (node, *sibling)
            } else {
                (*sibling, node)
            };
            node = merkle_parent(&left, &right);
            steps.push(MerkleStep {
                level: level as u32,
                left,
                right,
                parent: node,
            });
            pos >>= 1;
        }
        steps
    }

    /// The root this proof leads to (whether or not the proof is well formed).
    pub fn compute_root(&self) -> MerkleNode {
        self.steps()
            .last()
            .map_or(MerkleNode::from(self.txid), |s| s.parent)
    }

    /// Checks the proof against `root`, saying why it fails: the index must be
    /// below `tx_count`, there must be exactly `ceil(log2(tx_count))`
    /// siblings, a sibling must equal its node exactly when the node is the
    /// last of an odd level, and the hashes must lead to `root`.
    pub fn check(&self, root: &MerkleNode) -> Result<(), MerkleError> {
        if self.index >= self.tx_count {
            return Err(MerkleError::IndexOutOfRange {
                index: self.index,
                tx_count: self.tx_count,
            });
        }
        let expected = merkle_depth(self.tx_count);
        if self.siblings.len() != expected as usize {
            return Err(MerkleError::WrongSiblingCount {
                expected,
                got: self.siblings.len(),
                tx_count: self.tx_count,
            });
        }
        let mut node = MerkleNode::from(self.txid);
        let mut pos = self.index;
        let mut len = self.tx_count;
        for (level, sibling) in self.siblings.iter().enumerate() {
            let last_of_odd = pos & 1 == 0 && pos == len - 1;
            if (*sibling == node) != last_of_odd {
                return Err(MerkleError::BadDuplicate {
                    level: level as u32,
                });
            }
            node = if pos & 1 == 0 {
                merkle_parent(&node, sibling)
            } else {
                merkle_parent(sibling, &node)
            };
            pos >>= 1;
            len = len.div_ceil(2);
        }
        if node != *root {
            return Err(MerkleError::RootMismatch {
                computed: node,
                expected: *root,
            });
        }
        Ok(())
    }

    /// Whether the proof is well formed and leads to `root` (see
    /// [`MerkleProof::check`]).
    pub fn verify(&self, root: &MerkleNode) -> bool {
        self.check(root).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn txid(s: &str) -> Txid {
        s.parse().unwrap()
    }

    /// Block 100000 (000000000003ba27aa200b1cecaad478d2b00432346c3f1f3986da1afd33e506):
    /// its four txids and Merkle root, as listed by any block explorer
    /// (e.g. `bitcoin-cli getblock 000000000003ba27…`).
    fn block_100000() -> (Vec<Txid>, MerkleNode) {
        let txids = [
            "8c14f0db3df150123e6f3dbbf30f8b955a8249b62ac1d1ff16284aefa3d06d87",
            "fff2525b8931402dd09222c50775608f75787bd2b87e56995a7bdd30f79702c4",
            "6359f0868171b1d194cbee1af2f16ea598ae8fad666d9b012c8ed2b79a236ec4",
            "e9a66845e05d5abc0ad04ec80f774a7e585c6e8db975962d069a522137b80c1d",
        ]
        .map(txid)
        .to_vec();
        let root = "f3e94742aca4b5ef85488dc37c06c3282295ffec960994b2c0d5ac2a25a95766"
            .parse()
            .unwrap();
        (txids, root)
    }

    /// Distinct txids derived from a seed (never equal, so never mutated).
    fn txids_from(seed: u64, n: usize) -> Vec<Txid> {
        (0..n as u64)
            .map(|i| Txid::hash(&[seed.to_le_bytes(), i.to_le_bytes()].concat()))
            .collect()
    }

    #[test]
    fn block_100000_root() {
        let (txids, root) = block_100000();
        assert_eq!(merkle_root(&txids), Some(root));
        assert_eq!(merkle_root_checked(&txids), (Some(root), false));
        assert_eq!(merkle_levels(&txids).len(), 3);
        assert_eq!(merkle_levels(&txids)[2], vec![root]);
    }

    #[test]
    fn genesis_root_is_its_coinbase_txid() {
        // A one-transaction block's root is the txid itself (genesis:
        // 4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b).
        let t = txid("4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b");
        assert_eq!(merkle_root(&[t]), Some(MerkleNode::from(t)));
        assert_eq!(
            merkle_root_checked(&[t]),
            (Some(MerkleNode::from(t)), false)
        );
        assert_eq!(merkle_root(&[]), None);
        assert_eq!(merkle_root_checked(&[]), (None, false));
    }

    #[test]
    fn odd_levels_duplicate_the_last_node() {
        let t = txids_from(1, 3);
        let [a, b, c] = [t[0], t[1], t[2]].map(MerkleNode::from);
        let want = merkle_parent(&merkle_parent(&a, &b), &merkle_parent(&c, &c));
        assert_eq!(merkle_root(&t), Some(want));
    }

    #[test]
    fn cve_2012_2459_mutation_is_detected() {
        // [a, b, c] and [a, b, c, c] share a root; only the latter is mutated.
        let t = txids_from(2, 3);
        let mut dup = t.clone();
        dup.push(t[2]);
        let (root, mutated) = merkle_root_checked(&t);
        assert!(!mutated);
        assert_eq!(merkle_root_checked(&dup), (root, true));
        // Six leaves [a..f] and [a..f, e, f] (duplicate pair one level up).
        let t = txids_from(3, 6);
        let mut dup = t.clone();
        dup.extend_from_slice(&t[4..6]);
        let (root, mutated) = merkle_root_checked(&t);
        assert!(!mutated);
        assert_eq!(merkle_root_checked(&dup), (root, true));
        // Identical txids anywhere in a pair count, not only at the end.
        let mut t = txids_from(4, 4);
        t[1] = t[0];
        assert!(merkle_root_checked(&t).1);
        // …but not across pairs.
        let mut t = txids_from(5, 4);
        t[2] = t[1];
        assert!(!merkle_root_checked(&t).1);
        assert_eq!(MerkleProof::build(&dup, 0), None);
    }

    #[test]
    fn depth_is_ceil_log2() {
        let cases = [
            (0, 0),
            (1, 0),
            (2, 1),
            (3, 2),
            (4, 2),
            (5, 3),
            (8, 3),
            (9, 4),
        ];
        for (n, d) in cases {
            assert_eq!(merkle_depth(n), d, "{n}");
        }
        assert_eq!(merkle_depth(u32::MAX), 32);
    }

    #[test]
    fn block_100000_proof_step_by_step() {
        let (txids, root) = block_100000();
        let proof = MerkleProof::build(&txids, 2).unwrap();
        assert_eq!(proof.siblings.len(), 2);
        assert_eq!(proof.siblings[0], MerkleNode::from(txids[3]));
        let steps = proof.steps();
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0].left, MerkleNode::from(txids[2]));
        assert_eq!(steps[0].right, MerkleNode::from(txids[3]));
        assert_eq!(steps[1].right, steps[0].parent);
        assert_eq!(steps[1].parent, root);
        assert!(proof.verify(&root));
        assert_eq!(MerkleProof::build(&txids, 4), None);
        // JSON uses reversed hex, and round-trips.
        let json = serde_json::to_string(&proof).unwrap();
        assert!(json.contains("6359f0868171b1d194cbee1af2f16ea598ae8fad666d9b012c8ed2b79a236ec4"));
        assert_eq!(serde_json::from_str::<MerkleProof>(&json).unwrap(), proof);
    }

    #[test]
    fn malformed_proofs_say_why() {
        let t = txids_from(6, 5);
        let root = merkle_root(&t).unwrap();
        let proof = MerkleProof::build(&t, 4).unwrap();
        // Leaf 4 of 5 is the last of an odd level twice: it pairs with itself.
        assert_eq!(proof.siblings[0], MerkleNode::from(t[4]));
        assert_eq!(proof.check(&root), Ok(()));

        let mut p = proof.clone();
        p.index = 5;
        assert!(matches!(
            p.check(&root),
            Err(MerkleError::IndexOutOfRange { .. })
        ));
        let mut p = proof.clone();
        p.siblings.pop();
        assert!(matches!(
            p.check(&root),
            Err(MerkleError::WrongSiblingCount { .. })
        ));
        let mut p = proof.clone();
        p.tx_count = 8;
        assert!(matches!(
            p.check(&root),
            Err(MerkleError::BadDuplicate { level: 0 })
        ));
        let mut p = proof.clone();
        p.siblings[2] = MerkleNode::ZERO;
        assert!(matches!(
            p.check(&root),
            Err(MerkleError::RootMismatch { .. })
        ));

        // A single transaction: no siblings, the txid is the root.
        let one = MerkleProof::build(&t[..1], 0).unwrap();
        assert!(one.siblings.is_empty() && one.steps().is_empty());
        assert_eq!(one.compute_root(), MerkleNode::from(t[0]));
        assert!(one.verify(&MerkleNode::from(t[0])));
    }

    proptest! {
        #[test]
        fn proofs_verify_and_tampering_fails(
            seed in any::<u64>(),
            n in 1usize..64,
            pick in any::<prop::sample::Index>(),
            flip in any::<prop::sample::Index>(),
            new_index in any::<u32>(),
        ) {
            let t = txids_from(seed, n);
            let root = merkle_root(&t).unwrap();
            for i in 0..n {
                let proof = MerkleProof::build(&t, i).unwrap();
                prop_assert_eq!(proof.compute_root(), root);
                prop_assert!(proof.verify(&root));
                prop_assert_eq!(proof.steps().last().map_or(proof.txid.into(), |s| s.parent), root);
            }
            let i = pick.index(n);
            let proof = MerkleProof::build(&t, i).unwrap();

            let mut p = proof.clone();
            p.txid = Txid::hash(p.txid.as_bytes());
            prop_assert!(!p.verify(&root));

            if !proof.siblings.is_empty() {
                let mut p = proof.clone();
                let k = flip.index(p.siblings.len());
                p.siblings[k].0[0] ^= 1;
                prop_assert!(!p.verify(&root));
            }

            if new_index != proof.index {
                let mut p = proof.clone();
                p.index = new_index;
                prop_assert!(!p.verify(&root));
                // Also a nearby index that is still in range.
                let mut p = proof.clone();
                p.index = (proof.index + 1 + new_index % n as u32) % n as u32;
                prop_assert!(p.index == proof.index || !p.verify(&root));
            }
        }
    }
}
