"""Small helpers shared by the forklab notebooks.

They find the `sim` binary, run it, and read what it writes, so that each
notebook can stay about the simulation rather than about file paths.

- The binary is `$SIM` if that variable is set, otherwise
  `<repo>/target/release/sim`, built with `cargo build --release` the first
  time it is missing.
- Runs are written under `$FORKLAB_OUT` if set (the test script points it at
  a temporary directory), otherwise under `<repo>/output/notebooks/`.
"""

import os
import re
import subprocess
from pathlib import Path

import pandas as pd


def _find_repo() -> Path:
    """The repository root: the first parent with Cargo.toml and scenarios/."""
    here = Path.cwd().resolve()
    for d in [here, *here.parents]:
        if (d / "Cargo.toml").is_file() and (d / "scenarios").is_dir():
            return d
    raise RuntimeError(f"cannot find the forklab repository above {here}")


REPO = _find_repo()
SCENARIOS = REPO / "scenarios"


def sim_binary() -> Path:
    """Path of the `sim` binary, building it if needed (see module docs)."""
    if os.environ.get("SIM"):
        path = Path(os.environ["SIM"])
        if not path.is_file():
            raise FileNotFoundError(f"SIM={path} does not exist")
        return path
    path = REPO / "target" / "release" / "sim"
    if not path.is_file():
        print("building sim (cargo build --release), this takes a few minutes...")
        subprocess.run(["cargo", "build", "--release"], cwd=REPO, check=True)
    return path


def out_root() -> Path:
    """Directory under which the notebooks write their runs."""
    root = Path(os.environ.get("FORKLAB_OUT", REPO / "output" / "notebooks"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def sim(*args) -> str:
    """Runs `sim ARGS...` and returns what it printed; raises on failure."""
    cmd = [str(sim_binary()), *map(str, args)]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed (exit {done.returncode}):\n{done.stderr}"
        )
    return done.stdout


def run_scenario(scenario, *extra, out: str | None = None) -> Path:
    """Runs a scenario and returns its output directory, out_root()/OUT
    (default: the file's stem).

    SCENARIO is a name from scenarios/ (`"three_nodes"`) or a path to a YAML
    file; EXTRA are more `sim run` arguments, e.g. `"--set",
    "network.latency.ms=2000"` or `"--seed", 7`."""
    path = Path(scenario)
    if path.suffix not in (".yaml", ".yml"):
        path = SCENARIOS / f"{scenario}.yaml"
    out_dir = out_root() / (out or path.stem)
    sim("run", path, "--out", out_dir, "--quiet", *extra)
    return out_dir


def read(run_dir: Path, table: str) -> pd.DataFrame:
    """Reads TABLE.csv of a run directory."""
    return pd.read_csv(Path(run_dir) / f"{table}.csv")


def summary(run_dir: Path) -> pd.Series:
    """summary.csv as a Series: metric name -> value."""
    return read(run_dir, "summary").set_index("metric")["value"]


_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def seconds(duration: str) -> float:
    """Parses a scenario duration such as `30s`, `5m` or `250ms` (a number
    and one unit: ns, us, ms, s, m, h, d) into seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ns|us|ms|s|m|h|d)\s*", str(duration))
    if not m:
        raise ValueError(f"not a duration: {duration!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]
