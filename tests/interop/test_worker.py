"""Airflow's own worker runs real DAG tasks against the example server,
with every task SDK of Airflow 3.

The server queues the task instances of dags/scopegate_interop.py in four
runs (`serve --queue-task`, mapped instances with their map index, and
`--task-retries` for the task that declares retries), as a scheduler hands
them to an executor; the test hands each workload token to the worker
(run_task.py, one process per task instance, the `dags-folder` bundle,
AIRFLOW_HOME in a temporary directory), in the order a scheduler would
follow, and checks what each task did through the server's own API: final
states, XComs, runs, assets. It also runs the worker's other entry point,
`supervise_connection_test`, where the SDK has it.

Each worker version runs in its own virtualenv, with its own server:
tests/interop/run.sh builds them and names them in INTEROP_WORKERS
(`1.0.6=/path/to/python,...`); without it, the worker is this venv's. Each
sends its own `Airflow-API-Version` and gets the bodies of its version.

The server's log must show no 404 and no 5xx: every call the worker makes
exists and works. The operations the worker called are printed at the end.

Run through tests/interop/run.sh, which builds the example and the venvs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import ROOT, SECRET, Server, start_server

from airflow.sdk.api.client import Client, ServerResponseError

HERE = Path(__file__).resolve().parent
DAG_FILE = "scopegate_interop.py"
DAG_ID = "scopegate_interop"
RUN1 = "manual__2026-01-01T00:00:00+00:00"
RUN2 = "manual__2026-01-02T00:00:00+00:00"
RUN3 = "manual__2026-01-03T00:00:00+00:00"
RUN4 = "manual__2026-01-04T00:00:00+00:00"
TRIGGERED = "triggered__by_interop"
GREETING = "hello from the interop test"
WORKER_TIMEOUT = 180
# The retries `flaky` declares in the DAG file.
FLAKY_RETRIES = 2
# `double` is mapped over [1, 2, 3].
MAPPED = [1, 2, 3]

ACCESS = re.compile(r"execution_api::access: response method=(\S+) path=(\S+) status=(\d+)")


def sdk_of(version: str) -> tuple[int, int]:
    """`1.2.2` -> (1, 2)."""
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def worker_pythons() -> list[tuple[str, str]]:
    """(task SDK version, python) of every worker to run: INTEROP_WORKERS,
    else this venv's own."""
    spec = os.environ.get("INTEROP_WORKERS")
    if not spec:
        import airflow.sdk

        return [(airflow.sdk.__version__, sys.executable)]
    return [tuple(item.split("=", 1)) for item in spec.split(",") if item]


def plan(sdk: tuple[int, int]) -> list[tuple[str, str, int]]:
    """Every task instance the server queues for a worker of `sdk`, in the
    order the lines come out: (run, task, map index)."""
    tasks = [
        (RUN1, "extract"),
        (RUN1, "load"),
        (RUN1, "templated"),
        (RUN1, "report"),
        (RUN2, "consume"),
        (RUN2, "publish"),
        (RUN2, "consume_alias"),
        (RUN2, "housekeeping"),
        (RUN2, "boom"),
        (RUN2, "skip_me"),
        (RUN2, "gate"),
        (RUN2, "after_gate"),
        (RUN2, "trigger"),
        (RUN2, "retrigger"),
        (RUN2, "report"),
    ]
    items = [(run, task, -1) for run, task in tasks]
    if sdk >= (1, 1):
        # Human in the loop needs Airflow 3.1.
        items.append((RUN3, "approve", -1))
    items.append((RUN3, "slashed_keys", -1))
    items.append((RUN4, "flaky", -1))
    items += [(RUN4, "double", i) for i in range(len(MAPPED))]
    return items


