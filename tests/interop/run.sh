#!/usr/bin/env bash
# Interop test: Airflow's own Task SDK client (PyPI apache-airflow-task-sdk)
# drives the example server (examples/execution_api.rs), and Airflow's own
# worker (supervise_task) runs the DAG tasks of dags/ against it; replicas
# of the example share revocations through a real redis-server.
#
# Creates tests/interop/.venv if missing, installs the pinned requirements,
# builds the example, and runs pytest. Extra arguments go to pytest, e.g.
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

echo "== interop: redis-server (test_revocation.py)"
# Installs Debian's package when missing, without starting its service;
# the tests start their own instance.
bash "$root/tests/redis/install.sh"

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
