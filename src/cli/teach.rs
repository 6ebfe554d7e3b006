//! Teaching subcommands: `wallet`, `tx`, `header`.
//!
//! TODO(helper): implement.

use super::{CliError, CliResult};

/// `sim wallet new`.
pub fn wallet_new(_seed: Option<u64>, _uncompressed: bool) -> CliResult {
    Err(CliError::other("not yet implemented"))
}

/// `sim wallet show`.
pub fn wallet_show(_wif: &str) -> CliResult {
    Err(CliError::other("not yet implemented"))
}

/// `sim tx`.
pub fn tx(_hex: &str) -> CliResult {
    Err(CliError::other("not yet implemented"))
}

/// `sim header`.
pub fn header(_hex: &str) -> CliResult {
    Err(CliError::other("not yet implemented"))
}
