//! validate
//!
//! TODO(helper): implement.
