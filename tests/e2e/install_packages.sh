#!/usr/bin/env bash
# Install what the end-to-end test needs from the distribution's packages
# when it is missing: auditd, libvirtd with the QEMU driver, virsh,
# qemu-system-x86 and qemu-img.  Debian/Ubuntu (apt-get) only.
#
#   install_packages.sh [PACKAGE...]   (default: the list below; capture.py
#                                       passes tests/e2e/platforms.py's list)
#
# No service is started by the installation: the packages' maintainer
# scripts start services through invoke-rc.d / deb-systemd-invoke, which
# both ask /usr/sbin/policy-rc.d first.  When there is no policy-rc.d, a
# temporary one answering 101 ("action forbidden") is installed for the
# duration of apt-get and removed afterwards; an existing one is left alone.
# Any auditd/libvirt daemon that appears during the installation anyway is
# stopped by its pid.
#
# Exit status: 0 = everything is there; 2 = cannot install here (not root,
# no apt-get, packages unknown) - the caller reports a skip; 1 = apt failed.
set -uo pipefail

PACKAGES=(auditd libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils)
if [ "$#" -gt 0 ]; then
    PACKAGES=("$@")
fi
# a file each package must provide
declare -A PROBE=(
    [auditd]=/sbin/auditd
    [libvirt-daemon-system]=/usr/sbin/libvirtd
    [libvirt-clients]=/usr/bin/virsh
    [qemu-system-x86]=/usr/bin/qemu-system-x86_64
    [qemu-utils]=/usr/bin/qemu-img
)

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
            || { [ -n "${PROBE[$pkg]:-}" ] && [ ! -x "${PROBE[$pkg]}" ]; }; then
        missing+=("$pkg")
    fi
done
if [ "${#missing[@]}" -eq 0 ]; then
    echo "install_packages: all present (${PACKAGES[*]})"
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "install_packages: missing ${missing[*]} and not root" >&2
    exit 2
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_packages: missing ${missing[*]} and no apt-get on this host" >&2
    exit 2
fi

POLICY=/usr/sbin/policy-rc.d
OWN_POLICY=
# shellcheck disable=SC2317  # called through the EXIT trap
cleanup() {
    if [ -n "$OWN_POLICY" ]; then
        rm -f "$POLICY"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\n# temporary (virtaudit.auvirt e2e test): no service starts during apt-get\nexit 101\n' > "$POLICY"
    chmod 0755 "$POLICY"
    OWN_POLICY=1
fi

daemons() { pidof auditd libvirtd virtqemud virtlogd virtlockd dnsmasq polkitd 2>/dev/null | tr ' ' '\n' | sort; }
BEFORE=$(daemons)

export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -q -y -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
echo "install_packages: installing ${missing[*]} (apt-get update first)"
start=$(date +%s)
if ! "${APT[@]}" update </dev/null >&2; then
    echo "install_packages: apt-get update failed; trying with the package lists at hand" >&2
fi
for pkg in "${missing[@]}"; do
    if ! apt-cache show "$pkg" >/dev/null 2>&1; then
        echo "install_packages: apt knows no package $pkg" >&2
        exit 2
    fi
done
"${APT[@]}" install --no-install-recommends "${missing[@]}" </dev/null >&2
rc=$?

# stop whatever the installation started in spite of policy-rc.d
for pid in $(comm -13 <(echo "$BEFORE") <(daemons)); do
    echo "install_packages: stopping pid $pid ($(cat /proc/"$pid"/comm 2>/dev/null)) started by the installation" >&2
    kill -TERM "$pid" 2>/dev/null || true
done

if [ "$rc" != 0 ]; then
    echo "install_packages: apt-get install failed (rc=$rc)" >&2
    exit 1
fi
for pkg in "${PACKAGES[@]}"; do
    if [ -n "${PROBE[$pkg]:-}" ] && [ ! -x "${PROBE[$pkg]}" ]; then
        echo "install_packages: $pkg installed but ${PROBE[$pkg]} is missing" >&2
        exit 2
    fi
done
echo "install_packages: installed ${missing[*]} in $(( $(date +%s) - start )) s"
exit 0
