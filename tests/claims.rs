//! Every number the docs quote about a shipped scenario, checked.
//!
//! `scenarios/claims/claims.yaml` lists runs (a shipped scenario, its overrides, or
//! a sweep) and claims about them: a metric, the value it has, how the docs
//! show it and the exact sentences that quote it. This test
//!
//! 1. runs every listed run once (`sim run` / `sim sweep`, as a user would),
//! 2. computes each claim's metric and checks it is within `tolerance` of
//!    `value`,
//! 3. checks that `shown` (e.g. `2.9%`, `15`, `0.3 s`) is `value` rounded to
//!    the digits it shows, and
//! 4. checks that every quoted sentence is in its file (README.md,
//!    scenarios/README.md, a scenario's comments, a notebook's markdown, or a
//!    chart's source) and contains `shown`.
//!
//! So a change that moves a number fails here until `claims.yaml` and the
//! docs move with it. It also checks that the README's lists of the files a
//! run writes match what a run writes.
//!
//! Metric syntax (see `claims.yaml`'s header): `summary:NAME`,
//! `FILE.csv[FILTERS]:AGG(COLUMNS)`, `theory:FUNCTION(ARGS)`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use common::claims::{load, readable, repo, Claim, RunSpec, YamlComments, CLAIMS};

/// Runs every run of the file (two at a time) and returns id → directory.
fn run_all(runs: &[RunSpec]) -> BTreeMap<String, PathBuf> {
    let base = common::scratch("claims", "runs");
    let jobs: Vec<(String, PathBuf, Vec<String>)> = runs
        .iter()
        .map(|r| {
            let dir = base.join(&r.id);
            let scenario = repo().join("scenarios").join(&r.scenario);
            let mut args: Vec<String> = match &r.sweep {
                None => vec!["run".into(), scenario.display().to_string()],
                Some(_) => vec!["sweep".into(), scenario.display().to_string()],
            };
            args.extend(["--quiet".into(), "--out".into(), dir.display().to_string()]);
            match &r.sweep {
                None => args.push("--no-charts".into()),
                Some(s) => {
                    for p in &s.param {
                        args.extend(["--param".into(), p.clone()]);
                    }
                    args.extend(["--seeds".into(), s.seeds.to_string()]);
                }
            }
            for s in &r.set {
                args.extend(["--set".into(), s.clone()]);
            }
            (r.id.clone(), dir, args)
        })
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some((id, _, args)) = jobs.get(i) else {
                    break;
                };
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let o = common::sim(&args);
                assert!(
                    o.status.success(),
                    "claims run `{id}`: sim {args:?} failed: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
            });
        }
    });
    jobs.into_iter().map(|(id, dir, _)| (id, dir)).collect()
}

/// A filter `col OP value`.
fn keep(row: &BTreeMap<String, String>, filter: &str) -> bool {
    let ops = ["!=", ">=", "<=", "=", ">", "<"];
    let (col, op, want) = ops
        .iter()
        .find_map(|op| {
            filter
                .split_once(op)
                .map(|(c, v)| (c.trim(), *op, v.trim()))
        })
        .unwrap_or_else(|| panic!("filter `{filter}`: expected col=value (or != >= <= > <)"));
    let got = row
        .get(col)
        .unwrap_or_else(|| panic!("filter `{filter}`: no column `{col}`"));
    match (got.parse::<f64>(), want.parse::<f64>()) {
        (Ok(g), Ok(w)) => match op {
            "!=" => g != w,
            ">=" => g >= w,
            "<=" => g <= w,
            "=" => g == w,
            ">" => g > w,
            _ => g < w,
        },
        _ => match op {
            "=" => got == want,
            "!=" => got != want,
            _ => panic!("filter `{filter}`: `{op}` needs numbers"),
        },
    }
}

fn num(row: &BTreeMap<String, String>, col: &str, metric: &str) -> f64 {
    let v = row
        .get(col)
        .unwrap_or_else(|| panic!("{metric}: no column `{col}`"));
    v.parse()
        .unwrap_or_else(|_| panic!("{metric}: `{col}` = `{v}` is not a number"))
}

