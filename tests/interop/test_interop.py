"""Airflow's own Task SDK client (airflow.sdk.api.client.Client) drives the
example server: a task instance's whole life, variables, connections,
connection tests, token swap and refresh, and the refusals a worker sees.

Run through tests/interop/run.sh, which builds the example and the venv."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from datetime import datetime, timezone

import httpx
import pytest
from conftest import SECRET, Server, airflow_token, decode, example_binary

from airflow.sdk.api.client import Client, ServerResponseError
from airflow.sdk.api.datamodels._generated import (
    API_VERSION,
    ConnectionResponse,
    ConnectionTestConnectionResponse,
    TerminalStateNonSuccess,
    TIRunContext,
    VariableResponse,
)
from airflow.sdk.exceptions import ErrorType, TaskAlreadyRunningError
from airflow.sdk.execution_time.comms import ErrorResponse

PID = 4242


def now() -> datetime:
    return datetime.now(timezone.utc)


class Recorder:
    """Records the Refreshed-API-Token headers the server sends and the
    headers the client sends, through httpx's event hooks."""

    def __init__(self, client: Client):
        self.refreshed: list[str] = []
        self.sent: list[httpx.Headers] = []
        # The client's own hooks run first: _update_auth, then the error check.
        client.event_hooks["response"].insert(0, self._response)
        client.event_hooks["request"].append(self._request)

    def _response(self, response: httpx.Response) -> None:
        if token := response.headers.get("Refreshed-API-Token"):
            self.refreshed.append(token)

    def _request(self, request: httpx.Request) -> None:
        self.sent.append(request.headers)


def client_for(server: Server, token: str) -> tuple[Client, Recorder]:
    client = Client(base_url=server.base_url, token=token)
    return client, Recorder(client)


def detail(exc: pytest.ExceptionInfo) -> object:
    """The `detail` of the error body. The client keeps an object detail in
    `.detail`, and turns a string detail into the exception's message."""
    assert isinstance(exc.value, ServerResponseError)
    body = exc.value.response.json()["detail"]
    if isinstance(body, str):
        assert exc.value.detail is None and str(exc.value) == body
    else:
        assert exc.value.detail == body
    return body


def test_health(server: Server) -> None:
    assert httpx.get(server.base_url + "health").json() == {"status": "healthy"}


def test_task_lifecycle_with_the_printed_workload_token(server: Server) -> None:
    ti_id, workload_token = server.take_queued()
    claims = decode(workload_token)
    assert claims["scope"] == "workload" and claims["sub"] == str(ti_id)
    client, rec = client_for(server, workload_token)

    context = client.task_instances.start(ti_id, PID, now())
    assert isinstance(context, TIRunContext)
    assert context.dag_run.dag_id == "scopegate_example"
    assert context.max_tries == 0 and context.should_retry is False

    # The server answered /run with an execution token, and the client now
    # sends exactly that token.
    assert len(rec.refreshed) == 1
    execution_token = rec.refreshed[0]
    assert client.auth.token == execution_token != workload_token
    claims = decode(execution_token)
    assert claims["scope"] == "execution"
    assert claims["sub"] == str(ti_id)
    assert claims["exp"] - claims["iat"] == 600

    client.task_instances.heartbeat(ti_id, PID)
    assert rec.sent[-1]["authorization"] == f"Bearer {execution_token}"
    assert rec.sent[-1]["airflow-api-version"] == API_VERSION

    assert client.variables.set("greeting", "hello", "said by the interop test").ok
    assert client.variables.get("greeting") == VariableResponse(key="greeting", value="hello")
    client.variables.set("nothing", None)
    assert client.variables.get("nothing") == VariableResponse(key="nothing", value=None)
    assert client.variables.delete("nothing").ok
    gone = client.variables.get("nothing")
    assert isinstance(gone, ErrorResponse) and gone.error == ErrorType.VARIABLE_NOT_FOUND
    missing = client.variables.get("no-such-variable")
    assert isinstance(missing, ErrorResponse) and missing.error == ErrorType.VARIABLE_NOT_FOUND

    conn = client.connections.get("example_http")
    assert isinstance(conn, ConnectionResponse)
    assert (conn.conn_type, conn.host, conn.schema_, conn.port) == ("http", "example.com", "https", 443)
    missing = client.connections.get("no-such-connection")
    assert isinstance(missing, ErrorResponse) and missing.error == ErrorType.CONNECTION_NOT_FOUND

    client.task_instances.succeed(ti_id, now(), task_outlets=[], outlet_events=[], rendered_map_index=None)

    # Finished: the next heartbeat tells the worker to stop, and the task
    # cannot be started again.
    with pytest.raises(ServerResponseError) as exc:
        client.task_instances.heartbeat(ti_id, PID)
    assert exc.value.response.status_code == 409
    assert detail(exc)["reason"] == "not_running"
    assert detail(exc)["current_state"] == "success"
    with pytest.raises(ServerResponseError) as exc:
        client.task_instances.start(ti_id, PID, now())
    assert exc.value.response.status_code == 409
    assert detail(exc)["reason"] == "invalid_state"
    assert detail(exc)["previous_state"] == "success"
    # Nothing was refreshed after /run: the execution token is fresh.
    assert rec.refreshed == [execution_token]


