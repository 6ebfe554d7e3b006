//! Charts of a parameter sweep, drawn from its CSV files only.
//!
//! A sweep directory (written by `sim sweep`, see `crate::sweep`) holds
//! `sweep.csv` (one row per run) and `sweep_summary.csv` (one row per grid
//! point, with means and 95% confidence intervals). [`plot_sweep`] reads them
//! back ([`load_sweep`]) and writes into `charts/`:
//!
//! | stem | shows |
//! |---|---|
//! | `stale_rate` | mean stale rate (%) per grid point with 95% CI error bars, and the analytic model `1 − e^(−d/T)` (dashed) |
//! | `block_interval` | mean main-chain block interval per grid point with 95% CI error bars, and the expected interval (dashed) |
//! | `reorg_depths` | how many runs had each deepest-reorg depth, one bar colour per grid point |
//!
//! The x axis is the first swept parameter whose values are all numbers;
//! grid points that differ in the other parameters become separate series
//! (one colour each). Without a numeric parameter the x axis is the grid
//! point index.
//!
//! The model ([`crate::theory::analytic_stale_rate`]): a block found at time 0 stays
//! unknown to part of the network for a while; if mining is a Poisson
//! process with mean interval `T` and the hashrate that has not yet heard of
//! the block is "in the dark" for `d` seconds on average, a competing block
//! is found in that window with probability about `1 − e^(−d/T)`. The sweep
//! takes `T` = the scenario's expected block interval at the grid point
//! (`expected_interval_s`) and `d` = the mean over the point's runs of
//! `propagation_p50_ms` (each run's median time for a block to reach half
//! the nodes: with hashrate spread evenly, the average node hears of a block
//! about then), and writes the result as `model_stale_rate`; the chart draws
//! that column. Taking the time to reach 90% of the nodes instead
//! (`propagation_p90_ms`, also in `sweep_summary.csv`) gives an upper bound
//! that overestimates the measured rate about twofold in
//! `scenarios/difficulty_classroom.yaml`. The model ignores that the
//! finder's own hashrate cannot fork itself and that at high fork rates
//! competing branches overlap, so it is a guide, not a fit.
//!
//! Invariants as for run charts: output is a pure function of the two CSV
//! files (fixed canvas, embedded font, bars drawn as rectangles rather than
//! plotters' hash-map-backed `Histogram`), so `sim plot` reproduces the
//! charts of `sim sweep` byte for byte.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use csv::StringRecord;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::charts::{write_chart, Chart};
use super::style::*;
use super::{font, ReportError, CHARTS_DIR};

/// The per-run file of a sweep directory.
pub const SWEEP_CSV: &str = "sweep.csv";
/// The per-grid-point file of a sweep directory.
pub const SWEEP_SUMMARY_CSV: &str = "sweep_summary.csv";
/// The manifest of a sweep directory.
pub const SWEEP_MANIFEST: &str = "sweep_manifest.json";
/// The manifest of one shard's partial sweep directory (`sim sweep …
/// --shard K/N`; see `crate::sweep::shard`).
pub const SHARD_MANIFEST: &str = "shard_manifest.json";

/// One row of `sweep.csv` (the columns the charts use).
#[derive(Clone, Debug, PartialEq)]
pub struct SweepRunRow {
    /// Grid point index.
    pub point: usize,
    /// The swept values, in parameter order.
    pub values: Vec<String>,
    /// Index among the point's seeds.
    pub seed_index: u32,
    /// The run's master seed.
    pub seed: u64,
    /// Whether the run finished (`status = ok`).
    pub ok: bool,
    /// Deepest reorg of the run.
    pub deepest_reorg: Option<u32>,
    /// Stale rate of the run.
    pub stale_rate: Option<f64>,
    /// Mean main-chain block interval of the run, seconds.
    pub mean_block_interval_s: Option<f64>,
}

