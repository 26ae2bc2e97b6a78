#!/usr/bin/env bash
# Benchmark: the bridge path and the XenVMC bypass side by side, in one run, on one simulated host.
#
#   netns-tests/bench.sh [--seconds N] [--rounds N] [--out DIR] [--quick] [--no-reference]
#
# Needs root, a built bin/ (./build.sh), iperf3, sockperf, netperf, jq, gnuplot for the chart and a
# C compiler (cc) for the reference path. netperf is in Debian 12's non-free component: when it is
# missing, netns-tests/install-netperf.sh adds that component to the apt sources and installs it.
# Takes the netns lock itself (/tmp/xenvmc-netns.lock) and always ends with `xenvmc-sim down`.
#
# How the two paths are compared from the same minute: one `xenvmc-sim up` with the daemons
# running, and each guest's eth0 gets a second address in 198.19.0.0/24 that is not in any peer
# table. Traffic to 198.18.0.2 takes the bypass (route dev vmc0); traffic to 198.19.0.2 takes the
# plain veth -> bridge -> veth path. Every measurement is run on both paths back to back (the
# order alternates by round), and the vmc0/eth0 byte counters of each run are recorded as proof
# of the path taken.
#
# The reference path (when cc is there; --no-reference leaves it out): netns-tests/tun-copier.c,
# the smallest user-space path between the two namespaces (one TUN device in each, one thread per
# direction copying packets from one to the other, the same TUN offloads as xenvmc-guest) on
# 198.19.1.0/24, measured in the same rounds. It is what any TUN-based bypass costs at the least,
# so bypass / reference says how much of the gap to the bridge is XenVMC's own.
#
# CPU cost: the daemons' CPU seconds (from /proc/<pid>/stat) and the whole machine's (from
# /proc/stat, every core, all but idle) per GB received, for both paths: on a machine whose cores
# both tools saturate, the throughput ratio follows from these (a quiet machine is needed for the
# host figure to mean the test alone).
#
# netperf (np-stream, np-rr, np-crr, np-udp-rr: TCP_STREAM, TCP_RR, TCP_CRR, UDP_RR) runs in the
# same rounds on the same paths, against a netserver in the receiving guest.
#
# Writes DIR/raw.csv (every run), DIR/summary.csv (medians and ratios), DIR/throughput.png
# (throughput against message size, both paths), DIR/table.txt, DIR/machine.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

if [[ -z "${XENVMC_BENCH_LOCKED:-}" ]]; then
    exec env XENVMC_BENCH_LOCKED=1 flock -o /tmp/xenvmc-netns.lock "$0" "$@"
fi

SECONDS_PER_RUN=5
ROUNDS=1
OUT=""
QUICK=0
TESTS_OVERRIDE=""
REFERENCE=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --quick) QUICK=1; shift ;;
        --tests) TESTS_OVERRIDE=$2; shift 2 ;;
        --no-reference) REFERENCE=0; shift ;;
        *) echo "usage: $0 [--seconds N] [--rounds N] [--out DIR] [--quick] [--no-reference] [--tests 'tcp1 udp1400@300M ...']" >&2; exit 2 ;;
    esac
