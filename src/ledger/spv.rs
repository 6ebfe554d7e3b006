//! spv
//!
//! TODO(helper): implement.
