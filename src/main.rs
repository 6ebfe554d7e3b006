//! `sim`: the forklab command line.
//!
//! Parses arguments (clap), calls the library, prints, and maps errors to
//! exit codes: 0 success, 2 bad input (usage, scenario, hex, checksum…),
//! 1 anything else (I/O failures, a replay that diverged).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use forklab::sim::SimDuration;

mod cli;

/// forklab: a deterministic proof-of-work network simulator and teaching lab.
///
/// Quick start: `sim run scenarios/three_nodes.yaml`, then look in
/// `output/three_nodes/` (CSVs, manifest.json, charts/).
#[derive(Parser, Debug)]
#[command(name = "sim", version, about, long_about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario and write `output/<name>/` (manifest, CSVs, charts).
    Run {
        /// Scenario file (YAML).
        file: PathBuf,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Output directory (default: `output/<scenario name>`). An existing
        /// one is replaced only if it is an earlier forklab output or empty.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override a scenario field, e.g. `--set consensus.difficulty_bits=12` (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// No progress bar and no summary.
        #[arg(long, short)]
        quiet: bool,
        /// Do not draw charts.
        #[arg(long)]
        no_charts: bool,
        /// Run even when the estimated memory exceeds the memory available or
        /// the estimated work exceeds the bound (see the README's "Limits").
        #[arg(long)]
        force: bool,
        /// Do not write the run's database, chain.sqlite (every block,
        /// transaction and address; needed by `sim show` and `sim serve`).
        #[arg(long)]
        no_db: bool,
    },
    /// Check a scenario without running it, and estimate its memory and work.
    Validate {
        /// Scenario file (YAML).
        file: PathBuf,
        /// Override a scenario field (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Accept the scenario even when the estimated memory exceeds the memory available or
        /// the estimated work exceeds the bound (see the README's "Limits").
        #[arg(long)]
        force: bool,
    },
    /// Re-run a finished run from its manifest and confirm its event digest.
    Replay {
        /// The run's output directory (holding manifest.json).
        dir: PathBuf,
        /// Narrate the run: every event, and what nodes decided (blocks mined,
        /// accepted or rejected with the reason, tip changes, reorgs, messages
        /// sent) and payments (filter with --node, --from, --to).
        #[arg(long)]
        trace: bool,
        /// Only what this node received, sent and decided (needs --trace).
        #[arg(long, requires = "trace")]
        node: Option<u32>,
        /// Only trace events at or after this simulated time (e.g. 90s, 10m,
        /// 3723.5s; needs --trace).
        #[arg(long, requires = "trace")]
        from: Option<SimDuration>,
        /// Only trace events at or before this simulated time (needs --trace).
        #[arg(long, requires = "trace")]
        to: Option<SimDuration>,
    },
    /// Run a scenario over a grid of parameter values, many seeds each, in parallel.
    ///
    /// Every combination of the --param values (the grid; the first --param
    /// changes slowest) runs --seeds times. Results go to
    /// `output/<scenario name>-sweep/` (or --out): sweep.csv (one row per run,
    /// failed runs included with their error), sweep_summary.csv (per grid
    /// point: runs ok/failed, mean, sample sd and 95% confidence interval of
    /// stale rate, block interval, reorgs, deepest reorg, propagation),
    /// sweep_manifest.json and charts/ (stale_rate with the model
    /// 1 - e^(-d/T), block_interval, reorg_depths). A table per grid point is
    /// printed at the end.
    ///
    /// Seeds: run seed_index (0..seeds) of a grid point uses the master seed
    /// derive_seed(base_seed, label, seed_index) = the first 8 bytes
    /// (little-endian) of SHA-256(base_seed as 8 little-endian bytes ||
    /// label || seed_index as 8 little-endian bytes), where base_seed is the
    /// scenario's seed (after --set) and label is the grid point's key=value
    /// assignments joined by ';' in --param order, e.g.
    /// "consensus.difficulty_bits=12". So results do not depend on --jobs or
    /// on which other points are in the grid, and any run can be repeated
    /// with `sim run FILE --set KEY=VALUE --seed SEED` (the seed is in
    /// sweep.csv).
    ///
    /// Exit code 0 if at least one run succeeded, 2 if none did or the
    /// arguments are invalid.
    Sweep {
        /// Scenario file (YAML).
        file: PathBuf,
        /// A swept field and its values, e.g. `--param consensus.difficulty_bits=12,14,16`
        /// (repeatable: the grid is every combination; commas inside [...] or {...} do not split).
        #[arg(long = "param", value_name = "KEY=V1,V2,...")]
        params: Vec<String>,
        /// Runs per grid point, each with its own derived seed.
        #[arg(long, default_value_t = 10)]
        seeds: u32,
        /// Worker threads (default: the number of available cores).
        #[arg(long)]
        jobs: Option<usize>,
        /// Output directory (default: `output/<scenario name>-sweep`). An
        /// existing one is replaced only if it is an earlier forklab output or
        /// empty.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override a scenario field in every run, e.g. `--set nodes.count=8` (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// No progress bar, no table, no closing lines (failed runs are still reported).
        #[arg(long, short)]
        quiet: bool,
        /// Run every grid point even when its the estimated memory exceeds the memory available or
        /// the estimated work exceeds the bound (see the README's "Limits").
        #[arg(long)]
        force: bool,
    },
    /// Redraw the charts of a run or sweep directory from its CSV files.
    ///
    /// A directory with blocks.csv is a run (fork_tree, tip_timeline,
    /// propagation_cdf, balances, reorg_depths); one with sweep.csv is a sweep
    /// (stale_rate, block_interval, reorg_depths). Charts go to DIR/charts/
    /// as PNG and SVG; the files written are printed.
    Plot {
        /// The run or sweep output directory.
        dir: PathBuf,
    },
    /// Key pairs and P2PKH addresses.
    Wallet {
        #[command(subcommand)]
        command: WalletCommand,
    },
    /// Decode a raw transaction (hex) and check its P2PKH signatures.
    Tx {
        /// The transaction in hex (legacy serialization).
        hex: String,
    },
    /// Look up a block, transaction, address or node of a finished run.
    ///
    /// Reads DIR/chain.sqlite (written by `sim run` unless --no-db). Text by
    /// default; --json prints the same JSON as the explorer's /api/. The
    /// raw header and transaction hex are printed for `sim header` and
    /// `sim tx`. An unknown hash, txid, address or node: one line, exit 2.
    Show {
        /// The run's output directory.
        dir: PathBuf,
        #[command(subcommand)]
        what: ShowCommand,
        /// Print JSON instead of text.
        #[arg(long, global = true)]
        json: bool,
    },
    /// Serve a finished run as a web explorer (read-only).
    ///
    /// Pages: overview with the fork tree, blocks, /block/HASH, /tx/TXID,
    /// /address/ADDR, /node/N and a search box; the same data as JSON under
    /// /api/ (described at /api/openapi.json). Binds 127.0.0.1 unless
    /// --bind says otherwise; never writes to DIR. Ctrl-C stops it.
    Serve {
        /// The run's output directory (holding chain.sqlite).
        dir: PathBuf,
        /// TCP port (0 picks a free one, printed at start).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Address to listen on; anything but a loopback address exposes
        /// the explorer to the network (a warning is printed).
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
    },
    /// Decode an 80-byte block header (160 hex characters) and check its proof of work.
    Header {
        /// The header in hex.
        hex: String,
    },
}

