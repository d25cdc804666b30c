"""Fixtures for the interop tests: the example server, started as a real
process, and tokens minted the way Airflow mints them."""

from __future__ import annotations

import atexit
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

# Airflow reads its configuration when its modules are imported: give it a
# throw-away home, and make a failing call fail at once instead of retrying
# for half a minute.
if "AIRFLOW_HOME" not in os.environ:
    _airflow_home = tempfile.mkdtemp(prefix="scopegate-interop-airflow-")
    atexit.register(shutil.rmtree, _airflow_home, ignore_errors=True)
    os.environ["AIRFLOW_HOME"] = _airflow_home
os.environ.setdefault("AIRFLOW__WORKERS__EXECUTION_API_RETRIES", "1")
# The worker (test_worker.py) loads DAGs from the `dags-folder` bundle.
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(Path(__file__).resolve().parent / "dags"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
# Variables and connections must come from the server, not from Airflow's
# environment-variable secrets backend, which the worker reads first.
for _name in [n for n in os.environ if n.startswith(("AIRFLOW_VAR_", "AIRFLOW_CONN_"))]:
    del os.environ[_name]

import jwt  # noqa: E402  (PyJWT, after the environment above)
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
AUDIENCE = "urn:airflow.apache.org:task"
# 64 bytes or more: RFC 7518 asks that much for HS512.
SECRET = "interop-" + uuid.uuid4().hex + uuid.uuid4().hex
QUEUED = 8
STARTUP_TIMEOUT = 60.0


def example_binary() -> Path:
    """The example built by run.sh (or `cargo build --example execution_api`)."""
    env = os.environ.get("EXECUTION_API_BIN")
    if env:
        return Path(env)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "debug" / "examples" / "execution_api"


@dataclass
class Server:
    """A running example server and what it printed."""

    base_url: str
    secret: str
    queued: list[tuple[uuid.UUID, str]]
    process: subprocess.Popen
    stderr: Path
    _next: int = field(default=0)

    def take_queued(self) -> tuple[uuid.UUID, str]:
        """A queued task instance no other test has used, and its workload token."""
        if self._next >= len(self.queued):
            raise RuntimeError("not enough queued task instances: raise QUEUED in conftest.py")
        item = self.queued[self._next]
        self._next += 1
        return item

    def token_command(self, sub: uuid.UUID, kind: str, *extra: str) -> str:
        """A token minted by the example's own `token` command."""
        out = subprocess.run(
            [str(example_binary()), "token", "--sub", str(sub), "--type", kind, *extra],
            env={**os.environ, "SCOPEGATE_JWT_SECRET": self.secret},
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return out.stdout.strip()


def _read_lines(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def start_server(log_dir: Path, *args: str, launcher: tuple[str, ...] = ()) -> Iterator[Server]:
    """Runs `execution_api serve` with `args` on a free port, with the
    shared secret, logging to `log_dir/stderr.log`; yields it once it
    listens, with the task instances it queued, and stops it after (by its
    PID). `launcher` goes before the command, and must exec it in the same
    process (test_docs_page.py starts the server in a network namespace)."""
    binary = example_binary()
    if not binary.exists():
        pytest.fail(f"{binary} not found: run tests/interop/run.sh, or cargo build --example execution_api")
    stderr_path = log_dir / "stderr.log"
    stderr = stderr_path.open("w")
    process = subprocess.Popen(
        [*launcher, str(binary), "serve", "--bind", "127.0.0.1:0", "--secret", SECRET, *args],
        stdout=subprocess.PIPE,
        stderr=stderr,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "RUST_LOG": "info,scopegate=debug"},
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
    queued: list[tuple[uuid.UUID, str]] = []
    base_url = None
    deadline = time.monotonic() + STARTUP_TIMEOUT
    try:
        while base_url is None:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"the server printed no listening line within {STARTUP_TIMEOUT}s")
            if line is None:
                pytest.fail(f"the server exited early:\n{stderr_path.read_text()}")
            record = json.loads(line)
            if "listening" in record:
                base_url = record["listening"]
            else:
                assert set(record) == {"task_instance_id", "workload_token"}, record
                queued.append((uuid.UUID(record["task_instance_id"]), record["workload_token"]))
        yield Server(base_url, SECRET, queued, process, stderr_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        stderr.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[Server]:
    """A server with QUEUED task instances of its own demo DAG."""
    started = start_server(tmp_path_factory.mktemp("server"), "--queue", str(QUEUED))
    server = next(started)
    assert len(server.queued) == QUEUED
    yield server
    started.close()


def airflow_token(
    sub: uuid.UUID | str,
    scope: str | None,
    *,
    secret: str = SECRET,
    lifetime: int = 600,
    issued_ago: int = 0,
    extra: dict | None = None,
) -> str:
    """A token with the claim set of Airflow's JWTGenerator
    (airflow/api_fastapi/auth/tokens.py): HS512, header kid "not-used",
    claims jti, aud, nbf, iat, exp, sub and scope (left out when None: an
    execution token, as Airflow reads it)."""
    now = int(time.time()) - issued_ago
    claims = {
        "jti": uuid.uuid4().hex,
        "aud": AUDIENCE,
        "nbf": now,
        "iat": now,
        "exp": now + lifetime,
        "sub": str(sub),
        **(extra or {}),
    }
    if scope is not None:
        claims["scope"] = scope
    return jwt.encode(claims, secret, algorithm="HS512", headers={"kid": "not-used"})


def decode(token: str, secret: str = SECRET) -> dict:
    """Verifies a token the server minted, as Airflow would."""
    return jwt.decode(token, secret, algorithms=["HS512"], audience=AUDIENCE)
