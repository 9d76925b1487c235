"""Jinja2 pages: one environment (autoescape on everywhere), the layout's shared context."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from segpixel.console import urls
from segpixel.console.deps import ConsoleUser
from segpixel.console.format import FILTERS
from segpixel.console.session import CSRF_FIELD, FLASH_COOKIE, read_flash

HERE = Path(__file__).parent
STATIC = HERE / "static"

# Autoescape is on for every template whatever its name; StrictUndefined turns a misspelt variable
# into an error in the tests instead of an empty string on a page.
ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters.update(FILTERS)
ENV.globals.update(
    console_url=urls.console_url,
    advertiser_url=urls.advertiser_url,
    segment_url=urls.segment_url,
    CSRF_FIELD=CSRF_FIELD,
)


@cache
def static_url(name: str) -> str:
    """A static file's URL with its content hash, so browsers may cache it and never go stale."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:10]
    return urls.console_url(f"/static/{name}", v=digest)


ENV.globals["static_url"] = static_url


def page(
    request: Request,
    template: str,
    user: ConsoleUser | None,
    *,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    flash = read_flash(request) if user is not None else None
    html = ENV.get_template(template).render(
        request=request,
        user=user,
        csrf=user.csrf if user else "",
        flash=flash,
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    if flash is not None:  # shown once
        response.delete_cookie(FLASH_COOKIE, path=urls.PREFIX)
    return response
