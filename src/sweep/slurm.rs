//! A Slurm job array for a sharded sweep (`sim sweep … --slurm --shards
//! N`): [`script`] writes one bash file that is at once
//! - the array job: `#SBATCH --array=1-N`; task `K` runs `sim sweep …
//!   --shard K/N` into `JOB_DIR/shard-K-of-N/` (see [`super::shard`] for
//!   which runs that is);
//! - the merge: `bash SCRIPT merge` runs `sim sweep merge` over the `N`
//!   shard directories into the sweep's output directory;
//! - the submission: `bash SCRIPT` outside Slurm submits the array with
//!   `sbatch`, then the merge as a job with `--dependency=afterok:<array>`,
//!   which Slurm starts only once every array task has succeeded.
//!
//! The script changes to the directory `sim sweep --slurm` ran in and
//! passes the scenario file and every other argument exactly as given, so
//! the merged `sweep_manifest.json` is the one the single-machine sweep
//! writes. Paths are written in full and shell-quoted (the `shlex` crate):
//! the job directory, the sim binary (override with `FORKLAB_SIM`) and the
//! working directory must be reachable from every node, as on a cluster's
//! shared file system.

use std::path::{Path, PathBuf};

/// The script's file name inside the job directory.
pub const SCRIPT_NAME: &str = "sweep.sbatch";

/// The script's second line, which marks a file as one this module wrote
/// (so it may be replaced).
pub const SCRIPT_MARK: &str =
    "# A Slurm job array for a forklab sweep, written by `sim sweep --slurm`";

/// Why the script cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum SlurmError {
    /// A path or argument cannot be put into a shell script.
    #[error("{what} {value:?} cannot be written into a shell script: {message}")]
    Unquotable {
        /// What the value is.
        what: &'static str,
        /// The value, lossily.
        value: String,
        /// Why.
        message: String,
    },
}

/// Everything the script needs.
#[derive(Clone, Debug)]
pub struct SlurmJob {
    /// The scenario's name (for job names).
    pub name: String,
    /// The directory the sweep was planned in (absolute).
    pub cwd: PathBuf,
    /// The `sim` binary (absolute).
    pub sim: PathBuf,
    /// Where the script, the shard directories and the logs go (absolute).
    pub job_dir: PathBuf,
    /// The sweep's arguments as given: the scenario file, `--set`,
    /// `--param`, `--seeds`, `--force`.
    pub sweep_args: Vec<String>,
    /// The merged output directory, as given (relative to `cwd` or absolute).
    pub out: PathBuf,
    /// `N`.
    pub shards: u32,
    /// CPUs per array task (its `--jobs`).
    pub cpus_per_task: usize,
    /// Extra `sbatch` options for both jobs (`--partition=short`, …).
    pub sbatch_options: Vec<String>,
    /// Grid points, seeds and runs (for the header comment).
    pub points: usize,
    /// Seeds per grid point.
    pub seeds: u32,
}

/// `JOB_DIR/shard-K-of-N`.
pub fn shard_dir(job_dir: &Path, index: u32, count: u32) -> PathBuf {
    job_dir.join(format!("shard-{index}-of-{count}"))
}

fn quote(what: &'static str, value: &str) -> Result<String, SlurmError> {
    shlex::try_quote(value)
        .map(|q| q.into_owned())
        .map_err(|e| SlurmError::Unquotable {
            what,
            value: value.to_string(),
            message: e.to_string(),
        })
}

fn path_str<'a>(what: &'static str, p: &'a Path) -> Result<&'a str, SlurmError> {
    p.to_str().ok_or_else(|| SlurmError::Unquotable {
        what,
        value: p.display().to_string(),
        message: "not valid UTF-8".into(),
    })
}

/// A job name Slurm shows as is: letters, digits, `-`, `_`, `.`.
fn job_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("forklab-{clean}")
}

