#!/usr/bin/env bash
# Builds everything in Release and leaves the runnable programs in bin/: xenvmc-sim and xenvmc
# (framework-dependent; they need the .NET 10 runtime), and the daemons xenvmc-guest and
# xenvmc-dom0 compiled ahead of time to native programs (NativeAOT; needs clang): a JIT-compiled
# daemon maps the shared framework and the JIT, ~45 MB of its RSS before it does anything, a
# native one ~10 MB. XENVMC_JIT_DAEMONS=1 builds the daemons framework-dependent instead (faster to
# build, for quick iterations).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p bin
for project in XenVmc.Sim XenVmc.Cli; do
    dotnet publish "src/$project/$project.csproj" -c Release -o bin --nologo -v quiet -p:UseAppHost=true
done
for project in XenVmc.GuestDaemon XenVmc.Dom0Daemon; do
    if [[ ${XENVMC_JIT_DAEMONS:-0} == 1 ]]; then
        dotnet publish "src/$project/$project.csproj" -c Release -o bin --nologo -v quiet -p:UseAppHost=true
    else
        command -v clang >/dev/null || { echo "build.sh: the daemons are compiled with NativeAOT, which needs clang: apt-get install -y clang zlib1g-dev (or XENVMC_JIT_DAEMONS=1 ./build.sh)" >&2; exit 1; }
        dotnet publish "src/$project/$project.csproj" -c Release -r linux-x64 -p:PublishAot=true -o bin --nologo -v quiet
    fi
done
echo "built: $(cd bin && ls xenvmc xenvmc-sim xenvmc-guest xenvmc-dom0 | tr '\n' ' ')"
