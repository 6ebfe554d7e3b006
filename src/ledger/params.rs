//! Consensus parameters: the rules that differ between Bitcoin mainnet and a
//! simulated teaching network (subsidy schedule, retarget window and spacing,
//! proof-of-work limit, block size).

use super::amount::Amount;
use super::pow::{CompactTarget, Target};

/// Consensus parameters shared by every node of a network.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// The easiest allowed target (Bitcoin: `0x1d00ffff`).
    pub pow_limit: Target,
    /// Target seconds between blocks (Bitcoin: 600).
    pub pow_target_spacing_secs: u32,
    /// Blocks per difficulty adjustment (Bitcoin: 2016). `0` disables retargeting.
    pub retarget_window: u32,
    /// Subsidy of the first block (Bitcoin: 50 BTC).
    pub initial_subsidy: Amount,
    /// Blocks between subsidy halvings (Bitcoin: 210,000).
    pub halving_interval: u32,
    /// Maximum serialized block size in bytes (Bitcoin's legacy limit: 1,000,000).
    pub max_block_size: usize,
    /// How far a block's time may run ahead of a node's clock (Bitcoin: 7200 s).
    pub max_future_block_time_secs: u32,
    /// Confirmations before a coinbase output may be spent (Bitcoin: 100).
    pub coinbase_maturity: u32,
    /// Whether validation checks `hash <= target` (always true for real
    /// chains). A simulation that models proof-of-work timing instead of
    /// grinding nonces sets it to false and says so in its run manifest;
    /// `bits` are still checked against the retarget rule.
    pub check_pow: bool,
    /// First height whose coinbase must start with the block height (BIP34,
    /// Core's `BIP34Height`; Bitcoin: 227,931). `0` enforces it from the
    /// start, as forklab's simulated networks do.
    pub bip34_height: u32,
}

impl Params {
    /// Bitcoin mainnet's parameters.
    pub fn bitcoin() -> Params {
        Params {
            pow_limit: Target::from_compact(CompactTarget::from_consensus(0x1d00ffff))
                .expect("mainnet pow limit is a valid compact target"),
            pow_target_spacing_secs: 600,
            retarget_window: 2016,
            initial_subsidy: Amount::from_sat_unchecked(50 * Amount::SAT_PER_BTC),
            halving_interval: 210_000,
            max_block_size: 1_000_000,
            max_future_block_time_secs: 2 * 60 * 60,
            coinbase_maturity: 100,
            check_pow: true,
            bip34_height: 227_931,
        }
    }

    /// Seconds one retarget window should take (Bitcoin: 14 days).
    pub fn target_timespan_secs(&self) -> i64 {
        self.retarget_window as i64 * self.pow_target_spacing_secs as i64
    }

    /// The block subsidy at `height` (Bitcoin Core `GetBlockSubsidy`): halved
    /// every `halving_interval` blocks, zero after 64 halvings.
    pub fn block_subsidy(&self, height: u32) -> Amount {
        let halvings = height.checked_div(self.halving_interval).unwrap_or(0);
        if halvings >= 64 {
            return Amount::ZERO;
        }
        Amount::from_sat_unchecked(self.initial_subsidy.to_sat() >> halvings)
    }

    /// Whether a block at `height` must carry its height in the coinbase
    /// (BIP34 active: `height >= bip34_height`).
    pub fn enforces_bip34(&self, height: u32) -> bool {
        height >= self.bip34_height
    }

    /// Whether a retarget happens at `height` (the first block of a window).
    pub fn is_retarget_height(&self, height: u32) -> bool {
        self.retarget_window != 0 && height != 0 && height % self.retarget_window == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsidy_halves() {
        let p = Params::bitcoin();
        assert_eq!(p.block_subsidy(0).to_sat(), 5_000_000_000);
        assert_eq!(p.block_subsidy(209_999).to_sat(), 5_000_000_000);
        assert_eq!(p.block_subsidy(210_000).to_sat(), 2_500_000_000);
        assert_eq!(p.block_subsidy(840_000).to_sat(), 312_500_000);
        assert_eq!(p.block_subsidy(64 * 210_000).to_sat(), 0);
        assert_eq!(p.target_timespan_secs(), 14 * 24 * 3600);
    }

    #[test]
    fn bip34_activates_at_bitcoins_height() {
        // Source: Bitcoin Core `src/kernel/chainparams.cpp`, mainnet
        // `consensus.BIP34Height = 227931`.
        let p = Params::bitcoin();
        assert!(!p.enforces_bip34(227_930));
        assert!(p.enforces_bip34(227_931));
        let sim = Params {
            bip34_height: 0,
            ..p
        };
        assert!(sim.enforces_bip34(1));
    }
}
