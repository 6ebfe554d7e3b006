//! Adversaries: alternative node behaviours configured in a scenario's
//! `adversaries:` list, running the same ledger code as honest nodes.
//!
//! # The split
//!
//! An attacker is a full node like any other: it validates with the same
//! [`Chainstate`](crate::ledger::chainstate::Chainstate), keeps a mempool and
//! answers requests. What differs is *decisions*, and those live here, behind
//! one trait, [`Adversary`]: which blocks to publish and when, when to give
//! up a private branch, when to start and end a double-spend attempt, what an
//! eclipsed victim gets to see, which invalid item to send next. Strategies
//! are small state machines over a [`RaceView`] (the lengths of the private
//! branch and of the public chain since they forked); they return
//! [`Action`]s, and the attacker node ([`node::AttackerNode`]: a public full
//! node, a private branch and a strategy behind the same
//! `handle(input, ctx, outbox)` as an honest node) carries them out as
//! outputs that the world executes like any node's. So every strategy is
//! unit-tested here without a network, the attacker node in
//! `tests/attacker_harness.rs` without a world, and the world's hot path
//! pays for adversaries only at attacker nodes.
//!
//! | kind | strategy | models |
//! |---|---|---|
//! | `selfish` | [`selfish::Selfish`] | Eyal–Sirer selfish mining, stubborn variants |
//! | `double_spend` | [`double_spend::DoubleSpend`] | a payment raced by a private chain with a conflicting transaction |
//! | `eclipse` | [`eclipse::Eclipse`] | a victim whose every peer is the attacker, optionally double-spent |
//! | `majority` | [`majority::Majority`] | history rewriting from a chosen depth; block withholding |
//! | `invalid_data` | [`invalid_data::InvalidData`] | invalid blocks and transactions ([`invalid`] crafts them) |
//!
//! # The private branch
//!
//! An active attacker mines on a *private* chainstate of its own; its public
//! chainstate (what the node tells its peers about) only gets a private
//! block when the strategy publishes it. Lengths in a [`RaceView`] are
//! counted from the fork point of the private tip and the public tip (the
//! attacker's view of the network's best chain: most work, first seen among
//! equals).
//!
//! # Invariants
//!
//! - A strategy only publishes a prefix of its private branch
//!   ([`Action::Publish`] counts blocks from the fork point), so published
//!   blocks always connect.
//! - Strategies draw no randomness: a run stays a pure function of its seed.

pub mod attacker;
pub mod double_spend;
pub mod eclipse;
pub mod invalid;
pub mod invalid_data;
pub mod majority;
pub mod node;
pub mod selfish;

use crate::sim::SimDuration;

pub use invalid::InvalidKind;

/// Genesis coins a double-spending attacker is endowed with: one fresh coin
/// per attempt, so attempts are independent (a run ends its attempts when
/// they are used up).
pub const DOUBLE_SPEND_COINS: u32 = 256;

/// Fee of the payment and of the conflicting transaction of a double-spend
/// attempt, satoshis.
pub const DOUBLE_SPEND_FEE_SATS: u64 = 10_000;

/// Value of the one genesis coin of an `invalid_data` attacker (its
/// crafted transactions spend it; honest nodes reject them, so it stays
/// unspent).
pub const INVALID_DATA_COIN_SATS: u64 = 100_000_000;

/// Value of each genesis coin of a double-spending attacker paying
/// `amount_sats` per attempt.
pub fn attacker_coin_value(amount_sats: u64) -> u64 {
    amount_sats.saturating_add(DOUBLE_SPEND_FEE_SATS)
}

/// Total genesis endowment of a double-spending attacker paying
/// `amount_sats` per attempt ([`DOUBLE_SPEND_COINS`] coins).
pub fn attacker_endowment(amount_sats: u64) -> u64 {
    attacker_coin_value(amount_sats).saturating_mul(DOUBLE_SPEND_COINS as u64)
}

/// What an attacker sees when it decides, measured from the fork point of
/// its private tip and its public tip.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RaceView {
    /// Blocks on the private branch after the fork point.
    pub private_len: u32,
    /// Blocks on the public best chain after the fork point.
    pub public_len: u32,
    /// How many of the private blocks (a prefix) are already public.
    pub published: u32,
    /// Confirmations of the current double-spend payment where the merchant
    /// sees it (0: not confirmed there, or no attempt).
    pub merchant_confirmations: u32,
    /// Whether a double-spend attempt is running.
    pub attempt_open: bool,
}

impl RaceView {
    /// Private minus public length.
    pub fn lead(&self) -> i64 {
        self.private_len as i64 - self.public_len as i64
    }
}

