#!/usr/bin/env bash
# Runs every test: the unit tests, then the netns tests (real TUN devices, routes and traffic
# between network namespaces; needs root, iperf3, sockperf and xenstore-utils).
# Ends with one line "N passed, N failed" over all of them; exits non-zero if any failed.
#   XENVMC_SKIP_NETNS=1 ./test.sh   runs the unit tests only
#   XENVMC_SKIP_SOAK=1 ./test.sh    leaves out the 8-guest soak test (about 2 min of the netns tests)
#   XENVMC_XEN=1 ./test.sh          also runs the Xen 4.17 test bed under QEMU (tests/xen/run.sh,
#                                   ~10-15 min, both cores, ~3 GB); it counts as one test
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
if [ "${XENVMC_SKIP_NETNS:-0}" != 1 ]; then
    bin/xenvmc-sim down >/dev/null 2>&1 || true
    if [ "${XENVMC_SKIP_SOAK:-0}" = 1 ]; then
        run netns-tests/XenVmc.NetnsTests --filter "Category!=Soak"
    else
        run netns-tests/XenVmc.NetnsTests
    fi
    bin/xenvmc-sim down >/dev/null 2>&1 || true
fi
if [ "${XENVMC_XEN:-0}" = 1 ]; then
    XENVMC_XEN_TRX="$results/xen-testbed.trx" tests/xen/run.sh || status=1
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
[ "${XENVMC_SKIP_NETNS:-0}" != 1 ] && expected=$((expected + 1))
[ "${XENVMC_XEN:-0}" = 1 ] && expected=$((expected + 1))
produced=$(ls "$results"/*.trx 2>/dev/null | wc -l)
if [ "$produced" -lt "$expected" ]; then
    failed=$((failed + expected - produced))
    status=1
fi
[ "$failed" -gt 0 ] && status=1
echo "$passed passed, $failed failed"
exit $status
