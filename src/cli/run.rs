//! `sim run`, `sim validate` and `sim replay`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use forklab::scenario::Scenario;
use forklab::world::output::{self, Manifest, PowNote, RelayNote, Summary};
use forklab::world::{Config, World};

use super::outln;
use super::{CliError, CliResult};

/// Options of `sim run`.
pub struct RunArgs {
    /// Scenario file.
    pub file: PathBuf,
    /// Seed override.
    pub seed: Option<u64>,
    /// Output directory (default `output/<name>`).
    pub out: Option<PathBuf>,
    /// `--set key.path=value` overrides.
    pub sets: Vec<String>,
    /// No progress bar, no summary.
    pub quiet: bool,
    /// Skip charts.
    pub no_charts: bool,
    /// Skip `chain.sqlite`.
    pub no_db: bool,
}

fn load(file: &Path, sets: &[String], seed: Option<u64>) -> Result<Scenario, CliError> {
    let mut sets = sets.to_vec();
    if let Some(seed) = seed {
        sets.push(format!("seed={seed}"));
    }
    Scenario::load(file, &sets).map_err(CliError::input)
}

/// Runs a world to the end with an optional progress bar; returns the
/// finished world and the wall-clock seconds it took.
fn execute(mut world: World, progress: bool) -> (World, f64) {
    #[allow(clippy::disallowed_methods)] // the CLI may time itself
    let start = std::time::Instant::now();
    let cfg = world.config();
    let (len, by_height) = match (cfg.stop_height, cfg.stop_time) {
        (Some(h), _) => (h as u64, true),
        (None, Some(t)) => (t.as_secs().max(1), false),
        _ => (cfg.stop_events.unwrap_or(1), false),
    };
    let bar = if progress && std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(len);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} {msg}",
            )
            .expect("valid progress template"),
        );
        bar.set_message(if by_height { "blocks" } else { "simulated s" });
        Some(bar)
    } else {
        None
    };
    while !world.is_done() {
        world.step(200_000);
        if let Some(bar) = &bar {
            let pos = if by_height {
                world.best_mined_height() as u64
            } else if cfg_has_time(&world) {
                world.now().as_secs()
            } else {
                world.events()
            };
            bar.set_position(pos.min(len));
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    (world, start.elapsed().as_secs_f64())
}

fn cfg_has_time(world: &World) -> bool {
    world.config().stop_time.is_some()
}

/// `sim run`.
pub fn run(args: RunArgs) -> CliResult {
    let scenario = load(&args.file, &args.sets, args.seed)?;
    let config = Config::from_scenario(&scenario)
        .map_err(|e| CliError::input(format!("{}: {e}", args.file.display())))?;
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(&scenario.name));
    forklab::report::atomic::check_replaceable(&out_dir).map_err(CliError::input)?;
    let world = World::new(config);
    let (world, wall) = execute(world, !args.quiet);
    let (summary, manifest, out) = finish(world, &scenario, &args.sets, args.seed);
    let options = output::OutputOptions {
        charts: !args.no_charts,
        db: !args.no_db,
    };
    let files =
        output::write_run(&out_dir, &manifest, &out, &summary, options).map_err(CliError::other)?;
    if !args.quiet {
        print_summary(&summary, wall, &out_dir, files.len());
    }
    Ok(())
}

