//! `sim run`, `sim validate` and `sim replay`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use forklab::scenario::Scenario;
use forklab::world::output::{self, BlockRelayNote, Manifest, PowNote, RelayNote, Summary};
use forklab::world::{Config, World};

use super::outln;
use super::{CliError, CliResult, ScenarioArgs};

/// Options of `sim run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The scenario file and its `--set` overrides.
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Override the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output directory (default: `output/<scenario name>`, or with --seed /
    /// --set `output/<name>-seed<N>` / `output/<name>-set-<hash>`). An
    /// existing one is replaced only if it is an earlier forklab output or
    /// empty.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No progress bar and no summary.
    #[arg(long, short)]
    pub quiet: bool,
    /// Do not draw charts (CSVs and manifest only).
    #[arg(long)]
    pub no_charts: bool,
    /// Do not write the run's database, chain.sqlite (every block,
    /// transaction and address; needed by `sim show` and `sim serve`).
    #[arg(long)]
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

fn load(args: &ScenarioArgs, seed: Option<u64>) -> Result<Scenario, CliError> {
    let extra: Vec<String> = seed.map(|s| format!("seed={s}")).into_iter().collect();
    super::load::load(args, &extra)
}

/// The default output directory: `output/<name>` for the scenario as
/// written; a run with `--seed` and/or `--set` gets its own directory so it
/// never replaces the plain run's: `output/<name>-seed<N>` for a seed alone,
/// `output/<name>-set-<h>` otherwise, `h` the first 8 hex digits of the
/// SHA-256 of the overrides (each `KEY=VALUE` then the seed, joined by
/// newlines), so the same overrides always land in the same directory.
pub fn default_out_dir(name: &str, sets: &[String], seed: Option<u64>) -> PathBuf {
    use sha2::{Digest, Sha256};
    let base = Path::new("output");
    match (sets.is_empty(), seed) {
        (true, None) => base.join(name),
        (true, Some(s)) => base.join(format!("{name}-seed{s}")),
        (false, _) => {
            let mut all = sets.to_vec();
            if let Some(s) = seed {
                all.push(format!("seed={s}"));
            }
            let digest = Sha256::digest(all.join("\n").as_bytes());
            base.join(format!("{name}-set-{}", hex::encode(&digest[..4])))
        }
    }
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
        let unit = if by_height {
            "height"
        } else if cfg_has_time(&world) {
            "simulated s"
        } else {
            "events"
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template(&format!(
                "{{spinner}} [{{elapsed_precise}}] {{bar:30}} {{pos}}/{{len}} {unit} · {{msg}} · ETA {{eta}}"
            ))
            .expect("valid progress template"),
        );
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
            bar.set_message(format!(
                "simulated {} · best height {} · {} events",
                human_secs(world.now().as_secs_f64()),
                world.best_mined_height(),
                world.events()
            ));
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
    let scenario = load(&args.scenario, args.seed)?;
    let file = &args.scenario.file;
    check_budget(&scenario, file, args.scenario.force)?;
    let config = Config::from_scenario(&scenario)
        .map_err(|e| CliError::input(format!("{}: {e}", file.display())))?;
    let _prefault = super::prefault::start(scenario.estimate().memory_bytes());
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| default_out_dir(&scenario.name, &args.scenario.sets, args.seed));
    forklab::report::atomic::check_replaceable(&out_dir).map_err(CliError::input)?;
    let replacing = out_dir.join(forklab::report::rows::MANIFEST_JSON).is_file();
    remove_stale(&out_dir);
    let world = World::new(config);
    let (world, wall) = execute(world, !args.quiet);
    let (summary, manifest, out, retired) =
        finish_retiring(world, &scenario, &args.scenario.sets, args.seed, None);
    // The process exits after writing: the operating system takes the
    // world's memory back at once, instead of `free` for every allocation
    // (about 23 ms for 10,000 nodes, BENCHMARKS.md).
    retired.abandon();
    let options = output::OutputOptions {
        charts: !args.no_charts,
        db: !args.no_db,
    };
    let files =
        output::write_run(&out_dir, &manifest, &out, &summary, options).map_err(CliError::other)?;
    if !args.quiet {
        print_summary(
            &summary,
            &out,
            &scenario,
            wall,
            &out_dir,
            files.len(),
            replacing,
        );
    }
    Ok(())
}

