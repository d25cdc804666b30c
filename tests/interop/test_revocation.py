"""Revocation across replicas (SPEC §13, issue 23): replicas of the example
share a real redis-server (`serve --revocations`), and a token revoked with
`execution_api revoke` is refused on every replica within a second, with
its refresh chain; a replica started later loads it; Redis stopped and
restarted mid-test un-revokes nothing, while `/health/ping` goes 500
(naming the store, never its password) and back to 200.

redis-server comes from Debian's package, which run.sh installs when it is
missing (tests/redis/install.sh); this module starts its own instance on a
free port, with a password and its data in a temporary directory, and
stops it by PID."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import httpx
import pytest
from conftest import Server, decode, example_binary, start_server

from airflow.sdk.api.client import Client

PASSWORD = "interop-redis-" + uuid.uuid4().hex
PID = 4343
PROPAGATION = 1.0  # seconds: SPEC §13's bound


class Redis:
    """A redis-server of this module's own, restartable on its port and
    data directory."""

    def __init__(self, directory: Path):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.dir = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://:{PASSWORD}@127.0.0.1:{self.port}/0"

    @property
    def name(self) -> str:
        """How the replicas name it: never with the password."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert self.process is None
        # Persisted, as SPEC §13 expects of the store: every write fsynced.
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--requirepass", PASSWORD, "--save", "", "--appendonly", "yes",
             "--appendfsync", "always", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture(scope="module")
