//! Selfish mining (Eyal & Sirer, "Majority is not Enough: Bitcoin Mining is
//! Vulnerable", FC 2014, Algorithm 1) and the stubborn variants of Nayak,
//! Kumar, Miller & Shi ("Stubborn Mining: Generalizing Selfish Mining and
//! Combining with an Eclipse Attack", EuroS&P 2016).
//!
//! The paper's state machine, written over the [`RaceView`] (lead
//! Δ = private − public length since the fork):
//!
//! | event | Δ before | Eyal–Sirer | stubborn option |
//! |---|---|---|---|
//! | attacker finds a block | 0, in a tie race (public ≥ 1) | publish all: win the race | `equal_fork`: keep it private |
//! | attacker finds a block | < 0 (trailing), reaching 0 | — | `trail`: publish all, a tie race |
//! | attacker finds a block | otherwise | keep it private | |
//! | honest block, Δ after < 0 | | adopt the public chain | `trail: j`: keep mining privately while at most `j` behind |
//! | honest block, Δ after = 0 | | publish all: a tie race | |
//! | honest block, Δ after = 1 | | publish all: override | `lead`: publish only a match, a tie race |
//! | honest block, Δ after ≥ 2 | | publish up to the public length | |
//!
//! Which branch the honest miners extend in a tie is γ: set explicitly by the
//! world (a fixed set of honest nodes that prefer the attacker's block) or
//! left to the network.

use super::{Action, Adversary, RaceView};

/// The stubborn options (all off = Eyal–Sirer).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stubbornness {
    /// Lead stubbornness.
    pub lead: bool,
    /// Equal-fork stubbornness.
    pub equal_fork: bool,
    /// Trail stubbornness: blocks behind before adopting.
    pub trail: u32,
}

/// A selfish miner.
#[derive(Clone, Debug, Default)]
pub struct Selfish {
    stubborn: Stubbornness,
}

impl Selfish {
    /// A selfish miner with these stubborn options.
    pub fn new(stubborn: Stubbornness) -> Selfish {
        Selfish { stubborn }
    }
}

impl Adversary for Selfish {
    fn kind(&self) -> &'static str {
        "selfish"
    }

    fn on_mined(&mut self, v: &RaceView) -> Vec<Action> {
        let before = v.lead() - 1;
        let all = Action::Publish {
            upto: v.private_len,
        };
        if before == 0 && v.public_len >= 1 {
            // A tie race, and we just pulled ahead.
            if self.stubborn.equal_fork {
                Vec::new()
            } else {
                vec![all]
            }
        } else if before < 0 && v.lead() == 0 {
            // Trailing (trail stubbornness) and caught up: race.
            vec![all]
        } else {
            Vec::new()
        }
    }

    fn on_public_tip(&mut self, v: &RaceView) -> Vec<Action> {
        if v.public_len == 0 {
            // The public chain is a prefix of ours: nothing to answer.
            return Vec::new();
        }
        match v.lead() {
            d if d < 0 => {
                if (-d) as u64 > self.stubborn.trail as u64 {
                    vec![Action::Adopt]
                } else {
                    Vec::new()
                }
            }
            0 => vec![Action::Publish {
                upto: v.private_len,
            }],
            1 if !self.stubborn.lead => vec![Action::Publish {
                upto: v.private_len,
            }],
            _ => vec![Action::Publish { upto: v.public_len }],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::view;
    use super::*;

    fn es() -> Selfish {
        Selfish::default()
    }

    #[test]
    fn eyal_sirer_state_machine() {
        let mut s = es();
        // State 0 → 1: keep the block.
        assert!(s.on_mined(&view(1, 0, 0)).is_empty());
        // State 1 → 2: keep.
        assert!(s.on_mined(&view(2, 0, 0)).is_empty());
        // Lead 2, honest finds one (Δ after = 1): publish all, override.
        assert_eq!(
            s.on_public_tip(&view(2, 1, 0)),
            vec![Action::Publish { upto: 2 }]
        );
        // Lead 1, honest finds one (Δ after = 0): publish, tie race (0').
        assert_eq!(
            s.on_public_tip(&view(1, 1, 0)),
            vec![Action::Publish { upto: 1 }]
        );
        // In 0', attacker finds the next block: publish all, win.
        assert_eq!(
            s.on_mined(&view(2, 1, 1)),
            vec![Action::Publish { upto: 2 }]
        );
        // In 0', honest extends the honest branch: adopt.
        assert_eq!(s.on_public_tip(&view(1, 2, 1)), vec![Action::Adopt]);
        // State 0, honest finds a block: adopt.
        assert_eq!(s.on_public_tip(&view(0, 1, 0)), vec![Action::Adopt]);
        // Long lead: reveal one block per honest block.
        assert_eq!(
            s.on_public_tip(&view(5, 2, 1)),
            vec![Action::Publish { upto: 2 }]
        );
        // Honest mined on our published block: public is our prefix.
        assert!(s.on_public_tip(&view(3, 0, 2)).is_empty());
    }

    #[test]
    fn stubborn_variants() {
        let mut lead = Selfish::new(Stubbornness {
            lead: true,
            ..Default::default()
        });
        // Lead 2 → 1: only match, keep racing.
        assert_eq!(
            lead.on_public_tip(&view(2, 1, 0)),
            vec![Action::Publish { upto: 1 }]
        );
        let mut fork = Selfish::new(Stubbornness {
            equal_fork: true,
            ..Default::default()
        });
        // In a tie race, keep the new block private.
        assert!(fork.on_mined(&view(2, 1, 1)).is_empty());
        let mut trail = Selfish::new(Stubbornness {
            trail: 2,
            ..Default::default()
        });
        assert!(trail.on_public_tip(&view(0, 1, 0)).is_empty());
        assert!(trail.on_public_tip(&view(1, 3, 0)).is_empty());
        assert_eq!(trail.on_public_tip(&view(1, 4, 0)), vec![Action::Adopt]);
        // Catching up from behind: publish for a tie.
        assert_eq!(
            trail.on_mined(&view(3, 3, 0)),
            vec![Action::Publish { upto: 3 }]
        );
    }
}
