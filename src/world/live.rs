//! Inputs from outside a run: the live lab's API calls and lab controls
//! (`sim serve FILE`), applied at an instant of simulated time so a session
//! replays exactly.
//!
//! The contract: an input is a [`LiveAction`] applied at a simulated time
//! `at` by [`World::inject`], which first processes every event at or before
//! `at`, then schedules an [`Event::Live`] at `at` and processes it. The
//! event goes through the queue like any other, so it takes a sequence
//! number, feeds the digest and shows in `sim replay --trace`. Replaying the
//! same actions at the same times into a world built from the same
//! configuration gives the same event stream, however the live session
//! split its advancing into slices ([`World::run_until`]): nothing depends
//! on where a slice ended, only on which events were at or before `at`.
//!
//! Pacing against the wall clock is not here (no wall clock in simulation
//! code): the server decides how far to advance, this module only obeys.
//!
//! This file also gives the server a read-only view of node state
//! ([`World::full_node`], [`World::peers_of`], …).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Event, Kind, NodeIdx, TimelineAction, World};
use crate::ledger::encode::{Decodable, Encodable};
use crate::ledger::Transaction;
use crate::net::topology::NodeId;
use crate::node::full::FullNode;
use crate::node::io::Input;
use crate::scenario::TxRelay;
use crate::sim::SimTime;

/// One input from outside the run. Serialized (one JSON object with an
/// `action` tag) in a live session's `inputs.jsonl`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum LiveAction {
    /// A signed transaction submitted to a full node's mempool (relayed if
    /// accepted). Recorded as its raw hex.
    SubmitTx {
        /// The node.
        node: NodeIdx,
        /// The transaction (legacy serialization, hex, in JSON).
        #[serde(with = "tx_hex")]
        tx: Arc<Transaction>,
    },
    /// The node's mining timer fires now: it assembles and finds its next
    /// block (ground for real when `pow.grind`).
    Mine {
        /// The node.
        node: NodeIdx,
    },
    /// Split the network (unlisted nodes form one more group).
    Partition {
        /// The groups of node ids.
        groups: Vec<Vec<u32>>,
    },
    /// Remove every partition.
    Heal,
    /// Take nodes offline.
    Offline {
        /// Node ids.
        nodes: Vec<u32>,
    },
    /// Bring nodes back online.
    Online {
        /// Node ids.
        nodes: Vec<u32>,
    },
    /// Change a node's hashrate.
    SetHashrate {
        /// The node.
        node: NodeIdx,
        /// Hashes per second (finite, ≥ 0).
        hps: f64,
    },
    /// Add a peer link between two full nodes (both ways); both then ask
    /// their peers for their tips.
    Connect {
        /// The node.
        node: NodeIdx,
        /// Its new peer.
        peer: NodeIdx,
    },
    /// The node asks every peer for its tip (`getheaders`-style), and
    /// switches to a better chain when one arrives.
    AskTips {
        /// The node.
        node: NodeIdx,
    },
}

impl LiveAction {
    /// One line for people: `node 1 mines a block`, `heal every partition`.
    pub fn describe(&self) -> String {
        let list = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
        match self {
            LiveAction::SubmitTx { node, tx } => {
                format!("transaction {} submitted to node {node}", tx.compute_txid())
            }
            LiveAction::Mine { node } => format!("node {node} mines a block now"),
            LiveAction::Partition { groups } => format!(
                "partition into {}",
                groups
                    .iter()
                    .map(|g| format!("[{}]", list(g)))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            LiveAction::Heal => "heal every partition".into(),
            LiveAction::Offline { nodes } => format!("nodes [{}] go offline", list(nodes)),
            LiveAction::Online { nodes } => format!("nodes [{}] come back online", list(nodes)),
            LiveAction::SetHashrate { node, hps } => format!("node {node} hashrate to {hps} H/s"),
            LiveAction::Connect { node, peer } => format!("node {node} connects to node {peer}"),
            LiveAction::AskTips { node } => format!("node {node} asks its peers for their tips"),
        }
    }
}

/// Serializes a transaction as the hex of its legacy encoding.
mod tx_hex {
    use super::*;

