#!/usr/bin/env bash
# Load benchmark of scopegate's example server against a FastAPI + PyJWT
# peer, on loopback, server pinned to core 0 and wrk to core 1.
#
#   bash bench/load.sh                 # everything, about four minutes
#   bash bench/load.sh --keys HS512 --no-peer --duration 3
#   bash bench/load.sh --help          # the driver's options
#
# Installs wrk from Debian's packages when missing, builds the example in
# release, creates bench/peer/.venv with the peer's pinned requirements, then
# runs bench/load.py, which prints the Markdown table of bench/README.md.
# Traffic goes to 127.0.0.1 only; every run is bounded and stops by itself.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

if [ "$(nproc)" -lt 2 ]; then
    echo "load.sh: needs two cores (server on core 0, wrk on core 1); nproc says $(nproc)" >&2
    exit 1
fi
for tool in taskset python3 cargo; do
    command -v "$tool" >/dev/null || { echo "load.sh: $tool not found" >&2; exit 1; }
done

if ! command -v wrk >/dev/null; then
    echo "== installing wrk (Debian package)" >&2
    if [ "$(id -u)" -ne 0 ]; then
        echo "load.sh: wrk is missing; install it as root: apt-get install -y wrk" >&2
        exit 1
    fi
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

echo "== building the example (release)" >&2
(cd "$root" && cargo build --quiet --release --example execution_api)
example="${CARGO_TARGET_DIR:-$root/target}/release/examples/execution_api"

venv="$here/peer/.venv"
if [ ! -x "$venv/bin/python" ]; then
    echo "== creating $venv" >&2
    python3 -m venv "$venv" || {
        echo "load.sh: 'python3 -m venv' failed; on Debian/Ubuntu install python3-venv" >&2
        exit 1
    }
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/peer/requirements.txt"

exec python3 "$here/load.py" --example "$example" "$@"
