//! Loading a run's CSV files into the row structs of [`rows`](super::rows).
//!
//! Every loader takes the run directory, reads one file and checks each row
//! (times finite and not negative, and so on). Any problem becomes a
//! [`ReportError`] that names the file and, where there is one, the 1-based
//! line, so a hand-edited CSV points the user at the culprit.
//!
//! `tips.csv` can be very large (one row per node per tip change: millions of
//! rows at 10,000 nodes), so [`load_tips_sampled`] keeps only the rows of an
//! evenly spaced sample of nodes instead of holding the whole file.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use serde::de::DeserializeOwned;

use super::rows::*;
use super::ReportError;

/// A row that can check its own values after parsing.
pub(crate) trait CheckedRow: DeserializeOwned {
    /// `Err(message)` if a value is out of range.
    fn check(&self) -> Result<(), String>;
}

fn check_time(name: &str, t: f64) -> Result<(), String> {
    if t.is_finite() && t >= 0.0 {
        Ok(())
    } else {
        Err(format!("{name} must be a finite number >= 0, got {t}"))
    }
}

impl CheckedRow for BlockRow {
    fn check(&self) -> Result<(), String> {
        check_time("time_s", self.time_s)?;
        if self.miner < NO_MINER {
            return Err(format!("miner must be a node id or -1, got {}", self.miner));
        }
        Ok(())
    }
}

impl CheckedRow for PropagationRow {
    fn check(&self) -> Result<(), String> {
        for (i, p) in self.percentiles().iter().enumerate() {
            if let Some(v) = p {
                check_time(&format!("p{}_ms", (i + 1) * 10), *v)?;
            }
        }
        Ok(())
    }
}

impl CheckedRow for ReorgRow {
    fn check(&self) -> Result<(), String> {
        check_time("time_s", self.time_s)
    }
}

impl CheckedRow for BalanceRow {
    fn check(&self) -> Result<(), String> {
        check_time("time_s", self.time_s)
    }
}

impl CheckedRow for TipRow {
    fn check(&self) -> Result<(), String> {
        check_time("time_s", self.time_s)
    }
}

impl CheckedRow for NodeRow {
    fn check(&self) -> Result<(), String> {
        if self.hashrate_hps.is_finite() && self.hashrate_hps >= 0.0 {
            Ok(())
        } else {
            Err(format!(
                "hashrate_hps must be a finite number >= 0, got {}",
                self.hashrate_hps
            ))
        }
    }
}

impl CheckedRow for SummaryRow {
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

fn open(path: &Path) -> Result<csv::Reader<BufReader<File>>, ReportError> {
    let file = File::open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            ReportError::Missing {
                path: path.to_path_buf(),
            }
        } else {
            ReportError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    Ok(csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(BufReader::new(file)))
}

fn csv_error(path: &Path, err: csv::Error) -> ReportError {
    let line = err.position().map(|p| p.line());
    let message = match err.kind() {
        // The position is reported separately; keep only serde's message.
        csv::ErrorKind::Deserialize { err, .. } => err.to_string(),
        _ => err.to_string(),
    };
    ReportError::Csv {
        path: path.to_path_buf(),
        line,
        message,
    }
}

/// Reads every row of `path`, keeping those for which `keep` is true.
fn read_filtered<T: CheckedRow>(
    path: &Path,
    mut keep: impl FnMut(&T) -> bool,
) -> Result<Vec<T>, ReportError> {
    let mut reader = open(path)?;
    let headers = reader.headers().map_err(|e| csv_error(path, e))?.clone();
    let mut record = csv::StringRecord::new();
    let mut rows = Vec::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(path, e)),
        }
        let line = record.position().map(|p| p.line());
        let row: T = record
            .deserialize(Some(&headers))
            .map_err(|e| csv_error(path, e))?;
        row.check().map_err(|message| ReportError::Csv {
            path: path.to_path_buf(),
            line,
            message,
        })?;
        if keep(&row) {
            rows.push(row);
        }
    }
    Ok(rows)
}

/// Reads every row of one CSV file (header row required).
pub(crate) fn read_rows<T: CheckedRow>(path: &Path) -> Result<Vec<T>, ReportError> {
    read_filtered(path, |_| true)
}

/// `blocks.csv` of a run directory.
pub fn load_blocks(dir: &Path) -> Result<Vec<BlockRow>, ReportError> {
    read_rows(&dir.join(BLOCKS_CSV))
}

/// `propagation.csv` of a run directory.
pub fn load_propagation(dir: &Path) -> Result<Vec<PropagationRow>, ReportError> {
    read_rows(&dir.join(PROPAGATION_CSV))
}