done
OUT=${OUT:-/tmp/xenvmc-bench-$(date -u +%Y%m%dT%H%M%S)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

SIM="${XENVMC_BIN:-$ROOT/bin}/xenvmc-sim"
G1=xvmc-g1
G2=xvmc-g2
BYPASS_ADDR=198.18.0.2
BRIDGE_ADDR=198.19.0.2
REF_ADDR=198.19.1.2
REF_DEV=ref0
REF_PID=""
IPERF_PORT=5201
SP_UDP_PORT=11111
SP_TCP_PORT=11112
NETPERF_PORT=12865
RUN=/run/xenvmc-sim
HZ=$(getconf CLK_TCK)
STARTED_PIDS=()

for tool in iperf3 sockperf jq; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is not installed" >&2; exit 1; }
done
if ! command -v netperf >/dev/null || ! command -v netserver >/dev/null; then
    echo "bench: netperf is not installed; installing it with netns-tests/install-netperf.sh (enables Debian's non-free component)" >&2
    "$ROOT/netns-tests/install-netperf.sh"
fi
[[ -x "$SIM" ]] || { echo "bench: $SIM not built (run ./build.sh)" >&2; exit 1; }
if [[ $REFERENCE == 1 ]] && ! command -v cc >/dev/null; then
    echo "bench: no C compiler (cc), so no reference path (apt-get install gcc)" >&2
    REFERENCE=0
fi

cleanup() {
    # Only the servers this script started, by PID; then the whole simulated host.
    local pid
    for pid in "${STARTED_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    sleep 0.5
    for pid in "${STARTED_PIDS[@]}"; do
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    "$SIM" down >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# CPU seconds (user+system) used so far by the user-space forwarders: the XenVMC daemons of the
# simulated host, and the reference copier.
forwarder_cpu() {
    local total=0 pid stat pids=()
    for f in "$RUN"/pids/xvmc-g*.pid "$RUN"/pids/dom0.pid; do
        [[ -f $f ]] && pids+=("$(cat "$f")")
    done
    [[ -n $REF_PID ]] && pids+=("$REF_PID")
    for pid in "${pids[@]}"; do
        stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        # Fields after the ")" of comm: utime is field 14, stime 15 (12th and 13th after it).
        stat=${stat##*) }
        read -r -a fields <<<"$stat"
        total=$((total + fields[11] + fields[12]))
    done
    echo "scale=3; $total / $HZ" | bc
}

# CPU seconds (all cores, everything but idle and iowait) the whole machine used so far.
host_cpu() {
    local cpu user nice system idle iowait irq softirq steal rest
    read -r cpu user nice system idle iowait irq softirq steal rest </proc/stat
    echo "scale=3; ($user + $nice + $system + $irq + $softirq + $steal) / $HZ" | bc
}

link_bytes() { # ns dev -> "rx tx"
    ip -n "$1" -s -j link show dev "$2" | jq -r '.[0].stats64 | "\(.rx.bytes) \(.tx.bytes)"'
}
ref_bytes() { if [[ -n $REF_PID ]]; then link_bytes $G1 $REF_DEV; else echo "0 0"; fi; }

wait_listen() { # ns proto port
    local i
    for i in $(seq 100); do
        if [[ -n "$(in_ns "$1" ss -Hln"$2" sport = ":$3")" ]]; then return 0; fi
        sleep 0.05
    done
    echo "bench: no listener on $2 port $3 in $1" >&2
    return 1
}

echo "bench: bringing up the simulated host (output in $OUT)"
"$SIM" down >/dev/null 2>&1 || true
"$SIM" up --guests 2 >"$OUT/up.log"
ip -n $G1 addr add 198.19.0.1/24 dev eth0
ip -n $G2 addr add 198.19.0.2/24 dev eth0
# Each path's route as the kernel picks it for that path's source address (the peer routes may
# sit in a table of their own that only the guest's own sources look up).
echo "bench: $(ip -n $G1 route get $BYPASS_ADDR from 198.18.0.1 | head -1)"
echo "bench: $(ip -n $G1 route get $BRIDGE_ADDR from 198.19.0.1 | head -1)"
[[ "$(ip -n $G1 -j route get $BYPASS_ADDR from 198.18.0.1 | jq -r '.[0].dev')" == vmc0 ]] || { echo "bench: the bypass route is missing" >&2; exit 1; }
[[ "$(ip -n $G1 -j route get $BRIDGE_ADDR from 198.19.0.1 | jq -r '.[0].dev')" == eth0 ]] || { echo "bench: the bridge address does not route via eth0" >&2; exit 1; }

PATHS=(bridge bypass)
if [[ $REFERENCE == 1 ]]; then
    cc -O2 -Wall -pthread -o "$OUT/tun-copier" "$ROOT/netns-tests/tun-copier.c"
    "$OUT/tun-copier" $G1 $REF_DEV $G2 $REF_DEV >"$OUT/tun-copier.log" 2>&1 &
    REF_PID=$!
    STARTED_PIDS+=("$REF_PID")
    for i in $(seq 100); do grep -q ready "$OUT/tun-copier.log" && break; sleep 0.05; done
    grep -q ready "$OUT/tun-copier.log" || { echo "bench: tun-copier did not start: $(cat "$OUT/tun-copier.log")" >&2; exit 1; }
    for g in 1 2; do
        ns=xvmc-g$g
        ip -n $ns link set $REF_DEV mtu 65520 up
        ip -n $ns addr add 198.19.1.$g/32 dev $REF_DEV
        ip -n $ns route add 198.19.1.$((3 - g))/32 dev $REF_DEV src 198.19.1.$g
        in_ns $ns sysctl -qw net.ipv4.conf.$REF_DEV.rp_filter=0
    done
    [[ "$(ip -n $G1 -j route get $REF_ADDR | jq -r '.[0].dev')" == "$REF_DEV" ]] || { echo "bench: the reference address does not route via $REF_DEV" >&2; exit 1; }
    PATHS+=(reference)
    echo "bench: reference path: tun-copier (pid $REF_PID), $(ip -n $G1 route get $REF_ADDR | head -1)"
fi

in_ns $G2 iperf3 -s -p $IPERF_PORT >/dev/null 2>&1 &
STARTED_PIDS+=($!)
in_ns $G2 sockperf sr -i 0.0.0.0 -p $SP_UDP_PORT >/dev/null 2>&1 &
STARTED_PIDS+=($!)
in_ns $G2 sockperf sr --tcp -i 0.0.0.0 -p $SP_TCP_PORT >/dev/null 2>&1 &
STARTED_PIDS+=($!)
in_ns $G2 netserver -D -p $NETPERF_PORT >/dev/null 2>&1 &
STARTED_PIDS+=($!)
wait_listen $G2 t $IPERF_PORT
wait_listen $G2 u $SP_UDP_PORT
wait_listen $G2 t $SP_TCP_PORT
wait_listen $G2 t $NETPERF_PORT

{
    echo "date_utc=$(date -u +%FT%TZ)"
    echo "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
    echo "cores=$(nproc)"
    echo "kernel=$(uname -r)"
    echo "dotnet=$(dotnet --version 2>/dev/null || echo '?')"
    echo "iperf3=$(iperf3 --version | head -1)"
    echo "netperf=$(netperf -V | head -1)"
    echo "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "seconds_per_run=$SECONDS_PER_RUN rounds=$ROUNDS"
} >"$OUT/machine.txt"

RAW="$OUT/raw.csv"
echo "round,test,path,metric,value,seconds,bytes,daemon_cpu_s,vmc0_tx_bytes,eth0_tx_bytes,load1,host_cpu_s,ref0_tx_bytes" >"$RAW"

# One measurement on one path: runs the tool, appends rows to raw.csv.
measure() { # round test path addr
    local round=$1 test=$2 path=$3 addr=$4
    local cpu0 cpu1 h0 h1 v0 v1 e0 e1 r0 r1 json out bytes secs load rate=()
    # "name@RATE" offers a fixed rate (iperf3 -b), so CPU per GB compares the paths' cost, not their speed.
    [[ $test == *@* ]] && rate=(-b "${test#*@}")
    cpu0=$(forwarder_cpu); h0=$(host_cpu); v0=$(link_bytes $G1 vmc0); e0=$(link_bytes $G1 eth0); r0=$(ref_bytes)
    case "${test%@*}" in
        tcp1|tcp4|tcp-l*)
            local args=(-t "$SECONDS_PER_RUN")
            [[ $test == tcp4 ]] && args+=(-P 4)
            [[ $test == tcp-l* ]] && args+=(-l "${test#tcp-l}")
            args+=("${rate[@]}")
            json=$(in_ns $G1 iperf3 -c "$addr" -p $IPERF_PORT -J "${args[@]}")
            bytes=$(jq -r '.end.sum_received.bytes' <<<"$json")
            secs=$(jq -r '.end.sum_received.seconds' <<<"$json")
            row "$(jq -r '.end.sum_received.bits_per_second / 1e9' <<<"$json")" gbps
            ;;
        udp*)
            local len=${test%@*}; len=${len#udp}
            [[ ${#rate[@]} -gt 0 ]] || rate=(-b 0)
            json=$(in_ns $G1 iperf3 -c "$addr" -p $IPERF_PORT -J -u "${rate[@]}" -l "$len" -t "$SECONDS_PER_RUN")
            bytes=$(jq -r '.end.sum_received.bytes' <<<"$json")
            secs=$(jq -r '.end.sum_received.seconds' <<<"$json")
            row "$(jq -r '.end.sum_received.bits_per_second / 1e9' <<<"$json")" gbps
            row "$(jq -r ".end.sum_received.bytes / $len / .end.sum_received.seconds" <<<"$json")" pps
            ;;
        pp-udp|pp-tcp)
            local extra=() port=$SP_UDP_PORT
            [[ $test == pp-tcp ]] && { extra=(--tcp); port=$SP_TCP_PORT; }
            out=$(in_ns $G1 sockperf pp "${extra[@]}" -i "$addr" -p $port -m 64 -t "$SECONDS_PER_RUN" 2>&1)
            bytes=0; secs=$SECONDS_PER_RUN
            row "$(sed -n 's/.*percentile 50.000 = *\([0-9.]*\).*/\1/p' <<<"$out")" p50_us
            row "$(sed -n 's/.*percentile 99.000 = *\([0-9.]*\).*/\1/p' <<<"$out")" p99_us
            ;;
        np-stream|np-rr|np-crr|np-udp-rr)
            # netperf's omni output: one line of the selected fields (-j: latency percentiles; -f m:
            # THROUGHPUT in Mbit/s, so request/response tests read TRANSACTION_RATE).
            local kind fields
            case $test in np-stream) kind=TCP_STREAM ;; np-rr) kind=TCP_RR ;; np-crr) kind=TCP_CRR ;; np-udp-rr) kind=UDP_RR ;; esac
            out=$(in_ns $G1 netperf -H "$addr" -p $NETPERF_PORT -t $kind -l "$SECONDS_PER_RUN" -j -P 0 -f m \
                -- -o THROUGHPUT,ELAPSED_TIME,REMOTE_BYTES_RECVD,P50_LATENCY,P99_LATENCY,TRANSACTION_RATE 2>&1) || echo "bench: netperf $kind to $addr failed: $out" >&2
            IFS=, read -r -a fields <<<"$(tail -1 <<<"$out")"
            secs=${fields[1]:-$SECONDS_PER_RUN}
            if [[ $test == np-stream ]]; then
                bytes=${fields[2]:-0}
                row "$(echo "scale=4; ${fields[0]:-0} / 1000" | bc)" gbps
            else
                bytes=0
                row "${fields[5]:-}" tps
                row "${fields[3]:-}" p50_us
                row "${fields[4]:-}" p99_us
            fi
            ;;
    esac
}

