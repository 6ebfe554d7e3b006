//! The event queue: one priority queue of future events with a total order.
//!
//! Events are ordered by `(time, seq)`: first by their [`SimTime`], then by
//! the order in which they were scheduled, so events at equal times pop out
//! first-in first-out. No float and no hash decides the order, which is what
//! makes a run reproducible.
//!
//! # Invariants
//!
//! - Time never goes backwards: [`EventQueue::schedule`] refuses an instant
//!   before [`EventQueue::now`] ([`QueueError::InPast`]), so every pop is at or
//!   after the previous one (checked on every pop, also in release builds).
//! - The order is kept by a monotone radix heap over event times (see
//!   `RadixIndex`): scheduling is O(1), and each entry moves between at most
//!   64 buckets before it is popped (in practice a few), which suits a
//!   simulator's queue of hundreds of thousands of events far better than a
//!   comparison heap whose every pop walks a path of cold cache lines.
//!   It is written here rather than taken from the `radix-heap` crate
//!   because the run loop needs what that crate's `RadixHeapMap` does not
//!   offer: a look at the least and second-least entries without popping
//!   them (`RadixIndex::first`, `RadixIndex::second`: the prefetch hints,
//!   worth about a third of a 10,000-node run's CPU, BENCHMARKS.md) and
//!   FIFO order among equal times (the crate is a max-heap that pops the
//!   last-inserted of equal keys, so keys would have to carry the sequence
//!   number reversed). The property tests below check it against a sorted
//!   reference.
//! - [`EventQueue::cancel`] marks the event's slot empty in O(1) and leaves
//!   its index entry to be skipped later (lazy deletion, as in Shadow's event
//!   queue); cancelled entries that reach the front are dropped at once, so
//!   the front is always live and [`EventQueue::peek_time`] is O(1).
//! - When cancelled entries outnumber live ones the index is rebuilt, so
//!   memory stays O(live events) however many events are cancelled.
//!
//! # Use
//!
//! The world owns one `EventQueue<Event>` for its single `Event` enum,
//! schedules the first events, then pops until a stop condition; handlers
//! schedule follow-up events with [`EventQueue::schedule_after`]. See the
//! example in [`crate::sim`].

use std::collections::VecDeque;
use std::mem::MaybeUninit;

use super::time::{SimDuration, SimTime};

/// Names one scheduled event, to cancel it. Ids are never reused within a
/// queue: the sequence number is unique and the slot is checked against it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct EventId {
    seq: u64,
    slot: u32,
}

impl EventId {
    /// The insertion sequence number: the tie-breaker among equal times
    /// (0 for the first event ever scheduled on a queue).
    pub const fn seq(self) -> u64 {
        self.seq
    }
}

/// An event taken off the queue, with the instant it fires and its id.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Scheduled<E> {
    /// When the event fires; the queue's clock is now this instant.
    pub time: SimTime,
    /// The id returned when it was scheduled.
    pub id: EventId,
    /// The payload.
    pub event: E,
}

/// Errors from scheduling.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
pub enum QueueError {
    /// The requested instant is before the queue's current time.
    #[error("cannot schedule an event at {at}, before the current time {now}")]
    InPast {
        /// The instant asked for.
        at: SimTime,
        /// The queue's current time.
        now: SimTime,
    },
    /// More than `u32::MAX` events are live at once.
    #[error("event queue is full: more than 4294967295 live events")]
    Full,
}

/// One storage slot: the seq of the event it holds, and the event, or
/// [`VACANT`] and nothing.
///
/// Aligned to a cache line: the world's slot (an 8-byte seq and a 56-byte
/// event) is exactly one, so reading or prefetching an event touches one
/// line rather than straddling two.
///
/// The event is a `MaybeUninit` rather than an `Option` so that taking it
/// moves all its bytes as one value. Out of an `Option` (whose `None` sits
/// in the event's tag), the compiler moved the 55 bytes after the tag,
/// with an 8-byte tail overlapping a 16-byte store, then copied them again;
/// reading that tail back could not be forwarded from the two stores it
/// spans and stalled the pop: about a fifth of `World::step`'s samples
/// in a 10,000-node run under `perf` (BENCHMARKS.md, "Fewer misses and
/// stalls in the run loop").
#[repr(align(64))]
struct Slot<E> {
    /// The event's seq, or [`VACANT`].
    seq: u64,
    /// Initialised exactly when `seq != VACANT`.
    event: MaybeUninit<E>,
}

