#!/bin/sh
# Make the real auvirt (Debian's auditd package, audit 3.x) available for the
# differential tests, without leaving an audit daemon running and without
# touching the host's audit rules.
#
# Exit status: 0 = /usr/bin/auvirt is there; 3 = this distribution's auditd
# is audit-userspace >= 4.0, which has no auvirt at all (Debian 13, ...):
# nothing is installed; 2 = cannot install (not root, no apt-get, package
# not available); 1 = something went wrong.
#
# The package's maintainer scripts would start auditd through invoke-rc.d /
# deb-systemd-invoke.  Both honour /usr/sbin/policy-rc.d: if none exists, a
# temporary one that forbids every start (exit 101) is installed for the
# duration of apt-get and removed afterwards.  If an auditd process appears
# that was not running before, it is stopped by its pid.

set -u

AUVIRT=/usr/bin/auvirt
[ -x "$AUVIRT" ] && exit 0

# audit-userspace 4.0 removed auvirt: an installed or installable auditd 4.x
# cannot give it (the package version is 1:4.x on Debian)
no_auvirt() {
    [ -n "$1" ] && dpkg --compare-versions "$1" ge 1:4.0~ 2>/dev/null
}
installed=$(dpkg-query -W -f='${Version}' auditd 2>/dev/null || true)
if no_auvirt "$installed"; then
    echo "install_auvirt: the installed auditd $installed (audit-userspace >= 4.0) has no auvirt" >&2
    exit 3
fi

if [ "$(id -u)" != 0 ]; then
    echo "install_auvirt: $AUVIRT missing and not root; cannot install Debian's auditd" >&2
    exit 2
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_auvirt: $AUVIRT missing and no apt-get on this host" >&2
    exit 2
fi

POLICY=/usr/sbin/policy-rc.d
OWN_POLICY=
# shellcheck disable=SC2317  # called through trap
cleanup() {
    if [ -n "$OWN_POLICY" ]; then
        rm -f "$POLICY"
    fi
}
trap cleanup EXIT INT TERM

if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\n# temporary: no service starts while installing auditd for tests\nexit 101\n' > "$POLICY"
    chmod 0755 "$POLICY"
    OWN_POLICY=1
fi

BEFORE=$(pidof auditd 2>/dev/null || true)

export DEBIAN_FRONTEND=noninteractive
if ! apt-cache show auditd >/dev/null 2>&1; then
    apt-get update -qq >&2 || true
fi
if ! apt-cache show auditd >/dev/null 2>&1; then
    echo "install_auvirt: no auditd package known to apt" >&2
    exit 2
fi
candidate=$(apt-cache policy auditd 2>/dev/null | awk '/Candidate:/ {print $2}')
if no_auvirt "$candidate"; then
    echo "install_auvirt: this distribution's auditd $candidate (audit-userspace >= 4.0) has no auvirt" >&2
    exit 3
fi
apt-get install -y -qq --no-install-recommends auditd >&2
RC=$?

# Stop any audit daemon that the installation started (never one that was
# already running).
AFTER=$(pidof auditd 2>/dev/null || true)
for pid in $AFTER; do
    case " $BEFORE " in
        *" $pid "*) ;;
        *) echo "install_auvirt: stopping auditd pid $pid started by the package installation" >&2
           kill -TERM "$pid" 2>/dev/null || true ;;
    esac
done

if [ "$RC" != 0 ]; then
    echo "install_auvirt: apt-get install auditd failed ($RC)" >&2
    exit 1
fi
if [ ! -x "$AUVIRT" ]; then
    echo "install_auvirt: auditd installed but $AUVIRT is absent (audit >= 4.0 dropped auvirt)" >&2
    exit 2
fi
exit 0
