"""The DAG the interop test (test_worker.py) runs with Airflow's own worker,
`supervise_task` of the Task SDK, against the example server.

The worker runs one task instance per call, as an executor would: the
server queues them (`serve --queue-task`) and the test hands each one's
workload token to the worker. The dependencies below are what a scheduler
would follow; here the test runs the tasks in that order itself.

Nothing here reads Airflow's environment-variable secrets: variables and
connections come from the server's Execution API.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import Asset, BaseHook, Variable, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException
from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

DAG_ID = "scopegate_interop"
ORDERS = Asset(name="interop_orders", uri="file:///interop/orders.json")
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
        store = context["task_state_store"]
        store.set("loaded_rows", data["rows"])
        conn = BaseHook.get_connection("example_http")
        context["outlet_events"][ORDERS].extra = {"rows": data["rows"]}
        return {
            "rows": data["rows"],
            "greeting": Variable.get("interop_greeting"),
            "conn": [conn.conn_type, conn.host, conn.port],
            "stored": store.get("loaded_rows"),
        }

    @task(
        templates_dict={
            "stamp": "{{ dag.dag_id }}/{{ run_id }}/{{ ti.task_id }}/{{ ds }}/{{ var.value.interop_greeting }}"
        }
    )
    def templated(templates_dict: dict | None = None) -> str:
        """A templated field, rendered by the worker (and sent to the server
        as the task's rendered fields)."""
        return templates_dict["stamp"]

    @task
    def report() -> dict:
        """What a task can ask the server about its DAG and its runs."""
        context = get_current_context()
        ti = context["ti"]
        previous_run = ti.get_previous_dagrun()
        previous_ti = ti.get_previous_ti()
        return {
            "dag": RuntimeTaskInstance.get_dag(DAG_ID).dag_id,
            "run_state": RuntimeTaskInstance.get_dagrun_state(DAG_ID, ti.run_id),
            "runs": RuntimeTaskInstance.get_dr_count(DAG_ID),
            "task_instances": RuntimeTaskInstance.get_ti_count(DAG_ID, run_ids=[ti.run_id]),
            "succeeded": RuntimeTaskInstance.get_ti_count(
                DAG_ID, run_ids=[ti.run_id], states=["success"]
            ),
            "states": RuntimeTaskInstance.get_task_states(DAG_ID, run_ids=[ti.run_id]),
            "breadcrumbs": sorted(b["task_id"] for b in RuntimeTaskInstance.get_task_breadcrumbs(DAG_ID, ti.run_id)),
            "previous_run": previous_run.run_id if previous_run else None,
            "previous_ti": [previous_ti.run_id, previous_ti.state] if previous_ti else None,
            "prev_success_start": str(context["prev_start_date_success"]),
            "variable_keys": list(Variable.keys(prefix="interop_")),
        }

    @task(inlets=[ORDERS])
    def consume() -> dict:
        """Reads the events of its inlet asset, and keeps a watermark in the
        asset state store."""
        context = get_current_context()
        events = context["inlet_events"][ORDERS]
        state = context["asset_state_store"][ORDERS]
        state.set("watermark", len(events))
        return {
            "events": [[e.source_task_id, e.source_run_id, e.extra] for e in events],
            "watermark": state.get("watermark"),
        }

    @task
    def boom() -> None:
        """Fails: the task instance ends `failed` (no retries)."""
        raise ValueError("boom: this task fails on purpose")

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

    trigger = TriggerDagRunOperator(
        task_id="trigger",
        trigger_dag_id=DAG_ID,
        trigger_run_id=TRIGGERED_RUN_ID,
        conf={"from": "{{ run_id }}"},
    )

    loaded = load(extract())
    loaded >> [templated(), report(), consume()]
    boom()
    skip_me()
    gate() >> after_gate()
    trigger


scopegate_interop()
