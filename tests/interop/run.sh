#!/usr/bin/env bash
# Interop test: Airflow's own Task SDK client (PyPI apache-airflow-task-sdk)
# drives the example server (examples/execution_api.rs), and Airflow's own
# worker (supervise_task) runs the DAG tasks of dags/ against it; Debian's
# Chromium opens the docs page without a network (test_docs_page.py).
#
# Creates tests/interop/.venv if missing, installs the pinned requirements,
# installs Debian's chromium if missing (as root: the docs page test also
# needs root for its network namespace), builds the example, and runs
# pytest. Extra arguments go to pytest, e.g.
#   tests/interop/run.sh -k lifecycle -v
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

echo "== interop: building the example"
(cd "$root" && cargo build --quiet --example execution_api)
export EXECUTION_API_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/examples/execution_api"

echo "== interop: pytest"
cd "$here"
started=$SECONDS
status=0
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$@" || status=$?
echo "== interop: pytest took $((SECONDS - started))s"
exit "$status"