    pub fn serialize<S: serde::Serializer>(tx: &Arc<Transaction>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(tx.encode()))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Arc<Transaction>, D::Error> {
        let text = String::deserialize(d)?;
        Transaction::from_hex(&text)
            .map(Arc::new)
            .map_err(|e| serde::de::Error::custom(format!("transaction hex: {e}")))
    }
}

/// Why an input cannot be applied (nothing happened).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LiveError {
    /// The run has ended.
    #[error("the run has ended")]
    Ended,
    /// The time is before the world's current time.
    #[error("simulated time {at} is before the current time {now}")]
    InThePast {
        /// The time asked for.
        at: SimTime,
        /// The world's time.
        now: SimTime,
    },
    /// No such node.
    #[error("node {node}: the run has nodes 0 to {last}")]
    UnknownNode {
        /// The id given.
        node: u32,
        /// The highest node id.
        last: u32,
    },
    /// The node is a light client, and the action needs a full node.
    #[error("node {0} is a light client, not a full node")]
    NotFull(u32),
    /// The node is offline.
    #[error("node {0} is offline")]
    Offline(u32),
    /// Mining has stopped (the stop condition was reached; the run is settling).
    #[error("mining has stopped: the run reached its stop condition and is settling")]
    MiningStopped,
    /// The scenario models transaction relay instead of sending messages.
    #[error("this scenario models transaction relay (workload.relay: flood); submitting transactions needs relay: messages")]
    FloodRelay,
    /// A node listed twice in a partition.
    #[error("node {0} is listed in two partition groups")]
    TwoGroups(u32),
    /// A hashrate that is negative or not a number.
    #[error("hashrate {0} is not a finite number of 0 or more")]
    BadHashrate(f64),
    /// A node asked to connect to itself.
    #[error("node {0} cannot connect to itself")]
    SelfLink(u32),
}

impl World {
    /// Processes the events at or before `t`, at most `max` of them. Returns
    /// whether every event at or before `t` has been processed (or the run
    /// ended), i.e. whether the world has reached `t`.
    pub fn run_until(&mut self, t: SimTime, max: u64) -> bool {
        let mut done = 0;
        while !self.ended {
            match self.queue.peek_time() {
                Some(next) if next <= t => {
                    if done == max {
                        return false;
                    }
                    self.step(1);
                    done += 1;
                }
                Some(_) => return true,
                None => {
                    self.ended = true;
                }
            }
        }
        true
    }

    /// Whether `action` could be applied now (see [`LiveError`]).
    pub fn check_live(&self, action: &LiveAction) -> Result<(), LiveError> {
        if self.ended {
            return Err(LiveError::Ended);
        }
        let n = self.nodes.len() as u32;
        let known = |node: u32| {
            if node < n {
                Ok(())
            } else {
                Err(LiveError::UnknownNode {
                    node,
                    last: n.saturating_sub(1),
                })
            }
        };
        let full = |node: u32| {
            known(node)?;
            match self.nodes[node as usize].kind {
                Kind::Full(_) => Ok(()),
                Kind::Light(_) => Err(LiveError::NotFull(node)),
            }
        };
        let online = |node: u32| {
            full(node)?;
            if self.partitions.is_online(NodeId(node)) {
                Ok(())
            } else {
                Err(LiveError::Offline(node))
            }
        };
        match action {
            LiveAction::SubmitTx { node, .. } => {
                online(*node)?;
                if self.cfg.tx_relay == TxRelay::Flood {
                    return Err(LiveError::FloodRelay);
                }
            }
            LiveAction::Mine { node } => {
                online(*node)?;
                if !self.mining {
                    return Err(LiveError::MiningStopped);
                }
            }
            LiveAction::Partition { groups } => {
                let mut seen = vec![false; n as usize];
                for &m in groups.iter().flatten() {
                    known(m)?;
                    if std::mem::replace(&mut seen[m as usize], true) {
                        return Err(LiveError::TwoGroups(m));
                    }
                }
            }
            LiveAction::Heal => {}
            LiveAction::Offline { nodes } | LiveAction::Online { nodes } => {
                for &m in nodes {
                    known(m)?;
                }
            }
            LiveAction::SetHashrate { node, hps } => {
                full(*node)?;
                if !hps.is_finite() || *hps < 0.0 {
                    return Err(LiveError::BadHashrate(*hps));
                }
            }
            LiveAction::Connect { node, peer } => {
                full(*node)?;
                full(*peer)?;
                if node == peer {
                    return Err(LiveError::SelfLink(*node));
                }
            }
            LiveAction::AskTips { node } => online(*node)?,
        }
        Ok(())
    }

