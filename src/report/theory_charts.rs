//! Charts that put measured attack outcomes next to the closed forms of
//! [`crate::theory`].
//!
//! | stem | input | shows |
//! |---|---|---|
//! | `relative_revenue` | [`RevenuePoint`]s | a selfish miner's share of main-chain blocks vs its hashrate share α, with 95% CI error bars, one colour per γ; Eyal & Sirer's `R(α, γ)` as a line in the same colour, the honest share `y = α` dashed, and the profitability threshold `(1−γ)/(3−2γ)` as a diamond on it |
//! | `double_spend_success` | [`DoubleSpendPoint`]s | the share of successful double-spend attempts vs the merchant's confirmations z (log scale), with 95% Wilson intervals, one colour per attacker share q; the exact race probability for the attacker's model (with its give-up cutoff when known, and its pre-mined block for `premine: 1`) dashed with crosses, and, unless a series of its own shows it, the other model (Rosenfeld's pre-mined attacker for a no-premine series, and vice versa) dotted |
//!
//! The inputs are plain rows, so they can come from a sweep directory
//! ([`load_theory_points`] reads `sweep.csv`), from single runs or from a
//! notebook. Grid points are grouped into series by γ (resp. by q and the
//! cutoff) and sorted by x, so the row order does not matter.
//!
//! Invariants as for the other charts: a fixed canvas, the embedded font,
//! no hash-map iteration, so the same rows give byte-identical PNG and SVG
//! files; points with a non-finite coordinate are left out rather than
//! stretching the axes.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::charts::{write_chart, Chart};
use super::style::*;
use super::sweep_charts::{SWEEP_CSV, SWEEP_SUMMARY_CSV};
use super::{font, ReportError, CHARTS_DIR};
use crate::theory::{
    premined_race_success, premined_race_success_with_cutoff, selfish_profit_threshold,
    selfish_relative_revenue, wilson_interval,
};

/// File stem of the relative-revenue chart.
pub const RELATIVE_REVENUE: &str = "relative_revenue";
/// File stem of the double-spend chart.
pub const DOUBLE_SPEND_SUCCESS: &str = "double_spend_success";

/// The normal quantile of a two-sided 95% interval.
const Z_95: f64 = 1.96;

/// One measured selfish-mining outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct RevenuePoint {
    /// The attacker's hashrate share α.
    pub alpha: f64,
    /// The explicit tie-breaking share γ, or `None` when it emerged from
    /// the network (no closed form is drawn for such a series).
    pub gamma: Option<f64>,
    /// Measured relative revenue: the attacker's share of main-chain blocks.
    pub measured: f64,
    /// Lower end of its 95% confidence interval, if known.
    pub ci_low: Option<f64>,
    /// Upper end of its 95% confidence interval, if known.
    pub ci_high: Option<f64>,
}

/// Double-spend attempts at one attacker share and confirmation count.
#[derive(Clone, Debug, PartialEq)]
pub struct DoubleSpendPoint {
    /// The attacker's hashrate share q.
    pub q: f64,
    /// Confirmations z the merchant waited for.
    pub z: u32,
    /// The attacker's give-up cutoff (blocks behind), if known; `None`
    /// draws the race without a cutoff.
    pub give_up_behind: Option<u32>,
    /// Blocks the attacker pre-mined before each payment: 0 (the race
    /// starts with the payment) or 1 (Rosenfeld's attacker).
    pub premine: u32,
    /// Successful attempts.
    pub successes: u64,
    /// Finished attempts (released or given up).
    pub attempts: u64,
}

/// What [`load_theory_points`] found in a sweep directory.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TheoryPoints {
    /// One point per grid point with a measured relative revenue.
    pub revenue: Vec<RevenuePoint>,
    /// One point per grid point with double-spend attempts.
    pub double_spend: Vec<DoubleSpendPoint>,
}

/// Writes `relative_revenue.png` and `.svg` into `out_dir`.
pub fn relative_revenue(
    points: &[RevenuePoint],
    out_dir: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    write_chart(&RelativeRevenue(points), out_dir)
}

/// Writes `double_spend_success.png` and `.svg` into `out_dir`.
pub fn double_spend_success(
    points: &[DoubleSpendPoint],
    out_dir: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    write_chart(&DoubleSpendSuccess(points), out_dir)
}

