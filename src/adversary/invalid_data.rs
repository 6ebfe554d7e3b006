//! The `invalid_data` adversary: every `interval` it sends one invalid item,
//! cycling through its `kinds` ([`super::invalid`] crafts them with the real
//! ledger code). Otherwise it mines and relays like an honest node, so its
//! tip follows the network and crafted blocks extend the honest tip.
//!
//! The world sends each item to one connected peer at a time, rotating, so a
//! run shows every rejection reason before honest nodes have disconnected
//! the attacker (one consensus-invalid item already reaches Core's
//! discouragement threshold, see [`crate::node::score`]).

use super::{honest_on_mined, honest_on_public_tip, Action, Adversary, InvalidKind, RaceView};
use crate::sim::SimDuration;

/// The invalid-data sender.
#[derive(Clone, Debug)]
pub struct InvalidData {
    interval: SimDuration,
    kinds: Vec<InvalidKind>,
    next: usize,
}

impl InvalidData {
    /// Sends one of `kinds` (cycled, must not be empty) every `interval`.
    pub fn new(interval: SimDuration, kinds: Vec<InvalidKind>) -> InvalidData {
        InvalidData {
            interval,
            kinds,
            next: 0,
        }
    }

    fn send_next(&mut self) -> Vec<Action> {
        let Some(kind) = self.kinds.get(self.next % self.kinds.len().max(1)).copied() else {
            return Vec::new();
        };
        self.next += 1;
        vec![Action::SendInvalid(kind)]
    }
}

impl Adversary for InvalidData {
    fn kind(&self) -> &'static str {
        "invalid_data"
    }

    fn mines_privately(&self) -> bool {
        false
    }

    fn on_start(&mut self) -> Vec<Action> {
        self.send_next()
    }

    fn on_mined(&mut self, v: &RaceView) -> Vec<Action> {
        honest_on_mined(v)
    }

    fn on_public_tip(&mut self, v: &RaceView) -> Vec<Action> {
        honest_on_public_tip(v)
    }

    fn tick_interval(&self) -> Option<SimDuration> {
        Some(self.interval)
    }

    fn on_tick(&mut self) -> Vec<Action> {
        self.send_next()
    }

    fn relay(&self, _victim: bool) -> super::Relay {
        super::Relay::Now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_through_kinds() {
        let mut a = InvalidData::new(
            SimDuration::from_secs(1),
            vec![InvalidKind::BadPow, InvalidKind::BadBits],
        );
        assert!(!a.mines_privately());
        assert_eq!(a.on_start(), vec![Action::SendInvalid(InvalidKind::BadPow)]);
        assert_eq!(a.on_tick(), vec![Action::SendInvalid(InvalidKind::BadBits)]);
        assert_eq!(a.on_tick(), vec![Action::SendInvalid(InvalidKind::BadPow)]);
        assert_eq!(a.tick_interval(), Some(SimDuration::from_secs(1)));
    }
}
