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
//! - [`EventQueue::cancel`] marks the event's slot empty in O(1) and leaves
//!   its heap entry to be skipped later (lazy deletion, as in Shadow's event
//!   queue); cancelled entries that reach the top of the heap are popped at
//!   once, so the head is always live and [`EventQueue::peek_time`] is O(1).
//!   Each entry is popped once, so cancel costs O(log n) amortised.
//! - When cancelled entries outnumber live ones the heap is rebuilt, so
//!   memory stays O(live events) however many events are cancelled.
//!
//! # Use
//!
//! The world owns one `EventQueue<Event>` for its single `Event` enum,
//! schedules the first events, then pops until a stop condition; handlers
//! schedule follow-up events with [`EventQueue::schedule_after`]. See the
//! example in [`crate::sim`].

use dary_heap::QuaternaryHeap as BinaryHeap;
use std::cmp::Reverse;

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

/// One storage slot: the event it holds (if still live) and that event's seq.
#[derive(Debug)]
struct Slot<E> {
    seq: u64,
    event: Option<E>,
}

/// The hint of an event scheduled without one.
pub const NO_HINT: u32 = u32::MAX;

/// Rebuild the heap once it holds this many stale entries and more stale
/// than live ones (a small floor avoids rebuilding tiny heaps constantly).
const COMPACT_MIN_STALE: usize = 1024;

/// A discrete-event queue ordered by `(time, insertion sequence)`.
#[derive(Debug)]
pub struct EventQueue<E> {
    /// `(time, seq, slot)`; `seq` is unique so `slot` never decides order.
    /// `(time, seq, slot, hint)`: `(time, seq)` is unique, so the slot and
    /// the hint never take part in the order.
    heap: BinaryHeap<Reverse<(SimTime, u64, u32, u32)>>,
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
            heap: BinaryHeap::new(),
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
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Slot {
                    seq,
                    event: Some(event),
                };
                slot
            }
            None => {
                let slot = u32::try_from(self.slots.len()).map_err(|_| QueueError::Full)?;
                self.slots.push(Slot {
                    seq,
                    event: Some(event),
                });
                slot
            }
        };
        self.next_seq += 1;
        self.live += 1;
        self.heap.push(Reverse((at, seq, slot, hint)));
        Ok(EventId { seq, slot })
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

    /// Cancels a scheduled event (O(log n) amortised, see the module docs).
    /// Returns `true` if it was live, `false` if it already fired, was
    /// already cancelled, or is unknown.
    pub fn cancel(&mut self, id: EventId) -> bool {
        let Some(slot) = self.slots.get_mut(id.slot as usize) else {
            return false;
        };
        if slot.seq != id.seq || slot.event.is_none() {
            return false;
        }
        slot.event = None;
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
        let &Reverse((_, _, slot, _)) = self.heap.peek()?;
        self.slots[slot as usize].event.as_ref()
    }

    /// Hints the CPU to fetch the slots of the next few events (the head of
    /// the heap and its children) into cache. A performance hint only: it
    /// changes no state and no result.
    pub fn prefetch_upcoming(&self) {
        for &Reverse((_, _, slot, _)) in self.heap.as_slice().iter().take(2) {
            if let Some(s) = self.slots.get(slot as usize) {
                crate::sim::prefetch(s);
            }
        }
    }

    /// The locality hint of the next live event ([`Self::schedule_hinted`];
    /// [`NO_HINT`] if it was scheduled without one). O(1).
    pub fn peek_hint(&self) -> Option<u32> {
        self.heap.peek().map(|&Reverse((_, _, _, hint))| hint)
    }

    /// The locality hint of the event after the next one, as the queue
    /// stands (the smallest child of the heap's head), for prefetching two
    /// events ahead. O(1). Cancelled entries are not skipped: a wasted
    /// prefetch at worst.
    pub fn peek_second_hint(&self) -> Option<u32> {
        let heap = self.heap.as_slice();
        heap.get(1..heap.len().min(5))?
            .iter()
            .max()
            .map(|&Reverse((_, _, _, hint))| hint)
    }

    /// The time of the next live event, if any. O(1): the head of the heap
    /// is always live (cancel and pop drop stale entries that reach it).
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|&Reverse((time, _, _, _))| time)
    }

    /// Takes the next event in `(time, seq)` order and advances the clock to
    /// its time.
    ///
    /// # Panics
    /// If time would go backwards (an internal invariant; scheduling in the
    /// past is refused, so this cannot happen).
    pub fn pop(&mut self) -> Option<Scheduled<E>> {
        while let Some(Reverse((time, seq, slot, _))) = self.heap.pop() {
            if !self.is_live(seq, slot) {
                self.stale -= 1;
                continue;
            }
            let event = self.slots[slot as usize]
                .event
                .take()
                .expect("is_live checked the slot holds an event");
            self.free.push(slot);
            self.live -= 1;
            debug_assert!(time >= self.now, "event queue time went backwards");
            assert!(
                time >= self.now,
                "event queue time went backwards: {time} < {}",
                self.now
            );
            self.now = time;
            self.popped += 1;
            self.drop_stale_head();
            return Some(Scheduled {
                time,
                id: EventId { seq, slot },
                event,
            });
        }
        None
    }

    /// Pops cancelled entries off the top so the head is always live.
    fn drop_stale_head(&mut self) {
        if self.stale == 0 {
            // Nothing cancelled is left in the heap: skip the slot lookup.
            return;
        }
        while let Some(&Reverse((_, seq, slot, _))) = self.heap.peek() {
            if self.is_live(seq, slot) {
                break;
            }
            self.heap.pop();
            self.stale -= 1;
        }
    }

    fn is_live(&self, seq: u64, slot: u32) -> bool {
        let s = &self.slots[slot as usize];
        s.seq == seq && s.event.is_some()
    }

    /// Drops stale heap entries once they dominate, keeping memory
    /// O(live events). Amortised O(1) per cancel: a rebuild costs O(heap) and
    /// only happens after at least heap/2 cancels.
    fn maybe_compact(&mut self) {
        if self.stale < COMPACT_MIN_STALE || self.stale <= self.live {
            return;
        }
        let mut entries = std::mem::take(&mut self.heap).into_vec();
        entries.retain(|&Reverse((_, seq, slot, _))| self.is_live(seq, slot));
        self.heap = BinaryHeap::from(entries);
        self.stale = 0;
        // Trailing free slots can be released too.
        while matches!(self.slots.last(), Some(s) if s.event.is_none()) {
            self.slots.pop();
        }
        let len = self.slots.len() as u32;
        self.free.retain(|&s| s < len);
        self.slots.shrink_to(self.live.max(16) * 2);
        self.free.shrink_to(self.slots.len());
    }

    /// Capacity actually held (heap entries, including stale ones), for
    /// tests of the memory bound.
    #[cfg(test)]
    fn heap_entries(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