def test_task_lifecycle_with_a_pyjwt_workload_token(server: Server) -> None:
    ti_id, _ = server.take_queued()
    workload_token = airflow_token(ti_id, "workload", lifetime=24 * 3600)
    client, rec = client_for(server, workload_token)
    client.task_instances.start(ti_id, PID, now())
    assert client.auth.token == rec.refreshed[0] != workload_token
    assert decode(client.auth.token)["scope"] == "execution"
    client.task_instances.heartbeat(ti_id, PID)
    client.task_instances.finish(ti_id, TerminalStateNonSuccess.FAILED, now(), rendered_map_index=None)
    with pytest.raises(ServerResponseError) as exc:
        client.task_instances.heartbeat(ti_id, PID)
    assert detail(exc)["current_state"] == "failed"


def test_retry_with_a_token_from_the_token_command(server: Server) -> None:
    ti_id, _ = server.take_queued()
    workload_token = server.token_command(ti_id, "workload")
    assert decode(workload_token)["scope"] == "workload"
    client, _ = client_for(server, workload_token)
    client.task_instances.start(ti_id, PID, now())
    client.task_instances.retry(
        ti_id, end_date=now(), rendered_map_index=None, retry_delay_seconds=5.0, retry_reason="flaky"
    )
    with pytest.raises(ServerResponseError) as exc:
        client.task_instances.heartbeat(ti_id, PID)
    assert detail(exc)["current_state"] == "up_for_retry"


def test_execution_token_from_the_token_command(server: Server) -> None:
    token = server.token_command(uuid.uuid4(), "execution")
    claims = decode(token)
    assert claims["scope"] == "execution" and claims["exp"] - claims["iat"] == 600
    client, _ = client_for(server, token)
    client.variables.set("from-token-command", "yes")
    assert client.variables.get("from-token-command").value == "yes"


def test_a_second_start_is_refused_as_already_running(server: Server) -> None:
    ti_id, workload_token = server.take_queued()
    first, _ = client_for(server, workload_token)
    first.task_instances.start(ti_id, PID, now())
    # Another worker (another pid) with the same workload token.
    second, _ = client_for(server, workload_token)
    with pytest.raises(TaskAlreadyRunningError):
        second.task_instances.start(ti_id, PID + 1, now())
    # The first worker's heartbeats are still accepted, the second's are not.
    first.task_instances.heartbeat(ti_id, PID)
    with pytest.raises(ServerResponseError) as exc:
        second.task_instances.heartbeat(ti_id, PID + 1)
    # The second client never got an execution token: refused on its type.
    assert exc.value.response.status_code == 403


def test_workload_token_is_refused_on_heartbeat(server: Server) -> None:
    ti_id, workload_token = server.take_queued()
    client, _ = client_for(server, workload_token)
    with pytest.raises(ServerResponseError) as exc:
        client.task_instances.heartbeat(ti_id, PID)
    assert exc.value.response.status_code == 403
    assert detail(exc) == "Token type 'workload' not allowed for this endpoint. Allowed types: execution"
    denied = client.variables.get("greeting")
    assert isinstance(denied, ErrorResponse) and denied.error == ErrorType.PERMISSION_DENIED


def test_one_task_token_is_refused_on_another_task(server: Server) -> None:
    mine = uuid.uuid4()
    other = uuid.uuid4()
    client, _ = client_for(server, airflow_token(mine, "execution"))
    with pytest.raises(ServerResponseError) as exc:
        client.task_instances.heartbeat(other, PID)
    assert exc.value.response.status_code == 403
    assert detail(exc) == "Token subject does not match task instance ID"


