#!/usr/bin/env bash
# Create .venv when missing and install requirements.txt into it, skipping pip when the file is
# the same as at the last successful install (a copy is kept in .venv as the stamp).
set -euo pipefail

cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
stamp=".venv/.installed-requirements.txt"

if [[ ! -x .venv/bin/python ]]; then
    echo "ensure-venv: creating .venv with $("$python" --version)"
    "$python" -m venv .venv
fi
if cmp -s requirements.txt "$stamp"; then
    exit 0
fi
echo "ensure-venv: installing requirements.txt"
.venv/bin/python -m pip install --disable-pip-version-check -q -r requirements.txt
cp requirements.txt "$stamp"