/// A mean and its 95% confidence interval (empty cells are `None`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MeanCi {
    /// Mean.
    pub mean: Option<f64>,
    /// Lower end of the 95% confidence interval.
    pub low: Option<f64>,
    /// Upper end of the 95% confidence interval.
    pub high: Option<f64>,
}

/// One row of `sweep_summary.csv` (the columns the charts use).
#[derive(Clone, Debug, PartialEq)]
pub struct SweepPointRow {
    /// Grid point index.
    pub point: usize,
    /// The swept values, in parameter order.
    pub values: Vec<String>,
    /// Runs that finished.
    pub n_ok: u32,
    /// Runs that failed.
    pub n_failed: u32,
    /// Expected block interval, seconds.
    pub expected_interval_s: Option<f64>,
    /// The analytic model's stale rate.
    pub model_stale_rate: Option<f64>,
    /// Stale rate across runs.
    pub stale_rate: MeanCi,
    /// Mean block interval across runs, seconds.
    pub mean_block_interval_s: MeanCi,
}

/// A sweep directory's CSV contents.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepTable {
    /// Swept parameter keys, in order.
    pub params: Vec<String>,
    /// Runs, in file order.
    pub runs: Vec<SweepRunRow>,
    /// Grid points, in file order (ascending `point`).
    pub points: Vec<SweepPointRow>,
}

/// A CSV file with named columns.
struct Table {
    path: PathBuf,
    header: StringRecord,
    rows: Vec<(u64, StringRecord)>,
}

impl Table {
    fn read(path: PathBuf) -> Result<Table, ReportError> {
        if !path.is_file() {
            return Err(ReportError::Missing { path });
        }
        let file = File::open(&path).map_err(|source| ReportError::Io {
            path: path.clone(),
            source,
        })?;
        let mut r = csv::Reader::from_reader(std::io::BufReader::new(file));
        let csv_err = |e: csv::Error, path: &Path| ReportError::Csv {
            path: path.to_path_buf(),
            line: e.position().map(|p| p.line()),
            message: e.to_string(),
        };
        let header = r.headers().map_err(|e| csv_err(e, &path))?.clone();
        let mut rows = Vec::new();
        for rec in r.records() {
            let rec = rec.map_err(|e| csv_err(e, &path))?;
            let line = rec.position().map_or(0, |p| p.line());
            rows.push((line, rec));
        }
        Ok(Table { path, header, rows })
    }

    fn err(&self, line: Option<u64>, message: String) -> ReportError {
        ReportError::Csv {
            path: self.path.clone(),
            line,
            message,
        }
    }

    fn col(&self, name: &str) -> Result<usize, ReportError> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| self.err(Some(1), format!("missing column `{name}`")))
    }

    /// The parameter columns: between `point` (first) and `next`.
    fn params(&self, next: &str) -> Result<Vec<String>, ReportError> {
        if self.header.get(0) != Some("point") {
            return Err(self.err(Some(1), "the first column must be `point`".into()));
        }
        let end = self.col(next)?;
        Ok(self
            .header
            .iter()
            .take(end)
            .skip(1)
            .map(String::from)
            .collect())
    }

    fn parse<T: std::str::FromStr>(
        &self,
        line: u64,
        rec: &StringRecord,
        col: usize,
    ) -> Result<Option<T>, ReportError> {
        let cell = rec.get(col).unwrap_or("").trim();
        if cell.is_empty() {
            return Ok(None);
        }
        cell.parse::<T>().map(Some).map_err(|_| {
            self.err(
                Some(line),
                format!("column `{}`: cannot read {cell:?}", &self.header[col]),
            )
        })
    }

    fn need<T: std::str::FromStr>(
        &self,
        line: u64,
        rec: &StringRecord,
        col: usize,
    ) -> Result<T, ReportError> {
        self.parse(line, rec, col)?.ok_or_else(|| {
            self.err(
                Some(line),
                format!("column `{}` is empty", &self.header[col]),
            )
        })
    }

    fn finite(
        &self,
        line: u64,
        rec: &StringRecord,
        col: usize,
    ) -> Result<Option<f64>, ReportError> {
        match self.parse::<f64>(line, rec, col)? {
            Some(v) if !v.is_finite() => Err(self.err(
                Some(line),
                format!("column `{}` must be a finite number", &self.header[col]),
            )),
            v => Ok(v),
        }
    }
}

