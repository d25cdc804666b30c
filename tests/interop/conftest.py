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
    # (callback id, callback token) of `serve --queue-callback N`.
    callbacks: list[tuple[uuid.UUID, str]] = field(default_factory=list)
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
    callbacks: list[tuple[uuid.UUID, str]] = []
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
            elif "callback_id" in record:
                assert set(record) == {"callback_id", "callback_token"}, record
                callbacks.append((uuid.UUID(record["callback_id"]), record["callback_token"]))
            else:
                assert set(record) == {"task_instance_id", "workload_token"}, record
                queued.append((uuid.UUID(record["task_instance_id"]), record["workload_token"]))
        yield Server(base_url, SECRET, queued, process, stderr_path, callbacks)
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


# ---- identity providers (test_oidc.py) ----------------------------------------

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
LEDGER_AUDIENCE = "urn:example:ledger"


def ledger_binary() -> Path:
    """The ledger built by run.sh (or `cargo build -p ledger`)."""
    env = os.environ.get("LEDGER_BIN")
    if env:
        return Path(env)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "debug" / "ledger"


def _stop(process: subprocess.Popen) -> None:
    """Stops one process we started, by its PID."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Provider:
    """A running oidc-provider (tests/interop/oidc/provider.mjs)."""

    issuer: str
    port: int
    kid: str
    process: subprocess.Popen

    def token(self, client: str, scope: str | None = None, resource: str = LEDGER_AUDIENCE) -> str:
        """An access token for `client`, obtained as a service client does:
        the client-credentials grant at the token endpoint, with the
        resource indicator of the API it calls."""
        import httpx

        form = {"grant_type": "client_credentials", "resource": resource}
        if scope is not None:
            form["scope"] = scope
        response = httpx.post(f"{self.issuer}/token", data=form, auth=(client, client), timeout=10)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["token_type"] == "Bearer"
        return body["access_token"]

    def stop(self) -> None:
        _stop(self.process)


def start_provider(log_dir: Path, *args: str) -> Provider:
    """Starts provider.mjs with `args` (`--port`, `--ttl`, `--issuer`) and
    returns once it listens. Stop it with `.stop()`."""
    node = os.environ.get("NODE", "node")
    if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.fail(f"oidc-provider is not installed in {OIDC_DIR}: run tests/interop/run.sh")
    log = (log_dir / f"provider-{uuid.uuid4().hex[:8]}.log").open("w")
    process = subprocess.Popen(
        [node, str(OIDC_DIR / "provider.mjs"), *args],
        cwd=OIDC_DIR,
        stdout=subprocess.PIPE,
        stderr=log,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    log.close()
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
    try:
        line = lines.get(timeout=STARTUP_TIMEOUT)
    except queue.Empty:
        line = None
    if line is None:
        _stop(process)
        pytest.fail(f"the OpenID provider did not start: {args}")
    record = json.loads(line)
    return Provider(record["issuer"], record["port"], record["kid"], process)


@dataclass
class Ledger:
    """`ledger --oidc ...`, running (`base_url`), or exited before it
    listened (`base_url` is None; see `process.returncode` and `stderr`)."""

    base_url: str | None
    process: subprocess.Popen
    stderr: Path

    def call(self, method: str, path: str, token: str | None = None, **kwargs):
        import httpx

        headers = kwargs.pop("headers", {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.request(method, self.base_url + path, headers=headers, timeout=10, **kwargs)

    def stop(self) -> None:
        _stop(self.process)


def run_ledger(log_dir: Path, *args: str) -> Ledger:
    """Runs `ledger 127.0.0.1:0 ARGS` until it prints its listening line
    (its last), or exits first. Stop it with `.stop()`."""
    binary = ledger_binary()
    if not binary.exists():
        pytest.fail(f"{binary} not found: run tests/interop/run.sh, or cargo build -p ledger")
    stderr_path = log_dir / f"ledger-{uuid.uuid4().hex[:8]}.log"
    stderr = stderr_path.open("w")
    process = subprocess.Popen(
        [str(binary), "127.0.0.1:0", *args],
        stdout=subprocess.PIPE,
        stderr=stderr,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "RUST_LOG": "info,scopegate=debug"},
    )
    stderr.close()
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            _stop(process)
            pytest.fail(f"the ledger printed no listening line within {STARTUP_TIMEOUT}s")
        if line is None:
            process.wait(timeout=10)
            return Ledger(None, process, stderr_path)
        record = json.loads(line)
        if "listening" in record:
            return Ledger(record["listening"], process, stderr_path)
