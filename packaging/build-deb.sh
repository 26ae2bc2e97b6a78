#!/usr/bin/env bash
# Builds xenvmc_<version>_amd64.deb: xenvmc-guest, xenvmc-dom0 and xenvmc published self-contained
# for linux-x64 (no .NET runtime needed on the host), the systemd units, the networkd files, the
# rt_protos entry and the default configuration files.
#   packaging/build-deb.sh [OUTPUT-DIR]     (default: dist/); prints the path of the .deb
# Needs the .NET 10 SDK and dpkg-deb. The version is <Version> in Directory.Build.props and must be
# the top entry of packaging/changelog. lintian (packaging/lintian.sh) checks the result.
#   XENVMC_DEB_PUBLISHED=DIR   take the published programs from DIR (a previous build's
#                              /usr/lib/xenvmc) instead of publishing again: for tests that build
#                              several packages
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mkdir -p "${1:-dist}" && cd "${1:-dist}" && pwd)
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)
[ -n "$version" ] || { echo "no <Version> in Directory.Build.props" >&2; exit 1; }
work=$(mktemp -d /tmp/xenvmc-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
root="$work/root"
lib="$root/usr/lib/xenvmc"

changelog_version=$(sed -n '1s/^xenvmc (\([^)]*\)).*/\1/p' packaging/changelog)
[ "$changelog_version" = "$version" ] || { echo "packaging/changelog starts with version '$changelog_version', Directory.Build.props says '$version'" >&2; exit 1; }

# One directory for the three programs: they share the runtime and the libraries. A private
# artifacts path keeps this build from touching the developer's obj/ and bin/.
if [ -n "${XENVMC_DEB_PUBLISHED:-}" ]; then
    install -d "$lib" && cp -a "$XENVMC_DEB_PUBLISHED"/. "$lib"/
else
    for project in XenVmc.GuestDaemon XenVmc.Dom0Daemon XenVmc.Cli; do
        dotnet publish "src/$project/$project.csproj" -c Release -r linux-x64 --self-contained \
            --artifacts-path "$work/artifacts" -o "$lib" --nologo -v quiet -p:UseAppHost=true >&2
    done
fi
rm -f "$lib"/*.pdb
# Debian's modes: data and shared libraries 0644 (a DLL is loaded, never executed), ELF programs
# 0755; publish leaves most files 0744.
find "$lib" -type f -exec chmod 0644 {} +
for f in "$lib"/*; do
    if [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] && [ "${f%.so}" = "$f" ]; then
        chmod 0755 "$f"
    fi
done

install -d "$root/usr/bin" "$root/lib/systemd/system" "$root/usr/share/xenvmc/networkd/networkd.conf.d" \
    "$root/etc/iproute2/rt_protos.d" "$root/etc/iproute2/rt_tables.d" "$root/usr/lib/sysctl.d" "$root/etc/xenvmc" "$root/usr/share/doc/xenvmc" "$root/DEBIAN" \
    "$root/usr/share/lintian/overrides"
for program in xenvmc xenvmc-guest xenvmc-dom0; do
    ln -s "../lib/xenvmc/$program" "$root/usr/bin/$program"
done
install -m 644 systemd/xenvmc-guest.service systemd/xenvmc-dom0.service systemd/xenvmc-metrics.service \
    systemd/xenvmc-metrics.timer "$root/lib/systemd/system/"
# Guests only: the README says how to enable them (Dom0 needs no vmc0).
install -m 644 networkd/50-xenvmc-vmc0.netdev networkd/50-xenvmc-vmc0.network "$root/usr/share/xenvmc/networkd/"
install -m 644 networkd/networkd.conf.d/xenvmc.conf "$root/usr/share/xenvmc/networkd/networkd.conf.d/"
install -m 644 iproute2/rt_protos.d/xenvmc.conf "$root/etc/iproute2/rt_protos.d/"
install -m 644 iproute2/rt_tables.d/xenvmc.conf "$root/etc/iproute2/rt_tables.d/"
install -m 644 sysctl.d/60-xenvmc.conf "$root/usr/lib/sysctl.d/"
install -m 644 packaging/etc/xenvmc/guest.json packaging/etc/xenvmc/dom0.json "$root/etc/xenvmc/"
install -m 644 README.md "$root/usr/share/doc/xenvmc/"
install -m 644 packaging/copyright "$root/usr/share/doc/xenvmc/copyright"
gzip -9n <packaging/changelog >"$root/usr/share/doc/xenvmc/changelog.gz"
chmod 644 "$root/usr/share/doc/xenvmc/changelog.gz"
install -m 644 packaging/lintian-overrides "$root/usr/share/lintian/overrides/xenvmc"

install -D -m 644 packaging/completion/xenvmc "$root/usr/share/bash-completion/completions/xenvmc"

# The manual pages come from the programs themselves (the same source as their --help).
install -d "$root/usr/share/man/man1" "$root/usr/share/man/man5"
for program in xenvmc xenvmc-guest xenvmc-dom0; do
    "$lib/$program" --man 1 | gzip -9n >"$root/usr/share/man/man1/$program.1.gz"
done
for program in xenvmc-guest xenvmc-dom0; do
    "$lib/$program" --man 5 | gzip -9n >"$root/usr/share/man/man5/$program.json.5.gz"
done
chmod 644 "$root"/usr/share/man/man?/*.gz

size=$(du -sk "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: xenvmc
Version: $version
Architecture: amd64
Maintainer: XenVMC developers <xenvmc@example.org>
Installed-Size: $size
Depends: libc6 (>= 2.31), libgcc-s1, libstdc++6
Recommends: iproute2, systemd
Section: net
Priority: optional
Description: shared-memory network path between co-resident Xen guests
 XenVMC moves IP traffic between two virtual machines on the same Xen host
 through shared memory instead of the netfront/netback path. xenvmc-guest runs
 in each guest (TUN vmc0 plus host routes), xenvmc-dom0 in Dom0 (who may pair),
 xenvmc shows status and metrics.
 .
 Self-contained: no .NET runtime is needed on the host.
CONTROL
install -m 755 packaging/maintainer/postinst packaging/maintainer/prerm packaging/maintainer/postrm "$root/DEBIAN/"
printf '/etc/iproute2/rt_protos.d/xenvmc.conf\n/etc/iproute2/rt_tables.d/xenvmc.conf\n/etc/xenvmc/guest.json\n/etc/xenvmc/dom0.json\n' > "$root/DEBIAN/conffiles"

deb="$out/xenvmc_${version}_amd64.deb"
dpkg-deb --root-owner-group -Zgzip --build "$root" "$deb" >&2
echo "$deb"
