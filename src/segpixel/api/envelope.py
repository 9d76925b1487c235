"""The Segment-Service envelope (SPEC §2), written once: success bodies and every error mapping."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from segpixel.domain.errors import ValidationFailed
from segpixel.domain.paging import Page
from segpixel.errors import RateLimited, SegpixelError

log = logging.getLogger("segpixel.api")

STATUS = {
    "NOAUTH": 401,
    "UNAUTH": 403,
    "SYNTAX": 400,
    "INTEGRITY": 409,
    "NOTFOUND": 404,
    "LIMIT": 429,
    "SYSTEM": 500,
}


RATE_EXCEEDED = "RATE_EXCEEDED"  # the error_code the reference's clients back off on


def ok(
    payload: dict[str, Any],
    *,
    count: int = 1,
    page: Page | None = None,
    warnings: list[str] | None = None,
) -> dict[str, Any]:
    """A success body; `warnings` (what was accepted but ignored) go in `dbg_info.warnings`."""
    page = page or Page()
    body: dict[str, Any] = {
        "status": "OK",
        "count": count,
        "start_element": page.start_element,
        "num_elements": page.num_elements,
        **payload,
    }
    if warnings:
        body["dbg_info"] = {"warnings": warnings}
    return {"response": body}


def error_body(
    error_id: str, message: str, error_code: str | None = None, fields: list[dict] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": "error",
        "error_id": error_id,
        "error": message,
        "error_code": error_code,
    }
    if fields:
        body["errors"] = fields  # every broken field, for forms that show each at its place
    return {"response": body}


def error_response(
    error_id: str,
    message: str,
    *,
    status: int | None = None,
    error_code: str | None = None,
    fields: list[dict] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_body(error_id, message, error_code, fields),
        status_code=status or STATUS[error_id],
        headers=headers,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SegpixelError, _on_segpixel_error)  # type: ignore[arg-type]
    app.add_exception_handler(ValidationFailed, _on_validation_failed)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _on_request_invalid)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http_error)  # type: ignore[arg-type]
    app.add_exception_handler(DBAPIError, _on_database_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _on_unexpected)


def _fields(errors: list[Any]) -> list[dict]:
    return [{"field": e.field, "message": e.message} for e in errors]


async def _on_segpixel_error(_request: Request, exc: SegpixelError) -> JSONResponse:
    limited = isinstance(exc, RateLimited)
    headers = {"Retry-After": str(exc.retry_after)} if limited else None
    if exc.error_id == "SYSTEM":
        log.error("store error: %s", exc.message)
    return error_response(
        exc.error_id,
        exc.message,
        fields=_fields(exc.errors),
        headers=headers,
        error_code=RATE_EXCEEDED if limited else None,
    )


async def _on_validation_failed(_request: Request, exc: ValidationFailed) -> JSONResponse:
    return error_response(
        "SYNTAX", str(exc), error_code="field_invalid", fields=_fields(exc.errors)
    )


async def _on_request_invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            reason = (err.get("ctx") or {}).get("error", "")
            message = (
                f"the request body is not valid JSON ({reason})"
                if reason
                else ("the request body is not valid JSON")
            )
            return error_response(
                "SYNTAX",
                message,
                error_code="body_malformed",
                fields=[{"field": "body", "message": message}],
            )
    fields = [_describe(err) for err in exc.errors()]
    return error_response(
        "SYNTAX",
        "; ".join(f["message"] for f in fields),
        error_code="field_invalid",
        fields=fields,
    )


def _describe(err: dict[str, Any]) -> dict[str, str]:
    """A pydantic error as `field rule (got value)`, the field written as the user wrote it."""
    loc = [str(part) for part in err.get("loc", ()) if part not in ("body", "query", "header")]
    field = ".".join(p if not p.isdigit() else f"[{p}]" for p in loc).replace(".[", "[") or "body"
    rule = str(err.get("msg", "is invalid"))
    rule = rule[0].lower() + rule[1:]
    if err.get("type") == "body_form":  # the payload key is missing: name it, as the rule does
        return {"field": err["ctx"]["field"], "message": rule}
    if err.get("type") == "extra_forbidden":
        rule = "is not a known field"
    elif err.get("type") == "missing":
        rule = "is required"
    value = err.get("input")
    got = ""
    if err.get("type") not in ("missing", "extra_forbidden") and isinstance(
        value, str | int | float | bool
    ):
        got = f" (got {str(value)[:60]!r})"
    return {"field": field, "message": f"{field}: {rule}{got}"}


async def _on_http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    error_id = {401: "NOAUTH", 403: "UNAUTH", 404: "NOTFOUND", 429: "LIMIT"}.get(
        exc.status_code, "SYNTAX" if exc.status_code < 500 else "SYSTEM"
    )
    message = {
        404: "no such service; see /docs for the API",
        405: "this service does not take that HTTP method",
    }.get(exc.status_code, str(exc.detail))
    return error_response(error_id, message, status=exc.status_code)


CATALOG_RETRY_AFTER = 5


async def _on_database_error(request: Request, exc: DBAPIError) -> JSONResponse:
    """The catalog database cannot be reached (down, restarting): 503 SYSTEM, not a stack trace."""
    if not (isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated):
        return await _on_unexpected(request, exc)
    log.error("catalog database unavailable: %s", str(exc.orig or exc).strip()[:200])
    return error_response(
        "SYSTEM",
        "the catalog database is unavailable right now; retry in a few seconds",
        status=503,
        error_code="catalog_unavailable",
        headers={"Retry-After": str(CATALOG_RETRY_AFTER)},
    )


async def _on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return error_response("SYSTEM", "an unexpected error occurred; it has been logged")
