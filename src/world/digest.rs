//! The run's event digest: a fast, deterministic 128-bit fingerprint of the
//! ordered event stream (time, kind, nodes, payload key of every event).
//!
//! It is a checksum for reproducibility, not a cryptographic commitment:
//! hashing ten million events with SHA-256 would cost more than the run.
//! Every [`CHECKPOINT_EVERY`] events the current value is recorded, so a
//! replay that diverges can name the window holding the first divergence.

use std::fmt;

/// Events between recorded checkpoints.
pub const CHECKPOINT_EVERY: u64 = 4096;

/// Running digest of an event stream.
#[derive(Clone, Debug)]
pub struct EventDigest {
    a: u64,
    b: u64,
    count: u64,
    checkpoints: Vec<u64>,
}

impl Default for EventDigest {
    fn default() -> Self {
        EventDigest {
            a: 0x243f_6a88_85a3_08d3,
            b: 0x1319_8a2e_0370_7344,
            count: 0,
            checkpoints: Vec::new(),
        }
    }
}

#[inline]
fn mix(h: u64, x: u64) -> u64 {
    // A multiply-xorshift round (as in wyhash/splitmix): cheap and avalanching.
    let m = (h ^ x).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    m ^ (m >> 29)
}

impl EventDigest {
    /// Folds one event in.
    #[inline]
    pub fn push(&mut self, time_ns: u64, words: [u64; 3]) {
        self.a = mix(self.a, time_ns);
        self.b = mix(self.b, words[0] ^ time_ns.rotate_left(17));
        self.a = mix(self.a, words[1]);
        self.b = mix(self.b, words[2] ^ self.a);
        self.count += 1;
        if self.count % CHECKPOINT_EVERY == 0 {
            self.checkpoints.push(self.a ^ self.b.rotate_left(32));
        }
    }

    /// Events folded so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Checkpoint values, one per [`CHECKPOINT_EVERY`] events.
    pub fn checkpoints(&self) -> &[u64] {
        &self.checkpoints
    }

    /// The final value as 32 hex characters.
    pub fn hex(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for EventDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}{:016x}", self.a, self.b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_depends_on_order_and_content() {
        let mut x = EventDigest::default();
        let mut y = EventDigest::default();
        x.push(1, [1, 2, 3]);
        x.push(2, [4, 5, 6]);
        y.push(2, [4, 5, 6]);
        y.push(1, [1, 2, 3]);
        assert_ne!(x.hex(), y.hex());
        let mut z = EventDigest::default();
        z.push(1, [1, 2, 3]);
        z.push(2, [4, 5, 6]);
        assert_eq!(x.hex(), z.hex());
        for i in 0..CHECKPOINT_EVERY {
            z.push(i, [0, 0, 0]);
        }
        assert_eq!(z.checkpoints().len(), 1);
    }
}
