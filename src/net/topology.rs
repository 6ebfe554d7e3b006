//! Who is connected to whom: node ids, graph generators and a compact,
//! sorted adjacency.
//!
//! A [`Topology`] is an undirected simple graph over nodes `0..n`, stored in
//! compressed sparse rows (one offsets vector, one flat neighbour vector), so
//! 10,000 nodes with a few dozen peers each cost a few hundred kilobytes.
//!
//! # Invariants
//!
//! - Every neighbour list is sorted ascending, holds no duplicates and never
//!   the node itself; `b ∈ neighbors(a)` ⇔ `a ∈ neighbors(b)`.
//! - Generators are deterministic given the generator state passed in (use a
//!   named stream from [`crate::sim::RngStreams`]); none iterates a hash map.
//!
//! # Generators
//!
//! [`full_mesh`], [`ring`], [`random_regular`], [`erdos_renyi`],
//! [`small_world`], [`from_edges`], and the SimBlock-style Bitcoin overlays
//! [`bitcoin_outbound`] and [`bitcoin_outbound_distribution`]. They build the
//! edge list directly (faster than going through a petgraph graph at 10,000
//! nodes) and [`Topology::to_graph`] exports a petgraph [`UnGraph`] for graph
//! algorithms; [`Topology::is_connected`] uses petgraph's
//! `connected_components`.

use std::collections::HashSet;
use std::fmt;

use petgraph::graph::UnGraph;
use rand::seq::SliceRandom;
use rand::Rng;

/// A node of the simulated network: an index into `Vec`-based per-node state.
///
/// Displays as the bare number (`3`), which is also how output files and
/// scenario files name nodes.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The id as a `Vec` index.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl From<u32> for NodeId {
    fn from(n: u32) -> Self {
        NodeId(n)
    }
}

/// Largest node count [`full_mesh`] accepts: a full mesh of 2,000 nodes
/// already has about two million links.
pub const FULL_MESH_MAX_NODES: usize = 2_000;

/// Largest edge count a random generator may expect to build (keeps a typo
/// such as `p: 0.5` at 10,000 nodes from exhausting memory).
pub const MAX_EDGES: u64 = 20_000_000;

/// The cumulative distribution of the number of outbound connections per
/// node used by SimBlock's Bitcoin configuration: entry `i` is the fraction
/// of nodes with at most `i + 1` outbound links (so 1 to 20 links; mean about
/// 8.6). This is SimBlock's `DEGREE_DISTRIBUTION_BITCOIN_2015`
/// (`simblock/settings/NetworkConfiguration.java`, after Miller et al.,
/// "Discovering Bitcoin's public topology and influential nodes", 2015),
/// which SimBlock's 2019 Bitcoin setting still uses as its
/// `DEGREE_DISTRIBUTION`.
pub const SIMBLOCK_2019_OUTBOUND_CDF: [f64; 20] = [
    0.025, 0.050, 0.075, 0.10, 0.20, 0.30, 0.40, 0.50, 0.60, 0.70, 0.80, 0.85, 0.90, 0.95, 0.97,
    0.97, 0.98, 0.99, 0.995, 1.0,
];

/// How many restarts [`random_regular`] tries before giving up.
const REGULAR_MAX_ATTEMPTS: usize = 100;

/// Errors building a topology.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TopologyError {
    /// A network needs at least one node.
    #[error("a topology needs at least one node")]
    NoNodes,
    /// Node ids are `u32`.
    #[error("{n} nodes is more than the 4294967295 a topology can hold")]
    TooManyNodes {
        /// The node count asked for.
        n: usize,
    },
    /// [`full_mesh`] above [`FULL_MESH_MAX_NODES`].
    #[error("a full mesh of {n} nodes is too large (at most {max} nodes; use random_regular, erdos_renyi, small_world or bitcoin_outbound for large networks)")]
    FullMeshTooLarge {
        /// The node count asked for.
        n: usize,
        /// The largest accepted.
        max: usize,
    },
    /// A degree that needs more peers than there are other nodes.
    #[error("degree {k} is impossible with {n} nodes: it must be less than the node count")]
    DegreeTooHigh {
        /// The degree asked for.
        k: usize,
        /// The node count.
        n: usize,
    },
    /// A `k`-regular graph on `n` nodes needs `n * k` even.
    #[error("no {k}-regular graph on {n} nodes exists: n * k must be even")]
    OddDegreeSum {
        /// The node count.
        n: usize,
        /// The degree.
        k: usize,
    },
    /// The Watts–Strogatz lattice degree must be even.
    #[error("small-world lattice degree k = {k} must be even (k/2 neighbours on each side)")]
    OddLatticeDegree {
        /// The degree asked for.
        k: usize,
    },
    /// A probability outside `[0, 1]` or not a number.
    #[error("{name} = {value} is not a probability: it must be between 0 and 1")]
    InvalidProbability {
        /// The parameter's name (`p`, `beta`).
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// The expected edge count exceeds [`MAX_EDGES`].
    #[error("the graph would have about {expected} edges, more than the {max} allowed; lower the edge probability")]
    TooDense {
        /// Expected number of edges.
        expected: u64,
        /// The limit.
        max: u64,
    },
    /// An edge names a node outside `0..n`.
    #[error("edge ({a}, {b}) names a node outside 0..{n}")]
    NodeOutOfRange {
        /// First end.
        a: u32,
        /// Second end.
        b: u32,
        /// The node count.
        n: usize,
    },
    /// An edge from a node to itself.
    #[error("edge ({node}, {node}) is a self loop")]
    SelfLoop {
        /// The node.
        node: u32,
    },
    /// The same undirected edge listed twice.
    #[error("edge ({a}, {b}) is listed more than once")]
    DuplicateEdge {
        /// Smaller end.
        a: u32,
        /// Larger end.
        b: u32,
    },
    /// A cumulative distribution that is empty, not increasing, outside
    /// `[0, 1]`, or not ending at 1.
    #[error("invalid cumulative distribution: {reason}")]
    InvalidCumulative {
        /// What is wrong, naming the entry.
        reason: String,
    },
    /// The pairing model kept producing self loops or duplicate edges.
    #[error("could not build a simple random regular graph after {attempts} attempts")]
    GenerationFailed {
        /// Restarts tried.
        attempts: usize,
    },
}

