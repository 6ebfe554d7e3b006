//! Raw transaction bytes → decode; a decoded transaction re-encodes to the
//! same bytes and its txid and totals compute without panicking.
#![no_main]
use forklab::ledger::{Decodable, Encodable, Transaction};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(tx) = Transaction::decode(data) {
        assert_eq!(tx.encode(), data, "decode then encode is the identity");
        let _ = tx.compute_txid();
        let _ = tx.total_out();
        let _ = tx.coinbase_height();
    }
});
