#!/usr/bin/env bash
# Install Debian packages when we can (root + apt-get), non-interactively.
# Exit 1 without doing anything otherwise, so callers can fall back.
set -euo pipefail
[ "$#" -gt 0 ] || { echo "usage: apt_install.sh PACKAGE..." >&2; exit 2; }
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "installing $* with apt-get"
# a fresh machine has no package lists yet
if ! apt-get install -y -qq --no-install-recommends "$@" </dev/null; then
    apt-get update -qq </dev/null
    apt-get install -y -qq --no-install-recommends "$@" </dev/null
fi
