#!/usr/bin/env bash
# Interop test: Airflow's own Task SDK client (PyPI apache-airflow-task-sdk)
# drives the example server (examples/execution_api.rs), and Airflow's own
# worker (supervise_task) runs the DAG tasks of dags/ against it, with every
# task SDK of Airflow 3: 1.0, 1.1, 1.2 (workers/sdk-*/, one venv each) and
# 1.3 (the test's own venv); Debian's Chromium opens the docs page without
# a network (test_docs_page.py); a real OpenID provider (panva's
# oidc-provider, from npm) issues the tokens the ledger example
# (examples/ledger) trusts through discovery (test_oidc.py); replicas of the example share revocations through a
# real redis-server (test_revocation.py).
#
# Creates tests/interop/.venv and tests/interop/.venv-sdk-* if missing (and
# reuses them when present), installs the pinned requirements, installs
# Debian's chromium and redis-server if missing (as root: the docs page test also needs root
# for its network namespace), installs node and npm from Debian's packages
# if missing, installs the pinned oidc-provider in
# tests/interop/oidc/node_modules when its lock file changed (npm ci, from
# npm's cache when it has it), builds the examples, and runs pytest. Extra
# arguments go to pytest, e.g.
#   tests/interop/run.sh -k lifecycle -v
#   tests/interop/run.sh test_oidc.py
# INTEROP_SDKS="1.0 1.3" limits the workers to those task SDKs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"

# venv DIR REQUIREMENTS CONSTRAINTS: creates DIR if missing and installs.
venv() {
    local dir="$1" requirements="$2" constraints="$3" started=$SECONDS
    if [ ! -x "$dir/bin/python" ]; then
        echo "== interop: creating $dir"
        "$python" -m venv "$dir" || {
            echo "interop: '$python -m venv' failed; on Debian/Ubuntu install python3-venv" >&2
            exit 1
        }
    fi
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check \
        -r "$requirements" -c "$constraints"
    echo "== interop: $(basename "$dir") ready in $((SECONDS - started))s"
}

echo "== interop: installing requirements"
venv "$here/.venv" "$here/requirements.txt" "$here/constraints.txt"
workers=""
for dir in "$here"/workers/sdk-*/; do
    short="$(basename "$dir")"
    short="${short#sdk-}"
    if [ -n "${INTEROP_SDKS:-}" ] && [[ " $INTEROP_SDKS " != *" $short "* ]]; then
        continue
    fi
    venv "$here/.venv-sdk-$short" "$dir/requirements.txt" "$dir/constraints.txt"
    version="$("$here/.venv-sdk-$short/bin/python" -c \
        'from importlib.metadata import version; print(version("apache-airflow-task-sdk"))')"
    workers="$workers$version=$here/.venv-sdk-$short/bin/python,"
done
if [ -z "${INTEROP_SDKS:-}" ] || [[ " $INTEROP_SDKS " == *" 1.3 "* ]]; then
    version="$("$here/.venv/bin/python" -c \
        'from importlib.metadata import version; print(version("apache-airflow-task-sdk"))')"
    workers="$workers$version=$here/.venv/bin/python"
fi
export INTEROP_WORKERS="${workers%,}"
echo "== interop: workers $INTEROP_WORKERS"

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

echo "== interop: redis-server (test_revocation.py)"
# Installs Debian's package when missing, without starting its service;
# the tests start their own instance.
bash "$root/tests/redis/install.sh"

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
timings="$(mktemp)"
export INTEROP_TIMINGS="$timings"
started=$SECONDS
status=0
pytest=("$here/.venv/bin/python" -m pytest -q -p no:cacheprovider)
if [ "$#" -gt 0 ]; then
    # A selection of the caller's (`run.sh test_oidc.py`, `-k ..`): one process.
    "${pytest[@]}" "$@" || status=$?
else
    # Each worker version's test_worker.py in a process of its own, and the
    # other modules in one more, side by side: a worker run mostly waits on
    # Airflow's supervisor (about a third of its wall time is CPU), so the
    # five finish in about the time of the slowest instead of their sum.
    # Every server binds port 0, so the processes share nothing.
    IFS=',' read -ra specs <<<"$INTEROP_WORKERS"
    pids=() logs=()
    for spec in "${specs[@]}"; do
        logs+=("$(mktemp)")
        INTEROP_WORKERS="$spec" "${pytest[@]}" test_worker.py >"${logs[-1]}" 2>&1 &
        pids+=($!)
    done
    logs+=("$(mktemp)")
    "${pytest[@]}" --ignore=test_worker.py >"${logs[-1]}" 2>&1 &
    pids+=($!)
    for i in "${!pids[@]}"; do
        wait "${pids[$i]}" || status=1
        cat "${logs[$i]}"
        rm -f "${logs[$i]}"
    done
fi
echo "== interop: pytest took $((SECONDS - started))s"
if [ -s "$timings" ]; then
    echo "== interop: time per worker version (test_worker.py)"
    sed 's/^/   /' "$timings"
fi
rm -f "$timings"
exit "$status"
