//! # forklab
//!
//! A deterministic discrete-event simulator of proof-of-work networks, and a
//! teaching lab. Layers (imports point down only):
//!
//! - [`ledger`]: the real chain code (no time, no network, no RNG of its own);
//! - [`sim`]: the discrete-event kernel (time, event queue, RNG streams);
//! - [`net`]: topology and links;
//! - [`scenario`]: validated YAML scenarios;
//! - [`node`], [`world`]: honest node behaviour and a whole run;
//! - [`metrics`], [`report`]: CSV output and charts.
//!
//! [`theory`] (closed forms of attacks and confidence intervals: plain
//! arithmetic, no imports) sits at the bottom beside [`ledger`] and [`sim`],
//! so [`report`] can overlay it on charts and the tests can check the
//! [`adversary`] strategies against it.
#![warn(missing_docs)]

pub mod adversary;
pub mod ledger;
pub mod metrics;
pub mod net;
pub mod node;
pub mod replay;
pub mod report;
pub mod scenario;
pub mod serve;
pub mod sim;
pub mod store;
pub mod sweep;
pub mod theory;
pub mod workload;
pub mod world;
