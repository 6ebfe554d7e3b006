//! End to end with the ledger alone, the way a student would: keys, a
//! genesis block paying two addresses, a signed P2PKH payment, a mined block
//! with coinbase and fee, a full node accepting it, and a light client
//! verifying the payment from headers and a Merkle proof.

use std::rc::Rc;

use forklab::ledger::chainstate::{new_genesis, AcceptStatus, BlockCache, Chainstate};
use forklab::ledger::merkle::{merkle_root, MerkleProof};
use forklab::ledger::nonce::grind;
use forklab::ledger::pow::Target;
use forklab::ledger::sighash::sign_p2pkh_input;
use forklab::ledger::spv::{HeaderChain, SpvError};
use forklab::ledger::validate::BlockError;
use forklab::ledger::{
    Address, Amount, Block, BlockHash, Header, OutPoint, Params, PrivateKey, ScriptBuf,
    Transaction, TxIn, TxOut, Txid,
};

const GENESIS_TIME: u32 = 1_700_000_000;

/// Teaching network: 8-bit proof of work (about 256 hashes a block).
fn params() -> Params {
    let mut p = Params::bitcoin();
    p.pow_limit = Target::from_leading_zero_bits(8);
    p.retarget_window = 0;
    // A new network enforces BIP34 from its first block.
    p.bip34_height = 0;
    p
}

fn btc(n: u64) -> Amount {
    Amount::from_sat(n * Amount::SAT_PER_BTC).unwrap()
}

/// Assembles a block on `prev` and grinds its nonce.
fn mine(
    params: &Params,
    prev: &Header,
    height: u32,
    fees: Amount,
    miner: &Address,
    txs: Vec<Transaction>,
) -> Block {
    let reward = params.block_subsidy(height).checked_add(fees).unwrap();
    let coinbase = Transaction::new_coinbase(height, 0, reward, miner.script_pubkey());
    let mut txdata = vec![coinbase];
    txdata.extend(txs);
    let txids: Vec<Txid> = txdata.iter().map(|t| t.compute_txid()).collect();
    let mut header = Header {
        version: 1,
        prev_blockhash: prev.block_hash(),
        merkle_root: merkle_root(&txids).unwrap(),
        time: prev.time + 600,
        bits: params.pow_limit.to_compact_lossy(),
        nonce: 0,
    };
    let target = Target::from_compact(header.bits).unwrap();
    grind(&mut header, target, 1 << 32).expect("8-bit target");
    assert!(target.is_met_by(header.block_hash().as_bytes()));
    Block { header, txdata }
}