/// Reads a sweep directory ([`load_theory_points`]) and writes into
/// `dir/charts/` the theory charts it has data for (none is not an error).
/// Returns the files written, sorted.
pub fn plot_theory(dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let t = load_theory_points(dir)?;
    let out = dir.join(CHARTS_DIR);
    let mut written = Vec::new();
    if !t.revenue.is_empty() {
        written.extend(relative_revenue(&t.revenue, &out)?);
    }
    if !t.double_spend.is_empty() {
        written.extend(double_spend_success(&t.double_spend, &out)?);
    }
    written.sort();
    Ok(written)
}

struct RelativeRevenue<'a>(&'a [RevenuePoint]);

impl Chart for RelativeRevenue<'_> {
    const STEM: &'static str = RELATIVE_REVENUE;

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        draw_relative_revenue(root, self.0)
    }
}

struct DoubleSpendSuccess<'a>(&'a [DoubleSpendPoint]);

impl Chart for DoubleSpendSuccess<'_> {
    const STEM: &'static str = DOUBLE_SPEND_SUCCESS;

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        draw_double_spend_success(root, self.0)
    }
}

fn series_color(g: usize) -> RGBColor {
    MINER_PALETTE[g % MINER_PALETTE.len()]
}

/// Horizontal nudge of series `g` of `n` so error bars at the same x stay
/// apart.
fn nudge(g: usize, n: usize, span: f64) -> f64 {
    if n < 2 {
        0.0
    } else {
        (g as f64 - (n - 1) as f64 / 2.0) * span * 0.008
    }
}

/// γ as a sortable key: explicit values first, ascending, then "emergent".
fn gamma_key(g: Option<f64>) -> (u8, u64) {
    match g {
        Some(v) => (0, (v.max(0.0) * 1e9).round() as u64),
        None => (1, 0),
    }
}

fn gamma_label(g: Option<f64>) -> String {
    match g {
        Some(v) => format!("γ = {}", number_label(&v)),
        None => "γ from the network".to_string(),
    }
}

/// One γ's points: the γ and its members (sorted by α before drawing).
type RevenueSeries<'a> = (Option<f64>, Vec<&'a RevenuePoint>);

/// Draws the `relative_revenue` chart onto `root`.
pub fn draw_relative_revenue<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    points: &[RevenuePoint],
) -> Result<(), ReportError> {
    font::ensure_registered()?;
    const STEM: &str = RELATIVE_REVENUE;
    let err = draw_err(STEM);
    let mut series: BTreeMap<(u8, u64), RevenueSeries> = BTreeMap::new();
    for p in points
        .iter()
        .filter(|p| p.alpha.is_finite() && p.measured.is_finite())
    {
        series
            .entry(gamma_key(p.gamma))
            .or_insert_with(|| (p.gamma, Vec::new()))
            .1
            .push(p);
    }
    for (_, members) in series.values_mut() {
        members.sort_by(|a, b| a.alpha.total_cmp(&b.alpha));
    }
    let (plot, legend) = page(
        root,
        STEM,
        "Selfish mining: relative revenue vs hashrate share",
    )?;
    let (x_lo, x_hi) = (0.0, 0.5);
    let mut chart = ChartBuilder::on(&plot)
        .house_frame()
        .build_cartesian_2d(x_lo..x_hi, 0f64..1.0)
        .map_err(&err)?;
    chart
        .configure_mesh()
        .x_desc("attacker hashrate share α")
        .y_desc("attacker share of main-chain blocks")
        .x_labels(11)
        .y_labels(11)
        .x_label_formatter(&number_label)
        .y_label_formatter(&number_label)
        .house_style()
        .draw()
        .map_err(&err)?;

    // The honest share: what the attacker would earn by mining honestly.
    chart
        .draw_series(DashedLineSeries::new(
            vec![(0.0, 0.0), (0.5, 0.5)],
            14,
            10,
            OTHER_COLOR.stroke_width(3),
        ))
        .map_err(&err)?;
    let curve = |gamma: f64| -> Vec<(f64, f64)> {
        (0..=200)
            .map(|i| {
                let a = i as f64 * 0.0025;
                (a, selfish_relative_revenue(a, gamma))
            })
            .collect()
    };
    let n = series.len();
    let mut entries = Vec::new();
    let mut any_curve = false;
    for (g, (gamma, members)) in series.values().enumerate() {
        let color = series_color(g);
        if let Some(gamma) = *gamma {
            any_curve = true;
            chart
                .draw_series(LineSeries::new(curve(gamma), color.stroke_width(3)))
                .map_err(&err)?;
            let t = selfish_profit_threshold(gamma);
            if t.is_finite() && t > 0.0 {
                chart
                    .draw_series(std::iter::once(TriangleMarker::new(
                        (t, t),
                        10,
                        color.filled(),
                    )))
                    .map_err(&err)?;
            }
        }
        let dx = nudge(g, n, x_hi - x_lo);
        chart
            .draw_series(members.iter().filter_map(|p| {
                let (lo, hi) = (p.ci_low?, p.ci_high?);
                (lo.is_finite() && hi.is_finite()).then(|| {
                    ErrorBar::new_vertical(
                        p.alpha + dx,
                        lo.clamp(0.0, 1.0),
                        p.measured.clamp(0.0, 1.0),
                        hi.clamp(0.0, 1.0),
                        color.stroke_width(2),
                        16,
                    )
                })
            }))
            .map_err(&err)?;
        chart
            .draw_series(members.iter().map(|p| {
                Circle::new(
                    (p.alpha + dx, p.measured.clamp(0.0, 1.0)),
                    7,
                    color.filled(),
                )
            }))
            .map_err(&err)?;
        entries.push(LegendEntry::new(gamma_label(*gamma), Marker::Dot(color)));
    }
    if series.is_empty() {
        draw_message(
            &chart.plotting_area().strip_coord_spec(),
            STEM,
            "no measured points",
        )?;
    }
    entries.push(LegendEntry::new("dots: measured,\n95% CI", Marker::Blank));
    if any_curve {
        entries.push(LegendEntry::new(
            "Eyal & Sirer\nR(α, γ)",
            Marker::Line(if n == 1 { series_color(0) } else { INK }),
        ));
        entries.push(LegendEntry::new(
            "▲ pays above\n(1-γ)/(3-2γ)",
            Marker::Blank,
        ));
    }
    entries.push(LegendEntry::new("honest: y = α", Marker::Line(OTHER_COLOR)));
    draw_legend(&legend, STEM, None, &entries)
}

