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

/// mimalloc instead of the system allocator, for the run loop's many small,
/// short-lived allocations (message payloads, compact-block slots): a
/// 10,000-node run took 4.88–5.29 s of user CPU against glibc's 5.74–6.68 s
/// (BENCHMARKS.md, "Announcements behind a pending one, and mimalloc").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (its index in `mimalloc.h`'s
/// `mi_option_e`, the same in v2 and v3; libmimalloc-sys names no constant
/// for it). A test checks it is the option whose default is mimalloc v3's
/// 1,000 ms (`options.c`).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps freed memory instead of returning it to the OS after a delay: a run
/// frees and reallocates message payloads continuously (4.70–5.05 s against
/// 4.88–5.29 s of user CPU for a 10,000-node run; BENCHMARKS.md).
fn keep_freed_memory() {
    // SAFETY: sets one of mimalloc's global options; called before any
    // thread is started.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

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
    #[command(
        arg_required_else_help = true,
        after_help = "Examples:
  sim run scenarios/three_nodes.yaml                  # writes output/three_nodes/
  sim run scenarios/three_nodes.yaml --seed 7         # other luck: output/three_nodes-seed7/
  sim run scenarios/big_blocks.yaml --set consensus.block_fill_bytes=0
  sim run scenarios/selfish_mining.yaml --out /tmp/selfish --no-charts

A run with --seed or --set writes to its own default directory (output/<name>-seed<N>,
output/<name>-set-<8 hex digits of the overrides>), so it never replaces the plain run's output.

On Linux with two or more cores, a run estimated at 64 MB or more faults its memory in ahead
on a second thread: same output, more resident memory (up to 128 MB past the estimate at
once; README, 'Faulting in ahead'). FORKLAB_PREFAULT=0 turns that off."
    )]
    Run(cli::run::RunArgs),
    /// Check a scenario without running it.
    #[command(
        arg_required_else_help = true,
        after_help = "Examples:
  sim validate scenarios/three_nodes.yaml
  sim validate scenarios/three_nodes.yaml --set nodes.count=10 --set stop.height=20"
    )]
    Validate(cli::ScenarioArgs),
    /// Re-run a finished run from its manifest and confirm its event digest.
    #[command(
        arg_required_else_help = true,
        after_help = "Examples:
  sim replay output/three_nodes
  sim replay output/three_nodes --trace --node 1 --from 90s --to 2m"
    )]
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
    /// changes slowest) runs --seeds times, each with its own seed derived
    /// from the scenario's seed and the grid point (the rule is in the
    /// README, "Output of a sweep"; the seed of every run is in sweep.csv).
    /// Every --param key and value is checked before any run starts. Results
    /// go to `output/<scenario name>-sweep/` (or --out): sweep.csv (one row
    /// per run, failed runs included with their error), sweep_summary.csv
    /// (per grid point: runs ok/failed, mean, sample sd and 95% confidence
    /// interval of stale rate, block interval, reorgs, deepest reorg,
    /// propagation, attacker revenue; double-spend success with its Wilson
    /// interval), sweep_manifest.json and charts/. A table per grid point is
    /// printed at the end.
    ///
    /// Charts: stale_rate (with the model 1 - e^(-d/T), d = the median time
    /// for a block to reach half the nodes), block_interval, reorg_depths;
    /// with an adversary also relative_revenue (selfish or majority, against
    /// Eyal-Sirer's R(alpha, gamma)) and double_spend_success (against the
    /// exact block race), drawn when the sweep varies the attack's share or
    /// confirmations.
    ///
    /// Many machines: --shard K/N runs only shard K's runs (run i = point ×
    /// seeds + seed_index belongs to shard i mod N + 1) into a partial
    /// directory, `sim sweep merge` combines all N into the same files,
    /// byte for byte; --slurm --shards N writes a Slurm job array doing
    /// both (README, "Sweeps on a cluster").
    ///
    /// Exit code 0 if at least one run succeeded (a shard: once its
    /// directory is written), 2 if none did or the arguments are invalid.
    #[command(
        arg_required_else_help = true,
        after_help = "Examples:
  sim sweep scenarios/difficulty_classroom.yaml --param consensus.difficulty_bits=10,11,12,13,14 --seeds 10
  sim sweep scenarios/selfish_mining.yaml --param adversaries.0.share=0.1,0.2,0.3,0.4 --seeds 4
  sim sweep scenarios/double_spend.yaml --param adversaries.0.confirmations=1,2,3,4 --jobs 2
  sim sweep scenarios/difficulty_classroom.yaml --param consensus.difficulty_bits=10,12 --shard 2/4 --out part2
  sim sweep merge part1 part2 part3 part4 --out output/difficulty_classroom-sweep
  sim sweep scenarios/difficulty_classroom.yaml --param consensus.difficulty_bits=10,12 --slurm --shards 4"
    )]
    Sweep(cli::sweep::SweepArgs),
    /// Redraw the charts of a run or sweep directory from its CSV files.
    ///
    /// A directory with blocks.csv is a run (fork_tree, tip_timeline,
    /// propagation_cdf, balances, reorg_depths, miner_share); one with
    /// sweep.csv is a sweep (stale_rate, block_interval, reorg_depths, and
    /// the attack charts when its columns have them). Charts go to
    /// DIR/charts/ as PNG and SVG; the files written are printed.
    #[command(
        arg_required_else_help = true,
        after_help = "Examples:
  sim plot output/three_nodes
  sim plot output/difficulty_classroom-sweep
  sim plot output/compact_blocks output/whole_blocks   (overlay two runs' propagation CDFs)"
    )]
    Plot {
        /// The run or sweep output directory.
        dir: PathBuf,
        /// A second run: overlay the two runs' propagation CDFs in
        /// DIR/charts/propagation_compare.{png,svg} (only that chart).
        other: Option<PathBuf>,
    },
    /// Key pairs and P2PKH addresses.
    #[command(after_help = "Examples:
  sim wallet new
  sim wallet new --seed 7 --uncompressed
  sim wallet show KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn")]
    Wallet {
        #[command(subcommand)]
        command: WalletCommand,
    },
    /// Decode a raw transaction (hex) and check its P2PKH signatures.
    #[command(
        arg_required_else_help = true,
        after_help = "Example (Bitcoin's genesis coinbase, whose input carries The Times headline):
  sim tx 01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000"
    )]
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
    /// Serve a finished run as a web explorer, or run a scenario live.
    ///
    /// With a run's output DIRECTORY: the read-only explorer. Pages:
    /// overview (with how blocks were relayed and what of it was modelled)
    /// and the fork tree, blocks, /block/HASH, /tx/TXID,
    /// /address/ADDR, /node/N and a search box; the same data as JSON under
    /// /api/ (described at /api/openapi.json). Never writes to DIR.
    ///
    /// With a scenario FILE: the live lab. The scenario runs with simulated
    /// time paced against the wall clock (--speed) until its stop condition
    /// or Ctrl-C (or POST /lab/stop), then writes its output directory like
    /// `sim run`, plus inputs.jsonl: every API call or lab control that
    /// changed the run, with the simulated time it was applied at, so `sim
    /// replay DIR` reproduces the session byte for byte. Each full node i
    /// answers the node API (/chain, /height, /balance?address=,
    /// /block_info?height=, /transactions, /transactions/new, /utxos,
    /// /history, /mine, /nodes, /nodes/register, /nodes/resolve;
    /// /openapi.json) on port --node-port + i and under /node/i/ on the main
    /// server; the main server has the live page at / and lab control under
    /// /lab/ (status, events, pause, resume, speed, step, partition, heal,
    /// offline, online, hashrate, stop). No route serves a private key.
    ///
    /// Binds 127.0.0.1 unless --bind says otherwise. Ctrl-C stops it.
    #[command(
        arg_required_else_help = true,
        after_help = "Examples:
  sim serve output/three_nodes                       # explore a finished run
  sim serve scenarios/live_lab.yaml                  # live: nodes on 127.0.0.1:5000-5002
  sim serve scenarios/live_lab.yaml --speed 10 --students 20
  curl http://127.0.0.1:5001/height
  sim wallet send --node http://127.0.0.1:5000 --wif WIF --to ADDR --amount 100000"
    )]
    Serve(cli::serve::ServeArgs),
    /// Decode an 80-byte block header (160 hex characters) and check its proof of work.
    #[command(
        arg_required_else_help = true,
        after_help = "Example (Bitcoin's genesis block header):
  sim header 0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c"
    )]
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
    #[command(after_help = "Examples:
  sim wallet new                 # a fresh random key
  sim wallet new --seed 7        # the same key every time: for simulations and exercises only")]
    New {
        /// Derive the key deterministically from this seed (same seed, same key).
        #[arg(long)]
        seed: Option<u64>,
        /// Use an uncompressed public key.
        #[arg(long)]
        uncompressed: bool,
    },
    /// Show the public key and address of a WIF secret.
    #[command(
        arg_required_else_help = true,
        after_help = "Example:
  sim wallet show KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn"
    )]
    Show {
        /// The secret key in Wallet Import Format.
        wif: String,
    },
    /// Pay from a key to an address through a live lab's node (sim serve FILE).
    ///
    /// Fetches the key's unspent outputs from the node, builds and signs
    /// the transaction here (the key never leaves this program), posts the
    /// raw hex to /transactions/new, and prints the txid or the node's
    /// reject reason.
    #[command(
        arg_required_else_help = true,
        after_help = "Example:
  sim wallet send --node http://127.0.0.1:5000 --wif KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn --to 1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH --amount 100000"
    )]
    Send {
        /// The node API's base URL, e.g. http://127.0.0.1:5000.
        #[arg(long)]
        node: String,
        /// The paying key in Wallet Import Format.
        #[arg(long)]
        wif: String,
        /// The paid P2PKH address.
        #[arg(long)]
        to: String,
        /// Satoshis to pay.
        #[arg(long)]
        amount: u64,
        /// Fee rate, satoshis per byte of the estimated size.
        #[arg(long, default_value_t = 2)]
        fee_rate: u64,
    },
    /// An address's balance as a live lab's node sees it.
    #[command(arg_required_else_help = true)]
    Balance {
        /// The node API's base URL, e.g. http://127.0.0.1:5000.
        #[arg(long)]
        node: String,
        /// The P2PKH address.
        address: String,
    },
    /// Transactions paying or spending an address, on a live lab's node.
    #[command(arg_required_else_help = true)]
    History {
        /// The node API's base URL, e.g. http://127.0.0.1:5000.
        #[arg(long)]
        node: String,
        /// The P2PKH address.
        address: String,
    },
}

