//! Proof of work: compact targets, targets, chain work, the proof-of-work
//! check and difficulty retargeting.
//!
//! Three types say what a number means (after rust-bitcoin `units/src/pow.rs`):
//!
//! - [`CompactTarget`]: the 32-bit `nBits` field of a header, a tiny floating
//!   point number `mantissa * 256^(exponent - 3)` with a sign bit Bitcoin never
//!   allows to be set;
//! - [`Target`]: the 256-bit number a header hash, read as a little-endian
//!   integer, must not exceed;
//! - [`Work`]: the expected number of hashes to meet a target,
//!   `2^256 / (target + 1)`; the chain with the most summed work wins.
//!
//! Conversions follow Bitcoin Core's `arith_uint256::SetCompact` and
//! `GetCompact` bit for bit, including their edge cases (negative and
//! overflowing encodings are errors, not silently clamped), so real headers
//! decode to their real targets. [`retarget`] is Core's
//! `CalculateNextWorkRequired`. Searching a header's nonce is
//! [`crate::ledger::nonce`]'s job: this module knows numbers, not headers,
//! so `block` (whose headers carry a [`CompactTarget`]) imports it and not
//! the other way round.

use std::fmt;
use std::str::FromStr;

use primitive_types::{U256, U512};

use super::hash::BlockHash;

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

impl fmt::Display for CompactTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#010x}", self.0)
    }
}

impl fmt::LowerHex for CompactTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerHex::fmt(&self.0, f)
    }
}

/// A 256-bit target: a header is valid if its hash, read as a little-endian
/// 256-bit number, is at most the target.
///
/// Displays as 64 big-endian hex digits, the way Bitcoin Core prints targets
/// (`00000000ffff0000…` for difficulty 1).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Target(pub U256);

/// Expected number of hashes to find a block, summed along a chain:
/// `2^256 / (target + 1)` per block (Bitcoin Core `GetBlockProof`).
///
/// Displays in decimal (`{:x}` gives hex); serializes as 64 hex digits like
/// Core's `chainwork`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Work(pub U256);

/// The sign bit of a compact encoding.
const COMPACT_SIGN_BIT: u32 = 0x0080_0000;

/// Decodes like Core's `arith_uint256::SetCompact`: returns the value with
/// the sign bit dropped and bits above 256 shifted out, plus the
/// `(negative, overflow)` flags.
fn set_compact(bits: u32) -> (U256, bool, bool) {
    let size = bits >> 24;
    let mut word = bits & 0x007f_ffff;
    let value = if size <= 3 {
        word >>= 8 * (3 - size);
        U256::from(word)
    } else {
        let shift = 8 * (size - 3);
        if shift >= 256 {
            U256::zero()
        } else {
            U256::from(word) << shift
        }
    };
    let negative = word != 0 && bits & COMPACT_SIGN_BIT != 0;
    let overflow =
        word != 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
    (value, negative, overflow)
}

/// Encodes like Core's `arith_uint256::GetCompact(false)`.
fn get_compact(value: U256) -> u32 {
    let mut size = value.bits().div_ceil(8) as u32;
    let mut compact = if size <= 3 {
        (value.low_u64() << (8 * (3 - size))) as u32
    } else {
        (value >> (8 * (size - 3))).low_u64() as u32
    };
    // The 0x00800000 bit is the sign: if the mantissa would set it, move one
    // byte into the exponent so the encoding stays positive.
    if compact & COMPACT_SIGN_BIT != 0 {
        compact >>= 8;
        size += 1;
    }
    compact | (size << 24)
}

/// `value` as the nearest-ish `f64` (truncates below the top 64 bits).
fn u256_to_f64(value: U256) -> f64 {
    let bits = value.bits();
    if bits <= 64 {
        return value.low_u64() as f64;
    }
    let shift = bits - 64;
    (value >> shift).low_u64() as f64 * 2f64.powi(shift as i32)
}

impl Target {
    /// The easiest possible target (all ones): every hash meets it.
    pub const MAX: Target = Target(U256::MAX);

