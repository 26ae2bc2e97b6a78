#!/usr/bin/env bash
# Runs the Xen test bed: builds (or reuses) the images with build.sh, boots Xen 4.17 and a Debian
# dom0 under qemu-system-x86_64 -accel tcg, and runs dom0-run.sh there: two PV guests on xenbr0
# with xenvmc-guest, xenvmc-dom0 in dom0; ping, TCP and UDP through netfront and through the
# bypass, fallback when a daemon stops and when a guest shuts down. Prints a report (PASS/FAIL per
# check, bypass ÷ netfront) and exits non-zero if any check failed or the run did not finish.
#   XENVMC_XEN_CACHE    image cache (default /var/cache/xenvmc-testbed)
#   XENVMC_XEN_TIMEOUT  seconds the QEMU machine may run (default 1080); then it is killed and the
#                       report says which step hung
#   XENVMC_XEN_BOOT_TIMEOUT  seconds dom0 may take to start the scenario (default 240; it takes ~40)
#   XENVMC_XEN_TRX      also write a one-test .trx result file here (for test.sh)
#   XENVMC_XEN_NO_BUILD=1  skip build.sh
# QEMU takes both cores and ~3 GB; it runs under flock /tmp/xenvmc-heavy.lock (never two at once).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
C=${XENVMC_XEN_CACHE:-/var/cache/xenvmc-testbed}
TIMEOUT=${XENVMC_XEN_TIMEOUT:-1080}
BOOT_TIMEOUT=${XENVMC_XEN_BOOT_TIMEOUT:-240}
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root" >&2; exit 2; }
START=$SECONDS
if [ -z "${XENVMC_XEN_LOCKED:-}" ]; then
    if [ "${XENVMC_XEN_NO_BUILD:-0}" != 1 ]; then
        "$HERE/build.sh" || { echo "run.sh: build failed"; status=1; build_failed=1; }
    fi
    if [ -z "${status:-}" ]; then
        echo "[run] build took $((SECONDS - START)) s; waiting for /tmp/xenvmc-heavy.lock"
        XENVMC_XEN_LOCKED=1 XENVMC_XEN_START=$START flock -o /tmp/xenvmc-heavy.lock "$0" "$@"
        status=$?
    fi
    if [ -n "${XENVMC_XEN_TRX:-}" ]; then
        # One test per check of the report, plus run-complete (the scenario reached its end) or
        # build (the images could not be built).
        results=$(
            if [ "${build_failed:-0}" = 1 ]; then
                echo "FAIL build"
            else
                cat "$C/share/out/checks" 2>/dev/null
                if [ "$(cat "$C/share/out/step" 2>/dev/null)" = done ]; then echo "PASS run-complete"; else echo "FAIL run-complete"; fi
            fi | awk '$1 == "PASS" || $1 == "FAIL" { print $1, $2 }')
        # a failed run always shows as a failed test, even when no check line says why
        [ "$status" != 0 ] && ! grep -q '^FAIL' <<<"$results" && results+=$'\nFAIL run-result'
        p=$(grep -c '^PASS' <<<"$results"); f=$(grep -c '^FAIL' <<<"$results")
        outcome=Passed; [ "$status" = 0 ] && [ "$f" = 0 ] || outcome=Failed
        {
            echo '<?xml version="1.0" encoding="UTF-8"?>'
            echo '<TestRun name="xen-testbed" xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">'
            echo '  <Results>'
            while read -r r name; do
                [ "$r" = PASS ] && o=Passed || o=Failed
                echo "    <UnitTestResult testName=\"xen testbed: $name\" outcome=\"$o\" />"
            done <<<"$results"
            echo '  </Results>'
            echo "  <ResultSummary outcome=\"$outcome\"><Counters total=\"$((p + f))\" executed=\"$((p + f))\" passed=\"$p\" failed=\"$f\" /></ResultSummary>"
            echo '</TestRun>'
        } > "$XENVMC_XEN_TRX"
    fi
    exit "$status"
fi
START=${XENVMC_XEN_START:-$START}

S=$C/share
OUT=$S/out
rm -rf "$OUT"; mkdir -p "$OUT"
install -m755 "$HERE/dom0-run.sh" "$S/dom0-run.sh"
rm -f "$S/env"; [ -n "${XENVMC_XEN_ENV:-}" ] && printf '%s\n' "$XENVMC_XEN_ENV" > "$S/env"
SERIAL=$OUT/serial.log
QSTART=$SECONDS
# The three options without which Xen does not run correctly under TCG (see the reference README):
# smap=0 smep=0 for Xen, no AVX/XSAVE in the emulated CPU, and -accel tcg.
qemu-system-x86_64 -name xenvmc-testbed -accel tcg,thread=multi \
    -cpu max,-avx,-avx2,-xsave,-xsaveopt,-xsavec,-xsaves -smp 2 -m 2048 -machine pc \
    -display none -nic none -monitor none -serial "file:$SERIAL" -no-reboot -snapshot \
    -kernel "$S/xen.bin" \
    -append "console=com1 com1=115200,8n1 dom0_mem=512M,max:512M loglvl=all guest_loglvl=all noreboot smap=0 smep=0" \
    -initrd "$S/vmlinuz console=hvc0 earlyprintk=xen root=/dev/vda rw init=/sbin/xenvmc-dom0-init,$S/dom0-initrd.img" \
    -drive "file=$C/dom0.img,if=virtio,format=raw,cache=unsafe" \
    -virtfs "local,path=$S,mount_tag=share,security_model=none,id=share" \
    </dev/null >"$OUT/qemu.out" 2>&1 &