#[derive(Subcommand, Debug)]
enum ShowCommand {
    /// A block by hash, or the main-chain block at a height.
    Block {
        /// Block hash or height.
        key: String,
    },
    /// A transaction by txid.
    Tx {
        /// Transaction id.
        txid: String,
    },
    /// An address: balance, unspent outputs, history.
    Address {
        /// P2PKH address.
        address: String,
    },
    /// A node: peers, blocks mined, reorgs, tip changes.
    Node {
        /// Node id.
        node: u32,
    },
}

#[derive(Subcommand, Debug)]
enum WalletCommand {
    /// Create a key pair: prints the secret (WIF), public key and address.
    New {
        /// Derive the key deterministically from this seed (same seed, same key).
        #[arg(long)]
        seed: Option<u64>,
        /// Use an uncompressed public key.
        #[arg(long)]
        uncompressed: bool,
    },
    /// Show the public key and address of a WIF secret.
    Show {
        /// The secret key in Wallet Import Format.
        wif: String,
    },
}

fn main() -> ExitCode {
    // Ctrl-C, SIGTERM or SIGHUP: let an output directory being written
    // finish (it takes well under a second), keep any other from starting,
    // and exit as interrupted. The output contract: a directory is complete
    // or absent, never half-written.
    let _ = ctrlc::set_handler(|| {
        let _stopped = forklab::report::atomic::stop_writes();
        std::process::exit(130);
    });
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                e.exit();
            }
            // One line: clap's first paragraph, joined (some errors list the
            // missing arguments on the lines below the first).
            let text = e.to_string();
            let line = text
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(" ");
            eprintln!(
                "{}",
                if line.is_empty() {
                    "error: invalid arguments"
                } else {
                    &line
                }
            );
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Run {
            file,
            seed,
            out,
            sets,
            quiet,
            no_charts,
            force,
            no_db,
        } => cli::run::run(cli::run::RunArgs {
            file,
            seed,
            out,
            sets,
            quiet,
            no_charts,
            force,
            no_db,
        }),
        Command::Validate { file, sets, force } => cli::run::validate(&file, &sets, force),
        Command::Replay {
            dir,
            trace,
            node,
            from,
            to,
        } => cli::run::replay(cli::run::ReplayArgs {
            dir,
            trace,
            node,
            from,
            to,
        }),
        Command::Sweep {
            file,
            params,
            seeds,
            jobs,
            out,
            sets,
            quiet,
            force,
        } => cli::sweep::sweep(cli::sweep::SweepArgs {
            file,
            params,
            seeds,
            jobs,
            out,
            sets,
            quiet,
            force,
        }),
        Command::Plot { dir } => cli::plot::plot(&dir),
        Command::Wallet { command } => match command {
            WalletCommand::New { seed, uncompressed } => cli::teach::wallet_new(seed, uncompressed),
            WalletCommand::Show { wif } => cli::teach::wallet_show(&wif),
        },
        Command::Show { dir, what, json } => {
            use cli::show::ShowWhat;
            let what = match what {
                ShowCommand::Block { key } => ShowWhat::Block(key),
                ShowCommand::Tx { txid } => ShowWhat::Tx(txid),
                ShowCommand::Address { address } => ShowWhat::Address(address),
                ShowCommand::Node { node } => ShowWhat::Node(node),
            };
            cli::show::show(&dir, what, json)
        }
        Command::Serve { dir, port, bind } => cli::serve::serve(&dir, bind, port),
        Command::Tx { hex } => cli::teach::tx(&hex),
        Command::Header { hex } => cli::teach::header(&hex),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}
