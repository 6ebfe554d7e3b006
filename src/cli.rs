//! Subcommand implementations for the `sim` binary.

pub mod plot;
pub mod run;
pub mod sweep;
pub mod teach;

use std::fmt;

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
