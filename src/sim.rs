//! The discrete-event kernel: simulated time, one event queue with a total
//! order, and named RNG streams. Knows nothing of blocks.

pub mod time;

pub use time::{SimDuration, SimTime};
