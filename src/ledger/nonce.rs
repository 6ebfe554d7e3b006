//! Grinding: the nonce search that makes a header meet its target, for
//! teaching difficulties (`pow.grind: true`) and crafted test blocks.
//!
//! Nothing here allocates in the hot path: [`grind`] hashes the 80-byte
//! header from a saved SHA-256 state after its first 64 bytes (which the
//! nonce and time never touch), two compressions per attempt instead of
//! three.
//!
//! It sits above [`crate::ledger::block`] (it hashes headers) and
//! [`crate::ledger::pow`] (it compares against a [`Target`]); neither
//! imports it.

use sha2::{Digest, Sha256};

use super::block::{Header, HEADER_SIZE};
use super::pow::Target;

/// Hashes one header after another that differ only in time and nonce.
///
/// The first 64 bytes (version, previous hash, most of the Merkle root) are
/// absorbed once into a SHA-256 state that is cloned per attempt (a copy of
/// about a hundred bytes, no allocation); each attempt then costs one
/// compression for the last 16 header bytes plus padding and one for the
/// outer SHA-256 of the 32-byte digest, instead of three in all.
struct HeaderHasher {
    midstate: Sha256,
    /// Header bytes 64..80: end of the Merkle root, time, bits, nonce.
    tail: [u8; 16],
}

impl HeaderHasher {
    fn new(bytes: &[u8; HEADER_SIZE]) -> Self {
        let mut midstate = Sha256::new();
        midstate.update(&bytes[..64]);
        let mut tail = [0u8; 16];
        tail.copy_from_slice(&bytes[64..]);
        HeaderHasher { midstate, tail }
    }

    /// Sets the time field (header bytes 68..72).
    fn set_time(&mut self, time: u32) {
        self.tail[4..8].copy_from_slice(&time.to_le_bytes());
    }

    /// Sets the nonce field (header bytes 76..80).
    fn set_nonce(&mut self, nonce: u32) {
        self.tail[12..16].copy_from_slice(&nonce.to_le_bytes());
    }

    /// `sha256d` of the current header, in internal byte order.
    fn hash(&self) -> [u8; 32] {
        let mut inner = self.midstate.clone();
        inner.update(self.tail);
        Sha256::digest(inner.finalize()).into()
    }
}

/// Whether `hash` read little-endian is ≤ `target_le` read little-endian,
/// comparing from the most significant byte.
fn le_bytes_le(hash: &[u8; 32], target_le: &[u8; 32]) -> bool {
    for i in (0..32).rev() {
        if hash[i] != target_le[i] {
            return hash[i] < target_le[i];
        }
    }
    true
}

/// Grinds `header` until its hash meets `target`, trying at most
/// `max_tries` nonces; rolls `time` forward by one second each time the
/// 32-bit nonce space is exhausted. Returns the number of hashes tried, or
/// `None` if `max_tries` ran out.
///
/// The search starts at the header's current `nonce` and `time`. On success
/// the header holds the winning nonce and time; on `None` it holds the next
/// untried pair, so calling again resumes where the search stopped. `None` is
/// also returned if `time` would pass `u32::MAX`.
///
/// Callers that must not move `time` (it may not run more than two hours
/// ahead of the network, nor fall to the median of the last 11 blocks) can
/// instead pass `max_tries = 2^32`, and on `None` rebuild the coinbase with a
/// new `extra_nonce` ([`Transaction::new_coinbase`]), recompute the Merkle
/// root and call again: that is what real miners do.
///
/// [`Transaction::new_coinbase`]: crate::ledger::tx::Transaction::new_coinbase
pub fn grind(header: &mut Header, target: Target, max_tries: u64) -> Option<u64> {
    let mut hasher = HeaderHasher::new(&header.to_bytes());
    let mut target_le = [0u8; 32];
    target.0.to_little_endian(&mut target_le);
    let mut tries = 0u64;
    while tries < max_tries {
        hasher.set_nonce(header.nonce);
        tries += 1;
        if le_bytes_le(&hasher.hash(), &target_le) {
            return Some(tries);
        }
        header.nonce = header.nonce.wrapping_add(1);
        if header.nonce == 0 {
            header.time = header.time.checked_add(1)?;
            hasher.set_time(header.time);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::hash::{BlockHash, MerkleNode};
    use primitive_types::U256;

    fn test_header() -> Header {
        Header {
            version: 1,
            prev_blockhash: BlockHash::ZERO,
            merkle_root: MerkleNode::hash(b"forklab"),
            time: 1_700_000_000,
            bits: Target::from_leading_zero_bits(12).to_compact_lossy(),
            nonce: 0,
        }
    }

    #[test]
    fn midstate_hash_equals_sha256d() {
        let mut h = test_header();
        let mut hasher = HeaderHasher::new(&h.to_bytes());
        for (nonce, time) in [(0u32, 5u32), (1, 5), (u32::MAX, 6), (123_456_789, u32::MAX)] {
            h.nonce = nonce;
            h.time = time;
            hasher.set_nonce(nonce);
            hasher.set_time(time);
            assert_eq!(hasher.hash(), h.block_hash().to_byte_array());
        }
    }

    #[test]
    fn grind_finds_a_valid_nonce() {
        let target = Target::from_leading_zero_bits(12);
        let mut h = test_header();
        let tries = grind(&mut h, target, 1 << 24).expect("12 bits within 2^24 tries");
        assert!(target.is_met_by(h.block_hash().as_bytes()));
        assert_eq!(u64::from(h.nonce) + 1, tries);
        // Grinding an already-valid header succeeds at once.
        assert_eq!(grind(&mut h, target, 1), Some(1));
        // Exhausting max_tries leaves the next untried nonce.
        let mut h = test_header();
        let hard = Target::from_leading_zero_bits(64);
        assert_eq!(grind(&mut h, hard, 1000), None);
        assert_eq!(h.nonce, 1000);
        assert_eq!(grind(&mut h, hard, 0), None);
        assert_eq!(h.nonce, 1000);
    }

    #[test]
    fn grind_rolls_time_when_nonce_wraps() {
        let mut h = test_header();
        h.nonce = u32::MAX - 1;
        let time = h.time;
        let hard = Target::from_leading_zero_bits(64);
        assert_eq!(grind(&mut h, hard, 3), None);
        assert_eq!((h.nonce, h.time), (1, time + 1));

        // After the roll the hashes are of the new time. Find a start time
        // where (nonce 0, time + 1) hashes lower than (nonce MAX, time); with
        // that hash as the target, grinding from (MAX, time) must stop at
        // exactly the second try.
        let mut start = test_header();
        start.nonce = u32::MAX;
        loop {
            let mut rolled = start;
            rolled.nonce = 0;
            rolled.time += 1;
            let before = U256::from_little_endian(start.block_hash().as_bytes());
            let after = U256::from_little_endian(rolled.block_hash().as_bytes());
            if after < before {
                let mut g = start;
                assert_eq!(grind(&mut g, Target(after), 10), Some(2));
                assert_eq!(g, rolled);
                break;
            }
            start.time += 2;
        }

        // Time cannot pass u32::MAX.
        let mut end = test_header();
        end.time = u32::MAX;
        end.nonce = u32::MAX;
        assert_eq!(grind(&mut end, hard, 10), None);
    }
}
