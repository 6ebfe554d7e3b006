//! sighash
//!
//! TODO(helper): implement.