    /// The hardest possible target: only the all-zero hash meets it.
    pub const ZERO: Target = Target(U256::zero());

    /// Decodes a compact target (Core `SetCompact`); `Err` for negative or
    /// overflowing encodings. A zero mantissa decodes to zero, whatever the
    /// exponent or sign bit.
    pub fn from_compact(bits: CompactTarget) -> Result<Target, PowError> {
        let raw = bits.to_consensus();
        let (value, negative, overflow) = set_compact(raw);
        if negative {
            return Err(PowError::Negative(raw));
        }
        if overflow {
            return Err(PowError::Overflow(raw));
        }
        Ok(Target(value))
    }

    /// Encodes to compact form, losing precision below the top 3 bytes
    /// (Core `GetCompact`). Never sets the sign bit: a mantissa that would
    /// moves one byte into the exponent instead.
    pub fn to_compact_lossy(self) -> CompactTarget {
        CompactTarget::from_consensus(get_compact(self.0))
    }

    /// The work a block at this target proves: `2^256 / (target + 1)`,
    /// computed as `~target / (target + 1) + 1` (Core `GetBlockProof`) so it
    /// fits in 256 bits. Like Core, a zero target proves zero work (its true
    /// work, `2^256`, does not fit); [`Target::MAX`] proves work 1.
    pub fn to_work(self) -> Work {
        if self.0.is_zero() {
            return Work(U256::zero());
        }
        if self.0 == U256::MAX {
            return Work(U256::one());
        }
        Work((!self.0 / (self.0 + U256::one())) + U256::one())
    }

    /// The expected number of hashes to meet this target (same as
    /// [`Target::to_work`]).
    pub fn expected_hashes(self) -> Work {
        self.to_work()
    }

    /// Whether `hash` (internal byte order, read little-endian) is ≤ the target.
    pub fn is_met_by(&self, hash: &[u8; 32]) -> bool {
        U256::from_little_endian(hash) <= self.0
    }

    /// A target such that a hash has roughly `1 / 2^bits` chance to meet it:
    /// `2^(256 - bits) - 1` ("difficulty bits" for teaching scenarios).
    /// `0` gives [`Target::MAX`]; `256` and above give [`Target::ZERO`].
    pub fn from_leading_zero_bits(bits: u32) -> Target {
        if bits >= 256 {
            return Target::ZERO;
        }
        Target(U256::MAX >> bits)
    }

    /// Difficulty relative to `max` (Bitcoin's difficulty-1 target), lossy:
    /// `max / self` as a float. Infinite for a zero target.
    pub fn difficulty_lossy(&self, max: Target) -> f64 {
        u256_to_f64(max.0) / u256_to_f64(self.0)
    }

    /// The 64 big-endian hex digits (Core's `GetHex`).
    pub fn to_be_hex(&self) -> String {
        let mut bytes = [0u8; 32];
        self.0.to_big_endian(&mut bytes);
        hex::encode(bytes)
    }

    /// Parses big-endian hex (at most 64 digits, no prefix).
    pub fn from_be_hex(s: &str) -> Result<Target, PowError> {
        parse_be_hex(s).map(Target)
    }
}

fn parse_be_hex(s: &str) -> Result<U256, PowError> {
    if s.is_empty() || s.len() > 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(PowError::InvalidHex(s.to_string()));
    }
    let padded = format!("{s:0>64}");
    let bytes = hex::decode(padded).map_err(|_| PowError::InvalidHex(s.to_string()))?;
    Ok(U256::from_big_endian(&bytes))
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_be_hex())
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Target({})", self.to_be_hex())
    }
}

impl FromStr for Target {
    type Err = PowError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Target::from_be_hex(s)
    }
}

impl serde::Serialize for Target {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Target {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Work {
    /// No work.
    pub const ZERO: Work = Work(U256::zero());

    /// Expected hashes as a float (lossy), for timing models and display.
    pub fn to_f64_lossy(self) -> f64 {
        u256_to_f64(self.0)
    }

