"""The API keeps its documented schema: a bounded, seeded schemathesis run on the embedded default.

`meatlizard serve` runs with no settings but a data folder (SQLite, in-process cache, local
storage, the Markov fallback instead of the model); each operation gets a few generated
requests as an admin and as a member. Any 5xx, undocumented status, content type or body
that breaks its schema fails the test.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fixtures.processes import spawn
from tests.helpers import PASSWORD, unique_name
from tests.helpers import free_port as _free_port

EXAMPLES_PER_OPERATION = 6
START_SECONDS = 120
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Operations that end the caller's own access would starve the rest of the run of a login.
SELF_ENDING = [("POST", "/api/v1/auth/logout"), ("DELETE", "/api/v1/auth/me")]


@dataclass
class Served:
    """A running server and a bearer token per role."""

    url: str
    tokens: dict[str, str]


def _account(http: httpx.Client) -> str:
    name = unique_name()
    made = http.post("/api/v1/auth/register", json={"username": name, "password": PASSWORD})
    assert made.status_code == 201, made.text
    created = http.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
    session = created.json()["access_token"]
    # An API token: it survives the run's own logins and password changes of other tokens.
    api = http.post(
        "/api/v1/auth/tokens",
        json={"name": "schema"},
        headers={"Authorization": f"Bearer {session}"},
    )
    token: str = api.json()["token"]
    return token


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Start `meatlizard serve` on the embedded default; make an admin and a member."""
    folder = tmp_path_factory.mktemp("schema")
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(DATA_DIR=str(folder / "data"), INFERENCE="fallback", LOG_LEVEL="WARNING")
    env["REGISTRATION_RATE_LIMIT"] = "1000/hour"  # the run registers accounts on purpose
    port = _free_port()
    command = [sys.executable, "-m", "meatlizard", "serve", "--port", str(port)]
    process = spawn(command, env=env, cwd=folder)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        with httpx.Client(base_url=url, timeout=30) as http:
            while True:
                assert process.poll() is None, "serve exited early"
                assert time.monotonic() < deadline, "serve did not start"
                try:
                    if http.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            tokens = {"admin": _account(http), "member": _account(http)}
        yield Served(url, tokens)
    finally:
        process.terminate()
        process.wait(timeout=60)


@pytest.fixture(scope="module")
def api_schema(served: Served) -> schemathesis.BaseSchema:
    loaded = schemathesis.openapi.from_url(f"{served.url}/openapi.json")
    for method, path in SELF_ENDING:
        loaded = loaded.exclude(method=method, path=path)
    return loaded


BOUNDED = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    verbosity=Verbosity.quiet,
)


def _failures(api_schema: schemathesis.BaseSchema, served: Served, role: str) -> list[str]:
    """Run every operation's examples; return one line per operation that broke a check."""
    headers = {"Authorization": f"Bearer {served.tokens[role]}"}
    found = []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @BOUNDED
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=served.url, headers=headers, checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # every operation runs; all are reported
            found.append(f"{operation.label}: {str(exc).strip()[:1500]}")
    return found


@pytest.mark.parametrize("role", ["admin", "member"])
def test_every_operation_keeps_its_schema(
    api_schema: schemathesis.BaseSchema, served: Served, role: str
) -> None:
    failures = _failures(api_schema, served, role)
    assert not failures, "\n\n".join(failures)


async def test_the_document_names_one_error_shape_and_anonymous_operations(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    error = spec["components"]["schemas"]["ErrorOut"]
    assert error["properties"]["detail"]["type"] == "string"
    paths = spec["paths"]
    create = paths["/api/v1/pastes"]["post"]
    assert {"413", "422", "429"} <= set(create["responses"])
    assert {} in create["security"]  # anonymous pastes are allowed
    admin_only = paths["/api/v1/admin/users/{user_id}"]["patch"]
    assert {"401", "403", "404", "409", "422"} <= set(admin_only["responses"])
    assert {} not in admin_only.get("security", [])
    tus_patch = paths["/api/v1/files/tus/{file_id}"]["patch"]
    assert {"409", "412", "415", "423"} <= set(tus_patch["responses"])
    export = paths["/api/v1/auth/me/export"]["get"]["responses"]["200"]["content"]
    assert list(export) == ["application/zip"]
