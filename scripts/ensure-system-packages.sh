#!/usr/bin/env bash
# Install the Debian packages listed in scripts/system-packages.txt that a target needs and that
# are missing.  Usage: scripts/ensure-system-packages.sh run|test
# Does nothing when everything is present; runs `apt-get update` once before installing.
set -euo pipefail

target="${1:?usage: $0 run|test}"
list="$(dirname "$0")/system-packages.txt"

is_present() {
    local proof="$1"
    if [[ "$proof" == /* ]]; then
        compgen -G "$proof" >/dev/null
    else
        command -v "$proof" >/dev/null 2>&1
    fi
}

missing=()
while read -r package proof needed_by _; do
    [[ -z "${package:-}" || "$package" == \#* ]] && continue
    if [[ "$needed_by" == "run" || "$needed_by" == "$target" ]] && ! is_present "$proof"; then
        missing+=("$package")
    fi
done < "$list"

[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ "$(id -u)" -ne 0 ]]; then
    echo "ensure-system-packages: missing Debian packages: ${missing[*]}" >&2
    echo "ensure-system-packages: not root, so not installing them. Run:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-system-packages: no apt-get here; install these yourself: ${missing[*]}" >&2
    exit 0
fi

echo "ensure-system-packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
