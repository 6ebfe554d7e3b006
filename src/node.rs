//! Honest node behaviour that is not chain code: the mempool and the
//! misbehaviour scores of peers. (Relay and mining live in
//! [`crate::world`], which owns the event queue they schedule on.)

pub mod compact;
pub mod mempool;
pub mod msg;
pub mod score;
