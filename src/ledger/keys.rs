//! secp256k1 keys (k256): key pairs, deterministic derivation from a seed for
//! simulations, compressed/uncompressed public keys, WIF, and ECDSA over a
//! 32-byte digest the way Bitcoin uses it.
//!
//! # Invariants
//! - A [`PrivateKey`] always holds a valid scalar in `1..n` (k256 checks it).
//! - Both key types remember whether the public key is serialized compressed
//!   (33 bytes, `02`/`03` prefix) or uncompressed (65 bytes, `04` prefix).
//!   The form matters: the address is the hash160 of the *serialization*, so
//!   one secret has two different P2PKH addresses. A parsed [`PublicKey`]
//!   may also be *hybrid* (65 bytes, `06`/`07`): valid under consensus,
//!   refused only by policy, and kept in that form.
//! - Signing is deterministic (RFC 6979) and always produces strict DER with
//!   a low `s` (BIP 62/BIP 146 "LOW_S"), like Bitcoin Core's signer.
//! - Verification accepts what Bitcoin's consensus accepts for historical
//!   signatures: DER parsed laxly (Bitcoin Core's
//!   `ecdsa_signature_parse_der_lax`) and a high `s` normalised first
//!   (Core's `CPubKey::Verify` calls `secp256k1_ecdsa_signature_normalize`).
//!
//! # Use
//! Simulations derive keys from their seed with [`PrivateKey::from_seed`] or
//! [`PrivateKey::derive`] (no randomness of their own); the CLI may create
//! random keys at its edge. [`PrivateKey::sign_digest`] and
//! [`PublicKey::verify_digest`] are driven by [`crate::ledger::sighash`].

use std::fmt;

use k256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use k256::ecdsa::{Signature, SigningKey, VerifyingKey};

use super::hash::{hash160, sha256};

/// WIF version byte of a mainnet secret key.
pub const WIF_PREFIX: u8 = 0x80;

/// Suffix byte of a WIF whose public key is compressed.
const WIF_COMPRESSED_FLAG: u8 = 0x01;

/// Error creating or parsing a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The string contains a character outside the Base58 alphabet.
    #[error("invalid base58 character {character:?} at position {index}")]
    InvalidBase58 {
        /// The offending character.
        character: char,
        /// Its byte offset in the input.
        index: usize,
    },
    /// The Base58Check checksum does not match the payload.
    #[error("bad checksum (mistyped key?)")]
    BadChecksum,
    /// The decoded payload has the wrong number of bytes.
    #[error("bad length: {0} bytes (expected 33 or 34 for WIF)")]
    BadLength(usize),
    /// The WIF version byte is not the mainnet `0x80`.
    #[error("wrong prefix {0:#04x} (expected 0x80 for a mainnet secret key)")]
    WrongPrefix(u8),
    /// A 34-byte WIF payload does not end in the compression flag `0x01`.
    #[error("bad compression flag {0:#04x} (expected 0x01)")]
    BadCompressionFlag(u8),
    /// The 32 bytes are zero or not below the curve order.
    #[error("secret key out of range (must be in 1..n)")]
    InvalidSecretKey,
    /// The bytes are not a valid SEC1 encoding of a curve point.
    #[error("invalid public key encoding")]
    InvalidPublicKey,
}

/// A secp256k1 secret key together with the public-key form it is used with.
#[derive(Clone, PartialEq, Eq)]
pub struct PrivateKey {
    /// The secret scalar.
    pub inner: SigningKey,
    /// Whether the public key is serialized compressed (33 bytes) or not (65).
    pub compressed: bool,
}

/// A secp256k1 public key with its serialization form.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PublicKey {
    /// The curve point.
    pub inner: VerifyingKey,
    /// Whether it serializes compressed.
    pub compressed: bool,
    /// Whether it was parsed from the *hybrid* form (65 bytes, prefix
    /// `06`/`07` giving the parity of `y`, then `x` and `y`), which
    /// serializes back the same way. OpenSSL accepted it, so consensus
    /// still does; only policy (`SCRIPT_VERIFY_STRICTENC`) refuses it.
    pub hybrid: bool,
}

impl PrivateKey {
    /// Derives a compressed key from arbitrary seed material: `sha256(seed)`,
    /// re-hashed until it is a valid scalar (the chance that one round is not
    /// is about 2^-128, so in practice one round).
    pub fn derive(seed: &[u8]) -> PrivateKey {
        let mut candidate = sha256(seed);
        loop {
            if let Ok(inner) = SigningKey::from_slice(&candidate) {
                return PrivateKey {
                    inner,
                    compressed: true,
                };
            }
            candidate = sha256(&candidate);
        }
    }