/// Ends a world and builds its summary and manifest.
fn finish(
    world: World,
    scenario: &Scenario,
    sets: &[String],
    seed: Option<u64>,
) -> (Summary, Manifest, forklab::world::RunOutput) {
    let sim_time = world.now().as_secs_f64();
    let grind = world.config().grind;
    let relay = world.config().tx_relay;
    let out = world.finish();
    let summary = Summary::of(&out, sim_time, out.txs_confirmed);
    let mut overrides = sets.to_vec();
    if let Some(seed) = seed {
        overrides.push(format!("seed={seed}"));
    }
    let manifest = Manifest {
        forklab_version: env!("CARGO_PKG_VERSION").to_string(),
        name: scenario.name.clone(),
        seed: scenario.seed,
        scenario: serde_json::to_value(scenario).expect("a scenario serializes"),
        overrides,
        events: out.digest.count(),
        event_digest: out.digest.hex(),
        digest_checkpoints: out
            .digest
            .checkpoints()
            .iter()
            .map(|c| format!("{c:016x}"))
            .collect(),
        checkpoint_every: forklab::world::digest::CHECKPOINT_EVERY,
        pow: if grind {
            PowNote {
                ground: true,
                note: "every block's nonce was searched; every receiver checked hash <= target"
                    .into(),
            }
        } else {
            PowNote {
                ground: false,
                note: "proof of work was modelled: block discovery times are exponential with mean expected_hashes/hashrate; nonces were not searched and hash <= target was not checked (bits and retargeting were)".into(),
            }
        },
        tx_relay: RelayNote::of(relay),
        cache: out.cache_stats,
        final_tip: out.final_tip.to_string(),
        main_chain_height: out.main_chain.len().saturating_sub(1) as u32,
        files: Default::default(),
    };
    (summary, manifest, out)
}

fn print_summary(s: &Summary, wall: f64, out_dir: &Path, files: usize) {
    let ms = |x: f64| {
        if x.is_nan() {
            "n/a".to_string()
        } else {
            format!("{x:.0} ms")
        }
    };
    outln!("blocks mined          {}", s.blocks_mined);
    outln!("main-chain height     {}", s.main_chain_height);
    outln!(
        "stale blocks          {} ({:.2}% stale rate)",
        s.stale_blocks,
        s.stale_rate * 100.0
    );
    outln!(
        "reorgs                {} (deepest {})",
        s.reorgs,
        s.deepest_reorg
    );
    outln!(
        "block propagation     median {} to 50% of nodes, {} to 90%",
        ms(s.propagation_p50_ms),
        ms(s.propagation_p90_ms)
    );
    outln!(
        "transactions          {} confirmed of {} payments",
        s.txs_confirmed,
        s.payments_issued
    );
    outln!("simulated time        {:.1} s", s.sim_time_s);
    outln!(
        "events                {} in {:.2} s wall ({:.0} events/s)",
        s.events,
        wall,
        s.events as f64 / wall.max(1e-9)
    );
    outln!(
        "converged             {}",
        if s.converged {
            "yes, all online full nodes share the tip"
        } else {
            "no"
        }
    );
    outln!(
        "output                {} ({} files)",
        out_dir.display(),
        files
    );
}

/// `sim validate`.
pub fn validate(file: &Path, sets: &[String]) -> CliResult {
    let scenario = load(file, sets, None)?;
    Config::from_scenario(&scenario)
        .map_err(|e| CliError::input(format!("{}: {e}", file.display())))?;
    outln!("{}: ok", file.display());
    outln!("{}", scenario.summary());
    Ok(())
}

/// Options of `sim replay`.
pub struct ReplayArgs {
    /// The run's output directory.
    pub dir: PathBuf,
    /// Print the event log.
    pub trace: bool,
    /// Only events at this node.
    pub node: Option<u32>,
    /// Only events at or after this time.
    pub from: Option<forklab::sim::SimDuration>,
    /// Only events at or before this time.
    pub to: Option<forklab::sim::SimDuration>,
}

