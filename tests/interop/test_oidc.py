"""The ledger behind a real OpenID provider (SPEC §12): panva's
oidc-provider from npm (tests/interop/oidc/provider.mjs), pinned, started on
free ports. Tokens are obtained exactly as a service client obtains them,
with the client-credentials grant and a resource indicator at the token
endpoint (signed JWT access tokens, RFC 9068), and the ledger is driven over
HTTP as `ledger --oidc ISSUER_URL ... --audience AUD`.

Providers (each a fresh ES256 key):
- `first` and `second`, both trusted by the `ledger` fixture; `second`
  issues 25-second tokens, due for a refresh as soon as they are issued;
- `stranger`, trusted by no ledger.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Iterator

import pytest
from conftest import LEDGER_AUDIENCE, Ledger, Provider, run_ledger, start_provider


def detail(response) -> str:
    """A refusal's message: the `detail` of the ledger's body, whichever
    shape its refusal renderer gives it (`{"detail": ..}`, or RFC 9457
    problem details)."""
    return response.json()["detail"]


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def header(token: str) -> dict:
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


@pytest.fixture(scope="module")
def logs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("oidc")


@pytest.fixture(scope="module")
def first(logs: Path) -> Iterator[Provider]:
    provider = start_provider(logs)
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def second(logs: Path) -> Iterator[Provider]:
    provider = start_provider(logs, "--ttl", "25")
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def stranger(logs: Path) -> Iterator[Provider]:
    provider = start_provider(logs)
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def ledger(logs: Path, first: Provider, second: Provider) -> Iterator[Ledger]:
    """The ledger, trusting `first` and `second`."""
    ledger = run_ledger(
        logs, "--oidc", first.issuer, "--oidc", second.issuer, "--audience", LEDGER_AUDIENCE
    )
    assert ledger.base_url, ledger.stderr.read_text()
    yield ledger
    ledger.stop()


def test_the_provider_issues_rfc_9068_access_tokens(first: Provider) -> None:
    token = first.token("clerk-a1", "entries:write")
    assert header(token)["typ"] == "at+jwt"
    assert header(token)["alg"] == "ES256"
    assert header(token)["kid"] == first.kid
    c = claims(token)
    assert c["iss"] == first.issuer
    assert c["aud"] == LEDGER_AUDIENCE
    assert c["sub"] == c["client_id"] == "clerk-a1"
    assert c["scope"] == "entries:write"
    assert c["acct"] == "a-1"
    assert {"jti", "iat", "exp"} <= set(c)


def test_a_providers_token_reaches_the_routes_its_claims_allow(first: Provider, ledger: Ledger) -> None:
    token = first.token("clerk-a1", "entries:write")
    # No `role` claim: a clerk's token; `acct` owns account a-1.
    response = ledger.call("GET", "accounts/a-1/balance", token)
    assert response.status_code == 200, response.text
    assert response.json()["read_by"] == "clerk-a1"
    assert response.json()["as"] == "clerk"
    response = ledger.call("POST", "accounts/a-1/entries", token, json={"amount": 5})
    assert response.status_code == 201, response.text
    # Another account's: 403 with the ledger's label.
    response = ledger.call("GET", "accounts/a-2/balance", token)
    assert response.status_code == 403
    assert detail(response) == "Token subject does not match account"
    assert response.headers["www-authenticate"] == 'Bearer error="insufficient_scope", scope="account:self"'
    # An auditor's route: a clerk's token is refused.
    response = ledger.call("GET", "accounts/a-1/statement", token)
    assert response.status_code == 403


def test_a_providers_scope_claim_carries_the_ledgers_permissions(first: Provider, ledger: Ledger) -> None:
    # SPEC §10 and §12: the provider's space-separated `scope` is the
    # ledger's `[permissions]`; its client-credentials tokens have no `role`
    # (clerks) and reach the permission routes by their permissions alone.
    reporter = first.token("reporter", "reports:read")
    response = ledger.call("GET", "reports", reporter)
    assert response.status_code == 200, response.text
    assert "reports" in response.json()
    clerk = first.token("clerk-a1", "entries:write")
    response = ledger.call("GET", "reports", clerk)
    assert response.status_code == 403
    assert detail(response) == "Token lacks permission 'reports:read'"
    assert response.headers["www-authenticate"] == 'Bearer error="insufficient_scope", scope="reports:read"'
    # Owner or admin: the clerk reads its own account's summary, not
    # another's; the admin reads any account that has an entry, and gets
    # the known_account guard's 404 for one that has none.
    response = ledger.call("POST", "accounts/a-1/entries", clerk, json={"amount": 7})
    assert response.status_code == 201, response.text
    response = ledger.call("GET", "accounts/a-1/summary", clerk)
    assert response.status_code == 200, response.text
    assert response.json()["account"] == "a-1"
    response = ledger.call("GET", "accounts/a-2/summary", clerk)
    assert response.status_code == 403
    assert detail(response) == "Token satisfies none of: account:self, ledger:admin"
    admin = first.token("admin", "ledger:admin reports:read")
    response = ledger.call("GET", "accounts/a-1/summary", admin)
    assert response.status_code == 200, response.text
    response = ledger.call("GET", "accounts/never-opened/summary", admin)
    assert response.status_code == 404
    assert detail(response) == "Account not found"


def test_two_trusted_issuers_both_work_and_a_third_is_untrusted(
    first: Provider, second: Provider, stranger: Provider, ledger: Ledger
) -> None:
    for provider in (first, second):
        token = provider.token("clerk-a2", "entries:write")
        response = ledger.call("GET", "accounts/a-2/balance", token)
        assert response.status_code == 200, (provider.issuer, response.text)
    token = stranger.token("clerk-a2", "entries:write")
    response = ledger.call("GET", "accounts/a-2/balance", token)
    assert response.status_code == 401
    assert detail(response) == "Invalid auth token: untrusted issuer"
    assert response.headers["www-authenticate"] == (
        'Bearer error="invalid_token", error_description="untrusted issuer"'
    )


def test_a_token_for_another_audience_is_refused(first: Provider, ledger: Ledger) -> None:
    token = first.token("clerk-a1", "entries:write", resource="urn:example:other")
    assert claims(token)["aud"] == "urn:example:other"
    response = ledger.call("GET", "accounts/a-1/balance", token)
    assert response.status_code == 401
    assert detail(response) == "Invalid auth token: invalid audience"


def test_a_providers_token_is_never_re_minted_by_the_ledger(second: Provider, ledger: Ledger) -> None:
    # A 25-second clerk token is within the ledger's refresh window (clerks'
    # tokens are refreshed) from the start; it is the provider's, so the
    # ledger never re-mints it.
    token = second.token("clerk-a1", "entries:write")
    assert claims(token)["exp"] - claims(token)["iat"] == 25
    response = ledger.call("GET", "accounts/a-1/balance", token)
    assert response.status_code == 200, response.text
    assert "refreshed-api-token" not in response.headers


def test_a_key_rotated_at_the_provider_is_picked_up_without_restarting_the_ledger(logs: Path) -> None:
    provider = start_provider(logs)
    ledger = run_ledger(logs, "--oidc", provider.issuer, "--audience", LEDGER_AUDIENCE)
    try:
        assert ledger.base_url, ledger.stderr.read_text()
        old = provider.token("clerk-a1", "entries:write")
        assert ledger.call("GET", "accounts/a-1/balance", old).status_code == 200
        # The provider restarts on the same port with a new key: a rotation.
        provider.stop()
        provider = start_provider(logs, "--port", str(provider.port))
        new = provider.token("clerk-a1", "entries:write")
        assert header(new)["kid"] != header(old)["kid"]
        # Within 30 seconds (SPEC §12): the first token with the unknown kid
        # triggers a discovery once the minimum retry gap (10 s) has passed.
        deadline = time.monotonic() + 30
        while True:
            status = ledger.call("GET", "accounts/a-1/balance", new).status_code
            if status == 200:
                break
            assert status == 401
            assert time.monotonic() < deadline, "the new key was not picked up within 30 s"
            time.sleep(1)
        # The old key is gone from the provider's set: its token is refused,
        # although the ledger had verified it before.
        response = ledger.call("GET", "accounts/a-1/balance", old)
        assert response.status_code == 401
        assert detail(response) == "Invalid auth token: unknown key id"
        assert ledger.process.poll() is None, "the ledger restarted"
    finally:
        ledger.stop()
        provider.stop()


def test_a_discovery_document_whose_issuer_does_not_match_is_refused(logs: Path, first: Provider) -> None:
    # The configured issuer with a trailing slash: the document's issuer is
    # the provider's own, without it. Never "close enough".
    configured = first.issuer + "/"
    ledger = run_ledger(logs, "--oidc", configured, "--audience", LEDGER_AUDIENCE)
    if ledger.base_url:
        ledger.stop()
        pytest.fail("the ledger started with a mismatched issuer")
    assert ledger.process.returncode != 0
    stderr = ledger.stderr.read_text()
    assert f'"{first.issuer}"' in stderr and f'"{configured}"' in stderr, stderr
    # A provider that advertises another issuer than the URL it is reached at.
    lying = start_provider(logs, "--issuer", "https://idp.example.com")
    try:
        reached = f"http://127.0.0.1:{lying.port}"
        ledger = run_ledger(logs, "--oidc", reached, "--audience", LEDGER_AUDIENCE)
        if ledger.base_url:
            ledger.stop()
            pytest.fail("the ledger started with a mismatched issuer")
        stderr = ledger.stderr.read_text()
        assert '"https://idp.example.com"' in stderr and f'"{reached}"' in stderr, stderr
    finally:
        lying.stop()


def test_the_ledger_prints_its_listening_line_last(logs: Path, first: Provider) -> None:
    ledger = run_ledger(logs, "--oidc", first.issuer)
    try:
        assert ledger.base_url and ledger.base_url.endswith("/ledger/")
        assert ledger.call("GET", "health").json() == {"status": "healthy"}
    finally:
        ledger.stop()
