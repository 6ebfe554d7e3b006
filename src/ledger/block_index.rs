//! [`BlockIndex`]: the map from block hash to a node's record of the block,
//! an append-only open-addressing table whose memory layout is known, so
//! the simulator can prefetch the lines a lookup will read
//! ([`BlockIndex::prefetch`]) an event before it happens.
//!
//! Entries are stored densely in insertion order; a power-of-two array of
//! `u32` positions, at most half full, is probed linearly from the
//! position the hash picks. An entry does not repeat its hash: the value
//! knows it ([`Keyed`]), so a probe compares through the value. In the
//! simulator every value points at a [`BlockInfo`](super::chainstate::BlockInfo)
//! shared by all nodes, so that read is cheap, and a node's index of 100
//! blocks takes 3 KB instead of 7 KB. Blocks are never removed from a node's tree,
//! so there is no deletion. Lookups by a block hash fold all 32 bytes
//! ([`HashKeyHasher`]), so hand-made hashes in tests spread as well as real
//! ones. Nothing iterates the table in hash order: [`BlockIndex::values`]
//! yields insertion order, so behaviour never depends on the hash.

use std::hash::Hasher;

use super::hash::{BlockHash, HashKeyHasher};

/// An empty position.
const EMPTY: u32 = u32::MAX;

/// A value stored in a [`BlockIndex`]: it knows the block hash it is
/// stored under.
pub trait Keyed {
    /// The block hash this value is stored under (never changes while the
    /// value is in an index).
    fn key(&self) -> &BlockHash;
}

/// A map from [`BlockHash`] to `V` with insertion but no removal (see the
/// module docs).
#[derive(Clone, Debug)]
pub struct BlockIndex<V> {
    /// Positions into `entries`, or [`EMPTY`]; the length is a power of two.
    slots: Vec<u32>,
    entries: Vec<V>,
}

impl<V> Default for BlockIndex<V> {
    fn default() -> Self {
        BlockIndex {
            slots: vec![EMPTY; 8],
            entries: Vec::new(),
        }
    }
}

impl<V: Keyed> BlockIndex<V> {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn home(&self, hash: &BlockHash) -> usize {
        let mut h = HashKeyHasher::default();
        h.write(hash.as_bytes());
        // The multiply in the hasher mixes upward: take the high bits.
        let bits = self.slots.len().trailing_zeros();
        (h.finish() >> (64 - bits)) as usize
    }

