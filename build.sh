#!/usr/bin/env bash
# Builds everything in Release and leaves the runnable programs in bin/:
# xenvmc-sim, xenvmc-guest, xenvmc-dom0, xenvmc (framework-dependent; they need the .NET 10 runtime).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p bin
for project in XenVmc.Sim XenVmc.GuestDaemon XenVmc.Dom0Daemon XenVmc.Cli; do
    dotnet publish "src/$project/$project.csproj" -c Release -o bin --nologo -v quiet -p:UseAppHost=true
done
echo "built: $(cd bin && ls xenvmc xenvmc-sim xenvmc-guest xenvmc-dom0 | tr '\n' ' ')"
