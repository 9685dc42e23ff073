"""Schemathesis against the app's own OpenAPI schema, in process.

Every default check (``ignored_auth`` included) on every operation. Requests carry a
real token of a registered user; a run's examples are few so the suite stays quick. The
stateful run over the schema's links, with every check and every phase, runs from
outside against a real ``forge serve`` (tests/e2e/test_conformance.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from dependency_injector import providers
from schemathesis.config import SchemathesisConfig
from schemathesis.python import asgi

from forge_http import build_container, create_app
from tests.http.conftest import FAST_HASHER, make_settings

MAX_EXAMPLES = 25
# Schemathesis' lists of fitting answers, plus 413: a JSON body over the 1 MiB limit is
# refused before it is read, whatever it holds (200 000 characters of text, which the
# schema allows, take more than 1 MiB once escaped).
REFUSALS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
ACCEPTANCES = ["2xx", "3xx", "401", "403", "404", "409", "413", "429"]


def register(app: Any) -> str:
    """A real user's access token, signed up through the app itself."""
    with asgi.get_client(app) as client:
        body = {"email": "fuzz@example.com", "password": "secret"}
        assert client.post("/api/v1/auth/register", json=body).status_code == 201
        login = client.post("/api/v1/auth/login", json=body)
        assert login.status_code == 200, login.text
        return str(login.json()["access_token"])


@pytest.fixture
def api_schema(tmp_path: Path) -> Iterator[Any]:
    """A fresh app and login per test: the first test's logout ends its login."""
    container = build_container(
        make_settings(tmp_path, auth_backend="local", object_store="memory")
    )
    container.gateways.password_hasher.override(providers.Object(FAST_HASHER))
    app = create_app(container)
    token = register(app)
    config = SchemathesisConfig.from_dict(
        {
            "auth": {"openapi": {"BearerToken": {"bearer": token}}},
            # U+0000 included: the schema says where it is refused (forge_core.nul_free).
            "generation": {"max-examples": MAX_EXAMPLES},
            "checks": {
                "negative_data_rejection": {"expected-statuses": [*REFUSALS, "5xx"]},
                "positive_data_acceptance": {"expected-statuses": [*ACCEPTANCES, "5xx"]},
            },
            # A variant's parameter names and values are the job's SCAD's, which no
            # schema can list: a schema-valid body naming none of them is rightly 422.
            "operations": [
                {
                    "include-path-regex": "/variants$",
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": [*ACCEPTANCES, "422", "5xx"]
                        }
                    },
                }
            ],
        }
    )
    yield schemathesis.openapi.from_asgi("/schema/openapi.json", app, config=config)
    asgi.shutdown_lifespans()


def operations(schema: Any) -> list[Any]:
    """Every operation, logout last: it ends the login that every other request uses."""
    found = [result.ok() for result in schema.get_all_operations()]
    return sorted(found, key=lambda operation: "logout" in operation.path)


# Derandomized: CI runs the same cases each time; raise MAX_EXAMPLES to search deeper.
SETTINGS = hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)


def test_every_operation(api_schema: Any) -> None:
    failures: dict[str, str] = {}
    for operation in operations(api_schema):

        @SETTINGS
        @hypothesis.given(case=operation.as_strategy())
        def check(case: Any) -> None:
            case.call_and_validate()

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # gathered: one run names them all
            failures[operation.label] = str(exc)
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
