//! `sim serve DIR`: the web explorer of a finished run; `sim serve FILE`:
//! the live lab, a scenario run paced against the wall clock whose nodes a
//! class can talk to ([`forklab::serve::live`]).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use forklab::serve::live::{self, inputs, LabInfo, Session};
use forklab::world::output::{self, LiveNote};
use forklab::world::{Role, World};

use super::{outln, CliError, CliResult, ScenarioArgs};

/// Called by the Ctrl-C handler while a live session runs: stops the
/// session so its output directory is written (a second Ctrl-C exits).
pub static LIVE_STOP: OnceLock<Box<dyn Fn() + Send + Sync>> = OnceLock::new();

/// The most nodes a live lab serves.
pub const MAX_LIVE_NODES: usize = 256;

/// Options of `sim serve` (the live ones apply to a scenario file only).
#[derive(clap::Args, Clone, Debug)]
pub struct ServeArgs {
    /// A run's output directory (explorer), or a scenario file (live lab).
    pub path: PathBuf,
    /// TCP port of the explorer or the live lab's main server (0 picks a
    /// free one, printed at start).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to listen on; anything but a loopback address exposes the
    /// server to the network (a warning is printed).
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Live lab: simulated seconds per wall-clock second (1 = real time,
    /// 60 = a simulated minute per second).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Live lab: full node i answers its own API on port NODE_PORT + i
    /// (0: each node gets a free port, printed at start).
    #[arg(long, default_value_t = 5000)]
    pub node_port: u16,
    /// Live lab: output directory written when the session ends (default
    /// `output/<name>-live`, or with --seed / --set their own suffix).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Live lab: override the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Live lab: override a scenario field (repeatable), as `sim run --set`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Live lab: accept a scenario beyond the memory or work estimate.
    #[arg(long)]
    pub force: bool,
    /// Live lab: create N student wallets, each funded in the genesis block
    /// with the scenario's workload.initial_balance_sats; their WIF keys
    /// and addresses are printed once here and never served.
    #[arg(long, default_value_t = 0)]
    pub students: u32,
    /// Live lab: do not draw charts in the output directory.
    #[arg(long)]
    pub no_charts: bool,
}

/// `sim serve`.
pub fn serve(args: ServeArgs) -> CliResult {
    if args.path.is_file()
        || args
            .path
            .extension()
            .is_some_and(|x| x == "yaml" || x == "yml")
    {
        return serve_live(args);
    }
    let live_only = [
        (args.speed != 1.0, "--speed"),
        (args.node_port != 5000, "--node-port"),
        (args.out.is_some(), "--out"),
        (args.seed.is_some(), "--seed"),
        (!args.sets.is_empty(), "--set"),
        (args.force, "--force"),
        (args.students > 0, "--students"),
        (args.no_charts, "--no-charts"),
    ];
    if let Some((_, flag)) = live_only.iter().find(|(given, _)| *given) {
        return Err(CliError::input(format!(
            "{flag}: only for the live lab (sim serve SCENARIO.yaml); {} is a run's output directory",
            args.path.display()
        )));
    }
    serve_dir(&args.path, args.bind, args.port)
}

fn warn_bind(bind: IpAddr, what: &str) {
    if !bind.is_loopback() {
        eprintln!("warning: listening on {bind}: {what} is reachable from the network");
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::other(format!("cannot start the async runtime: {e}")))
}

/// Serves `dir` on `bind:port` until Ctrl-C.
fn serve_dir(dir: &Path, bind: IpAddr, port: u16) -> CliResult {
    // Open once up front so a wrong directory is one line and exit 2.
    drop(super::show::open(dir)?);
    let addr = SocketAddr::new(bind, port);
    warn_bind(bind, "the explorer (read-only, it holds no keys)");
    runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| CliError::input(format!("cannot listen on {addr}: {e}")))?;
        let local = listener.local_addr().unwrap_or(addr);
        outln!(
            "explorer of {} at http://{local}/ (Ctrl-C stops it)",
            dir.display()
        );
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        forklab::serve::serve(dir, listener, shutdown)
            .await
            .map_err(CliError::other)
    })
}