    /// Derives a compressed key from a number: [`PrivateKey::derive`] of the
    /// 8 little-endian bytes of `seed`. Same seed, same key.
    pub fn from_seed(seed: u64) -> PrivateKey {
        Self::derive(&seed.to_le_bytes())
    }

    /// A key from its 32-byte big-endian secret.
    pub fn from_slice(secret: &[u8], compressed: bool) -> Result<PrivateKey, KeyError> {
        if secret.len() != 32 {
            return Err(KeyError::BadLength(secret.len()));
        }
        let inner = SigningKey::from_slice(secret).map_err(|_| KeyError::InvalidSecretKey)?;
        Ok(PrivateKey { inner, compressed })
    }

    /// The 32-byte big-endian secret.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.inner.to_bytes().into()
    }

    /// The same secret used with the other public-key form.
    pub fn with_compressed(mut self, compressed: bool) -> PrivateKey {
        self.compressed = compressed;
        self
    }

    /// The public key, in this key's serialization form.
    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            inner: *self.inner.verifying_key(),
            compressed: self.compressed,
            hybrid: false,
        }
    }

    /// Wallet Import Format: Base58Check of `0x80 ‖ secret [‖ 0x01 if compressed]`.
    pub fn to_wif(&self) -> String {
        let mut payload = Vec::with_capacity(34);
        payload.push(WIF_PREFIX);
        payload.extend_from_slice(&self.to_bytes());
        if self.compressed {
            payload.push(WIF_COMPRESSED_FLAG);
        }
        bs58::encode(payload).with_check().into_string()
    }

    /// Parses a mainnet WIF (compressed or uncompressed).
    pub fn from_wif(wif: &str) -> Result<PrivateKey, KeyError> {
        let payload = bs58::decode(wif)
            .with_check(None)
            .into_vec()
            .map_err(|e| match e {
                bs58::decode::Error::InvalidCharacter { character, index } => {
                    KeyError::InvalidBase58 { character, index }
                }
                bs58::decode::Error::NonAsciiCharacter { index } => KeyError::InvalidBase58 {
                    character: wif
                        .get(index..)
                        .and_then(|s| s.chars().next())
                        .unwrap_or('?'),
                    index,
                },
                bs58::decode::Error::InvalidChecksum { .. } => KeyError::BadChecksum,
                // Fewer than 4 bytes: not even room for a checksum.
                _ => KeyError::BadLength(0),
            })?;
        let compressed = match payload.len() {
            33 => false,
            34 => true,
            n => return Err(KeyError::BadLength(n)),
        };
        if payload[0] != WIF_PREFIX {
            return Err(KeyError::WrongPrefix(payload[0]));
        }
        if compressed && payload[33] != WIF_COMPRESSED_FLAG {
            return Err(KeyError::BadCompressionFlag(payload[33]));
        }
        Self::from_slice(&payload[1..33], compressed)
    }

    /// ECDSA-signs a 32-byte digest (RFC 6979 nonce): strict DER, low `s`,
    /// without the sighash-type byte.
    pub fn sign_digest(&self, digest: &[u8; 32]) -> Vec<u8> {
        let sig: Signature = self
            .inner
            .sign_prehash(digest)
            .expect("signing a 32-byte prehash with a valid key cannot fail");
        // k256 already returns low-S; normalising again keeps the invariant
        // even if that ever changes.
        let sig = sig.normalize_s().unwrap_or(sig);
        sig.to_der().as_bytes().to_vec()
    }
}

impl fmt::Debug for PrivateKey {
    /// Never prints the secret: shows the public key instead.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey(pub {})", self.public_key())
    }
}