/// How a double-spend attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// The merchant saw `z` confirmations and the attacker released its
    /// chain (success is decided by the final main chain).
    Released,
    /// The private chain fell `give_up_behind` blocks behind.
    GaveUp,
    /// The run ended first.
    Unfinished,
}

impl Outcome {
    /// The name written to `attacks.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Released => "released",
            Outcome::GaveUp => "gave_up",
            Outcome::Unfinished => "unfinished",
        }
    }
}

/// Something a strategy asks the world to do, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Make the first `upto` private blocks after the fork point public
    /// (those not yet public are announced to every peer).
    Publish {
        /// Blocks from the fork point.
        upto: u32,
    },
    /// Show the first `upto` private blocks to the eclipsed victim only.
    ShowVictim {
        /// Blocks from the fork point.
        upto: u32,
    },
    /// Drop the private branch and mine on the public tip.
    Adopt,
    /// Show the victim the public chain (ends an eclipse double spend).
    RevealPublicToVictim,
    /// Start a double-spend attempt now: pay the merchant, and put the
    /// conflicting transaction in the next private block.
    StartAttempt,
    /// End the running attempt.
    EndAttempt(Outcome),
    /// Send one invalid item of this kind to a peer.
    SendInvalid(InvalidKind),
}

/// How an attacker passes on honest blocks it receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relay {
    /// Like an honest node.
    Now,
    /// After this extra delay.
    Delay(SimDuration),
    /// Not at all.
    Never,
}

/// One attacker's behaviour. The world calls the hooks at the attacker's
/// events once the behaviour is on (its `start` time); before that the node
/// is honest.
pub trait Adversary: std::fmt::Debug + Send {
    /// The scenario kind (`selfish`, …).
    fn kind(&self) -> &'static str;

    /// Whether the attacker mines on a private chainstate (otherwise it mines
    /// and relays like an honest node, as `invalid_data` does).
    fn mines_privately(&self) -> bool {
        true
    }

    /// How many blocks below the public tip the private branch starts when
    /// the behaviour switches on (a majority rewrite; 0 = at the tip).
    fn fork_depth_at_start(&self) -> u32 {
        0
    }

    /// The behaviour switches on.
    fn on_start(&mut self) -> Vec<Action> {
        Vec::new()
    }

    /// The attacker found a block (already on its private branch).
    fn on_mined(&mut self, view: &RaceView) -> Vec<Action>;

    /// The attacker's public tip changed because of a block from a peer.
    fn on_public_tip(&mut self, view: &RaceView) -> Vec<Action>;

    /// The merchant's node changed tip during a double-spend attempt.
    fn on_merchant_tip(&mut self, _view: &RaceView) -> Vec<Action> {
        Vec::new()
    }

    /// Interval of [`Adversary::on_tick`], if the strategy has a timer.
    fn tick_interval(&self) -> Option<SimDuration> {
        None
    }

    /// The timer fired.
    fn on_tick(&mut self) -> Vec<Action> {
        Vec::new()
    }

    /// How honest blocks the attacker receives reach `peer` (`victim`: the
    /// peer is the attacker's eclipse victim). Default: a rational attacker
    /// never helps competing blocks along.
    fn relay(&self, _victim: bool) -> Relay {
        Relay::Never
    }
}

/// What an honest miner does, in race terms: publish every block it finds
/// and switch to a longer public chain.
pub fn honest_on_mined(view: &RaceView) -> Vec<Action> {
    vec![Action::Publish {
        upto: view.private_len,
    }]
}

/// The honest reaction to a public tip change: adopt a strictly longer
/// public chain.
pub fn honest_on_public_tip(view: &RaceView) -> Vec<Action> {
    if view.public_len > view.private_len {
        vec![Action::Adopt]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
pub(crate) fn view(private_len: u32, public_len: u32, published: u32) -> RaceView {
    RaceView {
        private_len,
        public_len,
        published,
        merchant_confirmations: 0,
        attempt_open: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn honest_publishes_and_adopts() {
        assert_eq!(
            honest_on_mined(&view(1, 0, 0)),
            vec![Action::Publish { upto: 1 }]
        );
        assert_eq!(honest_on_public_tip(&view(0, 1, 0)), vec![Action::Adopt]);
        assert!(honest_on_public_tip(&view(1, 1, 1)).is_empty());
    }

    #[test]
    fn endowment_is_coins_times_value() {
        assert_eq!(attacker_coin_value(100), 100 + DOUBLE_SPEND_FEE_SATS);
        assert_eq!(
            attacker_endowment(100),
            (100 + DOUBLE_SPEND_FEE_SATS) * DOUBLE_SPEND_COINS as u64
        );
        assert_eq!(view(3, 1, 0).lead(), 2);
    }
}
