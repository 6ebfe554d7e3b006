//! The run's database: `chain.sqlite`, every block, transaction and address
//! of a run in one SQLite file (rusqlite with the bundled library, so a
//! fresh machine needs nothing).
//!
//! [`write()`] builds the file from a finished run (a [`RunResult`] of
//! plain values the world hands it: the store imports nothing above it)
//! inside the run's atomic output write; [`read::Store`] opens it read-only for `sim show` and the
//! explorer (`sim serve DIR`). The tables and columns are in
//! [`schema::TABLES`] and the README.
//!
//! Determinism (the output contract): the same run gives a byte-identical
//! file. The builder fixes the page size (16 KiB) and text encoding, keeps no
//! rollback journal (the file is new and unpublished until the output
//! directory is renamed into place), inserts rows in the run's own order
//! (mining order, block order, node order, never a hash map's), builds the
//! indexes after the bulk insert and writes everything in one transaction;
//! SQLite itself writes no timestamps, and the header's version field names
//! the bundled library, which is fixed by `Cargo.lock`.

use std::path::PathBuf;

pub mod read;
pub mod schema;
pub mod view;
mod write;

pub use write::{write, RunInfo, RunResult, WriteStats};

/// File name of the run's database in its output directory.
pub const CHAIN_SQLITE: &str = "chain.sqlite";

/// Above this many nodes the `arrivals` table (one row per block and node)
/// is left empty, to keep large runs fast and the file small; the `run`
/// table's `arrivals` key says whether it was filled.
pub const ARRIVALS_MAX_NODES: usize = 1_000;

/// Longest `script_asm` stored; longer ones (block padding) are cut and end
/// with `… (N bytes)`.
pub const MAX_ASM_CHARS: usize = 200;

/// The database schema version, stored as SQLite's `user_version`.
///
/// History: 1, the first; 2 added the `run` table's `block_relay_mode`,
/// `block_relay_modelled` and `block_relay_note` keys.
pub const SCHEMA_VERSION: i32 = 2;

/// Error building or reading a run's database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("{path}: {source}")]
    Sql {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The directory holds no `chain.sqlite` (a run with `--no-db`, or not
    /// a run directory).
    #[error("{0}: no {CHAIN_SQLITE} (not a run directory, or run with --no-db)")]
    Missing(PathBuf),
    /// The file is a database of another schema version.
    #[error(
        "{path}: schema version {found}, this forklab reads {SCHEMA_VERSION}; \
         run the scenario again with this forklab to rebuild it"
    )]
    Version {
        /// The database file.
        path: PathBuf,
        /// Its `user_version`.
        found: i32,
    },
}