impl PublicKey {
    /// The serialization it was made or parsed with: 33 bytes compressed,
    /// 65 uncompressed (or hybrid).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = self
            .inner
            .to_encoded_point(self.compressed)
            .as_bytes()
            .to_vec();
        if self.hybrid && !self.compressed {
            bytes[0] = 0x06 | (bytes[64] & 1);
        }
        bytes
    }

    /// Parses a public key as Bitcoin's consensus rules do (libsecp256k1's
    /// `secp256k1_eckey_pubkey_parse`): compressed (33 bytes, `02`/`03`),
    /// uncompressed (65 bytes, `04`) or hybrid (65 bytes, `06`/`07`, where
    /// the prefix must match the parity of `y`), remembering the form.
    pub fn from_slice(bytes: &[u8]) -> Result<PublicKey, KeyError> {
        let (compressed, hybrid) = match (bytes.len(), bytes.first()) {
            (33, Some(0x02 | 0x03)) => (true, false),
            (65, Some(0x04)) => (false, false),
            (65, Some(prefix @ (0x06 | 0x07))) => {
                if prefix & 1 != bytes[64] & 1 {
                    return Err(KeyError::InvalidPublicKey);
                }
                (false, true)
            }
            _ => return Err(KeyError::InvalidPublicKey),
        };
        let inner = if hybrid {
            let mut sec1 = [0u8; 65];
            sec1.copy_from_slice(bytes);
            sec1[0] = 0x04;
            VerifyingKey::from_sec1_bytes(&sec1)
        } else {
            VerifyingKey::from_sec1_bytes(bytes)
        }
        .map_err(|_| KeyError::InvalidPublicKey)?;
        Ok(PublicKey {
            inner,
            compressed,
            hybrid,
        })
    }

    /// hash160 of the serialization: what a P2PKH output locks to.
    pub fn pubkey_hash(&self) -> [u8; 20] {
        hash160(&self.to_bytes())
    }

    /// Verifies a DER signature (without the sighash-type byte) over a
    /// 32-byte digest, accepting lax DER and high `s` like Bitcoin's
    /// consensus rules for historical signatures.
    pub fn verify_digest(&self, digest: &[u8; 32], der_sig: &[u8]) -> bool {
        let Some(sig) = parse_der_lax(der_sig) else {
            return false;
        };
        let sig = sig.normalize_s().unwrap_or(sig);
        self.inner.verify_prehash(digest, &sig).is_ok()
    }
}

impl fmt::Display for PublicKey {
    /// Hex of the serialization.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.to_bytes()))
    }
}

