//! The network: who is connected to whom, how long messages take, and who
//! can currently reach whom. Knows nothing of blocks or validation: it deals
//! in [`NodeId`]s, bytes and [`SimDuration`](crate::sim::SimDuration)s.
//!
//! - [`topology`]: [`NodeId`] and [`Topology`] (a compact, sorted adjacency)
//!   with generators — full mesh, ring, random regular, Erdős–Rényi,
//!   Watts–Strogatz small world, explicit edges, and SimBlock-style Bitcoin
//!   outbound overlays;
//! - [`link`]: latency models ([`LatencyModel`], region matrices with
//!   [`Jitter`]), transmission time from bandwidth, a sender's [`Uplink`],
//!   SimBlock's 2019 Bitcoin region tables, and [`assign_regions`];
//! - [`partition`]: [`Partitions`], per-node group ids and online flags
//!   with O(1) [`Partitions::can_communicate`].
//!
//! All per-node state is `Vec`-indexed by [`NodeId`], designed for 10,000+
//! nodes. Randomness comes only from generators passed in (named streams
//! from [`crate::sim::RngStreams`]).
//!
//! ```
//! use forklab::net::{self, Jitter, LinkModel, NodeId, Partitions, Regions};
//! use forklab::sim::RngStreams;
//!
//! let streams = RngStreams::new(42);
//! let n = 1000;
//! let topology = net::bitcoin_outbound_distribution(
//!     n,
//!     &net::SIMBLOCK_2019_OUTBOUND_CDF,
//!     125,
//!     &mut streams.stream("topology", 0),
//! )?;
//! assert!(topology.is_connected());
//!
//! let region_of = net::assign_regions(
//!     n,
//!     &net::SIMBLOCK_2019_REGION_SHARES,
//!     &mut streams.stream("regions", 0),
//! )?;
//! let links = LinkModel::from_regions(&Regions::simblock_2019(), Jitter::Simblock)?;
//! let (a, b) = (NodeId(0), topology.neighbors(NodeId(0))[0]);
//! let mut rng = streams.stream("link", u64::from(a.0));
//! let delay = links.latency(region_of[a.index()], region_of[b.index()], &mut rng)
//!     + links.transmission(1_000_000, region_of[a.index()], region_of[b.index()]);
//! assert!(delay.as_millis_f64() > 0.0);
//!
//! let mut parts = Partitions::new(n);
//! parts.partition(vec![vec![a]])?;
//! assert!(!parts.can_communicate(a, b));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod link;
pub mod partition;
pub mod topology;

pub use link::{
    assign_regions, region_counts, transmission_delay, Jitter, LatencyModel, LinkError, LinkModel,
    Regions, Uplink, SIMBLOCK_2019_DOWN_MBPS, SIMBLOCK_2019_LATENCY_MS,
    SIMBLOCK_2019_REGION_SHARES, SIMBLOCK_2019_UP_MBPS, SIMBLOCK_REGION_NAMES,
};
pub use partition::{PartitionError, Partitions};
pub use topology::{
    bitcoin_outbound, bitcoin_outbound_distribution, erdos_renyi, from_edges, full_mesh,
    random_regular, ring, small_world, NodeId, Topology, TopologyError, FULL_MESH_MAX_NODES,
    SIMBLOCK_2019_OUTBOUND_CDF,
};