/// An undirected simple graph over nodes `0..n` with sorted neighbour lists
/// (see the module docs for the invariants).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Topology {
    /// `offsets[i]..offsets[i + 1]` is node `i`'s slice of `targets`.
    offsets: Vec<usize>,
    targets: Vec<NodeId>,
    /// Per entry of `targets`: the node opened that link (an outbound
    /// connection). Empty for generators without a direction, where the
    /// lower id counts as the opener (see [`Topology::opened`]).
    opened: Vec<bool>,
}

impl Topology {
    /// Builds from per-node lists (sorted and deduplicated here; callers
    /// guarantee symmetry and no self loops).
    fn from_lists(mut adj: Vec<Vec<u32>>) -> Topology {
        let mut offsets = Vec::with_capacity(adj.len() + 1);
        let total: usize = adj.iter().map(Vec::len).sum();
        let mut targets = Vec::with_capacity(total);
        offsets.push(0);
        for (i, list) in adj.iter_mut().enumerate() {
            list.sort_unstable();
            list.dedup();
            debug_assert!(list.binary_search(&(i as u32)).is_err(), "self loop");
            targets.extend(list.iter().map(|&v| NodeId(v)));
            offsets.push(targets.len());
        }
        Topology {
            offsets,
            targets,
            opened: Vec::new(),
        }
    }

    /// Whether `a` opened its link to `b` (an outbound connection of `a`,
    /// an inbound one of `b`). The Bitcoin overlays record who opened each
    /// link; for the other generators the lower id counts as the opener.
    pub fn opened(&self, a: NodeId, b: NodeId) -> bool {
        if self.opened.is_empty() {
            return a < b;
        }
        let i = a.index();
        match self.neighbors(a).binary_search(&b) {
            Ok(k) => self.opened[self.offsets[i] + k],
            Err(_) => false,
        }
    }

    /// Builds from an edge list already known to be valid (in range, no self
    /// loops; duplicates are merged).
    fn from_valid_edges(n: usize, edges: &[(u32, u32)]) -> Topology {
        let mut degree = vec![0usize; n];
        for &(a, b) in edges {
            degree[a as usize] += 1;
            degree[b as usize] += 1;
        }
        let mut adj: Vec<Vec<u32>> = degree.into_iter().map(Vec::with_capacity).collect();
        for &(a, b) in edges {
            adj[a as usize].push(b);
            adj[b as usize].push(a);
        }
        Topology::from_lists(adj)
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Number of undirected edges.
    pub fn edge_count(&self) -> usize {
        self.targets.len() / 2
    }

    /// All node ids, ascending.
    pub fn nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        (0..self.node_count() as u32).map(NodeId)
    }

    /// The sorted neighbours of `node`.
    ///
    /// # Panics
    /// If `node` is not below [`Self::node_count`] (ids come from this
    /// topology, so that is a programming error).
    pub fn neighbors(&self, node: NodeId) -> &[NodeId] {
        let i = node.index();
        &self.targets[self.offsets[i]..self.offsets[i + 1]]
    }

    /// The number of neighbours of `node` (panics like [`Self::neighbors`]).
    pub fn degree(&self, node: NodeId) -> usize {
        let i = node.index();
        self.offsets[i + 1] - self.offsets[i]
    }

    /// Whether `a` and `b` are neighbours (binary search, O(log degree)).
    pub fn has_edge(&self, a: NodeId, b: NodeId) -> bool {
        self.neighbors(a).binary_search(&b).is_ok()
    }

