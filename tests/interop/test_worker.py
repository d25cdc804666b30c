"""Airflow's own worker runs real DAG tasks against the example server.

The server queues the task instances of dags/scopegate_interop.py in three
runs (`serve --queue-task`), as a scheduler hands them to an executor; the
test hands each workload token to `supervise_task` (run_task.py, one process
per task instance, the `dags-folder` bundle, AIRFLOW_HOME in a temporary
directory), in the order a scheduler would follow, and checks what each
task did through the server's own API: final states, XComs, runs, assets.
It also runs the worker's other entry point, `supervise_connection_test`.

The server's log must show no 404 and no 5xx: every call the worker makes
exists and works. The operations the worker called are printed at the end.

Run through tests/interop/run.sh, which builds the example and the venv."""

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
TRIGGERED = "triggered__by_interop"
GREETING = "hello from the interop test"
WORKER_TIMEOUT = 180

# Every task instance the server queues, in the order the lines come out.
PLAN = [
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
    (RUN3, "approve"),
    (RUN3, "slashed_keys"),
]

ACCESS = re.compile(r"execution_api::access: response method=(\S+) path=(\S+) status=(\d+)")


@dataclass
class Worker:
    """The server, the queued task instances, and the worker runs so far."""

    server: Server
    client: Client
    tis: dict[tuple[str, str], tuple[uuid.UUID, str]]
    logs: Path
    # (method, path, status) of every request the worker made.
    worker_requests: list[tuple[str, str, int]] = field(default_factory=list)

    def log_lines(self) -> list[str]:
        return self.server.stderr.read_text().splitlines()

    def record(self, since: int) -> None:
        """Keeps the requests logged after line `since` as the worker's."""
        # The server logs a response after sending it: give the last line a moment.
        time.sleep(0.2)
        for line in self.log_lines()[since:]:
            if match := ACCESS.search(line):
                self.worker_requests.append((match[1], match[2], int(match[3])))

    def run(self, run_id: str, task_id: str) -> str | None:
        """Runs one task instance with Airflow's worker; returns its state
        as the server has it afterwards."""
        ti_id, token = self.tis[(run_id, task_id)]
        before = len(self.log_lines())
        log = self.logs / f"{run_id}.{task_id}.log".replace(":", "_").replace("+", "_")
        env = {**os.environ, "SCOPEGATE_WORKLOAD_TOKEN": token}
        with log.open("w") as out:
            done = subprocess.run(
                [sys.executable, str(HERE / "run_task.py"), self.server.base_url, DAG_FILE, DAG_ID,
                 run_id, task_id, str(ti_id)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=WORKER_TIMEOUT,
                cwd=HERE,
            )
        self.record(before)
        assert done.returncode == 0, f"the worker exited {done.returncode}:\n{log.read_text()}"
        return self.state(run_id, task_id)

    def state(self, run_id: str, task_id: str) -> str | None:
        states = self.client.task_instances.get_task_states(DAG_ID, run_ids=[run_id]).task_states
        return states[run_id][task_id]

    def xcom(self, run_id: str, task_id: str, key: str = "return_value"):
        return self.client.xcoms.get(DAG_ID, run_id, task_id, key).value


@pytest.fixture(scope="module")
def worker(tmp_path_factory) -> Iterator[Worker]:
    args = [f"--queue-task={DAG_ID}/{run_id}/{task_id}" for run_id, task_id in PLAN]
    started = start_server(tmp_path_factory.mktemp("worker-server"), *args)
    server = next(started)
    assert len(server.queued) == len(PLAN)
    client = Client(base_url=server.base_url, token=server.token_command(uuid.uuid4(), "execution"))
    # Seeded through the API, as a user or another task would.
    client.variables.set("interop_greeting", GREETING, "read by the load and templated tasks")
    client.variables.set("team/db/host", "db.example", "a key with slashes, read by slashed_keys")
    yield Worker(server, client, dict(zip(PLAN, server.queued)), tmp_path_factory.mktemp("worker-logs"))
    started.close()


def test_two_tasks_pass_an_xcom_and_read_a_variable_and_a_connection(worker: Worker) -> None:
    assert worker.run(RUN1, "extract") == "success"
    assert worker.xcom(RUN1, "extract") == {"rows": 3, "source": "extract"}
    assert worker.run(RUN1, "load") == "success"
    assert worker.xcom(RUN1, "load") == {
        "rows": 3,
        "greeting": GREETING,
        "conn": ["http", "example.com", 443],
        "stored": 3,
        "source": "extract",
    }


def test_a_templated_field_is_rendered(worker: Worker) -> None:
    assert worker.run(RUN1, "templated") == "success"
    run = worker.client.dag_runs.get_detail(DAG_ID, RUN1)
    ds = run.logical_date.date().isoformat()
    assert worker.xcom(RUN1, "templated") == f"{DAG_ID}/{RUN1}/templated/{ds}/{GREETING}"
    # The worker sent the rendered fields and the map-index label to the server.
    ti_id = worker.tis[(RUN1, "templated")][0]
    assert ("PUT", f"/execution/task-instances/{ti_id}/rtif", 201) in worker.worker_requests
    assert ("PATCH", f"/execution/task-instances/{ti_id}/rendered-map-index", 204) in worker.worker_requests


def test_a_task_reads_its_dag_and_runs(worker: Worker) -> None:
    assert worker.run(RUN1, "report") == "success"
    assert worker.xcom(RUN1, "report") == {
        "dag": DAG_ID,
        "run_state": "running",
        "runs": 3,
        "task_instances": 4,
        "succeeded": 3,
        "states": {RUN1: {"extract": "success", "load": "success", "templated": "success", "report": "running"}},
        "breadcrumbs": ["extract", "load", "templated"],
        "previous_run": None,
        "previous_ti": None,
        "prev_success_start": "None",
        "variable_keys": ["interop_greeting"],
    }
    # Its last task done, the run is done.
    assert worker.client.dag_runs.get_state(DAG_ID, RUN1).state.value == "success"


def test_a_task_reads_the_events_of_its_inlet_asset(worker: Worker) -> None:
    assert worker.run(RUN2, "consume") == "success"
    assert worker.xcom(RUN2, "consume") == {"events": [["load", RUN1, {"rows": 3}]], "watermark": 1}


def test_events_through_an_asset_alias(worker: Worker) -> None:
    assert worker.run(RUN2, "publish") == "success"
    assert worker.run(RUN2, "consume_alias") == "success"
    assert worker.xcom(RUN2, "consume_alias") == [["interop_daily", "publish", {"day": 2}]]


def test_a_task_writes_then_removes_what_it_keeps(worker: Worker) -> None:
    assert worker.run(RUN2, "housekeeping") == "success"
    assert worker.xcom(RUN2, "housekeeping") == {"variable": "temporary", "left": [], "checked": True}
    assert worker.client.xcoms.head(DAG_ID, RUN2, "housekeeping", "scratch").len == 0


def test_a_task_that_raises_ends_failed(worker: Worker) -> None:
    assert worker.run(RUN2, "boom") == "failed"


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


def test_a_later_run_sees_the_earlier_one(worker: Worker) -> None:
    assert worker.run(RUN2, "report") == "success"
    report = worker.xcom(RUN2, "report")
    run1 = worker.client.dag_runs.get_detail(DAG_ID, RUN1)
    assert report == {
        "dag": DAG_ID,
        "run_state": "running",
        "runs": 4,
        "task_instances": 11,
        "succeeded": 7,
        "states": {
            RUN2: {
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
                "report": "running",
            }
        },
        "breadcrumbs": [
            "after_gate",
            "boom",
            "consume",
            "consume_alias",
            "gate",
            "housekeeping",
            "publish",
            "retrigger",
            "skip_me",
            "trigger",
        ],
        "previous_run": RUN1,
        "previous_ti": [RUN1, "success"],
        "prev_success_start": str(run1.start_date),
        "variable_keys": ["interop_greeting"],
    }
    assert worker.client.dag_runs.get_state(DAG_ID, RUN2).state.value == "failed"


def test_a_human_in_the_loop_task_waits_for_input(worker: Worker) -> None:
    assert worker.run(RUN3, "approve") == "awaiting_input"
    # The worker recorded the question. A human answers through Airflow's UI
    # (its Core API); here the answer goes through the Execution API, with
    # the task instance's own token.
    ti_id = worker.tis[(RUN3, "approve")][0]
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
    assert worker.xcom(RUN3, "slashed_keys") == {
        "password": "s3cret",
        "host": "db.example",
        "keys": ["team/db/host", "team/db/password"],
        "xcom": {"rows": 3},
        "page": 2,
    }
    # What the SDK sent: raw slashes in Variable and XCom keys, an encoded
    # one in the task-state key; each reached its route.
    ti_id = worker.tis[(RUN3, "slashed_keys")][0]
    sent = {(m, p.split("?")[0], s) for m, p, s in worker.worker_requests}
    assert ("PUT", "/execution/variables/team/db/password", 201) in sent
    assert ("GET", "/execution/variables/team/db/host", 200) in sent
    xcom = f"/execution/xcoms/{DAG_ID}/{RUN3}/slashed_keys/reports/2026/summary"
    assert ("POST", xcom, 201) in sent
    assert ("PUT", f"/execution/store/ti/{ti_id}/cursor%2Fpage", 204) in sent
    assert ("GET", f"/execution/store/ti/{ti_id}/cursor%2Fpage", 200) in sent
    # And Airflow's client reads the same keys back.
    assert worker.client.variables.get("team/db/password").value == "s3cret"
    assert worker.client.xcoms.get(DAG_ID, RUN3, "slashed_keys", "reports/2026/summary").value == {"rows": 3}


def test_a_connection_test_runs_on_the_worker(worker: Worker) -> None:
    """The worker's other entry point: a connection test the UI asked for,
    with a workload token made for it. The worker fetches the connection
    once, tests it (no HTTP provider is installed, so the hook is missing and
    the test fails, as it would in Airflow) and reports the result."""
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


def test_final_states_are_the_ones_airflow_gives(worker: Worker) -> None:
    states = worker.client.task_instances.get_task_states(DAG_ID).task_states
    assert states == {
        RUN1: {"extract": "success", "load": "success", "templated": "success", "report": "success"},
        RUN2: {
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
            "report": "success",
        },
        RUN3: {"approve": "awaiting_input", "slashed_keys": "success"},
    }
    run_states = [worker.client.dag_runs.get_state(DAG_ID, run).state.value for run in (RUN1, RUN2, RUN3)]
    assert run_states == ["success", "failed", "running"]


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
    operations = [
        (method.upper(), path, re.compile("/execution" + re.sub(r"\{[^}]+\}", param_pattern, path)))
        for path, item in doc["paths"].items()
        for method in item
        if method != "parameters"
    ]
    called = sorted({op for m, p, _ in worker.worker_requests if (op := operation_of(m, p, operations))})
    unknown = sorted({f"{m} {p}" for m, p, _ in worker.worker_requests if not operation_of(m, p, operations)})
    with capsys.disabled():
        print(f"\n== the worker called {len(called)} of Airflow's {len(operations)} operations:")
        for op in called:
            print(f"   {op}")
    assert not unknown, f"the worker called paths that are not Airflow's: {unknown}"