def test_near_expiry_execution_token_is_refreshed_with_its_extra_claims(server: Server) -> None:
    # The server renews the tokens of running task instances only.
    ti_id, workload_token = server.take_queued()
    client_for(server, workload_token)[0].task_instances.start(ti_id, PID, now())
    # 600 s lifetime, 20 s left: inside the refresh window.
    old = airflow_token(ti_id, None, lifetime=600, issued_ago=580, extra={"team": "blue"})
    client, rec = client_for(server, old)
    client.variables.set("refresh", "1")
    assert len(rec.refreshed) == 1
    assert client.auth.token == rec.refreshed[0] != old
    old_claims, new_claims = decode(old), decode(client.auth.token)
    assert new_claims["sub"] == old_claims["sub"]
    assert new_claims["scope"] == "execution"
    assert new_claims["team"] == "blue"
    assert new_claims["exp"] - new_claims["iat"] == 600
    assert new_claims["exp"] > old_claims["exp"]
    # The refreshed token is accepted, and fresh enough not to be refreshed again.
    assert client.variables.get("refresh").value == "1"
    assert len(rec.refreshed) == 1


def test_a_finished_tasks_token_is_never_refreshed(server: Server) -> None:
    # Airflow #73303: once a task instance reported a terminal state, its
    # token dies at its `exp`, however often it calls a route that answers
    # 2xx; so does a token whose subject the server does not know.
    ti_id, workload_token = server.take_queued()
    client, _ = client_for(server, workload_token)
    client.task_instances.start(ti_id, PID, now())
    client.task_instances.succeed(ti_id, now(), task_outlets=[], outlet_events=[], rendered_map_index=None)
    for sub in [ti_id, uuid.uuid4()]:
        near = airflow_token(sub, None, lifetime=600, issued_ago=580)
        client, rec = client_for(server, near)
        for _ in range(3):
            assert client.variables.set("finished", "1").ok
            assert isinstance(client.variables.get("finished"), VariableResponse)
        assert rec.refreshed == [] and client.auth.token == near


def test_fresh_and_workload_tokens_are_not_refreshed(server: Server) -> None:
    fresh = airflow_token(uuid.uuid4(), "execution")
    client, rec = client_for(server, fresh)
    client.variables.get("anything")
    assert rec.refreshed == [] and client.auth.token == fresh
    # A workload token near its expiry is never refreshed, on a route it may call.
    ct_id = uuid.uuid4()
    near = airflow_token(ct_id, "workload", lifetime=600, issued_ago=590)
    client, rec = client_for(server, near)
    client.connection_tests.get_connection(ct_id)
    assert rec.refreshed == [] and client.auth.token == near


def test_connection_tests_take_workload_tokens_only(server: Server) -> None:
    ct_id = uuid.uuid4()
    client, _ = client_for(server, server.token_command(ct_id, "workload"))
    conn = client.connection_tests.get_connection(ct_id)
    assert isinstance(conn, ConnectionTestConnectionResponse)
    assert conn.conn_id == "example_http"
    # Credentials are handed out once per test.
    with pytest.raises(ServerResponseError) as exc:
        client.connection_tests.get_connection(ct_id)
    assert exc.value.response.status_code == 409

    client, _ = client_for(server, airflow_token(ct_id, "execution"))
    with pytest.raises(ServerResponseError) as exc:
        client.connection_tests.get_connection(ct_id)
    assert exc.value.response.status_code == 403
    assert "Allowed types: workload" in detail(exc)
    # Another test's workload token.
    client, _ = client_for(server, airflow_token(uuid.uuid4(), "workload"))
    with pytest.raises(ServerResponseError) as exc:
        client.connection_tests.get_connection(ct_id)
    assert detail(exc) == "Token subject does not match connection test ID"


