//! Simulation kernel throughput: the event queue alone, and a whole small
//! run.
//!
//! Run with `cargo bench --bench sim`; criterion prints each figure as a time
//! per iteration and a throughput in events per second. BENCHMARKS.md
//! records a snapshot.
//!
//! Event times come from a ChaCha12 stream drawn before the timed loop, so
//! the figures measure the queue, not the generator.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};
use forklab::scenario::Scenario;
use forklab::sim::{EventQueue, RngStreams, SimDuration, SimTime};
use forklab::world::{Config, World};
use rand::Rng;

/// Events per queue iteration.
const EVENTS: usize = 1_000_000;
/// Live events kept in the queue by the hold benchmark.
const HOLD_SIZE: usize = 10_000;

/// `n` instants uniform over one simulated hour, from a named stream.
fn random_times(n: usize, index: u64) -> Vec<SimTime> {
    let mut rng = RngStreams::new(1).stream("bench-queue", index);
    (0..n)
        .map(|_| SimTime::from_nanos(rng.gen_range(0..3_600_000_000_000)))
        .collect()
}

fn queue(c: &mut Criterion) {
    let mut g = c.benchmark_group("event_queue");
    // An iteration of the 1M-event cases takes about a second: flat
    // sampling (ten equal samples) keeps the group near half a minute.
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(12));
    g.throughput(Throughput::Elements(EVENTS as u64));

    let times = random_times(EVENTS, 0);
    g.bench_function("schedule_pop_1m", |b| {
        b.iter(|| {
            let mut q = EventQueue::new();
            for (i, t) in times.iter().enumerate() {
                q.schedule(*t, i as u32).expect("time zero is never past");
            }
            let mut sum = 0u64;
            while let Some(s) = q.pop() {
                sum = sum.wrapping_add(s.event as u64);
            }
            black_box(sum)
        })
    });

    // Cancel a random 10% (drawn once) between scheduling and popping.
    let mut rng = RngStreams::new(1).stream("bench-cancel", 0);
    let cancel: Vec<bool> = (0..EVENTS).map(|_| rng.gen_bool(0.1)).collect();
    g.bench_function("schedule_pop_1m_cancel_10pct", |b| {
        b.iter(|| {
            let mut q = EventQueue::new();
            let mut ids = Vec::with_capacity(EVENTS / 9);
            for (i, t) in times.iter().enumerate() {
                let id = q.schedule(*t, i as u32).expect("time zero is never past");
                if cancel[i] {
                    ids.push(id);
                }
            }
            for id in ids {
                assert!(q.cancel(id));
            }
            let mut sum = 0u64;
            while let Some(s) = q.pop() {
                sum = sum.wrapping_add(s.event as u64);
            }
            black_box(sum)
        })
    });

    // The classic "hold" model, closer to a running simulation: a queue of
    // HOLD_SIZE events; each step pops the head and schedules one event a
    // random delay later.
    let mut rng = RngStreams::new(1).stream("bench-hold", 0);
    let delays: Vec<SimDuration> = (0..EVENTS)
        .map(|_| SimDuration::from_nanos(rng.gen_range(0..2_000_000_000)))
        .collect();
    let initial = random_times(HOLD_SIZE, 1);
    g.bench_function("hold_10k_live_1m_steps", |b| {
        b.iter_batched(
            || {
                let mut q = EventQueue::new();
                for (i, t) in initial.iter().enumerate() {
                    q.schedule(*t, i as u32).expect("time zero is never past");
                }
                q
            },
            |mut q| {
                for d in &delays {
                    let s = q.pop().expect("hold keeps the queue full");
                    q.schedule_after(*d, s.event);
                }
                q
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

/// The three-node teaching scenario without nonce grinding.
fn three_nodes() -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/three_nodes.yaml");
    let scenario = Scenario::load(&path, &["pow.grind=false".to_string()]).expect("scenario loads");
    Config::from_scenario(&scenario).expect("scenario resolves")
}

fn whole_run(c: &mut Criterion) {
    let cfg = three_nodes();
    let mut probe = World::new(cfg.clone());
    probe.run();
    let events = probe.events();

    let mut g = c.benchmark_group("run");
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(events));
    g.bench_function("three_nodes_no_grind", |b| {
        b.iter_batched(
            || cfg.clone(),
            |cfg| {
                let mut world = World::new(cfg);
                world.run();
                assert_eq!(world.events(), events, "the run is deterministic");
                world.finish()
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, queue, whole_run);
criterion_main!(benches);