/// `reorgs.csv` of a run directory.
pub fn load_reorgs(dir: &Path) -> Result<Vec<ReorgRow>, ReportError> {
    read_rows(&dir.join(REORGS_CSV))
}

/// `balances.csv` of a run directory.
pub fn load_balances(dir: &Path) -> Result<Vec<BalanceRow>, ReportError> {
    read_rows(&dir.join(BALANCES_CSV))
}

/// `tips.csv` of a run directory, every row (see [`load_tips_sampled`] for
/// large runs).
pub fn load_tips(dir: &Path) -> Result<Vec<TipRow>, ReportError> {
    read_rows(&dir.join(TIPS_CSV))
}

/// `nodes.csv` of a run directory.
pub fn load_nodes(dir: &Path) -> Result<Vec<NodeRow>, ReportError> {
    read_rows(&dir.join(NODES_CSV))
}

/// `summary.csv` of a run directory.
pub fn load_summary(dir: &Path) -> Result<Vec<SummaryRow>, ReportError> {
    read_rows(&dir.join(SUMMARY_CSV))
}

/// Up to `max` node ids spread evenly over `ids` (ascending), always
/// including the first and the last; all of them when there are at most
/// `max`. Sampling a sample of size `<= max` returns it unchanged.
pub fn sample_nodes(ids: &BTreeSet<u32>, max: usize) -> Vec<u32> {
    let all: Vec<u32> = ids.iter().copied().collect();
    if all.len() <= max {
        return all;
    }
    match max {
        0 => Vec::new(),
        1 => vec![all[0]],
        _ => (0..max)
            .map(|i| all[i * (all.len() - 1) / (max - 1)])
            .collect(),
    }
}

/// The rows of `tips.csv` for an even sample of at most `max_nodes` nodes
/// (chosen by [`sample_nodes`]), and the number of distinct nodes in the
/// whole file. Reads the file twice: first only the `node` column.
pub fn load_tips_sampled(
    dir: &Path,
    max_nodes: usize,
) -> Result<(Vec<TipRow>, usize), ReportError> {
    let path = dir.join(TIPS_CSV);
    let mut reader = open(&path)?;
    let headers = reader
        .byte_headers()
        .map_err(|e| csv_error(&path, e))?
        .clone();
    let Some(node_col) = headers.iter().position(|h| h == b"node") else {
        return Err(ReportError::Csv {
            path,
            line: Some(1),
            message: "missing column `node`".to_string(),
        });
    };
    let mut ids = BTreeSet::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(&path, e)),
        }
        let id = record
            .get(node_col)
            .and_then(|f| std::str::from_utf8(f).ok())
            .and_then(|s| s.trim().parse::<u32>().ok());
        match id {
            Some(id) => {
                ids.insert(id);
            }
            None => {
                return Err(ReportError::Csv {
                    path,
                    line: record.position().map(|p| p.line()),
                    message: "node must be a node id (unsigned integer)".to_string(),
                })
            }
        }
    }
    let keep: BTreeSet<u32> = sample_nodes(&ids, max_nodes).into_iter().collect();
    let rows = read_filtered(&path, |r: &TipRow| keep.contains(&r.node))?;
    Ok((rows, ids.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_nodes_is_even_and_idempotent() {
        let ids: BTreeSet<u32> = (0..10_000).collect();
        let s = sample_nodes(&ids, 50);
        assert_eq!(s.len(), 50);
        assert_eq!(s[0], 0);
        assert_eq!(s[49], 9_999);
        assert!(s.windows(2).all(|w| w[0] < w[1]));
        let again = sample_nodes(&s.iter().copied().collect(), 50);
        assert_eq!(again, s);
        let few: BTreeSet<u32> = [3, 7].into_iter().collect();
        assert_eq!(sample_nodes(&few, 50), vec![3, 7]);
    }

    #[test]
    fn empty_and_nan_percentiles_read_as_not_reached() {
        let dir = std::env::temp_dir().join(format!("forklab-csvdata-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(PROPAGATION_CSV),
            "hash,height,miner,nodes,reached,p10_ms,p20_ms,p30_ms,p40_ms,p50_ms,\
             p60_ms,p70_ms,p80_ms,p90_ms,p100_ms\n\
             aa,1,0,10,9,1,2,3,4,5,6,7,8,9,\n\
             bb,2,1,10,9,1,2,3,4,5,6,7,8,9,NaN\n",
        )
        .unwrap();
        let rows = load_propagation(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        let rows = rows.unwrap();
        assert_eq!(rows.len(), 2);
        for r in &rows {
            assert_eq!(r.percentiles()[8], Some(9.0));
            assert_eq!(r.percentiles()[9], None);
        }
    }
}
