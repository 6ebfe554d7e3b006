//! Ledger throughput: header hashing, nonce grinding, ECDSA verification, and
//! validating, connecting and disconnecting a block of 1,000 signed P2PKH
//! payments.
//!
//! Run with `cargo bench --bench ledger`; criterion prints each figure as a
//! time per iteration and a throughput in elements per second (hashes,
//! signatures or transactions, as each group's name says). BENCHMARKS.md
//! records a snapshot.
//!
//! The block fixture is built once, outside every timed loop, with the same
//! recipe as the ledger's unit-test kit (`chainstate::testkit`, which is
//! `cfg(test)` and so not reachable from here): a genesis block endowing
//! 1,000 wallets, then a block in which each wallet pays another.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};
use forklab::ledger::chainstate::new_genesis;
use forklab::ledger::tx::{OutPoint, TxIn, TxOut};
use forklab::ledger::utxo::{BlockUndo, UtxoSet};
use forklab::ledger::validate::{self, SigCache};
use forklab::ledger::{
    merkle, nonce, sighash, Amount, Block, Header, Params, PrivateKey, ScriptBuf, Target,
    Transaction, Txid,
};

/// Payments in the benchmark block (plus its coinbase).
const TXS: usize = 1_000;
/// Nonces tried per grinding iteration.
const GRIND_TRIES: u64 = 100_000;
/// Each wallet's genesis output.
const ENDOWMENT: u64 = 10 * Amount::SAT_PER_BTC;
/// Amount each payment sends, and its fee.
const PAY: u64 = Amount::SAT_PER_BTC;
const FEE: u64 = 1_000;
/// Genesis time.
const T0: u32 = 1_700_000_000;

/// Teaching parameters: a 4-bit proof-of-work limit (grinding is instant but
/// the hash check still runs), no retargeting.
fn params() -> Params {
    let mut p = Params::bitcoin();
    p.pow_limit = Target::from_leading_zero_bits(4);
    p.retarget_window = 0;
    p
}

fn key(i: usize) -> PrivateKey {
    PrivateKey::from_seed(i as u64 + 1)
}

/// The fixture: parameters, the set after genesis, a valid block on it, and
/// the set after that block with its undo data.
struct Fixture {
    params: Params,
    utxos: UtxoSet,
    block: Block,
    after: UtxoSet,
    undo: BlockUndo,
}

/// A signed 1-in-2-out P2PKH payment of `PAY` from wallet `from` (spending
/// `coin`, worth `value`) to wallet `to`, change back to `from`.
fn payment(coin: OutPoint, value: u64, from: usize, to: usize) -> Transaction {
    let from_script = ScriptBuf::new_p2pkh(&key(from).public_key().pubkey_hash());
    let mut tx = Transaction {
        version: 1,
        input: vec![TxIn {
            previous_output: coin,
            script_sig: ScriptBuf::default(),
            sequence: u32::MAX,
        }],
        output: vec![
            TxOut {
                value: Amount::from_sat_unchecked(PAY),
                script_pubkey: ScriptBuf::new_p2pkh(&key(to).public_key().pubkey_hash()),
            },
            TxOut {
                value: Amount::from_sat_unchecked(value - PAY - FEE),
                script_pubkey: from_script.clone(),
            },
        ],
        lock_time: 0,
    };
    sighash::sign_p2pkh_input(&mut tx, 0, &from_script, &key(from)).expect("key owns the coin");
    tx
}

fn fixture() -> Fixture {
    let params = params();
    let bits = params.pow_limit.to_compact_lossy();
    let outputs = (0..TXS)
        .map(|i| TxOut {
            value: Amount::from_sat_unchecked(ENDOWMENT),
            script_pubkey: ScriptBuf::new_p2pkh(&key(i).public_key().pubkey_hash()),
        })
        .collect();
    let genesis = new_genesis(&params, T0, bits, outputs);
    let genesis_txid = genesis.txdata[0].compute_txid();
    let mut utxos = UtxoSet::new();
    utxos
        .add_tx_outputs(&genesis.txdata[0], 0)
        .expect("empty set");

    let coinbase_value = params.block_subsidy(1).to_sat() + FEE * TXS as u64;
    let mut txdata = vec![Transaction::new_coinbase(
        1,
        0,
        Amount::from_sat_unchecked(coinbase_value),
        ScriptBuf::new_p2pkh(&[0xee; 20]),
    )];
    txdata.extend((0..TXS).map(|i| {
        let coin = OutPoint {
            txid: genesis_txid,
            vout: i as u32,
        };
        payment(coin, ENDOWMENT, i, (i + 1) % TXS)
    }));
    let txids: Vec<Txid> = txdata.iter().map(|t| t.compute_txid()).collect();
    let mut block = Block {
        header: Header {
            version: 1,
            prev_blockhash: genesis.block_hash(),
            merkle_root: merkle::merkle_root(&txids).expect("block has transactions"),
            time: T0 + 600,
            bits,
            nonce: 0,
        },
        txdata,
    };
    nonce::grind(&mut block.header, params.pow_limit, u64::MAX).expect("4-bit target");

    validate::check_block(&block, &params).expect("fixture block is valid");
    let mut after = utxos.clone();
    let (undo, _fees) =
        validate::connect_block(&block, &mut after, 1, &params, &mut SigCache::new())
            .expect("fixture block connects");
    Fixture {
        params,
        utxos,
        block,
        after,
        undo,
    }
}

