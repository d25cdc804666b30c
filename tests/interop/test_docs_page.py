"""The docs page at /execution/docs works offline (SPEC §5, issue 22 item 5),
tested in a real headless browser: Debian's Chromium, driven by Playwright
(PyPI `playwright`, its own bundled driver; it downloads no browser).

The server and the browser share a network namespace of their own, made for
the test, whose only interface is the loopback: there is no network at all,
not merely a blocked one. The server is started in it (`unshare --net`), and
Chromium joins it (`nsenter --net=/proc/<server pid>/ns/net`); Playwright
talks to Chromium over a pipe, so the test itself stays outside.

The test records every request the page makes and requires each to go to the
server's origin; sees every operation of the document listed; calls
operations through the page's own "Authorize" control and "Try it out"
(a 401 without a token, then a Variable whose key holds slashes written and
read back); checks that the token is kept nowhere the browser persists, that
the page takes no configuration from its query string, and that nothing
broke the Content-Security-Policy.

Needs root (for the namespace) and /usr/bin/chromium, which run.sh installs
when it is missing."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import Server, airflow_token, example_binary, start_server
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path(os.environ.get("SCOPEGATE_CHROMIUM", "/usr/bin/chromium"))
# The flags Chromium needs on these machines (headless, as root, no GPU)
# and the ones that stop its own background traffic; Playwright adds
# --headless and a fresh --user-data-dir.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Runs the server in a new network namespace with the loopback up.
OFFLINE = ("unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$0" "$@"')
UI_TIMEOUT_MS = 30_000
KEY = "team/db/password"


@dataclass
class Docs:
    """The server, in its namespace, and a browser in the same one."""

    server: Server
    browser: Browser
    netns: str

    @property
    def origin(self) -> str:
        return re.match(r"https?://[^/]+", self.server.base_url)[0]


@dataclass
class Opened:
    """A page and everything it did."""

    page: Page
    requests: list[tuple[str, str]]
    console: list[str]
    errors: list[str]


def documented_operations() -> dict[tuple[str, str], dict]:
    """(METHOD, path) → operation, from the document `execution_api
    openapi` prints (the one the server serves; test_openapi.py checks)."""
    out = subprocess.run(
        [str(example_binary()), "openapi"], capture_output=True, text=True, timeout=30, check=True
    )
    doc = json.loads(out.stdout)
    return {(m.upper(), p): op for p, item in doc["paths"].items() for m, op in item.items()}


@pytest.fixture(scope="module")
def docs(tmp_path_factory) -> Iterator[Docs]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: run tests/interop/run.sh, which installs Debian's chromium")
    if os.geteuid() != 0:
        pytest.fail("the docs page test makes a network namespace (unshare --net): run it as root")
    if shutil.which("unshare") is None or shutil.which("nsenter") is None:
        pytest.fail("unshare and nsenter (util-linux) are needed for the offline namespace")
    started = start_server(tmp_path_factory.mktemp("docs-server"), launcher=OFFLINE)
    server = next(started)
    pid = server.process.pid
    netns = f"/proc/{pid}/ns/net"
    # Chromium, in the server's namespace: a wrapper Playwright launches as
    # the browser executable (exec keeps its pipes).
    wrapper = tmp_path_factory.mktemp("chromium") / "chromium"
    wrapper.write_text(f'#!/bin/sh\nexec nsenter --net={netns} {CHROMIUM} "$@"\n')
    wrapper.chmod(0o755)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(wrapper), args=CHROMIUM_ARGS)
        try:
            yield Docs(server, browser, netns)
        finally:
            browser.close()
    started.close()


def open_docs(docs: Docs, query: str = "") -> Opened:
    """Opens the docs page in a fresh context (no storage shared with
    another page), recording every request, console message and error."""
    context = docs.browser.new_context()
    page = context.new_page()
    opened = Opened(page, [], [], [])
    page.on("request", lambda r: opened.requests.append((r.method, r.url)))
    page.on("console", lambda m: opened.console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: opened.errors.append(str(e)))
    response = page.goto(docs.server.base_url + "docs" + query)
    assert response is not None and response.status == 200
    page.wait_for_selector(".opblock", timeout=UI_TIMEOUT_MS)
    return opened


def assert_stayed_home(docs: Docs, opened: Opened) -> None:
    """Every request went to the server's origin, and nothing broke the
    page or its Content-Security-Policy."""
    elsewhere = [r for r in opened.requests if not r[1].startswith(docs.origin + "/")]
    assert not elsewhere, f"requests that left the server's origin: {elsewhere}"
    assert not opened.errors, opened.errors
    refused = [m for m in opened.console if "Content Security Policy" in m or "Refused to" in m]
    assert not refused, refused


def test_the_browser_has_no_network(docs: Docs) -> None:
    """The namespace is not ours, and its only interface is the loopback."""
    assert os.readlink(docs.netns) != os.readlink("/proc/self/ns/net")
    links = subprocess.run(
        ["nsenter", f"--net={docs.netns}", "ip", "-o", "link"],
        capture_output=True, text=True, check=True, timeout=10,
    ).stdout.splitlines()
    assert [line.split(":")[1].strip() for line in links] == ["lo"], links


def test_the_page_lists_every_operation_from_its_own_origin(docs: Docs) -> None:
    opened = open_docs(docs)
    page = opened.page
    operations = documented_operations()
    listed = page.locator(".opblock").evaluate_all(
        "blocks => blocks.map(b => [b.querySelector('.opblock-summary-method').textContent,"
        " b.querySelector('.opblock-summary-path').dataset.path])"
    )
    assert sorted((m, p) for m, p in listed) == sorted(operations), "the page lists other operations"
    # The viewer and the document came from the server itself.
    urls = {url for _, url in opened.requests}
    base = docs.server.base_url
    assert {base + "docs", base + "docs/swagger-ui-bundle.js", base + "openapi.json"} <= urls
    assert_stayed_home(docs, opened)
    page.context.close()


def test_the_page_is_served_with_a_policy_of_its_own_origin(docs: Docs) -> None:
    context = docs.browser.new_context()
    page = context.new_page()
    response = page.goto(docs.server.base_url + "docs")
    csp = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    # The page has no inline script for such a policy to have to allow.
    assert page.locator("script:not([src])").count() == 0
    context.close()


def test_the_query_string_configures_nothing(docs: Docs) -> None:
    """Swagger UI reads `?url=` and `?configUrl=` only when
    `queryConfigEnabled` is on; it is off."""
    opened = open_docs(docs, "?url=http://docs.example.invalid/evil.json&configUrl=http://docs.example.invalid/c.json")
    assert not [url for _, url in opened.requests if url.startswith("http://docs.example.invalid")]
    assert (docs.server.base_url + "openapi.json") in {url for _, url in opened.requests}
    assert_stayed_home(docs, opened)
    opened.page.context.close()


def try_it(page: Page, operation_id: str, tag: str, params: dict[str, str], body: str | None = None) -> tuple[int, str]:
    """Runs one operation through the page's "Try it out": its status and
    the body the page shows."""
    block = page.locator(f"#operations-{tag}-{operation_id}")
    if not block.locator(".opblock-body").count():
        block.locator(".opblock-summary").first.click()
    if block.locator("button.try-out__btn", has_text="Try it out").count():
        block.locator("button.try-out__btn").click()
    for name, value in params.items():
        block.locator(f'tr[data-param-name="{name}"] input').fill(value)
    if body is not None:
        block.locator("textarea.body-param__text").fill(body)
    block.locator("button.execute").click()
    status = block.locator(".live-responses-table .response .response-col_status")
    status.first.wait_for(timeout=UI_TIMEOUT_MS)
    shown = block.locator(".live-responses-table .response-col_description pre").first.text_content()
    code = int(status.first.text_content().strip().split()[0])
    # Clear it, so that the next call's answer is the one read.
    block.locator("button.btn-clear").click()
    return code, shown or ""


def test_an_operation_called_with_a_token_through_authorize(docs: Docs) -> None:
    opened = open_docs(docs)
    page = opened.page
    ops = documented_operations()
    put = ops[("PUT", "/execution/variables/{variable_key}")]
    get = ops[("GET", "/execution/variables/{variable_key}")]
    before = len(docs.server.stderr.read_text().splitlines())

    # Without a token: Airflow's 401.
    code, shown = try_it(page, get["operationId"], get["tags"][0], {"variable_key": KEY})
    assert code == 401, shown
    assert "Missing auth token" in shown

    # The page's own Authorize control, with an execution token.
    token = airflow_token(uuid.uuid4(), None)
    page.locator("button.authorize").first.click()
    dialog = page.locator(".modal-ux")
    dialog.locator("input").first.fill(token)
    dialog.locator("button.authorize").click()
    dialog.locator("button.btn-done").click()

    code, shown = try_it(page, put["operationId"], put["tags"][0], {"variable_key": KEY}, '{"val": "from the docs page"}')
    assert code == 201, shown
    code, shown = try_it(page, get["operationId"], get["tags"][0], {"variable_key": KEY})
    assert code == 200, shown
    assert json.loads(shown) == {"key": KEY, "value": "from the docs page"}

    # The server saw the calls, the key percent-encoded by the page.
    log = "\n".join(docs.server.stderr.read_text().splitlines()[before:])
    assert "method=PUT path=/execution/variables/team%2Fdb%2Fpassword status=201" in log
    assert "method=GET path=/execution/variables/team%2Fdb%2Fpassword status=200" in log
    assert token not in log

    # The token is kept in the page's memory only: not in any storage the
    # browser persists, nor in a cookie.
    stored = page.evaluate(
        "() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])"
    )
    assert token not in stored
    assert not page.context.cookies()
    assert_stayed_home(docs, opened)
    page.context.close()
