"""Small things every console route uses."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse

from segpixel.console.session import set_flash


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)  # after a POST: the browser GETs the new page


def done(request: Request, url: str, message: str, segment_id: int = 0) -> RedirectResponse:
    """Go to `url` and say what was done there, once."""
    response = redirect(url)
    set_flash(response, request, message, segment_id)
    return response