    /// Applies `action` at simulated time `at` (not before the current
    /// time): processes every event at or before `at`, then the action as
    /// an [`Event::Live`] at `at`. Returns `at`. Nothing happens on error
    /// (the check is made after the world has reached `at`).
    pub fn inject(&mut self, at: SimTime, action: LiveAction) -> Result<SimTime, LiveError> {
        let now = self.queue.now();
        if at < now {
            return Err(LiveError::InThePast { at, now });
        }
        self.run_until(at, u64::MAX);
        self.check_live(&action)?;
        let index = self.live.len() as u32;
        self.live.push(action);
        self.queue
            .schedule(at, Event::Live { index })
            .expect("`at` is not before now");
        // Every event at or before `at` was processed and the new one has
        // the highest sequence number at `at`: it is the next one.
        self.step(1);
        Ok(at)
    }

    /// Carries out live input `index` (the [`Event::Live`] handler).
    #[inline(never)]
    pub(super) fn apply_live(&mut self, index: usize) {
        let action = self.live[index].clone();
        match action {
            LiveAction::SubmitTx { node, tx } => {
                let txid = tx.compute_txid();
                // The action came from another thread (`Arc`); the world
                // shares its transactions within its own thread (`Rc`).
                self.submit_tx(node, txid, std::rc::Rc::new(Transaction::clone(&tx)));
            }
            LiveAction::Mine { node } => self.mine(node),
            LiveAction::Partition { groups } => {
                self.apply_timeline(TimelineAction::Partition(groups))
            }
            LiveAction::Heal => self.apply_timeline(TimelineAction::HealAll),
            LiveAction::Offline { nodes } => self.apply_timeline(TimelineAction::Offline(nodes)),
            LiveAction::Online { nodes } => self.apply_timeline(TimelineAction::Online(nodes)),
            LiveAction::SetHashrate { node, hps } => {
                self.apply_timeline(TimelineAction::SetHashrate { node, hps })
            }
            LiveAction::Connect { node, peer } => self.connect(node, peer),
            LiveAction::AskTips { node } => self.call(node, Input::PeersChanged { ask_tips: true }),
        }
    }

    /// Links full nodes `a` and `b` (if not yet linked); both then exchange
    /// tips with all their peers.
    fn connect(&mut self, a: NodeIdx, b: NodeIdx) {
        if !self.nodes[a as usize].peers.contains(&b) {
            self.nodes[a as usize].peers.push(b);
            self.nodes[b as usize].peers.push(a);
            self.note_hint_addrs(a);
            self.note_hint_addrs(b);
            self.flood.invalidate();
        }
        for i in [a, b] {
            if self.partitions.is_online(NodeId(i)) {
                self.call(i, Input::PeersChanged { ask_tips: true });
            }
        }
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Node `i`'s full state (`None` for a light client or an unknown id).
    pub fn full_node(&self, i: NodeIdx) -> Option<&FullNode> {
        match &self.nodes.get(i as usize)?.kind {
            Kind::Full(f) => Some(f),
            Kind::Light(_) => None,
        }
    }

    /// Node `i`'s peers (empty for an unknown id).
    pub fn peers_of(&self, i: NodeIdx) -> &[NodeIdx] {
        self.nodes.get(i as usize).map_or(&[], |n| &n.peers)
    }

    /// Node `i`'s configuration as it is now (hashrate after changes).
    pub fn node_spec(&self, i: NodeIdx) -> Option<&super::NodeSpec> {
        self.nodes.get(i as usize).map(|n| &n.spec)
    }

    /// Whether node `i` is online.
    pub fn is_online(&self, i: NodeIdx) -> bool {
        (i as usize) < self.nodes.len() && self.partitions.is_online(NodeId(i))
    }

    /// Node `i`'s partition group (0 when not partitioned).
    pub fn partition_group(&self, i: NodeIdx) -> u32 {
        if (i as usize) < self.nodes.len() {
            self.partitions.group_of(NodeId(i))
        } else {
            0
        }
    }

    /// Whether miners still mine (false once the stop condition was reached).
    pub fn is_mining(&self) -> bool {
        self.mining
    }

    /// The simulated time of the next pending event, if any.
    pub fn next_event_time(&self) -> Option<SimTime> {
        self.queue.peek_time()
    }

    /// What has been observed so far.
    pub fn metrics(&self) -> &crate::metrics::Recorder {
        &self.metrics
    }

    /// The live inputs applied so far, in order.
    pub fn live_inputs(&self) -> &[LiveAction] {
        &self.live
    }
}