@dataclass
class Worker:
    """The server, the queued task instances, and the worker runs so far."""

    version: str
    python: str
    server: Server
    client: Client
    tis: dict[tuple[str, str, int], tuple[uuid.UUID, str]]
    logs: Path
    # (method, path, status) of every request the worker made.
    worker_requests: list[tuple[str, str, int]] = field(default_factory=list)
    runs: int = 0

    @property
    def sdk(self) -> tuple[int, int]:
        return sdk_of(self.version)

    def log_lines(self) -> list[str]:
        return self.server.stderr.read_text().splitlines()

    def record(self, since: int) -> None:
        """Keeps the requests logged after line `since` as the worker's."""
        # The server logs a response after sending it: give the last line a moment.
        time.sleep(0.2)
        for line in self.log_lines()[since:]:
            if match := ACCESS.search(line):
                self.worker_requests.append((match[1], match[2], int(match[3])))

    def run(self, run_id: str, task_id: str, map_index: int = -1) -> str | None:
        """Runs one task instance with Airflow's worker; returns its state
        as the server has it afterwards."""
        ti_id, token = self.tis[(run_id, task_id, map_index)]
        before = len(self.log_lines())
        name = f"{run_id}.{task_id}.{map_index}".replace(":", "_").replace("+", "_")
        log = self.logs / f"{name}.log"
        env = {**os.environ, "SCOPEGATE_WORKLOAD_TOKEN": token}
        with log.open("w") as out:
            done = subprocess.run(
                [self.python, str(HERE / "run_task.py"), self.server.base_url, DAG_FILE, DAG_ID,
                 run_id, task_id, str(ti_id), str(map_index)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=WORKER_TIMEOUT,
                cwd=HERE,
            )
        self.runs += 1
        self.record(before)
        assert done.returncode == 0, f"the worker exited {done.returncode}:\n{log.read_text()}"
        return self.state(run_id, task_id, map_index)

    def state(self, run_id: str, task_id: str, map_index: int = -1) -> str | None:
        states = self.client.task_instances.get_task_states(DAG_ID, run_ids=[run_id]).task_states
        key = task_id if map_index < 0 else f"{task_id}_{map_index}"
        return states[run_id][key]

    def xcom(self, run_id: str, task_id: str, key: str = "return_value", map_index: int | None = None):
        return self.client.xcoms.get(DAG_ID, run_id, task_id, key, map_index=map_index).value


@pytest.fixture(scope="module", params=worker_pythons(), ids=lambda w: f"sdk-{w[0]}")
def worker(request, tmp_path_factory) -> Iterator[Worker]:
    version, python = request.param
    items = plan(sdk_of(version))
    args = [
        f"--queue-task={DAG_ID}/{run}/{task}" + (f"/{index}" if index >= 0 else "")
        for run, task, index in items
    ]
    args.append(f"--task-retries=flaky={FLAKY_RETRIES}")
    started = start_server(tmp_path_factory.mktemp(f"worker-server-{version}"), *args)
    server = next(started)
    assert len(server.queued) == len(items)
    client = Client(base_url=server.base_url, token=server.token_command(uuid.uuid4(), "execution"))
    # Seeded through the API, as a user or another task would.
    client.variables.set("interop_greeting", GREETING, "read by the load and templated tasks")
    client.variables.set("team/db/host", "db.example", "a key with slashes, read by slashed_keys")
    w = Worker(version, python, server, client, dict(zip(items, server.queued)),
               tmp_path_factory.mktemp(f"worker-logs-{version}"))
    began = time.monotonic()
    yield w
    elapsed = time.monotonic() - began
    line = f"task SDK {version}: {w.runs} worker runs in {elapsed:.0f}s"
    print(f"\n== {line}")
    if timings := os.environ.get("INTEROP_TIMINGS"):
        with open(timings, "a") as out:
            out.write(line + "\n")
    started.close()


def runs_queued(w: Worker) -> int:
    return len({run for run, _, _ in w.tis})


def test_two_tasks_pass_an_xcom_and_read_a_variable_and_a_connection(worker: Worker) -> None:
    assert worker.run(RUN1, "extract") == "success"
    assert worker.xcom(RUN1, "extract") == {"rows": 3, "source": "extract"}
    assert worker.run(RUN1, "load") == "success"
    assert worker.xcom(RUN1, "load") == {
        "rows": 3,
        "greeting": GREETING,
        "conn": ["http", "example.com", 443],
        # The task state store: task SDK 1.3 on.
        "stored": 3 if worker.sdk >= (1, 3) else None,
        "source": "extract",
    }


def test_a_templated_field_is_rendered(worker: Worker) -> None:
    assert worker.run(RUN1, "templated") == "success"
    run = worker.client.dag_runs.get_detail(DAG_ID, RUN1)
    ds = run.logical_date.date().isoformat()
    assert worker.xcom(RUN1, "templated") == f"{DAG_ID}/{RUN1}/templated/{ds}/{GREETING}"
    # The worker sent the rendered fields and the map-index label to the
    # server: from task SDK 1.2 on a request of its own, before with the
    # final state (`rendered_map_index`, API version 2025-04-28).
    ti_id = worker.tis[(RUN1, "templated", -1)][0]
    assert ("PUT", f"/execution/task-instances/{ti_id}/rtif", 201) in worker.worker_requests
    label = "rendered-map-index" if worker.sdk >= (1, 2) else "state"
    assert ("PATCH", f"/execution/task-instances/{ti_id}/{label}", 204) in worker.worker_requests


def with_newer(worker: Worker, report: dict, v1_2: dict, v1_3: dict) -> dict:
    """`report` plus what task SDK 1.2 and 1.3 add to it."""
    if worker.sdk >= (1, 2):
        report = {**report, **v1_2}
    if worker.sdk >= (1, 3):
        report = {**report, **v1_3}
    return report


def test_a_task_reads_its_dag_and_runs(worker: Worker) -> None:
    assert worker.run(RUN1, "report") == "success"
    assert worker.xcom(RUN1, "report") == with_newer(
        worker,
        {
            "run_state": "running",
            "runs": runs_queued(worker),
            "task_instances": 4,
            "succeeded": 3,
            "states": {RUN1: {"extract": "success", "load": "success", "templated": "success", "report": "running"}},
            "previous_run": None,
            "prev_success_start": "None",
        },
        {"dag": DAG_ID, "breadcrumbs": ["extract", "load", "templated"], "previous_ti": None},
        {"variable_keys": ["interop_greeting"]},
    )
    # Its last task done, the run is done.
    assert worker.client.dag_runs.get_state(DAG_ID, RUN1).state.value == "success"


def test_a_task_reads_the_events_of_its_inlet_asset(worker: Worker) -> None:
    assert worker.run(RUN2, "consume") == "success"
    assert worker.xcom(RUN2, "consume") == {
        "events": [["load", RUN1, {"rows": 3}]],
        # The asset state store: task SDK 1.3 on.
        "watermark": 1 if worker.sdk >= (1, 3) else None,
    }


def test_events_through_an_asset_alias(worker: Worker) -> None:
    assert worker.run(RUN2, "publish") == "success"
    assert worker.run(RUN2, "consume_alias") == "success"
    assert worker.xcom(RUN2, "consume_alias") == [["interop_daily", "publish", {"day": 2}]]


def test_a_task_writes_then_removes_what_it_keeps(worker: Worker) -> None:
    assert worker.run(RUN2, "housekeeping") == "success"
    expected = {"variable": "temporary"}
    if worker.sdk >= (1, 3):
        expected |= {"left": [], "checked": True}
    assert worker.xcom(RUN2, "housekeeping") == expected
    assert worker.client.xcoms.head(DAG_ID, RUN2, "housekeeping", "scratch").len == 0


def test_a_task_that_raises_ends_failed(worker: Worker) -> None:
    assert worker.run(RUN2, "boom") == "failed"


def test_a_task_with_retries_left_ends_up_for_retry(worker: Worker) -> None:
    """`flaky` declares retries=2 and the server queued it with them
    (`--task-retries`): its first try fails, and the worker reports
    up_for_retry, because /run told it should_retry."""
    assert worker.run(RUN4, "flaky") == "up_for_retry"
    ti_id = worker.tis[(RUN4, "flaky", -1)][0]
    assert ("PATCH", f"/execution/task-instances/{ti_id}/state", 204) in worker.worker_requests


def test_each_mapped_instance_runs_with_its_own_map_index_and_xcom(worker: Worker) -> None:
    for index, x in enumerate(MAPPED):
        assert worker.run(RUN4, "double", index) == "success"
        assert worker.xcom(RUN4, "double", map_index=index) == 2 * x
    # Three values of one key, one per map index.
    assert worker.client.xcoms.head(DAG_ID, RUN4, "double", "return_value").len == len(MAPPED)


def test_a_task_that_skips_itself_ends_skipped(worker: Worker) -> None:
    assert worker.run(RUN2, "skip_me") == "skipped"


def test_a_short_circuit_skips_its_downstream_task(worker: Worker) -> None:
    assert worker.state(RUN2, "after_gate") == "queued"
    assert worker.run(RUN2, "gate") == "success"
    assert worker.state(RUN2, "after_gate") == "skipped"


def test_a_task_triggers_a_dag_run(worker: Worker) -> None:
    assert worker.run(RUN2, "trigger") == "success"
    triggered = worker.client.dag_runs.get_detail(DAG_ID, TRIGGERED)
    assert (triggered.state.value, triggered.run_type.value) == ("queued", "operator_triggered")
    assert triggered.conf == {"from": RUN2}
    assert worker.xcom(RUN2, "trigger", "trigger_run_id") == TRIGGERED
    # Triggered again with reset_dag_run: Airflow's 409, then the SDK clears the run.
    assert worker.run(RUN2, "retrigger") == "success"
    assert ("POST", f"/execution/dag-runs/{DAG_ID}/{TRIGGERED}", 409) in worker.worker_requests
    cleared = worker.client.dag_runs.get_detail(DAG_ID, TRIGGERED)
    assert (cleared.state.value, cleared.clear_number) == ("queued", 1)


RUN2_STATES = {
    "consume": "success",
    "publish": "success",
    "consume_alias": "success",
    "housekeeping": "success",
    "boom": "failed",
    "skip_me": "skipped",
    "gate": "success",
    "after_gate": "skipped",
    "trigger": "success",
    "retrigger": "success",
}


def test_a_later_run_sees_the_earlier_one(worker: Worker) -> None:
    assert worker.run(RUN2, "report") == "success"
    report = worker.xcom(RUN2, "report")
    run1 = worker.client.dag_runs.get_detail(DAG_ID, RUN1)
    assert report == with_newer(
        worker,
        {
            "run_state": "running",
            # The queued runs and the triggered one.
            "runs": runs_queued(worker) + 1,
            "task_instances": 11,
            "succeeded": 7,
            "states": {RUN2: {**RUN2_STATES, "report": "running"}},
            "previous_run": RUN1,
            "prev_success_start": str(run1.start_date),
        },
        {"dag": DAG_ID, "breadcrumbs": sorted(RUN2_STATES), "previous_ti": [RUN1, "success"]},
        {"variable_keys": ["interop_greeting"]},
    )
    assert worker.client.dag_runs.get_state(DAG_ID, RUN2).state.value == "failed"


def approve_state(worker: Worker) -> str:
    """The state Airflow gives the human-in-the-loop task: from task SDK
    1.3 (API version 2026-06-30) it waits without a trigger,
    `awaiting_input`; before, the operator defers to its trigger."""
    return "awaiting_input" if worker.sdk >= (1, 3) else "deferred"


def test_a_human_in_the_loop_task_waits_for_input(worker: Worker) -> None:
    if worker.sdk < (1, 1):
        pytest.skip("human in the loop needs Airflow 3.1 (task SDK 1.1)")
    assert worker.run(RUN3, "approve") == approve_state(worker)
    # The worker recorded the question. A human answers through Airflow's UI
    # (its Core API); here the answer goes through the Execution API, with
    # the task instance's own token.
    ti_id = worker.tis[(RUN3, "approve", -1)][0]
    assert ("POST", f"/execution/hitlDetails/{ti_id}", 201) in worker.worker_requests
    own = Client(base_url=worker.server.base_url, token=worker.server.token_command(ti_id, "execution"))
    answer = own.hitl.update_response(ti_id=ti_id, chosen_options=["yes"], params_input={})
    assert answer.response_received and answer.chosen_options == ["yes"]
    assert own.hitl.get_detail_response(ti_id).chosen_options == ["yes"]
    # Resuming the task is the scheduler's job; the run waits.
    assert worker.client.dag_runs.get_state(DAG_ID, RUN3).state.value == "running"


def test_a_task_reads_and_writes_keys_with_slashes(worker: Worker) -> None:
    """Airflow declares the Variable, XCom and task-state-store keys
    `{key:path}`; the example declares them `<key:path>`."""
    assert worker.run(RUN3, "slashed_keys") == "success"
    expected = {"password": "s3cret", "host": "db.example", "xcom": {"rows": 3}}
    if worker.sdk >= (1, 3):
        # Variable keys and the task state store: task SDK 1.3 on.
        expected |= {"keys": ["team/db/host", "team/db/password"], "page": 2}
    assert worker.xcom(RUN3, "slashed_keys") == expected
    # What the SDK sent: raw slashes in Variable and XCom keys, an encoded
    # one in the task-state key; each reached its route.
    ti_id = worker.tis[(RUN3, "slashed_keys", -1)][0]
    sent = {(m, p.split("?")[0], s) for m, p, s in worker.worker_requests}
    assert ("PUT", "/execution/variables/team/db/password", 201) in sent
    assert ("GET", "/execution/variables/team/db/host", 200) in sent
    xcom = f"/execution/xcoms/{DAG_ID}/{RUN3}/slashed_keys/reports/2026/summary"
    assert ("POST", xcom, 201) in sent
    if worker.sdk >= (1, 3):
        assert ("PUT", f"/execution/store/ti/{ti_id}/cursor%2Fpage", 204) in sent
        assert ("GET", f"/execution/store/ti/{ti_id}/cursor%2Fpage", 200) in sent
    # And Airflow's client reads the same keys back.
    assert worker.client.variables.get("team/db/password").value == "s3cret"
    assert worker.client.xcoms.get(DAG_ID, RUN3, "slashed_keys", "reports/2026/summary").value == {"rows": 3}


def test_a_connection_test_runs_on_the_worker(worker: Worker) -> None:
    """The worker's other entry point: a connection test the UI asked for,
    with a workload token made for it. The worker fetches the connection
    once, tests it (no HTTP provider is installed, so the hook is missing and
    the test fails, as it would in Airflow) and reports the result. Task SDK
    1.3 on (API version 2026-06-30 added the routes); it runs in this
    process, this venv's SDK, for the 1.3 worker only."""
    if worker.sdk < (1, 3):
        pytest.skip(f"task SDK {worker.version} has no connection tests (API version 2026-06-30)")
    from airflow.sdk.execution_time.connection_test_supervisor import supervise_connection_test

    test_id = uuid.uuid4()
    before = len(worker.log_lines())
    supervise_connection_test(
        connection_test_id=test_id,
        connection_id="example_http",
        timeout=30,
        token=worker.server.token_command(test_id, "workload"),
        server=worker.server.base_url,
    )
    worker.record(before)
    assert ("GET", f"/execution/connection-tests/{test_id}/connection", 200) in worker.worker_requests
    assert ("PATCH", f"/execution/connection-tests/{test_id}", 204) in worker.worker_requests
    # Finished: its credentials are not handed out again.
    again = Client(base_url=worker.server.base_url, token=worker.server.token_command(test_id, "workload"))
    with pytest.raises(ServerResponseError) as refused:
        again.connection_tests.get_connection(test_id)
    assert refused.value.response.status_code == 409
    assert "is in state failed" in refused.value.response.json()["detail"]["message"]


def final_states(worker: Worker) -> dict:
    """What Airflow gives every task instance the worker ran."""
    states = {
        RUN1: {"extract": "success", "load": "success", "templated": "success", "report": "success"},
        RUN2: {**RUN2_STATES, "report": "success"},
        RUN4: {"flaky": "up_for_retry", **{f"double_{i}": "success" for i in range(len(MAPPED))}},
    }
    states[RUN3] = {"slashed_keys": "success"}
    if worker.sdk >= (1, 1):
        states[RUN3] = {"approve": approve_state(worker), **states[RUN3]}
    return states


def test_final_states_are_the_ones_airflow_gives(worker: Worker, capsys: pytest.CaptureFixture) -> None:
    states = worker.client.task_instances.get_task_states(DAG_ID).task_states
    assert states == final_states(worker)
    run_states = [worker.client.dag_runs.get_state(DAG_ID, run).state.value for run in (RUN1, RUN2, RUN3, RUN4)]
    # RUN3 waits for a human (task SDK 1.1 on; before, it has slashed_keys
    # only), RUN4 for flaky's retry.
    run3 = "running" if worker.sdk >= (1, 1) else "success"
    assert run_states == ["success", "failed", run3, "running"]
    with capsys.disabled():
        print(f"\n== task SDK {worker.version}: final task states")
        for run, tasks in sorted(states.items()):
            print(f"   {run}: " + ", ".join(f"{t}={s}" for t, s in tasks.items()))


# The parameters Airflow declares `{key:path}` (its document writes them
# `{key}`): they take the rest of the path, slashes included.
PATH_PARAMS = {"key", "variable_key"}


def param_pattern(param: re.Match) -> str:
    return ".+" if param[0][1:-1] in PATH_PARAMS else "[^/]+"


def operation_of(method: str, path: str, operations: list[tuple[str, str, re.Pattern]]) -> str | None:
    for op_method, template, pattern in operations:
        if op_method == method and pattern.fullmatch(path):
            return f"{op_method} {template}"
    return None


def test_the_server_answered_no_404_and_no_5xx(worker: Worker, capsys: pytest.CaptureFixture) -> None:
    responses = [ACCESS.search(line) for line in worker.log_lines()]
    responses = [(m[1], m[2], int(m[3])) for m in responses if m]
    assert responses, "no access log lines: is the server logging at info?"
    bad = [r for r in responses if r[2] == 404 or r[2] >= 500]
    assert not bad, f"404 or 5xx in the server log: {bad}"
    log = worker.server.stderr.read_text()
    assert SECRET not in log
    for _, token in worker.server.queued:
        assert token not in log

    # Which of Airflow's operations the worker called, from the log.
    doc = json.loads((ROOT / "tests/data/airflow-3.3.2-execution-api-openapi.json").read_text())
    paths = [(method.upper(), path) for path, item in doc["paths"].items() for method in item if method != "parameters"]
    # Older versions' operations that 3.3.2 serves at another path
    # (MovePreviousRunEndpoint, 2026-04-06): task SDK 1.0 and 1.1 call them.
    older = [("GET", "/dag-runs/{dag_id}/previous")] if worker.sdk < (1, 2) else []
    operations = [
        (method, path, re.compile("/execution" + re.sub(r"\{[^}]+\}", param_pattern, path)))
        for method, path in older + paths
    ]
    called = sorted({op for m, p, _ in worker.worker_requests if (op := operation_of(m, p, operations))})
    unknown = sorted({f"{m} {p}" for m, p, _ in worker.worker_requests if not operation_of(m, p, operations)})
    with capsys.disabled():
        print(f"\n== the task SDK {worker.version} worker called {len(called)} of Airflow's {len(paths)} operations:")
        for op in called:
            print(f"   {op}")
    assert not unknown, f"the worker called paths that are not Airflow's: {unknown}"
