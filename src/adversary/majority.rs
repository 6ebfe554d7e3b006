//! A majority attacker (> 50% of the hashrate).
//!
//! - Rewrite (`withhold: false`): when the behaviour switches on, the
//!   attacker forks from the block `depth` below the public tip and mines
//!   privately; as soon as its branch is strictly longer than the public one
//!   it publishes it, and every honest node reorganises at least `depth`
//!   blocks deep. Then it mines honestly.
//! - Block withholding (`withhold: true`): it mines on its own branch and
//!   never publishes; its hashrate is wasted, and the honest miners' share of
//!   the main chain rises to 100%.

use super::{honest_on_mined, honest_on_public_tip, Action, Adversary, RaceView};

/// The majority attacker.
#[derive(Clone, Debug)]
pub struct Majority {
    depth: u32,
    withhold: bool,
    rewritten: bool,
}

impl Majority {
    /// Rewrites from `depth` below the tip, or withholds every block.
    pub fn new(depth: u32, withhold: bool) -> Majority {
        Majority {
            depth,
            withhold,
            rewritten: false,
        }
    }
}

impl Adversary for Majority {
    fn kind(&self) -> &'static str {
        "majority"
    }

    fn fork_depth_at_start(&self) -> u32 {
        if self.withhold {
            0
        } else {
            self.depth
        }
    }

    fn on_mined(&mut self, v: &RaceView) -> Vec<Action> {
        if self.withhold {
            Vec::new()
        } else if self.rewritten {
            honest_on_mined(v)
        } else if v.private_len > v.public_len {
            self.rewritten = true;
            vec![Action::Publish {
                upto: v.private_len,
            }]
        } else {
            Vec::new()
        }
    }

    fn on_public_tip(&mut self, v: &RaceView) -> Vec<Action> {
        if self.rewritten {
            honest_on_public_tip(v)
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::view;
    use super::*;

    #[test]
    fn rewrites_once_then_turns_honest() {
        let mut m = Majority::new(6, false);
        assert_eq!(m.fork_depth_at_start(), 6);
        assert!(m.on_mined(&view(5, 6, 0)).is_empty());
        assert!(m.on_public_tip(&view(5, 7, 0)).is_empty());
        assert!(m.on_mined(&view(7, 7, 0)).is_empty());
        assert_eq!(
            m.on_mined(&view(8, 7, 0)),
            vec![Action::Publish { upto: 8 }]
        );
        assert_eq!(
            m.on_mined(&view(1, 0, 0)),
            vec![Action::Publish { upto: 1 }]
        );
        assert_eq!(m.on_public_tip(&view(0, 1, 0)), vec![Action::Adopt]);
    }

    #[test]
    fn withholding_never_publishes() {
        let mut m = Majority::new(6, true);
        assert_eq!(m.fork_depth_at_start(), 0);
        assert!(m.on_mined(&view(100, 1, 0)).is_empty());
        assert!(m.on_public_tip(&view(100, 50, 0)).is_empty());
    }
}
