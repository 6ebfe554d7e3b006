#!/usr/bin/env bash
# Block propagation of forklab and SimBlock on SimBlock's 2019 Bitcoin network,
# over several seeds of each (BENCHMARKS.md, "Compact block relay against
# SimBlock"). Not run in CI: SimBlock at 10,000 nodes takes about a minute of
# CPU per seed.
#
#   benches/simblock/side_by_side.sh SIMBLOCK_CHECKOUT NODES "SEEDS"
#   e.g. benches/simblock/side_by_side.sh ../simblock 1000 "1 2 3 4 5"
#
# SIMBLOCK_CHECKOUT: a clone of github.com/dsg-titech/simblock (compared at
# 5fc7f9f); its sources are copied to a scratch directory per seed with
# NUM_OF_NODES, END_BLOCK_HEIGHT = 100 and the seed of `new Random(..)` edited,
# compiled with javac and run. forklab runs scenarios/simblock_compare.yaml
# (1,000 nodes) or simblock_compare_10k.yaml (10,000) with --set seed=S.
set -euo pipefail
sb=$(cd "$1" && pwd); nodes=$2; seeds=$3
here=$(cd "$(dirname "$0")" && pwd); repo=$(cd "$here/../.." && pwd)
sim=${SIM:-$repo/target/release/sim}
case $nodes in
  1000) scenario=$repo/scenarios/simblock_compare.yaml ;;
  10000) scenario=$repo/scenarios/simblock_compare_10k.yaml ;;
  *) echo "NODES must be 1000 or 10000" >&2; exit 2 ;;
esac
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
src=$sb/simulator/src/main
for s in $seeds; do
  d=$work/sb$s; mkdir -p "$d/output/graph"; cp -r "$src/java" "$d/src"; cp -r "$sb/simulator/src/dist/conf" "$d/conf"
  sed -i -e "s/NUM_OF_NODES = [0-9]*;/NUM_OF_NODES = $nodes;/" \
         -e "s/END_BLOCK_HEIGHT = [0-9]*;/END_BLOCK_HEIGHT = 100;/" \
         "$d/src/simblock/settings/SimulationConfiguration.java"
  sed -i "s/new Random([0-9]*)/new Random($s)/" "$d/src/simblock/simulator/Main.java"
  (cd "$d" && javac -d classes $(find src -name '*.java') \
     && /usr/bin/time -f "%U %M" -o time.txt java -cp classes:conf simblock.simulator.Main > stdout.txt 2> stderr.txt)
  echo "simblock seed=$s $(python3 "$here/propagation.py" simblock "$d/stdout.txt" "$nodes") user_s,peak_kb=$(tr ' ' , < "$d/time.txt")"
  /usr/bin/time -f "%U %M" -o "$work/fk_time.txt" "$sim" run "$scenario" --quiet --no-charts --no-db \
     --out "$work/fk$s" --set seed="$s" > /dev/null
  echo "forklab  seed=$s $(python3 "$here/propagation.py" forklab "$work/fk$s/propagation.csv" "$nodes") user_s,peak_kb=$(tr ' ' , < "$work/fk_time.txt")"
  rm -rf "$d" "$work/fk$s"
done
