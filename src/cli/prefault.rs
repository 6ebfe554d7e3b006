//! Faulting in the allocator's memory ahead of a run, on another core.
//!
//! The first write to a fresh page costs a page fault in which the kernel
//! zeroes it (a 2 MB huge page, under mimalloc's arenas). A 10,000-node
//! run writes about 270 MB it never returns, and on this project's VMs the
//! faults took 0.1–0.9 s of its 3–3.7 s wall time, most right after
//! another program freed its memory (BENCHMARKS.md, "Faulting in ahead").
//!
//! [`start`] spawns a thread that asks the kernel to populate
//! (`MADV_POPULATE_WRITE`, Linux 5.14) mimalloc's arena from its start: up
//! to the scenario's memory estimate at once, then never more than
//! [`LOOKAHEAD`] beyond what the allocator has committed. Populating a
//! page writes nothing into it (a present page is left as it is), so the
//! run computes the same bytes; the faults are taken on the other core
//! while the run's thread works. It does nothing on one core, outside
//! Linux, or when the kernel refuses.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// How far ahead of the allocator's committed memory the thread populates.
pub const LOOKAHEAD: usize = 16 << 20;

/// Runs smaller than this (by the scenario's memory estimate) are not
/// worth a thread.
pub const MIN_ESTIMATE: f64 = 64.0 * 1024.0 * 1024.0;

/// Populated per `madvise` call: one huge page.
const STEP: usize = 2 << 20;

/// Stops the populating thread when dropped (the thread also ends at
/// process exit, or when it reaches the end of the arena).
pub struct Prefault {
    stop: Arc<AtomicBool>,
}

impl Drop for Prefault {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Starts populating the allocator's arena for a run estimated to need
/// `estimate` bytes (see the module docs); `None` when it does not apply.
/// `FORKLAB_PREFAULT=0` in the environment turns it off.
pub fn start(estimate: f64) -> Option<Prefault> {
    if estimate < MIN_ESTIMATE
        || std::env::var_os("FORKLAB_PREFAULT").is_some_and(|v| v == "0")
        || std::thread::available_parallelism().map_or(true, |n| n.get() < 2)
    {
        return None;
    }
    let (start, end) = arena()?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let initial = (estimate as usize).min(end - start);
    std::thread::Builder::new()
        .name("prefault".into())
        .spawn(move || populate(start, end, initial, &flag))
        .ok()?;
    Some(Prefault { stop })
}

/// The address range of the mapping that holds a fresh allocation: the
/// allocator's (first) arena.
#[cfg(target_os = "linux")]
fn arena() -> Option<(usize, usize)> {
    let probe: Vec<u8> = Vec::with_capacity(1 << 16);
    let at = probe.as_ptr().addr();
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines().find_map(|line| {
        let (lo, hi) = line.split_whitespace().next()?.split_once('-')?;
        let lo = usize::from_str_radix(lo, 16).ok()?;
        let hi = usize::from_str_radix(hi, 16).ok()?;
        (lo <= at && at < hi).then_some((lo, hi))
    })
}

#[cfg(not(target_os = "linux"))]
fn arena() -> Option<(usize, usize)> {
    None
}

/// Populates `[start, end)` from the start: `initial` bytes at once, then
/// up to [`LOOKAHEAD`] past the allocator's committed memory, until
/// stopped, refused, or at the end.
fn populate(start: usize, end: usize, initial: usize, stop: &AtomicBool) {
    let mut done = 0;
    let mut target = initial;
    while !stop.load(Ordering::Relaxed) {
        while done < target && start + done < end {
            let len = STEP.min(end - start - done);
            if !populate_range(start + done, len) {
                return;
            }
            done += len;
            if stop.load(Ordering::Relaxed) {
                return;
            }
        }
        if start + done >= end {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
        target = target.max(committed() + LOOKAHEAD);
    }
}

#[cfg(target_os = "linux")]
fn populate_range(at: usize, len: usize) -> bool {
    // SAFETY: MADV_POPULATE_WRITE only faults pages in (present pages are
    // left as they are, nothing is written), on a mapping of this process
    // that stays mapped (the allocator never unmaps its arena while the
    // process lives); on an error (an old kernel, a protected range) the
    // call changes nothing and the caller stops.
    unsafe {
        libc::madvise(
            std::ptr::with_exposed_provenance_mut(at),
            len,
            libc::MADV_POPULATE_WRITE,
        ) == 0
    }
}

#[cfg(not(target_os = "linux"))]
fn populate_range(_at: usize, _len: usize) -> bool {
    false
}

/// Bytes the allocator has committed now.
fn committed() -> usize {
    let mut current_commit = 0;
    // SAFETY: mimalloc fills the pointers it is given; null ones are
    // skipped (`mi_process_info` in `mimalloc.h`).
    unsafe {
        libmimalloc_sys::mi_process_info(
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            &mut current_commit,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
    }
    current_commit
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// Pages of `[at, at + len)` resident now (`mincore`).
    fn resident(at: usize, len: usize) -> usize {
        let page = 4096;
        let mut vec = vec![0u8; len.div_ceil(page)];
        // SAFETY: `at` is page-aligned and the range is mapped (the
        // callers' own allocations); `vec` has one byte per page.
        let rc = unsafe {
            libc::mincore(
                std::ptr::with_exposed_provenance_mut(at),
                len,
                vec.as_mut_ptr(),
            )
        };
        assert_eq!(rc, 0, "mincore");
        vec.iter().filter(|&&b| b & 1 == 1).count()
    }

    #[test]
    fn the_arena_holds_fresh_allocations() {
        let (lo, hi) = arena().expect("a mapping holds the probe");
        assert!(hi - lo >= 1 << 20, "{lo:#x}-{hi:#x}");
        let v: Vec<u8> = Vec::with_capacity(1 << 16);
        let at = v.as_ptr().addr();
        assert!(lo <= at && at < hi, "{at:#x} outside {lo:#x}-{hi:#x}");
    }

    #[test]
    fn populating_faults_pages_in_and_keeps_their_contents() {
        let len = 8 << 20;
        let mut v: Vec<u8> = Vec::with_capacity(len + STEP);
        // A page-aligned range inside the untouched buffer.
        let at = v.as_ptr().addr().next_multiple_of(4096);
        let before = resident(at, len);
        assert!(populate_range(at, len), "MADV_POPULATE_WRITE refused");
        assert_eq!(resident(at, len), len / 4096, "was {before} pages");
        // Written data survives populating its pages again.
        v.extend((0..len).map(|i| (i % 251) as u8));
        let at = v.as_ptr().addr().next_multiple_of(4096);
        assert!(populate_range(at, len - 4096));
        assert!(v.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
    }

    #[test]
    fn small_runs_get_no_thread() {
        assert!(start(MIN_ESTIMATE / 2.0).is_none());
    }

    #[test]
    fn populate_covers_its_range_unless_stopped() {
        let len = 8 << 20;
        let v: Vec<u8> = Vec::with_capacity(len + 4096);
        let at = v.as_ptr().addr().next_multiple_of(4096);
        let before = resident(at, len);
        populate(at, at + len, len, &AtomicBool::new(true));
        assert_eq!(resident(at, len), before, "a stopped thread populated");
        populate(at, at + len, len, &AtomicBool::new(false));
        assert_eq!(resident(at, len), len / 4096);
    }
}