    /// Expected hashes as a float (same as [`Work::to_f64_lossy`]).
    pub fn expected_hashes_f64(self) -> f64 {
        self.to_f64_lossy()
    }

    /// `self + other`, saturating.
    pub fn saturating_add(self, other: Work) -> Work {
        Work(self.0.saturating_add(other.0))
    }

    /// `self + other`, or `None` on overflow.
    pub fn checked_add(self, other: Work) -> Option<Work> {
        self.0.checked_add(other.0).map(Work)
    }

    /// `self - other`, or `None` if `other` is larger.
    pub fn checked_sub(self, other: Work) -> Option<Work> {
        self.0.checked_sub(other.0).map(Work)
    }

    /// The 64 big-endian hex digits (Core's `chainwork` format).
    pub fn to_be_hex(&self) -> String {
        let mut bytes = [0u8; 32];
        self.0.to_big_endian(&mut bytes);
        hex::encode(bytes)
    }
}

impl fmt::Display for Work {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::LowerHex for Work {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerHex::fmt(&self.0, f)
    }
}

impl serde::Serialize for Work {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_be_hex())
    }
}

impl<'de> serde::Deserialize<'de> for Work {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_be_hex(&s).map(Work).map_err(serde::de::Error::custom)
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
    /// The compact encoding decodes to zero, which no real hash can meet.
    #[error("compact target {0:#010x} is zero")]
    Zero(u32),
    /// The target is easier than the network's proof-of-work limit.
    #[error("compact target {0:#010x} is above the proof-of-work limit")]
    AboveLimit(u32),
    /// The hash does not meet the target.
    #[error("block hash {hash} does not meet target {target}")]
    HighHash {
        /// The header's hash.
        hash: BlockHash,
        /// The target it had to meet.
        target: Target,
    },
    /// A string is not big-endian hex of at most 64 digits.
    #[error("not a 256-bit big-endian hex number: {0:?}")]
    InvalidHex(String),
}

/// Bitcoin Core's `CheckProofOfWork`: `bits` must decode to a positive,
/// non-overflowing, non-zero target no easier than `pow_limit`, and `hash`
/// must meet it.
pub fn check_proof_of_work(
    hash: &BlockHash,
    bits: CompactTarget,
    pow_limit: Target,
) -> Result<(), PowError> {
    let target = Target::from_compact(bits)?;
    if target.0.is_zero() {
        return Err(PowError::Zero(bits.to_consensus()));
    }
    if target > pow_limit {
        return Err(PowError::AboveLimit(bits.to_consensus()));
    }
    if !target.is_met_by(hash.as_bytes()) {
        return Err(PowError::HighHash {
            hash: *hash,
            target,
        });
    }
    Ok(())
}