    /// Position of `hash` in `entries`, if present.
    fn find(&self, hash: &BlockHash) -> Option<usize> {
        let mask = self.slots.len() - 1;
        let mut i = self.home(hash);
        loop {
            match self.slots[i] {
                EMPTY => return None,
                pos if self.entries[pos as usize].key() == hash => return Some(pos as usize),
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Whether `hash` is present.
    pub fn contains_key(&self, hash: &BlockHash) -> bool {
        self.find(hash).is_some()
    }

    /// The value of `hash`.
    pub fn get(&self, hash: &BlockHash) -> Option<&V> {
        self.find(hash).map(|pos| &self.entries[pos])
    }

    /// The value of `hash`, mutably.
    pub fn get_mut(&mut self, hash: &BlockHash) -> Option<&mut V> {
        self.find(hash).map(|pos| &mut self.entries[pos])
    }

    /// Inserts or replaces the value stored under `value.key()`; returns
    /// the old value.
    pub fn insert(&mut self, value: V) -> Option<V> {
        let hash = *value.key();
        if let Some(pos) = self.find(&hash) {
            return Some(std::mem::replace(&mut self.entries[pos], value));
        }
        if (self.entries.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let pos = u32::try_from(self.entries.len())
            .ok()
            .filter(|&p| p != EMPTY)
            .expect("fewer than 2^32 - 1 blocks");
        self.place(&hash, pos);
        self.entries.push(value);
        None
    }

    fn place(&mut self, hash: &BlockHash, pos: u32) {
        let mask = self.slots.len() - 1;
        let mut i = self.home(hash);
        while self.slots[i] != EMPTY {
            i = (i + 1) & mask;
        }
        self.slots[i] = pos;
    }

    /// Makes room for `additional` more entries without growing.
    pub fn reserve(&mut self, additional: usize) {
        let want = (self.entries.len() + additional) * 2;
        if want > self.slots.len() {
            self.rehash(want.next_power_of_two());
        }
        self.entries.reserve_exact(additional);
    }

    fn grow(&mut self) {
        self.rehash(self.slots.len() * 2);
    }

    /// Places every entry again in `slots` (a power of two) positions.
    fn rehash(&mut self, slots: usize) {
        self.slots = vec![EMPTY; slots];
        for pos in 0..self.entries.len() {
            let hash = *self.entries[pos].key();
            self.place(&hash, pos as u32);
        }
    }

    /// The values, in insertion order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter()
    }

    /// Hints the CPU to fetch what looking up (or inserting) `hash` will
    /// read first: its home position and the end of the entries, the last
    /// entry included (the block a node serves is usually its newest; not
    /// what the entries point at). Changes nothing.
    pub fn prefetch(&self, hash: &BlockHash) {
        crate::sim::prefetch(&self.slots[self.home(hash)]);
        let last = self.entries.len().saturating_sub(1);
        let start = self.entries.as_ptr().addr() + last * size_of::<V>();
        crate::sim::prefetch_range(start, size_of::<V>() + 64);
    }
}

impl<V: Keyed> std::ops::Index<&BlockHash> for BlockIndex<V> {
    type Output = V;

    fn index(&self, hash: &BlockHash) -> &V {
        self.get(hash).expect("block hash is in the index")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn h(bytes: [u8; 32]) -> BlockHash {
        BlockHash::from_byte_array(bytes)
    }

    /// A test value: a hash and a payload.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    struct E<T>(BlockHash, T);

    impl<T> Keyed for E<T> {
        fn key(&self) -> &BlockHash {
            &self.0
        }
    }

    #[test]
    fn inserts_finds_and_replaces() {
        let mut ix = BlockIndex::default();
        assert!(ix.is_empty());
        for i in 0..1000u32 {
            let mut b = [0u8; 32];
            b[28..].copy_from_slice(&i.to_le_bytes()); // structured, like test hashes
            assert_eq!(ix.insert(E(h(b), i)), None);
        }
        assert_eq!(ix.len(), 1000);
        for i in 0..1000u32 {
            let mut b = [0u8; 32];
            b[28..].copy_from_slice(&i.to_le_bytes());
            assert_eq!(ix[&h(b)].1, i);
        }
        assert!(!ix.contains_key(&h([0xff; 32])));
        let mut b = [0u8; 32];
        b[28..].copy_from_slice(&7u32.to_le_bytes());
        assert_eq!(ix.insert(E(h(b), 70)), Some(E(h(b), 7)));
        ix.get_mut(&h(b)).unwrap().1 += 1;
        assert_eq!(ix.get(&h(b)).map(|e| e.1), Some(71));
        assert_eq!(ix.len(), 1000);
        assert_eq!(
            ix.values().take(3).map(|e| e.1).collect::<Vec<_>>(),
            [0, 1, 2]
        );
    }

    proptest! {
        /// Behaves like a map: same answers as a `BTreeMap` after any
        /// sequence of inserts (with repeats), values in insertion order.
        #[test]
        fn matches_a_map(
            keys in proptest::collection::vec(0u8..64, 0..300),
            probe in 0u8..80,
            reserve in proptest::option::of((0usize..300, 0usize..200)),
        ) {
            let mut ix = BlockIndex::default();
            let mut model = BTreeMap::new();
            let mut order = Vec::new();
            for (i, k) in keys.iter().enumerate() {
                // Reserving room at any point changes no answer.
                if let Some((_, n)) = reserve.filter(|&(at, _)| at == i) {
                    ix.reserve(n);
                    prop_assert!(ix.slots.len() >= (ix.len() + n) * 2);
                }
                let key = h([*k; 32]);
                prop_assert_eq!(ix.insert(E(key, i)).map(|e| e.1), model.insert(*k, i));
                if !order.contains(k) {
                    order.push(*k);
                }
            }
            prop_assert_eq!(ix.len(), model.len());
            let key = h([probe; 32]);
            prop_assert_eq!(ix.get(&key).map(|e| &e.1), model.get(&probe));
            let values: Vec<usize> = ix.values().map(|e| e.1).collect();
            let expected: Vec<usize> = order.iter().map(|k| model[k]).collect();
            prop_assert_eq!(values, expected);
        }
    }
}