/// Evaluates `FILE.csv[FILTERS]:AGG(COLUMNS)` on a run directory.
fn table_metric(dir: &Path, metric: &str) -> f64 {
    let (source, agg) = metric
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("{metric}: expected FILE.csv[FILTERS]:AGG(COLUMNS)"));
    let (file, filters) = match source.split_once('[') {
        Some((f, rest)) => (f, rest.trim_end_matches(']')),
        None => (source, ""),
    };
    let rows: Vec<_> = common::rows(&dir.join(file))
        .into_iter()
        .filter(|r| {
            filters
                .split(',')
                .filter(|f| !f.is_empty())
                .all(|f| keep(r, f))
        })
        .collect();
    let (func, cols) = agg
        .trim_end_matches(')')
        .split_once('(')
        .unwrap_or_else(|| panic!("{metric}: expected AGG(COLUMNS)"));
    let cols: Vec<&str> = cols.split('+').filter(|c| !c.is_empty()).collect();
    let values = || rows.iter().map(|r| num(r, cols[0], metric));
    match func {
        "count" => rows.len() as f64,
        "min" => values().fold(f64::INFINITY, f64::min),
        "max" => values().fold(f64::NEG_INFINITY, f64::max),
        "sum" => values().sum(),
        "mean" => values().sum::<f64>() / rows.len() as f64,
        "distinct" => rows
            .iter()
            .map(|r| cols.iter().map(|c| r[*c].clone()).collect::<Vec<_>>())
            .collect::<BTreeSet<_>>()
            .len() as f64,
        // The most rows sharing the same values of the columns.
        "max_repeat" => {
            let mut n: BTreeMap<Vec<String>, usize> = BTreeMap::new();
            for r in &rows {
                *n.entry(cols.iter().map(|c| r[*c].clone()).collect())
                    .or_default() += 1;
            }
            n.values().copied().max().unwrap_or(0) as f64
        }
        // interval(h, t): (t at the highest h − t at the lowest h) / (Δh):
        // the mean block interval over a stretch of the main chain.
        "interval" => {
            let pts: Vec<(f64, f64)> = rows
                .iter()
                .map(|r| (num(r, cols[0], metric), num(r, cols[1], metric)))
                .collect();
            let lo = pts.iter().copied().fold(
                (f64::INFINITY, 0.0),
                |a, p| {
                    if p.0 < a.0 {
                        p
                    } else {
                        a
                    }
                },
            );
            let hi =
                pts.iter().copied().fold(
                    (f64::NEG_INFINITY, 0.0),
                    |a, p| {
                        if p.0 > a.0 {
                            p
                        } else {
                            a
                        }
                    },
                );
            (hi.1 - lo.1) / (hi.0 - lo.0)
        }
        other => panic!("{metric}: unknown aggregate `{other}`"),
    }
}

/// Evaluates `theory:FUNCTION(ARGS)`.
fn theory_metric(call: &str) -> f64 {
    use forklab::theory;
    let (func, args) = call
        .trim_end_matches(')')
        .split_once('(')
        .unwrap_or_else(|| panic!("theory:{call}: expected FUNCTION(ARGS)"));
    let a: Vec<f64> = args
        .split(',')
        .map(|x| x.trim().parse().expect("a number"))
        .collect();
    match func {
        "selfish_relative_revenue" => theory::selfish_relative_revenue(a[0], a[1]),
        "selfish_profit_threshold" => theory::selfish_profit_threshold(a[0]),
        "race_success_with_cutoff" => {
            theory::race_success_with_cutoff(a[0], a[1] as u32, a[2] as u32)
        }
        "analytic_stale_rate" => theory::analytic_stale_rate(a[0], a[1]),
        other => panic!("theory:{other}: unknown function"),
    }
}

fn measure(dirs: &BTreeMap<String, PathBuf>, c: &Claim) -> f64 {
    if c.run == "theory" {
        let call = c
            .metric
            .strip_prefix("theory:")
            .unwrap_or_else(|| panic!("{}: a theory claim's metric is theory:F(ARGS)", c.metric));
        return theory_metric(call);
    }
    let dir = dirs
        .get(&c.run)
        .unwrap_or_else(|| panic!("claim {}: no run `{}` in {CLAIMS}", c.metric, c.run));
    match c.metric.strip_prefix("summary:") {
        Some(name) => {
            let s = common::summary(dir);
            s.get(name)
                .unwrap_or_else(|| panic!("run {}: summary.csv has no `{name}`", c.run))
                .parse()
                .expect("a number")
        }
        None => table_metric(dir, &c.metric),
    }
}

