#!/usr/bin/env bash
# Builds `sim` with profile-guided optimisation (PGO): an instrumented
# release build runs a few shipped scenarios, LLVM merges the counts, and a
# second release build lays out and inlines the code by them. Same
# behaviour and same output bytes as `cargo build --release`; faster
# (BENCHMARKS.md, "Hot path and a profile-guided build").
#
#   scripts/pgo-build.sh            # -> target/pgo/release/sim
#
# Needs the llvm-profdata that matches rustc's LLVM:
#   rustup component add llvm-tools
# Takes two release builds (about 10 minutes on 2 cores) and writes only
# under target/pgo/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

sysroot="$(rustc --print sysroot)"
host="$(rustc -vV | sed -n 's/^host: //p')"
profdata="$sysroot/lib/rustlib/$host/bin/llvm-profdata"
if [[ ! -x "$profdata" ]]; then
    echo "pgo-build: $profdata not found; install it with: rustup component add llvm-tools" >&2
    exit 2
fi

work="$root/target/pgo"
raw="$work/profraw"
runs="$work/training-runs"
rm -rf "$raw" "$runs" "$work/merged.profdata"
mkdir -p "$raw" "$runs"

echo "pgo-build: 1/3 instrumented build" >&2
RUSTFLAGS="-Cprofile-generate=$raw" \
    cargo build --release --locked --bin sim --target-dir "$work/instrumented"

# Training: the SimBlock comparison at both sizes (the relay and chain code
# the benchmark runs) and the classroom scenarios (payments, forks,
# attacks), each once. Build scripts ran above with instrumentation too:
# start from an empty directory so only `sim` runs are counted.
rm -rf "$raw"
mkdir -p "$raw"
echo "pgo-build: 2/3 training runs" >&2
for s in simblock_compare_10k simblock_compare compact_blocks three_nodes \
    selfish_mining double_spend partition_heal; do
    LLVM_PROFILE_FILE="$raw/sim-%p-%m.profraw" \
        "$work/instrumented/release/sim" run "scenarios/$s.yaml" \
        --quiet --no-charts --out "$runs/$s"
done
"$profdata" merge -o "$work/merged.profdata" "$raw"

echo "pgo-build: 3/3 optimised build" >&2
RUSTFLAGS="-Cprofile-use=$work/merged.profdata" \
    cargo build --release --locked --bin sim --target-dir "$work"
rm -rf "$runs"
echo "pgo-build: done: $work/release/sim" >&2
