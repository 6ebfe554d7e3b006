//! secp256k1 keys (k256): key pairs, deterministic derivation from a seed for
//! simulations, compressed/uncompressed public keys, WIF.
//!
//! TODO(helper): implement.

/// A secp256k1 secret key together with the public-key form it is used with.
#[derive(Clone)]
pub struct PrivateKey {
    /// The secret scalar.
    pub inner: k256::ecdsa::SigningKey,
    /// Whether the public key is serialized compressed (33 bytes) or not (65).
    pub compressed: bool,
}

/// A secp256k1 public key with its serialization form.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PublicKey {
    /// The curve point.
    pub inner: k256::ecdsa::VerifyingKey,
    /// Whether it serializes compressed.
    pub compressed: bool,
}