/// The script's text (see the module docs).
pub fn script(job: &SlurmJob) -> Result<String, SlurmError> {
    let n = job.shards;
    let cwd = quote(
        "the working directory",
        path_str("the working directory", &job.cwd)?,
    )?;
    let sim = quote("the sim binary", path_str("the sim binary", &job.sim)?)?;
    let job_dir_raw = path_str("the job directory", &job.job_dir)?;
    let job_dir = quote("the job directory", job_dir_raw)?;
    let script_path = job.job_dir.join(SCRIPT_NAME);
    let script = quote(
        "the script path",
        path_str("the script path", &script_path)?,
    )?;
    let out = quote("--out", path_str("--out", &job.out)?)?;
    let args = job
        .sweep_args
        .iter()
        .map(|a| quote("an argument", a))
        .collect::<Result<Vec<_>, _>>()?
        .join(" ");
    let extra = job
        .sbatch_options
        .iter()
        .map(|a| quote("an --sbatch option", a))
        .collect::<Result<Vec<_>, _>>()?;
    let name = job_name(&job.name);
    let wrap = quote("the merge command", &format!("bash {script} merge"))?;
    // `#SBATCH` lines are read by sbatch, not by a shell: no quoting, so a
    // path with a space cannot go there (the logs' directory is given on
    // the command line instead when it has one).
    let logs = format!("{job_dir_raw}/logs");
    let plain = |s: &str| !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c == '"');
    let mut sbatch_lines = vec![
        format!("#SBATCH --job-name={name}"),
        format!("#SBATCH --array=1-{n}"),
        format!("#SBATCH --cpus-per-task={}", job.cpus_per_task),
    ];
    if plain(&logs) {
        sbatch_lines.push(format!("#SBATCH --output={logs}/shard-%a.out"));
    }
    if plain(path_str("the working directory", &job.cwd)?) {
        sbatch_lines.push(format!("#SBATCH --chdir={}", job.cwd.display()));
    }
    for o in &job.sbatch_options {
        if !plain(o) {
            return Err(SlurmError::Unquotable {
                what: "an --sbatch option",
                value: o.clone(),
                message: "#SBATCH lines cannot hold spaces or quotes".into(),
            });
        }
        sbatch_lines.push(format!("#SBATCH {o}"));
    }
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!(" {}", extra.join(" "))
    };
    let runs = job.points * job.seeds as usize;
    let version = env!("CARGO_PKG_VERSION");
    let sbatch_lines = sbatch_lines.join("\n");
    Ok(format!(
        r#"#!/bin/bash
{SCRIPT_MARK} (forklab {version}).
# Scenario {scenario_name}: {points} grid point(s) x {seeds} seed(s) = {runs} runs in {n} shards.
#
# Submit every shard and the merge (a job Slurm starts only when every shard
# has succeeded, --dependency=afterok) in one go:
#     bash {script}
# or the array alone with `sbatch {script}`, then merge with
#     bash {script} merge
#
# Shard K/{n} runs every run i = point x seeds + seed_index with i mod {n} = K-1
# and writes {job_dir}/shard-K-of-{n}/; the merge writes {out} (relative to
# {cwd}), byte for byte what `sim sweep` writes on one machine.
# The sim binary, this directory and the working directory must be reachable
# from every node; FORKLAB_SIM overrides the binary.
{sbatch_lines}
set -euo pipefail
cd {cwd}
sim=${{FORKLAB_SIM:-{sim}}}
job_dir={job_dir}
shards={n}

if [ "${{1:-}}" = merge ]; then
    dirs=()
    for k in $(seq 1 "$shards"); do dirs+=("$job_dir/shard-$k-of-$shards"); done
    exec "$sim" sweep merge "${{dirs[@]}}" --out {out}
fi

if [ -n "${{SLURM_ARRAY_TASK_ID:-}}" ]; then
    k=$SLURM_ARRAY_TASK_ID
    exec "$sim" sweep {args} --jobs "${{SLURM_CPUS_PER_TASK:-1}}" \
        --shard "$k/$shards" --out "$job_dir/shard-$k-of-$shards"
fi

# Not inside a Slurm job: submit the array, then the merge after it.
mkdir -p "$job_dir/logs"
array=$(sbatch --parsable --output="$job_dir/logs/shard-%a.out" --chdir={cwd}{extra} {script})
array=${{array%%;*}}
merge=$(sbatch --parsable --dependency=afterok:"$array" --job-name={name}-merge \
    --output="$job_dir/logs/merge.out" --chdir={cwd}{extra} --wrap={wrap})
merge=${{merge%%;*}}
echo "submitted job array $array ({n} shards) and merge job $merge (it starts when every shard has succeeded)"
echo "watch: squeue -j $array,$merge   logs: $job_dir/logs/   result: {out}"
"#,
        scenario_name = job.name,
        points = job.points,
        seeds = job.seeds,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> SlurmJob {
        SlurmJob {
            name: "difficulty classroom".into(),
            cwd: "/home/ada/lab".into(),
            sim: "/home/ada/lab/target/release/sim".into(),
            job_dir: "/home/ada/lab/output/d-sweep-slurm".into(),
            sweep_args: vec![
                "scenarios/difficulty_classroom.yaml".into(),
                "--param".into(),
                "network.latency={kind: constant, ms: 100},{kind: constant, ms: 400}".into(),
                "--seeds".into(),
                "3".into(),
            ],
            out: "output/d-sweep".into(),
            shards: 4,
            cpus_per_task: 2,
            sbatch_options: vec!["--partition=short".into()],
            points: 2,
            seeds: 3,
        }
    }

    #[test]
    fn the_script_is_an_array_with_a_dependent_merge() {
        let s = script(&job()).unwrap();
        assert!(s.starts_with("#!/bin/bash\n"));
        assert!(s.lines().nth(1).unwrap().starts_with(SCRIPT_MARK));
        for want in [
            "#SBATCH --array=1-4",
            "#SBATCH --cpus-per-task=2",
            "#SBATCH --job-name=forklab-difficulty_classroom",
            "#SBATCH --partition=short",
            "#SBATCH --output=/home/ada/lab/output/d-sweep-slurm/logs/shard-%a.out",
            "--dependency=afterok:\"$array\"",
            "--shard \"$k/$shards\"",
            "exec \"$sim\" sweep merge \"${dirs[@]}\" --out output/d-sweep",
            // The value with spaces and commas arrives as one argument.
            "'network.latency={kind: constant, ms: 100},{kind: constant, ms: 400}'",
            "--wrap='bash /home/ada/lab/output/d-sweep-slurm/sweep.sbatch merge'",
        ] {
            assert!(s.contains(want), "missing {want:?} in\n{s}");
        }
        // Every #SBATCH line comes before the first command.
        let first_cmd = s.find("\nset -euo pipefail").unwrap();
        assert!(s.rfind("#SBATCH").unwrap() < first_cmd);
    }

    #[test]
    fn hostile_values_are_refused_or_quoted() {
        let mut j = job();
        j.sbatch_options = vec!["--comment=a b".into()];
        assert!(script(&j).is_err());
        let mut j = job();
        j.sweep_args.push("--set".into());
        j.sweep_args.push("name=$(rm -rf ~)".into());
        let s = script(&j).unwrap();
        assert!(s.contains("'name=$(rm -rf ~)'"), "{s}");
    }
}