/// The seq of a slot that holds no event (no event gets seq `u64::MAX`:
/// [`EventQueue::schedule_hinted`] refuses it).
const VACANT: u64 = u64::MAX;

impl<E> Slot<E> {
    fn new(seq: u64, event: E) -> Self {
        debug_assert_ne!(seq, VACANT);
        Slot {
            seq,
            event: MaybeUninit::new(event),
        }
    }

    fn is_occupied(&self) -> bool {
        self.seq != VACANT
    }

    fn get(&self) -> Option<&E> {
        // SAFETY: the event is initialised while the seq is not VACANT.
        self.is_occupied()
            .then(|| unsafe { self.event.assume_init_ref() })
    }

    /// Moves the event out, leaving the slot vacant.
    fn take(&mut self) -> Option<E> {
        self.is_occupied().then(|| self.take_occupied())
    }

    /// Moves out the event of a slot that holds one (its seq was just
    /// matched), leaving it vacant; the value itself, with no `Option`
    /// around it (see above).
    ///
    /// # Panics
    /// If the slot is vacant.
    fn take_occupied(&mut self) -> E {
        assert!(self.is_occupied(), "took the event of a vacant slot");
        self.seq = VACANT;
        // SAFETY: the event was initialised (the seq was not VACANT); the
        // slot is marked vacant first, so it is read out exactly once and
        // never dropped here again.
        unsafe { self.event.assume_init_read() }
    }
}

impl<E> Drop for Slot<E> {
    fn drop(&mut self) {
        if self.is_occupied() {
            // SAFETY: initialised while the seq is not VACANT, and dropped
            // only here, once.
            unsafe { self.event.assume_init_drop() }
        }
    }
}

impl<E: std::fmt::Debug> std::fmt::Debug for Slot<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("seq", &self.seq)
            .field("event", &self.get())
            .finish()
    }
}

/// The hint of an event scheduled without one.
pub const NO_HINT: u32 = u32::MAX;

/// Rebuild the index once it holds this many stale entries and more stale
/// than live ones (a small floor avoids rebuilding tiny queues constantly).
const COMPACT_MIN_STALE: usize = 1024;

/// An entry of the index: `(time in ns, seq, slot, hint)`. `(time, seq)` is
/// unique, so the slot and the hint never take part in the order.
type Key = (u64, u64, u32, u32);

/// Buckets of the radix index: bucket `b` holds entries whose time differs
/// from `last` first (from the top) in bit `b`.
const BUCKETS: usize = 64;

/// Buckets up to this one are sorted whole into `head` when their turn
/// comes, instead of being split bit by bit: they span at most 2^23 ns
/// (about 8 ms), so few events are scheduled into them afterwards (each
/// such push is a sorted insert). Instructions of the 10,000-node run
/// under cachegrind: 23 took 52 M fewer than 20 (of 16.9 G), and 22 15 M
/// fewer than 23; 16 took 288 M more than 20, and 26 5.3 G more (its
/// long head made every insert into it a long move).
const SORT_UP_TO: usize = 22;

/// No entry (greater than every real key: no event gets seq `u64::MAX`).
const NONE_KEY: Key = (u64::MAX, u64::MAX, u32::MAX, NO_HINT);

/// A key's place in the order: time, then seq, as one number (time in the
/// high half), so two keys compare in one 128-bit comparison.
#[inline(always)]
fn order(k: &Key) -> u128 {
    (u128::from(k.0) << 64) | u128::from(k.1)
}

/// Whether key `a` comes before key `b` (by time, then seq).
#[inline(always)]
fn before(a: &Key, b: &Key) -> bool {
    order(a) < order(b)
}