/// Ends a world and builds its summary and manifest (`live`: a live
/// session's record).
pub(crate) fn finish(
    world: World,
    scenario: &Scenario,
    sets: &[String],
    seed: Option<u64>,
    live: Option<output::LiveNote>,
) -> (Summary, Manifest, forklab::world::RunOutput) {
    let (summary, manifest, out, _retired) = finish_retiring(world, scenario, sets, seed, live);
    (summary, manifest, out)
}

/// [`finish`], also handing back the world's state
/// ([`forklab::world::Retired`]) for the caller to free or abandon.
fn finish_retiring(
    world: World,
    scenario: &Scenario,
    sets: &[String],
    seed: Option<u64>,
    live: Option<output::LiveNote>,
) -> (
    Summary,
    Manifest,
    forklab::world::RunOutput,
    forklab::world::Retired,
) {
    let sim_time = world.now().as_secs_f64();
    let grind = world.config().grind;
    let relay = world.config().tx_relay;
    let (out, retired) = world.finish_retiring();
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
        block_relay: BlockRelayNote::of(
            &scenario.network.relay,
            scenario.consensus.block_fill_bytes,
        ),
        cache: out.cache_stats,
        final_tip: out.final_tip.to_string(),
        main_chain_height: out.main_chain.len().saturating_sub(1) as u32,
        files: Default::default(),
        manifest_sha256: String::new(),
        live,
    };
    (summary, manifest, out, retired)
}

/// Seconds for a reader: `8.25 s` below 10 s, `1234.5 s` above, with
/// minutes, hours or days in brackets past an hour.
pub fn human_secs(s: f64) -> String {
    if s.is_nan() {
        return "n/a".into();
    }
    let base = if s < 10.0 {
        format!("{s:.2} s")
    } else {
        format!("{s:.1} s")
    };
    if s >= 2.0 * 86_400.0 {
        format!("{base} ({:.1} days)", s / 86_400.0)
    } else if s >= 3_600.0 {
        format!("{base} ({:.1} h)", s / 3_600.0)
    } else if s >= 120.0 {
        format!("{base} ({:.1} min)", s / 60.0)
    } else {
        base
    }
}

/// Milliseconds for a reader: `308 ms`, or seconds from 10 s up.
fn human_ms(x: f64) -> String {
    if x.is_nan() {
        "n/a".to_string()
    } else if x >= 10_000.0 {
        human_secs(x / 1000.0)
    } else {
        format!("{x:.0} ms")
    }
}

pub(crate) fn print_summary(
    s: &Summary,
    out: &forklab::world::RunOutput,
    scenario: &Scenario,
    wall: f64,
    out_dir: &Path,
    files: usize,
    replaced: bool,
) {
    let m = &out.metrics;
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
        human_ms(s.propagation_p50_ms),
        human_ms(s.propagation_p90_ms)
    );
    if let Some(c) = s.compact {
        let total = c.reconstructed + c.fetched + c.fell_back;
        outln!(
            "compact blocks        {total} received: {} rebuilt from the mempool, {} after getblocktxn ({} transactions fetched{}), {} fell back to the whole block",
            c.reconstructed,
            c.fetched,
            c.fetched_txs,
            if c.padding_missed > 0 {
                format!("; {} missed padding, modelled", c.padding_missed)
            } else {
                String::new()
            },
            c.fell_back
        );
    }
    let payments = m.payment_rows();
    let paid = payments.iter().filter(|p| p.confirmed == 1).count() as u64;
    let others = s.txs_confirmed.saturating_sub(paid);
    let other_txs = if others > 0 {
        format!(
            "; {others} other transaction{} on the main chain ({})",
            if others == 1 { "" } else { "s" },
            if out.metrics.attackers().is_empty() {
                "sent through the live lab"
            } else {
                "the attackers' own"
            }
        )
    } else {
        String::new()
    };
    if payments.is_empty() {
        outln!(
            "payments              none (no workload){}",
            other_txs.replacen(';', ",", 1)
        );
    } else {
        outln!(
            "payments              {paid} of {} workload payments confirmed on the main chain{other_txs}",
            payments.len()
        );
    }
    print_attacks(s, out, scenario);
    outln!("simulated time        {}", human_secs(s.sim_time_s));
    outln!(
        "events                {} in {:.2} s wall ({:.0} events/s)",
        s.events,
        wall,
        s.events as f64 / wall.max(1e-9)
    );
    if s.converged {
        outln!("converged             yes, all online full nodes share the tip");
    } else {
        outln!(
            "converged             no: {}",
            disagreement(out)
                .unwrap_or_else(|| "the online full nodes end on different tips".into())
        );
    }
    outln!(
        "output                {} ({} files{})",
        out_dir.display(),
        files,
        if replaced {
            ", replacing the earlier run there"
        } else {
            ""
        }
    );
}