# Appends one row for the measurement in progress (uses measure's locals; counters read now).
row() {
    local value=$1 metric=$2
    [[ -n $value && $value != null ]] || { echo "bench: $test on $path gave no $metric" >&2; value=nan; }
    if [[ -z ${cpu1:-} ]]; then
        cpu1=$(forwarder_cpu); h1=$(host_cpu); v1=$(link_bytes $G1 vmc0); e1=$(link_bytes $G1 eth0); r1=$(ref_bytes)
        load=$(cut -d' ' -f1 /proc/loadavg)
    fi
    local cpu host vtx etx rtx
    cpu=$(echo "$cpu1 - $cpu0" | bc)
    host=$(echo "$h1 - $h0" | bc)
    vtx=$(( ${v1#* } - ${v0#* } )); etx=$(( ${e1#* } - ${e0#* } )); rtx=$(( ${r1#* } - ${r0#* } ))
    echo "$round,$test,$path,$metric,$value,$secs,$bytes,$cpu,$vtx,$etx,$load,$host,$rtx" >>"$RAW"
    printf '  %-9s %-9s %-7s %12.3f   (vmc0 tx %6.0f MB, eth0 tx %6.0f MB, ref0 tx %6.0f MB, forwarders %.2f CPU s, host %.2f CPU s)\n' \
        "$test" "$path" "$metric" "$value" "$(echo "$vtx/1000000" | bc)" "$(echo "$etx/1000000" | bc)" "$(echo "$rtx/1000000" | bc)" "$cpu" "$host"
}

TESTS=(tcp1 tcp4 udp64 udp1400 udp8192 pp-udp pp-tcp np-stream np-rr np-crr np-udp-rr tcp-l64 tcp-l1400 tcp-l8192)
[[ $QUICK == 1 ]] && TESTS=(tcp1 udp1400 pp-udp np-rr)
[[ -n $TESTS_OVERRIDE ]] && read -r -a TESTS <<<"$TESTS_OVERRIDE"

# The daemons' data path starts as unoptimized JIT code and is recompiled while it runs: without
# this, the first measurement of the bypass runs markedly slower than the same test later.
echo "bench: warm-up through the bypass (not measured)"
in_ns $G1 iperf3 -c $BYPASS_ADDR -p $IPERF_PORT -t 3 >/dev/null
in_ns $G1 iperf3 -c $BYPASS_ADDR -p $IPERF_PORT -u -b 0 -l 1400 -t 2 >/dev/null
in_ns $G1 sockperf pp -i $BYPASS_ADDR -p $SP_UDP_PORT -m 64 -t 2 >/dev/null 2>&1
sleep 1

for round in $(seq "$ROUNDS"); do
    echo "bench: round $round of $ROUNDS (load $(cut -d' ' -f1-3 /proc/loadavg))"
    for test in "${TESTS[@]}"; do
        order=("${PATHS[@]}")
        if (( round % 2 == 0 )); then order=(); for ((i = ${#PATHS[@]} - 1; i >= 0; i--)); do order+=("${PATHS[i]}"); done; fi
        for path in "${order[@]}"; do
            case $path in bridge) addr=$BRIDGE_ADDR ;; bypass) addr=$BYPASS_ADDR ;; reference) addr=$REF_ADDR ;; esac
            cpu1=""
            measure "$round" "$test" "$path" "$addr"
            sleep 1
        done
    done
done
echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"

# Medians per (test, metric, path), ratios bypass / bridge, targets from the issue.
python3 - "$RAW" "$OUT" <<'EOF'
import csv, statistics, sys
raw, out = sys.argv[1], sys.argv[2]
rows = list(csv.DictReader(open(raw)))
keys = []
values, cpu, host = {}, {}, {}
for r in rows:
    k = (r["test"], r["metric"])
    if k not in keys:
        keys.append(k)
    values.setdefault((k, r["path"]), []).append(float(r["value"]))
    if r["metric"] in ("gbps",) and float(r["bytes"]) > 0:
        cpu.setdefault((r["test"], r["path"]), []).append(float(r["daemon_cpu_s"]) / (float(r["bytes"]) / 1e9))
        if r.get("host_cpu_s"):
            host.setdefault((r["test"], r["path"]), []).append(float(r["host_cpu_s"]) / (float(r["bytes"]) / 1e9))
# target: (ratio bound, direction) on bypass / bridge
targets = {("tcp1", "gbps"): (1.15, ">="), ("tcp4", "gbps"): (1.15, ">="),
           ("udp1400", "pps"): (1.0, ">="), ("udp64", "pps"): (0.8, ">="),
           ("pp-udp", "p50_us"): (1.0, "<="), ("pp-tcp", "p50_us"): (1.0, "<="),
           ("pp-udp", "p99_us"): (1.5, "<="), ("pp-tcp", "p99_us"): (1.5, "<=")}
lines = []
with open(f"{out}/summary.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["test", "metric", "bridge", "bypass", "ratio", "target", "met", "bypass_daemon_cpu_s_per_GB", "bridge_host_cpu_s_per_GB", "bypass_host_cpu_s_per_GB",
                "reference", "reference_ratio", "bypass_per_reference", "reference_cpu_s_per_GB", "reference_host_cpu_s_per_GB"])
    hdr = (f"{'test':<10}{'metric':<8}{'bridge':>12}{'bypass':>12}{'ratio':>8}  {'target':<8}{'met':<5}{'daemon CPU s/GB':>16}{'host CPU s/GB bridge/bypass':>29}"
           f"{'reference':>12}{'ref/bridge':>11}{'bypass/ref':>11}")
    lines += [hdr, "-" * len(hdr)]
    nan = float("nan")
    for k in keys:
        b = statistics.median(values.get((k, "bridge"), [nan]))
        p = statistics.median(values.get((k, "bypass"), [nan]))
        r = statistics.median(values.get((k, "reference"), [nan]))
        ratio = p / b if b else nan
        ref_ratio = r / b if b else nan
        bypass_per_ref = p / r if r else nan
        t = targets.get(k)
        target = f"{t[1]}{t[0]}" if t else ""
        met = "" if not t else ("yes" if (ratio >= t[0] if t[1] == ">=" else ratio <= t[0]) else "NO")
        c = cpu.get((k[0], "bypass"))
        cs = f"{statistics.median(c):.2f}" if c and k[1] == "gbps" else ""
        hb, hp = host.get((k[0], "bridge")), host.get((k[0], "bypass"))
        hbs = f"{statistics.median(hb):.2f}" if hb and k[1] == "gbps" else ""
        hps = f"{statistics.median(hp):.2f}" if hp and k[1] == "gbps" else ""
        hs = f"{hbs} / {hps}" if hbs or hps else ""
        rc, rh = cpu.get((k[0], "reference")), host.get((k[0], "reference"))
        rcs = f"{statistics.median(rc):.2f}" if rc and k[1] == "gbps" else ""
        rhs = f"{statistics.median(rh):.2f}" if rh and k[1] == "gbps" else ""
        w.writerow([k[0], k[1], f"{b:.4g}", f"{p:.4g}", f"{ratio:.3f}", target, met, cs, hbs, hps,
                    f"{r:.4g}", f"{ref_ratio:.3f}", f"{bypass_per_ref:.3f}", rcs, rhs])
        refs = f"{r:>12.4g}{ref_ratio:>10.2f}x{bypass_per_ref:>10.2f}x" if r == r else ""
        lines.append(f"{k[0]:<10}{k[1]:<8}{b:>12.4g}{p:>12.4g}{ratio:>7.2f}x  {target:<8}{met:<5}{cs:>16}{hs:>29}{refs}")
# Chart data: message size -> Gbit/s for both paths.
with open(f"{out}/chart.dat", "w") as f:
    f.write("# size tcp_bridge tcp_bypass udp_bridge udp_bypass tcp_reference udp_reference (Gbit/s)\n")
    def g(test, path):
        v = values.get(((test, "gbps"), path))
        return f"{statistics.median(v):.4f}" if v else "NaN"
    for size, tcp in ((64, "tcp-l64"), (1400, "tcp-l1400"), (8192, "tcp-l8192"), (131072, "tcp1")):
        udp = f"udp{size}"
        f.write(f"{size} {g(tcp,'bridge')} {g(tcp,'bypass')} {g(udp,'bridge')} {g(udp,'bypass')} {g(tcp,'reference')} {g(udp,'reference')}\n")
open(f"{out}/table.txt", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
EOF

REF_PLOT=""
if [[ $REFERENCE == 1 ]]; then
    REF_PLOT=', "" using 1:6 with linespoints lw 1 pt 6 lc rgb "#1f77b4" title "TCP, TUN copier (reference)", "" using 1:7 with linespoints lw 1 pt 4 dt 2 lc rgb "#1f77b4" title "UDP, TUN copier (reference)"'
fi
# The chart needs at least one point of the size sweep (tcp-l*, udp*, tcp1); fixed-rate or
# latency-only runs have none.
if ! awk '!/^#/ { for (i = 2; i <= NF; i++) if ($i != "NaN") n++ } END { exit !n }' "$OUT/chart.dat"; then
    echo "bench: no message-size sweep among the tests, so no chart"
elif command -v gnuplot >/dev/null; then
    gnuplot <<EOF || echo "bench: gnuplot failed, no chart" >&2
set terminal pngcairo size 900,560 font "sans,11"
set output "$OUT/throughput.png"
set title "XenVMC bypass vs veth bridge path: throughput by message size ($(nproc)-core $(lscpu | sed -n 's/^Model name: *//p' | head -1))"
set xlabel "message size (bytes; iperf3 -l)"
set ylabel "Gbit/s received"
set logscale x 2
set xrange [40:200000]
set logscale y 10
set xtics ("64" 64, "1400" 1400, "8K" 8192, "128K" 131072)
set key top left
set grid
plot "$OUT/chart.dat" using 1:2 with linespoints lw 2 pt 7 lc rgb "#555555" title "TCP, bridge path", \
     "" using 1:3 with linespoints lw 2 pt 7 lc rgb "#d62728" title "TCP, XenVMC bypass", \
     "" using 1:4 with linespoints lw 2 pt 5 dt 2 lc rgb "#555555" title "UDP, bridge path", \
     "" using 1:5 with linespoints lw 2 pt 5 dt 2 lc rgb "#d62728" title "UDP, XenVMC bypass"$REF_PLOT
EOF
    [[ -s $OUT/throughput.png ]] && echo "bench: chart $OUT/throughput.png"
else
    echo "bench: gnuplot not installed, no chart (apt-get install gnuplot-nox)"
fi
echo "bench: results in $OUT (raw.csv, summary.csv, table.txt, machine.txt)"
