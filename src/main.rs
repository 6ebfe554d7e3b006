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
    /// Run a scenario and write output/<name>/ (manifest, CSVs, charts).
    Run {
        /// Scenario file (YAML).
        file: PathBuf,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Output directory (default: output/<scenario name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override a scenario field, e.g. `--set consensus.difficulty_bits=12` (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// No progress bar and no summary.
        #[arg(long, short)]
        quiet: bool,
        /// Do not draw charts (CSVs and manifest only).
        #[arg(long)]
        no_charts: bool,
    },
    /// Check a scenario without running it.
    Validate {
        /// Scenario file (YAML).
        file: PathBuf,
        /// Override a scenario field (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
    },
    /// Re-run a finished run from its manifest and confirm its event digest.
    Replay {
        /// The run's output directory (holding manifest.json).
        dir: PathBuf,
        /// Print every event (filter with --node, --from, --to).
        #[arg(long)]
        trace: bool,
        /// Only trace events at this node.
        #[arg(long)]
        node: Option<u32>,
        /// Only trace events at or after this simulated time (e.g. 90s, 10m).
        #[arg(long)]
        from: Option<SimDuration>,
        /// Only trace events at or before this simulated time.
        #[arg(long)]
        to: Option<SimDuration>,
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
    /// Decode an 80-byte block header (160 hex characters) and check its proof of work.
    Header {
        /// The header in hex.
        hex: String,
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
            // One line: clap's first line names the problem.
            let text = e.to_string();
            eprintln!(
                "{}",
                text.lines().next().unwrap_or("error: invalid arguments")
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
        } => cli::run::run(cli::run::RunArgs {
            file,
            seed,
            out,
            sets,
            quiet,
            no_charts,
        }),
        Command::Validate { file, sets } => cli::run::validate(&file, &sets),
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
        Command::Wallet { command } => match command {
            WalletCommand::New { seed, uncompressed } => cli::teach::wallet_new(seed, uncompressed),
            WalletCommand::Show { wif } => cli::teach::wallet_show(&wif),
        },
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