    /// Every edge once, as `(a, b)` with `a < b`, in ascending order.
    pub fn edges(&self) -> impl Iterator<Item = (NodeId, NodeId)> + '_ {
        self.nodes().flat_map(move |a| {
            self.neighbors(a)
                .iter()
                .filter(move |&&b| a < b)
                .map(move |&b| (a, b))
        })
    }

    /// Mean number of neighbours per node: `2 * edges / nodes`.
    pub fn mean_degree(&self) -> f64 {
        if self.node_count() == 0 {
            return 0.0;
        }
        self.targets.len() as f64 / self.node_count() as f64
    }

    /// The largest degree (0 for an edgeless graph).
    pub fn max_degree(&self) -> usize {
        self.nodes().map(|v| self.degree(v)).max().unwrap_or(0)
    }

    /// `hist[d]` = number of nodes with exactly `d` neighbours; the vector is
    /// `max_degree + 1` long.
    pub fn degree_histogram(&self) -> Vec<usize> {
        let mut hist = vec![0usize; self.max_degree() + 1];
        for v in self.nodes() {
            hist[self.degree(v)] += 1;
        }
        hist
    }

    /// Whether every node can reach every other (petgraph
    /// `connected_components`; a single node is connected).
    pub fn is_connected(&self) -> bool {
        self.node_count() <= 1 || petgraph::algo::connected_components(&self.to_graph()) == 1
    }

    /// The same graph as a petgraph [`UnGraph`]; node index `i` is
    /// `NodeId(i)`, edges are added in [`Self::edges`] order.
    pub fn to_graph(&self) -> UnGraph<(), ()> {
        let mut g = UnGraph::with_capacity(self.node_count(), self.edge_count());
        for _ in 0..self.node_count() {
            g.add_node(());
        }
        g.extend_with_edges(self.edges().map(|(a, b)| (a.0, b.0)));
        g
    }

    /// Imports a petgraph graph (node index `i` becomes `NodeId(i)`); errors
    /// like [`from_edges`] on self loops and parallel edges.
    pub fn from_graph<N, E>(graph: &UnGraph<N, E>) -> Result<Topology, TopologyError> {
        let edges: Vec<(u32, u32)> = graph
            .raw_edges()
            .iter()
            .map(|e| (e.source().index() as u32, e.target().index() as u32))
            .collect();
        from_edges(graph.node_count(), &edges)
    }
}

fn check_n(n: usize) -> Result<(), TopologyError> {
    if n == 0 {
        return Err(TopologyError::NoNodes);
    }
    if u32::try_from(n).is_err() {
        return Err(TopologyError::TooManyNodes { n });
    }
    Ok(())
}

fn check_probability(name: &'static str, value: f64) -> Result<(), TopologyError> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(TopologyError::InvalidProbability { name, value })
    }
}

fn check_edge_budget(expected: f64) -> Result<(), TopologyError> {
    if expected > MAX_EDGES as f64 {
        return Err(TopologyError::TooDense {
            expected: expected as u64,
            max: MAX_EDGES,
        });
    }
    Ok(())
}

/// Every pair of nodes connected. Errors above [`FULL_MESH_MAX_NODES`].
pub fn full_mesh(n: usize) -> Result<Topology, TopologyError> {
    check_n(n)?;
    if n > FULL_MESH_MAX_NODES {
        return Err(TopologyError::FullMeshTooLarge {
            n,
            max: FULL_MESH_MAX_NODES,
        });
    }
    let n32 = n as u32;
    let adj = (0..n32)
        .map(|i| (0..n32).filter(|&j| j != i).collect())
        .collect();
    Ok(Topology::from_lists(adj))
}

/// Node `i` connected to `i ± 1 (mod n)`: one edge for two nodes, none for
/// one.
pub fn ring(n: usize) -> Result<Topology, TopologyError> {
    check_n(n)?;
    let n32 = n as u32;
    let edges: Vec<(u32, u32)> = match n {
        1 => Vec::new(),
        2 => vec![(0, 1)],
        _ => (0..n32).map(|i| (i, (i + 1) % n32)).collect(),
    };
    Ok(Topology::from_valid_edges(n, &edges))
}

/// A uniformly-ish random simple graph where every node has exactly `k`
/// neighbours, by the pairing (configuration) model: stubs are shuffled and
/// paired; pairs that would make a self loop or a duplicate go back into the
/// pool and are re-paired (as networkx's `random_regular_graph`, after
/// Steger & Wormald); a dead end restarts, up to 100 times.
///
/// Errors: `k >= n` ([`TopologyError::DegreeTooHigh`]), `n * k` odd
/// ([`TopologyError::OddDegreeSum`]).
pub fn random_regular(n: usize, k: usize, rng: &mut impl Rng) -> Result<Topology, TopologyError> {
    check_n(n)?;
    if k >= n {
        return Err(TopologyError::DegreeTooHigh { k, n });
    }
    if (n * k) % 2 == 1 {
        return Err(TopologyError::OddDegreeSum { n, k });
    }
    check_edge_budget((n * k) as f64 / 2.0)?;
    for _ in 0..REGULAR_MAX_ATTEMPTS {
        if let Some(edges) = try_pairing(n, k, rng) {
            return Ok(Topology::from_valid_edges(n, &edges));
        }
    }
    Err(TopologyError::GenerationFailed {
        attempts: REGULAR_MAX_ATTEMPTS,
    })
}