def redis(tmp_path_factory) -> Iterator[Redis]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is missing: run tests/interop/run.sh, which installs it "
                    "(tests/redis/install.sh), or apt-get install -y redis-server")
    server = Redis(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


def replica(tmp_path_factory, redis: Redis, *args: str) -> tuple[Server, Callable[[], None]]:
    """Starts `serve --revocations URL` and returns it with its stop."""
    started = start_server(tmp_path_factory.mktemp("replica"), "--revocations", redis.url, *args)
    return next(started), started.close


def revoke(redis: Redis, token: str, *, stdin: bool) -> subprocess.CompletedProcess:
    args = [str(example_binary()), "revoke", "--revocations", redis.url]
    args += ["--token", "-"] if stdin else ["--token", token]
    return subprocess.run(args, input=token if stdin else None, capture_output=True, text=True,
                          timeout=30)


def probe(server: Server, token: str) -> int:
    """A protected route's status for `token`: 404 (no such variable: the
    token passed), 401, 503."""
    return httpx.get(server.base_url + "variables/no-such-variable",
                     headers={"Authorization": f"Bearer {token}"}).status_code


def ping(server: Server) -> httpx.Response:
    return httpx.get(server.base_url + "health/ping")


def wait_for(what: str, check: Callable[[], bool], limit: float) -> float:
    """Polls `check` until it holds; returns how long that took, failing
    past `limit` seconds."""
    started = time.monotonic()
    while not check():
        elapsed = time.monotonic() - started
        assert elapsed < limit, f"{what}: not within {limit} s"
        time.sleep(0.01)
    return time.monotonic() - started


def test_revocation_across_replicas_through_an_outage(redis: Redis, tmp_path_factory) -> None:
    # Replica A runs the task, with 30 s execution tokens, so that every 2xx
    # answer to a running task refreshes its token (the window is 30 s).
    a, stop_a = replica(tmp_path_factory, redis, "--queue", "2", "--execution-ttl", "30")
    b, stop_b = replica(tmp_path_factory, redis)
    stops = [stop_b, stop_a]
    try:
        for server in (a, b):
            wait_for("the replica loads the list", lambda: ping(server).status_code == 200, 5)
            assert ping(server).json()["ok"] == ["scopegate.Verifier", "scopegate.RedisDenyList"]

        # A refresh chain: the workload token, its /run swap, then a refresh.
        ti_id, workload = a.take_queued()
        client = Client(base_url=a.base_url, token=workload)
        client.task_instances.start(ti_id, PID, datetime.now(timezone.utc))
        swapped = client.auth.token
        time.sleep(1.1)  # less than 30 s left: inside the refresh window
        client.task_instances.heartbeat(ti_id, PID)
        refreshed = client.auth.token
        assert len({workload, swapped, refreshed}) == 3
        assert decode(refreshed)["sid"] == decode(swapped)["sid"] == decode(workload)["sid"]
        other_ti, other = a.take_queued()
        bystander = a.token_command(uuid.uuid4(), "execution")
        for server in (a, b):
            assert probe(server, refreshed) == 404 and probe(server, bystander) == 404

        # Revoke the first token of the chain from the command line, by
        # standard input: every token of the chain is refused on both
        # replicas within a second of the command's exit.
        done = revoke(redis, workload, stdin=True)
        exited = time.monotonic()
        assert done.returncode == 0, done.stderr
        assert PASSWORD not in done.stdout + done.stderr
        for token in (workload, swapped, refreshed):
            for server in (a, b):
                wait_for("refused", lambda: probe(server, token) == 401, PROPAGATION)
        assert time.monotonic() - exited < PROPAGATION + 0.5  # the polls themselves
        body = httpx.get(b.base_url + "variables/x",
                         headers={"Authorization": f"Bearer {refreshed}"}).json()
        assert body == {"detail": "Invalid auth token: token revoked"}
        for server in (a, b):
            assert probe(server, bystander) == 404

        # A replica started after the revocation loads it.
        c, stop_c = replica(tmp_path_factory, redis)
        stops.append(stop_c)
        wait_for("C loads the list", lambda: ping(c).status_code == 200, 5)
        assert probe(c, refreshed) == 401 and probe(c, bystander) == 404

        # The outage.
        redis.stop()
        for server in (a, b, c):
            wait_for("ping reports the store down", lambda: ping(server).status_code == 500, 3)
            answer = ping(server)
            failing = answer.json()["failing"]["scopegate.RedisDenyList"]
            assert redis.name in failing and "unreachable" in failing, failing
            assert PASSWORD not in answer.text
            assert httpx.get(server.base_url + "health").status_code == 200  # liveness
            assert probe(server, refreshed) == 401  # what was seen stays revoked
            assert probe(server, bystander) == 404  # the rest is served
        # A revocation cannot be stored: the command says so, non-zero.
        failed = revoke(redis, other, stdin=False)
        assert failed.returncode != 0 and redis.name in failed.stderr
        assert PASSWORD not in failed.stderr
        # A replica started during the outage has never loaded the list:
        # 503 on protected routes, through the usual refusal path.
        d, stop_d = replica(tmp_path_factory, redis)
        stops.append(stop_d)
        refused = httpx.get(d.base_url + "variables/x",
                            headers={"Authorization": f"Bearer {bystander}"})
        assert refused.status_code == 503
        assert refused.json() == {
            "detail": "Service Unavailable: the revocation list is not loaded yet"}
        assert refused.headers["retry-after"] == "1"
        assert ping(d).status_code == 500
        time.sleep(1.0)  # a few reconnect attempts, for the log check below

        # Redis comes back (with its data: nothing revoked comes back).
        redis.start()
        back = time.monotonic()
        for server in (a, b, c, d):
            wait_for("ping 200 again", lambda: ping(server).status_code == 200, PROPAGATION)
        assert time.monotonic() - back < PROPAGATION + 0.5
        for server in (a, b, c, d):
            assert probe(server, refreshed) == 401 and probe(server, bystander) == 404
        # After the reconnect, a revocation reaches every replica in 1 s.
        done = revoke(redis, bystander, stdin=False)
        assert done.returncode == 0, done.stderr
        for server in (a, b, c, d):
            wait_for("refused after the reconnect", lambda: probe(server, bystander) == 401,
                     PROPAGATION)
        # The other task is untouched.
        assert probe(b, other) == 403  # a workload token: not this route's type

        # No log storm: one error line for the outage (then one a minute),
        # one line for the recovery; no password anywhere.
        for server in (a, b):
            log = server.stderr.read_text()
            assert log.count("revocation store unreachable") == 1, log[-3000:]
            assert log.count("revocation store reachable again") == 1
            assert PASSWORD not in log
        assert PASSWORD not in d.stderr.read_text()
    finally:
        for stop in reversed(stops):
            stop()
