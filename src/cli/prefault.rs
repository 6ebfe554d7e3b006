//! Faulting in the allocator's memory ahead of a run, on another core.
//!
//! The first write to a fresh page costs a page fault in which the kernel
//! zeroes it (a 2 MB huge page, under mimalloc's arenas). A 10,000-node
//! run commits 265.6 MiB it never returns, and on this project's VM its
//! runs spent 0.03–0.93 s of system time, in 2.8–3.8 s of wall time, most
//! right after another program freed its memory (BENCHMARKS.md, "Faulting
//! in ahead, and less memory per node").
//!
//! [`start`] spawns a thread that asks the kernel to populate
//! (`MADV_POPULATE_WRITE`, Linux 5.14) mimalloc's arena from its start: up
//! to [`INITIAL_FACTOR`] times the scenario's memory estimate at once (at
//! most [`MAX_MARGIN`] beyond it), then to [`LOOKAHEAD`] past the
//! allocator's committed memory (a process-wide total, so the arena offset
//! it is compared with runs ahead of it: the 10,000-node run's peak RSS
//! went from 274 to 301 MB, and to 328 MB with the larger first step).
//!
//! The first step is larger than the estimate because, when only the
//! estimate was populated at once, the run's own thread still zeroed pages
//! in the middle of the run (1.0–1.5 s into a 3 s run started after the
//! machine sat idle for 5 s: about 86 ms of `clear_page_erms` on that
//! thread under `perf`), while the populating thread sat idle, waiting for
//! the committed total to move. Started after 5 or 10 s idle, the
//! 10,000-node run took a median 2.81 and 2.87 s of wall time in two sets
//! of six and five alternating runs, against 2.905 and 3.06 s before;
//! started back to back, 2.73 against 2.785 s (BENCHMARKS.md, "Faulting
//! in ahead after an idle machine"). Populating a page writes nothing into it
//! (a present page is left as it is), so the run computes the same bytes;
//! the faults are taken on the other core while the run's thread works.
//! It does nothing on one core, outside Linux, or when the kernel refuses.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// How far ahead of the allocator's committed memory the thread populates.
pub const LOOKAHEAD: usize = 16 << 20;

/// Populated at once, as a multiple of the scenario's memory estimate:
/// the estimate counts what the run stores, not the allocator's huge-page
/// rounding and free space. For the 10,000-node SimBlock run it is
/// 194.7 MB, and the run's peak resident size was 303,260 KiB (310.5 MB)
/// before this step was enlarged from 1 to 1.6 times the estimate.
pub const INITIAL_FACTOR: f64 = 1.6;

/// The most the first step populates beyond the estimate itself, so a
/// large run's unused margin stays bounded (a run that needs less than
/// the step still holds all of it: the 10,000-node SimBlock run with
/// whole-block relay peaked at 239 MB before and 328 MB after).
pub const MAX_MARGIN: f64 = 128.0 * 1024.0 * 1024.0;

/// Bytes the first step populates for a run estimated at `estimate`.
fn first_step(estimate: f64) -> usize {
    let margin = (estimate * (INITIAL_FACTOR - 1.0)).min(MAX_MARGIN);
    // `as` saturates (and maps NaN to 0).
    (estimate + margin) as usize
}

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
/// `FORKLAB_PREFAULT=0` (or `off`, `false`, `no`) in the environment turns
/// it off.
pub fn start(estimate: f64) -> Option<Prefault> {
    if estimate < MIN_ESTIMATE
        || std::env::var("FORKLAB_PREFAULT").is_ok_and(|v| turned_off(&v))
        || std::thread::available_parallelism().map_or(true, |n| n.get() < 2)
    {
        return None;
    }
    let (start, end) = arena()?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let initial = first_step(estimate).min(end - start);
    std::thread::Builder::new()
        .name("prefault".into())
        .spawn(move || populate(start, end, initial, &flag))
        .ok()?;
    Some(Prefault { stop })
}

/// Whether a `FORKLAB_PREFAULT` value turns the thread off.
fn turned_off(value: &str) -> bool {
    ["0", "off", "false", "no"]
        .iter()
        .any(|off| value.trim().eq_ignore_ascii_case(off))
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
    // SAFETY: the pointer only names an address range to the kernel; Rust
    // never reads or writes through it. MADV_POPULATE_WRITE faults pages
    // in without writing to them (present pages are left as they are), so
    // whatever lives in the range (the allocator's arena, or a mapping the
    // kernel merged with it) keeps its contents. On an error (an old
    // kernel, an unmapped or protected page) part of the range may be
    // populated, which changes no contents either, and the caller stops.
    unsafe {
        libc::madvise(
            std::ptr::without_provenance_mut::<libc::c_void>(at),
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

    /// The system's page size.
    fn page() -> usize {
        // SAFETY: sysconf reads a constant of the system.
        unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
    }

    /// Pages of `[at, at + len)` resident now (`mincore`).
    fn resident(at: usize, len: usize) -> usize {
        let mut vec = vec![0u8; len.div_ceil(page())];
        // SAFETY: `at` is page-aligned and the range lies in the callers'
        // own allocations, so it is mapped; `vec` has one byte per page.
        let rc = unsafe {
            libc::mincore(
                std::ptr::without_provenance_mut::<libc::c_void>(at),
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
        let (len, page) = (8 << 20, page());
        let mut v: Vec<u8> = Vec::with_capacity(len + STEP);
        // A page-aligned range inside the untouched buffer.
        let at = v.as_ptr().addr().next_multiple_of(page);
        let before = resident(at, len);
        assert!(populate_range(at, len), "MADV_POPULATE_WRITE refused");
        assert_eq!(resident(at, len), len / page, "was {before} pages");
        // Written data survives populating its pages again.
        v.extend((0..len).map(|i| (i % 251) as u8));
        let at = v.as_ptr().addr().next_multiple_of(page);
        assert!(populate_range(at, len - page));
        assert!(v.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
    }

    #[test]
    fn small_runs_get_no_thread() {
        assert!(start(MIN_ESTIMATE / 2.0).is_none());
    }

    #[test]
    fn the_first_step_adds_a_bounded_margin() {
        let mb = 1024.0 * 1024.0;
        // The 10,000-node SimBlock run's estimate: 1.6 times it.
        let small = 194.7 * mb;
        assert!((first_step(small) as f64 - small * INITIAL_FACTOR).abs() <= 1.0);
        // A large run: the estimate plus at most MAX_MARGIN.
        assert_eq!(first_step(4096.0 * mb), ((4096.0 + 128.0) * mb) as usize);
        assert_eq!(first_step(f64::NAN), 0);
    }

    #[test]
    fn the_switch_reads_the_usual_words() {
        for off in ["0", "off", "OFF", "false", "no", " 0 "] {
            assert!(turned_off(off), "{off:?}");
        }
        for on in ["1", "on", "yes", ""] {
            assert!(!turned_off(on), "{on:?}");
        }
    }

    #[test]
    fn populate_covers_its_range_unless_stopped() {
        let (len, page) = (8 << 20, page());
        let v: Vec<u8> = Vec::with_capacity(len + page);
        let at = v.as_ptr().addr().next_multiple_of(page);
        let before = resident(at, len);
        populate(at, at + len, len, &AtomicBool::new(true));
        assert_eq!(resident(at, len), before, "a stopped thread populated");
        populate(at, at + len, len, &AtomicBool::new(false));
        assert_eq!(resident(at, len), len / page);
    }
}
