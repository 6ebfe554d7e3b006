//! Base58Check P2PKH addresses.
//!
//! A pay-to-public-key-hash address is `Base58Check(version ‖ hash160(pubkey))`
//! with version `0x00` on mainnet, so it always starts with `1`. It is just a
//! human-friendly spelling of the locking script
//! `OP_DUP OP_HASH160 <hash> OP_EQUALVERIFY OP_CHECKSIG`
//! ([`Address::script_pubkey`], [`Address::from_script`]).
//!
//! # Invariants
//! An [`Address`] only ever holds a known version ([`P2PKH_VERSION`]) when
//! parsed from a string; constructors never fail. Serde uses the string form.

use std::fmt;
use std::str::FromStr;

use super::keys::PublicKey;
use super::script::ScriptBuf;

/// Version byte of a mainnet P2PKH address.
pub const P2PKH_VERSION: u8 = 0x00;

/// Error parsing an address string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// The string contains a character outside the Base58 alphabet.
    #[error("invalid base58 character {character:?} at position {index}")]
    InvalidBase58 {
        /// The offending character.
        character: char,
        /// Its byte offset in the input.
        index: usize,
    },
    /// The Base58Check checksum does not match (a typo in the address).
    #[error("bad checksum (mistyped address?)")]
    BadChecksum,
    /// The payload is not 21 bytes (version + 20-byte hash).
    #[error("wrong length: {0} bytes (expected 21)")]
    WrongLength(usize),
    /// The version byte is not a P2PKH address version forklab knows.
    #[error("unknown address version {0:#04x} (only mainnet P2PKH 0x00 is supported)")]
    UnknownVersion(u8),
}

/// A P2PKH address: version byte and the hash160 of a public key.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Address {
    /// Version byte (0x00 mainnet P2PKH).
    pub version: u8,
    /// hash160 of the public key.
    pub pubkey_hash: [u8; 20],
}

impl Address {
    /// The mainnet P2PKH address of `pubkey` (in its own serialization form).
    pub fn p2pkh(pubkey: &PublicKey) -> Address {
        Self::from_pubkey_hash(pubkey.pubkey_hash())
    }

    /// The mainnet P2PKH address locking to `pubkey_hash`.
    pub fn from_pubkey_hash(pubkey_hash: [u8; 20]) -> Address {
        Address {
            version: P2PKH_VERSION,
            pubkey_hash,
        }
    }

    /// The locking script `OP_DUP OP_HASH160 <hash> OP_EQUALVERIFY OP_CHECKSIG`.
    pub fn script_pubkey(&self) -> ScriptBuf {
        ScriptBuf::new_p2pkh(&self.pubkey_hash)
    }

    /// The address a locking script pays to, if it is exactly P2PKH.
    pub fn from_script(script: &ScriptBuf) -> Option<Address> {
        script.p2pkh_hash().map(Self::from_pubkey_hash)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut payload = [0u8; 21];
        payload[0] = self.version;
        payload[1..].copy_from_slice(&self.pubkey_hash);
        f.write_str(&bs58::encode(payload).with_check().into_string())
    }
}

impl FromStr for Address {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let payload = bs58::decode(s)
            .with_check(None)
            .into_vec()
            .map_err(|e| match e {
                bs58::decode::Error::InvalidCharacter { character, index } => {
                    AddressError::InvalidBase58 { character, index }
                }
                bs58::decode::Error::NonAsciiCharacter { index } => AddressError::InvalidBase58 {
                    character: s.get(index..).and_then(|s| s.chars().next()).unwrap_or('?'),
                    index,
                },
                bs58::decode::Error::InvalidChecksum { .. } => AddressError::BadChecksum,
                // Fewer than 4 bytes: not even room for a checksum.
                _ => AddressError::WrongLength(0),
            })?;
        if payload.len() != 21 {
            return Err(AddressError::WrongLength(payload.len()));
        }
        if payload[0] != P2PKH_VERSION {
            return Err(AddressError::UnknownVersion(payload[0]));
        }
        let mut pubkey_hash = [0u8; 20];
        pubkey_hash.copy_from_slice(&payload[1..]);
        Ok(Address {
            version: payload[0],
            pubkey_hash,
        })
    }
}

impl serde::Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::keys::PrivateKey;

    fn key_one(compressed: bool) -> PrivateKey {
        let mut secret = [0u8; 32];
        secret[31] = 1;
        PrivateKey::from_slice(&secret, compressed).unwrap()
    }

    #[test]
    fn secret_one_addresses() {
        // Secret key 1 → the well-known addresses of the generator point G
        // (bitcoin wiki "Technical background of version 1 Bitcoin addresses").
        let c = Address::p2pkh(&key_one(true).public_key());
        assert_eq!(c.to_string(), "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH");
        let u = Address::p2pkh(&key_one(false).public_key());
        assert_eq!(u.to_string(), "1EHNa6Q4Jz2uvNExL497mE43ikXhwF6kZm");
        assert_eq!(
            "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH".parse::<Address>(),
            Ok(c)
        );
        assert_eq!(
            hex::encode(c.pubkey_hash),
            "751e76e8199196d454941c45d1b3a323f1433bd6"
        );
    }

    #[test]
    fn script_round_trip() {
        let a: Address = "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH".parse().unwrap();
        let spk = a.script_pubkey();
        assert_eq!(
            hex::encode(spk.as_bytes()),
            "76a914751e76e8199196d454941c45d1b3a323f1433bd688ac"
        );
        assert_eq!(Address::from_script(&spk), Some(a));
        assert_eq!(Address::from_script(&ScriptBuf(vec![0x6a])), None);
    }

    #[test]
    fn parse_errors_are_typed() {
        assert_eq!(
            "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMJ".parse::<Address>(),
            Err(AddressError::BadChecksum)
        );
        assert!(matches!(
            "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAM0".parse::<Address>(),
            Err(AddressError::InvalidBase58 { character: '0', .. })
        ));
        // Valid Base58Check of a WIF: right checksum, wrong length.
        assert_eq!(
            "KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn".parse::<Address>(),
            Err(AddressError::WrongLength(34))
        );
        // A P2SH-style payload (version 0x05): valid Base58Check, not P2PKH.
        let mut p2sh = vec![0x05];
        p2sh.extend_from_slice(&[7u8; 20]);
        let p2sh = bs58::encode(p2sh).with_check().into_string();
        assert!(p2sh.starts_with('3'));
        assert_eq!(
            p2sh.parse::<Address>(),
            Err(AddressError::UnknownVersion(0x05))
        );
    }

    #[test]
    fn serde_as_string() {
        let a = Address::p2pkh(&key_one(true).public_key());
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, "\"1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH\"");
        assert_eq!(serde_json::from_str::<Address>(&json).unwrap(), a);
        assert!(serde_json::from_str::<Address>("\"1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMJ\"").is_err());
    }
}