/// Which honest full nodes end on which tip, when they differ:
/// `nodes 0, 1, 2 at height 500 (615ac8e3…); node 3 at height 494 (eb66c9b4…)`.
fn disagreement(out: &forklab::world::RunOutput) -> Option<String> {
    let attackers: Vec<u32> = out.metrics.attackers().iter().map(|a| a.node).collect();
    let mut groups: Vec<(String, u32, Vec<u32>)> = Vec::new();
    for n in out.metrics.node_rows() {
        if n.role == "light" || attackers.contains(&n.node) {
            continue;
        }
        match groups.iter_mut().find(|g| g.0 == n.final_tip) {
            Some(g) => g.2.push(n.node),
            None => groups.push((n.final_tip.clone(), n.final_height, vec![n.node])),
        }
    }
    if groups.len() < 2 {
        return None;
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|(tip, h, nodes)| {
            let ids: Vec<String> = nodes.iter().map(u32::to_string).collect();
            format!(
                "{} {} at height {h} ({}…)",
                if nodes.len() == 1 { "node" } else { "nodes" },
                ids.join(", "),
                &tip[..tip.len().min(8)]
            )
        })
        .collect();
    Some(parts.join("; "))
}

/// The attack results, when adversaries ran: relative revenue against α and
/// Eyal–Sirer's R(α, γ), double spends against the exact race, γ, invalid
/// items by reason, disconnections.
fn print_attacks(s: &Summary, out: &forklab::world::RunOutput, scenario: &Scenario) {
    let m = &out.metrics;
    let attackers = m.attackers();
    if attackers.is_empty() {
        return;
    }
    let nodes = m.node_rows();
    let total: f64 = nodes.iter().map(|n| n.hashrate_hps).sum();
    let share = |node: u32| {
        nodes
            .iter()
            .find(|n| n.node == node)
            .map(|n| n.hashrate_hps / total)
            .filter(|x| x.is_finite())
    };
    for a in attackers {
        let alpha = share(a.node);
        let alpha_text = alpha.map_or_else(String::new, |x| format!(", hashrate share {x:.3}"));
        outln!(
            "attacker              adversary {}: {} on node {}{alpha_text}",
            a.index,
            a.kind,
            a.node
        );
    }
    if let Some(r) = s.attacker_relative_revenue {
        let selfish = attackers.iter().find(|a| a.kind == "selfish");
        let alpha = attackers
            .iter()
            .find(|a| a.kind == "selfish" || a.kind == "majority")
            .and_then(|a| share(a.node));
        let theory = match (selfish, alpha, s.gamma_effective) {
            (Some(_), Some(al), Some(g)) => format!(
                "; Eyal-Sirer R(α = {al:.3}, γ = {g:.3}) = {:.4}",
                forklab::theory::selfish_relative_revenue(al, g)
            ),
            (Some(_), Some(_), None) => {
                "; γ emerged from the network (not set), so no single theory value".into()
            }
            _ => String::new(),
        };
        outln!(
            "relative revenue      {r:.4} of the main-chain blocks since the attack began{}{theory}",
            alpha.map_or_else(String::new, |al| format!(" (hashrate share {al:.3})"))
        );
    }
    if let Some(g) = s.gamma_effective {
        outln!("gamma effective       {g:.3} of the honest hashrate prefers the attacker's block in a tie");
    }
    if let (Some(n), Some(k)) = (s.double_spend_attempts, s.double_spend_successes) {
        let rows = m.attack_rows();
        let finished = rows.iter().filter(|r| r.outcome != "unfinished").count();
        let gave_up = rows.iter().filter(|r| r.outcome == "gave_up").count();
        let ds = attackers
            .iter()
            .find(|a| a.kind == "double_spend" || a.kind == "eclipse");
        let q = ds.and_then(|a| share(a.node));
        let z = rows.first().map(|r| r.confirmations);
        let exact = match (ds.map(|a| a.kind.as_str()), q, z, give_up_behind(scenario)) {
            (Some("double_spend"), Some(q), Some(z), Some(cut)) => format!(
                "; exact race (q = {q:.3}, z = {z}, give up {cut} behind): {:.3}",
                forklab::theory::race_success_with_cutoff(q, z, cut)
            ),
            _ => String::new(),
        };
        outln!(
            "double spends         {k} of {n} attempts succeeded ({:.1}% of the {finished} finished; {gave_up} gave up){exact}",
            if finished == 0 { 0.0 } else { k as f64 * 100.0 / finished as f64 }
        );
    }
    if let Some(n) = s.invalid_items_sent {
        let mut reasons: Vec<String> = m
            .rejections()
            .iter()
            .map(|(r, c)| format!("{r} {c}"))
            .chain(m.tx_rejections().iter().map(|(r, c)| format!("{r} {c}")))
            .collect();
        reasons.sort();
        outln!(
            "invalid items         {n} sent; rejected by reason: {}",
            if reasons.is_empty() {
                "none".to_string()
            } else {
                reasons.join(", ")
            }
        );
    }
    if let Some(d) = s.disconnections {
        outln!("disconnections        {d} peer links dropped for misbehaviour");
    }
}