#[test]
fn pay_mine_validate_and_prove() {
    let params = params();
    let alice = PrivateKey::from_seed(1);
    let bob = PrivateKey::from_seed(2);
    let miner = Address::p2pkh(&PrivateKey::from_seed(3).public_key());
    let alice_addr = Address::p2pkh(&alice.public_key());
    let bob_addr = Address::p2pkh(&bob.public_key());

    // Genesis pays 50 BTC to Alice and 20 BTC to Bob.
    let genesis = new_genesis(
        &params,
        GENESIS_TIME,
        params.pow_limit.to_compact_lossy(),
        vec![
            TxOut {
                value: btc(50),
                script_pubkey: alice_addr.script_pubkey(),
            },
            TxOut {
                value: btc(20),
                script_pubkey: bob_addr.script_pubkey(),
            },
        ],
    );
    let genesis = Rc::new(genesis);
    let mut cache = BlockCache::new();
    let shared = Rc::new(params.clone());
    let mut node = Chainstate::new(genesis.clone(), shared.clone(), &mut cache);
    assert_eq!(node.balance(&alice_addr.pubkey_hash), btc(50));
    assert_eq!(node.balance(&bob_addr.pubkey_hash), btc(20));

    // Alice pays Bob 12 BTC with a 0.001 BTC fee; the change returns to her.
    let (coin, value) = node.utxos_of(&alice_addr.pubkey_hash)[0];
    assert_eq!(value, btc(50));
    let fee = Amount::from_sat(100_000).unwrap();
    let change = value
        .checked_sub(btc(12))
        .unwrap()
        .checked_sub(fee)
        .unwrap();
    let mut payment = Transaction {
        version: 1,
        input: vec![TxIn {
            previous_output: coin,
            script_sig: ScriptBuf::default(),
            sequence: u32::MAX,
        }],
        output: vec![
            TxOut {
                value: btc(12),
                script_pubkey: bob_addr.script_pubkey(),
            },
            TxOut {
                value: change,
                script_pubkey: alice_addr.script_pubkey(),
            },
        ],
        lock_time: 0,
    };
    sign_p2pkh_input(&mut payment, 0, &alice_addr.script_pubkey(), &alice).unwrap();
    let payment_txid = payment.compute_txid();

    // A miner includes it; the coinbase collects subsidy + fee.
    let b1 = mine(
        &params,
        &genesis.header,
        1,
        fee,
        &miner,
        vec![payment.clone()],
    );
    let now = b1.header.time;
    let out = node
        .accept_block(Rc::new(b1.clone()), now, &mut cache)
        .unwrap();
    assert_eq!(out.status, AcceptStatus::Accepted);
    assert!(out.newly_invalid.is_empty());
    assert_eq!(out.tip_change.unwrap().connected.len(), 1);
    assert_eq!(node.tip(), b1.block_hash());
    assert_eq!(node.balance(&bob_addr.pubkey_hash), btc(32));
    assert_eq!(node.balance(&alice_addr.pubkey_hash), change);
    assert_eq!(
        node.balance(&miner.pubkey_hash),
        params.block_subsidy(1).checked_add(fee).unwrap()
    );
    assert!(!node.utxos().contains(&coin));
    assert!(node.utxos().contains(&OutPoint {
        txid: payment_txid,
        vout: 0
    }));

    // The same payment again is a double spend: the block is rejected when
    // connected and the tip stays.
    let b2_bad = mine(&params, &b1.header, 2, fee, &miner, vec![payment.clone()]);
    let out = node
        .accept_block(Rc::new(b2_bad.clone()), now + 600, &mut cache)
        .unwrap();
    assert_eq!(out.newly_invalid.len(), 1);
    assert_eq!(
        out.newly_invalid[0].1.reject_reason(),
        "bad-txns-inputs-missingorspent"
    );
    assert_eq!(node.tip(), b1.block_hash());

    // Two more (empty) blocks bury the payment.
    let b2 = mine(&params, &b1.header, 2, Amount::ZERO, &miner, vec![]);
    let b3 = mine(&params, &b2.header, 3, Amount::ZERO, &miner, vec![]);
    for b in [&b2, &b3] {
        node.accept_block(Rc::new(b.clone()), b.header.time, &mut cache)
            .unwrap();
    }
    assert_eq!(node.height(), 3);

    // A light client fed only the headers verifies the payment.
    let mut spv = HeaderChain::new(genesis.header, shared);
    for b in [&b1, &b2, &b3] {
        spv.accept_header(b.header, b.header.time).unwrap();
    }
    let txids: Vec<Txid> = b1.txdata.iter().map(|t| t.compute_txid()).collect();
    let index = txids.iter().position(|t| *t == payment_txid).unwrap();
    let proof = MerkleProof::build(&txids, index).unwrap();
    assert_eq!(proof.txid, payment_txid);
    assert_eq!(spv.verify_payment(&proof, &b1.block_hash()), Ok(3));
    assert_eq!(spv.tip(), node.tip());

    // A proof for a transaction that is not in the block fails.
    let mut forged = proof.clone();
    forged.txid = Txid::hash(b"not a transaction");
    assert!(matches!(
        spv.verify_payment(&forged, &b1.block_hash()),
        Err(SpvError::BadProof(_))
    ));
    // The invalid block's header is fine for SPV (it cannot see
    // transactions), but it is on a side branch, so nothing it holds counts.
    spv.accept_header(b2_bad.header, b2_bad.header.time)
        .unwrap();
    assert!(!spv.is_in_best_chain(&b2_bad.block_hash()));

    // An unrelated header is rejected.
    let stray = Header {
        prev_blockhash: BlockHash::hash(b"nowhere"),
        ..b1.header
    };
    assert!(matches!(
        spv.accept_header(stray, now),
        Err(SpvError::UnknownParent { .. })
    ));
    // And a full node refuses a block breaking the proof-of-work rule.
    let mut lazy = b3.clone();
    lazy.header.prev_blockhash = b3.block_hash();
    lazy.header.time += 600;
    let target = Target::from_compact(lazy.header.bits).unwrap();
    while target.is_met_by(lazy.block_hash().as_bytes()) {
        lazy.header.nonce += 1;
    }
    assert!(matches!(
        node.accept_block(Rc::new(lazy), now + 3_000, &mut cache),
        Err(BlockError::HighHash { .. })
    ));
}
