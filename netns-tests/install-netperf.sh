#!/usr/bin/env bash
# Installs netperf (netperf + netserver) on Debian 12, where it lives in the `non-free` component:
# adds `non-free` to the Debian archive's entries in /etc/apt/sources.list.d/debian.sources (deb822)
# or /etc/apt/sources.list (one-line form), once, then apt-get update and install. Does nothing
# when netperf is already there. Needs root.
set -euo pipefail
command -v netperf >/dev/null && command -v netserver >/dev/null && exit 0
export DEBIAN_FRONTEND=noninteractive
changed=0
deb822=/etc/apt/sources.list.d/debian.sources
if [[ -f $deb822 ]]; then
    # Every "Components:" line of a stanza whose URIs are a Debian archive, that lacks non-free.
    if awk '/^URIs:/ { debian = ($0 ~ /debian/) } /^Components:/ && debian && $0 !~ /(^| )non-free( |$)/ { found = 1 } END { exit !found }' "$deb822"; then
        tmp=$(mktemp)
        awk '/^URIs:/ { debian = ($0 ~ /debian/) } /^Components:/ && debian && $0 !~ /(^| )non-free( |$)/ { $0 = $0 " non-free" } { print }' \
            "$deb822" >"$tmp"
        cat "$tmp" >"$deb822"
        rm -f "$tmp"
        changed=1
    fi
fi
if [[ -f /etc/apt/sources.list ]] && grep -Eq '^deb .*debian.* main' /etc/apt/sources.list \
    && grep -E '^deb .*debian.* main' /etc/apt/sources.list | grep -Evq '(^| )non-free( |$)'; then
    sed -i -E '/^deb .*debian.* main/{/(^| )non-free( |$)/!s/$/ non-free/}' /etc/apt/sources.list
    changed=1
fi
[[ $changed == 1 ]] && echo "install-netperf: added the non-free component to the apt sources (netperf is in Debian 12's non-free)" >&2
# Another apt run (CI set-up, a colleague's install) may hold the dpkg lock for a while: wait for it.
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq netperf >/dev/null
command -v netperf >/dev/null && command -v netserver >/dev/null
