//! `sim plot`: regenerate the charts of a run or a sweep from its CSV files.
//!
//! A directory holding `blocks.csv` is a run (charts by
//! [`forklab::report::plot_run`]); one holding `sweep.csv` is a sweep
//! (charts by [`forklab::report::sweep_charts::plot_sweep`]). Anything else
//! is bad input (exit 2). Prints every file written, one per line.

use std::path::Path;

use forklab::report::rows::BLOCKS_CSV;
use forklab::report::sweep_charts::{plot_sweep, SWEEP_CSV};
use forklab::report::{plot_run, ReportError};

use super::outln;
use super::{CliError, CliResult};

/// A malformed or missing input file is the user's problem (exit 2); a
/// failure to write or draw is not (exit 1).
fn report_err(e: ReportError) -> CliError {
    match e {
        ReportError::Missing { .. } | ReportError::Csv { .. } => CliError::input(e),
        _ => CliError::other(e),
    }
}

/// `sim plot DIR`.
pub fn plot(dir: &Path) -> CliResult {
    if !dir.is_dir() {
        return Err(CliError::input(format!(
            "{}: not a directory",
            dir.display()
        )));
    }
    let files = if dir.join(BLOCKS_CSV).is_file() {
        plot_run(dir)
    } else if dir.join(SWEEP_CSV).is_file() {
        plot_sweep(dir).and_then(|mut files| {
            files.extend(forklab::report::theory_charts::plot_theory(dir)?);
            files.sort();
            Ok(files)
        })
    } else {
        return Err(CliError::input(format!(
            "{}: holds neither {BLOCKS_CSV} (a run) nor {SWEEP_CSV} (a sweep); nothing to plot",
            dir.display()
        )));
    }
    .map_err(report_err)?;
    for f in files {
        outln!("{}", f.display());
    }
    Ok(())
}

/// `sim plot RUN OTHER`: both runs' propagation CDFs on one chart, written
/// to `RUN/charts/propagation_compare.{png,svg}`.
pub fn compare(dir: &Path, other: &Path) -> CliResult {
    let mut loaded = Vec::new();
    for d in [dir, other] {
        if !d.join(BLOCKS_CSV).is_file() {
            return Err(CliError::input(format!(
                "{}: holds no {BLOCKS_CSV}; comparing needs two run directories",
                d.display()
            )));
        }
        let rows = forklab::report::load_propagation(d).map_err(report_err)?;
        let label = d.file_name().map_or_else(
            || d.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        loaded.push((label, rows));
    }
    let runs = [
        (loaded[0].0.as_str(), loaded[0].1.as_slice()),
        (loaded[1].0.as_str(), loaded[1].1.as_slice()),
    ];
    let files = forklab::report::propagation_compare(runs, &dir.join(forklab::report::CHARTS_DIR))
        .map_err(report_err)?;
    for f in files {
        outln!("{}", f.display());
    }
    Ok(())
}
