# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platforms the end-to-end test runs its lifecycle on (docs/e2e.md).

One entry per Debian release.  The release the machine itself runs is
driven on the host ("/"); every other one runs in a root made with
``debootstrap`` (tests/e2e/make_root.sh), cached under ``.cache/e2e-root/NAME``.
So on a Debian 12 machine Debian 13 is the chroot, and on a Debian 13
machine Debian 12 is; on any other machine both are.

``auvirt``: the platform's auditd package still ships auvirt (removed in
audit-userspace 4.0), so the real auvirt is compared there.
``userfaultfd``: libvirt allows /dev/userfaultfd (``rdev=0A:101``, a minor of
three hex digits) in every guest's device cgroup (libvirt >= 10.x); the
test checks that the capture has it exactly where expected and that the
collection reads it.
"""

from __future__ import absolute_import, division, print_function

import os

# what every platform installs (host: install_packages.sh; chroot: make_root.sh)
PACKAGES = ["auditd", "libvirt-daemon-system", "libvirt-clients", "qemu-system-x86", "qemu-utils"]

PLATFORMS = [
    {"name": "debian12", "title": "Debian 12", "codename": "bookworm", "auvirt": True, "userfaultfd": False},
    {"name": "debian13", "title": "Debian 13", "codename": "trixie", "auvirt": False, "userfaultfd": True},
]

ROOTS = ".cache/e2e-root"


def os_release(path="/etc/os-release"):
    """The key=value pairs of an os-release file ({} when it cannot be read)."""
    values = {}
    try:
        with open(path) as handle:
            for line in handle:
                key, sep, value = line.strip().partition("=")
                if sep:
                    values[key] = value.strip().strip('"')
    except (IOError, OSError):
        pass
    return values


def host_codename():
    return os_release().get("VERSION_CODENAME")


def by_name(name):
    for platform in PLATFORMS:
        if platform["name"] == name:
            return platform
    raise ValueError("unknown end-to-end platform %r (known: %s)"
                     % (name, ", ".join(p["name"] for p in PLATFORMS)))


def selected(spec=None):
    """The platforms to run: VIRTAUDIT_E2E_PLATFORMS (comma-separated names), default all."""
    spec = os.environ.get("VIRTAUDIT_E2E_PLATFORMS", "") if spec is None else spec
    names = [n.strip() for n in spec.split(",") if n.strip()]
    if not names:
        return list(PLATFORMS)
    return [by_name(name) for name in names]


def placement(platform, repo_root, codename=None, chroot=None):
    """Where a platform runs: ("host", "/") or ("chroot", its cached root directory).

    The host's own release runs on the host, unless VIRTAUDIT_E2E_CHROOT
    (CHROOT here: comma-separated names, or "all") puts it in a root too -
    how a Debian 12 machine tries the Debian 12 root a Debian 13 machine uses."""
    codename = host_codename() if codename is None else codename
    chroot = os.environ.get("VIRTAUDIT_E2E_CHROOT", "") if chroot is None else chroot
    forced = [n.strip() for n in chroot.split(",") if n.strip()]
    if platform["codename"] == codename and platform["name"] not in forced and "all" not in forced:
        return "host", "/"
    return "chroot", os.path.join(repo_root, ROOTS, platform["name"])
