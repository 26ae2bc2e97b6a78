#!/usr/bin/env bash
# Dom0's reconcile at scale: starts `xenvmc-sim store` in a temp dir and bin/xenvmc-dom0 against
# it, then runs `xenvmc-sim reconcile-bench` (99 ready guests on one bridge, then guest 100
# introduced and destroyed R times; the time until every peer table in the store is right).
#
#   netns-tests/bench-reconcile.sh [--domains N] [--rounds R]
#
# Needs a built bin/ (./build.sh). No namespaces and no fixed paths, so no netns lock; figures
# depend on the machine (a script to run by hand, not a timed test).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d /tmp/xenvmc-bench-reconcile.XXXXXX)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
[[ -x $repo/bin/xenvmc-sim && -x $repo/bin/xenvmc-dom0 ]] || { echo "bench-reconcile: build first (./build.sh)" >&2; exit 1; }

"$repo/bin/xenvmc-sim" store --socket "$work/socket" --domains "$work/domains" >"$work/store.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [[ -S "$work/socket" ]] && break; sleep 0.1; done
[[ -S "$work/socket" ]] || { echo "store did not start" >&2; cat "$work/store.log" >&2; exit 1; }
"$repo/bin/xenvmc-dom0" --store "$work/socket" >"$work/dom0.log" 2>&1 &
pids=($! "${pids[@]}")

echo "xenvmc-sim reconcile-bench ($(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
"$repo/bin/xenvmc-sim" reconcile-bench --socket "$work/socket" "$@"
