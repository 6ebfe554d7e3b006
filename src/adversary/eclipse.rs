//! Eclipse (Heilman, Kendler, Zohar & Goldberg, "Eclipse Attacks on
//! Bitcoin's Peer-to-Peer Network", USENIX Security 2015): the attacker holds
//! every peer slot of a victim, so the victim sees only what the attacker
//! passes on. Honest blocks reach the victim `delay` late, or never
//! (`withhold`); to every other peer the attacker relays like an honest node.
//!
//! With `double_spend`, the merchant's node is the victim. An attempt: the
//! attacker pays the merchant through the victim only and gives the
//! conflicting transaction to the honest network; it mines a private branch
//! whose first block holds the payment and shows each private block to the
//! victim alone. Once the victim shows the payment with `z` confirmations,
//! the attempt is released: the attacker drops the branch and reveals the
//! public chain to the victim, which reorganises the payment away. With
//! `withhold`, the victim sees no competing honest blocks, so the attacker
//! never gives up; with a delay, it gives up `give_up_behind` blocks behind,
//! as in a plain double spend.

use super::double_spend::DoubleSpendParams;
use super::{honest_on_mined, honest_on_public_tip, Action, Adversary, Outcome, RaceView, Relay};
use crate::sim::SimDuration;

/// The eclipse attacker.
#[derive(Clone, Debug)]
pub struct Eclipse {
    withhold: bool,
    delay: SimDuration,
    double_spend: Option<DoubleSpendParams>,
}

impl Eclipse {
    /// An eclipse attacker; `double_spend` adds attempts against the victim's merchant.
    pub fn new(
        withhold: bool,
        delay: SimDuration,
        double_spend: Option<DoubleSpendParams>,
    ) -> Eclipse {
        Eclipse {
            withhold,
            delay,
            double_spend,
        }
    }

    fn decide(&self, p: &DoubleSpendParams, v: &RaceView) -> Vec<Action> {
        let end = |o| {
            vec![
                Action::EndAttempt(o),
                Action::Adopt,
                Action::RevealPublicToVictim,
                Action::StartAttempt,
            ]
        };
        if v.merchant_confirmations >= p.confirmations {
            end(Outcome::Released)
        } else if !self.withhold && v.public_len >= v.private_len + p.give_up_behind {
            end(Outcome::GaveUp)
        } else {
            Vec::new()
        }
    }
}

impl Adversary for Eclipse {
    fn kind(&self) -> &'static str {
        "eclipse"
    }

    fn on_start(&mut self) -> Vec<Action> {
        match self.double_spend {
            Some(_) => vec![Action::StartAttempt],
            None => Vec::new(),
        }
    }

    fn on_mined(&mut self, v: &RaceView) -> Vec<Action> {
        match &self.double_spend {
            Some(p) if v.attempt_open => {
                let mut out = vec![Action::ShowVictim {
                    upto: v.private_len,
                }];
                out.extend(self.decide(p, v));
                out
            }
            _ => honest_on_mined(v),
        }
    }

    fn on_public_tip(&mut self, v: &RaceView) -> Vec<Action> {
        match &self.double_spend {
            Some(p) if v.attempt_open => self.decide(p, v),
            _ => honest_on_public_tip(v),
        }
    }

    fn on_merchant_tip(&mut self, v: &RaceView) -> Vec<Action> {
        match &self.double_spend {
            Some(p) if v.attempt_open => self.decide(p, v),
            _ => Vec::new(),
        }
    }

    fn relay(&self, victim: bool) -> Relay {
        match (victim, self.withhold) {
            (false, _) => Relay::Now,
            (true, true) => Relay::Never,
            (true, false) => Relay::Delay(self.delay),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(private_len: u32, public_len: u32, confs: u32) -> RaceView {
        RaceView {
            private_len,
            public_len,
            published: 0,
            merchant_confirmations: confs,
            attempt_open: true,
        }
    }

    const P: DoubleSpendParams = DoubleSpendParams {
        confirmations: 2,
        give_up_behind: 3,
        premine: 0,
    };

    #[test]
    fn relay_policy() {
        let w = Eclipse::new(true, SimDuration::from_secs(5), None);
        assert_eq!(w.relay(true), Relay::Never);
        assert_eq!(w.relay(false), Relay::Now);
        let d = Eclipse::new(false, SimDuration::from_secs(5), None);
        assert_eq!(d.relay(true), Relay::Delay(SimDuration::from_secs(5)));
    }

    #[test]
    fn shows_private_blocks_and_releases_on_victim_confirmations() {
        let mut e = Eclipse::new(true, SimDuration::ZERO, Some(P));
        assert_eq!(e.on_start(), vec![Action::StartAttempt]);
        assert_eq!(
            e.on_mined(&attempt(1, 3, 0)),
            vec![Action::ShowVictim { upto: 1 }]
        );
        // Withholding: far behind does not matter, the victim cannot see it.
        assert!(e.on_public_tip(&attempt(1, 9, 1)).is_empty());
        let end = e.on_merchant_tip(&attempt(2, 9, 2));
        assert_eq!(end[0], Action::EndAttempt(Outcome::Released));
        assert_eq!(end[2], Action::RevealPublicToVictim);
        // Delaying: behind by give_up_behind gives up.
        let mut d = Eclipse::new(false, SimDuration::from_secs(30), Some(P));
        assert_eq!(
            d.on_public_tip(&attempt(1, 4, 0))[0],
            Action::EndAttempt(Outcome::GaveUp)
        );
        // Without a double spend it mines honestly.
        let mut h = Eclipse::new(true, SimDuration::ZERO, None);
        assert!(h.on_start().is_empty());
        assert_eq!(
            h.on_mined(&attempt(1, 0, 0)),
            vec![Action::Publish { upto: 1 }]
        );
    }
}
