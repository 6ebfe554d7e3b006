//! `sim`: the forklab command line.
//!
//! Parses arguments (clap), calls the library, prints, and maps errors to
//! exit codes: 0 success, 2 bad input (usage, scenario, hex, checksum…),
//! 1 anything else (I/O failures).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

/// forklab: a deterministic proof-of-work network simulator and teaching lab.
#[derive(Parser, Debug)]
#[command(name = "sim", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
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
    let cli = Cli::parse();
    let result = match cli.command {
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
