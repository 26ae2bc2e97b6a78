#!/usr/bin/env bash
# Builds the Xen 4.17-under-QEMU test bed: images made only from Debian packages and our own
# self-contained binaries. Everything lands in a cache outside the repository
# (XENVMC_XEN_CACHE, default /var/cache/xenvmc-testbed), each piece rebuilt only when missing or
# when what it is made from changed:
#   rootfs/            debootstrap'd Debian 12 (dom0's root, and where the guests' tools come from); ~2 min
#   dom0.img           ext4 image of rootfs + our dom0 init                     (key: rootfs + dom0-init)
#   app/               xenvmc-guest, xenvmc-dom0, xenvmc: self-contained, trimmed, single file,
#                      ReadyToRun (JIT is ~45x slower under TCG)               (key: sources under src/)
#   share/             what the QEMU machine sees over 9p: xen.bin, vmlinuz, domu-initrd.gz, app/
# Needs root, the Debian mirror apt uses, and NuGet (for the linux-x64 runtime packs).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
C=${XENVMC_XEN_CACHE:-/var/cache/xenvmc-testbed}
MIRROR=${MIRROR:-$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -1)}
MIRROR=${MIRROR:-$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
export DEBIAN_FRONTEND=noninteractive DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
[ "$(id -u)" = 0 ] || { echo "build.sh: needs root" >&2; exit 2; }
mkdir -p "$C/share"
exec 3>&2
t() { local s=$SECONDS rc=0; "$@" || rc=$?; echo "[build] $((SECONDS - s)) s: $*" | cut -c1-150 >&3; return $rc; }
key() { sha256sum | cut -c1-16; }

# ---- host packages ----
need=()
for p in qemu-system-x86 xen-hypervisor-4.17-amd64 debootstrap cpio; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    t apt-get update -qq
    t apt-get install -y -qq "${need[@]}" >/dev/null
fi
zcat /boot/xen-4.17-amd64.gz > "$C/share/xen.bin.new" && mv "$C/share/xen.bin.new" "$C/share/xen.bin"

# ---- Debian root file system ----
PKGS=linux-image-amd64,initramfs-tools,kmod,xen-utils-4.17,xenstore-utils,iproute2,iperf3,busybox,procps,util-linux,e2fsprogs,jq,iputils-ping,nftables
rootkey=$(echo "bookworm $PKGS" | key)
if [ "$(cat "$C/rootfs.key" 2>/dev/null)" != "$rootkey" ]; then
    rm -rf "$C/rootfs" "$C/rootfs.key" "$C/dom0.key"
    t debootstrap --variant=minbase --include=$PKGS bookworm "$C/rootfs" "$MIRROR" > "$C/debootstrap.log" 2>&1 \
        || { tail -20 "$C/debootstrap.log" >&2; exit 1; }
    R=$C/rootfs
    KV=$(ls "$R/lib/modules" | sort -V | tail -1)
    # a small dom0 initramfs: just what mounts the root disk and the 9p share
    sed -i 's/^MODULES=.*/MODULES=list/' "$R/etc/initramfs-tools/initramfs.conf"
    printf '%s\n' virtio_pci virtio_blk ext4 9p 9pnet_virtio > "$R/etc/initramfs-tools/modules"
    t chroot "$R" update-initramfs -u -k "$KV" >/dev/null 2>&1
    echo dom0 > "$R/etc/hostname"
    (cd /tmp && rm -f busybox-static_*.deb && apt-get download busybox-static >/dev/null 2>&1 && mv busybox-static_*.deb "$C/")
    rm -rf "$C/bbs"; dpkg-deb -x "$C"/busybox-static_*.deb "$C/bbs"
    echo "$rootkey" > "$C/rootfs.key"
fi
R=$C/rootfs
KV=$(ls "$R/lib/modules" | sort -V | tail -1)
cp "$R/boot/vmlinuz-$KV" "$C/share/vmlinuz"
cp "$R/boot/initrd.img-$KV" "$C/share/dom0-initrd.img"

# ---- dom0 disk image (QEMU runs it with -snapshot: a run never changes it) ----
dom0key=$( (cat "$C/rootfs.key" "$HERE/dom0-init") | key)
if [ "$(cat "$C/dom0.key" 2>/dev/null)" != "$dom0key" ] || [ ! -f "$C/dom0.img" ]; then
    install -m755 "$HERE/dom0-init" "$R/sbin/xenvmc-dom0-init"
    rm -f "$C/dom0.img"
    t mkfs.ext4 -q -F -L dom0root -d "$R" "$C/dom0.img" 2G
    echo "$dom0key" > "$C/dom0.key"
fi

# ---- our programs: self-contained (the guests have no .NET), trimmed, single file, ReadyToRun ----
appkey=$(cd "$REPO" && { find src -path '*/bin' -prune -o -path '*/obj' -prune -o -type f -print | sort | xargs sha256sum; sha256sum Directory.Build.props; } | key)
if [ "$(cat "$C/app.key" 2>/dev/null)" != "$appkey" ] || [ ! -x "$C/share/app/xenvmc-guest" ]; then
    rm -rf "$C/app.new"; mkdir -p "$C/app.new"
    for p in XenVmc.GuestDaemon XenVmc.Dom0Daemon XenVmc.Cli; do
        t dotnet publish "$REPO/src/$p/$p.csproj" -c Release -r linux-x64 --self-contained --nologo -v quiet \
            -p:PublishSingleFile=true -p:PublishTrimmed=true -p:PublishReadyToRun=true -p:InvariantGlobalization=true \
            -p:DebugType=none -o "$C/app.new/$p" >"$C/publish-$p.log" 2>&1 || { tail -30 "$C/publish-$p.log" >&2; exit 1; }
        cp "$C/app.new/$p"/xenvmc* "$C/app.new/"
        [ -x "$C/app.new/$p/createdump" ] && cp "$C/app.new/$p/createdump" "$C/app.new/"
        rm -rf "$C/app.new/$p"
    done
    rm -rf "$C/share/app"; mv "$C/app.new" "$C/share/app"
    echo "$appkey" > "$C/app.key"
fi

# createdump (the runtime's crash-report writer) from the shared runtime of the same version,
# for images published before the step above kept it: the guests' daemon writes a crash report
# (DOTNET_EnableCrashReport) with every thread's stack when it dies
if [ ! -x "$C/share/app/createdump" ]; then
    cd_src=$(ls -d /usr/share/dotnet/shared/Microsoft.NETCore.App/*/createdump 2>/dev/null | sort -V | tail -1)
    [ -n "$cd_src" ] && cp "$cd_src" "$C/share/app/createdump"
fi

# ---- guest initramfs: busybox-static, iproute2, xenstore tools, iperf3, jq, Xen + tun modules, our two programs ----
domukey=$( (cat "$C/rootfs.key" "$C/app.key" "$HERE/domu-init"; ls "$C/share/app") | key)
if [ "$(cat "$C/domu.key" 2>/dev/null)" != "$domukey" ] || [ ! -f "$C/share/domu-initrd.gz" ]; then
    D=$C/domu-root
    rm -rf "$D"; mkdir -p "$D"/{bin,sbin,proc,sys,dev,tmp,run,etc,lib/modules,var/run}
    cp "$C/bbs/bin/busybox" "$D/bin/"
    cp "$R/usr/bin/xenstore" "$R/usr/bin/iperf3" "$R/usr/bin/jq" "$R/bin/ip" "$D/bin/"
    for l in read write ls list exists rm watch chmod; do ln -s xenstore "$D/bin/xenstore-$l"; done
    libs=$(for b in /usr/bin/xenstore /usr/bin/iperf3 /usr/bin/jq /bin/ip; do chroot "$R" ldd "$b"; done | awk '/=>/{print $3} /ld-linux/{print $1}' | sort -u)
    for l in $libs /lib/x86_64-linux-gnu/{libstdc++.so.6,libgcc_s.so.1,libdl.so.2,librt.so.1,libpthread.so.0,libm.so.6}; do
        mkdir -p "$D$(dirname "$l")"; cp "$R$(chroot "$R" readlink -f "$l")" "$D$l"
    done
    mkdir -p "$D/lib64"; [ -e "$D/lib64/ld-linux-x86-64.so.2" ] || cp "$R/lib64/ld-linux-x86-64.so.2" "$D/lib64/" 2>/dev/null || true
    for m in drivers/xen/xen-evtchn drivers/xen/xen-gntdev drivers/xen/xen-gntalloc drivers/net/xen-netfront drivers/net/tun; do
        cp "$R/lib/modules/$KV/kernel/$m.ko" "$D/lib/modules/"
    done
    cp "$C/share/app/xenvmc-guest" "$C/share/app/xenvmc" "$D/bin/"
    [ -x "$C/share/app/createdump" ] && cp "$C/share/app/createdump" "$D/bin/"
    install -m755 "$HERE/domu-init" "$D/init"
    echo 'root:x:0:0:root:/root:/bin/sh' > "$D/etc/passwd"
    (cd "$D" && find . | cpio -o -H newc --quiet) | gzip -1 > "$C/share/domu-initrd.gz.new"
    mv "$C/share/domu-initrd.gz.new" "$C/share/domu-initrd.gz"
    echo "$domukey" > "$C/domu.key"
fi
echo "[build] ready in $C: $(cd "$C/share" && ls -s --block-size=M xen.bin vmlinuz domu-initrd.gz app | tr '\n' ' ')"
