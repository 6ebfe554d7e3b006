//! Hostile input: every case must end with exit code 2 (or the documented
//! code), ONE line on stderr naming the file/field, nothing written, in
//! bounded time and memory. Each case runs the real `sim` binary under
//! `prlimit --as` (an address-space limit of 2 GiB: a run that tried to
//! allocate its way through would abort instead of being refused) and
//! `timeout 60` (a hang fails the test, it does not block it). No timed
//! assertion: the timeout is a generous guard, not a measurement.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const SIM: &str = env!("CARGO_BIN_EXE_sim");
/// Address-space limit for every run, bytes.
const AS_LIMIT: u64 = 2 << 30;

fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// A fresh empty working directory for one case.
fn workdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("forklab-hostile-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `sim args…` in `dir` under the address-space limit and a timeout.
fn sim_in(dir: &Path, args: &[&str]) -> Outcome {
    let out = Command::new("timeout")
        .arg("60")
        .arg("prlimit")
        .arg(format!("--as={AS_LIMIT}"))
        .arg("--")
        .arg(SIM)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("timeout and prlimit (coreutils, util-linux) are installed");
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Asserts a refusal: exit 2, one stderr line containing every `want`,
/// and the working directory exactly as it was.
fn refused(name: &str, args: &[&str], want: &[&str]) {
    let dir = workdir(name);
    refused_in(&dir, args, want);
    fs::remove_dir_all(&dir).unwrap();
}

fn refused_in(dir: &Path, args: &[&str], want: &[&str]) -> String {
    let before = listing(dir);
    let o = sim_in(dir, args);
    assert_eq!(o.code, Some(2), "{args:?}: stderr {}", o.stderr);
    let lines: Vec<&str> = o.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{args:?}: one line, got {:?}", o.stderr);
    for w in want {
        assert!(lines[0].contains(w), "{args:?}: {:?} lacks {w:?}", lines[0]);
    }
    assert_eq!(listing(dir), before, "{args:?} wrote something");
    o.stderr
}

fn three_nodes() -> String {
    scenarios().join("three_nodes.yaml").display().to_string()
}

#[test]
fn semantic_panics_are_validation_errors() {
    let simblock = scenarios()
        .join("simblock_compare.yaml")
        .display()
        .to_string();
    for cmd in ["validate", "run"] {
        refused(
            "regions",
            &[
                cmd,
                &simblock,
                "--set",
                "network.latency={kind: constant, ms: 100}",
            ],
            &["network.latency.kind", "regions"],
        );
        refused(
            "offline",
            &[
                cmd,
                &three_nodes(),
                "--set",
                "stop={time: 5m}",
                "--set",
                "timeline=[{at: 1m, offline: [0,1,2]}]",
            ],
            &["timeline[0].offline", "full node"],
        );
    }
}

/// A `--set` argument with a control character is named escaped, so the
/// error stays one line and does not repeat where it came from.
#[test]
fn set_arguments_with_control_characters_stay_one_line() {
    refused(
        "set-newline-key",
        &["validate", &three_nodes(), "--set", "ns\n"],
        &["--set ns\\n: expected `key.path=value`"],
    );
    let dir = workdir("set-control-key");
    let e = refused_in(
        &dir,
        &["validate", &three_nodes(), "--set", "no\u{1}des.count=3"],
        &["--set no\\u{1}des.count=3: no\\u{1}des: unknown field"],
    );
    fs::remove_dir_all(&dir).unwrap();
    assert_eq!(e.matches("--set").count(), 1, "{e}");
    refused(
        "set-newline-value",
        &["validate", &three_nodes(), "--set", "name=a\nb"],
        &["--set name=a\\nb: "],
    );
}

#[test]
fn runs_that_could_never_finish_are_refused() {
    let t = three_nodes();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["--set", "nodes.hashrate.total_hps=1e-300"],
            &["stop.height", "never end"],
        ),
        (
            &[
                "--set",
                "consensus.difficulty_bits=255",
                "--set",
                "nodes.hashrate.total_hps=1",
            ],
            &["stop.height"],
        ),
        (
            &[
                "--set",
                "timeline=[{at: 1m, hashrate: {node: 0, hps: 0}}, {at: 1m, offline: [1, 2]}]",
            ],
            &["timeline[1].offline", "no hashrate"],
        ),
        (
            &["--set", "metrics.balance_interval=1us"],
            &["metrics.balance_interval", ">= 1s"],
        ),
        (
            &[
                "--set",
                "adversaries=[{kind: invalid_data, node: 0, interval: 1us}]",
            ],
            &["adversaries[0].interval", ">= 100ms"],
        ),
        (
            &["--set", "consensus.retarget_window=1"],
            &["consensus.retarget_window", ">= 2"],
        ),
    ];
    for (sets, want) in cases {
        let mut args = vec!["run", t.as_str()];
        args.extend_from_slice(sets);
        refused("never", &args, want);
    }
}