/// Series key of a double-spend point: q (in 1e-9 steps), the cutoff and
/// the pre-mine.
fn ds_key(p: &DoubleSpendPoint) -> (u64, u32, u32) {
    (
        (p.q.max(0.0) * 1e9).round() as u64,
        p.give_up_behind.unwrap_or(u32::MAX),
        p.premine,
    )
}

/// The exact race probability the chart overlays for one series: with
/// `premine` pre-mined blocks, with the cutoff when known.
fn race_model(q: f64, z: u32, give_up_behind: Option<u32>, premine: u32) -> f64 {
    match give_up_behind {
        Some(g) => premined_race_success_with_cutoff(q, z, g, premine),
        None => premined_race_success(q, z, premine),
    }
}

/// The pre-mine a series is *not* drawn with (its other curve).
fn other_premine(premine: u32) -> u32 {
    u32::from(premine == 0)
}

/// A thin dotted curve: the other attacker model of a series.
fn draw_other_model<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<'_, DB, CT>,
    points: &[(f64, f64)],
    color: RGBColor,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    chart.draw_series(DashedLineSeries::new(
        points.to_vec(),
        4,
        8,
        color.stroke_width(2),
    ))?;
    Ok(())
}

/// One z of one series after pooling rows: successes, attempts.
type Pooled = BTreeMap<u32, (u64, u64)>;

/// A double-spend series: q, the cutoff, the pre-mine and its pooled points.
type DsSeries = (f64, Option<u32>, u32, Pooled);

/// A log-axis tick label: 1-2-5 steps of each decade (`0.5`, `0.2`,
/// `0.1`, `0.05`, …, `1e-4`), nothing for the other ticks, so every decade
/// is labelled and the labels do not crowd.
fn log_tick_label(v: &f64) -> String {
    if v.is_nan() || *v <= 0.0 {
        return String::new();
    }
    let exp = v.log10().floor();
    let mantissa = v / 10f64.powf(exp);
    let lead = mantissa.round();
    if (mantissa - lead).abs() > 0.02 || ![1.0, 2.0, 5.0].contains(&lead) {
        return String::new();
    }
    if *v >= 0.001 {
        number_label(v)
    } else {
        format!("{lead:.0}e{exp:.0}")
    }
}