@pytest.mark.parametrize(
    "token, reason",
    [
        (airflow_token(uuid.uuid4(), "execution", secret="not-the-server-secret"), "invalid signature"),
        (airflow_token(uuid.uuid4(), "execution", lifetime=60, issued_ago=3600), "expired"),
        (airflow_token("not-a-uuid", "execution"), "sub"),
        (airflow_token(uuid.uuid4(), "admin"), "scope"),
    ],
)
def test_invalid_tokens_are_401(server: Server, token: str, reason: str) -> None:
    client, _ = client_for(server, token)
    denied = client.variables.get("greeting")
    assert isinstance(denied, ErrorResponse)
    assert denied.error == ErrorType.PERMISSION_DENIED
    assert denied.detail["status_code"] == 401
    response = httpx.get(server.base_url + "variables/greeting", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Invalid auth token: ")
    assert reason in response.json()["detail"]
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


def test_bad_bodies_are_422_not_500(server: Server) -> None:
    ti_id, workload_token = server.take_queued()
    client, _ = client_for(server, workload_token)
    client.task_instances.start(ti_id, PID, now())
    headers = {"Authorization": f"Bearer {client.auth.token}", "content-type": "application/json"}
    url = f"{server.base_url}task-instances/{ti_id}/"
    for path, body in [
        ("heartbeat", "not json"),
        ("heartbeat", '{"hostname": "h"}'),
        ("heartbeat", '{"hostname": "h", "pid": 1, "extra": 1}'),
        ("state", '{"state": "deferred"}'),
        ("state", '{"state": "success", "end_date": "yesterday"}'),
        ("state", '{"state": "success", "end_date": "2025-01-01T00:00:00"}'),
    ]:
        method = "PUT" if path == "heartbeat" else "PATCH"
        response = httpx.request(method, url + path, content=body, headers=headers)
        assert response.status_code == 422, (path, body, response.text)
        assert isinstance(response.json()["detail"], list)
    # The task instance is still running.
    client.task_instances.heartbeat(ti_id, PID)


def test_unknown_task_instance_is_404(server: Server) -> None:
    ti_id = uuid.uuid4()
    client, _ = client_for(server, airflow_token(ti_id, "workload"))
    with pytest.raises(ServerResponseError) as exc:
        client.task_instances.start(ti_id, PID, now())
    assert exc.value.response.status_code == 404
    assert detail(exc)["reason"] == "not_found"


def test_cli_help_and_token_without_secret() -> None:
    help_text = subprocess.run(
        [str(example_binary()), "serve", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for flag in [
        "--bind",
        "--secret",
        "--audience",
        "--issuer",
        "--queue",
        "--queue-task",
        "--workload-ttl",
        "--execution-ttl",
    ]:
        assert flag in help_text
    # A task to queue is DAG_ID/RUN_ID/TASK_ID; anything else is refused at once.
    for bad in ["etl/run", "etl/run/task/extra", "etl/run id/task"]:
        out = subprocess.run(
            [str(example_binary()), "serve", "--bind", "127.0.0.1:0", "--queue-task", bad],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert out.returncode != 0 and out.stdout == "", (bad, out.stdout)
        assert "DAG_ID/RUN_ID/TASK_ID" in out.stderr or "run id" in out.stderr, out.stderr
    env = {k: v for k, v in os.environ.items() if k != "SCOPEGATE_JWT_SECRET"}
    out = subprocess.run(
        [str(example_binary()), "token", "--sub", str(uuid.uuid4()), "--type", "execution"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert out.returncode != 0 and out.stdout == ""
    assert "SCOPEGATE_JWT_SECRET" in out.stderr


def test_the_secret_is_never_logged(server: Server) -> None:
    time.sleep(0.2)
    log = server.stderr.read_text()
    assert SECRET not in log
    for _, token in server.queued:
        assert token not in log


def test_a_callback_token_is_exchanged_once(tmp_path) -> None:
    """`serve --queue-callback` prints a callback and its single-use token
    (Airflow main's callback token, #71192); PATCH
    /callbacks/<id>/run exchanges it once for an execution token, and a
    second exchange is 409."""
    from conftest import start_server

    started = start_server(tmp_path, "--queue-callback", "1")
    server = next(started)
    try:
        [(callback_id, token)] = server.callbacks
        assert decode(token)["scope"] == "callback"
        url = f"{server.base_url}callbacks/{callback_id}/run"
        headers = {"Authorization": f"Bearer {token}"}
        first = httpx.patch(url, headers=headers, json={"hostname": "worker-1", "pid": PID})
        assert first.status_code == 200, first.text
        assert first.json() == {"id": str(callback_id), "state": "running"}
        execution = decode(first.headers["Refreshed-API-Token"])
        assert (execution["sub"], execution["scope"]) == (str(callback_id), "execution")
        second = httpx.patch(url, headers=headers, json={})
        assert second.status_code == 409
        assert second.json()["detail"]["reason"] == "invalid_state"
        # The task SDK 1.3.2 client's version (2026-06-30) has no such route.
        old = httpx.patch(url, headers={**headers, "Airflow-API-Version": API_VERSION}, json={})
        assert old.status_code == 404
    finally:
        started.close()
