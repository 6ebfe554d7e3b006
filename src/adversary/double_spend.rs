//! Double spending by a block race (Nakamoto 2008 §11; Rosenfeld, "Analysis
//! of Hashrate-Based Double Spending", 2014).
//!
//! One attempt: the attacker's wallet pays the merchant through the honest
//! network, and from that moment the attacker mines a private chain on its
//! tip holding a conflicting transaction paying the same coin back to
//! itself. It releases the private chain as soon as it is strictly longer
//! than the public one *and* the merchant's node shows the payment with `z`
//! confirmations; it gives up when the public chain is `give_up_behind`
//! blocks ahead. Then the next attempt starts, with a fresh coin. Whether a
//! released attempt succeeded is read from the final main chain (the
//! payment is not on it).
//!
//! With `premine: 1` (Rosenfeld's attacker, the model Nakamoto's table
//! approximates) the attacker first mines one private block on the public
//! tip and only then pays, so the race starts with its chain one block
//! ahead; if an honest block arrives first it adopts it and pre-mines again
//! (nothing is paid yet, so nothing is lost). The conflicting transaction
//! rides in the first private block after the payment: the attacker only
//! releases once the merchant has `z ≥ 1` confirmations and its chain is
//! longer still, so that block is always in what it releases. With
//! `premine: 0` (the default) the attempt starts at once.
//!
//! Between attempts (coins used up) the attacker mines honestly.

use super::{
    honest_on_mined, honest_on_public_tip, Action, Adversary, Outcome, RaceView, DOUBLE_SPEND_COINS,
};

/// The parameters of an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DoubleSpendParams {
    /// Confirmations z the merchant waits for.
    pub confirmations: u32,
    /// Give up when this many blocks behind.
    pub give_up_behind: u32,
    /// Private blocks mined on the tip before paying (0 or 1).
    pub premine: u32,
}

/// The double-spend strategy.
#[derive(Clone, Debug)]
pub struct DoubleSpend {
    params: DoubleSpendParams,
    /// Attempts asked for so far (one coin each).
    started: u32,
}

impl DoubleSpend {
    /// A double spender with these parameters.
    pub fn new(params: DoubleSpendParams) -> DoubleSpend {
        DoubleSpend { params, started: 0 }
    }

    /// Asks for the next attempt.
    fn start(&mut self) -> Action {
        self.started += 1;
        Action::StartAttempt
    }

    /// Whether it is pre-mining for the next attempt (a coin is left and
    /// the strategy pre-mines).
    fn premining(&self, v: &RaceView) -> bool {
        self.params.premine > 0 && !v.attempt_open && self.started < DOUBLE_SPEND_COINS
    }

    /// What follows the end of an attempt: the next one at once, or
    /// pre-mining for it (from the public tip, which `Adopt` or the release
    /// has just made the private tip too).
    fn next(&mut self) -> Option<Action> {
        (self.params.premine == 0).then(|| self.start())
    }

    /// The decision at any event of a running attempt.
    fn decide(&mut self, v: &RaceView) -> Vec<Action> {
        if v.private_len > v.public_len && v.merchant_confirmations >= self.params.confirmations {
            let mut out = vec![
                Action::Publish {
                    upto: v.private_len,
                },
                Action::EndAttempt(Outcome::Released),
            ];
            out.extend(self.next());
            out
        } else if v.public_len >= v.private_len + self.params.give_up_behind {
            let mut out = vec![Action::Adopt, Action::EndAttempt(Outcome::GaveUp)];
            out.extend(self.next());
            out
        } else {
            Vec::new()
        }
    }
}