/// Draws the `double_spend_success` chart onto `root`.
pub fn draw_double_spend_success<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    points: &[DoubleSpendPoint],
) -> Result<(), ReportError> {
    font::ensure_registered()?;
    const STEM: &str = DOUBLE_SPEND_SUCCESS;
    let err = draw_err(STEM);
    // Series by (q, cutoff); rows with the same z are pooled.
    let mut series: BTreeMap<(u64, u32, u32), DsSeries> = BTreeMap::new();
    for p in points
        .iter()
        .filter(|p| p.q.is_finite() && (0.0..=1.0).contains(&p.q) && p.attempts > 0)
    {
        let e = series
            .entry(ds_key(p))
            .or_insert_with(|| (p.q, p.give_up_behind, p.premine, BTreeMap::new()));
        let c = e.3.entry(p.z).or_default();
        c.0 += p.successes.min(p.attempts);
        c.1 += p.attempts;
    }
    let z_max = series
        .values()
        .filter_map(|s| s.3.keys().next_back().copied())
        .max()
        .unwrap_or(6)
        .max(1);
    let z_min = series
        .values()
        .filter_map(|s| s.3.keys().next().copied())
        .min()
        .unwrap_or(0)
        .min(z_max - 1);
    // Everything drawn, for the y range (log scale: positive values only).
    let mut lows: Vec<f64> = Vec::new();
    for (q, g, premine, pooled) in series.values() {
        for z in z_min..=z_max {
            lows.push(race_model(*q, z, *g, *premine));
            lows.push(race_model(*q, z, *g, other_premine(*premine)));
        }
        for &(s, n) in pooled.values() {
            lows.push(s as f64 / n as f64);
            lows.push(wilson_interval(s, n, Z_95).0);
        }
    }
    let smallest = lows
        .into_iter()
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold(1.0f64, f64::min);
    let y_lo = 10f64
        .powf((smallest / 2.0).max(1e-7).log10().floor())
        .min(0.1);
    let (plot, legend) = page(root, STEM, "Double spend: success rate vs confirmations")?;
    let (x_lo, x_hi) = (z_min as f64 - 0.5, z_max as f64 + 0.5);
    let mut chart = ChartBuilder::on(&plot)
        .house_frame()
        .build_cartesian_2d(x_lo..x_hi, (y_lo..1.0f64).log_scale())
        .map_err(&err)?;
    chart
        .configure_mesh()
        .x_desc("confirmations z the merchant waited for")
        .y_desc("successful attempts (log scale)")
        .x_labels((z_max - z_min + 1).min(20) as usize)
        .y_labels(40)
        .x_label_formatter(&integer_label)
        .y_label_formatter(&log_tick_label)
        .disable_x_mesh()
        .house_style()
        .draw()
        .map_err(&err)?;
    if series.is_empty() {
        draw_message(
            &chart.plotting_area().strip_coord_spec(),
            STEM,
            "no attempts",
        )?;
        return draw_legend(&legend, STEM, None, &[]);
    }
    let n = series.len();
    let mut entries = Vec::new();
    let mut any_zero = false;
    let mut any_dotted = false;
    let clamp = |v: f64| v.clamp(y_lo, 1.0);
    for (g, (q, cutoff, premine, pooled)) in series.values().enumerate() {
        let color = series_color(g);
        let (first, last) = (
            *pooled.keys().next().expect("a series has a point"),
            *pooled.keys().next_back().expect("a series has a point"),
        );
        let curve = |premine: u32| -> Vec<(f64, f64)> {
            (first..=last)
                .map(|z| (z as f64, race_model(*q, z, *cutoff, premine)))
                .filter(|(_, v)| v.is_finite() && *v > 0.0)
                .map(|(z, v)| (z, clamp(v)))
                .collect()
        };
        // The other attacker model, unless a series of its own shows it.
        let other = other_premine(*premine);
        let shown = series.contains_key(&(
            (q.max(0.0) * 1e9).round() as u64,
            cutoff.unwrap_or(u32::MAX),
            other,
        ));
        if !shown {
            draw_other_model(&mut chart, &curve(other), color).map_err(&err)?;
            any_dotted = true;
        }
        draw_model_points(&mut chart, &curve(*premine), color).map_err(&err)?;
        let dx = nudge(g, n, x_hi - x_lo) * 2.0;
        chart
            .draw_series(pooled.iter().map(|(&z, &(s, t))| {
                let (lo, hi) = wilson_interval(s, t, Z_95);
                let mid = if s == 0 { y_lo } else { s as f64 / t as f64 };
                ErrorBar::new_vertical(
                    z as f64 + dx,
                    clamp(lo),
                    clamp(mid),
                    clamp(hi),
                    color.stroke_width(2),
                    16,
                )
            }))
            .map_err(&err)?;
        for (&z, &(s, t)) in pooled {
            let x = z as f64 + dx;
            if s == 0 {
                any_zero = true;
                chart
                    .draw_series(std::iter::once(Circle::new(
                        (x, y_lo),
                        7,
                        color.stroke_width(3),
                    )))
                    .map_err(&err)?;
            } else {
                chart
                    .draw_series(std::iter::once(Circle::new(
                        (x, clamp(s as f64 / t as f64)),
                        7,
                        color.filled(),
                    )))
                    .map_err(&err)?;
            }
        }
        let attempts: u64 = pooled.values().map(|c| c.1).sum();
        let cut = match cutoff {
            Some(c) => format!(", give up {c}"),
            None => String::new(),
        };
        let pre = if *premine > 0 {
            "one block pre-mined\n"
        } else {
            ""
        };
        entries.push(LegendEntry::new(
            format!("q = {}{cut}\n{pre}{attempts} attempts", number_label(q)),
            Marker::Dot(color),
        ));
    }
    entries.push(LegendEntry::new(
        "dots: measured,\n95% Wilson interval",
        Marker::Blank,
    ));
    if any_zero {
        entries.push(LegendEntry::new(
            "hollow: no success\n(drawn at the bottom)",
            Marker::Blank,
        ));
    }
    entries.push(LegendEntry::new(
        "dashed, crosses:\nexact block race",
        Marker::Cross(if n == 1 { series_color(0) } else { INK }),
    ));
    if any_dotted {
        let all_premined = series.values().all(|s| s.2 > 0);
        let none_premined = series.values().all(|s| s.2 == 0);
        entries.push(LegendEntry::new(
            if all_premined {
                "dotted: the same race\nwithout the pre-mined\nblock"
            } else if none_premined {
                "dotted: Rosenfeld's\nattacker (one block\npre-mined)"
            } else {
                "dotted: the other\nmodel (pre-mined or\nnot)"
            },
            Marker::Blank,
        ));
    }
    draw_legend(&legend, STEM, None, &entries)
}

