"""Every API route, fuzzed from its own OpenAPI document (schemathesis + hypothesis).

The property: whatever the generated request — valid, borderline or malformed by the schema —
the API answers without a 5xx, within a bounded time, and every error comes in the envelope.
Runs against a real server (uvicorn on a socket) with an admin token, on SQLite. The example count
is bounded (SEGPIXEL_FUZZ_EXAMPLES, default 25 per operation) so CI stays fast; raise it locally
to dig deeper.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from tests.helpers import ADMIN_PASSWORD
from tests.pixel.conftest import Clock, InProcessServer

EXAMPLES = int(os.environ.get("SEGPIXEL_FUZZ_EXAMPLES", "25"))


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    from segpixel.catalog.db import Catalog
    from segpixel.catalog.migrate import upgrade
    from segpixel.catalog.users import ensure_admin
    from segpixel.settings import Settings

    root = tmp_path_factory.mktemp("fuzz")
    # Every DELETE /auth case logs in afresh, on a clock that does not move: no login limit
    # (the limits have tests of their own; here a 429 would hide what a route answers).
    settings = Settings(data_dir=root, catalog_poll_seconds=0.2, login_success_limit=0)
    catalog = Catalog(settings.resolved().catalog_url or "")
    upgrade(catalog.engine)
    with catalog.session() as session:
        ensure_admin(session, ADMIN_PASSWORD)
    catalog.dispose()
    server = InProcessServer(settings, Clock())
    # Something for the routes to find: a member, an advertiser, a segment.
    token = _token(server.base_url)
    with httpx.Client(base_url=server.base_url, headers={"Authorization": token}) as http:
        http.post("/member", json={"member": {"name": "Fuzz"}})
        http.post("/advertiser?member_id=1", json={"advertiser": {"name": "A", "code": "a"}})
        http.post("/segment?member_id=1", json={"segment": {"short_name": "S", "code": "s"}})
    yield server
    server.stop()


def _token(base_url: str) -> str:
    answer = httpx.post(
        f"{base_url}/auth", json={"auth": {"username": "admin", "password": ADMIN_PASSWORD}}
    )
    return answer.json()["response"]["token"]


@pytest.fixture(scope="module")
def api_schema(fuzz_server: InProcessServer):
    return schemathesis.openapi.from_url(f"{fuzz_server.base_url}/openapi.json")


@pytest.fixture(scope="module")
def admin_headers(fuzz_server: InProcessServer) -> dict[str, str]:
    return {"Authorization": _token(fuzz_server.base_url)}


def _cases() -> list[tuple[str, GenerationMode]]:
    """(`METHOD /path`, mode) for every route, read from the app's own OpenAPI document.

    Negative cases (data the schema forbids) only where the route takes parameters or a body:
    there is nothing to make invalid in the others.
    """
    from segpixel.api.app import create_api
    from segpixel.catalog.db import Catalog
    from segpixel.settings import Settings

    document = create_api(Settings(), Catalog("sqlite://")).openapi()
    cases = []
    for path, item in document["paths"].items():
        for method, spec in item.items():
            operation = f"{method.upper()} {path}"
            cases.append((operation, GenerationMode.POSITIVE))
            if spec.get("parameters") or spec.get("requestBody"):
                cases.append((operation, GenerationMode.NEGATIVE))
    return sorted(cases)


@pytest.mark.parametrize(("operation", "mode"), _cases(), ids=lambda v: str(v))
def test_no_route_answers_a_server_error(operation, mode, api_schema, fuzz_server, admin_headers):
    method, path = operation.split(" ", 1)
    found = api_schema[path][method]

    def headers() -> dict[str, str]:
        # Logging out ends the token it is sent with: give DELETE /auth a token of its own.
        if operation == "DELETE /auth":
            return {"Authorization": _token(fuzz_server.base_url)}
        return admin_headers

    @given(case=found.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,  # the same examples on every run: a failure is reproducible in CI
        database=None,
    )
    def check(case) -> None:
        response = case.call(base_url=fuzz_server.base_url, headers=headers(), timeout=10)
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:500]}"
        )
        if response.status_code >= 400 and "json" in response.headers.get("content-type", ""):
            body = response.json()
            assert body["response"]["status"] == "error", body
            assert body["response"]["error_id"] in ERROR_IDS, body

    check()


ERROR_IDS = {"NOAUTH", "UNAUTH", "SYNTAX", "INTEGRITY", "NOTFOUND", "LIMIT"}
