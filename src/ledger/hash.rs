//! Hash functions and hash newtypes.
//!
//! Bitcoin hashes almost everything twice with SHA-256 (`sha256d`) and hashes
//! public keys with RIPEMD-160 over SHA-256 (`hash160`). The 32-byte results
//! are stored in *internal* byte order (the order the hash function produced
//! them) and, like Bitcoin Core, displayed and parsed as *reversed* hex, so
//! the genesis block hash reads `000000000019d6…`.

use std::fmt;
use std::str::FromStr;

use ripemd::Ripemd160;
use sha2::{Digest, Sha256};

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Double SHA-256, Bitcoin's hash for headers, transactions and Merkle nodes.
pub fn sha256d(data: &[u8]) -> [u8; 32] {
    Sha256::digest(Sha256::digest(data)).into()
}

/// RIPEMD-160 of SHA-256: Bitcoin's hash of a public key.
pub fn hash160(data: &[u8]) -> [u8; 20] {
    Ripemd160::digest(Sha256::digest(data)).into()
}

/// Error parsing a hash from its reversed-hex form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashParseError {
    /// The string is not hexadecimal.
    #[error("not a hex string: {0}")]
    NotHex(String),
    /// The string decodes to the wrong number of bytes.
    #[error("expected 64 hex characters, got {0}")]
    WrongLength(usize),
}

macro_rules! hash_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
        pub struct $name(pub [u8; 32]);

        /// Feeds a hasher the first eight bytes only: the output of
        /// SHA-256 is uniformly distributed, so they separate keys as well
        /// as all 32 (equal values still hash equally), for a quarter of
        /// the work in the run loop's maps.
        impl std::hash::Hash for $name {
            #[inline]
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                let mut w = [0u8; 8];
                w.copy_from_slice(&self.0[..8]);
                state.write_u64(u64::from_le_bytes(w));
            }
        }

        impl $name {
            /// The all-zero hash.
            pub const ZERO: $name = $name([0u8; 32]);

            /// Wraps bytes in internal (hash function output) order.
            pub const fn from_byte_array(bytes: [u8; 32]) -> Self {
                $name(bytes)
            }

            /// The bytes in internal order.
            pub const fn to_byte_array(self) -> [u8; 32] {
                self.0
            }

            /// The bytes in internal order, borrowed.
            pub const fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// Hashes `data` with `sha256d`.
            pub fn hash(data: &[u8]) -> Self {
                $name(sha256d(data))
            }

            /// Short reversed-hex prefix (first 8 display characters) for logs and charts.
            pub fn short(&self) -> String {
                self.to_string()[..8].to_string()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                for b in self.0.iter().rev() {
                    write!(f, "{:02x}", b)?;
                }
                Ok(())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self)
            }
        }

        impl FromStr for $name {
            type Err = HashParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let mut bytes = hex::decode(s).map_err(|_| HashParseError::NotHex(s.to_string()))?;
                if bytes.len() != 32 {
                    return Err(HashParseError::WrongLength(s.len()));
                }
                bytes.reverse();
                let mut out = [0u8; 32];
                out.copy_from_slice(&bytes);
                Ok($name(out))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

hash_newtype!(
    /// Hash of an 80-byte block header (`sha256d`).
    BlockHash
);
hash_newtype!(
    /// Transaction id: `sha256d` of the legacy serialization.
    Txid
);
hash_newtype!(
    /// A node of a Merkle tree (leaves are txids).
    MerkleNode
);

impl BlockHash {
    /// The previous-block hash of a genesis block: all zeros.
    pub const GENESIS_PREV: BlockHash = BlockHash::ZERO;
}

impl From<Txid> for MerkleNode {
    fn from(t: Txid) -> Self {
        MerkleNode(t.0)
    }
}

/// A [`std::hash::Hasher`] for maps keyed by hashes ([`BlockHash`],
/// [`Txid`]): their bytes are already uniformly distributed, so it folds
/// them instead of running SipHash. Deterministic (no random keys), which is
/// fine because forklab never lets map iteration order decide anything.
#[derive(Default, Clone, Copy, Debug)]
pub struct HashKeyHasher(u64);

impl std::hash::Hasher for HashKeyHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(29) ^ u64::from_le_bytes(w))
                .wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(29) ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.0 ^= n as u64;
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` keyed by hash newtypes, using [`HashKeyHasher`].
pub type HashKeyMap<K, V> =
    std::collections::HashMap<K, V, std::hash::BuildHasherDefault<HashKeyHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys are told apart by all 32 bytes even though only the first
    /// eight are hashed: keys that share them collide, and stay distinct.
    #[test]
    fn hash_key_map_keeps_keys_that_share_their_first_bytes() {
        let mut map: HashKeyMap<BlockHash, usize> = HashKeyMap::default();
        for i in 0..64u8 {
            let mut b = [7u8; 32];
            b[31] = i;
            map.insert(BlockHash(b), usize::from(i));
        }
        assert_eq!(map.len(), 64);
        for i in 0..64u8 {
            let mut b = [7u8; 32];
            b[31] = i;
            assert_eq!(map.get(&BlockHash(b)), Some(&usize::from(i)));
        }
        use std::hash::{BuildHasher, BuildHasherDefault};
        let h = BuildHasherDefault::<HashKeyHasher>::default();
        let mut other = [7u8; 32];
        other[31] = 200;
        assert_eq!(h.hash_one(BlockHash([7; 32])), h.hash_one(BlockHash(other)));
        assert_ne!(
            h.hash_one(BlockHash([7; 32])),
            h.hash_one(BlockHash([8; 32]))
        );
    }

    #[test]
    fn sha256d_of_empty() {
        // sha256d("") = 5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456
        assert_eq!(
            hex::encode(sha256d(b"")),
            "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456"
        );
    }

    #[test]
    fn display_is_reversed_hex_and_round_trips() {
        let s = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";
        let h: BlockHash = s.parse().unwrap();
        assert_eq!(h.0[31], 0);
        assert_eq!(h.0[0], 0x6f);
        assert_eq!(h.to_string(), s);
        assert!("zz".parse::<BlockHash>().is_err());
        assert!("00".parse::<BlockHash>().is_err());
    }
}