/// The first double spender's `give_up_behind` (`None` without one).
fn give_up_behind(scenario: &Scenario) -> Option<u32> {
    scenario.adversaries.iter().find_map(|a| match a {
        forklab::scenario::schema::Adversary::DoubleSpend { give_up_behind, .. } => {
            Some(*give_up_behind)
        }
        _ => None,
    })
}

/// `sim validate`.
pub fn validate(args: &ScenarioArgs) -> CliResult {
    let scenario = super::load::load(args, &[])?;
    let file = &args.file;
    check_budget(&scenario, file, args.force)?;
    Config::from_scenario(&scenario)
        .map_err(|e| CliError::input(format!("{}: {e}", file.display())))?;
    outln!("{}: ok", file.display());
    outln!("{}", scenario.summary().trim_end());
    outln!("{}", scenario.estimate().describe());
    let w = &scenario.workload;
    if w.wallets == 0 || w.payments_per_s == 0.0 {
        outln!("workload: none (no payments)");
    } else {
        outln!(
            "workload: {} wallet{} paying {} payment{}/s in all (one every ~{:.1} s), relay {}",
            w.wallets,
            if w.wallets == 1 { "" } else { "s" },
            w.payments_per_s,
            if w.payments_per_s == 1.0 { "" } else { "s" },
            1.0 / w.payments_per_s,
            serde_json::to_value(w.relay)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        );
    }
    if scenario.timeline.is_empty() {
        outln!("timeline: none");
    } else {
        let n = scenario.timeline.len();
        outln!("timeline: {n} event{}", if n == 1 { "" } else { "s" });
        let expected_end = expected_end(&scenario);
        for ev in &scenario.timeline {
            let what = ev
                .action()
                .map_or_else(|| "(no action)".to_string(), |a| timeline_text(&a));
            outln!("  at {:<10} {what}", ev.at.to_string());
            if let Some((end, why)) = &expected_end {
                if ev.at.as_nanos() > end.as_nanos() {
                    eprintln!(
                        "warning: the timeline event at {} comes after the stop ({why}), so it never happens",
                        ev.at
                    );
                }
            }
        }
    }
    Ok(())
}

/// When mining stops, when the stop is a time: `(time, "stop.time 15m")`.
/// A height or event stop has no fixed time, so nothing is warned about.
fn expected_end(s: &Scenario) -> Option<(forklab::sim::SimDuration, String)> {
    s.stop.time.map(|t| (t, format!("stop.time {t}")))
}

