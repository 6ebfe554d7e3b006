//! chainstate
//!
//! TODO(helper): implement.
