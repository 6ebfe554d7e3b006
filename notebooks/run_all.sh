#!/usr/bin/env bash
# Executes every notebook in notebooks/ top to bottom, headless, and fails on
# the first cell that raises, then checks that every cell that draws kept its
# figure (check_figures.py). The notebooks in the repository are not
# modified: executed copies (with their figures, drawn by the inline
# backend) go to $NOTEBOOKS_OUT when set (CI keeps them there), else to a
# temporary directory (kept, and printed, only on failure); the simulator
# runs they make go to the temporary directory (FORKLAB_OUT).
#
# Usage: notebooks/run_all.sh            (uses `python3` from PATH)
#        PYTHON=/path/to/venv/bin/python notebooks/run_all.sh
# The Python environment needs notebooks/requirements.txt installed. The
# `sim` binary is $SIM, or target/release/sim (built if missing).
set -euo pipefail
# The notebooks run with notebooks/ as working directory: make $SIM absolute.
if [ -n "${SIM:-}" ]; then
    SIM="$(cd "$(dirname "$SIM")" && pwd)/$(basename "$SIM")"
    export SIM
fi
cd "$(dirname "$0")"

PYTHON="${PYTHON:-python3}"
work="$(mktemp -d)"
export FORKLAB_OUT="$work/runs"
executed="${NOTEBOOKS_OUT:-$work/executed}"
mkdir -p "$executed"
executed="$(cd "$executed" && pwd)"
# No MPLBACKEND=Agg: the kernel's inline backend draws headless too, and
# only it puts the figures into the executed notebooks.
unset MPLBACKEND

status=0
passed=0
failed=0
for nb in [0-9][0-9]_*.ipynb; do
    start=$(date +%s)
    if "$PYTHON" -m jupyter nbconvert --to notebook --execute \
        --ExecutePreprocessor.timeout=600 \
        --output-dir "$executed" "$nb" >"$work/log.txt" 2>&1; then
        echo "notebook $nb: ok ($(( $(date +%s) - start )) s)"
        passed=$((passed + 1))
    else
        echo "notebook $nb: FAILED ($(( $(date +%s) - start )) s)"
        grep -v "Kernel is running over TCP" "$work/log.txt" | tail -40
        status=1
        failed=$((failed + 1))
    fi
done
echo "notebooks: $passed passed, $failed failed"
if [ "$status" -eq 0 ] && ! "$PYTHON" check_figures.py "$executed"; then
    status=1
fi

if [ "$status" -eq 0 ]; then
    rm -rf "$work"
else
    echo "executed copies and runs kept in $work"
fi
exit "$status"