/// The order of the queue: a monotone radix heap over event times (Ahuja,
/// Mehlhorn, Orlin and Tarjan, "Faster algorithms for the shortest path
/// problem", 1990), which fits a discrete-event queue because no event is
/// scheduled before the current time.
///
/// - `last` is the least time when `head` was last filled (so never after
///   the queue's clock, and never after any entry);
/// - `head` holds the entries with times up to `head_end`, sorted by
///   `(time, seq)`;
/// - `buckets[b]` holds those whose time's highest bit differing from
///   `last` is bit `b`, unordered: every entry of a bucket comes after
///   `head_end` and before every entry of a higher bucket. The two least
///   entries of each bucket are noted in `best` (stale ones included), so
///   the least entry of the queue is read in O(1).
///
/// When `head` is empty, a pop redistributes the lowest non-empty bucket
/// around its least time, which becomes `last`: its entries at that time go
/// to `head` (sorted by `seq`), the others to lower buckets; a low bucket
/// (up to [`SORT_UP_TO`], a span of about 8 ms) is instead sorted into
/// `head` whole, and `head_end` becomes the end of its span. An entry moves
/// down a few times (at most 64), and every step touches the ends of short
/// vectors instead of a path through a large heap.
#[derive(Debug)]
struct RadixIndex {
    last: u64,
    head: VecDeque<Key>,
    head_end: u64,
    buckets: Vec<Vec<Key>>,
    best: [(Key, Key); BUCKETS],
    /// Bit `b` set when `buckets[b]` is not empty.
    nonempty: u64,
}

impl RadixIndex {
    fn new() -> Self {
        RadixIndex {
            last: 0,
            head: VecDeque::new(),
            head_end: 0,
            buckets: (0..BUCKETS).map(|_| Vec::new()).collect(),
            best: [(NONE_KEY, NONE_KEY); BUCKETS],
            nonempty: 0,
        }
    }

