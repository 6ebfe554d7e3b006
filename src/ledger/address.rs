//! Base58Check P2PKH addresses.
//!
//! TODO(helper): implement.

/// A P2PKH address: version byte and the hash160 of a public key.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Address {
    /// Version byte (0x00 mainnet P2PKH).
    pub version: u8,
    /// hash160 of the public key.
    pub pubkey_hash: [u8; 20],
}
