//! The one [`Event`] enum of a run and the network [`Msg`]s nodes exchange.
//!
//! Every event feeds the run's digest ([`Event::digest_words`]) so `sim
//! replay` can confirm a run reproduces exactly.

pub use crate::node::msg::{Msg, NodeIdx, INV_ENTRY_BYTES, MSG_HEADER_BYTES};

/// The `peer` of an [`Event::TxFlush`] for the timer a node's inbound peers
/// share.
pub const INBOUND: NodeIdx = NodeIdx::MAX;

/// Something that happens at an instant of simulated time.
#[derive(Clone, Debug)]
pub enum Event {
    /// A miner finds a block (cancelled and redrawn when its rate changes).
    Mine {
        /// The miner.
        node: NodeIdx,
    },
    /// A block node `node` reconstructed from `from`'s compact block has
    /// been validated for the node's validation time.
    Validated {
        /// The node.
        node: NodeIdx,
        /// The peer the compact block came from.
        from: NodeIdx,
        /// The block.
        block: std::rc::Rc<crate::ledger::Block>,
        /// Its hash.
        hash: crate::ledger::BlockHash,
    },
    /// A message arrives at `to` (latency, transmission, processing and
    /// validation delays already elapsed).
    Deliver {
        /// Sender.
        from: NodeIdx,
        /// Receiver.
        to: NodeIdx,
        /// The message.
        msg: Msg,
    },
    /// A node announces the transactions it accepted since its last flush
    /// (batched announcements, when the trickle is off).
    TxFlush {
        /// The announcing node.
        node: NodeIdx,
    },
    /// A node's transaction-trickle timer fires (`peer`: the outbound
    /// peer whose timer it is, or [`INBOUND`] for the inbound peers').
    TxTrickle {
        /// The announcing node.
        node: NodeIdx,
        /// The outbound peer, or [`INBOUND`].
        peer: NodeIdx,
    },
    /// The workload issues its next payment.
    Payment,
    /// A scheduled timeline action (index into the scenario's timeline).
    Timeline {
        /// Index into the sorted timeline.
        index: u32,
    },
    /// Sample wallet balances for `balances.csv`.
    SampleBalances,
    /// The time stop condition: mining stops, the settle period begins.
    StopMining,
    /// The end of the run.
    End,
    /// An adversary's timer: its behaviour switches on (the first time),
    /// or its periodic action is due.
    Adversary {
        /// Index into the scenario's `adversaries`.
        index: u32,
    },
    /// An input from outside the run, applied now (`sim serve FILE`; index
    /// into the world's live inputs, see [`crate::world::live`]).
    Live {
        /// Index into the run's live inputs, in the order they were applied.
        index: u32,
    },
}

impl Event {
    /// Four words that identify the event for the digest: kind, node(s),
    /// and a key of its payload.
    pub fn digest_words(&self) -> [u64; 3] {
        match self {
            Event::Mine { node } => [1, *node as u64, 0],
            Event::Deliver { from, to, msg } => [
                2 | (msg.tag() << 8),
                ((*from as u64) << 32) | *to as u64,
                msg.key(),
            ],
            Event::TxFlush { node } => [3, *node as u64, 0],
            Event::TxTrickle { node, peer } => [12, *node as u64, *peer as u64],
            Event::Payment => [4, 0, 0],
            Event::Timeline { index } => [5, *index as u64, 0],
            Event::SampleBalances => [6, 0, 0],
            Event::StopMining => [7, 0, 0],
            Event::End => [8, 0, 0],
            Event::Adversary { index } => [9, *index as u64, 0],
            Event::Validated {
                node, from, hash, ..
            } => [
                10,
                ((*from as u64) << 32) | *node as u64,
                u64::from_le_bytes(hash.as_bytes()[..8].try_into().expect("8 bytes")),
            ],
            Event::Live { index } => [11, *index as u64, 0],
        }
    }

    /// The node the event happens at, if any (for trace filters).
    pub fn node(&self) -> Option<NodeIdx> {
        match self {
            Event::Mine { node }
            | Event::TxFlush { node }
            | Event::TxTrickle { node, .. }
            | Event::Validated { node, .. } => Some(*node),
            Event::Deliver { to, .. } => Some(*to),
            _ => None,
        }
    }

    /// A one-line description for `sim replay --trace`.
    pub fn describe(&self) -> String {
        match self {
            Event::Mine { node } => format!("node {node}: mining timer fires"),
            Event::Deliver { from, to, msg } => {
                format!("node {to} <- node {from}: {}", msg.describe())
            }
            Event::TxFlush { node } => format!("node {node}: tx announcement timer fires"),
            Event::TxTrickle { node, peer } if *peer == INBOUND => {
                format!("node {node}: tx trickle timer of its inbound peers fires")
            }
            Event::TxTrickle { node, peer } => {
                format!("node {node}: tx trickle timer of outbound peer {peer} fires")
            }
            Event::Payment => "workload payment".to_string(),
            Event::Timeline { index } => format!("timeline action #{index}"),
            Event::SampleBalances => "sample balances".to_string(),
            Event::StopMining => "stop mining (time limit)".to_string(),
            Event::End => "end of run".to_string(),
            Event::Adversary { index } => format!("adversary #{index} acts"),
            Event::Validated {
                node, from, hash, ..
            } => format!(
                "node {node}: validated block {} reconstructed from node {from}'s cmpctblock",
                hash.to_string().chars().take(12).collect::<String>()
            ),
            Event::Live { index } => format!("live input #{index}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The queue stores an event beside its 8-byte sequence number: at 56
    /// bytes an event keeps each queue slot to one 64-byte cache line
    /// (rare, large payloads such as `merkleblock` are boxed for this).
    #[test]
    fn an_event_and_its_sequence_number_fill_one_cache_line() {
        assert!(
            std::mem::size_of::<Msg>() <= 48,
            "{}",
            std::mem::size_of::<Msg>()
        );
        assert!(
            std::mem::size_of::<Event>() <= 56,
            "{}",
            std::mem::size_of::<Event>()
        );
    }
}
