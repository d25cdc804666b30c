"""The DAG the interop test (test_worker.py) runs with Airflow's own worker,
`supervise_task` of the Task SDK, against the example server.

The worker runs one task instance per call, as an executor would: the
server queues them (`serve --queue-task`) and the test hands each one's
workload token to the worker. The dependencies below are what a scheduler
would follow; here the test runs the tasks in that order itself.

Nothing here reads Airflow's environment-variable secrets: variables and
connections come from the server's Execution API.

The same file runs under every task SDK of Airflow 3 (1.0 to 1.3, each with
its own Execution API version): what an older SDK does not have (the task
and asset state stores and variable keys of 1.3, a DAG's own route, the
breadcrumbs and the previous task instance of 1.2, human in the loop of
1.1) is left out of a task's work when the worker lacks it, and the test
(test_worker.py) expects what each SDK can do.
"""

from __future__ import annotations

from datetime import datetime, timezone

import airflow.sdk
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import Asset, AssetAlias, Variable, dag, get_current_context, task
from airflow.sdk.bases.xcom import BaseXCom
from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

try:  # task SDK 1.1 on
    from airflow.sdk import BaseHook
except ImportError:  # task SDK 1.0
    from airflow.hooks.base import BaseHook
try:  # task SDK 1.2 on
    from airflow.sdk.exceptions import AirflowSkipException
except ImportError:
    from airflow.exceptions import AirflowSkipException
try:  # human in the loop: Airflow 3.1 on
    from airflow.providers.standard.operators.hitl import HITLOperator
except Exception:  # the provider refuses Airflow 3.0 with its own exception
    HITLOperator = None

# The worker's task SDK, (major, minor).
SDK = tuple(int(part) for part in airflow.sdk.__version__.split(".")[:2])

DAG_ID = "scopegate_interop"
ORDERS = Asset(name="interop_orders", uri="file:///interop/orders.json")
DAILY = Asset(name="interop_daily", uri="file:///interop/daily.json")
ALIAS = AssetAlias(name="interop_alias")
TRIGGERED_RUN_ID = "triggered__by_interop"


