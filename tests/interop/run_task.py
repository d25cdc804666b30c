"""Runs one task instance with Airflow's own worker, as an executor does:
`airflow.sdk.execution_time.supervisor.supervise_task` (Task SDK), in a
process of its own, with the `dags-folder` bundle.

    run_task.py SERVER_URL DAG_FILE DAG_ID RUN_ID TASK_ID TASK_INSTANCE_ID [MAP_INDEX [TRY_NUMBER]]

It runs under every task SDK of Airflow 3 (1.0 to 1.3): task SDK 1.0 and
1.1 name the entry point `supervise`, and 1.0's TaskInstance has no
`dag_version_id`.

The workload token comes from the environment variable
SCOPEGATE_WORKLOAD_TOKEN, never from the command line, where other users
could read it. AIRFLOW_HOME and AIRFLOW__CORE__DAGS_FOLDER must be set.
The exit code is the worker's (0 also when the task failed: the task's
state is the server's to tell)."""

from __future__ import annotations

import os
import sys
import uuid


def main() -> int:
    server, dag_file, dag_id, run_id, task_id, ti_id, *rest = sys.argv[1:]
    map_index = int(rest[0]) if rest else -1
    try_number = int(rest[1]) if len(rest) > 1 else 1
    token = os.environ.pop("SCOPEGATE_WORKLOAD_TOKEN")

    from airflow.sdk.api.datamodels._generated import BundleInfo, TaskInstance
    from airflow.sdk.execution_time import supervisor

    # supervise_task from task SDK 1.2 on; supervise before.
    supervise_task = getattr(supervisor, "supervise_task", None) or supervisor.supervise
    fields = {
        "id": uuid.UUID(ti_id),
        "task_id": task_id,
        "dag_id": dag_id,
        "run_id": run_id,
        "try_number": try_number,
        "map_index": map_index,
    }
    if "dag_version_id" in TaskInstance.model_fields:
        # The worker does not read it; the scheduler's DAG version is not
        # something the example has.
        fields["dag_version_id"] = uuid.uuid4()
    ti = TaskInstance(**fields)
    return supervise_task(
        ti=ti,
        bundle_info=BundleInfo(name="dags-folder", version=None),
        dag_rel_path=dag_file,
        token=token,
        server=server,
        subprocess_logs_to_stdout=True,
    )


if __name__ == "__main__":
    sys.exit(main())
