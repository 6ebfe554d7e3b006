//! Proof of work: compact targets, targets, chain work, grinding and
//! difficulty retargeting.
//!
//! TODO(helper): implement; signatures are the contract other modules use.

use primitive_types::U256;

use super::block::Header;

/// The 32-bit compact encoding of a target (`nBits`), as stored in headers.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, serde::Serialize, serde::Deserialize,
)]
pub struct CompactTarget(u32);

impl CompactTarget {
    /// Wraps the raw consensus value.
    pub const fn from_consensus(bits: u32) -> Self {
        CompactTarget(bits)
    }

    /// The raw consensus value.
    pub const fn to_consensus(self) -> u32 {
        self.0
    }
}

/// A 256-bit target: a header is valid if its hash, read as a little-endian
/// 256-bit number, is at most the target.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Target(pub U256);

/// Expected number of hashes to find a block, summed along a chain:
/// `2^256 / (target + 1)` per block (Bitcoin Core `GetBlockProof`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Work(pub U256);

impl Target {
    /// Decodes a compact target; `Err` for negative or overflowing encodings.
    pub fn from_compact(_bits: CompactTarget) -> Result<Target, PowError> {
        todo!()
    }

    /// Encodes to compact form, losing precision below the top 3 bytes.
    pub fn to_compact_lossy(self) -> CompactTarget {
        todo!()
    }

    /// The work a block at this target proves.
    pub fn to_work(self) -> Work {
        todo!()
    }

    /// Whether `hash` (internal byte order, read little-endian) is ≤ the target.
    pub fn is_met_by(&self, _hash: &[u8; 32]) -> bool {
        todo!()
    }

    /// A target such that a hash has roughly `1 / 2^bits` chance to meet it:
    /// `2^(256 - bits) - 1` ("difficulty bits" for teaching scenarios).
    pub fn from_leading_zero_bits(_bits: u32) -> Target {
        todo!()
    }

    /// Difficulty relative to `max` (Bitcoin's difficulty-1 target), lossy.
    pub fn difficulty_lossy(&self, _max: Target) -> f64 {
        todo!()
    }
}

impl Work {
    /// Expected hashes as a float (lossy), for timing models and display.
    pub fn to_f64_lossy(self) -> f64 {
        todo!()
    }

    /// `self + other`, saturating.
    pub fn saturating_add(self, other: Work) -> Work {
        Work(self.0.saturating_add(other.0))
    }
}

/// Errors from proof-of-work operations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PowError {
    /// The compact encoding has its sign bit set with a non-zero mantissa.
    #[error("compact target {0:#010x} is negative")]
    Negative(u32),
    /// The compact encoding does not fit in 256 bits.
    #[error("compact target {0:#010x} overflows 256 bits")]
    Overflow(u32),
}

/// Grinds `header` until its hash meets `target`, trying at most
/// `max_tries` nonces; rolls `time` forward by one second each time the
/// 32-bit nonce space is exhausted. Returns the number of hashes tried, or
/// `None` if `max_tries` ran out.
pub fn grind(_header: &mut Header, _target: Target, _max_tries: u64) -> Option<u64> {
    todo!()
}

/// Bitcoin's retarget rule (`CalculateNextWorkRequired`): scales the old
/// target by `actual_timespan / target_timespan`, the actual timespan
/// clamped to `[target/4, target*4]`, and caps at `pow_limit`.
pub fn retarget(
    _old_bits: CompactTarget,
    _actual_timespan_secs: i64,
    _target_timespan_secs: i64,
    _pow_limit: Target,
) -> CompactTarget {
    todo!()
}