QPID=$!
echo "[run] QEMU pid $QPID; serial console in $SERIAL; timeout $TIMEOUT s"
stop_qemu() {
    kill -TERM "$QPID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$QPID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$QPID" 2>/dev/null
    wait "$QPID" 2>/dev/null
}
trap 'stop_qemu; exit 130' INT TERM
ended=timeout laststep=
while [ $((SECONDS - QSTART)) -lt "$TIMEOUT" ]; do
    if ! kill -0 "$QPID" 2>/dev/null; then ended=qemu-exited; break; fi
    if grep -q 'XENVMC-TESTBED-END' "$SERIAL" 2>/dev/null; then ended=finished; break; fi
    s=$(cat "$OUT/step" 2>/dev/null)
    [ "$s" != "$laststep" ] && { echo "[run] $((SECONDS - QSTART)) s: $s"; laststep=$s; }
    # dom0 starts the scenario ~40 s after QEMU does; once its kernel stopped at 3.4 s of boot
    # under emulation and sat there until the timeout: a boot that stalls fails early
    if [ -z "$s" ] && [ $((SECONDS - QSTART)) -ge "$BOOT_TIMEOUT" ]; then ended=dom0-boot-stalled; break; fi
    sleep 2
done
QTIME=$((SECONDS - QSTART))
stop_qemu
trap - INT TERM

# Kernel trouble on a console fails the run, naming its first line: each guest's console
# (console/guest-<name>.log) and dom0's kernel (the serial log without Xen's own "(XEN)" lines).
CONSOLE_BAD='(^|[^A-Za-z])(BUG|Oops)([^A-Za-z]|$)|WARNING:|segfault|general protection|Kernel panic'
console_check() { # NAME FILE
    local first n
    first=$(grep -a -m1 -E "$CONSOLE_BAD" "$2" 2>/dev/null | tr -d '\r' | cut -c1-200)
    n=$(grep -a -c -E "$CONSOLE_BAD" "$2" 2>/dev/null)
    if [ -n "$first" ]; then echo "FAIL console-clean-$1 $n bad lines in $(basename "$2"), the first: $first"
    else echo "PASS console-clean-$1 no BUG, Oops, WARNING:, segfault, general protection or panic in $(basename "$2")"; fi
}
if [ -s "$OUT/checks" ]; then
    for g in "$OUT"/console/guest-*.log; do
        [ -f "$g" ] || continue
        n=$(basename "$g" .log); console_check "${n#guest-}" "$g" >> "$OUT/checks"
    done
    grep -a -v '^(XEN)' "$SERIAL" > "$OUT/dom0-console.log" 2>/dev/null
    console_check dom0 "$OUT/dom0-console.log" >> "$OUT/checks"
fi

fig() { sed -n "s/^$1=//p" "$OUT/figures" 2>/dev/null | tail -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo
echo "==== XenVMC on Xen 4.17 under QEMU TCG: report ===="
cat "$OUT/checks" 2>/dev/null
fail=0
if [ "$ended" != finished ]; then
    fail=1
    echo "FAIL run-complete the QEMU machine did not finish ($ended after $QTIME s); last step: $(cat "$OUT/step" 2>/dev/null || echo 'none (dom0 scenario never started)')"
    [ -s "$OUT/hung" ] && sed 's/^/  no answer: /' "$OUT/hung"
    echo "  last serial console lines:"; tail -15 "$SERIAL" 2>/dev/null | sed 's/^/    /'
    for g in "$OUT"/console/guest-*.log; do [ -f "$g" ] && { echo "  $(basename "$g"):"; tail -8 "$g" | sed 's/^/    /'; }; done
elif [ "$(cat "$OUT/step" 2>/dev/null)" != done ]; then
    fail=1
    echo "FAIL run-complete the scenario stopped at step: $(cat "$OUT/step" 2>/dev/null)"
fi
grep -q '^FAIL' "$OUT/checks" 2>/dev/null && fail=1
[ -s "$OUT/checks" ] || fail=1
echo
printf '%-10s %12s %12s %14s\n' path "TCP Mbit/s" "ping avg ms" "UDP Mbit/s"
for p in netfront bypass; do
    printf '%-10s %12s %12s %14s\n' $p "$(fig tcp_mbps_$p)" "$(fig ping_avg_ms_$p)" "$(fig udp_mbps_$p)"
done
echo "bypass / netfront: TCP throughput $(ratio "$(fig tcp_mbps_bypass)" "$(fig tcp_mbps_netfront)")x, ping latency $(ratio "$(fig ping_avg_ms_bypass)" "$(fig ping_avg_ms_netfront)")x"
echo "guests ready $(fig create_to_ready_s) s after xl create; paired $(fig pair_s) s after the daemons started"
echo "QEMU ran $QTIME s; whole run $((SECONDS - START)) s; logs in $OUT"
if [ $fail = 0 ]; then echo "RESULT: PASS"; else echo "RESULT: FAIL"; fi
exit $fail