fn timeline_text(a: &forklab::scenario::schema::TimelineAction) -> String {
    use forklab::scenario::schema::TimelineAction as A;
    let list = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
    match a {
        A::Partition(groups) => format!(
            "partition into {}",
            groups
                .iter()
                .map(|g| format!("[{}]", list(g)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        A::HealAll => "heal every partition".into(),
        A::Offline(v) => format!(
            "{} {} offline",
            if v.len() == 1 { "node" } else { "nodes" },
            list(v)
        ),
        A::Online(v) => format!(
            "{} {} back online",
            if v.len() == 1 { "node" } else { "nodes" },
            list(v)
        ),
        A::SetHashrate { node, hps } => format!("node {node} hashrate to {hps} H/s"),
    }
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
    // A live session (`sim serve FILE`): its students and recorded inputs.
    use forklab::serve::live::inputs::{self, INPUTS_JSONL};
    let live: Option<output::LiveNote> = match rec.value.get("live") {
        None => None,
        Some(v) => {
            Some(serde_json::from_value(v.clone()).map_err(|e| edited(format!("live: {e}")))?)
        }
    };
    let recorded_inputs = rec
        .files
        .as_ref()
        .is_some_and(|f| f.contains_key(INPUTS_JSONL));
    if live.is_some() != recorded_inputs {
        return Err(edited(format!(
            "a live session records both `live` and {INPUTS_JSONL} in its files; this one has only one of them"
        )));
    }
    let (inputs_bytes, inputs) = if recorded_inputs {
        let file = args.dir.join(INPUTS_JSONL);
        let list = inputs::read(&file).map_err(CliError::input)?;
        let bytes = std::fs::read(&file)
            .map_err(|e| CliError::input(format!("{}: {e}", file.display())))?;
        (Some(bytes), list)
    } else {
        (None, Vec::new())
    };
    let students: Vec<[u8; 20]> = match &live {
        None => Vec::new(),
        Some(l) => l
            .students
            .iter()
            .map(|a| {
                a.parse::<forklab::ledger::Address>()
                    .map(|a| a.pubkey_hash)
                    .map_err(|e| edited(format!("live.students: {a}: {e}")))
            })
            .collect::<Result<_, _>>()?,
    };
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
    let mut world = World::with_students(config, &students);
    if live.is_some() {
        world.expect_live_inputs();
    }
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
    let mut next_input = 0usize;
    let mut stopped = false;
    while !world.is_done() && !stopped && differs.is_none() {
        match inputs.get(next_input) {
            // Re-apply the recorded inputs at their simulated times.
            Some(r) => {
                if world.run_until(r.at(), every) {
                    match &r.input {
                        None => stopped = true,
                        Some(action) => {
                            world.inject(r.at(), action.clone()).map_err(|e| {
                                CliError::other(format!(
                                    "{}:{}: replay diverged: the recorded input cannot be applied at {}: {e}",
                                    args.dir.join(INPUTS_JSONL).display(),
                                    next_input + 1,
                                    r.at()
                                ))
                            })?;
                        }
                    }
                    next_input += 1;
                }
            }
            None => {
                world.step(every);
            }
        }
        let mine = world.digest().checkpoints();
        for (i, c) in mine.iter().enumerate().skip(compared) {
            if rec.checkpoints.get(i) != Some(&format!("{c:016x}")) {
                differs = Some(i);
                break;
            }
        }
        compared = mine.len();
    }
    if differs.is_none() && next_input < inputs.len() {
        return Err(CliError::other(format!(
            "{}:{}: replay diverged: the run ended at {} before this recorded input",
            args.dir.join(INPUTS_JSONL).display(),
            next_input + 1,
            world.now()
        )));
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
    let (summary, manifest, out) = finish(world, &scenario, &overrides, None, live);
    let tmp = TempDir(std::env::temp_dir().join(format!("forklab-replay-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&tmp.0);
    let again = tmp.0.join("run");
    let extra: Vec<(&str, &[u8])> = inputs_bytes
        .as_deref()
        .map(|b| (INPUTS_JSONL, b))
        .into_iter()
        .collect();
    let files = output::write_run_with(&again, &manifest, &out, &summary, options, &extra)
        .map_err(CliError::other)?;
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