#[test]
fn sizes_beyond_the_machine_are_refused_unless_forced() {
    let t = three_nodes();
    refused(
        "million-nodes",
        &[
            "run",
            &t,
            "--set",
            "nodes.count=1000000",
            "--set",
            "network.topology={kind: ring}",
        ],
        &["estimated", "of memory", "--force"],
    );
    refused(
        "million-wallets",
        &["run", &t, "--set", "workload.wallets=1000000"],
        &["workload.wallets", "estimated", "--force"],
    );
    refused(
        "seeds",
        &["sweep", &t, "--seeds", "100000000"],
        &["100000000 runs", "100000"],
    );
    // --force skips the estimate (validate only: nothing runs).
    let dir = workdir("force");
    let o = sim_in(
        &dir,
        &[
            "validate",
            &t,
            "--set",
            "workload.wallets=1000000",
            "--force",
        ],
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(o.stdout.contains("estimated peak memory"), "{}", o.stdout);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn hostile_files_are_read_cheaply() {
    refused(
        "urandom",
        &["validate", "/dev/urandom"],
        &["/dev/urandom", "larger than 4194304 bytes"],
    );
    let dir = workdir("files");
    fs::write(dir.join("brackets.yaml"), "[".repeat(1 << 20)).unwrap();
    refused_in(
        &dir,
        &["validate", "brackets.yaml"],
        &["brackets.yaml:1:", "nested deeper than 64"],
    );
    fs::write(dir.join("bytes.yaml"), b"name: a\nstop: {height: \xfe}\n").unwrap();
    refused_in(
        &dir,
        &["validate", "bytes.yaml"],
        &["bytes.yaml", "not UTF-8", "line 2 column 16"],
    );
    fs::write(
        dir.join("dup.yaml"),
        "name: a\nstop: {height: 3}\nnodes:\n  count: 3\n  light: 1\n  count: 4\n",
    )
    .unwrap();
    refused_in(
        &dir,
        &["validate", "dup.yaml"],
        &["dup.yaml:6:3:", "duplicate key `count`"],
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unwritable_outputs_are_refused_before_the_run() {
    let dir = workdir("out");
    fs::write(dir.join("afile"), "x").unwrap();
    fs::create_dir(dir.join("prev")).unwrap();
    // A long run: only a refusal before it starts ends in time.
    let t = three_nodes();
    let long = ["--set", "stop={height: 100000}", "--set", "pow.grind=false"];
    for out in ["afile/run", "prev/.", "afile"] {
        let mut args = vec!["run", t.as_str(), "--out", out];
        args.extend_from_slice(&long);
        refused_in(&dir, &args, &["output directory", out]);
    }
    fs::remove_dir_all(&dir).unwrap();
}

/// A read-only file system (a read-only tmpfs mounted for the test, which
/// needs root as in CI): the run is refused before it starts. Where mounting
/// is not permitted the test says so and checks nothing.
#[test]
fn read_only_file_system_is_refused_before_the_run() {
    let dir = workdir("rofs");
    let mnt = dir.join("ro");
    fs::create_dir(&mnt).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs"])
        .arg(&mnt)
        .output()
        .is_ok_and(|o| o.status.success());
    if !mounted {
        eprintln!("read_only_file_system_is_refused_before_the_run: cannot mount a tmpfs here (not root?); not checked");
        fs::remove_dir_all(&dir).unwrap();
        return;
    }
    let t = three_nodes();
    let args = [
        "run",
        t.as_str(),
        "--out",
        "ro/run",
        "--set",
        "stop={height: 100000}",
        "--set",
        "pow.grind=false",
    ];
    let o = sim_in(&dir, &args);
    let _ = std::process::Command::new("umount").arg(&mnt).status();
    assert_eq!(o.code, Some(2), "stderr {}", o.stderr);
    assert_eq!(o.stderr.lines().count(), 1, "{:?}", o.stderr);
    assert!(
        o.stderr.contains("ro/run") && o.stderr.contains("Read-only file system"),
        "{:?}",
        o.stderr
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn stale_leftovers_of_dead_processes_are_removed() {
    let dir = workdir("stale");
    // pids above any pid_max: processes that are gone.
    for name in [
        ".run.tmp-4000000000",
        ".run.old-4000000001",
        ".keep.tmp-4000000000",
    ] {
        fs::create_dir(dir.join(name)).unwrap();
        fs::write(dir.join(name).join("blocks.csv"), "x").unwrap();
    }
    let o = sim_in(
        &dir,
        &[
            "run",
            &three_nodes(),
            "--out",
            "run",
            "--no-charts",
            "-q",
            "--set",
            "stop.height=3",
        ],
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    if Path::new("/proc/self").exists() {
        assert_eq!(listing(&dir), [".keep.tmp-4000000000", "run"]);
        assert_eq!(
            o.stderr
                .lines()
                .filter(|l| l.starts_with("note: removed"))
                .count(),
            2
        );
    }
    fs::remove_dir_all(&dir).unwrap();
}

/// Runs three_nodes into `dir/run` and returns the manifest path.
fn recorded_run(dir: &Path) -> PathBuf {
    let o = sim_in(
        dir,
        &[
            "run",
            &three_nodes(),
            "--out",
            "run",
            "--no-charts",
            "-q",
            "--set",
            "stop.height=20",
        ],
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    dir.join("run/manifest.json")
}

fn edit_manifest(path: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut m: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    edit(&mut m);
    fs::write(path, serde_json::to_string_pretty(&m).unwrap()).unwrap();
}

#[test]
fn replay_checks_every_field_and_file() {
    let dir = workdir("replay");
    let manifest = recorded_run(&dir);
    let pristine = fs::read_to_string(&manifest).unwrap();
    let o = sim_in(&dir, &["replay", "run"]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(
        o.stdout.starts_with("replay ok:") && o.stdout.contains("files identical"),
        "{}",
        o.stdout
    );

    type Edit = fn(&mut serde_json::Value);
    let edits: &[(Edit, &[&str])] = &[
        (
            |m| m["final_tip"] = "00".repeat(32).into(),
            &["edited", "final_tip"],
        ),
        (
            |m| m["main_chain_height"] = 7.into(),
            &["edited", "main_chain_height"],
        ),
        (|m| m["name"] = "other".into(), &["edited", "name"]),
        (
            |m| m["pow"]["ground"] = false.into(),
            &["edited", "pow.ground"],
        ),
        (
            |m| m["overrides"] = serde_json::json!(["x=1"]),
            &["edited", "manifest_sha256"],
        ),
        (|m| m["event_digest"] = "00".repeat(16).into(), &["edited"]),
        (
            |m| m["digest_checkpoints"] = serde_json::json!(["0000000000000000"]),
            &["edited"],
        ),
        (
            |m| {
                m["scenario"]["nodes"]["count"] = 1_000_000.into();
                m["scenario"]["network"]["topology"] = serde_json::json!({"kind": "ring"});
            },
            &["manifest.json"],
        ),
        (
            |m| m["seed"] = "x".into(),
            &["manifest.json:", "seed: is not a whole number"],
        ),
    ];
    for (edit, want) in edits {
        fs::write(&manifest, &pristine).unwrap();
        edit_manifest(&manifest, edit);
        let before = listing(&dir.join("run"));
        refused_in(&dir, &["replay", "run"], want);
        assert_eq!(listing(&dir.join("run")), before);
    }
    // An edited CSV.
    fs::write(&manifest, &pristine).unwrap();
    let mut csv = fs::read_to_string(dir.join("run/blocks.csv")).unwrap();
    csv.push_str("9,9\n");
    fs::write(dir.join("run/blocks.csv"), csv).unwrap();
    refused_in(
        &dir,
        &["replay", "run"],
        &["edited", "blocks.csv", "SHA-256"],
    );
    fs::remove_dir_all(&dir).unwrap();
}
