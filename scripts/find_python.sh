#!/usr/bin/env bash
# Print the path of a Python interpreter of version X.Y (e.g. 3.6), or nothing.
# Looks at python X.Y on PATH first, then at pyenv's installed versions
# ($PYENV_ROOT, `pyenv root`, ~/.pyenv), then at RHEL 8's platform-python.
set -euo pipefail
want="${1:?usage: find_python.sh X.Y}"

matches() {
    [ -x "$1" ] && [ "$("$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$want" ]
}

if p="$(command -v "python$want" 2>/dev/null)" && matches "$p"; then
    echo "$p"; exit 0
fi
roots=()
[ -n "${PYENV_ROOT:-}" ] && roots+=("$PYENV_ROOT")
if command -v pyenv >/dev/null 2>&1; then roots+=("$(pyenv root 2>/dev/null || true)"); fi
roots+=("$HOME/.pyenv")
for root in "${roots[@]}"; do
    if [ -z "$root" ] || [ ! -d "$root/versions" ]; then
        continue
    fi
    # newest patch release first
    while IFS= read -r version; do
        dir="$root/versions/$version"
        if matches "$dir/bin/python$want"; then echo "$dir/bin/python$want"; exit 0; fi
    done < <(find "$root/versions" -mindepth 1 -maxdepth 1 -name "$want.*" -printf '%f\n' | sort -t. -k3,3nr)
done
for p in /usr/libexec/platform-python "/usr/bin/python$want"; do
    if matches "$p"; then echo "$p"; exit 0; fi
done
exit 0