fn hashing(c: &mut Criterion) {
    let mut g = c.benchmark_group("pow");
    g.measurement_time(Duration::from_secs(3));

    let mut header = Block::bitcoin_genesis().header;
    g.throughput(Throughput::Elements(1));
    g.bench_function("header_block_hash", |b| {
        b.iter(|| {
            header.nonce = header.nonce.wrapping_add(1);
            black_box(black_box(&header).block_hash())
        })
    });

    // 128 leading zero bits: never met within GRIND_TRIES, so every
    // iteration tries exactly that many nonces.
    let unreachable = Target::from_leading_zero_bits(128);
    let start = Block::bitcoin_genesis().header;
    g.throughput(Throughput::Elements(GRIND_TRIES));
    g.bench_function("grind_100k", |b| {
        b.iter(|| {
            let mut h = start;
            let found = nonce::grind(&mut h, black_box(unreachable), GRIND_TRIES);
            assert!(found.is_none());
            black_box(h.nonce)
        })
    });
    g.finish();
}

fn signatures(c: &mut Criterion) {
    let mut g = c.benchmark_group("ecdsa");
    g.measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Elements(1));

    let k = key(0);
    let pk = k.public_key();
    let digest = [0x5au8; 32];
    let sig = k.sign_digest(&digest);
    assert!(pk.verify_digest(&digest, &sig));
    g.bench_function("verify_digest", |b| {
        b.iter(|| black_box(pk.verify_digest(black_box(&digest), black_box(&sig))))
    });

    let prev = ScriptBuf::new_p2pkh(&pk.pubkey_hash());
    let coin = OutPoint {
        txid: Txid::from_byte_array([7; 32]),
        vout: 0,
    };
    let tx = payment(coin, ENDOWMENT, 0, 1);
    sighash::verify_p2pkh_input(&tx, 0, &prev).expect("signed input verifies");
    g.bench_function("verify_p2pkh_input_1in_2out", |b| {
        b.iter(|| black_box(sighash::verify_p2pkh_input(black_box(&tx), 0, &prev)))
    });
    g.finish();
}

fn blocks(c: &mut Criterion) {
    let f = fixture();
    let mut g = c.benchmark_group("block_1000tx");
    g.throughput(Throughput::Elements(TXS as u64));
    // A cold iteration verifies 1,000 signatures (~0.1 s): flat sampling.
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(4));

    g.bench_function("check_connect_cold_sigs", |b| {
        b.iter_batched(
            || (f.utxos.clone(), SigCache::new()),
            |(mut utxos, mut sigs)| {
                validate::check_block(&f.block, &f.params).expect("valid");
                validate::connect_block(&f.block, &mut utxos, 1, &f.params, &mut sigs)
                    .expect("connects");
                (utxos, sigs)
            },
            BatchSize::SmallInput,
        )
    });

    let mut warm = SigCache::new();
    validate::connect_block(&f.block, &mut f.utxos.clone(), 1, &f.params, &mut warm)
        .expect("connects");
    g.bench_function("check_connect_warm_sigs", |b| {
        b.iter_batched(
            || (f.utxos.clone(), warm.clone()),
            |(mut utxos, mut sigs)| {
                validate::check_block(&f.block, &f.params).expect("valid");
                validate::connect_block(&f.block, &mut utxos, 1, &f.params, &mut sigs)
                    .expect("connects");
                (utxos, sigs)
            },
            BatchSize::SmallInput,
        )
    });

    g.bench_function("utxo_connect", |b| {
        b.iter_batched(
            || f.utxos.clone(),
            |mut utxos| {
                let undo = utxos.connect_block(&f.block, 1).expect("connects");
                (utxos, undo)
            },
            BatchSize::SmallInput,
        )
    });

    g.bench_function("utxo_disconnect", |b| {
        b.iter_batched(
            || f.after.clone(),
            |mut utxos| {
                utxos
                    .disconnect_block(&f.block, &f.undo)
                    .expect("disconnects");
                utxos
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, hashing, signatures, blocks);
criterion_main!(benches);