/// Parses an ECDSA signature: strict DER first (k256), then the lax rules of
/// Bitcoin Core's `ecdsa_signature_parse_der_lax` (`src/pubkey.cpp`), which
/// accept the sloppy encodings OpenSSL accepted before BIP 66 (excess
/// padding, long-form lengths, garbage length bytes). `None` if the
/// structure is unreadable or `r`/`s` is zero or not below the curve order
/// (Core parses those into a signature that can never verify).
pub fn parse_der_lax(sig: &[u8]) -> Option<Signature> {
    if let Ok(s) = Signature::from_der(sig) {
        return Some(s);
    }
    let mut pos = 0usize;
    let byte_at = |pos: usize| sig.get(pos).copied();

    // Sequence tag and length; the length's value is ignored, as in Core.
    if byte_at(pos)? != 0x30 {
        return None;
    }
    pos += 1;
    let lenbyte = byte_at(pos)? as usize;
    pos += 1;
    if lenbyte & 0x80 != 0 {
        let n = lenbyte - 0x80;
        if n > sig.len() - pos {
            return None;
        }
        pos += n;
    }

    // Reads an INTEGER's tag and length; returns (start, len) of its bytes.
    let read_int = |pos: &mut usize| -> Option<(usize, usize)> {
        if sig.get(*pos).copied()? != 0x02 {
            return None;
        }
        *pos += 1;
        let mut lenbyte = sig.get(*pos).copied()? as usize;
        *pos += 1;
        let len = if lenbyte & 0x80 != 0 {
            lenbyte -= 0x80;
            if lenbyte > sig.len() - *pos {
                return None;
            }
            while lenbyte > 0 && sig[*pos] == 0 {
                *pos += 1;
                lenbyte -= 1;
            }
            if lenbyte >= 4 {
                return None;
            }
            let mut len = 0usize;
            while lenbyte > 0 {
                len = (len << 8) + sig[*pos] as usize;
                *pos += 1;
                lenbyte -= 1;
            }
            len
        } else {
            lenbyte
        };
        if len > sig.len() - *pos {
            return None;
        }
        let start = *pos;
        *pos += len;
        Some((start, len))
    };
    let (rpos, rlen) = read_int(&mut pos)?;
    let (spos, slen) = read_int(&mut pos)?;

    // Strip leading zeros and left-pad to 32 bytes; longer values overflow.
    let to_field = |start: usize, len: usize| -> Option<[u8; 32]> {
        let bytes = &sig[start..start + len];
        let first_nonzero = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        let bytes = &bytes[first_nonzero..];
        if bytes.len() > 32 {
            return None;
        }
        let mut out = [0u8; 32];
        out[32 - bytes.len()..].copy_from_slice(bytes);
        Some(out)
    };
    let r = to_field(rpos, rlen)?;
    let s = to_field(spos, slen)?;
    Signature::from_scalars(r, s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::hash::sha256d;

    fn key_one(compressed: bool) -> PrivateKey {
        let mut secret = [0u8; 32];
        secret[31] = 1;
        PrivateKey::from_slice(&secret, compressed).unwrap()
    }

    #[test]
    fn hybrid_public_keys_parse_like_consensus() {
        // Source: Bitcoin Core `src/test/data/script_tests.json`, "P2PK with
        // hybrid pubkey but no STRICTENC": the generator G in hybrid form
        // (its y is even, so the prefix is 06).
        let hybrid = "0679be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8";
        let bytes = hex::decode(hybrid).unwrap();
        let pk = PublicKey::from_slice(&bytes).unwrap();
        assert!(pk.hybrid && !pk.compressed);
        let g = key_one(false).public_key();
        assert_eq!(pk.inner, g.inner, "the same point as the uncompressed key");
        assert_eq!(hex::encode(pk.to_bytes()), hybrid, "kept in hybrid form");
        assert_ne!(pk.pubkey_hash(), g.pubkey_hash());
        let mut wrong_parity = bytes.clone();
        wrong_parity[0] = 0x07;
        assert_eq!(
            PublicKey::from_slice(&wrong_parity),
            Err(KeyError::InvalidPublicKey)
        );
        assert_eq!(
            PublicKey::from_slice(&bytes[..33]),
            Err(KeyError::InvalidPublicKey),
            "06 prefix with 33 bytes"
        );
        // An odd y takes 07.
        let mut odd = None;
        for seed in 0..16 {
            let k = PrivateKey::from_seed(seed)
                .with_compressed(false)
                .public_key();
            let b = k.to_bytes();
            if b[64] & 1 == 1 {
                odd = Some((k, b));
                break;
            }
        }
        let (k, mut b) = odd.expect("one of 16 keys has an odd y");
        b[0] = 0x07;
        let parsed = PublicKey::from_slice(&b).unwrap();
        assert_eq!(parsed.inner, k.inner);
        assert_eq!(parsed.to_bytes(), b);
    }

    #[test]
    fn secret_one_wif_vectors() {
        // Secret key 1: well-known vectors (e.g. bitcoin wiki "Wallet import
        // format", rust-bitcoin `crypto/key.rs` tests).
        let c = key_one(true);
        assert_eq!(
            c.to_wif(),
            "KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn"
        );
        let u = key_one(false);
        assert_eq!(
            u.to_wif(),
            "5HpHagT65TZzG1PH3CSu63k8DbpvD8s5ip4nEB3kEsreAnchuDf"
        );
        let back =
            PrivateKey::from_wif("KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn").unwrap();
        assert!(back.compressed);
        assert_eq!(back, c);
        let back =
            PrivateKey::from_wif("5HpHagT65TZzG1PH3CSu63k8DbpvD8s5ip4nEB3kEsreAnchuDf").unwrap();
        assert!(!back.compressed);
        assert_eq!(back.to_bytes(), u.to_bytes());
    }

    #[test]
    fn secret_one_public_keys() {
        // G, the generator point: 1·G.
        assert_eq!(
            key_one(true).public_key().to_string(),
            "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
        );
        let u = key_one(false).public_key().to_bytes();
        assert_eq!(u.len(), 65);
        assert_eq!(
            hex::encode(&u[..33]),
            "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
        );
        let parsed = PublicKey::from_slice(&u).unwrap();
        assert!(!parsed.compressed);
        assert_eq!(parsed, key_one(false).public_key());
    }

    #[test]
    fn wif_errors_are_typed() {
        let good = "KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn";
        // Change the last character: checksum fails.
        let mut bad = good.to_string();
        bad.pop();
        bad.push('o');
        assert_eq!(PrivateKey::from_wif(&bad), Err(KeyError::BadChecksum));
        assert!(matches!(
            PrivateKey::from_wif("0OIl"),
            Err(KeyError::InvalidBase58 { character: '0', .. })
        ));
        // Correct checksum, wrong lengths and prefix.
        let b58 = |p: &[u8]| bs58::encode(p).with_check().into_string();
        assert_eq!(
            PrivateKey::from_wif(&b58(&[0x80; 20])),
            Err(KeyError::BadLength(20))
        );
        let mut payload = vec![0xef];
        payload.extend_from_slice(&[1u8; 32]);
        assert_eq!(
            PrivateKey::from_wif(&b58(&payload)),
            Err(KeyError::WrongPrefix(0xef))
        );
        payload[0] = 0x80;
        payload.push(0x02);
        assert_eq!(
            PrivateKey::from_wif(&b58(&payload)),
            Err(KeyError::BadCompressionFlag(0x02))
        );
        let mut zero = vec![0x80];
        zero.extend_from_slice(&[0u8; 32]);
        assert_eq!(
            PrivateKey::from_wif(&b58(&zero)),
            Err(KeyError::InvalidSecretKey)
        );
        assert!(PrivateKey::from_wif("").is_err());
        assert!(matches!(
            PrivateKey::from_wif("Kwé"),
            Err(KeyError::InvalidBase58 {
                character: 'é',
                index: 2
            })
        ));
        assert_eq!(
            KeyError::BadChecksum.to_string(),
            "bad checksum (mistyped key?)"
        );
    }

    #[test]
    fn derivation_is_deterministic() {
        assert_eq!(PrivateKey::from_seed(7), PrivateKey::from_seed(7));
        assert_ne!(PrivateKey::from_seed(7), PrivateKey::from_seed(8));
        assert!(PrivateKey::from_seed(7).compressed);
        assert_eq!(
            PrivateKey::derive(b"alice").to_bytes(),
            sha256(b"alice"),
            "one sha256 round is a valid scalar for this seed"
        );
    }

    #[test]
    fn sign_verify_round_trip_and_tamper() {
        let key = PrivateKey::from_seed(42);
        let pk = key.public_key();
        let digest = sha256d(b"pay bob 1 btc");
        let sig = key.sign_digest(&digest);
        assert_eq!(sig, key.sign_digest(&digest), "RFC 6979 is deterministic");
        let parsed = Signature::from_der(&sig).expect("strict DER");
        assert!(parsed.normalize_s().is_none(), "low s");
        assert!(pk.verify_digest(&digest, &sig));

        let other = sha256d(b"pay bob 2 btc");
        assert!(!pk.verify_digest(&other, &sig));
        assert!(!PrivateKey::from_seed(43)
            .public_key()
            .verify_digest(&digest, &sig));
        let mut flipped = sig.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(!pk.verify_digest(&digest, &flipped));
        assert!(!pk.verify_digest(&digest, &[]));
    }

    #[test]
    fn high_s_and_lax_der_are_accepted() {
        let key = PrivateKey::from_seed(1);
        let digest = sha256d(b"historical");
        let sig = Signature::from_der(&key.sign_digest(&digest)).unwrap();
        // s' = n - s verifies the same message (ECDSA malleability).
        let (r, s) = sig.split_scalars();
        let high = Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).unwrap();
        let high_der = high.to_der().as_bytes().to_vec();
        assert!(high.normalize_s().is_some(), "really high s");
        assert!(key.public_key().verify_digest(&digest, &high_der));

        // Two bytes of excess zero padding before r and a wrong sequence
        // length: not DER, but accepted by Core's lax parser (pre-BIP 66).
        let rb = r.to_bytes();
        let sb = s.to_bytes();
        let mut lax = vec![0x30, 0x00, 0x02, 34, 0x00, 0x00];
        lax.extend_from_slice(&rb);
        lax.extend_from_slice(&[0x02, 32]);
        lax.extend_from_slice(&sb);
        assert!(Signature::from_der(&lax).is_err());
        assert!(key.public_key().verify_digest(&digest, &lax));
        // r or s above 32 significant bytes: parses structurally, never verifies.
        let mut long = vec![0x30, 0x00, 0x02, 33, 0x01];
        long.extend_from_slice(&rb);
        long.extend_from_slice(&[0x02, 32]);
        long.extend_from_slice(&sb);
        assert!(!key.public_key().verify_digest(&digest, &long));

        assert!(parse_der_lax(&[0x30, 0x02, 0x02, 0x00]).is_none());
    }

    #[test]
    fn public_key_parse_rejects_garbage() {
        assert_eq!(
            PublicKey::from_slice(&[&[0x02][..], &[0xff; 32][..]].concat()).map(|_| ()),
            Err(KeyError::InvalidPublicKey)
        );
        assert!(PublicKey::from_slice(&[0x04; 33]).is_err());
        assert!(PublicKey::from_slice(&[]).is_err());
    }

    proptest::proptest! {
        #[test]
        fn wif_round_trips(seed in proptest::prelude::any::<u64>(), compressed in proptest::prelude::any::<bool>()) {
            let key = PrivateKey::from_seed(seed).with_compressed(compressed);
            let back = PrivateKey::from_wif(&key.to_wif()).unwrap();
            proptest::prop_assert_eq!(back, key.clone());
            let pk = PublicKey::from_slice(&key.public_key().to_bytes()).unwrap();
            proptest::prop_assert_eq!(pk, key.public_key());
        }
    }
}