impl Adversary for DoubleSpend {
    fn kind(&self) -> &'static str {
        "double_spend"
    }

    fn on_start(&mut self) -> Vec<Action> {
        if self.params.premine == 0 {
            vec![self.start()]
        } else {
            Vec::new() // pre-mine first
        }
    }

    fn on_mined(&mut self, v: &RaceView) -> Vec<Action> {
        if v.attempt_open {
            self.decide(v)
        } else if self.premining(v) {
            if v.lead() >= self.params.premine as i64 {
                vec![self.start()]
            } else {
                Vec::new()
            }
        } else {
            honest_on_mined(v)
        }
    }

    fn on_public_tip(&mut self, v: &RaceView) -> Vec<Action> {
        if v.attempt_open {
            self.decide(v)
        } else {
            // Pre-mining or honest: an honest block first means starting
            // over on it.
            honest_on_public_tip(v)
        }
    }

    fn on_merchant_tip(&mut self, v: &RaceView) -> Vec<Action> {
        if v.attempt_open {
            self.decide(v)
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ds() -> DoubleSpend {
        DoubleSpend::new(DoubleSpendParams {
            confirmations: 2,
            give_up_behind: 3,
            premine: 0,
        })
    }

    fn premined() -> DoubleSpend {
        DoubleSpend::new(DoubleSpendParams {
            premine: 1,
            ..ds().params
        })
    }

    fn v(private_len: u32, public_len: u32, confs: u32) -> RaceView {
        RaceView {
            private_len,
            public_len,
            published: 0,
            merchant_confirmations: confs,
            attempt_open: true,
        }
    }

    #[test]
    fn releases_only_when_longer_and_confirmed() {
        let mut d = ds();
        assert_eq!(d.on_start(), vec![Action::StartAttempt]);
        // Longer but the merchant has only one confirmation: wait.
        assert!(d.on_mined(&v(2, 1, 1)).is_empty());
        // Two confirmations but not longer: wait.
        assert!(d.on_public_tip(&v(2, 2, 2)).is_empty());
        // Longer and confirmed: release, next attempt.
        assert_eq!(
            d.on_mined(&v(3, 2, 2)),
            vec![
                Action::Publish { upto: 3 },
                Action::EndAttempt(Outcome::Released),
                Action::StartAttempt
            ]
        );
        // The merchant's confirmation can be the trigger too.
        assert_eq!(d.on_merchant_tip(&v(3, 2, 2)).len(), 3);
    }

    #[test]
    fn gives_up_when_far_behind() {
        let mut d = ds();
        assert!(d.on_public_tip(&v(1, 3, 2)).is_empty());
        assert_eq!(
            d.on_public_tip(&v(1, 4, 3)),
            vec![
                Action::Adopt,
                Action::EndAttempt(Outcome::GaveUp),
                Action::StartAttempt
            ]
        );
        // Without an attempt it mines honestly.
        let idle = RaceView {
            attempt_open: false,
            ..v(1, 0, 0)
        };
        assert_eq!(d.on_mined(&idle), vec![Action::Publish { upto: 1 }]);
    }

    #[test]
    fn premine_mines_one_block_then_pays() {
        let mut d = premined();
        assert!(d.on_start().is_empty(), "no payment yet");
        let idle = |p, q| RaceView {
            attempt_open: false,
            ..v(p, q, 0)
        };
        // An honest block first: start over on it.
        assert_eq!(d.on_public_tip(&idle(0, 1)), vec![Action::Adopt]);
        // Its own block first: pay now, one block ahead.
        assert_eq!(d.on_mined(&idle(1, 0)), vec![Action::StartAttempt]);
        // The race: a tie after the payment's block is not enough...
        assert!(d.on_merchant_tip(&v(1, 1, 1)).is_empty());
        // ...one more private block with z = 2 confirmations is.
        let released = d.on_mined(&v(3, 2, 2));
        assert_eq!(
            released,
            vec![
                Action::Publish { upto: 3 },
                Action::EndAttempt(Outcome::Released)
            ],
            "the next attempt pre-mines first"
        );
        // Giving up counts the pre-mined block: 1 private vs 4 public.
        assert_eq!(
            d.on_public_tip(&v(1, 4, 3)),
            vec![Action::Adopt, Action::EndAttempt(Outcome::GaveUp)]
        );
    }

    #[test]
    fn premine_stops_when_the_coins_are_used_up() {
        let mut d = premined();
        let idle = RaceView {
            attempt_open: false,
            ..v(1, 0, 0)
        };
        for _ in 0..DOUBLE_SPEND_COINS {
            assert_eq!(d.on_mined(&idle), vec![Action::StartAttempt]);
        }
        // No coin left: publish like an honest miner.
        assert_eq!(d.on_mined(&idle), vec![Action::Publish { upto: 1 }]);
    }
}
