#!/usr/bin/env bash
# Interop test: Airflow's own Task SDK client (PyPI apache-airflow-task-sdk)
# drives the example server (examples/execution_api.rs), and Airflow's own
# worker (supervise_task) runs the DAG tasks of dags/ against it; Debian's
# Chromium opens the docs page without a network (test_docs_page.py); a real
# OpenID provider (panva's oidc-provider, from npm) issues the tokens the
# ledger example (examples/ledger) trusts through discovery (test_oidc.py).
#
# Creates tests/interop/.venv if missing, installs the pinned requirements,
# installs Debian's chromium if missing (as root: the docs page test also
# needs root for its network namespace), installs node and npm from Debian's
# packages if missing, installs the pinned oidc-provider in
# tests/interop/oidc/node_modules when its lock file changed (npm ci, from
# npm's cache when it has it), builds the examples, and runs pytest. Extra
# arguments go to pytest, e.g.
#   tests/interop/run.sh -k lifecycle -v
#   tests/interop/run.sh test_oidc.py
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv"

if [ ! -x "$venv/bin/python" ]; then
    echo "== interop: creating $venv"
    "${PYTHON:-python3}" -m venv "$venv" || {
        echo "interop: '${PYTHON:-python3} -m venv' failed; on Debian/Ubuntu install python3-venv" >&2
        exit 1
    }
fi
echo "== interop: installing requirements"
started=$SECONDS
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$here/requirements.txt" -c "$here/constraints.txt"
echo "== interop: requirements ready in $((SECONDS - started))s"

if [ ! -x "${SCOPEGATE_CHROMIUM:-/usr/bin/chromium}" ]; then
    echo "== interop: installing Debian's chromium (the docs page test's browser)"
    if [ "$(id -u)" -ne 0 ]; then
        echo "interop: chromium is missing; install it as root: apt-get install -y chromium" >&2
        exit 1
    fi
    started=$SECONDS
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    echo "== interop: chromium installed in $((SECONDS - started))s"
fi

echo "== interop: the OpenID provider (oidc-provider from npm)"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "== interop: installing Debian's nodejs and npm"
    if [ "$(id -u)" -ne 0 ]; then
        echo "interop: node and npm are missing; install them as root: apt-get install -y nodejs npm" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
oidc="$here/oidc"
lock_hash="$(sha256sum "$oidc/package-lock.json" | cut -d' ' -f1)"
stamp="$oidc/node_modules/.scopegate-lock-sha256"
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_hash" ]; then
    started=$SECONDS
    (cd "$oidc" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error)
    echo "$lock_hash" >"$stamp"
    echo "== interop: oidc-provider installed in $((SECONDS - started))s"
fi
export NODE="$(command -v node)"

echo "== interop: building the examples"
(cd "$root" && cargo build --quiet --example execution_api && cargo build --quiet -p ledger)
export EXECUTION_API_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/examples/execution_api"
export LEDGER_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/ledger"

echo "== interop: pytest"
cd "$here"
started=$SECONDS
status=0
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$@" || status=$?
echo "== interop: pytest took $((SECONDS - started))s"
exit "$status"
