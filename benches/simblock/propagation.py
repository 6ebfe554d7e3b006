#!/usr/bin/env python3
"""Block propagation statistics of one run, forklab's or SimBlock's.

    propagation.py forklab RUN_DIR/propagation.csv NODES
    propagation.py simblock SIMBLOCK_STDOUT NODES

For each block, the time at which ceil(q * NODES) nodes had it (q = 0.5 and
0.9; forklab's definition, applied to SimBlock's `node,ms` lines); prints the
median and the mean of those times over the blocks, in ms.
"""
import csv
import math
import statistics
import sys


def simblock(path, n):
    blocks, cur = [], None
    for line in open(path):
        line = line.strip()
        if "@" in line and ":" in line:
            cur = []
            blocks.append(cur)
        elif not line:
            cur = None
        elif cur is not None and "," in line:
            cur.append(int(line.split(",")[1]))
    out = {0.5: [], 0.9: []}
    for times in blocks:
        times.sort()
        for q, acc in out.items():
            k = math.ceil(q * n)
            if len(times) >= k:
                acc.append(times[k - 1])
    return out


def forklab(path, _n):
    out = {0.5: [], 0.9: []}
    for row in csv.DictReader(open(path)):
        for q, col in ((0.5, "p50_ms"), (0.9, "p90_ms")):
            if row[col]:
                out[q].append(float(row[col]))
    return out


def main():
    kind, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    t = {"forklab": forklab, "simblock": simblock}[kind](path, n)
    print(
        f"blocks={len(t[0.5])} median_p50={statistics.median(t[0.5]):.0f} "
        f"median_p90={statistics.median(t[0.9]):.0f} "
        f"mean_p50={statistics.mean(t[0.5]):.0f} mean_p90={statistics.mean(t[0.9]):.0f}"
    )


if __name__ == "__main__":
    main()
