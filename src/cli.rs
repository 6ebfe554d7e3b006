//! Subcommand implementations for the `sim` binary.

pub mod load;
pub mod plot;
pub mod prefault;
pub mod run;
pub mod serve;
pub mod show;
pub mod sweep;
pub mod teach;
pub mod wallet;

use std::fmt;
use std::path::PathBuf;

/// The scenario arguments `run`, `validate` and `sweep` share: the file, its
/// `--set` overrides and `--force`.
#[derive(clap::Args, Debug, Clone)]
pub struct ScenarioArgs {
    /// Scenario file (YAML), e.g. scenarios/three_nodes.yaml.
    pub file: PathBuf,
    /// Override a scenario field, e.g. `--set consensus.difficulty_bits=12`
    /// (repeatable; the value is read as YAML).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Accept the scenario even when its estimated memory exceeds the memory
    /// available or its estimated work exceeds the bound (see the README's
    /// "Limits"); a sweep holds every grid point to its share.
    #[arg(long)]
    pub force: bool,
}

/// An error that ends the program: a one-line message and an exit code.
#[derive(Debug)]
pub struct CliError {
    /// One line, no trailing newline.
    pub message: String,
    /// 2 for bad input, 1 for anything else.
    pub code: u8,
}

impl CliError {
    /// Bad input from the user (exit code 2).
    pub fn input(message: impl fmt::Display) -> Self {
        CliError {
            message: message.to_string(),
            code: 2,
        }
    }

    /// A failure that is not the user's input (exit code 1).
    pub fn other(message: impl fmt::Display) -> Self {
        CliError {
            message: message.to_string(),
            code: 1,
        }
    }
}

/// Result of a subcommand.
pub type CliResult = Result<(), CliError>;

/// Writes one line to stdout. A closed pipe (`sim … | head`) ends the
/// program quietly instead of panicking like `println!` would.
pub fn emit(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(line).and_then(|()| out.write_all(b"\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write output: {e}");
        std::process::exit(1);
    }
}

/// `println!` that survives a closed pipe (see [`emit`]).
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::emit(format_args!($($arg)*))
    };
}
pub(crate) use outln;
