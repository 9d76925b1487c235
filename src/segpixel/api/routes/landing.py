"""`/`: where a person lands — links to the console, the API docs and health; for the CLI, JSON.

`segpixel` (the command) asks `/` with `Accept: application/json` for the server's version and its
public URL, the base exported tags must use (SEGPIXEL_PUBLIC_URL, or the address the request
reached: behind a trusted proxy, its https host). Nothing here is secret: every tag carries it.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from segpixel import __version__
from segpixel.api.deps import StateDep
from segpixel.console.urls import PREFIX as CONSOLE_PREFIX

router = APIRouter()
LINKS = {"console": f"{CONSOLE_PREFIX}/", "docs": "/docs", "health": "/health"}
PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>segpixel</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}}
code{{background:#f3f3f3;padding:0 .2em}}</style></head>
<body><h1>segpixel {version}</h1>
<p>An audience-segment pixel server. Pixel tags point at <code>{public_url}</code>.</p>
<ul>
<li><a href="{console}">Console</a>: segments, pixels, loads</li>
<li><a href="{docs}">API docs</a> (<a href="/openapi.json">OpenAPI</a>): log in with
<code>POST /auth</code>, then "Authorize" with the token</li>
<li><a href="{health}">Health</a></li>
</ul></body></html>
"""


def public_url(request: Request, state: StateDep) -> str:
    return state.settings.public_url_for(str(request.base_url))


@router.get("/", include_in_schema=False)
def landing(request: Request, state: StateDep) -> Response:
    base = public_url(request, state)
    if _wants_json(request.headers.get("accept", "")):
        about = {"name": "segpixel", "version": __version__, "public_url": base}
        return JSONResponse({**about, **LINKS})
    html = PAGE.format(version=escape(__version__), public_url=escape(base), **LINKS)
    return HTMLResponse(html)


def _wants_json(accept: str) -> bool:
    return "application/json" in accept and "text/html" not in accept
