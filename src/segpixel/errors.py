"""The errors our code raises across layers; the API maps each to its SPEC §2 `error_id`.

Storage-specific exceptions (sqlite3, redis, psycopg) are translated into these at the boundary of
the module that talks to the store, so callers never import a driver to catch its errors.
"""

from __future__ import annotations

from segpixel.domain.errors import FieldError, ValidationFailed

__all__ = [
    "BadRequest",
    "Conflict",
    "FieldError",
    "Forbidden",
    "NotFound",
    "RateLimited",
    "SegpixelError",
    "StoreUnavailable",
    "Unauthenticated",
    "ValidationFailed",
]


class SegpixelError(Exception):
    error_id = "SYSTEM"

    def __init__(self, message: str, errors: list[FieldError] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class BadRequest(SegpixelError):
    """Malformed request: a parameter or body the rules cannot even read."""

    error_id = "SYNTAX"

    @classmethod
    def field(cls, error: FieldError) -> BadRequest:
        return cls(error.message, [error])


class Unauthenticated(SegpixelError):
    error_id = "NOAUTH"


class Forbidden(SegpixelError):
    error_id = "UNAUTH"


class NotFound(SegpixelError):
    error_id = "NOTFOUND"


class Conflict(SegpixelError):
    """Duplicate code, object still in use."""

    error_id = "INTEGRITY"


class RateLimited(SegpixelError):
    error_id = "LIMIT"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class StoreUnavailable(SegpixelError):
    """A store (profile, stats, catalog) cannot be reached right now."""
