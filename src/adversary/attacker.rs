//! The attacker node: a public full node (an ordinary [`crate::node::full::FullNode`]
//! whose chain is what it tells and serves its peers), a private branch
//! (a second [`Chainstate`] sharing the run's block cache), and a strategy
//! ([`Adversary`]) that decides when to publish, adopt or start a double
//! spend.
//!
//! This file holds the attacker's state and the pure parts of its
//! behaviour: where its private and public chains part ([`race`]), which
//! blocks a victim has not seen ([`unseen_path`]), and the two conflicting
//! payments of a double spend ([`double_spend_pair`]). The attacker as a
//! node — its inputs, and carrying out the strategy's actions (mining
//! privately, publishing, showing a victim a branch, double-spend attempts,
//! invalid items) as outputs — is [`super::node::AttackerNode`].

use std::rc::Rc;

use super::{Adversary, Outcome};
use crate::ledger::chainstate::Chainstate;
use crate::ledger::keys::PrivateKey;
use crate::ledger::{
    sighash, Amount, Block, BlockHash, OutPoint, ScriptBuf, Transaction, TxIn, TxOut, Txid,
};
use crate::node::msg::NodeIdx;
use crate::sim::SimTime;

/// Most blocks announced to a victim in one inventory.
pub const MAX_REVEAL: usize = 2_000;

/// A running double-spend attempt.
#[derive(Clone, Debug)]
pub struct Attempt {
    /// Its number among the adversary's attempts.
    pub index: u32,
    /// When it started.
    pub start: SimTime,
    /// The payment to the merchant.
    pub payment: Txid,
    /// The private tip when the attempt started (the fork point).
    pub base: BlockHash,
    /// Its height.
    pub base_height: u32,
}

/// A finished (or cut off) attempt.
#[derive(Clone, Debug)]
pub struct AttemptRecord {
    /// The attempt.
    pub attempt: Attempt,
    /// When it ended (`None`: still running when the run ended).
    pub end: Option<SimTime>,
    /// How it ended.
    pub outcome: Outcome,
    /// Private branch length at the end.
    pub private_len: u32,
    /// Public branch length at the end.
    pub public_len: u32,
}

/// An attacker node's own state beside its public full node: its
/// strategy, its private branch, its coins and keys, its victims and the
/// record of its attempts.
pub struct Attacker {
    pub(crate) node: NodeIdx,
    pub(crate) strategy: Box<dyn Adversary>,
    pub(crate) started: bool,
    /// The private branch's chainstate (attackers that mine privately,
    /// once on).
    pub(crate) private: Option<Chainstate>,
    /// Transactions the next private block carries, with their fees.
    pub(crate) pending: Vec<(Rc<Transaction>, Amount)>,
    pub(crate) key: PrivateKey,
    pub(crate) script: ScriptBuf,
    pub(crate) coins: Vec<(OutPoint, Amount)>,
    pub(crate) next_coin: usize,
    pub(crate) victim: Option<NodeIdx>,
    /// The merchant's home node (double spends).
    pub(crate) merchant_home: Option<NodeIdx>,
    pub(crate) merchant_script: Option<ScriptBuf>,
    pub(crate) amount: u64,
    pub(crate) confirmations: u32,
    /// The payment goes to the victim only and the private branch carries it.
    pub(crate) eclipse_ds: bool,
    pub(crate) attempt: Option<Attempt>,
    pub(crate) records: Vec<AttemptRecord>,
    pub(crate) attempts_started: u32,
    /// Invalid data: the next peer in the rotation and an item counter.
    pub(crate) next_peer: usize,
    pub(crate) seq: u64,
}

impl Attacker {
    /// An attacker at node `node` with `strategy`, signing with `key`,
    /// owning `coins` (genesis outputs to `key`'s P2PKH address), with no
    /// victim and no merchant yet; its behaviour switches on at its first
    /// [`crate::node::io::Input::AdversaryTick`].
    pub fn new(
        node: NodeIdx,
        strategy: Box<dyn Adversary>,
        key: PrivateKey,
        coins: Vec<(OutPoint, Amount)>,
    ) -> Attacker {
        let script = ScriptBuf::new_p2pkh(&key.public_key().pubkey_hash());
        Attacker {
            node,
            strategy,
            started: false,
            private: None,
            pending: Vec::new(),
            key,
            script,
            coins,
            next_coin: 0,
            victim: None,
            merchant_home: None,
            merchant_script: None,
            amount: 0,
            confirmations: 0,
            eclipse_ds: false,
            attempt: None,
            records: Vec::new(),
            attempts_started: 0,
            next_peer: 0,
            seq: 0,
        }
    }

