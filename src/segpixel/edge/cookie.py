"""The identity cookie (SPEC §3.2) in one place: name, format, attributes, parse and emit.

The value is a random positive 64-bit integer in decimal (63 random bits, so every store can hold it
as a signed integer); `-1` marks a user who opted out. Anything else decodes to "no cookie" — a
corrupt cookie is never an error.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from segpixel.domain.user_ids import USER_ID_MAX, parse_user_id

OPTED_OUT = -1
MAX_AGE = 180 * 24 * 3600
OPT_OUT_MAX_AGE = 5 * 365 * 24 * 3600
MAX_UID = USER_ID_MAX


@dataclass(slots=True)
class Identity:
    user_id: int | None  # None: no valid cookie (a new visitor)
    opted_out: bool = False

    @property
    def known(self) -> bool:
        return self.user_id is not None


def new_user_id() -> int:
    return secrets.randbits(63) or 1


def parse_uid(text: str) -> int | None:
    return parse_user_id(text)


def read_identity(cookie_header: bytes | None, name: bytes) -> Identity:
    """Find our cookie in a Cookie header without parsing the rest of it."""
    if not cookie_header:
        return Identity(None)
    for part in cookie_header.split(b";"):
        key, sep, value = part.strip().partition(b"=")
        if sep and key == name:
            text = value.strip().strip(b'"').decode("latin-1")
            if text == "-1":
                return Identity(None, opted_out=True)
            return Identity(parse_uid(text))
    return Identity(None)


class CookiePolicy:
    """How the identity cookie is written; the attribute tails are built once, not per call."""

    def __init__(self, name: str = "uuid2", secure: str = "auto", domain: str | None = None):
        self.name = name
        self.secure = secure  # auto | always | never
        self.domain = domain
        self._head = f"{name}=".encode()
        self._tail_https = self._attrs(MAX_AGE, https=True)
        self._tail_http = self._attrs(MAX_AGE, https=False)

    def _attrs(self, max_age: int, https: bool) -> bytes:
        attrs = ["", "Path=/", f"Max-Age={max_age}", "HttpOnly"]
        if self.domain:
            attrs.append(f"Domain={self.domain}")
        if self.secure == "always" or (self.secure == "auto" and https):
            attrs += ["SameSite=None", "Secure"]
        else:
            attrs.append("SameSite=Lax")
        return "; ".join(attrs).encode("latin-1")

    def header(self, value: str, https: bool, max_age: int = MAX_AGE) -> bytes:
        return self._head + value.encode("latin-1") + self._attrs(max_age, https)

    def for_user(self, user_id: int, https: bool) -> bytes:
        return self._head + str(user_id).encode() + (self._tail_https if https else self._tail_http)

    def opt_out(self, https: bool) -> bytes:
        return self.header(str(OPTED_OUT), https, OPT_OUT_MAX_AGE)

    def clear(self, https: bool) -> bytes:
        return self.header("", https, 0)


IdFactory = Callable[[], int]