/// Reads `sweep.csv` and `sweep_summary.csv` of `dir`.
pub fn load_sweep(dir: &Path) -> Result<SweepTable, ReportError> {
    let runs_t = Table::read(dir.join(SWEEP_CSV))?;
    let sum_t = Table::read(dir.join(SWEEP_SUMMARY_CSV))?;
    let params = runs_t.params("seed_index")?;
    if sum_t.params("n_ok")? != params {
        return Err(sum_t.err(
            Some(1),
            format!("parameter columns differ from {SWEEP_CSV}'s"),
        ));
    }
    let np = params.len();

    let [si, sd, st, dr, sr, bi] = [
        "seed_index",
        "seed",
        "status",
        "deepest_reorg",
        "stale_rate",
        "mean_block_interval_s",
    ]
    .map(|c| runs_t.col(c));
    let (si, sd, st, dr, sr, bi) = (si?, sd?, st?, dr?, sr?, bi?);
    let mut runs = Vec::with_capacity(runs_t.rows.len());
    for (line, rec) in &runs_t.rows {
        let status = rec.get(st).unwrap_or("");
        let ok = match status {
            "ok" => true,
            "failed" => false,
            other => {
                return Err(runs_t.err(
                    Some(*line),
                    format!("status must be `ok` or `failed`, got {other:?}"),
                ))
            }
        };
        runs.push(SweepRunRow {
            point: runs_t.need(*line, rec, 0)?,
            values: (1..=np)
                .map(|i| rec.get(i).unwrap_or("").to_string())
                .collect(),
            seed_index: runs_t.need(*line, rec, si)?,
            seed: runs_t.need(*line, rec, sd)?,
            ok,
            deepest_reorg: runs_t.parse(*line, rec, dr)?,
            stale_rate: runs_t.finite(*line, rec, sr)?,
            mean_block_interval_s: runs_t.finite(*line, rec, bi)?,
        });
    }

    let ci = |m: &str| -> Result<[usize; 3], ReportError> {
        Ok([
            sum_t.col(&format!("{m}_mean"))?,
            sum_t.col(&format!("{m}_ci95_low"))?,
            sum_t.col(&format!("{m}_ci95_high"))?,
        ])
    };
    let stale_cols = ci("stale_rate")?;
    let interval_cols = ci("mean_block_interval_s")?;
    let [nok, nf, ei, ms] = [
        "n_ok",
        "n_failed",
        "expected_interval_s",
        "model_stale_rate",
    ]
    .map(|c| sum_t.col(c));
    let (nok, nf, ei, ms) = (nok?, nf?, ei?, ms?);
    let mut points: Vec<SweepPointRow> = Vec::with_capacity(sum_t.rows.len());
    for (line, rec) in &sum_t.rows {
        let read_ci = |c: [usize; 3]| -> Result<MeanCi, ReportError> {
            Ok(MeanCi {
                mean: sum_t.finite(*line, rec, c[0])?,
                low: sum_t.finite(*line, rec, c[1])?,
                high: sum_t.finite(*line, rec, c[2])?,
            })
        };
        let point: usize = sum_t.need(*line, rec, 0)?;
        if points.last().is_some_and(|p| p.point >= point) {
            return Err(sum_t.err(
                Some(*line),
                "grid points must be listed in ascending order, each once".into(),
            ));
        }
        points.push(SweepPointRow {
            point,
            values: (1..=np)
                .map(|i| rec.get(i).unwrap_or("").to_string())
                .collect(),
            n_ok: sum_t.need(*line, rec, nok)?,
            n_failed: sum_t.need(*line, rec, nf)?,
            expected_interval_s: sum_t.finite(*line, rec, ei)?,
            model_stale_rate: sum_t.finite(*line, rec, ms)?,
            stale_rate: read_ci(stale_cols)?,
            mean_block_interval_s: read_ci(interval_cols)?,
        });
    }
    if let Some((line, r)) = runs_t
        .rows
        .iter()
        .zip(&runs)
        .find(|(_, r)| points.binary_search_by_key(&r.point, |p| p.point).is_err())
        .map(|((line, _), r)| (*line, r))
    {
        return Err(runs_t.err(
            Some(line),
            format!("grid point {} is not in {SWEEP_SUMMARY_CSV}", r.point),
        ));
    }
    Ok(SweepTable {
        params,
        runs,
        points,
    })
}

