//! Adversaries: alternative node behaviours configured in a scenario's
//! `adversaries:` list, running the same ledger code as honest nodes.

pub mod invalid;
pub mod theory;