    /// Entries held (stale ones included).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.head.len() + self.buckets.iter().map(Vec::len).sum::<usize>()
    }

    /// Adds `key`, whose time is not before `last`.
    fn push(&mut self, key: Key) {
        debug_assert!(key.0 >= self.last);
        if key.0 <= self.head_end {
            // After every entry of `head` at or before its time (seqs only
            // grow): usually the back.
            if self.head.back().is_none_or(|k| k.0 <= key.0) {
                self.head.push_back(key);
            } else {
                let at = self.head.partition_point(|k| k.0 <= key.0);
                self.head.insert(at, key);
            }
        } else {
            self.push_bucket(key);
        }
    }

    #[inline(always)]
    fn push_bucket(&mut self, key: Key) {
        let b = 63 - (key.0 ^ self.last).leading_zeros() as usize;
        self.buckets[b].push(key);
        self.nonempty |= 1 << b;
        let best = &mut self.best[b];
        if before(&key, &best.0) {
            best.1 = best.0;
            best.0 = key;
        } else if before(&key, &best.1) {
            best.1 = key;
        }
    }

    fn lowest(&self) -> Option<usize> {
        (self.nonempty != 0).then(|| self.nonempty.trailing_zeros() as usize)
    }

    /// The least entry (stale or not). O(1).
    fn first(&self) -> Option<&Key> {
        match self.head.front() {
            Some(k) => Some(k),
            None => self.lowest().map(|b| &self.best[b].0),
        }
    }

    /// An entry likely to be the second least (a prefetch hint: exact but
    /// for stale entries, unless the lowest bucket holds only one entry and
    /// `head` none, when it is the least of the next bucket).
    fn second(&self) -> Option<&Key> {
        if let Some(k) = self.head.get(1) {
            return Some(k);
        }
        let b = self.lowest()?;
        if !self.head.is_empty() {
            return Some(&self.best[b].0);
        }
        if self.best[b].1 != NONE_KEY {
            return Some(&self.best[b].1);
        }
        let above = self.nonempty & !((2u64 << b) - 1);
        (above != 0).then(|| &self.best[above.trailing_zeros() as usize].0)
    }

    /// Removes and returns the least entry.
    fn pop_first(&mut self) -> Option<Key> {
        if self.head.is_empty() {
            self.redistribute(self.lowest()?);
        }
        self.head.pop_front()
    }

    /// Empties bucket `b` (the lowest non-empty one) around its least
    /// time, which becomes `last`.
    fn redistribute(&mut self, b: usize) {
        let mut entries = std::mem::take(&mut self.buckets[b]);
        self.nonempty &= !(1 << b);
        let last = self.best[b].0 .0;
        self.best[b] = (NONE_KEY, NONE_KEY);
        self.last = last;
        if b <= SORT_UP_TO {
            // The bucket's entries share `last`'s bits above `b` and have
            // bit `b` set: its span ends where the bits below are all set.
            entries.sort_unstable_by_key(order);
            self.head.extend(entries.iter().copied());
            self.head_end = last | ((1 << b) - 1);
        } else {
            self.head_end = last;
            for &key in &entries {
                if key.0 == last {
                    self.head.push_back(key);
                } else {
                    self.push_bucket(key);
                }
            }
            if self.head.len() > 1 {
                self.head.make_contiguous().sort_unstable_by_key(|k| k.1);
            }
        }
        // Keep the bucket's capacity for its next fill.
        entries.clear();
        self.buckets[b] = entries;
    }

    /// Removes the least entry without moving `last` (a cancelled one, so
    /// the least entry stays live; see [`EventQueue::cancel`]).
    fn remove_first(&mut self) {
        if self.head.pop_front().is_some() {
            return;
        }
        let Some(b) = self.lowest() else {
            return;
        };
        let seq = self.best[b].0 .1;
        let bucket = &mut self.buckets[b];
        if let Some(pos) = bucket.iter().position(|k| k.1 == seq) {
            bucket.swap_remove(pos);
        }
        self.rebest(b);
    }

    /// Recomputes bucket `b`'s two least entries and its non-empty bit.
    fn rebest(&mut self, b: usize) {
        let mut best = (NONE_KEY, NONE_KEY);
        for key in &self.buckets[b] {
            if before(key, &best.0) {
                best.1 = best.0;
                best.0 = *key;
            } else if before(key, &best.1) {
                best.1 = *key;
            }
        }
        self.best[b] = best;
        if self.buckets[b].is_empty() {
            self.nonempty &= !(1 << b);
        }
    }

    /// Keeps only the entries `keep` accepts (the order stays valid).
    fn retain(&mut self, mut keep: impl FnMut(&Key) -> bool) {
        self.head.retain(|k| keep(k));
        for b in 0..BUCKETS {
            self.buckets[b].retain(|k| keep(k));
            self.buckets[b].shrink_to_fit();
            self.rebest(b);
        }
    }
}

/// A discrete-event queue ordered by `(time, insertion sequence)`.
#[derive(Debug)]
pub struct EventQueue<E> {
    /// The order: a radix heap of `(time, seq, slot, hint)` keys.
    index: RadixIndex,
    slots: Vec<Slot<E>>,
    free: Vec<u32>,
    now: SimTime,
    next_seq: u64,
    live: usize,
    stale: usize,
    popped: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue at time zero.
    pub fn new() -> Self {
        EventQueue {
            index: RadixIndex::new(),
            slots: Vec::new(),
            free: Vec::new(),
            now: SimTime::ZERO,
            next_seq: 0,
            live: 0,
            stale: 0,
            popped: 0,
        }
    }

    /// The current time: the instant of the last popped event (zero before
    /// the first pop).
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Number of live (scheduled, not yet popped nor cancelled) events.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no live event remains.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Number of events popped so far (cancelled events are not counted).
    pub fn popped_count(&self) -> u64 {
        self.popped
    }

    /// Schedules `event` at instant `at` (which may equal [`Self::now`]).
    /// Events at equal times pop in the order they were scheduled.
    pub fn schedule(&mut self, at: SimTime, event: E) -> Result<EventId, QueueError> {
        self.schedule_hinted(at, event, NO_HINT)
    }

