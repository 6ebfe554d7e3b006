//! The discrete-event kernel: simulated time, one event queue with a total
//! order, and named RNG streams. Knows nothing of blocks.
//!
//! - [`time`]: [`SimTime`] (an instant) and [`SimDuration`] (a span), integer
//!   nanoseconds;
//! - [`queue`]: [`EventQueue`], ordered by `(time, insertion sequence)`, with
//!   cheap cancellation; scheduling in the past is an error;
//! - [`rng`]: [`RngStreams`], ChaCha12 streams named by `(label, index)` and
//!   derived from one master seed.
//!
//! # Example
//!
//! A tiny run loop: one `Event` enum, one queue, pop until empty.
//!
//! ```
//! use forklab::sim::{EventQueue, QueueError, SimDuration, SimTime};
//!
//! #[derive(Debug, PartialEq)]
//! enum Event {
//!     Ping(u32),
//!     Timeout,
//! }
//!
//! let mut queue = EventQueue::new();
//! queue.schedule(SimTime::from_nanos(50), Event::Ping(1))?;
//! queue.schedule(SimTime::from_nanos(50), Event::Ping(2))?; // FIFO among equal times
//! let timeout = queue.schedule_after(SimDuration::from_millis(1), Event::Timeout);
//!
//! let mut seen = Vec::new();
//! while let Some(next) = queue.pop() {
//!     if let Event::Ping(n) = next.event {
//!         if n == 2 {
//!             queue.cancel(timeout); // the timeout never fires
//!         }
//!     }
//!     seen.push((next.time.as_nanos(), next.event));
//! }
//! assert_eq!(seen, [(50, Event::Ping(1)), (50, Event::Ping(2))]);
//! assert_eq!(queue.now(), SimTime::from_nanos(50));
//!
//! // The clock never goes backwards: the past is refused.
//! assert!(matches!(
//!     queue.schedule(SimTime::from_nanos(10), Event::Timeout),
//!     Err(QueueError::InPast { .. })
//! ));
//! # Ok::<(), QueueError>(())
//! ```

pub mod queue;
pub mod rng;
pub mod time;

pub use queue::{EventId, EventQueue, QueueError, Scheduled};
pub use rng::{derive_seed, RngStreams};
pub use time::{SimDuration, SimTime};

/// Hints the CPU to bring the cache line holding `value` into cache (x86-64
/// `prefetcht0`; nothing elsewhere). It never faults and changes no state:
/// the run loop uses it to overlap the next event's memory fetches with the
/// current event's work.
#[inline(always)]
pub fn prefetch<T>(value: &T) {
    prefetch_range((value as *const T).addr(), 1);
}

/// [`prefetch`] for every cache line `value` spans (for small structs whose
/// fields are touched together).
#[inline(always)]
pub fn prefetch_all<T>(value: &T) {
    prefetch_prefix(value, std::mem::size_of::<T>());
}

/// [`prefetch`] for the cache lines of the first `len` bytes of `value`
/// (with a `repr(C)` struct whose hot fields come first).
#[inline(always)]
pub fn prefetch_prefix<T>(value: &T, len: usize) {
    prefetch_range(
        (value as *const T).addr(),
        len.min(std::mem::size_of::<T>()),
    );
}

/// [`prefetch`] for the cache lines of `len` bytes at address `addr`: for a
/// value the caller holds only the address of (say, a boxed record whose
/// address it noted, to skip reading the box pointer). A hint that never
/// faults, so any address is sound.
#[inline(always)]
pub fn prefetch_range(addr: usize, len: usize) {
    const LINE: usize = 64;
    let first = addr & !(LINE - 1);
    // A plain counted loop (this runs some 40 times an event): addresses
    // wrap rather than overflow, harmless for a hint that never faults.
    let lines = (addr - first).saturating_add(len).div_ceil(LINE);
    for k in 0..lines {
        prefetch_addr(std::ptr::without_provenance::<u8>(
            first.wrapping_add(k * LINE),
        ));
    }
}

#[inline(always)]
fn prefetch_addr(addr: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint: it never faults, whatever the
    // address (callers may pass 0 or an address noted earlier that has
    // since gone stale), and reads nothing into the program.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(addr.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}
