#!/usr/bin/env bash
# Executes every notebook in notebooks/ top to bottom, headless, and fails on
# the first cell that raises. The notebooks in the repository are not
# modified: executed copies go to a temporary directory (kept, and printed,
# only on failure), and so do the simulator runs they make (FORKLAB_OUT).
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
export MPLBACKEND=Agg

status=0
passed=0
failed=0
for nb in [0-9][0-9]_*.ipynb; do
    start=$(date +%s)
    if "$PYTHON" -m jupyter nbconvert --to notebook --execute \
        --ExecutePreprocessor.timeout=600 \
        --output-dir "$work/executed" "$nb" >"$work/log.txt" 2>&1; then
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

if [ "$status" -eq 0 ]; then
    rm -rf "$work"
else
    echo "executed copies and runs kept in $work"
fi
exit "$status"
