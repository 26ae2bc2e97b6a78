#!/usr/bin/env bash
# Benchmark of the simulated xenstored: starts `xenvmc-sim store` in a temp dir, runs
# `xenvmc-sim store-bench` against it (10,000 write+read round trips, the same pipelined,
# a storm of 1,000 watch events), prints the figures, stops the store and cleans up.
# A script to run by hand, not a timed test: figures depend on the machine.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
configuration="${CONFIGURATION:-Release}"
work="$(mktemp -d /tmp/xenvmc-bench-xs.XXXXXX)"
store_pid=""

cleanup() {
    if [[ -n "$store_pid" ]] && kill -0 "$store_pid" 2>/dev/null; then
        kill -TERM "$store_pid" 2>/dev/null || true
        wait "$store_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

dotnet build "$repo/src/XenVmc.Sim" -c "$configuration" -o "$work/bin" -nologo -v quiet >"$work/build.log" 2>&1 \
    || { cat "$work/build.log" >&2; exit 1; }
sim="$work/bin/xenvmc-sim"

"$sim" store --socket "$work/socket" --domains "$work/domains" >"$work/store.log" 2>&1 &
store_pid=$!
for _ in $(seq 1 100); do
    [[ -S "$work/socket" ]] && break
    kill -0 "$store_pid" 2>/dev/null || { cat "$work/store.log" >&2; exit 1; }
    sleep 0.1
done
[[ -S "$work/socket" ]] || { echo "store did not start" >&2; cat "$work/store.log" >&2; exit 1; }

echo "xenvmc-sim store-bench ($configuration, $(nproc) CPUs, $(uname -r))"
"$sim" store-bench --socket "$work/socket" "$@"

kill -TERM "$store_pid"
wait "$store_pid"
store_pid=""
if [[ -e "$work/socket" ]]; then
    echo "store left its socket behind" >&2
    exit 1
fi
