#!/usr/bin/env bash
# Runs every test: the unit tests, then the netns tests (real TUN devices, routes and traffic
# between network namespaces; needs root, iperf3, sockperf, netperf, xenstore-utils, and for the
# real-systemd test systemd-container and debootstrap: .ci/run installs them).
# Ends with one line "N passed, N failed" over all of them; exits non-zero if any failed.
#   XENVMC_SKIP_NETNS=1 ./test.sh   runs the unit tests only
#   XENVMC_SKIP_SOAK=1 ./test.sh    leaves out the 8-guest soak test (about 2 min of the netns tests)
#   XENVMC_SKIP_AFL=1 ./test.sh     leaves out the coverage-guided fuzzing (tests/fuzz/afl.sh: ~2-3 min,
#                                   12 s of afl-fuzz per target; each target counts as one test)
#   XENVMC_SKIP_XEN=1 ./test.sh     leaves out the Xen 4.17 test bed under QEMU (tests/xen/run.sh:
#                                   ~8-10 min with its images cached, both cores, ~3 GB); each of
#                                   its checks counts as one test
#   XENVMC_XEN_ATTEMPTS=N           boots of the test bed before it counts as failed (default 2:
#                                   software emulation on a busy 2-core machine has starved or hung a
#                                   guest kernel; a failed first boot is reported, then booted again)
set -uo pipefail
cd "$(dirname "$0")"
./build.sh || { echo "0 passed, 1 failed"; exit 1; }
results="$PWD/.results"
rm -rf "$results"
mkdir -p "$results"

status=0
run() { # project [dotnet test options...]
    local name
    name=$(basename "$1")
    dotnet test "$@" -c Release --nologo --logger "trx;LogFileName=$name.trx" --results-directory "$results" || status=1
}

projects=$(ls -d tests/*/ | while read -r d; do ls "$d"*.csproj >/dev/null 2>&1 && echo "${d%/}"; done)
for project in $projects; do
    run "$project"
done
if [ "${XENVMC_SKIP_AFL:-0}" != 1 ]; then
    tests/fuzz/afl.sh --trx "$results/afl.trx" || status=1
fi
if [ "${XENVMC_SKIP_NETNS:-0}" != 1 ]; then
    bin/xenvmc-sim down >/dev/null 2>&1 || true
    if [ "${XENVMC_SKIP_SOAK:-0}" = 1 ]; then
        run netns-tests/XenVmc.NetnsTests --filter "Category!=Soak"
    else
        run netns-tests/XenVmc.NetnsTests
    fi
    bin/xenvmc-sim down >/dev/null 2>&1 || true
fi
if [ "${XENVMC_SKIP_XEN:-0}" != 1 ]; then
    attempts=${XENVMC_XEN_ATTEMPTS:-2}
    for attempt in $(seq 1 "$attempts"); do
        XENVMC_XEN_TRX="$results/xen-testbed.trx" tests/xen/run.sh && { xen=0; break; }
        xen=1
        failed_checks=$(grep -o '<UnitTestResult testName="xen testbed: [^"]*" outcome="Failed"' "$results/xen-testbed.trx" 2>/dev/null \
            | sed 's/.*xen testbed: \([^"]*\)".*/\1/' | tr '\n' ' ')
        echo "[test] Xen test bed, boot $attempt of $attempts: FAILED (${failed_checks:-no result}); its logs are kept in .results/xen-boot$attempt"
        cp -a "${XENVMC_XEN_CACHE:-/var/cache/xenvmc-testbed}/share/out" "$results/xen-boot$attempt" 2>/dev/null
    done
    [ "$attempt" -gt 1 ] && [ "$xen" = 0 ] && echo "[test] Xen test bed passed on boot $attempt of $attempts; the failed boot's checks are listed above"
    [ "$xen" = 0 ] || status=1
fi

passed=0
failed=0
for trx in "$results"/*.trx; do
    [ -f "$trx" ] || continue
    counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
    p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
    f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
done
# A project that did not even produce results counts as a failure.
expected=$(wc -w <<<"$projects")
[ "${XENVMC_SKIP_AFL:-0}" != 1 ] && expected=$((expected + 1))
[ "${XENVMC_SKIP_NETNS:-0}" != 1 ] && expected=$((expected + 1))
[ "${XENVMC_SKIP_XEN:-0}" != 1 ] && expected=$((expected + 1))
produced=$(ls "$results"/*.trx 2>/dev/null | wc -l)
if [ "$produced" -lt "$expected" ]; then
    failed=$((failed + expected - produced))
    status=1
fi
[ "$failed" -gt 0 ] && status=1
echo "$passed passed, $failed failed"
exit $status
