#!/usr/bin/env bash
# A bounded load test of the live lab on loopback (not part of CI: ~1 min).
#
# Starts `sim serve scenarios/three_nodes.yaml --students 1000` on free
# loopback ports, then
#   1. wrk, 64 connections for 20 s, against node 0's /height and node 1's
#      /balance (throughput and latency percentiles);
#   2. 1,000 payments posted concurrently (64 at a time) with the real wallet
#      `sim wallet send`, each student paying the next one 1,000 sats,
#      spread over the three nodes;
# lets the run go on for 20 s, stops it, replays it (`sim replay` must say
# "replay ok"), and checks every accepted payment is recorded once in
# inputs.jsonl and confirmed once on the final main chain.
#
# Usage: bash tests/load/live_load.sh   (needs wrk: apt-get install wrk)
# Env: SIM (default target/release/sim), WORK (default a fresh temp dir).
set -euo pipefail
cd "$(dirname "$0")/../.."
sim="$(realpath "${SIM:-target/release/sim}")"
work="${WORK:-$(mktemp -d)}"
out="$work/out"
"$sim" serve scenarios/three_nodes.yaml --port 0 --node-port 0 --speed 5 --no-charts \
    --students 1000 --out "$out" >"$work/serve.txt" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ "$(grep -c '^student' "$work/serve.txt")" = 1000 ] && break; sleep 0.2; done
main="$(grep -o 'http://127.0.0.1:[0-9]*' "$work/serve.txt" | head -1)"
node() { grep "^node $1 API" "$work/serve.txt" | grep -o 'http://127.0.0.1:[0-9]*' | head -1; }
n0="$(node 0)"; n1="$(node 1)"; n2="$(node 2)"
grep '^student' "$work/serve.txt" | awk '{print $2, $4, $6}' | tr -d ':' >"$work/students.txt"
addr0="$(awk 'NR==1{print $2}' "$work/students.txt")"

echo "== wrk: 64 connections, 20 s, GET /height on node 0"
wrk -t2 -c64 -d20s --latency "$n0/height"
echo "== wrk: 64 connections, 20 s, GET /balance on node 1"
wrk -t2 -c64 -d20s --latency "$n1/balance?address=$addr0"

echo "== 1,000 payments, 64 at a time, through sim wallet send"
awk -v n0="$n0" -v n1="$n1" -v n2="$n2" 'NR==FNR{a[NR-1]=$2; next}
    {k=$1; print (k%3==0?n0:(k%3==1?n1:n2)), $3, a[(k+1)%1000]}' \
    "$work/students.txt" "$work/students.txt" >"$work/jobs.txt"
start=$(date +%s.%N)
export SIM_BIN="$sim" ERR_LOG="$work/errors.txt"
xargs -P 64 -L 1 sh -c '"$SIM_BIN" wallet send --node "$0" --wif "$1" --to "$2" --amount 1000 >/dev/null 2>>"$ERR_LOG"; echo $?' \
    <"$work/jobs.txt" >"$work/codes.txt" || true
end=$(date +%s.%N)
ok=$(grep -c '^0$' "$work/codes.txt" || true)
echo "accepted $ok of 1000 in $(echo "$end - $start" | bc) s wall"
sleep 20
curl -s -X POST "$main/lab/stop" >/dev/null
wait "$pid" || true
trap - EXIT
"$sim" replay "$out"
python3 - "$out" "$ok" <<'PY'
import hashlib, json, sqlite3, sys
out, ok = sys.argv[1], int(sys.argv[2])
txids = []
for line in open(f"{out}/inputs.jsonl"):
    r = json.loads(line)
    if r.get("input", {}).get("action") == "submit_tx":
        b = bytes.fromhex(r["input"]["tx"])
        txids.append(hashlib.sha256(hashlib.sha256(b).digest()).digest()[::-1].hex())
db = sqlite3.connect(f"{out}/chain.sqlite")
main = [t for (t,) in db.execute(
    "SELECT block_txs.txid FROM block_txs JOIN blocks ON blocks.hash = block_txs.block WHERE blocks.main_chain = 1")]
on_main = [t for t in main if t in set(txids)]
print(f"recorded {len(txids)} submissions ({len(set(txids))} distinct); {len(set(on_main))} confirmed on the main chain, {len(on_main) - len(set(on_main))} duplicated")
assert ok == 1000, f"only {ok} of 1000 payments accepted"
assert len(txids) == ok == len(set(txids)), "a payment was lost or recorded twice"
assert len(on_main) == len(set(on_main)), "a payment was confirmed twice"
PY