fn main() -> ExitCode {
    keep_freed_memory();
    // Ctrl-C, SIGTERM or SIGHUP: let an output directory being written
    // finish (it takes well under a second), keep any other from starting,
    // and exit as interrupted. The output contract: a directory is complete
    // or absent, never half-written.
    let _ = ctrlc::set_handler(|| {
        // A live lab's first Ctrl-C stops its session, which then writes
        // its output directory; a second one exits at once.
        static STOPPING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        if let Some(stop) = cli::serve::LIVE_STOP.get() {
            if !STOPPING.swap(true, std::sync::atomic::Ordering::SeqCst) {
                eprintln!("\nstopping the live session: writing its output directory (Ctrl-C again to abandon it)");
                stop();
                return;
            }
        }
        let _stopped = forklab::report::atomic::stop_writes();
        eprintln!(
            "\ninterrupted: a run stopped before its end writes nothing; an output directory already being written was finished first, so none is half-written"
        );
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
        Command::Run(args) => cli::run::run(args),
        Command::Validate(args) => cli::run::validate(&args),
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
        Command::Sweep(args) => cli::sweep::sweep(args),
        Command::Plot { dir, other } => match other {
            None => cli::plot::plot(&dir),
            Some(other) => cli::plot::compare(&dir, &other),
        },
        Command::Wallet { command } => match command {
            WalletCommand::New { seed, uncompressed } => cli::teach::wallet_new(seed, uncompressed),
            WalletCommand::Show { wif } => cli::teach::wallet_show(&wif),
            WalletCommand::Send {
                node,
                wif,
                to,
                amount,
                fee_rate,
            } => cli::wallet::send(&node, &wif, &to, amount, fee_rate),
            WalletCommand::Balance { node, address } => cli::wallet::balance(&node, &address),
            WalletCommand::History { node, address } => cli::wallet::history(&node, &address),
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
        Command::Serve(args) => cli::serve::serve(args),
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

#[cfg(test)]
mod allocator_tests {
    use super::MI_OPTION_PURGE_DELAY;

    #[test]
    fn the_purge_delay_option_is_the_one_with_its_documented_default() {
        // SAFETY: reads one of mimalloc's global options.
        let ms = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(
            ms, 1000,
            "mimalloc's option {MI_OPTION_PURGE_DELAY} is not purge_delay"
        );
    }
}