/// The number in `shown` (after a leading `~`) and how many decimals it has;
/// a trailing `%` makes it a fraction.
fn parse_shown(shown: &str) -> (f64, i32, bool) {
    match shown {
        "none" => return (0.0, 0, false),
        "once" => return (1.0, 0, false),
        "twice" => return (2.0, 0, false),
        _ => {}
    }
    let s = shown.trim_start_matches(['~', '≈', ' ']);
    let end = s
        .find(|ch: char| !(ch.is_ascii_digit() || ch == '.' || ch == ',' || ch == '-'))
        .unwrap_or(s.len());
    let digits = s[..end].replace(',', "");
    let decimals = digits.split_once('.').map_or(0, |(_, d)| d.len() as i32);
    let x: f64 = digits
        .parse()
        .unwrap_or_else(|_| panic!("shown `{shown}`: no number at its start"));
    (x, decimals, s[end..].starts_with('%'))
}

#[test]
fn claims_hold_and_docs_quote_them() {
    let claims = load();
    let ids: BTreeSet<&str> = claims.runs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), claims.runs.len(), "{CLAIMS}: run ids repeat");
    let dirs = run_all(&claims.runs);
    let mut failures = Vec::new();
    let mut docs: BTreeMap<String, String> = BTreeMap::new();
    for c in &claims.claims {
        let what = format!("claim `{}` of run `{}`", c.metric, c.run);
        let got = measure(&dirs, c);
        let tol = c.tolerance.max(c.value.abs() * 1e-9);
        let close = (got - c.value).abs() <= tol; // false for NaN
        if !close {
            failures.push(format!(
                "{what}: measured {got}, {CLAIMS} says {} ± {} ({:?}): update the value, `shown` and every quote",
                c.value, c.tolerance, c.kind
            ));
            continue;
        }
        let (x, decimals, percent) = parse_shown(&c.shown);
        let scale = c.scale.unwrap_or(if percent { 100.0 } else { 1.0 });
        let half = 0.5 * 10f64.powi(-decimals) * (1.0 + 1e-9);
        if (x - c.value * scale).abs() > half + c.tolerance * scale {
            failures.push(format!(
                "{what}: shown `{}` is not {} rounded to {decimals} decimals",
                c.shown,
                c.value * scale
            ));
        }
        assert!(!c.quoted.is_empty(), "{what}: quoted nowhere");
        for q in &c.quoted {
            let text = docs
                .entry(q.file.clone())
                .or_insert_with(|| readable(&q.file, YamlComments::All));
            let want = q.text.split_whitespace().collect::<Vec<_>>().join(" ");
            if !want.contains(c.shown.as_str()) {
                failures.push(format!(
                    "{what}: the quote `{want}` does not contain `{}`",
                    c.shown
                ));
            }
            if !text.contains(&want) {
                failures.push(format!("{what}: {} does not say `{want}`", q.file));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} claims fail:\n{}",
        failures.len(),
        claims.claims.len(),
        failures.join("\n")
    );
}

/// The file names a doc lists as `name.csv` in backticks after `marker`,
/// up to `end`.
fn listed_csvs(file: &str, marker: &str, end: &str) -> BTreeSet<String> {
    let text = fs::read_to_string(repo().join(file)).unwrap();
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("{file}: no `{marker}`"));
    let section = &text[start..];
    let section = &section[..section[marker.len()..]
        .find(end)
        .map_or(section.len(), |i| i + marker.len())];
    section
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| w.ends_with(".csv") && !w.contains(' '))
        .map(str::to_string)
        .collect()
}

#[test]
fn docs_list_the_files_a_run_writes() {
    let dir = common::scratch("claims", "files").join("run");
    common::run_to("scenarios/three_nodes.yaml", &dir, &["--no-charts"]);
    let written: BTreeSet<String> = common::files(&dir)
        .into_keys()
        .filter(|f| f.ends_with(".csv"))
        .collect();
    for (file, marker, end) in [
        ("README.md", "## Output of a run", "\n## "),
        ("scenarios/README.md", "`sim run FILE` writes", "\n\n"),
    ] {
        let listed = listed_csvs(file, marker, end);
        assert_eq!(
            listed, written,
            "{file}: the CSV files listed after `{marker}` differ from what `sim run scenarios/three_nodes.yaml` writes"
        );
    }
}