/// Reads the sweep CSVs of `dir` and writes `stale_rate`, `block_interval`
/// and `reorg_depths` (PNG and SVG) into `dir/charts/`. Returns the files
/// written, sorted.
pub fn plot_sweep(dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let table = load_sweep(dir)?;
    let out = dir.join(CHARTS_DIR);
    let mut written = write_chart(&StaleRate(&table), &out)?;
    written.extend(write_chart(&BlockInterval(&table), &out)?);
    written.extend(write_chart(&ReorgDepths(&table), &out)?);
    written.sort();
    Ok(written)
}

/// The last segment of a key path (`consensus.difficulty_bits` →
/// `difficulty_bits`), for short legend labels.
fn short_key(key: &str) -> &str {
    key.rsplit('.').next().unwrap_or(key)
}

/// How grid points map onto the x axis and into series.
struct Layout {
    /// The numeric parameter used as x, if any.
    x_param: Option<usize>,
    /// x of each point (by position in `table.points`).
    xs: Vec<f64>,
    /// Series: a label and point positions sorted by x.
    groups: Vec<(String, Vec<usize>)>,
}

impl Layout {
    /// The layout of the grid points with at least one successful run
    /// (points whose runs all failed have nothing to draw and must not
    /// stretch the axis).
    fn of(t: &SweepTable) -> Layout {
        let shown = || t.points.iter().enumerate().filter(|(_, p)| p.n_ok > 0);
        let x_param = (0..t.params.len())
            .find(|&j| shown().all(|(_, p)| p.values[j].parse::<f64>().is_ok_and(f64::is_finite)));
        let xs: Vec<f64> = t
            .points
            .iter()
            .map(|p| match x_param {
                Some(j) => p.values[j].parse().unwrap_or(f64::NAN),
                None => p.point as f64,
            })
            .collect();
        let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
        for (i, p) in shown() {
            let label = match x_param {
                Some(j) => t
                    .params
                    .iter()
                    .zip(&p.values)
                    .enumerate()
                    .filter(|(k, _)| *k != j)
                    .map(|(_, (k, v))| format!("{}={v}", short_key(k)))
                    .collect::<Vec<_>>()
                    .join(", "),
                None => String::new(),
            };
            match groups.iter_mut().find(|g| g.0 == label) {
                Some(g) => g.1.push(i),
                None => groups.push((label, vec![i])),
            }
        }
        for g in &mut groups {
            g.1.sort_by(|a, b| xs[*a].total_cmp(&xs[*b]).then(a.cmp(b)));
        }
        Layout {
            x_param,
            xs,
            groups,
        }
    }

    fn x_desc(&self, t: &SweepTable) -> String {
        match self.x_param {
            Some(j) => t.params[j].clone(),
            None => "grid point".into(),
        }
    }

    fn x_range(&self) -> (f64, f64) {
        let shown = || {
            self.groups
                .iter()
                .flat_map(|g| g.1.iter().map(|&i| self.xs[i]))
        };
        let lo = shown().fold(f64::INFINITY, f64::min);
        let hi = shown().fold(f64::NEG_INFINITY, f64::max);
        if lo.is_finite() {
            padded(lo, hi, 0.08)
        } else {
            (-1.0, 1.0)
        }
    }

