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
    /// Run even beyond the memory and work estimates' bounds.
    pub force: bool,
    /// Skip `chain.sqlite`.
    pub no_db: bool,
}

/// Refuses a scenario whose estimated memory or work is beyond this
/// machine (see [`forklab::scenario::budget`]) unless `force`.
pub(crate) fn check_budget(scenario: &Scenario, file: &Path, force: bool) -> CliResult {
    scenario
        .estimate()
        .check(
            &file.display().to_string(),
            forklab::scenario::budget::available_memory(),
            force,
        )
        .map_err(CliError::input)
}

/// Removes leftovers of killed runs beside `out_dir` and says so on stderr.
pub(crate) fn remove_stale(out_dir: &Path) {
    for dir in forklab::report::atomic::remove_stale(out_dir) {
        eprintln!(
            "note: removed {}, left by an interrupted earlier run",
            dir.display()
        );
    }
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
    check_budget(&scenario, &args.file, args.force)?;
    let config = Config::from_scenario(&scenario)
        .map_err(|e| CliError::input(format!("{}: {e}", args.file.display())))?;
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(&scenario.name));
    forklab::report::atomic::check_replaceable(&out_dir).map_err(CliError::input)?;
    remove_stale(&out_dir);
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
        manifest_sha256: String::new(),
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
pub fn validate(file: &Path, sets: &[String], force: bool) -> CliResult {
    let scenario = load(file, sets, None)?;
    check_budget(&scenario, file, force)?;
    Config::from_scenario(&scenario)
        .map_err(|e| CliError::input(format!("{}: {e}", file.display())))?;
    outln!("{}: ok", file.display());
    outln!("{}", scenario.summary());
    outln!("{}", scenario.estimate().describe());
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

/// Removes the replay's temporary directory however replay ends.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `sim replay`: re-creates the run in a temporary directory and checks
/// every field of its manifest and every file against what was recorded.
///
/// Exit 2 ("edited") when the record was changed after the run: a file
/// whose SHA-256 is not the recorded one, a manifest that does not match
/// its own `manifest_sha256`, or a field that differs although the events
/// are the same. Exit 1 ("diverged") when the same record now gives a
/// different event stream, with the window of events to inspect. Digest
/// checkpoints are compared as the replay goes, so it stops at the first
/// that differs.
pub fn replay(args: ReplayArgs) -> CliResult {
    use forklab::replay::{first_difference, read_manifest};
    use forklab::report::rows::MANIFEST_JSON;
    let path = args.dir.join(MANIFEST_JSON);
    let rec = read_manifest(&path).map_err(CliError::input)?;
    let edited_record = rec.self_consistent() == Some(false);
    let edited = |what: String| CliError::input(format!("{}: edited: {what}", path.display()));
    let every = forklab::world::digest::CHECKPOINT_EVERY;
    if rec.checkpoint_every != every {
        return Err(edited(format!(
            "checkpoint_every is {}, not {every}, the interval every run records",
            rec.checkpoint_every
        )));
    }
    if rec.version != env!("CARGO_PKG_VERSION") {
        eprintln!(
            "warning: run made by forklab {}, replaying with {}; digests may differ",
            rec.version,
            env!("CARGO_PKG_VERSION")
        );
    }
    let scenario = rec.scenario.clone();
    if rec.seed != scenario.seed {
        return Err(edited(format!(
            "seed {} does not match scenario.seed {}",
            rec.seed, scenario.seed
        )));
    }
    // Files first: an edited CSV is found without running anything.
    if let Some(files) = &rec.files {
        for (name, want) in files {
            let file = args.dir.join(name);
            let got = std::fs::read(&file).map(|b| {
                use sha2::Digest;
                hex::encode(sha2::Sha256::digest(b))
            });
            match got {
                Ok(got) if got == *want => {}
                Ok(got) => {
                    return Err(edited(format!(
                        "{name}: its SHA-256 is {got}, the manifest records {want}"
                    )))
                }
                Err(e) => return Err(edited(format!("{name}: {e} (the manifest records it)"))),
            }
        }
    }
    check_budget(&scenario, &path, false)?;
    let config = Config::from_scenario(&scenario)
        .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
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
    if trace {
        // What nodes decided (sends, blocks accepted or rejected, tip
        // changes, reorgs) and the workload's payments, between the events.
        world.set_observer(Box::new(move |t, narration| {
            let ns = t.as_nanos();
            if from.is_some_and(|f| ns < f.as_nanos()) || to.is_some_and(|x| ns > x.as_nanos()) {
                return;
            }
            let line = match narration {
                forklab::world::Narration::Node(n, output) => {
                    if node.is_some_and(|want| want != n) {
                        return;
                    }
                    output.narrate(n)
                }
                forklab::world::Narration::Payment {
                    from,
                    to,
                    sats,
                    txid,
                    home,
                } => {
                    if node.is_some_and(|want| want != home) {
                        return;
                    }
                    Some(format!(
                        "payment: wallet {from} -> wallet {to}, {sats} sats, txid {txid} (submitted to node {home})"
                    ))
                }
            };
            if let Some(line) = line {
                outln!("{t:>14}   {line}");
            }
        }));
    }
    // Run window by window, comparing each checkpoint as it is made.
    let mut compared = 0usize;
    let mut differs: Option<usize> = None;
    while !world.is_done() && differs.is_none() {
        world.step(every);
        let mine = world.digest().checkpoints();
        for (i, c) in mine.iter().enumerate().skip(compared) {
            if rec.checkpoints.get(i) != Some(&format!("{c:016x}")) {
                differs = Some(i);
                break;
            }
        }
        compared = mine.len();
    }
    let end = world.now();
    let got = world.digest().clone();
    if differs.is_none() && got.hex() != rec.event_digest {
        differs = Some(compared.min(rec.checkpoints.len()));
    }
    if let Some(first) = differs {
        let lo = first as u64 * every;
        let starts = window_starts.lock().map(|s| s.clone()).unwrap_or_default();
        let t_lo = starts.get(first).copied().unwrap_or(end);
        // Times print in whole milliseconds, cut down: round the end up so
        // the suggested --to keeps the window's last events.
        let t_hi = starts.get(first + 1).copied().unwrap_or(end);
        let t_hi = forklab::sim::SimTime::from_nanos(t_hi.as_nanos().saturating_add(999_999));
        let stopped = if world.is_done() {
            format!("{} events replayed", got.count())
        } else {
            format!("replay stopped after {} events", got.count())
        };
        if edited_record {
            return Err(edited(format!(
                "the manifest does not match its manifest_sha256, and its event record differs from the replay among events {lo}..{} ({stopped})",
                lo.saturating_add(every)
            )));
        }
        return Err(CliError::other(format!(
            "replay diverged: the first differing digest checkpoint covers events {}..{} (simulated time {}..{}; {stopped}, {} recorded, digest {} recorded): rerun with --trace --from {} --to {} to inspect them",
            lo,
            lo.saturating_add(every),
            t_lo,
            t_hi,
            rec.events,
            rec.event_digest,
            t_lo,
            t_hi,
        )));
    }
    // Same events: re-create every output file and compare the manifests.
    let recorded_file = |pred: &dyn Fn(&str) -> bool| {
        rec.files
            .as_ref()
            .is_some_and(|f| f.keys().any(|k| pred(k)))
    };
    let options = output::OutputOptions {
        charts: recorded_file(&|k| k.starts_with("charts/")),
        db: recorded_file(&|k| k == "chain.sqlite"),
    };
    let overrides: Vec<String> = rec
        .value
        .get("overrides")
        .and_then(|o| serde_json::from_value(o.clone()).ok())
        .unwrap_or_default();
    let (summary, manifest, out) = finish(world, &scenario, &overrides, None);
    let tmp = TempDir(std::env::temp_dir().join(format!("forklab-replay-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&tmp.0);
    let again = tmp.0.join("run");
    let files =
        output::write_run(&again, &manifest, &out, &summary, options).map_err(CliError::other)?;
    let replayed = forklab::replay::read_manifest(&again.join(MANIFEST_JSON))
        .map_err(CliError::other)?
        .value;
    let mut recorded = rec.value.clone();
    let mut replayed = replayed;
    for v in [&mut recorded, &mut replayed] {
        if let Some(m) = v.as_object_mut() {
            m.remove("forklab_version");
            if rec.files.is_none() {
                // A manifest from before file digests: compare the rest.
                m.remove("files");
                m.remove("manifest_sha256");
            }
        }
    }
    if let Some((field, was, now)) = first_difference(&recorded, &replayed) {
        let top = field.split(['.', '[']).next().unwrap_or(&field).to_string();
        if field == "manifest_sha256" && edited_record {
            return Err(edited(
                "its content does not match its manifest_sha256 (a field replay cannot re-derive, such as overrides, was changed)".to_string(),
            ));
        }
        let origin = rec.origin(&top);
        let what = format!("{field}: the manifest records {was}, the replay gives {now}");
        if edited_record || rec.files.is_none() || !field.starts_with("files") {
            // The events are the same, so every other field is determined
            // by them: a difference there is an edit.
            return Err(CliError::input(format!("{origin}: edited: {what}")));
        }
        return Err(CliError::other(format!(
            "{origin}: replay diverged: the same events wrote different output: {what}"
        )));
    }
    if edited_record {
        return Err(edited(
            "its content does not match its manifest_sha256".to_string(),
        ));
    }
    outln!(
        "replay ok: {} events, digest {}, {} files identical",
        got.count(),
        got.hex(),
        files.len()
    );
    Ok(())
}
