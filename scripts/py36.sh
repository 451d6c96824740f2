#!/usr/bin/env bash
# Run the module_utils and module unit tests under Python 3.6 (the oldest
# target we support: RHEL 8's platform-python) in a venv of its own with a
# 3.6-compatible pytest and ansible-core 2.11 (the last line whose
# module_utils import as a library on 3.6).
# No Python 3.6 on this machine -> a loud SKIPPED line and exit 0.
set -euo pipefail
venv="${1:?usage: py36.sh VENV LOG}"
log="${2:?}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"

python="$("$here/find_python.sh" 3.6)"
if [ -z "$python" ]; then
    msg="*** SKIPPED py36: no Python 3.6 interpreter found (no python3.6 on PATH, no pyenv 3.6.x, no /usr/libexec/platform-python) - the Python 3.6 compatibility of module_utils and modules was NOT tested ***"
    echo "$msg" | tee "$log"
    exit 0
fi

stamp="$venv/.installed"
if [ ! -f "$stamp" ] || [ "$root/tests/requirements-py36.txt" -nt "$stamp" ]; then
    rm -rf "$venv"
    "$python" -m venv "$venv"
    # the pip bundled with 3.6 is too old for some wheels; 21.3.1 is the last for 3.6
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade 'pip<22'
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$root/tests/requirements-py36.txt"
    # only ansible.module_utils is needed: skip the controller dependencies
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps 'ansible-core>=2.11,<2.12'
    touch "$stamp"
fi

suites=()
for d in tests/unit/plugins/module_utils tests/unit/plugins/modules; do
    [ -d "$root/$d" ] && suites+=("$d")
done
if [ "${#suites[@]}" = 0 ]; then
    echo "ERROR py36: no test directory found (tests/unit/plugins/module_utils, tests/unit/plugins/modules)" | tee "$log"
    exit 1
fi
cd "$root"
echo "py36: $("$venv/bin/python" --version 2>&1) from $python; $("$venv/bin/python" -c 'import ansible; print("ansible-core", ansible.__version__)')"
"$venv/bin/python" -m pytest -p no:cacheprovider "${suites[@]}" 2>&1 | tee "$log"