    /// Horizontal nudge of series `g` so error bars of series at the same x
    /// do not hide each other.
    fn nudge(&self, g: usize) -> f64 {
        let n = self.groups.len();
        if n < 2 {
            return 0.0;
        }
        let (lo, hi) = self.x_range();
        (g as f64 - (n - 1) as f64 / 2.0) * (hi - lo) * 0.012
    }
}

fn series_color(g: usize) -> RGBColor {
    MINER_PALETTE[g % MINER_PALETTE.len()]
}

/// What a mean-with-CI chart plots for one point: measured mean, CI, and
/// the reference value (model or expected).
type Extract = fn(&SweepPointRow) -> (MeanCi, Option<f64>);

/// Shared drawing of `stale_rate` and `block_interval`.
struct MeanChart<'a> {
    table: &'a SweepTable,
    stem: &'static str,
    title: String,
    y_desc: &'static str,
    scale: f64,
    extract: Extract,
    measured: &'static str,
    reference: &'static str,
    notes: &'static [&'static str],
}

fn draw_mean_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    c: &MeanChart<'_>,
) -> Result<(), ReportError> {
    font::ensure_registered()?;
    let err = draw_err(c.stem);
    let t = c.table;
    let layout = Layout::of(t);
    let (plot, legend) = page(root, c.stem, &c.title)?;
    let vals: Vec<(MeanCi, Option<f64>)> = t.points.iter().map(c.extract).collect();
    let y_max = vals
        .iter()
        .flat_map(|(m, r)| [m.mean, m.high, *r])
        .flatten()
        .map(|v| v * c.scale)
        .fold(0.0f64, f64::max);
    let y_hi = if y_max > 0.0 { y_max * 1.12 } else { 1.0 };
    let (x_lo, x_hi) = layout.x_range();
    let mut chart = ChartBuilder::on(&plot)
        .house_frame()
        .build_cartesian_2d(x_lo..x_hi, 0f64..y_hi)
        .map_err(&err)?;
    let integer_x = layout.x_param.is_none() || layout.xs.iter().all(|x| x.fract() == 0.0);
    let x_fmt: fn(&f64) -> String = if integer_x {
        integer_label
    } else {
        number_label
    };
    chart
        .configure_mesh()
        .x_desc(layout.x_desc(t))
        .y_desc(c.y_desc)
        .x_labels(12)
        .y_labels(10)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&number_label)
        .house_style()
        .draw()
        .map_err(&err)?;
    if !vals.iter().any(|(m, _)| m.mean.is_some()) {
        draw_message(
            &chart.plotting_area().strip_coord_spec(),
            c.stem,
            "no successful runs",
        )?;
        return draw_legend(&legend, c.stem, None, &[]);
    }

    let mut entries = Vec::new();
    for (g, (label, members)) in layout.groups.iter().enumerate() {
        let color = series_color(g);
        // One series: the model gets a colour of its own; several: each
        // series' model is dashed in the series' colour.
        let ref_color = if layout.groups.len() == 1 {
            MINER_PALETTE[1]
        } else {
            color
        };
        let dx = layout.nudge(g);
        let reference: Vec<(f64, f64)> = members
            .iter()
            .filter_map(|&i| vals[i].1.map(|r| (layout.xs[i], r * c.scale)))
            .collect();
        draw_model_points(&mut chart, &reference, ref_color).map_err(&err)?;
        let measured: Vec<(f64, f64, MeanCi)> = members
            .iter()
            .filter_map(|&i| {
                vals[i]
                    .0
                    .mean
                    .map(|m| (layout.xs[i] + dx, m * c.scale, vals[i].0))
            })
            .collect();
        chart
            .draw_series(LineSeries::new(
                measured.iter().map(|&(x, y, _)| (x, y)),
                color.stroke_width(3),
            ))
            .map_err(&err)?;
        chart
            .draw_series(measured.iter().filter_map(|&(x, y, ci)| {
                Some(ErrorBar::new_vertical(
                    x,
                    ci.low? * c.scale,
                    y,
                    ci.high? * c.scale,
                    color.stroke_width(2),
                    16,
                ))
            }))
            .map_err(&err)?;
        chart
            .draw_series(
                measured
                    .iter()
                    .map(|&(x, y, _)| Circle::new((x, y), 6, color.filled())),
            )
            .map_err(&err)?;
        let prefix = if label.is_empty() {
            String::new()
        } else {
            format!("{label}:\n")
        };
        entries.push(LegendEntry::new(
            format!("{prefix}{}", c.measured),
            Marker::Dot(color),
        ));
        if layout.groups.len() == 1 {
            entries.push(LegendEntry::new(c.reference, Marker::Cross(ref_color)));
        }
    }
    if layout.groups.len() > 1 {
        entries.push(LegendEntry::new(
            format!("dashed, crosses:\n{}", c.reference),
            Marker::Cross(OTHER_COLOR),
        ));
    }
    entries.extend(c.notes.iter().map(|n| LegendEntry::new(*n, Marker::Blank)));
    entries.extend(failed_note(t));
    draw_legend(&legend, c.stem, None, &entries)
}