/// A CSV file read whole: header and records with their line numbers.
struct Csv {
    path: PathBuf,
    header: Vec<String>,
    rows: Vec<(u64, csv::StringRecord)>,
}

impl Csv {
    fn read(path: PathBuf) -> Result<Csv, ReportError> {
        if !path.is_file() {
            return Err(ReportError::Missing { path });
        }
        let file = File::open(&path).map_err(|source| ReportError::Io {
            path: path.clone(),
            source,
        })?;
        let mut r = csv::Reader::from_reader(std::io::BufReader::new(file));
        let csv_err = |e: csv::Error| ReportError::Csv {
            path: path.clone(),
            line: e.position().map(|p| p.line()),
            message: e.to_string(),
        };
        let header = r
            .headers()
            .map_err(csv_err)?
            .iter()
            .map(String::from)
            .collect();
        let mut rows = Vec::new();
        for rec in r.records() {
            let rec = rec.map_err(csv_err)?;
            rows.push((rec.position().map_or(0, |p| p.line()), rec));
        }
        Ok(Csv { path, header, rows })
    }

    fn err(&self, line: Option<u64>, message: String) -> ReportError {
        ReportError::Csv {
            path: self.path.clone(),
            line,
            message,
        }
    }

    fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// A per-run column `metric`, or else a swept-parameter column whose
    /// key path ends in `.param` (e.g. `adversaries[0].share`).
    fn metric_or_param(&self, metric: &str, param: &str) -> Option<usize> {
        self.col(metric).or_else(|| {
            let suffix = format!(".{param}");
            self.header.iter().position(|h| h.ends_with(&suffix))
        })
    }

    fn cell<T: std::str::FromStr>(
        &self,
        line: u64,
        rec: &csv::StringRecord,
        col: usize,
    ) -> Result<Option<T>, ReportError> {
        let cell = rec.get(col).unwrap_or("").trim();
        if cell.is_empty() {
            return Ok(None);
        }
        cell.parse().map(Some).map_err(|_| {
            self.err(
                Some(line),
                format!("column `{}`: cannot read {cell:?}", self.header[col]),
            )
        })
    }
}