/// A random key for a student (OS entropy: the CLI's, not the simulation's).
fn student_key() -> forklab::ledger::keys::PrivateKey {
    super::teach::random_key()
}

/// `sim serve FILE`: the live lab.
fn serve_live(args: ServeArgs) -> CliResult {
    if !(args.speed > 0.0 && args.speed <= 1e6) {
        return Err(CliError::input(format!(
            "--speed {}: must be more than 0 and at most 1000000",
            args.speed
        )));
    }
    let scenario_args = ScenarioArgs {
        file: args.path.clone(),
        sets: args.sets.clone(),
        force: args.force,
    };
    let extra: Vec<String> = args.seed.map(|s| format!("seed={s}")).into_iter().collect();
    let scenario = super::load::load(&scenario_args, &extra)?;
    super::run::check_budget(&scenario, &args.path, args.force)?;
    let config = forklab::world::Config::from_scenario(&scenario)
        .map_err(|e| CliError::input(format!("{}: {e}", args.path.display())))?;
    if config.nodes.len() > MAX_LIVE_NODES {
        return Err(CliError::input(format!(
            "{}: nodes: {} nodes; the live lab serves at most {MAX_LIVE_NODES} (use sim run for larger networks)",
            args.path.display(),
            config.nodes.len()
        )));
    }
    if args.students > 1000 {
        return Err(CliError::input(format!(
            "--students {}: at most 1000",
            args.students
        )));
    }
    let out_dir = args.out.clone().unwrap_or_else(|| {
        super::run::default_out_dir(&format!("{}-live", scenario.name), &args.sets, args.seed)
    });
    forklab::report::atomic::check_replaceable(&out_dir).map_err(CliError::input)?;
    let keys: Vec<_> = (0..args.students).map(|_| student_key()).collect();
    let pkhs: Vec<[u8; 20]> = keys.iter().map(|k| k.public_key().pubkey_hash()).collect();
    let students: Vec<String> = pkhs
        .iter()
        .map(|p| forklab::ledger::Address::from_pubkey_hash(*p).to_string())
        .collect();
    let full_nodes: Vec<u32> = (0..config.nodes.len() as u32)
        .filter(|&i| config.nodes[i as usize].role != Role::Light)
        .collect();
    let node_count = config.nodes.len();
    // The world is built on the session's thread (it shares blocks by
    // `Rc`), from the scenario this configuration was just checked from.
    drop(config);
    let build = {
        let scenario = scenario.clone();
        let pkhs = pkhs.clone();
        move || {
            let config = forklab::world::Config::from_scenario(&scenario)
                .expect("the scenario's configuration was checked above");
            let mut world = World::with_students(config, &pkhs);
            world.expect_live_inputs();
            world
        }
    };
    warn_bind(
        args.bind,
        "the live lab (its API changes the simulation; it never serves private keys)",
    );
    let rt = runtime()?;
    // Bind everything first: a port in use is one line and exit 2.
    let (main, nodes) = rt.block_on(async {
        let addr = SocketAddr::new(args.bind, args.port);
        let main = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| CliError::input(format!("cannot listen on {addr}: {e} (try --port)")))?;
        let mut nodes = Vec::new();
        for &i in &full_nodes {
            let port = if args.node_port == 0 {
                0
            } else {
                args.node_port.checked_add(i as u16).ok_or_else(|| {
                    CliError::input(format!(
                        "--node-port {}: node {i}'s port would pass 65535",
                        args.node_port
                    ))
                })?
            };
            let addr = SocketAddr::new(args.bind, port);
            let l = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
                CliError::input(format!(
                    "cannot listen on {addr} for node {i}: {e} (try --node-port, or 0 for free ports)"
                ))
            })?;
            nodes.push((i, l));
        }
        Ok::<_, CliError>((main, nodes))
    })?;
    let main_addr = main
        .local_addr()
        .map_err(|e| CliError::other(format!("listener: {e}")))?;
    let mut node_urls = vec![None; node_count];
    for (i, l) in &nodes {
        let a = l
            .local_addr()
            .map_err(|e| CliError::other(format!("listener: {e}")))?;
        node_urls[*i as usize] = Some(format!("http://{a}"));
    }
    let info = LabInfo {
        name: scenario.name.clone(),
        node_urls: node_urls.clone(),
        wallets: Vec::new(), // filled in by the session thread
        students: students.clone(),
    };
    #[allow(clippy::disallowed_methods)] // the CLI may time itself
    let started = std::time::Instant::now();
    let finish = {
        let (scenario, args, students, out_dir) = (
            scenario.clone(),
            args.clone(),
            students.clone(),
            out_dir.clone(),
        );
        move |ended| {
            let wall = started.elapsed().as_secs_f64();
            write_session(ended, &scenario, &args, students, &out_dir, wall)
        }
    };
    let (lab, thread) = Session::spawn(build, args.speed, info, finish);
    let Some(lab) = lab else {
        return Err(CliError::other("the live session's thread failed"));
    };
    {
        let lab = lab.clone();
        let _ = LIVE_STOP.set(Box::new(move || lab.stop()));
    }
    outln!(
        "live lab of {} at http://{main_addr}/ (speed {}x; Ctrl-C stops it and writes {})",
        scenario.name,
        args.speed,
        out_dir.display()
    );
    for (i, _) in &nodes {
        outln!(
            "node {i} API at {}/ (also http://{main_addr}/node/{i}/)",
            node_urls[*i as usize].as_deref().unwrap_or_default()
        );
    }
    for (k, (key, addr)) in keys.iter().zip(&students).enumerate() {
        outln!(
            "student {k}: address {addr} WIF {} (shown once; not saved, not served)",
            key.to_wif()
        );
    }
    let ended = rt.block_on(async move {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let stop = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|v| *v).await;
        };
        let mut servers = Vec::new();
        servers.push(tokio::spawn(live::serve_on(
            main,
            live::main_router(lab.clone(), &full_nodes),
            stop(rx.clone()),
        )));
        for (i, l) in nodes {
            servers.push(tokio::spawn(live::serve_on(
                l,
                live::node_router(lab.clone(), i),
                stop(rx.clone()),
            )));
        }
        let ended = tokio::task::spawn_blocking(move || thread.join()).await;
        let _ = tx.send(true);
        // Open event streams would hold a graceful shutdown forever.
        for s in servers {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(2), s).await;
        }
        ended
    });
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    match ended {
        // The session thread wrote the output directory (`write_session`).
        Ok(Ok(written)) => written,
        _ => Err(CliError::other("the live session's thread failed")),
    }
}

