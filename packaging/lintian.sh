#!/usr/bin/env bash
# Checks a built package with lintian at its default profile: exits non-zero on any error or
# warning (overridden tags excepted) and on an override in packaging/lintian-overrides without a
# one-line reason (a '#' comment right above it). Prints lintian's output.
#   packaging/lintian.sh dist/xenvmc_<version>_amd64.deb
# Needs lintian (apt-get install lintian).
set -euo pipefail
deb=${1:?usage: packaging/lintian.sh PACKAGE.deb}
overrides="$(dirname "$0")/lintian-overrides"
unexplained=$(awk '/^[^#[:space:]]/ && prev !~ /^#/ { print FILENAME ":" NR ": " $0 } { prev = $0 }' "$overrides")
if [ -n "$unexplained" ]; then
    echo "overrides without a reason in the line above:" >&2
    echo "$unexplained" >&2
    exit 1
fi
# lintian refuses nothing as root but says so on stderr; the tags go to stdout.
lintian --fail-on error,warning --display-level '>=warning' "$deb" 2> >(grep -v 'running with root privileges' >&2)