/// The per-run `sweep.csv` columns [`load_theory_points`] reads.
pub mod columns {
    /// The attacker's resolved hashrate share (α, or q for double spends).
    pub const ATTACKER_SHARE: &str = "attacker_share";
    /// The explicit γ of a selfish attacker (empty when emergent).
    pub const ATTACKER_GAMMA: &str = "attacker_gamma";
    /// The attacker's share of main-chain blocks.
    pub const RELATIVE_REVENUE: &str = "attacker_relative_revenue";
    /// Finished double-spend attempts.
    pub const DS_ATTEMPTS: &str = "double_spend_attempts";
    /// Successful double-spend attempts.
    pub const DS_SUCCESSES: &str = "double_spend_successes";
    /// The merchant's confirmations z.
    pub const DS_CONFIRMATIONS: &str = "double_spend_confirmations";
    /// The attacker's give-up cutoff.
    pub const DS_GIVE_UP: &str = "double_spend_give_up_behind";
    /// Blocks the attacker pre-mined before each payment.
    pub const DS_PREMINE: &str = "double_spend_premine";
}

/// Per grid point: the values of successful runs.
#[derive(Default)]
struct PointAcc {
    share: Option<f64>,
    gamma: Option<f64>,
    revenue: Vec<f64>,
    confirmations: Option<u32>,
    give_up: Option<u32>,
    premine: Option<u32>,
    attempts: u64,
    successes: u64,
    has_attempts: bool,
}

/// Reads `sweep.csv` of a sweep directory and turns its adversary columns
/// into chart points, one per grid point with successful runs:
///
/// - a [`RevenuePoint`] where `attacker_relative_revenue` has values: the
///   mean over the point's runs, with the 95% CI from `sweep_summary.csv`
///   (`attacker_relative_revenue_ci95_low`/`_high`) when it has them, else
///   `mean ± 1.96·sd/√n`;
/// - a [`DoubleSpendPoint`] where `double_spend_attempts` has values:
///   attempts and successes summed over the point's runs.
///
/// α (or q), γ, z and the cutoff come from the per-run columns named in
/// [`columns`] or, failing those, from a swept parameter whose key ends in
/// `.share`, `.gamma`, `.confirmations` or `.give_up_behind`. A file with
/// neither metric gives no points; one with a metric but no way to tell
/// the attacker's share is a [`ReportError::Csv`] that says what to add.
pub fn load_theory_points(dir: &Path) -> Result<TheoryPoints, ReportError> {
    use columns::*;
    let t = Csv::read(dir.join(SWEEP_CSV))?;
    let rev_col = t.col(RELATIVE_REVENUE);
    let att_col = t.col(DS_ATTEMPTS);
    if rev_col.is_none() && att_col.is_none() {
        return Ok(TheoryPoints::default());
    }
    let need = |name: &str| {
        t.col(name)
            .ok_or_else(|| t.err(Some(1), format!("missing column `{name}`")))
    };
    let (point_c, status_c) = (need("point")?, need("status")?);
    let share_c = t.metric_or_param(ATTACKER_SHARE, "share");
    let gamma_c = t.metric_or_param(ATTACKER_GAMMA, "gamma");
    let z_c = t.metric_or_param(DS_CONFIRMATIONS, "confirmations");
    let give_c = t.metric_or_param(DS_GIVE_UP, "give_up_behind");
    let premine_c = t.metric_or_param(DS_PREMINE, "premine");
    let succ_c = t.col(DS_SUCCESSES);

    let mut acc: BTreeMap<usize, PointAcc> = BTreeMap::new();
    for (line, rec) in &t.rows {
        let line = *line;
        if rec.get(status_c) != Some("ok") {
            continue;
        }
        let point: usize = t
            .cell(line, rec, point_c)?
            .ok_or_else(|| t.err(Some(line), "column `point` is empty".into()))?;
        let a = acc.entry(point).or_default();
        if let Some(c) = share_c {
            a.share = t.cell(line, rec, c)?.or(a.share);
        }
        if let Some(c) = gamma_c {
            a.gamma = t.cell(line, rec, c)?.or(a.gamma);
        }
        if let Some(c) = z_c {
            a.confirmations = t.cell(line, rec, c)?.or(a.confirmations);
        }
        if let Some(c) = give_c {
            a.give_up = t.cell(line, rec, c)?.or(a.give_up);
        }
        if let Some(c) = premine_c {
            a.premine = t.cell(line, rec, c)?.or(a.premine);
        }
        if let Some(c) = rev_col {
            if let Some(v) = t.cell::<f64>(line, rec, c)?.filter(|v| v.is_finite()) {
                a.revenue.push(v);
            }
        }
        if let Some(c) = att_col {
            if let Some(n) = t.cell::<u64>(line, rec, c)? {
                a.has_attempts = true;
                a.attempts += n;
                let s = match succ_c {
                    Some(sc) => t.cell::<u64>(line, rec, sc)?.unwrap_or(0),
                    None => return Err(t.err(Some(1), format!("missing column `{DS_SUCCESSES}`"))),
                };
                a.successes += s;
            }
        }
    }

    let summary_ci = read_summary_ci(dir)?;
    let mut out = TheoryPoints::default();
    for (point, a) in &acc {
        let wants_share = !a.revenue.is_empty() || (a.has_attempts && a.attempts > 0);
        if !wants_share {
            continue;
        }
        let share = a.share.ok_or_else(|| {
            t.err(
                Some(1),
                format!(
                    "grid point {point}: no column gives the attacker's hashrate share \
                     (add `{ATTACKER_SHARE}` or sweep `adversaries[0].share`)"
                ),
            )
        })?;
        if !a.revenue.is_empty() {
            let n = a.revenue.len() as f64;
            let mean = a.revenue.iter().sum::<f64>() / n;
            let (lo, hi) = match summary_ci.get(point) {
                Some(&(lo, hi)) => (Some(lo), Some(hi)),
                None if a.revenue.len() >= 2 => {
                    let ss: f64 = a.revenue.iter().map(|v| (v - mean) * (v - mean)).sum();
                    let half = Z_95 * (ss / (n - 1.0)).sqrt() / n.sqrt();
                    (Some(mean - half), Some(mean + half))
                }
                None => (None, None),
            };
            out.revenue.push(RevenuePoint {
                alpha: share,
                gamma: a.gamma,
                measured: mean,
                ci_low: lo,
                ci_high: hi,
            });
        }
        if a.has_attempts && a.attempts > 0 {
            let z = a.confirmations.ok_or_else(|| {
                t.err(
                    Some(1),
                    format!(
                        "grid point {point}: no column gives the confirmations z \
                         (add `{DS_CONFIRMATIONS}` or sweep `adversaries[0].confirmations`)"
                    ),
                )
            })?;
            out.double_spend.push(DoubleSpendPoint {
                q: share,
                z,
                give_up_behind: a.give_up,
                premine: a.premine.unwrap_or(0),
                successes: a.successes,
                attempts: a.attempts,
            });
        }
    }
    Ok(out)
}