/// `sim replay`.
pub fn replay(args: ReplayArgs) -> CliResult {
    let path = args.dir.join(forklab::report::rows::MANIFEST_JSON);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
    let m: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| CliError::input(format!("{}: not a run manifest: {e}", path.display())))?;
    let field = |k: &str| {
        m.get(k)
            .cloned()
            .ok_or_else(|| CliError::input(format!("{}: missing field `{k}`", path.display())))
    };
    let scenario_json = field("scenario")?;
    let digest = field("event_digest")?
        .as_str()
        .unwrap_or_default()
        .to_string();
    let checkpoints: Vec<String> = serde_json::from_value(field("digest_checkpoints")?)
        .map_err(|e| CliError::input(format!("{}: digest_checkpoints: {e}", path.display())))?;
    let every = forklab::world::digest::CHECKPOINT_EVERY;
    if field("checkpoint_every")?.as_u64() != Some(every) {
        return Err(CliError::input(format!(
            "{}: checkpoint_every is not {every}, the interval every run records (the manifest was edited)",
            path.display()
        )));
    }
    let version = field("forklab_version")?
        .as_str()
        .unwrap_or_default()
        .to_string();
    if version != env!("CARGO_PKG_VERSION") {
        eprintln!(
            "warning: run made by forklab {version}, replaying with {}; digests may differ",
            env!("CARGO_PKG_VERSION")
        );
    }
    let yaml = serde_yaml::to_string(&scenario_json).expect("json converts to yaml");
    let scenario = Scenario::from_yaml_str(&yaml, &path.display().to_string(), &[])
        .map_err(CliError::input)?;
    let config = Config::from_scenario(&scenario)
        .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
    let recorded_seed = field("seed")?.as_u64();
    if recorded_seed != Some(scenario.seed) {
        return Err(CliError::input(format!(
            "{}: seed {} does not match scenario.seed {} (the manifest was edited)",
            path.display(),
            recorded_seed.map_or("(not a number)".to_string(), |s| s.to_string()),
            scenario.seed
        )));
    }
    let recorded_events = field("events")?.as_u64();
    let nodes = config.nodes.len();
    if let Some(n) = args.node.filter(|&n| n as usize >= nodes) {
        return Err(CliError::input(format!(
            "--node {n}: the run has {nodes} nodes (0 to {})",
            nodes.saturating_sub(1)
        )));
    }
    if let (Some(f), Some(t)) = (args.from, args.to) {
        if f > t {
            return Err(CliError::input(format!(
                "--from {f} is after --to {t}: the window is empty"
            )));
        }
    }
    let mut world = World::new(config);
    // Note when each window of `every` events starts, so a divergence can
    // be named by simulated time (what --from and --to take).
    let window_starts = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let starts = window_starts.clone();
    let (trace, node, from, to) = (args.trace, args.node, args.from, args.to);
    let mut seen = 0u64;
    world.set_trace(Box::new(move |t, ev| {
        if seen % every == 0 {
            if let Ok(mut s) = starts.lock() {
                s.push(t);
            }
        }
        seen += 1;
        if !trace {
            return;
        }
        let ns = t.as_nanos();
        if from.is_some_and(|f| ns < f.as_nanos()) || to.is_some_and(|x| ns > x.as_nanos()) {
            return;
        }
        if node.is_some() && ev.node() != node {
            return;
        }
        outln!("{t:>14} {}", ev.describe());
    }));
    world.run();
    let end = world.now();
    let got = world.digest().clone();
    if got.hex() == digest {
        if recorded_events != Some(got.count()) {
            // Same digest, so the same events: the count was edited.
            return Err(CliError::input(format!(
                "{}: events {} does not match the {} events replayed with the recorded digest (the manifest was edited)",
                path.display(),
                recorded_events.map_or("(not a number)".to_string(), |e| e.to_string()),
                got.count()
            )));
        }
        outln!("replay ok: {} events, digest {}", got.count(), got.hex());
        return Ok(());
    }
    let mine: Vec<String> = got
        .checkpoints()
        .iter()
        .map(|c| format!("{c:016x}"))
        .collect();
    let first = mine
        .iter()
        .zip(&checkpoints)
        .position(|(a, b)| a != b)
        .unwrap_or(mine.len().min(checkpoints.len()));
    let lo = first as u64 * every;
    let starts = window_starts.lock().map(|s| s.clone()).unwrap_or_default();
    let t_lo = starts.get(first).copied().unwrap_or(end);
    // Times print in whole milliseconds, cut down: round the end up so the
    // suggested --to keeps the window's last events.
    let t_hi = starts.get(first + 1).copied().unwrap_or(end);
    let t_hi = forklab::sim::SimTime::from_nanos(t_hi.as_nanos().saturating_add(999_999));
    Err(CliError::other(format!(
        "replay diverged: digest {} != recorded {}, {} events replayed against {} recorded; the first divergence is among events {}..{} (simulated time {}..{}): rerun with --trace --from {} --to {} to inspect them",
        got.hex(),
        digest,
        got.count(),
        recorded_events.map_or("an unknown number of".to_string(), |e| e.to_string()),
        lo,
        lo.saturating_add(every),
        t_lo,
        t_hi,
        t_lo,
        t_hi,
    )))
}