/// Bitcoin's retarget rule (`CalculateNextWorkRequired`): scales the old
/// target by `actual_timespan / target_timespan`, the actual timespan
/// clamped to `[target/4, target*4]`, and caps at `pow_limit`.
///
/// Matches Bitcoin Core's `src/pow.cpp` step for step: decode `old_bits`
/// with `SetCompact` (a negative encoding contributes its magnitude, as in
/// Core), clamp, `new = old * actual / target_timespan` in integers, cap, then
/// `GetCompact`. Two deliberate differences, both only where Core would
/// produce nonsense and its own networks never go: the product is computed in
/// 512 bits (Core's 256-bit `arith_uint256` would wrap for targets within 2
/// bits of `2^256`, which a teaching `pow_limit` such as [`Target::MAX`]
/// allows), and the lower clamp is at least one second (for target timespans
/// under 4 s Core's clamp is 0, which yields a zero target). A non-positive
/// `target_timespan_secs` is treated as one second.
pub fn retarget(
    old_bits: CompactTarget,
    actual_timespan_secs: i64,
    target_timespan_secs: i64,
    pow_limit: Target,
) -> CompactTarget {
    let target_timespan = target_timespan_secs.max(1);
    let min = (target_timespan / 4).max(1);
    let max = target_timespan.saturating_mul(4);
    let actual = actual_timespan_secs.clamp(min, max);

    let (old, _negative, _overflow) = set_compact(old_bits.to_consensus());
    let product: U512 = old.full_mul(U256::from(actual as u64));
    let scaled = product / U512::from(target_timespan as u64);
    let new = U256::try_from(scaled).unwrap_or(U256::MAX).min(pow_limit.0);
    Target(new).to_compact_lossy()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex_u256(s: &str) -> U256 {
        Target::from_be_hex(s).unwrap().0
    }

    /// Bitcoin Core `src/test/arith_uint256_tests.cpp`, test case `bignum_SetCompact`:
    /// `(nCompact, GetHex after SetCompact, GetCompact, fNegative)`. The
    /// negative rows re-encode with `GetCompact(true)` in Core; we only check
    /// that decoding reports them.
    #[test]
    fn core_set_compact_vectors() {
        let rows: &[(u32, &str, u32, bool)] = &[
            (0x00000000, "0", 0, false),
            (0x00123456, "0", 0, false),
            (0x01003456, "0", 0, false),
            (0x02000056, "0", 0, false),
            (0x03000000, "0", 0, false),
            (0x04000000, "0", 0, false),
            (0x00923456, "0", 0, false),
            (0x01803456, "0", 0, false),
            (0x02800056, "0", 0, false),
            (0x03800000, "0", 0, false),
            (0x04800000, "0", 0, false),
            (0x01123456, "12", 0x01120000, false),
            (0x01fedcba, "7e", 0, true),
            (0x02123456, "1234", 0x02123400, false),
            (0x03123456, "123456", 0x03123456, false),
            (0x04123456, "12345600", 0x04123456, false),
            (0x04923456, "12345600", 0, true),
            (0x05009234, "92340000", 0x05009234, false),
            (
                0x20123456,
                "1234560000000000000000000000000000000000000000000000000000000000",
                0x20123456,
                false,
            ),
        ];
        for &(bits, hex, compact, negative) in rows {
            let (value, neg, overflow) = set_compact(bits);
            assert_eq!(value, hex_u256(hex), "{bits:#010x}");
            assert_eq!(neg, negative, "{bits:#010x}");
            assert!(!overflow, "{bits:#010x}");
            let decoded = Target::from_compact(CompactTarget::from_consensus(bits));
            if negative {
                assert_eq!(decoded, Err(PowError::Negative(bits)));
            } else {
                let t = decoded.unwrap();
                assert_eq!(t.0, hex_u256(hex));
                assert_eq!(t.to_compact_lossy().to_consensus(), compact, "{bits:#010x}");
            }
        }
        // 0xff123456: overflow, not negative.
        assert!(!set_compact(0xff123456).1);
        assert_eq!(
            Target::from_compact(CompactTarget::from_consensus(0xff123456)),
            Err(PowError::Overflow(0xff123456))
        );
        // "Make sure that we don't generate compacts with the 0x00800000 bit set".
        assert_eq!(
            Target(U256::from(0x80)).to_compact_lossy().to_consensus(),
            0x02008000
        );
    }

    #[test]
    fn overflow_boundaries() {
        // Core's rule: overflow if size > 34, or size > 33 with a 2-byte
        // mantissa, or size > 32 with a 3-byte mantissa.
        let ok = [0x22000001u32, 0x210000ff, 0x2100ffff, 0x207fffff];
        for bits in ok {
            assert!(
                Target::from_compact(CompactTarget::from_consensus(bits)).is_ok(),
                "{bits:#x}"
            );
        }
        for bits in [0x23000001u32, 0x22000100, 0x21010000] {
            assert_eq!(
                Target::from_compact(CompactTarget::from_consensus(bits)),
                Err(PowError::Overflow(bits))
            );
        }
        // A zero mantissa never overflows.
        assert_eq!(
            Target::from_compact(CompactTarget::from_consensus(0xff000000)),
            Ok(Target::ZERO)
        );
    }

    #[test]
    fn mainnet_pow_limit_and_genesis_work() {
        let limit = Target::from_compact(CompactTarget::from_consensus(0x1d00ffff)).unwrap();
        assert_eq!(
            limit.to_string(),
            "00000000ffff0000000000000000000000000000000000000000000000000000"
        );
        assert_eq!(limit.to_compact_lossy().to_consensus(), 0x1d00ffff);
        // Chain work of the genesis block: getblockheader's chainwork
        // 0000000000000000000000000000000000000000000000000000000100010001.
        assert_eq!(limit.to_work().0, U256::from(0x1_0001_0001u64));
        assert_eq!(limit.to_work().to_string(), "4295032833");
        assert_eq!(format!("{:x}", limit.to_work()), "100010001");
        assert_eq!(limit.difficulty_lossy(limit), 1.0);
    }

    #[test]
    fn difficulty_of_block_100000() {
        // Block 100000 (bits 453281356 = 0x1b04864c): getblockheader reports
        // difficulty 14484.162361225399.
        let limit = Target::from_compact(CompactTarget::from_consensus(0x1d00ffff)).unwrap();
        let t = Target::from_compact(CompactTarget::from_consensus(0x1b04864c)).unwrap();
        let d = t.difficulty_lossy(limit);
        assert!((d - 14484.162361225399).abs() < 1e-9, "{d}");
    }

    #[test]
    fn work_matches_exact_division() {
        for bits in [1u32, 8, 16, 24, 32, 100, 200, 255] {
            let t = Target::from_leading_zero_bits(bits);
            // 2^256 / 2^(256-bits) = 2^bits exactly.
            assert_eq!(t.to_work().0, U256::one() << bits, "bits {bits}");
            assert!((t.to_work().to_f64_lossy() - 2f64.powi(bits as i32)).abs() < 1e-6);
        }
        assert_eq!(Target::MAX.to_work(), Work(U256::one()));
        assert_eq!(Target::ZERO.to_work(), Work::ZERO);
        assert_eq!(Target::from_leading_zero_bits(0), Target::MAX);
        assert_eq!(Target::from_leading_zero_bits(256), Target::ZERO);
        // A target of 2 (three winning hashes out of 2^256): floor(2^256/3).
        let w = Target(U256::from(2)).to_work().0;
        assert_eq!(w, U256::MAX / U256::from(3));
    }

    #[test]
    fn is_met_by_reads_little_endian() {
        let t = Target::from_leading_zero_bits(8);
        let mut h = [0xffu8; 32];
        assert!(!t.is_met_by(&h));
        h[31] = 0x00;
        assert!(t.is_met_by(&h));
        h[31] = 0x01;
        assert!(!t.is_met_by(&h));
        assert!(Target::MAX.is_met_by(&[0xff; 32]));
        assert!(Target::ZERO.is_met_by(&[0; 32]));
    }

    #[test]
    fn hex_and_serde_round_trip() {
        let t = Target::from_leading_zero_bits(20);
        assert_eq!(t.to_be_hex().len(), 64);
        assert_eq!(t.to_string().parse::<Target>().unwrap(), t);
        assert_eq!(Target::from_be_hex("ff").unwrap().0, U256::from(255));
        assert!(Target::from_be_hex("").is_err());
        assert!(Target::from_be_hex("xyz").is_err());
        assert!(Target::from_be_hex(&"1".repeat(65)).is_err());
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<Target>(&json).unwrap(), t);
        let w = t.to_work();
        let json = serde_json::to_string(&w).unwrap();
        assert_eq!(json, format!("\"{}\"", w.to_be_hex()));
        assert_eq!(serde_json::from_str::<Work>(&json).unwrap(), w);
        assert_eq!(
            CompactTarget::from_consensus(0x1d00ffff).to_string(),
            "0x1d00ffff"
        );
    }

    /// Bitcoin Core `src/test/pow_tests.cpp` (mainnet, 2016 blocks of 600 s).
    #[test]
    fn core_retarget_vectors() {
        let limit = Target::from_compact(CompactTarget::from_consensus(0x1d00ffff)).unwrap();
        let span = 14 * 24 * 60 * 60;
        let cases = [
            // get_next_work: blocks #30240..#32255.
            (
                "get_next_work",
                0x1d00ffff,
                1262152739 - 1261130161,
                0x1d00d86a,
            ),
            // get_next_work_pow_limit: blocks #0..#2015, capped at the limit.
            (
                "get_next_work_pow_limit",
                0x1d00ffff,
                1233061996 - 1231006505,
                0x1d00ffff,
            ),
            // get_next_work_lower_limit_actual: clamped to span / 4.
            (
                "lower_limit_actual",
                0x1c05a3f4,
                1279297671 - 1279008237,
                0x1c0168fd,
            ),
            // get_next_work_upper_limit_actual: clamped to span * 4.
            (
                "upper_limit_actual",
                0x1c387f6f,
                1269211443 - 1263163443,
                0x1d00e1fd,
            ),
        ];
        for (name, old, actual, want) in cases {
            let got = retarget(CompactTarget::from_consensus(old), actual, span, limit);
            assert_eq!(got.to_consensus(), want, "{name}: got {got}");
        }
    }

    #[test]
    fn retarget_near_max_does_not_wrap() {
        // 4x an almost-maximal target would wrap in 256 bits; it must cap.
        let easy = Target::from_leading_zero_bits(1);
        let got = retarget(easy.to_compact_lossy(), 4000, 1000, Target::MAX);
        assert!(Target::from_compact(got).unwrap() >= easy);
        // Equal timespans keep the target; non-positive spans never panic.
        let bits = Target::from_leading_zero_bits(16).to_compact_lossy();
        assert_eq!(retarget(bits, 600, 600, Target::MAX), bits);
        let _ = retarget(bits, -5, 0, Target::MAX);
        let _ = retarget(bits, i64::MAX, i64::MAX, Target::MAX);
    }

    #[test]
    fn check_proof_of_work_rules() {
        let bits = Target::from_leading_zero_bits(8).to_compact_lossy();
        let limit = Target::from_compact(bits).unwrap();
        // A hash equal to the target meets it.
        let mut good = [0u8; 32];
        limit.0.to_little_endian(&mut good);
        let good = BlockHash(good);
        assert_eq!(check_proof_of_work(&good, bits, limit), Ok(()));
        assert!(matches!(
            check_proof_of_work(&BlockHash([0xff; 32]), bits, limit),
            Err(PowError::HighHash { .. })
        ));
        let easier = Target::from_leading_zero_bits(4).to_compact_lossy();
        assert_eq!(
            check_proof_of_work(&good, easier, limit),
            Err(PowError::AboveLimit(easier.to_consensus()))
        );
        assert_eq!(
            check_proof_of_work(&good, CompactTarget::from_consensus(0), limit),
            Err(PowError::Zero(0))
        );
        assert_eq!(
            check_proof_of_work(&good, CompactTarget::from_consensus(0x04923456), limit),
            Err(PowError::Negative(0x04923456))
        );
    }

    proptest! {
        #[test]
        fn compact_round_trip_is_stable(bits in any::<u32>()) {
            if let Ok(t) = Target::from_compact(CompactTarget::from_consensus(bits)) {
                let c = t.to_compact_lossy();
                // Re-encoding is canonical: decode(encode(t)) == t for values
                // already at compact precision, and the sign bit is never set.
                prop_assert_eq!(c.to_consensus() & COMPACT_SIGN_BIT, 0);
                prop_assert_eq!(Target::from_compact(c), Ok(t));
            }
        }

        #[test]
        fn to_compact_lossy_rounds_down(limbs in any::<[u64; 4]>()) {
            let t = Target(U256(limbs));
            let back = Target::from_compact(t.to_compact_lossy()).unwrap();
            prop_assert!(back <= t);
            // Only bits below the top 3 bytes of mantissa are lost.
            prop_assert!(t.0 - back.0 < (U256::one() << t.0.bits().saturating_sub(16)).max(U256::one()));
        }
    }
}