/// One attempt of the pairing model; `None` on a dead end.
fn try_pairing(n: usize, k: usize, rng: &mut impl Rng) -> Option<Vec<(u32, u32)>> {
    let mut edges: Vec<(u32, u32)> = Vec::with_capacity(n * k / 2);
    // Membership only: never iterated, so it cannot affect the order of draws.
    let mut present: HashSet<(u32, u32)> = HashSet::with_capacity(n * k / 2);
    let mut stubs: Vec<u32> = (0..n * k).map(|i| (i / k) as u32).collect();
    let mut rounds = 0usize;
    while !stubs.is_empty() {
        rounds += 1;
        if rounds > 10_000 {
            return None;
        }
        stubs.shuffle(rng);
        let mut leftover = Vec::new();
        for pair in stubs.chunks_exact(2) {
            let (a, b) = (pair[0].min(pair[1]), pair[0].max(pair[1]));
            if a != b && present.insert((a, b)) {
                edges.push((a, b));
            } else {
                leftover.extend_from_slice(&[a, b]);
            }
        }
        if !leftover.is_empty() {
            // Some pair of the remaining nodes must still be joinable.
            let mut rest = leftover.clone();
            rest.sort_unstable();
            rest.dedup();
            let joinable = rest.iter().enumerate().any(|(i, &a)| {
                rest[i + 1..]
                    .iter()
                    .any(|&b| !present.contains(&(a.min(b), a.max(b))))
            });
            if !joinable {
                return None;
            }
        }
        stubs = leftover;
    }
    Some(edges)
}

/// The Erdős–Rényi graph G(n, p): each of the `n(n-1)/2` pairs is an edge
/// independently with probability `p`. Runs in O(n + edges) by drawing the
/// gaps between edges (Batagelj & Brandes 2005), so sparse graphs of 10,000+
/// nodes are quick.
///
/// Errors: `p` outside `[0, 1]`; more than [`MAX_EDGES`] expected edges.
pub fn erdos_renyi(n: usize, p: f64, rng: &mut impl Rng) -> Result<Topology, TopologyError> {
    check_n(n)?;
    check_probability("p", p)?;
    let pairs = n as f64 * (n as f64 - 1.0) / 2.0;
    check_edge_budget(p * pairs)?;
    let mut edges = Vec::new();
    if p >= 1.0 {
        for v in 1..n as u32 {
            edges.extend((0..v).map(|w| (w, v)));
        }
    } else if p > 0.0 {
        let lp = (1.0 - p).ln();
        let n = n as i64;
        let (mut v, mut w) = (1i64, -1i64);
        while v < n {
            let r: f64 = rng.gen();
            let skip = ((1.0 - r).ln() / lp).floor();
            // `as` saturates; a huge skip simply ends the loop.
            w = w.saturating_add(1).saturating_add(skip as i64);
            while w >= v && v < n {
                w -= v;
                v += 1;
            }
            if v < n {
                edges.push((w as u32, v as u32));
            }
        }
    }
    Ok(Topology::from_valid_edges(n, &edges))
}

/// The Watts–Strogatz small world: a ring lattice where each node links to
/// its `k/2` nearest neighbours on each side, then each lattice edge
/// `(u, u + j)` is, with probability `beta`, rewired to `(u, w)` for a
/// uniformly random `w` that is neither `u` nor already a neighbour of `u`
/// (skipped when `u` is already linked to everyone). As networkx's
/// `watts_strogatz_graph`.
///
/// Errors: `k` odd, `k >= n`, `beta` outside `[0, 1]`.
pub fn small_world(
    n: usize,
    k: usize,
    beta: f64,
    rng: &mut impl Rng,
) -> Result<Topology, TopologyError> {
    check_n(n)?;
    if k % 2 == 1 {
        return Err(TopologyError::OddLatticeDegree { k });
    }
    if k >= n {
        return Err(TopologyError::DegreeTooHigh { k, n });
    }
    check_probability("beta", beta)?;
    check_edge_budget((n * k) as f64 / 2.0)?;
    let n32 = n as u32;
    let mut adj: Vec<Vec<u32>> = vec![Vec::with_capacity(k + 2); n];
    for u in 0..n32 {
        for j in 1..=(k / 2) as u32 {
            let v = (u + j) % n32;
            adj[u as usize].push(v);
            adj[v as usize].push(u);
        }
    }
    for j in 1..=(k / 2) as u32 {
        for u in 0..n32 {
            let v = (u + j) % n32;
            if rng.gen::<f64>() >= beta {
                continue;
            }
            // The edge may already be gone (rewired from v's side).
            if !adj[u as usize].contains(&v) || adj[u as usize].len() >= n - 1 {
                continue;
            }
            let w = loop {
                let w = rng.gen_range(0..n32);
                if w != u && !adj[u as usize].contains(&w) {
                    break w;
                }
            };
            remove(&mut adj[u as usize], v);
            remove(&mut adj[v as usize], u);
            adj[u as usize].push(w);
            adj[w as usize].push(u);
        }
    }
    Ok(Topology::from_lists(adj))
}

