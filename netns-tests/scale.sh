#!/usr/bin/env bash
# Scale of the simulated host: time for N guests to pair and each daemon's memory with N-1 peers.
#
#   netns-tests/scale.sh [--guests N] [--settle S]
#
# Needs root and a built bin/ (./build.sh). Takes the netns lock itself and always ends with
# `xenvmc-sim down`. Prints `up`'s own pairing line (time to all channels paired), then, after S
# seconds (default 5) for the daemons to settle, one line per daemon from /proc/<pid>/status:
# VmRSS and its parts RssAnon (heap, stacks, runtime), RssFile (mapped binaries and libraries) and
# RssShmem (the mapped pages of the shared rings under /dev/shm, which each pair of guests shares,
# so they are not this daemon's own memory), then max and mean over the guest daemons.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SIM="$ROOT/bin/xenvmc-sim"
GUESTS=32
SETTLE=5
while [[ $# -gt 0 ]]; do
    case $1 in
        --guests) GUESTS=$2; shift 2 ;;
        --settle) SETTLE=$2; shift 2 ;;
        *) echo "usage: $0 [--guests N] [--settle S]" >&2; exit 2 ;;
    esac
done
[[ -x $SIM ]] || { echo "scale: build first (./build.sh)" >&2; exit 1; }

exec 9>/tmp/xenvmc-netns.lock
flock 9
trap '"$SIM" down >/dev/null 2>&1 || true' EXIT
"$SIM" down >/dev/null 2>&1 || true
start=$(date +%s.%N)
# Every guest pairs with every other: the lowest domid grants a channel (257 pages at 512 KiB
# rings) to each of the GUESTS-1 others, beyond Linux's default gntalloc limit of 1024 pages.
"$SIM" up --guests "$GUESTS" --wait 60 --grant-limit $(( (GUESTS - 1) * 257 > 1024 ? (GUESTS - 1) * 257 : 1024 ))
echo "scale: up returned after $(echo "$(date +%s.%N) - $start" | bc | xargs printf '%.1f') s"
sleep "$SETTLE"
printf '%-10s %7s %9s %9s %9s %9s %8s\n' daemon pid VmRSS_MB RssAnon RssFile RssShmem threads
for pidfile in /run/xenvmc-sim/pids/*.pid; do
    name=$(basename "$pidfile" .pid)
    pid=$(cat "$pidfile")
    [[ -r /proc/$pid/status ]] || continue
    awk -v n="$name" -v p="$pid" '
        /^VmRSS:/ {r=$2} /^RssAnon:/ {a=$2} /^RssFile:/ {f=$2} /^RssShmem:/ {s=$2} /^Threads:/ {t=$2}
        END {printf "%-10s %7d %9.1f %9.1f %9.1f %9.1f %8d\n", n, p, r/1024, a/1024, f/1024, s/1024, t}' "/proc/$pid/status"
done | tee /tmp/xenvmc-scale.$$ | sort -V
awk '$1 ~ /^xvmc-g/ {n++; r+=$3; if ($3>m) m=$3; x=$3-$6; xs+=x; if (x>xm) xm=x}
     END {printf "scale: %d guest daemons: VmRSS max %.1f MB, mean %.1f MB; without shared ring pages max %.1f MB, mean %.1f MB\n", n, m, r/n, xm, xs/n}' /tmp/xenvmc-scale.$$
rm -f /tmp/xenvmc-scale.$$
