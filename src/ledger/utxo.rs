//! utxo
//!
//! TODO(helper): implement.