fn remove(list: &mut Vec<u32>, x: u32) {
    if let Some(pos) = list.iter().position(|&y| y == x) {
        list.swap_remove(pos);
    }
}

/// A topology from an explicit edge list over nodes `0..n` (each undirected
/// edge once, in either direction).
///
/// Errors: a node id `>= n`, a self loop, or the same edge twice.
pub fn from_edges(n: usize, edges: &[(u32, u32)]) -> Result<Topology, TopologyError> {
    check_n(n)?;
    let mut seen: HashSet<(u32, u32)> = HashSet::with_capacity(edges.len());
    for &(a, b) in edges {
        if a as usize >= n || b as usize >= n {
            return Err(TopologyError::NodeOutOfRange { a, b, n });
        }
        if a == b {
            return Err(TopologyError::SelfLoop { node: a });
        }
        let key = (a.min(b), a.max(b));
        if !seen.insert(key) {
            return Err(TopologyError::DuplicateEdge { a: key.0, b: key.1 });
        }
    }
    Ok(Topology::from_valid_edges(n, edges))
}

/// A Bitcoin-like overlay as SimBlock builds it: every node opens `outbound`
/// connections to random peers that still have a free inbound slot (at most
/// `max_inbound` inbound links each), never to itself or to a node it is
/// already linked with in either direction. Links are undirected for relay,
/// so a node's degree is its outbound plus inbound count.
///
/// Nodes open their connections in id order. A node may end with fewer than
/// `outbound` links only when too few eligible peers remain (e.g. the inbound
/// slots of the network are exhausted).
///
/// Errors: `outbound >= n`.
pub fn bitcoin_outbound(
    n: usize,
    outbound: usize,
    max_inbound: usize,
    rng: &mut impl Rng,
) -> Result<Topology, TopologyError> {
    check_n(n)?;
    if outbound >= n && n > 1 {
        return Err(TopologyError::DegreeTooHigh { k: outbound, n });
    }
    check_edge_budget((n * outbound) as f64)?;
    let counts = vec![outbound.min(n - 1); n];
    Ok(outbound_overlay(n, &counts, max_inbound, rng))
}

/// Like [`bitcoin_outbound`], but each node's number of outbound
/// connections follows a cumulative distribution: `cumulative[i]` is the
/// fraction of nodes with at most `i + 1` outbound links (SimBlock's
/// `DEGREE_DISTRIBUTION` convention; see [`SIMBLOCK_2019_OUTBOUND_CDF`]).
///
/// The counts are assigned by stratified quantiles — node slot `j` of `n`
/// gets the count at quantile `(j + 0.5) / n` — and then shuffled with `rng`,
/// so the empirical distribution matches the table as closely as `n` allows.
/// Counts above `n - 1` are capped at `n - 1`.
///
/// With the SimBlock table the mean outbound count is about 8.6, so the mean
/// undirected degree ([`Topology::mean_degree`]) is about 17.
///
/// Errors: an empty table, an entry outside `[0, 1]` or decreasing, or a
/// last entry that is not 1.
pub fn bitcoin_outbound_distribution(
    n: usize,
    cumulative: &[f64],
    max_inbound: usize,
    rng: &mut impl Rng,
) -> Result<Topology, TopologyError> {
    check_n(n)?;
    check_cumulative(cumulative)?;
    let mut counts: Vec<usize> = (0..n)
        .map(|j| {
            let q = (j as f64 + 0.5) / n as f64;
            let i = cumulative
                .iter()
                .position(|&c| q <= c)
                .unwrap_or(cumulative.len() - 1);
            (i + 1).min(n - 1)
        })
        .collect();
    counts.shuffle(rng);
    let total: usize = counts.iter().sum();
    check_edge_budget(total as f64)?;
    Ok(outbound_overlay(n, &counts, max_inbound, rng))
}

fn check_cumulative(cdf: &[f64]) -> Result<(), TopologyError> {
    let bad = |reason: String| Err(TopologyError::InvalidCumulative { reason });
    let Some(&last) = cdf.last() else {
        return bad("the table is empty".into());
    };
    let mut prev = 0.0;
    for (i, &c) in cdf.iter().enumerate() {
        if !(0.0..=1.0).contains(&c) {
            return bad(format!("entry {i} = {c} is outside [0, 1]"));
        }
        if c < prev {
            return bad(format!(
                "entry {i} = {c} is below the previous entry {prev}"
            ));
        }
        prev = c;
    }
    if (last - 1.0).abs() > 1e-9 {
        return bad(format!("the last entry is {last}, it must be 1"));
    }
    Ok(())
}