    /// [`Self::schedule`] with a locality hint stored beside the event's
    /// key (say, the index of the node it happens at), readable with
    /// [`Self::peek_hint`] without touching the event itself. The hint
    /// never affects the order.
    pub fn schedule_hinted(
        &mut self,
        at: SimTime,
        event: E,
        hint: u32,
    ) -> Result<EventId, QueueError> {
        if at < self.now {
            return Err(QueueError::InPast { at, now: self.now });
        }
        let seq = self.next_seq;
        assert_ne!(seq, VACANT, "event sequence numbers exhausted");
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Slot::new(seq, event);
                slot
            }
            None => {
                let slot = u32::try_from(self.slots.len()).map_err(|_| QueueError::Full)?;
                self.slots.push(Slot::new(seq, event));
                slot
            }
        };
        self.next_seq += 1;
        self.live += 1;
        self.index.push((at.as_nanos(), seq, slot, hint));
        Ok(EventId { seq, slot })
    }

    /// Makes room for `additional` more events than are queued now, at
    /// once: a burst of known size (every node's first messages) then
    /// fills one allocation instead of doubling through a chain of them.
    pub fn reserve(&mut self, additional: usize) {
        let free = self.free.len();
        self.slots.reserve_exact(additional.saturating_sub(free));
    }

    /// Schedules `event` after `delay` from now (saturating at
    /// [`SimTime::MAX`]); never in the past.
    ///
    /// # Panics
    /// If more than `u32::MAX` events are live at once.
    pub fn schedule_after(&mut self, delay: SimDuration, event: E) -> EventId {
        self.schedule(self.now + delay, event)
            .expect("now + delay is never before now; live events fit in u32")
    }

    /// Cancels a scheduled event (O(1) amortised, see the module docs).
    /// Returns `true` if it was live, `false` if it already fired, was
    /// already cancelled, or is unknown.
    pub fn cancel(&mut self, id: EventId) -> bool {
        let Some(slot) = self.slots.get_mut(id.slot as usize) else {
            return false;
        };
        if slot.seq != id.seq || !slot.is_occupied() {
            return false;
        }
        drop(slot.take());
        self.free.push(id.slot);
        self.live -= 1;
        self.stale += 1;
        self.drop_stale_head();
        self.maybe_compact();
        true
    }

    /// The next live event, if any (the one [`EventQueue::pop`] returns
    /// next, unless an earlier one is scheduled first). O(1).
    pub fn peek(&self) -> Option<&E> {
        let &(_, _, slot, _) = self.index.first()?;
        self.slots[slot as usize].get()
    }

    /// Hints the CPU to fetch the slots of the next two events into cache.
    /// A performance hint only: it changes no state and no result.
    pub fn prefetch_upcoming(&self) {
        for &(_, _, slot, _) in [self.index.first(), self.index.second()]
            .into_iter()
            .flatten()
        {
            if let Some(s) = self.slots.get(slot as usize) {
                crate::sim::prefetch(s);
            }
        }
    }

    /// The locality hint of the next live event ([`Self::schedule_hinted`];
    /// [`NO_HINT`] if it was scheduled without one). O(1).
    pub fn peek_hint(&self) -> Option<u32> {
        self.index.first().map(|&(_, _, _, hint)| hint)
    }

    /// The locality hint of an event likely to come after the next one, for
    /// prefetching two events ahead. O(1). Not exact (see the radix index:
    /// the least entry of the lowest bucket when the next time has no
    /// second event), and cancelled entries are not skipped: a wasted
    /// prefetch at worst.
    pub fn peek_second_hint(&self) -> Option<u32> {
        self.index.second().map(|&(_, _, _, hint)| hint)
    }

    /// The time of the next live event, if any. O(1): the least entry is
    /// always live (cancel and pop drop stale entries that reach it).
    pub fn peek_time(&self) -> Option<SimTime> {
        self.index
            .first()
            .map(|&(time, _, _, _)| SimTime::from_nanos(time))
    }

    /// Takes the next event in `(time, seq)` order and advances the clock to
    /// its time.
    ///
    /// # Panics
    /// If time would go backwards (an internal invariant; scheduling in the
    /// past is refused, so this cannot happen).
    pub fn pop(&mut self) -> Option<Scheduled<E>> {
        (!self.is_empty()).then(|| self.pop_due())
    }

    /// [`Self::pop`] for a queue known to hold a live event
    /// (`!is_empty()`): the event is returned without an `Option` around
    /// it, whose `None` would sit in the event's own tag and make the
    /// caller test it. The run loop uses it: through the `Option` the
    /// compiler moved the event's bytes after its tag in two overlapping
    /// stores and read them back, a stall on which `perf` found about a
    /// fifth of `World::step`'s samples in a 10,000-node run.
    ///
    /// # Panics
    /// If the queue is empty, or time would go backwards (as [`Self::pop`]).
    pub fn pop_due(&mut self) -> Scheduled<E> {
        let (time, seq, slot) = loop {
            let (time, seq, slot, _) = self
                .index
                .pop_first()
                .expect("pop_due on an empty event queue");
            if self.is_live(seq, slot) {
                break (time, seq, slot);
            }
            self.stale -= 1;
        };
        let time = SimTime::from_nanos(time);
        assert!(
            time >= self.now,
            "event queue time went backwards: {time} < {}",
            self.now
        );
        self.now = time;
        self.popped += 1;
        self.live -= 1;
        self.free.push(slot);
        self.drop_stale_head();
        // `is_live` found this event's seq in the slot.
        let event = self.slots[slot as usize].take_occupied();
        Scheduled {
            time,
            id: EventId { seq, slot },
            event,
        }
    }

    /// Drops cancelled entries off the front so the least entry is always
    /// live.
    fn drop_stale_head(&mut self) {
        if self.stale == 0 {
            // Nothing cancelled is left: skip the slot lookup.
            return;
        }
        while let Some(&(_, seq, slot, _)) = self.index.first() {
            if self.is_live(seq, slot) {
                break;
            }
            self.index.remove_first();
            self.stale -= 1;
        }
    }

    fn is_live(&self, seq: u64, slot: u32) -> bool {
        // A vacant slot's seq is VACANT, which no event has.
        self.slots[slot as usize].seq == seq
    }

    /// Drops stale entries once they dominate, keeping memory O(live
    /// events). Amortised O(1) per cancel: a rebuild costs O(entries) and
    /// only happens after at least entries/2 cancels.
    fn maybe_compact(&mut self) {
        if self.stale < COMPACT_MIN_STALE || self.stale <= self.live {
            return;
        }
        let slots = &self.slots;
        self.index
            .retain(|&(_, seq, slot, _)| slots[slot as usize].seq == seq);
        self.stale = 0;
        // Trailing free slots can be released too.
        while matches!(self.slots.last(), Some(s) if !s.is_occupied()) {
            self.slots.pop();
        }
        let len = self.slots.len() as u32;
        self.free.retain(|&s| s < len);
        self.slots.shrink_to(self.live.max(16) * 2);
        self.free.shrink_to(self.slots.len());
    }

    /// Entries actually held (including stale ones), for tests of the
    /// memory bound.
    #[cfg(test)]
    fn heap_entries(&self) -> usize {
        self.index.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every event is dropped exactly once: when the one who popped it
    /// drops it, when it is cancelled, or with the queue; never while it
    /// waits in a slot, and a reused slot does not drop it again.
    #[test]
    fn events_are_dropped_exactly_once() {
        use std::rc::Rc;
        let token = Rc::new(());
        let mut q = EventQueue::new();
        let a = q.schedule(SimTime::from_nanos(10), token.clone()).unwrap();
        q.schedule(SimTime::from_nanos(20), token.clone()).unwrap();
        q.schedule(SimTime::from_nanos(30), token.clone()).unwrap();
        assert_eq!(Rc::strong_count(&token), 4);
        assert!(q.cancel(a));
        assert!(!q.cancel(a), "a cancelled event is not cancelled twice");
        assert_eq!(Rc::strong_count(&token), 3);
        let popped = q.pop_due();
        assert_eq!(popped.time, SimTime::from_nanos(20));
        assert_eq!(Rc::strong_count(&token), 3, "moved out, not copied");
        drop(popped);
        assert_eq!(Rc::strong_count(&token), 2);
        // Reuses a freed slot.
        q.schedule(SimTime::from_nanos(40), token.clone()).unwrap();
        assert_eq!(Rc::strong_count(&token), 3);
        assert_eq!(q.peek().map(|t| Rc::ptr_eq(t, &token)), Some(true));
        drop(q);
        assert_eq!(Rc::strong_count(&token), 1);
    }

    #[test]
    #[should_panic(expected = "pop_due on an empty event queue")]
    fn pop_due_on_an_empty_queue_panics() {
        let mut q: EventQueue<u8> = EventQueue::new();
        let id = q.schedule(SimTime::from_nanos(1), 1).unwrap();
        q.cancel(id);
        assert!(q.pop().is_none());
        q.pop_due();
    }
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn t(ns: u64) -> SimTime {
        SimTime::from_nanos(ns)
    }

    #[test]
    fn pops_in_time_then_fifo_order() {
        let mut q = EventQueue::new();
        q.schedule(t(30), "c").unwrap();
        q.schedule(t(10), "a1").unwrap();
        q.schedule(t(20), "b").unwrap();
        q.schedule(t(10), "a2").unwrap();
        q.schedule(t(10), "a3").unwrap();
        assert_eq!(q.len(), 5);
        assert_eq!(q.peek_time(), Some(t(10)));
        let order: Vec<_> = std::iter::from_fn(|| q.pop())
            .map(|s| (s.time.as_nanos(), s.event))
            .collect();
        assert_eq!(
            order,
            [(10, "a1"), (10, "a2"), (10, "a3"), (20, "b"), (30, "c")]
        );
        assert_eq!(q.now(), t(30));
        assert_eq!(q.popped_count(), 5);
        assert!(q.is_empty());
        assert_eq!(q.peek_time(), None);
    }

    #[test]
    fn scheduling_in_the_past_is_an_error() {
        let mut q = EventQueue::new();
        q.schedule(t(100), 1).unwrap();
        q.pop().unwrap();
        assert_eq!(
            q.schedule(t(99), 2),
            Err(QueueError::InPast {
                at: t(99),
                now: t(100)
            })
        );
        // Exactly now is allowed, and schedule_after counts from now.
        q.schedule(t(100), 3).unwrap();
        q.schedule_after(SimDuration::from_nanos(5), 4);
        assert_eq!(q.pop().map(|s| (s.time, s.event)), Some((t(100), 3)));
        assert_eq!(q.pop().map(|s| (s.time, s.event)), Some((t(105), 4)));
        assert!(q.is_empty());
    }

    #[test]
    fn cancel_removes_exactly_that_event() {
        let mut q = EventQueue::new();
        let a = q.schedule(t(5), 'a').unwrap();
        let b = q.schedule(t(5), 'b').unwrap();
        let c = q.schedule(t(1), 'c').unwrap();
        assert!(q.cancel(b));
        assert!(!q.cancel(b), "second cancel is a no-op");
        assert_eq!(q.len(), 2);
        assert!(q.cancel(c));
        assert_eq!(q.peek_time(), Some(t(5)));
        let popped = q.pop().unwrap();
        assert_eq!((popped.id, popped.event), (a, 'a'));
        assert!(!q.cancel(a), "a popped event cannot be cancelled");
        assert!(q.pop().is_none());
        assert_eq!(q.popped_count(), 1);
    }

    #[test]
    fn reused_slot_does_not_confuse_old_ids() {
        let mut q = EventQueue::new();
        let old = q.schedule(t(10), 1).unwrap();
        assert!(q.cancel(old));
        let new = q.schedule(t(20), 2).unwrap();
        assert_eq!(new.slot, old.slot, "the freed slot is reused");
        assert!(!q.cancel(old), "the stale id must not cancel the new event");
        let s = q.pop().unwrap();
        assert_eq!((s.time, s.id, s.event), (t(20), new, 2));
    }

    #[test]
    fn memory_stays_bounded_under_heavy_cancellation() {
        let mut q = EventQueue::new();
        // `keep` is due first, so cancelled entries never reach the head and
        // only compaction can free them.
        let keep = q.schedule(t(1), u32::MAX).unwrap();
        for i in 0..100_000u32 {
            let id = q.schedule(t(u64::from(i) + 10), i).unwrap();
            assert!(q.cancel(id));
        }
        assert_eq!(q.len(), 1);
        assert!(
            q.heap_entries() <= 2 * COMPACT_MIN_STALE,
            "{}",
            q.heap_entries()
        );
        assert!(q.slots.len() <= 2 * COMPACT_MIN_STALE);
        assert_eq!(q.pop().map(|s| (s.id, s.event)), Some((keep, u32::MAX)));
        assert!(q.pop().is_none());
        assert_eq!(
            q.heap_entries(),
            0,
            "stale entries are dropped once at the head"
        );
    }

    #[test]
    fn cancelling_the_head_keeps_peek_exact() {
        let mut q = EventQueue::new();
        let a = q.schedule(t(1), 'a').unwrap();
        let b = q.schedule(t(2), 'b').unwrap();
        q.schedule(t(3), 'c').unwrap();
        assert!(q.cancel(b));
        assert_eq!(q.peek_time(), Some(t(1)));
        assert!(q.cancel(a));
        assert_eq!(q.peek_time(), Some(t(3)), "both stale entries skipped");
        assert_eq!(q.heap_entries(), 1);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Schedule(u64),
        Cancel(usize),
        Pop,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0u64..50).prop_map(Op::Schedule),
            // Far apart too, so entries travel through many radix buckets.
            1 => (0u64..1 << 40).prop_map(Op::Schedule),
            // Into the span of a bucket sorted whole into the head.
            1 => (0u64..1 << 22).prop_map(Op::Schedule),
            1 => any::<usize>().prop_map(Op::Cancel),
            2 => Just(Op::Pop),
        ]
    }

    proptest! {
        /// Against a BTreeMap model: pops are sorted by (time, seq), cancel
        /// removes exactly the named event, lengths agree.
        #[test]
        fn matches_sorted_model(ops in proptest::collection::vec(op(), 0..400)) {
            let mut q = EventQueue::new();
            let mut model: BTreeMap<(SimTime, u64), u64> = BTreeMap::new();
            let mut ids: Vec<(EventId, SimTime)> = Vec::new();
            let mut last: Option<(SimTime, u64)> = None;
            let mut payload = 0u64;
            for op in ops {
                match op {
                    Op::Schedule(delay) => {
                        let at = q.now() + SimDuration::from_nanos(delay);
                        let id = q.schedule(at, payload).unwrap();
                        model.insert((at, id.seq()), payload);
                        ids.push((id, at));
                        payload += 1;
                    }
                    Op::Cancel(i) if !ids.is_empty() => {
                        let (id, at) = ids[i % ids.len()];
                        let in_model = model.remove(&(at, id.seq())).is_some();
                        prop_assert_eq!(q.cancel(id), in_model);
                    }
                    Op::Cancel(_) => {}
                    Op::Pop => {
                        let expected = model.pop_first();
                        let got = q.pop();
                        prop_assert_eq!(
                            got.as_ref().map(|s| ((s.time, s.id.seq()), s.event)),
                            expected
                        );
                        if let Some(s) = got {
                            if let Some(prev) = last {
                                prop_assert!(prev < (s.time, s.id.seq()));
                            }
                            last = Some((s.time, s.id.seq()));
                            prop_assert_eq!(q.now(), s.time);
                        }
                    }
                }
                prop_assert_eq!(q.len(), model.len());
                prop_assert_eq!(q.peek_time(), model.keys().next().map(|k| k.0));
            }
        }

        /// Any instant before now is refused and leaves the queue unchanged.
        #[test]
        fn past_is_always_refused(now in 1u64..1_000_000, back in 1u64..1_000_000) {
            let mut q = EventQueue::new();
            q.schedule(t(now), ()).unwrap();
            q.pop().unwrap();
            let at = t(now.saturating_sub(back));
            prop_assert!(q.schedule(at, ()).is_err());
            prop_assert!(q.is_empty());
        }
    }
}
