//! Double spending by a block race (Nakamoto 2008 §11; Rosenfeld, "Analysis
//! of Hashrate-Based Double Spending", 2014).
//!
//! One attempt: the attacker's wallet pays the merchant through the honest
//! network, and from that moment the attacker mines a private chain on its
//! tip whose first block holds a conflicting transaction paying the same
//! coin back to itself. It releases the private chain as soon as it is
//! strictly longer than the public one *and* the merchant's node shows the
//! payment with `z` confirmations; it gives up when the public chain is
//! `give_up_behind` blocks ahead. Then the next attempt starts, with a fresh
//! coin. Whether a released attempt succeeded is read from the final main
//! chain (the payment is not on it).
//!
//! Between attempts (coins used up) the attacker mines honestly.

use super::{honest_on_mined, honest_on_public_tip, Action, Adversary, Outcome, RaceView};

/// The parameters of an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DoubleSpendParams {
    /// Confirmations z the merchant waits for.
    pub confirmations: u32,
    /// Give up when this many blocks behind.
    pub give_up_behind: u32,
}

/// The double-spend strategy.
#[derive(Clone, Debug)]
pub struct DoubleSpend {
    params: DoubleSpendParams,
}

impl DoubleSpend {
    /// A double spender with these parameters.
    pub fn new(params: DoubleSpendParams) -> DoubleSpend {
        DoubleSpend { params }
    }

    /// The decision at any event of a running attempt.
    fn decide(&self, v: &RaceView) -> Vec<Action> {
        if v.private_len > v.public_len && v.merchant_confirmations >= self.params.confirmations {
            vec![
                Action::Publish {
                    upto: v.private_len,
                },
                Action::EndAttempt(Outcome::Released),
                Action::StartAttempt,
            ]
        } else if v.public_len >= v.private_len + self.params.give_up_behind {
            vec![
                Action::Adopt,
                Action::EndAttempt(Outcome::GaveUp),
                Action::StartAttempt,
            ]
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
        vec![Action::StartAttempt]
    }

    fn on_mined(&mut self, v: &RaceView) -> Vec<Action> {
        if v.attempt_open {
            self.decide(v)
        } else {
            honest_on_mined(v)
        }
    }

    fn on_public_tip(&mut self, v: &RaceView) -> Vec<Action> {
        if v.attempt_open {
            self.decide(v)
        } else {
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
}
