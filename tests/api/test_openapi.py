"""The OpenAPI document tells the truth: a way to log in, the envelope, the statuses really sent.

`documented ⊇ observed`: every (operation, status) the API tests of this run saw through
`tests.helpers.ApiClient` (in-process and over HTTP), plus a probe of every operation here (no
token, an unknown id, a malformed id), must be among the operation's documented responses. Marked
`last`, it runs after every other test; run alone it still probes every route.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers import OBSERVED, ApiClient

PROBES = ("", "?id=999999", "?id=x")


@pytest.fixture
def document(api: ApiClient) -> dict[str, Any]:
    response = api.client.get("/openapi.json")
    assert response.status_code == 200, response.text
    return response.json()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_security_schemes_header_and_cookie(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["token"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": schemes["token"]["description"],
    }
    assert schemes["cookie"]["in"] == "cookie" and schemes["cookie"]["name"] == "segpixel_token"
    for method, path, operation in operations(document):
        if (method, path) == ("post", "/auth"):
            assert "security" not in operation, "logging in needs no token"
            continue
        assert {"token": []} in operation.get("security", []), f"{method} {path}"
        assert {"cookie": []} in operation["security"], f"{method} {path}"


def test_no_422_anywhere_and_errors_in_the_envelope(document: dict[str, Any]) -> None:
    text = json.dumps(document)
    assert '"422"' not in text and "HTTPValidationError" not in text
    for method, path, operation in operations(document):
        responses = operation["responses"]
        for status in ("401", "429") if operation.get("security") else ("429",):
            assert status in responses, f"{method} {path} documents no {status}"
        for status, answer in responses.items():
            if status.startswith(("4", "5")):
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}, (method, path)
    envelope = document["components"]["schemas"]["ErrorEnvelope"]["properties"]["response"]
    assert set(envelope["properties"]["error_id"]["enum"]) >= {
        "NOAUTH",
        "UNAUTH",
        "SYNTAX",
        "INTEGRITY",
        "NOTFOUND",
        "LIMIT",
    }


def test_the_batch_upload_documents_its_body(document: dict[str, Any]) -> None:
    body = document["paths"]["/batch-segment"]["post"]["requestBody"]["content"]
    assert {"text/plain", "multipart/form-data"} <= set(body)


@pytest.mark.last
def test_documented_statuses_cover_what_the_api_answers(
    api: ApiClient, document: dict[str, Any]
) -> None:
    admin = api.login()
    for method, path, _ in operations(document):
        for query in PROBES:
            if (method, path) == ("delete", "/auth"):
                continue  # logging out would end the admin's token
            api.request(method.upper(), path + query)  # no token
            admin.request(method.upper(), path + query)
    missing = sorted(
        f"{method.upper()} {path} → {status}"
        for method, path, status in OBSERVED
        if status >= 400
        and method in document["paths"].get(path, {})
        and str(status) not in document["paths"][path][method]["responses"]
    )
    assert not missing, "answered but not documented:\n" + "\n".join(missing)
    seen = {(m, p) for m, p, s in OBSERVED if s >= 400}
    assert len(seen) >= len(operations(document)) - 1, "the probe reached every operation"