/// Nodes open `counts[u]` outbound links each, in id order.
fn outbound_overlay(
    n: usize,
    counts: &[usize],
    max_inbound: usize,
    rng: &mut impl Rng,
) -> Topology {
    let n32 = n as u32;
    let mut adj: Vec<Vec<u32>> = counts.iter().map(|&c| Vec::with_capacity(2 * c)).collect();
    let mut inbound = vec![0usize; n];
    let mut opened_pairs: Vec<(u32, u32)> = Vec::new();
    let eligible = |u: u32, v: u32, adj: &[Vec<u32>], inbound: &[usize]| {
        v != u && inbound[v as usize] < max_inbound && !adj[u as usize].contains(&v)
    };
    for u in 0..n32 {
        let want = counts[u as usize];
        let mut opened = 0usize;
        // Rejection sampling is O(want) in the common case; after too many
        // misses fall back to an exact draw without replacement over all
        // still-eligible peers (O(n), only for that node).
        let mut misses = 0usize;
        while opened < want && misses < 8 * want + 64 {
            let v = rng.gen_range(0..n32);
            if eligible(u, v, &adj, &inbound) {
                opened_pairs.push((u, v));
                adj[u as usize].push(v);
                adj[v as usize].push(u);
                inbound[v as usize] += 1;
                opened += 1;
            } else {
                misses += 1;
            }
        }
        if opened < want {
            let mut pool: Vec<u32> = (0..n32)
                .filter(|&v| eligible(u, v, &adj, &inbound))
                .collect();
            let take = (want - opened).min(pool.len());
            let (chosen, _) = pool.partial_shuffle(rng, take);
            for &v in chosen.iter() {
                opened_pairs.push((u, v));
                adj[u as usize].push(v);
                adj[v as usize].push(u);
                inbound[v as usize] += 1;
            }
        }
    }
    // Who opened each link: `u` opened `(u, v)` in its turn above.
    opened_pairs.sort_unstable();
    let mut t = Topology::from_lists(adj);
    let opened: Vec<bool> = (0..n32)
        .flat_map(|u| {
            t.neighbors(NodeId(u))
                .iter()
                .map(move |v| (u, v.0))
                .collect::<Vec<_>>()
        })
        .map(|pair| opened_pairs.binary_search(&pair).is_ok())
        .collect();
    t.opened = opened;
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha12Rng;

    fn rng(seed: u64) -> ChaCha12Rng {
        ChaCha12Rng::seed_from_u64(seed)
    }

    #[test]
    fn the_bitcoin_overlay_records_who_opened_each_link() {
        let t = bitcoin_outbound(200, 8, 125, &mut rng(4)).unwrap();
        for (a, b) in t.edges() {
            assert!(
                t.opened(a, b) != t.opened(b, a),
                "exactly one side opened {a}-{b}"
            );
        }
        for a in t.nodes() {
            let out = t.neighbors(a).iter().filter(|&&b| t.opened(a, b)).count();
            assert_eq!(out, 8, "node {a} opened its 8 outbound links");
        }
        // Without a recorded direction the lower id counts as the opener.
        let m = full_mesh(3).unwrap();
        assert!(m.opened(NodeId(0), NodeId(2)) && !m.opened(NodeId(2), NodeId(0)));
    }

    /// The structural invariants every topology must satisfy.
    fn assert_simple(t: &Topology) {
        let mut directed = 0;
        for a in t.nodes() {
            let ns = t.neighbors(a);
            assert!(ns.windows(2).all(|w| w[0] < w[1]), "{a}: not sorted/unique");
            assert!(!ns.contains(&a), "{a}: self loop");
            for &b in ns {
                assert!(b.index() < t.node_count());
                assert!(t.has_edge(b, a), "asymmetric {a}-{b}");
            }
            directed += ns.len();
        }
        assert_eq!(directed, 2 * t.edge_count());
        assert_eq!(t.edges().count(), t.edge_count());
    }

    #[test]
    fn node_id_displays_as_number() {
        assert_eq!(NodeId(3).to_string(), "3");
        assert_eq!(serde_json::to_string(&NodeId(3)).unwrap(), "3");
        assert_eq!(NodeId::from(7).index(), 7);
    }

    #[test]
    fn full_mesh_and_its_limit() {
        let t = full_mesh(5).unwrap();
        assert_simple(&t);
        assert_eq!(t.edge_count(), 10);
        assert_eq!(t.degree_histogram(), vec![0, 0, 0, 0, 5]);
        assert!(t.is_connected());
        assert_eq!(
            full_mesh(FULL_MESH_MAX_NODES + 1),
            Err(TopologyError::FullMeshTooLarge { n: 2001, max: 2000 })
        );
        assert_eq!(full_mesh(0), Err(TopologyError::NoNodes));
    }

    #[test]
    fn ring_shapes() {
        let t = ring(6).unwrap();
        assert_simple(&t);
        assert_eq!(t.edge_count(), 6);
        assert_eq!(t.neighbors(NodeId(0)), &[NodeId(1), NodeId(5)]);
        assert!(t.is_connected());
        assert_eq!(ring(2).unwrap().edge_count(), 1);
        let one = ring(1).unwrap();
        assert_eq!((one.edge_count(), one.is_connected()), (0, true));
    }

    #[test]
    fn random_regular_degrees_and_errors() {
        for (n, k) in [(10, 3), (50, 8), (7, 6), (1000, 8), (10, 0)] {
            let t = random_regular(n, k, &mut rng(1)).unwrap();
            assert_simple(&t);
            assert!(t.nodes().all(|v| t.degree(v) == k), "n={n} k={k}");
            assert_eq!(t.edge_count(), n * k / 2);
        }
        assert!(random_regular(1000, 8, &mut rng(2)).unwrap().is_connected());
        assert_eq!(
            random_regular(5, 3, &mut rng(1)),
            Err(TopologyError::OddDegreeSum { n: 5, k: 3 })
        );
        assert_eq!(
            random_regular(4, 4, &mut rng(1)),
            Err(TopologyError::DegreeTooHigh { k: 4, n: 4 })
        );
    }

    #[test]
    fn erdos_renyi_density() {
        let (n, p) = (2000, 0.004);
        let t = erdos_renyi(n, p, &mut rng(3)).unwrap();
        assert_simple(&t);
        let expected = p * (n * (n - 1) / 2) as f64; // 7996
        let sd = expected.sqrt();
        assert!(
            (t.edge_count() as f64 - expected).abs() < 5.0 * sd,
            "{} edges, expected {expected}",
            t.edge_count()
        );
        assert_eq!(erdos_renyi(10, 0.0, &mut rng(3)).unwrap().edge_count(), 0);
        assert_eq!(erdos_renyi(10, 1.0, &mut rng(3)).unwrap().edge_count(), 45);
        assert!(matches!(
            erdos_renyi(10, 1.5, &mut rng(3)),
            Err(TopologyError::InvalidProbability { name: "p", .. })
        ));
        assert!(matches!(
            erdos_renyi(10, f64::NAN, &mut rng(3)),
            Err(TopologyError::InvalidProbability { .. })
        ));
        assert!(matches!(
            erdos_renyi(100_000, 0.5, &mut rng(3)),
            Err(TopologyError::TooDense { .. })
        ));
    }

    #[test]
    fn small_world_keeps_edge_count() {
        let lattice = small_world(20, 4, 0.0, &mut rng(4)).unwrap();
        assert_simple(&lattice);
        assert!(lattice.nodes().all(|v| lattice.degree(v) == 4));
        assert_eq!(
            lattice.neighbors(NodeId(0)),
            &[NodeId(1), NodeId(2), NodeId(18), NodeId(19)]
        );
        let rewired = small_world(1000, 6, 0.2, &mut rng(4)).unwrap();
        assert_simple(&rewired);
        assert_eq!(rewired.edge_count(), 3000);
        assert!(rewired.max_degree() > 6, "some edges were rewired");
        // Complete lattice: nothing can be rewired, nothing breaks.
        let full = small_world(5, 4, 1.0, &mut rng(4)).unwrap();
        assert_eq!(full.edge_count(), 10);
        assert_eq!(
            small_world(10, 3, 0.1, &mut rng(4)),
            Err(TopologyError::OddLatticeDegree { k: 3 })
        );
        assert!(small_world(10, 2, -0.1, &mut rng(4)).is_err());
    }

    #[test]
    fn from_edges_validates() {
        let t = from_edges(4, &[(0, 1), (2, 1), (3, 0)]).unwrap();
        assert_simple(&t);
        assert_eq!(t.neighbors(NodeId(1)), &[NodeId(0), NodeId(2)]);
        assert!(t.is_connected());
        assert!(!from_edges(4, &[(0, 1)]).unwrap().is_connected());
        assert_eq!(
            from_edges(3, &[(0, 3)]),
            Err(TopologyError::NodeOutOfRange { a: 0, b: 3, n: 3 })
        );
        assert_eq!(
            from_edges(3, &[(1, 1)]),
            Err(TopologyError::SelfLoop { node: 1 })
        );
        assert_eq!(
            from_edges(3, &[(0, 1), (1, 0)]),
            Err(TopologyError::DuplicateEdge { a: 0, b: 1 })
        );
    }

    #[test]
    fn petgraph_round_trip() {
        let t = random_regular(100, 4, &mut rng(5)).unwrap();
        let g = t.to_graph();
        assert_eq!((g.node_count(), g.edge_count()), (100, 200));
        assert_eq!(Topology::from_graph(&g).unwrap(), t);
    }

    #[test]
    fn bitcoin_outbound_fixed_count() {
        let t = bitcoin_outbound(500, 8, 125, &mut rng(6)).unwrap();
        assert_simple(&t);
        // Every node opened 8 links, so each has degree >= 8 and the graph
        // has exactly 8 edges per node.
        assert_eq!(t.edge_count(), 500 * 8);
        assert!(t.nodes().all(|v| t.degree(v) >= 8));
        assert!(t.max_degree() <= 8 + 125);
        assert!(t.is_connected());
        // Tight inbound capacity: at most 2 inbound per node.
        let tight = bitcoin_outbound(50, 2, 2, &mut rng(6)).unwrap();
        assert_simple(&tight);
        assert!(tight.max_degree() <= 4);
        assert!(tight.edge_count() <= 100);
        assert!(bitcoin_outbound(5, 5, 10, &mut rng(6)).is_err());
    }

    #[test]
    fn simblock_distribution_mean_outbound_is_about_8_6() {
        // Exact mean of the table: sum over k of k * P(k) = 8.645.
        let mean_table: f64 = SIMBLOCK_2019_OUTBOUND_CDF
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let prev = if i == 0 {
                    0.0
                } else {
                    SIMBLOCK_2019_OUTBOUND_CDF[i - 1]
                };
                (i + 1) as f64 * (c - prev)
            })
            .sum();
        assert!((mean_table - 8.645).abs() < 1e-9, "{mean_table}");
        let n = 10_000;
        let t = bitcoin_outbound_distribution(n, &SIMBLOCK_2019_OUTBOUND_CDF, 125, &mut rng(7))
            .unwrap();
        assert_simple(&t);
        let mean_outbound = t.edge_count() as f64 / n as f64;
        assert!((mean_outbound - 8.645).abs() < 0.01, "{mean_outbound}");
        assert!(
            (t.mean_degree() - 17.29).abs() < 0.05,
            "{}",
            t.mean_degree()
        );
        assert!(t.is_connected());
        assert!(t.nodes().all(|v| t.degree(v) >= 1));
    }

    #[test]
    fn invalid_cumulative_tables() {
        for bad in [
            &[][..],
            &[0.5, 0.4, 1.0][..],
            &[0.5, 0.9][..],
            &[-0.1, 1.0][..],
        ] {
            assert!(
                matches!(
                    bitcoin_outbound_distribution(10, bad, 10, &mut rng(8)),
                    Err(TopologyError::InvalidCumulative { .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn generators_are_deterministic_per_seed() {
        type Gen = fn(&mut ChaCha12Rng) -> Topology;
        let gens: [Gen; 4] = [
            |r| random_regular(300, 6, r).unwrap(),
            |r| erdos_renyi(300, 0.03, r).unwrap(),
            |r| small_world(300, 6, 0.3, r).unwrap(),
            |r| bitcoin_outbound_distribution(300, &SIMBLOCK_2019_OUTBOUND_CDF, 125, r).unwrap(),
        ];
        for (i, g) in gens.iter().enumerate() {
            assert_eq!(g(&mut rng(9)), g(&mut rng(9)), "generator {i}");
            assert_ne!(g(&mut rng(9)), g(&mut rng(10)), "generator {i}");
        }
    }

    #[test]
    fn ten_thousand_nodes() {
        let mut r = rng(11);
        let t = random_regular(10_000, 8, &mut r).unwrap();
        assert_eq!(t.edge_count(), 40_000);
        assert!(t.is_connected());
        let t = small_world(10_000, 8, 0.1, &mut r).unwrap();
        assert_eq!(t.edge_count(), 40_000);
        let t = erdos_renyi(10_000, 0.001, &mut r).unwrap();
        assert_simple(&t);
    }

    proptest! {
        #[test]
        fn from_edges_keeps_every_valid_edge(
            n in 2usize..30,
            raw in proptest::collection::vec((0u32..30, 0u32..30), 0..60),
        ) {
            let mut edges: Vec<(u32, u32)> = raw
                .into_iter()
                .filter(|&(a, b)| a != b && (a as usize) < n && (b as usize) < n)
                .map(|(a, b)| (a.min(b), a.max(b)))
                .collect();
            edges.sort_unstable();
            edges.dedup();
            let t = from_edges(n, &edges).unwrap();
            assert_simple(&t);
            let got: Vec<(u32, u32)> = t.edges().map(|(a, b)| (a.0, b.0)).collect();
            prop_assert_eq!(got, edges);
        }

        #[test]
        fn random_generators_are_simple(seed in any::<u64>(), n in 2usize..60) {
            let mut r = rng(seed);
            assert_simple(&erdos_renyi(n, 0.2, &mut r).unwrap());
            let k = (n - 1).min(4) & !1;
            assert_simple(&small_world(n, k, 0.5, &mut r).unwrap());
            assert_simple(&bitcoin_outbound(n, (n - 1).min(3), 4, &mut r).unwrap());
            if n * 3 % 2 == 0 && n > 3 {
                let t = random_regular(n, 3, &mut r).unwrap();
                prop_assert!(t.nodes().all(|v| t.degree(v) == 3));
            }
        }
    }
}
