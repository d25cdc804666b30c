"""The example's OpenAPI document (SPEC §8) checked with openapi-spec-validator,
the validator Airflow runs on its own document before generating its Task SDK
client models: as `execution_api openapi` prints it, as the server serves it
at /execution/openapi.json, and behind the docs page at /execution/docs."""

from __future__ import annotations

import copy
import json
import subprocess

import httpx
import pytest
from conftest import ROOT, Server, example_binary
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError


def printed_document() -> dict:
    out = subprocess.run(
        [str(example_binary()), "openapi"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(out.stdout)


def test_the_printed_document_is_valid_openapi_3_1() -> None:
    doc = printed_document()
    assert doc["openapi"].startswith("3.1.")
    validate(doc)
    operations = [m for item in doc["paths"].values() for m in item]
    # Airflow's 55, the JWKS, this document, its docs page and the page's
    # files, and the callback token's exchange (Airflow's main branch, an
    # addition).
    assert len(operations) == 60
    assert "patch" in doc["paths"]["/execution/callbacks/{callback_id}/run"]


def test_the_served_document_is_the_printed_one(server: Server) -> None:
    response = httpx.get(server.base_url + "openapi.json", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    served = response.json()
    validate(served)
    assert served == printed_document()


def test_the_docs_page_shows_the_document(server: Server) -> None:
    """The page's viewer reads the served document; test_docs_page.py opens
    it in a browser."""
    response = httpx.get(server.base_url + "docs", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'id="swagger-ui"' in response.text
    initializer = httpx.get(server.base_url + "docs/swagger-initializer.js", timeout=10)
    assert initializer.status_code == 200
    assert '"url": "openapi.json"' in initializer.text


def test_airflows_own_document_passes_the_same_validator() -> None:
    airflow = json.loads((ROOT / "tests/data/airflow-3.3.2-execution-api-openapi.json").read_text())
    validate(airflow)


@pytest.mark.parametrize(
    "breakage",
    ["no info", "parameter not required", "no responses object shape"],
)
def test_the_validator_refuses_a_broken_copy(breakage: str) -> None:
    """The check can fail: the same document, broken, is refused.

    (A dangling `$ref` inside a schema passes this validator: tests/openapi.rs
    resolves every `$ref` itself.)"""
    doc = copy.deepcopy(printed_document())
    run = doc["paths"]["/execution/task-instances/{task_instance_id}/run"]["patch"]
    if breakage == "no info":
        del doc["info"]
    elif breakage == "parameter not required":
        run["parameters"][0]["required"] = False
    else:
        run["responses"] = ["200"]
    with pytest.raises(OpenAPIValidationError):
        validate(doc)
