#!/usr/bin/env bash
# The sharded sweep on a real Slurm: installs Debian's slurm-wlm and munge if
# missing, starts a one-node cluster on this machine (munged with a freshly
# generated key, slurmctld and slurmd on 127.0.0.1, everything in a
# temporary directory), writes the job array with `sim sweep --slurm`,
# submits it (array + dependent merge), waits (bounded) and checks that the
# merged sweep is byte for byte the single-machine sweep.
#
# Run as root from anywhere: bash .ci/slurm_test.sh
# SIM=path/to/sim uses that binary (default: target/release/sim, built if
# missing). Skips (exit 0, with a SKIP line) only when the packages cannot
# be installed. Stops every daemon it started, by PID, on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

need=()
for cmd in slurmctld slurmd sbatch munged mungekey; do
    command -v "$cmd" >/dev/null 2>&1 || need=(slurm-wlm munge)
done
if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]} (Debian packages)"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; }; then
        echo "SKIP: the Slurm test needs Debian's slurm-wlm and munge, which cannot be installed here"
        exit 0
    fi
fi

sim="${SIM:-$repo/target/release/sim}"
if [ ! -x "$sim" ]; then
    cargo build --release --quiet
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/forklab-slurm.XXXXXX")"
chmod 755 "$work"
pids=()
munge_pid_file="$work/munge-run/munged.pid"
cleanup() {
    status=$?
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ -f "$munge_pid_file" ]; then
        munge_pid="$(cat "$munge_pid_file")"
        kill "$munge_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$munge_pid" 2>/dev/null || break; sleep 0.1; done
    fi
    if [ "$status" -ne 0 ]; then
        echo "--- Slurm test failed; daemon and job logs follow"
        for f in "$work"/log/* "$work"/munge/munged.log "$work"/sweep-slurm/logs/*; do
            [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }
        done
    fi
    rm -rf "$work" || true
    exit "$status"
}
trap cleanup EXIT

# munge: its own key, socket and files, run as the munge user.
# The key's directory is private; the socket's must be open to every user.
mkdir -p "$work/munge" "$work/munge-run" "$work/log"
mungekey --create --keyfile="$work/munge/munge.key" --force
chown -R munge:munge "$work/munge" "$work/munge-run"
chmod 700 "$work/munge"
chmod 755 "$work/munge-run"
chmod 400 "$work/munge/munge.key"
socket="$work/munge-run/munge.socket"
runuser -u munge -- munged --key-file="$work/munge/munge.key" --socket="$socket" \
    --pid-file="$munge_pid_file" --log-file="$work/munge/munged.log" \
    --seed-file="$work/munge/munged.seed"
for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done
munge --socket="$socket" -n | unmunge --socket="$socket" >/dev/null
echo "munged: up (key generated in a temporary directory)"

# A one-node cluster on loopback; ports overridable if taken.
host="$(hostname -s)"
cpus="$(nproc)"
mkdir -p "$work/state" "$work/spool"
cat >"$work/slurm.conf" <<EOF
ClusterName=forklabci
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=${SLURMCTLD_PORT:-16817}
SlurmdPort=${SLURMD_PORT:-16818}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$work/slurm.conf"
slurmctld -D -f "$SLURM_CONF" >"$work/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >"$work/log/slurmd.out" 2>&1 &
pids+=($!)
state=""
for _ in $(seq 60); do
    state="$(sinfo -h -o %T 2>/dev/null || true)"
    [ "$state" = idle ] && break
    sleep 1
done
if [ "$state" != idle ]; then
    echo "the one-node cluster did not come up (node state: ${state:-none})"
    exit 1
fi
echo "slurm: one-node cluster up ($host, $cpus CPUs, $(slurmctld -V))"

# Prints job $1's state once it has ended (or whatever it is after 180 s).
wait_job() {
    local state=""
    for _ in $(seq 180); do
        state="$(scontrol show job "$1" -o 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')"
        case "$state" in
            COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY) break ;;
        esac
        sleep 1
    done
    echo "$state"
}

# The sweep: 2 grid points x 3 seeds = 6 runs in 3 shards.
sweep_args=(scenarios/difficulty_classroom.yaml --param consensus.difficulty_bits=10,12
    --seeds 3 --set stop.height=8)
"$sim" sweep "${sweep_args[@]}" --out "$work/sweep" --slurm --shards 3 --jobs 1
submitted="$(bash "$work/sweep-slurm/sweep.sbatch")"
echo "$submitted"
array="$(sed -n 's/^submitted job array \([0-9]*\) .*/\1/p' <<<"$submitted")"
merge="$(sed -n 's/.* merge job \([0-9]*\) .*/\1/p' <<<"$submitted")"
[ -n "$array" ] && [ -n "$merge" ]