/// `attacker_relative_revenue_ci95_low`/`_high` per grid point from
/// `sweep_summary.csv`, when the file and both columns exist.
fn read_summary_ci(dir: &Path) -> Result<BTreeMap<usize, (f64, f64)>, ReportError> {
    let path = dir.join(SWEEP_SUMMARY_CSV);
    let mut out = BTreeMap::new();
    if !path.is_file() {
        return Ok(out);
    }
    let s = Csv::read(path)?;
    let m = columns::RELATIVE_REVENUE;
    let (Some(pc), Some(lc), Some(hc)) = (
        s.col("point"),
        s.col(&format!("{m}_ci95_low")),
        s.col(&format!("{m}_ci95_high")),
    ) else {
        return Ok(out);
    };
    for (line, rec) in &s.rows {
        let point: Option<usize> = s.cell(*line, rec, pc)?;
        let lo: Option<f64> = s.cell(*line, rec, lc)?;
        let hi: Option<f64> = s.cell(*line, rec, hc)?;
        if let (Some(p), Some(lo), Some(hi)) = (point, lo, hi) {
            out.insert(p, (lo, hi));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "forklab-theory-charts-{tag}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn revenue_points() -> Vec<RevenuePoint> {
        let mut v = Vec::new();
        for gamma in [Some(0.0), Some(1.0), None] {
            for alpha in [0.1, 0.25, 0.4] {
                let r = selfish_relative_revenue(alpha, gamma.unwrap_or(0.5));
                v.push(RevenuePoint {
                    alpha,
                    gamma,
                    measured: r,
                    ci_low: Some(r - 0.02),
                    ci_high: Some(r + 0.02),
                });
            }
        }
        v
    }

    #[test]
    fn charts_are_written_and_deterministic() {
        let d = temp_dir("draw");
        let rev = revenue_points();
        let ds = vec![
            DoubleSpendPoint {
                q: 0.3,
                z: 1,
                give_up_behind: Some(6),
                premine: 0,
                successes: 40,
                attempts: 100,
            },
            DoubleSpendPoint {
                q: 0.3,
                z: 4,
                give_up_behind: Some(6),
                premine: 0,
                successes: 0,
                attempts: 50,
            },
            DoubleSpendPoint {
                q: 0.3,
                z: 2,
                give_up_behind: Some(6),
                premine: 1,
                successes: 45,
                attempts: 100,
            },
            DoubleSpendPoint {
                q: 0.1,
                z: 2,
                give_up_behind: None,
                premine: 0,
                successes: 3,
                attempts: 200,
            },
        ];
        let mut files = relative_revenue(&rev, &d).unwrap();
        files.extend(double_spend_success(&ds, &d).unwrap());
        let names: Vec<String> = files
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "relative_revenue.png",
                "relative_revenue.svg",
                "double_spend_success.png",
                "double_spend_success.svg"
            ]
        );
        let svg = std::fs::read(d.join("double_spend_success.svg")).unwrap();
        let mut shuffled = ds.clone();
        shuffled.reverse();
        double_spend_success(&shuffled, &d).unwrap();
        assert_eq!(
            svg,
            std::fs::read(d.join("double_spend_success.svg")).unwrap()
        );
        let svg = std::fs::read(d.join("relative_revenue.svg")).unwrap();
        let mut shuffled = rev.clone();
        shuffled.reverse();
        relative_revenue(&shuffled, &d).unwrap();
        assert_eq!(svg, std::fs::read(d.join("relative_revenue.svg")).unwrap());
        // Empty inputs still give a chart.
        relative_revenue(&[], &d).unwrap();
        double_spend_success(&[], &d).unwrap();
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn loads_points_from_a_sweep_directory() {
        let d = temp_dir("load");
        std::fs::write(
            d.join(SWEEP_CSV),
            "point,adversaries[0].share,seed_index,seed,status,error,attacker_gamma,attacker_relative_revenue,double_spend_attempts,double_spend_successes,double_spend_confirmations,double_spend_give_up_behind\n\
             0,0.2,0,1,ok,,0.5,0.18,,,,\n\
             0,0.2,1,2,ok,,0.5,0.20,,,,\n\
             0,0.2,2,3,failed,boom,,,,,,\n\
             1,0.3,0,4,ok,,,,10,3,2,6\n\
             1,0.3,1,5,ok,,,,12,1,2,6\n",
        )
        .unwrap();
        let t = load_theory_points(&d).unwrap();
        assert_eq!(t.revenue.len(), 1);
        let r = &t.revenue[0];
        assert_eq!((r.alpha, r.gamma), (0.2, Some(0.5)));
        assert!((r.measured - 0.19).abs() < 1e-12);
        // mean ± 1.96·sd/√n with sd = 0.02/√2, n = 2.
        let half = 1.96 * 0.01;
        assert!((r.ci_high.unwrap() - (0.19 + half)).abs() < 1e-9, "{r:?}");
        assert_eq!(
            t.double_spend,
            [DoubleSpendPoint {
                q: 0.3,
                z: 2,
                give_up_behind: Some(6),
                premine: 0,
                successes: 4,
                attempts: 22
            }]
        );
        // The summary's CI wins when present.
        std::fs::write(
            d.join(SWEEP_SUMMARY_CSV),
            "point,adversaries[0].share,n_ok,attacker_relative_revenue_ci95_low,attacker_relative_revenue_ci95_high\n\
             0,0.2,2,0.1,0.3\n",
        )
        .unwrap();
        let t = load_theory_points(&d).unwrap();
        assert_eq!(
            (t.revenue[0].ci_low, t.revenue[0].ci_high),
            (Some(0.1), Some(0.3))
        );
        let files = plot_theory(&d).unwrap();
        assert_eq!(files.len(), 4);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn loader_names_what_is_missing() {
        let d = temp_dir("missing");
        assert!(matches!(
            load_theory_points(&d),
            Err(ReportError::Missing { .. })
        ));
        // No adversary columns: nothing to draw, not an error.
        std::fs::write(
            d.join(SWEEP_CSV),
            "point,seed_index,seed,status,error,stale_rate\n0,0,1,ok,,0.1\n",
        )
        .unwrap();
        assert_eq!(load_theory_points(&d).unwrap(), TheoryPoints::default());
        assert!(plot_theory(&d).unwrap().is_empty());
        // A revenue without any share column.
        std::fs::write(
            d.join(SWEEP_CSV),
            "point,seed_index,seed,status,error,attacker_relative_revenue\n0,0,1,ok,,0.3\n",
        )
        .unwrap();
        let e = load_theory_points(&d).unwrap_err().to_string();
        assert!(e.contains("attacker_share"), "{e}");
        std::fs::write(
            d.join(SWEEP_CSV),
            "point,seed_index,seed,status,error,attacker_share,attacker_relative_revenue\n0,0,1,ok,,x,0.3\n",
        )
        .unwrap();
        let e = load_theory_points(&d).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("attacker_share"), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