/// A legend note naming the grid points without a successful run.
fn failed_note(t: &SweepTable) -> Option<LegendEntry> {
    let failed: Vec<String> = t
        .points
        .iter()
        .filter(|p| p.n_ok == 0)
        .map(|p| p.point.to_string())
        .collect();
    match failed.len() {
        0 => None,
        1 => Some(format!("grid point {}:\nall runs failed", failed[0])),
        _ if failed.len() <= 6 => Some(format!(
            "grid points {}:\nall runs failed",
            failed.join(", ")
        )),
        n => Some(format!("{n} grid points:\nall runs failed")),
    }
    .map(|label| LegendEntry::new(label, Marker::Cross(STALE_COLOR)))
}

/// Runs per grid point, for titles: `n` if all points agree, else `a–b`.
fn runs_per_point(t: &SweepTable) -> String {
    let ok = || t.points.iter().map(|p| p.n_ok).filter(|&n| n > 0);
    let lo = ok().min().unwrap_or(0);
    let hi = ok().max().unwrap_or(0);
    if lo == hi {
        format!("{lo}")
    } else {
        format!("{lo}-{hi}")
    }
}

struct StaleRate<'a>(&'a SweepTable);

impl Chart for StaleRate<'_> {
    const STEM: &'static str = "stale_rate";

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        draw_stale_rate(root, self.0)
    }
}

/// Draws the `stale_rate` chart onto `root`.
pub fn draw_stale_rate<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    table: &SweepTable,
) -> Result<(), ReportError> {
    draw_mean_chart(
        root,
        &MeanChart {
            table,
            stem: StaleRate::STEM,
            title: format!(
                "Stale rate ({} runs per point, 95% CI)",
                runs_per_point(table)
            ),
            y_desc: "stale blocks / blocks mined (%)",
            scale: 100.0,
            extract: |p| (p.stale_rate, p.model_stale_rate),
            measured: "measured mean\n± 95% CI",
            reference: "model 1 - e^(-d/T)",
            notes: &[
                "d: median time for a",
                "block to reach 50%",
                "of the nodes (p50),",
                "mean over the runs",
                "T: expected interval",
            ],
        },
    )
}

struct BlockInterval<'a>(&'a SweepTable);

impl Chart for BlockInterval<'_> {
    const STEM: &'static str = "block_interval";

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        draw_block_interval(root, self.0)
    }
}

/// Draws the `block_interval` chart onto `root`.
pub fn draw_block_interval<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    table: &SweepTable,
) -> Result<(), ReportError> {
    draw_mean_chart(
        root,
        &MeanChart {
            table,
            stem: BlockInterval::STEM,
            title: format!(
                "Main-chain block interval ({} runs per point, 95% CI)",
                runs_per_point(table)
            ),
            y_desc: "mean block interval (s)",
            scale: 1.0,
            extract: |p| (p.mean_block_interval_s, p.expected_interval_s),
            measured: "measured mean\n± 95% CI",
            reference: "expected interval\n(all hashrate)",
            notes: &["stale blocks stretch", "the main chain's", "interval"],
        },
    )
}

