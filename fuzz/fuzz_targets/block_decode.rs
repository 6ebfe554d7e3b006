//! Raw block and header bytes → decode; what decodes re-encodes to the same
//! bytes, and hashing and target checks do not panic.
#![no_main]
use forklab::ledger::{Block, Decodable, Encodable, Header};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = Header::decode(data) {
        assert_eq!(h.encode(), data);
        let _ = h.block_hash();
        let _ = forklab::ledger::Target::from_compact(h.bits);
    }
    if let Ok(b) = Block::decode(data) {
        assert_eq!(b.encode(), data);
        let _ = b.compute_merkle_root();
    }
});