    /// Sets the eclipse victim (the node whose every peer the attacker is).
    pub fn set_victim(&mut self, victim: NodeIdx) {
        self.victim = Some(victim);
    }

    /// Sets the double-spend merchant: the node its wallet watches the
    /// chain through, its script, the amount paid per attempt, the
    /// confirmations it waits for, and whether the payment travels on the
    /// private branch shown to an eclipsed victim (`eclipse_ds`).
    pub fn set_merchant(
        &mut self,
        home: NodeIdx,
        script: ScriptBuf,
        amount: u64,
        confirmations: u32,
        eclipse_ds: bool,
    ) {
        self.merchant_home = Some(home);
        self.merchant_script = Some(script);
        self.amount = amount;
        self.confirmations = confirmations;
        self.eclipse_ds = eclipse_ds;
    }

    /// The attacker's node.
    pub fn node(&self) -> NodeIdx {
        self.node
    }

    /// The node the double-spend merchant watches the chain through.
    pub fn merchant_home(&self) -> Option<NodeIdx> {
        self.merchant_home
    }

    /// The P2PKH script of the attacker's key (where its coins are).
    pub fn script(&self) -> &ScriptBuf {
        &self.script
    }

    /// Finished attempts, in order.
    pub fn records(&self) -> &[AttemptRecord] {
        &self.records
    }

    /// The running attempt.
    pub fn attempt(&self) -> Option<&Attempt> {
        self.attempt.as_ref()
    }

    /// Transactions the next private block carries.
    pub fn pending(&self) -> &[(Rc<Transaction>, Amount)] {
        &self.pending
    }

    /// Closes the books at the end of a run (`view`: the race then): the
    /// running attempt is unfinished; a released one succeeded if its
    /// payment is not on the final main chain (`confirmed`). One row per
    /// attempt, for `attacks.csv`.
    pub fn attack_rows(
        &mut self,
        adversary: u32,
        view: &super::RaceView,
        confirmed: &std::collections::HashSet<Txid>,
    ) -> Vec<crate::metrics::AttackRow> {
        if let Some(attempt) = self.attempt.take() {
            self.records.push(AttemptRecord {
                attempt,
                end: None,
                outcome: Outcome::Unfinished,
                private_len: view.private_len,
                public_len: view.public_len,
            });
        }
        self.records
            .iter()
            .map(|r| {
                let success =
                    r.outcome == Outcome::Released && !confirmed.contains(&r.attempt.payment);
                crate::metrics::AttackRow {
                    adversary,
                    attempt: r.attempt.index,
                    start_s: r.attempt.start.as_secs_f64(),
                    end_s: r.end.map(|t| t.as_secs_f64()),
                    confirmations: self.confirmations,
                    success: success as u8,
                    outcome: r.outcome.as_str().to_string(),
                    private_len: r.private_len,
                    public_len: r.public_len,
                }
            })
            .collect()
    }

    /// The bits the next private block carries, once the private branch exists.
    pub fn private_next_bits(&self) -> Option<crate::ledger::CompactTarget> {
        self.private.as_ref().map(|p| p.next_bits())
    }

    /// The private chainstate, once the behaviour is on.
    pub fn private_chain(&self) -> Option<&Chainstate> {
        self.private.as_ref()
    }

    /// The private blocks above the fork point (`private_len` of them),
    /// oldest first, at most `upto`.
    pub fn private_branch(&self, private_len: u32, upto: u32) -> Vec<Rc<Block>> {
        let Some(private) = &self.private else {
            return Vec::new();
        };
        let fork = private.height() - private_len;
        (fork + 1..=fork + upto.min(private_len))
            .filter_map(|h| private.info_at_height(h).map(|b| b.block.clone()))
            .collect()
    }
}

/// Where a private and a public chain stand against each other.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Race {
    /// Height of the last block both chains share.
    pub fork_height: u32,
    /// Private blocks above it.
    pub private_len: u32,
    /// Public blocks above it.
    pub public_len: u32,
    /// Private blocks above it that the public chain already holds
    /// (published), counted from the fork point up.
    pub published: u32,
}

