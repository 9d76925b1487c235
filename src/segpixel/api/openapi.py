"""The OpenAPI document as the API really answers: the envelope, the error statuses, no 422.

FastAPI describes every route as answering 200 with a bare object, or 422 with its own validation
body. segpixel answers neither way: every answer is the Segment-Service envelope (SPEC §2) and a
bad parameter is a 400 SYNTAX. This rewrites the generated document once, when it is first asked
for: the envelope's schemas, and for each operation the error statuses it can answer, in the
envelope, by what the operation takes (tests/api/test_openapi.py checks every status the API tests
see is documented).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from segpixel.api.envelope import STATUS
from segpixel.api.openapi_filters import add_filter_parameters

OK_SCHEMA = {
    "type": "object",
    "required": ["response"],
    "properties": {
        "response": {
            "type": "object",
            "required": ["status"],
            "properties": {
                "status": {"type": "string", "enum": ["OK"]},
                "count": {"type": "integer", "description": "how many objects match in all"},
                "start_element": {"type": "integer"},
                "num_elements": {"type": "integer"},
                "dbg_info": {"type": "object", "description": "warnings: what was ignored"},
            },
            "additionalProperties": True,
            "description": "The payload sits beside `status`: `segment` for one object, "
            "`segments` for a list (the service's name, and its plural).",
        }
    },
}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["response"],
    "properties": {
        "response": {
            "type": "object",
            "required": ["status", "error_id", "error"],
            "properties": {
                "status": {"type": "string", "enum": ["error"]},
                "error_id": {"type": "string", "enum": list(STATUS)},
                "error": {"type": "string", "description": "a sentence naming the field and rule"},
                "error_code": {"type": ["string", "null"]},
                "errors": {
                    "type": "array",
                    "description": "every broken field",
                    "items": {
                        "type": "object",
                        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                    },
                },
            },
        }
    },
}
ERRORS = {
    400: "SYNTAX: a parameter or field is malformed or breaks a rule; the sentence names it",
    401: "NOAUTH: no token, a wrong one, or one that lapsed; POST /auth again",
    403: "UNAUTH: authenticated, but this object or action is not yours",
    404: "NOTFOUND: no such object (or not one you may see)",
    409: "INTEGRITY: a duplicate (a code in use) or an object still in use",
    413: "SYNTAX: the request body is larger than SEGPIXEL_MAX_BODY_BYTES",
    429: "LIMIT: too many requests (or failed logins) from this address; see Retry-After",
    500: "SYSTEM: an unexpected error (logged)",
    503: "SYSTEM: the catalog or a store cannot be reached now; see Retry-After",
}
WRITES = {"post", "put", "delete"}
# Statuses an operation answers beyond what its shape says.
EXTRA = {("post", "/auth"): {401}}
# Operations whose body FastAPI cannot see (they stream it themselves).
RAW_BODIES = {
    ("post", "/batch-segment"): {
        "description": "One user a line: UID,SEG[:EXPIRE_MINUTES[:VALUE]];SEG… — the body "
        "itself (plain or gzip), or the multipart field `file`. An empty body, or the JSON "
        '`{"batch_segment_upload_job": {}}`, starts a Batch Segment Service job instead: the '
        "answer's upload_url takes the file.",
        "required": False,
        "content": {
            "text/plain": {"schema": {"type": "string"}},
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"batch_segment_upload_job": {"type": "object"}},
                }
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        },
    }
}
RAW_BODIES[("post", "/segment-upload/{job_id}")] = {
    "description": "The batch file, plain or gzip, in the member's format (/batch-segment-config).",
    "required": True,
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
}
NOT_ENVELOPED = {("get", "/report-download")}
OK_RESPONSE = {
    "description": "OK, in the envelope",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Envelope"}}},
}
REPORT_FILE = {
    "description": "The report itself, not enveloped: CSV (header row = the columns) or JSON",
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        "application/json": {"schema": {"type": "object", "properties": {"rows": {}}}},
    },
}


def statuses(method: str, path: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses `method path` can answer."""
    secured = bool(operation.get("security"))
    takes_input = bool(operation.get("parameters") or operation.get("requestBody"))
    found = {429, 500, 503} | EXTRA.get((method, path), set())
    if takes_input:
        found.add(400)
    if operation.get("requestBody"):
        found.add(413)
    if secured:
        found |= {401, 403}
        if takes_input:
            found.add(404)
        if method in WRITES:
            found.add(409)
    return found


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = rewrite(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def rewrite(document: dict[str, Any]) -> dict[str, Any]:
    add_filter_parameters(document)  # the listing filters each GET reads from its query string
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas["Envelope"] = OK_SCHEMA
    schemas["ErrorEnvelope"] = ERROR_SCHEMA
    error_ref = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            key = (method, path)
            if key in RAW_BODIES:
                operation["requestBody"] = RAW_BODIES[key]
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            responses["200"] = REPORT_FILE if key in NOT_ENVELOPED else OK_RESPONSE
            for status in sorted(statuses(method, path, operation)):
                responses[str(status)] = {"description": ERRORS[status], "content": error_ref}
    return document