@dag(dag_id=DAG_ID, schedule=None, start_date=datetime(2026, 1, 1, tzinfo=timezone.utc), catchup=False)
def scopegate_interop():
    @task
    def extract() -> dict:
        """Its return value becomes the XCom `return_value`."""
        return {"rows": 3, "source": "extract"}

    @task(outlets=[ORDERS])
    def load(data: dict) -> dict:
        """Pulls extract's XCom (the argument), reads a Variable and a
        Connection, keeps a value in the task state store, and emits an
        event for its outlet asset."""
        context = get_current_context()
        stored = None
        if SDK >= (1, 3):
            store = context["task_state_store"]
            store.set("loaded_rows", data["rows"])
            stored = store.get("loaded_rows")
        conn = BaseHook.get_connection("example_http")
        context["outlet_events"][ORDERS].extra = {"rows": data["rows"]}
        return {
            "rows": data["rows"],
            "greeting": Variable.get("interop_greeting"),
            "conn": [conn.conn_type, conn.host, conn.port],
            "stored": stored,
            # Without map indexes: every value of extract's key, as a slice.
            "source": context["ti"].xcom_pull(task_ids="extract", key="source"),
        }

    @task(
        templates_dict={
            "stamp": "{{ dag.dag_id }}/{{ run_id }}/{{ ti.task_id }}/{{ ds }}/{{ var.value.interop_greeting }}"
        },
        map_index_template="{{ ti.task_id }} of {{ run_id }}",
    )
    def templated(templates_dict: dict | None = None) -> str:
        """A templated field, rendered by the worker (and sent to the server
        as the task's rendered fields), and a rendered map-index label."""
        return templates_dict["stamp"]

    @task
    def report() -> dict:
        """What a task can ask the server about its DAG and its runs."""
        context = get_current_context()
        ti = context["ti"]
        previous_run = ti.get_previous_dagrun()
        report = {
            "run_state": RuntimeTaskInstance.get_dagrun_state(DAG_ID, ti.run_id),
            "runs": RuntimeTaskInstance.get_dr_count(DAG_ID),
            "task_instances": RuntimeTaskInstance.get_ti_count(DAG_ID, run_ids=[ti.run_id]),
            "succeeded": RuntimeTaskInstance.get_ti_count(
                DAG_ID, run_ids=[ti.run_id], states=["success"]
            ),
            "states": RuntimeTaskInstance.get_task_states(DAG_ID, run_ids=[ti.run_id]),
            "previous_run": previous_run.run_id if previous_run else None,
            "prev_success_start": str(context["prev_start_date_success"]),
        }
        if SDK >= (1, 2):
            previous_ti = ti.get_previous_ti()
            report["dag"] = RuntimeTaskInstance.get_dag(DAG_ID).dag_id
            report["breadcrumbs"] = sorted(
                b["task_id"] for b in RuntimeTaskInstance.get_task_breadcrumbs(DAG_ID, ti.run_id)
            )
            report["previous_ti"] = [previous_ti.run_id, previous_ti.state] if previous_ti else None
        if SDK >= (1, 3):
            report["variable_keys"] = list(Variable.keys(prefix="interop_"))
        return report

    @task(inlets=[ORDERS])
    def consume() -> dict:
        """Reads the events of its inlet asset, and keeps a watermark in the
        asset state store."""
        context = get_current_context()
        events = context["inlet_events"][ORDERS]
        watermark = None
        if SDK >= (1, 3):
            state = context["asset_state_store"][ORDERS]
            state.set("watermark", len(events))
            watermark = state.get("watermark")
            state.delete("watermark")
            state.clear()
        return {
            "events": [[e.source_task_id, e.source_run_id, e.extra] for e in events],
            "watermark": watermark,
        }

    @task(outlets=[ALIAS])
    def publish() -> None:
        """Emits an event through an asset alias: the server learns the
        alias's asset from it."""
        get_current_context()["outlet_events"][ALIAS].add(DAILY, extra={"day": 2})

    @task(inlets=[ALIAS, Asset.ref(name=ORDERS.name)])
    def consume_alias() -> list:
        """Reads the events emitted through the alias (the worker resolves
        the alias's assets, and the name reference, when it builds the
        context)."""
        events = get_current_context()["inlet_events"][ALIAS]
        return [[e.asset.name, e.source_task_id, e.extra] for e in events]

    @task(inlets=[Asset.ref(uri=ORDERS.uri)])
    def housekeeping() -> dict:
        """Writes, then removes, what a task can keep: a variable, task state
        and asset state (by URI: the inlet is a URI reference, resolved by the
        worker when it builds the context)."""
        context = get_current_context()
        ti = context["ti"]
        ti.xcom_push(key="scratch", value=1)
        BaseXCom.delete(key="scratch", dag_id=ti.dag_id, task_id=ti.task_id, run_id=ti.run_id, map_index=-1)
        Variable.set("interop_scratch", "temporary")
        scratch = Variable.get("interop_scratch")
        Variable.delete("interop_scratch")
        if SDK < (1, 3):
            return {"variable": scratch}
        store = context["task_state_store"]
        store.set("a", 1)
        store.set("b", 2)
        store.delete("a")
        store.clear()
        asset_state = context["asset_state_store"]
        asset_state.set("checked", True)
        checked = asset_state.get("checked")
        asset_state.delete("checked")
        asset_state.clear()
        return {"variable": scratch, "left": list(Variable.keys(prefix="interop_scratch")), "checked": checked}

    @task
    def slashed_keys() -> dict:
        """Writes and reads back a Variable, an XCom and task state whose keys
        hold `/`, as Airflow's `{key:path}` routes allow: the SDK sends
        Variable and XCom keys with raw slashes, task-state keys
        percent-encoded. Also reads a Variable with a slash that the test
        set through the API."""
        context = get_current_context()
        ti = context["ti"]
        Variable.set("team/db/password", "s3cret")
        ti.xcom_push(key="reports/2026/summary", value={"rows": 3})
        read = {
            "password": Variable.get("team/db/password"),
            "host": Variable.get("team/db/host"),
            "xcom": ti.xcom_pull(task_ids=ti.task_id, key="reports/2026/summary"),
        }
        if SDK >= (1, 3):
            # Variable keys and the task state store: task SDK 1.3 on.
            store = context["task_state_store"]
            store.set("cursor/page", 2)
            read["keys"] = list(Variable.keys(prefix="team/"))
            read["page"] = store.get("cursor/page")
        return read

    @task
    def boom() -> None:
        """Fails: the task instance ends `failed` (no retries)."""
        raise ValueError("boom: this task fails on purpose")

    @task(retries=2)
    def flaky() -> None:
        """Fails with retries left (the server is told its retries with
        `--task-retries flaky=2`, as a scheduler reads them from this file):
        the worker reports `up_for_retry`, not `failed`."""
        raise RuntimeError("flaky: fails on purpose, to be retried")

    @task
    def double(x: int) -> int:
        """Mapped over a list: each instance runs with its own map index
        and writes its own `return_value`."""
        return 2 * x

    @task
    def skip_me() -> None:
        """Skips itself: the task instance ends `skipped`."""
        raise AirflowSkipException("skipped on purpose")

    @task.short_circuit
    def gate() -> bool:
        """Returns False: its downstream tasks are skipped, via the server."""
        return False

    @task
    def after_gate() -> str:
        return "never runs"

    # The run exists by now: the 409 makes the SDK clear it instead.
    retrigger = TriggerDagRunOperator(
        task_id="retrigger",
        trigger_dag_id=DAG_ID,
        trigger_run_id=TRIGGERED_RUN_ID,
        reset_dag_run=True,
    )

    if HITLOperator is not None:
        HITLOperator(task_id="approve", subject="Ship it?", options=["yes", "no"])

    trigger = TriggerDagRunOperator(
        task_id="trigger",
        trigger_dag_id=DAG_ID,
        trigger_run_id=TRIGGERED_RUN_ID,
        conf={"from": "{{ run_id }}"},
    )

    loaded = load(extract())
    loaded >> [templated(), report(), consume()]
    publish() >> consume_alias()
    housekeeping()
    slashed_keys()
    boom()
    flaky()
    double.expand(x=[1, 2, 3])
    skip_me()
    gate() >> after_gate()
    trigger >> retrigger


scopegate_interop()
