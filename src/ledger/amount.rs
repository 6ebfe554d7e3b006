//! [`Amount`]: a quantity of satoshis with checked arithmetic.
//!
//! Amounts are never negative and never exceed [`Amount::MAX_MONEY`]
//! (21 million coins), Bitcoin Core's `MoneyRange` bound. Arithmetic that
//! would overflow or leave that range returns `None` instead of wrapping.

use std::fmt;

/// A non-negative number of satoshis, at most [`Amount::MAX_MONEY`].
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Amount(u64);

impl Amount {
    /// Zero satoshis.
    pub const ZERO: Amount = Amount(0);
    /// One bitcoin.
    pub const ONE_BTC: Amount = Amount(100_000_000);
    /// Satoshis per bitcoin.
    pub const SAT_PER_BTC: u64 = 100_000_000;
    /// The supply bound: 21,000,000 BTC (Bitcoin Core `MAX_MONEY`).
    pub const MAX_MONEY: Amount = Amount(21_000_000 * 100_000_000);

    /// An amount of `sats`, or `None` above [`Amount::MAX_MONEY`].
    pub const fn from_sat(sats: u64) -> Option<Amount> {
        if sats <= Self::MAX_MONEY.0 {
            Some(Amount(sats))
        } else {
            None
        }
    }

    /// An amount of `sats` that may exceed the supply bound: for decoding
    /// transactions whose validity is checked later.
    pub const fn from_sat_unchecked(sats: u64) -> Amount {
        Amount(sats)
    }

    /// The number of satoshis.
    pub const fn to_sat(self) -> u64 {
        self.0
    }

    /// Whether the amount is within `0..=MAX_MONEY` (Core's `MoneyRange`).
    pub const fn is_in_range(self) -> bool {
        self.0 <= Self::MAX_MONEY.0
    }

    /// `self + rhs`, or `None` on overflow or above the supply bound.
    pub fn checked_add(self, rhs: Amount) -> Option<Amount> {
        self.0.checked_add(rhs.0).and_then(Amount::from_sat)
    }

    /// `self - rhs`, or `None` if negative.
    pub fn checked_sub(self, rhs: Amount) -> Option<Amount> {
        self.0.checked_sub(rhs.0).map(Amount)
    }

    /// `self * n`, or `None` on overflow or above the supply bound.
    pub fn checked_mul(self, n: u64) -> Option<Amount> {
        self.0.checked_mul(n).and_then(Amount::from_sat)
    }

    /// Sums amounts, or `None` on overflow or above the supply bound.
    pub fn checked_sum<I: IntoIterator<Item = Amount>>(iter: I) -> Option<Amount> {
        iter.into_iter()
            .try_fold(Amount::ZERO, |a, b| a.checked_add(b))
    }

    /// The amount in bitcoin, for display and charts only (lossy).
    pub fn to_btc_lossy(self) -> f64 {
        self.0 as f64 / Self::SAT_PER_BTC as f64
    }
}

impl fmt::Display for Amount {
    /// Formats as `12.34500000 BTC`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:08} BTC",
            self.0 / Self::SAT_PER_BTC,
            self.0 % Self::SAT_PER_BTC
        )
    }
}

impl fmt::Debug for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} sat", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_and_checked_arithmetic() {
        assert!(Amount::from_sat(2_100_000_000_000_000).is_some());
        assert!(Amount::from_sat(2_100_000_000_000_001).is_none());
        assert_eq!(Amount::MAX_MONEY.checked_add(Amount(1)), None);
        assert_eq!(Amount(5).checked_sub(Amount(6)), None);
        assert_eq!(Amount(5).checked_sub(Amount(2)), Some(Amount(3)));
        assert_eq!(
            Amount::from_sat_unchecked(u64::MAX).checked_add(Amount(1)),
            None
        );
        assert_eq!(Amount::checked_sum([Amount(1), Amount(2)]), Some(Amount(3)));
        assert_eq!(Amount(150_000_000).to_string(), "1.50000000 BTC");
    }
}
