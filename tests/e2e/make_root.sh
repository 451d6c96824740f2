#!/usr/bin/env bash
# Make (once) the Debian root that an end-to-end pass runs in when the
# platform is not the host's own: `debootstrap --variant=minbase CODENAME`
# from Debian's registry, then the test's packages installed inside it with
# apt-get.  The finished root is cached: a later call with the same codename
# and package list only prints "reused".
#
#   make_root.sh CODENAME DEST PACKAGE...
#
# DEST is built as DEST.new and renamed when complete, so an interrupted
# build never looks finished (the next call starts it again).  DEST/.e2e-root
# records what was asked for and the installed versions.
#
# Nothing is started: a policy-rc.d answering 101 is in the root for good
# (it is a test root; no service ever starts through invoke-rc.d there).
# /proc is mounted into the root only while apt-get runs there, and unmounted
# on every exit path.
#
# Environment: VIRTAUDIT_E2E_MIRROR (default http://deb.debian.org/debian).
#
# Exit status: 0 ready; 2 cannot be made here (not root, no debootstrap and
# no apt-get to install it, the codename is unknown); 1 failed.
set -uo pipefail

codename="${1:?usage: make_root.sh CODENAME DEST PACKAGE...}"
dest="${2:?usage: make_root.sh CODENAME DEST PACKAGE...}"
shift 2
packages=("$@")
mirror="${VIRTAUDIT_E2E_MIRROR:-http://deb.debian.org/debian}"
# what makes a root this root: if any of it changes, the root is made again
want="codename=$codename packages=${packages[*]} qemu.conf=namespaces-off"
stamp="$dest/.e2e-root"

if [ -f "$stamp" ] && [ "$(head -1 "$stamp")" = "$want" ]; then
    echo "make_root: reused $dest ($codename)"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "make_root: not root: cannot debootstrap $codename" >&2
    exit 2
fi
if ! command -v debootstrap >/dev/null 2>&1; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "make_root: no debootstrap and no apt-get to install it" >&2
        exit 2
    fi
    echo "make_root: installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300 install --no-install-recommends \
        debootstrap </dev/null >&2 || { apt-get -q update >&2 && DEBIAN_FRONTEND=noninteractive apt-get -q -y \
        -o DPkg::Lock::Timeout=300 install --no-install-recommends debootstrap </dev/null >&2; } \
        || { echo "make_root: cannot install debootstrap" >&2; exit 2; }
fi
if [ ! -e "/usr/share/debootstrap/scripts/$codename" ]; then
    echo "make_root: this debootstrap does not know $codename" >&2
    exit 2
fi

new="$dest.new"
# a root left mounted by a killed run is never deleted through its mounts
mounted() { awk -v d="$1" 'index($2, d "/") == 1 || $2 == d {print $2}' /proc/mounts; }
if [ -n "$(mounted "$new")" ] || { [ -d "$dest" ] && [ -n "$(mounted "$dest")" ]; }; then
    echo "make_root: something is still mounted under $dest: $(mounted "$dest") $(mounted "$new")" >&2
    exit 1
fi
rm -rf "$new"
mkdir -p "$(dirname "$dest")"

# shellcheck disable=SC2317  # called through the EXIT trap
cleanup() {
    if mountpoint -q "$new/proc"; then
        umount "$new/proc" || umount -l "$new/proc"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start=$(date +%s)
echo "make_root: debootstrap --variant=minbase $codename $new $mirror"
if ! debootstrap --variant=minbase "$codename" "$new" "$mirror" >"$dest.debootstrap.log" 2>&1; then
    echo "make_root: debootstrap failed; last lines of $dest.debootstrap.log:" >&2
    tail -15 "$dest.debootstrap.log" >&2
    exit 1
fi
boot=$(( $(date +%s) - start ))

printf '#!/bin/sh\n# end-to-end test root: no service starts through invoke-rc.d here\nexit 101\n' \
    > "$new/usr/sbin/policy-rc.d"
chmod 0755 "$new/usr/sbin/policy-rc.d"
mount -t proc proc "$new/proc"
in_root() { chroot "$new" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }
APT=(apt-get -q -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
echo "make_root: apt-get install ${packages[*]}"
if ! { in_root "${APT[@]}" update && in_root "${APT[@]}" install --no-install-recommends "${packages[@]}"; } \
        </dev/null >>"$dest.debootstrap.log" 2>&1; then
    echo "make_root: apt-get in the root failed; last lines of $dest.debootstrap.log:" >&2
    tail -15 "$dest.debootstrap.log" >&2
    exit 1
fi
in_root apt-get clean
# "/" of a chroot is no mount point: qemu's private mount namespace cannot be made
printf '\n# end-to-end test root: "/" is not a mount point in a chroot\nnamespaces = [ ]\n' \
    >> "$new/etc/libvirt/qemu.conf"
cleanup

{
    echo "$want"
    echo "made $(date -u +%Y-%m-%dT%H:%M:%SZ) from $mirror in $(( $(date +%s) - start )) s (debootstrap $boot s)"
    # shellcheck disable=SC2016  # dpkg-query's own ${...} format fields
    in_root dpkg-query -W -f='${Package} ${Version}\n' "${packages[@]}"
} > "$new/.e2e-root"
if [ -d "$dest" ]; then
    rm -rf "$dest"
fi
mv "$new" "$dest"
echo "make_root: made $dest ($codename) in $(( $(date +%s) - start )) s (debootstrap $boot s)"