/// Finishes the session's world and writes the output directory with its
/// `inputs.jsonl`.
fn write_session(
    ended: live::Ended,
    scenario: &forklab::scenario::Scenario,
    args: &ServeArgs,
    students: Vec<String>,
    out_dir: &Path,
    wall: f64,
) -> CliResult {
    let live::Ended {
        world,
        inputs: records,
        max_behind,
        finished,
    } = ended;
    let note = LiveNote {
        students,
        inputs: records.len() as u64,
        stopped: !finished,
    };
    let text = inputs::to_jsonl(&records);
    super::run::remove_stale(out_dir);
    let (summary, manifest, out) =
        super::run::finish(world, scenario, &args.sets, args.seed, Some(note));
    let options = output::OutputOptions {
        charts: !args.no_charts,
        db: true,
    };
    let files = output::write_run_with(
        out_dir,
        &manifest,
        &out,
        &summary,
        options,
        &[(inputs::INPUTS_JSONL, text.as_bytes())],
    )
    .map_err(CliError::other)?;
    outln!(
        "session {}: {} inputs recorded",
        if finished {
            "reached the scenario's stop condition"
        } else {
            "stopped"
        },
        records.iter().filter(|r| !r.stop).count()
    );
    if max_behind.as_secs_f64() > 0.0 {
        outln!(
            "note: the simulation could not keep up with --speed {}: it fell up to {} simulated behind the wall clock (replay is unaffected)",
            args.speed,
            super::run::human_secs(max_behind.as_secs_f64())
        );
    }
    super::run::print_summary(&summary, &out, scenario, wall, out_dir, files.len(), false);
    outln!(
        "replay it with: sim replay {}   explore it with: sim serve {}",
        out_dir.display(),
        out_dir.display()
    );
    Ok(())
}
