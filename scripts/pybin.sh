#!/usr/bin/env bash
# Fill DIR with symlinks python3.X -> an interpreter of that version, for
# every ansible-core 2.19 target version found (see find_python.sh), so that
# `PATH=DIR:$PATH ansible-test sanity --local` tests them all.
# The controller's own version (SKIP) is left out: ansible-test uses the
# running interpreter for it.
set -euo pipefail
dir="${1:?usage: pybin.sh DIR [SKIP_VERSION]}"
skip="${2:-}"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$dir"
find "$dir" -maxdepth 1 -type l -name 'python*' -delete
found=()
for v in 3.8 3.9 3.10 3.11 3.12 3.13; do
    [ "$v" = "$skip" ] && continue
    p="$("$here/find_python.sh" "$v")"
    if [ -n "$p" ]; then
        ln -s "$p" "$dir/python$v"
        found+=("$v")
    fi
done
echo "extra target pythons for ansible-test: ${found[*]:-none} (plus the controller's ${skip:-?})"