/// The race between `private` and `public`: the chains agree on a prefix
/// (found by binary search on their active chains), and each has a branch
/// above it.
pub fn race(private: &Chainstate, public: &Chainstate) -> Race {
    let (mut lo, mut hi) = (0u32, private.height().min(public.height()));
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if private.block_at_height(mid) == public.block_at_height(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let published = (lo + 1..=private.height())
        .take_while(|h| {
            private
                .block_at_height(*h)
                .is_some_and(|b| public.contains(&b))
        })
        .count() as u32;
    Race {
        fork_height: lo,
        private_len: private.height() - lo,
        public_len: public.height() - lo,
        published,
    }
}

/// Blocks of `chain`'s active chain up to `tip` that the victim does not
/// hold (`held`), oldest first, at most [`MAX_REVEAL`].
pub fn unseen_path(
    chain: &Chainstate,
    tip: BlockHash,
    held: impl Fn(&BlockHash) -> bool,
) -> Vec<BlockHash> {
    let mut path = Vec::new();
    let mut cur = chain.info(&tip).cloned();
    while let Some(info) = cur {
        if held(&info.hash) || path.len() >= MAX_REVEAL {
            break;
        }
        path.push(info.hash);
        cur = chain.info(&info.parent).cloned();
    }
    path.reverse();
    path
}

/// The two transactions of a double spend of `coin` (worth `value`, fee
/// `fee`): the payment to the merchant's `merchant` script and the
/// conflicting one back to the attacker's `script`, both signed with `key`.
pub fn double_spend_pair(
    coin: OutPoint,
    value: Amount,
    fee: Amount,
    key: &PrivateKey,
    script: &ScriptBuf,
    merchant: &ScriptBuf,
) -> (Rc<Transaction>, Rc<Transaction>) {
    let pay = |to: &ScriptBuf| {
        let mut tx = Transaction {
            version: 1,
            input: vec![TxIn {
                previous_output: coin,
                script_sig: ScriptBuf::default(),
                sequence: u32::MAX,
            }],
            output: vec![TxOut {
                value: Amount::from_sat_unchecked(value.to_sat() - fee.to_sat()),
                script_pubkey: to.clone(),
            }],
            lock_time: 0,
        };
        sighash::sign_p2pkh_input(&mut tx, 0, script, key)
            .expect("the attacker signs its own P2PKH coin");
        Rc::new(tx)
    };
    (pay(merchant), pay(script))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::chainstate::testkit::{genesis_with, kit_params, mine, miner_script};
    use crate::ledger::chainstate::BlockCache;

    /// A chain of `n` blocks on `parent` (at `height`), extra nonce `tag`
    /// so two branches differ.
    fn branch(
        parent: &Block,
        height: u32,
        n: u32,
        tag: u64,
        params: &crate::ledger::Params,
    ) -> Vec<Rc<Block>> {
        let mut out: Vec<Rc<Block>> = Vec::new();
        let mut prev = parent.block_hash();
        let mut time = parent.header.time;
        for k in 0..n {
            time += 600;
            let b = mine(
                prev,
                height + k + 1,
                time,
                parent.header.bits,
                vec![],
                params.block_subsidy(height + k + 1),
                miner_script(),
                tag,
            );
            prev = b.block_hash();
            out.push(Rc::new(b));
        }
        out
    }

    #[test]
    fn race_finds_the_fork_and_counts_each_side() {
        let params = Rc::new(kit_params());
        let genesis = Rc::new(genesis_with(&params, params.pow_limit.to_compact_lossy()));
        let mut cache = BlockCache::new();
        let mut private = Chainstate::new(genesis.clone(), params.clone(), &mut cache);
        let mut public = Chainstate::new(genesis.clone(), params.clone(), &mut cache);
        let now = genesis.header.time + 100_000;
        let shared = branch(&genesis, 0, 2, 1, &params);
        for b in &shared {
            private.accept_block(b.clone(), now, &mut cache).unwrap();
            public.accept_block(b.clone(), now, &mut cache).unwrap();
        }
        let mine3 = branch(&shared[1], 2, 3, 2, &params);
        let theirs1 = branch(&shared[1], 2, 1, 3, &params);
        for b in &mine3 {
            private.accept_block(b.clone(), now, &mut cache).unwrap();
        }
        public
            .accept_block(theirs1[0].clone(), now, &mut cache)
            .unwrap();
        let r = race(&private, &public);
        assert_eq!(
            r,
            Race {
                fork_height: 2,
                private_len: 3,
                public_len: 1,
                published: 0
            }
        );
        // Publishing the first private block: the public chain holds it
        // (still on its own first-seen tip).
        public
            .accept_block(mine3[0].clone(), now, &mut cache)
            .unwrap();
        assert_eq!(race(&private, &public).published, 1);

        // What a victim that holds the shared blocks has not seen.
        let held: Vec<BlockHash> = shared.iter().map(|b| b.block_hash()).collect();
        let path = unseen_path(&private, private.tip(), |h| {
            held.contains(h) || *h == genesis.block_hash()
        });
        let want: Vec<BlockHash> = mine3.iter().map(|b| b.block_hash()).collect();
        assert_eq!(
            path, want,
            "oldest first, stopping at what the victim holds"
        );
    }
}
