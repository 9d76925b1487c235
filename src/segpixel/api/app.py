"""The management API application: routers, the envelope's error handlers, OpenAPI."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from fastapi import FastAPI

from segpixel import __version__
from segpixel.api.deps import ApiState
from segpixel.api.envelope import install_error_handlers
from segpixel.api.openapi import install_openapi
from segpixel.api.rate_limit import ClientAddress, LoginGuard
from segpixel.api.routes import (
    advertisers,
    auth,
    batch_segments,
    bidder,
    creatives,
    landing,
    line_items,
    members,
    placements,
    publishers,
    reports,
    segments,
    sites,
    user_data,
    users,
    usersync_pixels,
)
from segpixel.catalog.db import Catalog
from segpixel.catalog.users import TokenStore
from segpixel.console.app import create_console
from segpixel.console.urls import PREFIX as CONSOLE_PREFIX
from segpixel.settings import Settings

if TYPE_CHECKING:  # the API reads the worker's runtime; it never builds one
    from segpixel.edge.runtime import EdgeRuntime

DESCRIPTION = """
Compatible with the Xandr Segment Service: the same field names, query parameters and envelope
(`{"response": {"status": "OK", ...}}` or `{"response": {"status": "error", "error_id": ...}}`).

Log in with `POST /auth` `{"auth": {"username": ..., "password": ...}}` and send the token back as
the `Authorization` header (the bare token or `Bearer TOKEN`), or in the cookie `segpixel_token`.
Here: run `POST /auth` with "Try it out", copy the `token`, press **Authorize** and paste it as
`token`; every "Try it out" then sends it. Tokens lapse 2 hours after their last use.

Every error is `{"response": {"status": "error", "error_id": ..., "error": "a sentence"}}` with the
status of its `error_id`: SYNTAX 400, NOAUTH 401, UNAUTH 403, NOTFOUND 404, INTEGRITY 409,
LIMIT 429 (with `Retry-After`), SYSTEM 500/503.
"""


def create_api(
    settings: Settings,
    catalog: Catalog,
    clock: Callable[[], float] = time.time,
    runtime: EdgeRuntime | None = None,
) -> FastAPI:
    # No lifespan here: the edge app in front owns start-up and shutdown (and disposes the catalog).
    app = FastAPI(title="segpixel", version=__version__, description=DESCRIPTION)
    app.state.api = ApiState(
        settings=settings,
        catalog=catalog,
        tokens=TokenStore(
            idle_seconds=settings.token_idle_minutes * 60,
            max_seconds=settings.token_max_hours * 3600,
        ),
        clock=clock,
        runtime=runtime,
        logins=LoginGuard(
            settings.login_rate_limit, clock, ClientAddress(settings.trusted_proxies)
        ),
    )
    install_error_handlers(app)
    install_openapi(app)
    app.include_router(landing.router)
    for module in (auth, members, advertisers, segments, usersync_pixels, users, user_data):
        app.include_router(module.router)
    for module in (publishers, sites, placements, creatives, line_items, bidder):
        app.include_router(module.router)
    for module in (reports, batch_segments):
        app.include_router(module.router)
    if runtime is not None:  # reports and uploads still running stop before the stores close
        runtime.stoppers.append(app.state.api.background.stop)
    # The web console: the same process, users and catalog, its own HTML error pages.
    app.mount(CONSOLE_PREFIX, create_console(app.state.api))
    return app
