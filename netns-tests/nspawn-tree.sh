#!/usr/bin/env bash
# Prints the path of a Debian 12 root with systemd as init, for booting with systemd-nspawn (the
# real-systemd netns test). Built with debootstrap once and cached (XENVMC_NSPAWN_CACHE, default
# /var/cache/xenvmc-nspawn), keyed on the package list: ~2-5 min the first time, instant after.
# Installs debootstrap and systemd-container when missing. Needs root. The tree is used read-only
# (the test boots an overlay of it), so one cache serves every run.
set -euo pipefail
C=${XENVMC_NSPAWN_CACHE:-/var/cache/xenvmc-nspawn}
PKGS=systemd,systemd-sysv,iproute2,dbus,udev
MIRROR=${MIRROR:-$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -1)}
MIRROR=${MIRROR:-$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
missing=()
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v systemd-nspawn >/dev/null || missing+=(systemd-container)
if [[ ${#missing[@]} -gt 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
fi
mkdir -p "$C"
exec 9>"$C/.lock"
flock 9
key=$(echo "bookworm minbase $PKGS" | sha256sum | cut -c1-16)
if [[ "$(cat "$C/root.key" 2>/dev/null)" != "$key" || ! -x "$C/root/lib/systemd/systemd" ]]; then
    rm -rf "$C/root" "$C/root.key"
    echo "nspawn-tree: debootstrap bookworm into $C/root (once; a few minutes)" >&2
    debootstrap --variant=minbase --include=$PKGS bookworm "$C/root" "$MIRROR" >"$C/debootstrap.log" 2>&1 \
        || { tail -20 "$C/debootstrap.log" >&2; exit 1; }
    rm -rf "$C/root/var/cache/apt/archives/"*.deb
    echo "$key" >"$C/root.key"
fi
# Set-up for booting without a terminal (cheap, so done every time): no login prompt on the
# console, no first-boot wizard (it needs one), a machine ID and a host name for the journal.
ln -sf /dev/null "$C/root/etc/systemd/system/console-getty.service"
ln -sf /dev/null "$C/root/etc/systemd/system/systemd-firstboot.service"
[[ -s $C/root/etc/machine-id ]] || systemd-machine-id-setup --root="$C/root" >/dev/null 2>&1 \
    || tr -d - </proc/sys/kernel/random/uuid >"$C/root/etc/machine-id"
echo xenvmc-nspawn >"$C/root/etc/hostname"
echo "$C/root"