# Wait (at most 3 minutes) for the merge job to end.
merge_state="$(wait_job "$merge")"
echo "merge job $merge: ${merge_state:-unknown}"
[ "$merge_state" = COMPLETED ]
# afterok held the merge back: it started no earlier than the last shard ended.
merge_start="$(scontrol show job "$merge" -o | sed -n 's/.* StartTime=\([^ ]*\).*/\1/p')"
last_end="$(scontrol show job "$array" -o | sed -n 's/.* EndTime=\([^ ]*\).*/\1/p' | sort | tail -1)"
echo "array tasks: $(scontrol show job "$array" -o | grep -c JobState=COMPLETED) completed, the last at $last_end; merge started $merge_start"
[ "$(scontrol show job "$array" -o | grep -c JobState=COMPLETED)" = 3 ]
[[ ! "$merge_start" < "$last_end" ]]
for k in 1 2 3; do
    test -f "$work/sweep-slurm/shard-$k-of-3/shard_manifest.json"
    grep -q "shard $k/3: 2 of 2 runs succeeded" "$work/sweep-slurm/logs/shard-$k.out"
done

# The same sweep on one machine; every file must be byte-identical.
"$sim" sweep "${sweep_args[@]}" --out "$work/single" --quiet
diff -r "$work/single" "$work/sweep"
files="$(find "$work/single" -type f | wc -l)"
echo "merged sweep from Slurm equals the single-machine sweep byte for byte ($files files)"

# A failed shard: the merge never starts (afterok), and the README's
# recovery (rerun that task, then merge) gives the same files.
"$sim" sweep "${sweep_args[@]}" --out "$work/again" --slurm --shards 3 --jobs 1 --quiet
touch "$work/again-slurm/shard-2-of-3" # a file where shard 2 must write: it fails
submitted="$(bash "$work/again-slurm/sweep.sbatch")"
array="$(sed -n 's/^submitted job array \([0-9]*\) .*/\1/p' <<<"$submitted")"
merge="$(sed -n 's/.* merge job \([0-9]*\) .*/\1/p' <<<"$submitted")"
for k in 1 2 3; do wait_job "${array}_$k" >/dev/null; done
reason=""
for _ in $(seq 30); do
    reason="$(scontrol show job "$merge" -o | sed -n 's/.* Reason=\([^ ]*\).*/\1/p')"
    [ "$reason" = DependencyNeverSatisfied ] && break
    sleep 1
done
echo "with shard 2/3 failed ($(scontrol show job "${array}_2" -o | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')), the merge job waits: ${reason:-no reason}"
[ "$reason" = DependencyNeverSatisfied ]
[ ! -e "$work/again" ]
scancel "$merge"
rm "$work/again-slurm/shard-2-of-3"
rerun="$(sbatch --parsable --array=2 "$work/again-slurm/sweep.sbatch")"
[ "$(wait_job "${rerun%%;*}")" = COMPLETED ] || [ "$(wait_job "${rerun%%;*}_2")" = COMPLETED ]
bash "$work/again-slurm/sweep.sbatch" merge >/dev/null
diff -r "$work/single" "$work/again"
echo "after rerunning shard 2/3 alone and merging, the sweep again equals the single-machine sweep"
