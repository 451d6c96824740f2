#!/usr/bin/env bash
# Create the controller venv VENV with PYTHON (3.11-3.13; ansible-core 2.19's
# controller range) and install REQUIREMENTS into it.
# On a fresh Debian/Ubuntu the venv module lives in python3-venv: when it is
# missing and we are root, it is installed with apt-get.
set -euo pipefail
venv="${1:?usage: make_venv.sh VENV PYTHON REQUIREMENTS}"
python="${2:?}"
requirements="${3:?}"

if [ -z "$python" ] || ! command -v "$python" >/dev/null 2>&1; then
    echo "ERROR: no Python interpreter found (set BOOTSTRAP_PYTHON=/path/to/python3.11)" >&2
    exit 2
fi
version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
case "$version" in
    3.11|3.12|3.13) ;;
    *) echo "ERROR: $python is Python $version; ansible-core 2.19 needs a 3.11-3.13 controller" \
            "(set BOOTSTRAP_PYTHON=/path/to/python3.11)" >&2
       exit 2 ;;
esac
command -v git >/dev/null 2>&1 || { echo "ERROR: git is required (ansible-test lists files through git)" >&2; exit 2; }

here="$(cd "$(dirname "$0")" && pwd)"

if [ ! -x "$venv/bin/python" ]; then
    rm -rf "$venv"
    if ! "$python" -m venv "$venv"; then
        rm -rf "$venv"
        "$here/apt_install.sh" "python$version-venv" || "$here/apt_install.sh" python3-venv || {
            echo "ERROR: '$python -m venv' failed; install python3-venv (Debian/Ubuntu) and retry" >&2
            exit 2
        }
        "$python" -m venv "$venv"
    fi
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
"$venv/bin/python" -m pip check || echo "WARNING: pip check reported conflicts (see above)"