struct ReorgDepths<'a>(&'a SweepTable);

impl Chart for ReorgDepths<'_> {
    const STEM: &'static str = "reorg_depths";

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        draw_sweep_reorg_depths(root, self.0)
    }
}

/// Draws the `reorg_depths` chart (deepest reorg per run, grouped bars per
/// grid point) onto `root`.
pub fn draw_sweep_reorg_depths<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    t: &SweepTable,
) -> Result<(), ReportError> {
    font::ensure_registered()?;
    const STEM: &str = ReorgDepths::STEM;
    let err = draw_err(STEM);
    // counts[point position][depth]
    let pos: BTreeMap<usize, usize> = t
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| (p.point, i))
        .collect();
    let shown: Vec<usize> = (0..t.points.len())
        .filter(|&i| t.points[i].n_ok > 0)
        .collect();
    let mut counts: Vec<BTreeMap<u32, u32>> = vec![BTreeMap::new(); t.points.len()];
    for r in t.runs.iter().filter(|r| r.ok) {
        if let (Some(&i), Some(d)) = (pos.get(&r.point), r.deepest_reorg) {
            *counts[i].entry(d).or_default() += 1;
        }
    }
    let max_depth = counts
        .iter()
        .filter_map(|c| c.keys().next_back().copied())
        .max();
    let (plot, legend) = page(root, STEM, "Deepest reorg per run")?;
    let d_hi = max_depth.unwrap_or(2).max(2);
    let y_max = counts
        .iter()
        .flat_map(|c| c.values().copied())
        .max()
        .unwrap_or(0);
    let y_hi = (y_max + y_max / 8 + 1).max(2);
    let mut chart = ChartBuilder::on(&plot)
        .house_frame()
        .build_cartesian_2d(-0.5f64..d_hi as f64 + 0.5, 0f64..y_hi as f64)
        .map_err(&err)?;
    chart
        .configure_mesh()
        .x_desc("deepest reorg in the run (blocks; 0 = none)")
        .y_desc("runs")
        .x_labels((d_hi as usize + 1).min(20))
        .y_labels(10)
        .x_label_formatter(&integer_label)
        .y_label_formatter(&integer_label)
        .disable_x_mesh()
        .house_style()
        .draw()
        .map_err(&err)?;
    if max_depth.is_none() {
        draw_message(
            &chart.plotting_area().strip_coord_spec(),
            STEM,
            "no successful runs",
        )?;
        return draw_legend(&legend, STEM, None, &[]);
    }
    let width = 0.8 / shown.len().max(1) as f64;
    // Bars drawn by hand: plotters' `Histogram` buckets through a `HashMap`,
    // whose random order would make the SVG differ from run to run.
    for (slot, &i) in shown.iter().enumerate() {
        let color = PALETTE_20[slot % PALETTE_20.len()];
        chart
            .draw_series(counts[i].iter().map(|(&d, &runs)| {
                let x0 = d as f64 - 0.4 + slot as f64 * width;
                Rectangle::new([(x0, runs as f64), (x0 + width, 0.0)], color.filled())
            }))
            .map_err(&err)?;
    }
    let heading = if t.params.is_empty() {
        None
    } else {
        Some(
            t.params
                .iter()
                .map(|k| short_key(k))
                .collect::<Vec<_>>()
                .join(", "),
        )
    };
    let mut entries: Vec<LegendEntry> = shown
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let p = &t.points[i];
            let label = if p.values.is_empty() {
                "all runs".to_string()
            } else {
                p.values.join(", ")
            };
            LegendEntry::new(label, Marker::Boxed(PALETTE_20[k % PALETTE_20.len()], 1.0))
        })
        .collect();
    entries.extend(failed_note(t));
    draw_legend(&legend, STEM, heading.as_deref(), &entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    fn temp_dir(tag: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("forklab-sweep-charts-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    const RUNS: &str =
        "point,a.b,seed_index,seed,status,error,stale_rate,deepest_reorg,mean_block_interval_s\n\
        0,10,0,11,ok,,0.5,2,1.5\n\
        0,10,1,12,failed,bad,,,\n\
        1,12,0,13,ok,,0.1,1,4.2\n";
    const SUMMARY: &str = "point,a.b,n_ok,n_failed,expected_interval_s,model_stale_rate,stale_rate_mean,stale_rate_ci95_low,stale_rate_ci95_high,mean_block_interval_s_mean,mean_block_interval_s_ci95_low,mean_block_interval_s_ci95_high\n\
        0,10,1,1,1.000000,0.4,0.5,,,1.5,,\n\
        1,12,1,0,4.000000,0.1,0.1,,,4.2,,\n";

    #[test]
    fn loads_and_plots_a_sweep() {
        let d = temp_dir("ok");
        write(&d, SWEEP_CSV, RUNS);
        write(&d, SWEEP_SUMMARY_CSV, SUMMARY);
        let t = load_sweep(&d).unwrap();
        assert_eq!(t.params, ["a.b"]);
        assert_eq!(t.runs.len(), 3);
        assert!(!t.runs[1].ok);
        assert_eq!(t.runs[2].deepest_reorg, Some(1));
        assert_eq!(t.points[1].expected_interval_s, Some(4.0));
        assert_eq!(t.points[0].stale_rate.low, None);
        let files = plot_sweep(&d).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "block_interval.png",
                "block_interval.svg",
                "reorg_depths.png",
                "reorg_depths.svg",
                "stale_rate.png",
                "stale_rate.svg"
            ]
        );
        let svg1 = std::fs::read(d.join("charts/stale_rate.svg")).unwrap();
        plot_sweep(&d).unwrap();
        assert_eq!(
            svg1,
            std::fs::read(d.join("charts/stale_rate.svg")).unwrap()
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn bad_files_name_the_problem() {
        let d = temp_dir("bad");
        assert!(matches!(load_sweep(&d), Err(ReportError::Missing { .. })));
        write(&d, SWEEP_CSV, &RUNS.replace("failed,bad", "maybe,bad"));
        write(&d, SWEEP_SUMMARY_CSV, SUMMARY);
        let e = load_sweep(&d).unwrap_err().to_string();
        assert!(
            e.contains("sweep.csv line 3") && e.contains("status"),
            "{e}"
        );
        write(&d, SWEEP_CSV, RUNS);
        write(
            &d,
            SWEEP_SUMMARY_CSV,
            &SUMMARY.replace("a.b,n_ok", "x.y,n_ok"),
        );
        let e = load_sweep(&d).unwrap_err().to_string();
        assert!(e.contains("parameter columns"), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn layout_groups_by_the_other_parameters() {
        let point = |i: usize, v: [&str; 2]| SweepPointRow {
            point: i,
            values: v.iter().map(|s| s.to_string()).collect(),
            n_ok: 1,
            n_failed: 0,
            expected_interval_s: None,
            model_stale_rate: None,
            stale_rate: MeanCi::default(),
            mean_block_interval_s: MeanCi::default(),
        };
        let t = SweepTable {
            params: vec!["network.kind".into(), "consensus.bits".into()],
            runs: vec![],
            points: vec![
                point(0, ["ring", "14"]),
                point(1, ["ring", "12"]),
                point(2, ["mesh", "14"]),
                point(3, ["mesh", "12"]),
            ],
        };
        let l = Layout::of(&t);
        assert_eq!(l.x_param, Some(1));
        assert_eq!(l.xs, [14.0, 12.0, 14.0, 12.0]);
        assert_eq!(
            l.groups,
            [
                ("kind=ring".to_string(), vec![1, 0]),
                ("kind=mesh".to_string(), vec![3, 2])
            ]
        );
    }
}
