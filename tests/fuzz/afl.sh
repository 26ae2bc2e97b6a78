#!/usr/bin/env bash
# Coverage-guided fuzzing with afl++ (Debian's) and SharpFuzz: builds tests/fuzz/XenVmc.AflFuzz,
# instruments our assemblies with the sharpfuzz tool, and runs afl-fuzz on each target, seeded
# from tests/XenVmc.Fuzz.Tests/corpus/<target>. Installs afl++ and SharpFuzz.CommandLine itself.
#   tests/fuzz/afl.sh [--seconds N] [--targets "packets ring ..."] [--save] [--trx FILE]
#   --seconds N   afl-fuzz time per target (default 12: the CI run; by hand try 600)
#   --save        add afl's new queue entries, minimized with afl-cmin, to the corpora
#   --trx FILE    write one test result per target (passed: afl ran and found no crash)
# Targets: packets (parser, header views, reference parser and PacketDotNet as oracles), ring
# (the consumer on a ring image), xenstore-client (frame reader and reply parsers), peer-table
# (PeerTableEntry.TryParseAddresses, MAC, domid), config (both daemons' configuration loaders).
# A crash is an input on which a target threw: it is kept in corpus/<target>/crashes/ (not
# committed) and replayed to print the exception. Prints one line per target: execs/s, paths.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
seconds=12
targets="packets ring xenstore-client peer-table config"
save=0
trx=""
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds=$2; shift 2 ;;
        --targets) targets=$2; shift 2 ;;
        --save) save=1; shift ;;
        --trx) trx=$2; shift 2 ;;
        *) echo "usage: $0 [--seconds N] [--targets LIST] [--save] [--trx FILE]" >&2; exit 2 ;;
    esac
done
work=${XENVMC_AFL_WORK:-/tmp/xenvmc-afl}
corpus=$root/tests/XenVmc.Fuzz.Tests/corpus
start=$(date +%s)

if ! command -v afl-fuzz >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq afl++ >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq afl++ >/dev/null; } \
        || { echo "[afl] cannot install afl++"; exit 1; }
fi
tools=$work/tools
if [ ! -x "$tools/sharpfuzz" ]; then
    dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$tools" >/dev/null || { echo "[afl] cannot install SharpFuzz.CommandLine"; exit 1; }
fi

# A fresh publish each time: sharpfuzz instruments in place and refuses an instrumented file.
rm -rf "$work/bin"
dotnet publish tests/fuzz/XenVmc.AflFuzz/XenVmc.AflFuzz.csproj -c Release -o "$work/bin" --nologo -v quiet >/dev/null \
    || { echo "[afl] build failed"; exit 1; }
for assembly in XenVmc.Packets XenVmc.Rings XenVmc.XenStore XenVmc.Platform XenVmc.Guest XenVmc.Dom0; do
    "$tools/sharpfuzz" "$work/bin/$assembly.dll" >/dev/null || { echo "[afl] sharpfuzz failed on $assembly"; exit 1; }
done
prepared=$(date +%s)
echo "[afl] afl++ $(dpkg-query -W -f '${Version}' afl++ 2>/dev/null), SharpFuzz.CommandLine 2.3.0; install, build and instrumentation $((prepared - start)) s"

export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_FAST_CAL=1 \
    AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SHUFFLE_QUEUE=1
harness=("$(command -v dotnet)" "$work/bin/XenVmc.AflFuzz.dll") # a path: afl-cmin wants one
results=()
status=0
for target in $targets; do
    out=$work/out/$target
    seeds=$work/seeds/$target
    rm -rf "$out" "$seeds"
    mkdir -p "$seeds" "$work/out"
    find "$corpus/$target" -maxdepth 1 -type f -exec cp {} "$seeds/" \;
    afl-fuzz -i "$seeds" -o "$out" -V "$seconds" -t 5000 -m none -- "${harness[@]}" "$target" >"$work/$target.log" 2>&1
    stats=$out/default/fuzzer_stats
    if [ ! -f "$stats" ]; then
        echo "[afl] $target: afl-fuzz did not run; last lines of $work/$target.log:"
        tail -5 "$work/$target.log" | sed 's/\x1b\[[0-9;]*m//g'
        results+=("$target|Failed|afl-fuzz did not run")
        status=1
        continue
    fi
    get() { sed -n "s/^$1 *: *//p" "$stats"; }
    crashes=$(get saved_crashes)
    line="execs $(get execs_done), $(get execs_per_sec) execs/s, paths $(get corpus_count) (from $(ls "$seeds" | wc -l) seeds, $(get corpus_found) new), edges $(get edges_found), crashes $crashes, hangs $(get saved_hangs)"
    echo "[afl] $target: $line"
    outcome=Passed
    if [ "${crashes:-0}" -gt 0 ]; then
        outcome=Failed
        status=1
        mkdir -p "$corpus/$target/crashes"
        for crash in "$out"/default/crashes/id:*; do
            name=$(sha1sum "$crash" | cut -c1-16)
            cp "$crash" "$corpus/$target/crashes/$name"
            "${harness[@]}" "$target" --replay "$crash" | head -20
        done
        echo "[afl] $target: crashing inputs kept in $corpus/$target/crashes/"
    fi
    results+=("$target|$outcome|$line")
    if [ "$save" = 1 ] && [ "$(get corpus_found)" -gt 0 ]; then
        rm -rf "$work/min/$target"
        AFL_ALLOW_TMP=1 afl-cmin -i "$out/default/queue" -o "$work/min/$target" -t 5000 -m none -- "${harness[@]}" "$target" >"$work/$target.cmin.log" 2>&1
        added=0
        for entry in "$work/min/$target"/*; do
            [ -f "$entry" ] || continue
            name=$(sha1sum "$entry" | cut -c1-16)
            [ -e "$corpus/$target/$name" ] || { cp "$entry" "$corpus/$target/$name"; added=$((added + 1)); }
        done
        echo "[afl] $target: $added minimized inputs added to $corpus/$target"
    fi
done
echo "[afl] total $(($(date +%s) - start)) s"

if [ -n "$trx" ]; then
    passed=0
    failed=0
    {
        echo '<?xml version="1.0" encoding="utf-8"?>'
        echo '<TestRun xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">'
        echo '  <Results>'
        for result in "${results[@]}"; do
            IFS='|' read -r target outcome line <<<"$result"
            [ "$outcome" = Passed ] && passed=$((passed + 1)) || failed=$((failed + 1))
            echo "    <UnitTestResult testName=\"afl: $target ($line)\" outcome=\"$outcome\" />"
        done
        echo '  </Results>'
        echo "  <ResultSummary outcome=\"$([ "$failed" = 0 ] && echo Completed || echo Failed)\"><Counters total=\"$((passed + failed))\" executed=\"$((passed + failed))\" passed=\"$passed\" failed=\"$failed\" /></ResultSummary>"
        echo '</TestRun>'
    } >"$trx"
fi
exit $status
