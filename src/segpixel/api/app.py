"""The management API application: routers, the envelope's error handlers, OpenAPI."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from fastapi import FastAPI

from segpixel import __version__
from segpixel.api.deps import ApiState
from segpixel.api.docs import install_docs
from segpixel.api.envelope import install_error_handlers
from segpixel.api.logins import LoginGuard
from segpixel.api.openapi import install_openapi
from segpixel.api.rate_limit import ClientAddress
from segpixel.api.routes import (
    advertisers,
    auth,
    batch_segment_config,
    batch_segments,
    bidder,
    creatives,
    landing,
    line_items,
    members,
    meta,
    placements,
    publishers,
    reports,
    segment_upload,
    segments,
    sites,
    user_data,
    users,
    usersync_pixels,
)
from segpixel.catalog.db import Catalog
from segpixel.catalog.passwords import PasswordPool
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
the `Authorization` header (the bare token or `Bearer TOKEN`), or in the cookie `segpixel_token`
that the login sets (`curl -b cookies -c cookies`, as the reference's examples do).
Here: run `POST /auth` with "Try it out", copy the `token`, press **Authorize** and paste it as
`token`; every "Try it out" then sends it. Tokens lapse 2 hours after their last use.

Scripts written for the reference run unchanged (SPEC §2.1): a GET body can be PUT back (read-only
fields are ignored; fields the reference documents but segpixel does not implement are accepted
and named in `dbg_info.warnings`); POST and PUT take one object or a bulk list
(`{"segments": [...]}`, all or nothing); DELETE takes `?id=1,2,3`; lists take the reference's
filters (`state=active`, `min_last_modified=...`, `not_`, `like_`, `min_`, `max_`, `fields=`) and
page by at most 100; `GET /SERVICE/meta` describes a service's fields.

Every error is `{"response": {"status": "error", "error_id": ..., "error": "a sentence"}}` with the
status of its `error_id`: SYNTAX 400, NOAUTH 401, UNAUTH 403, NOTFOUND 404, INTEGRITY 409,
LIMIT 429 (with `Retry-After`, `error_code` RATE_EXCEEDED), SYSTEM 500/503.
"""


def create_api(
    settings: Settings,
    catalog: Catalog,
    clock: Callable[[], float] = time.time,
    runtime: EdgeRuntime | None = None,
) -> FastAPI:
    # No lifespan here: the edge app in front owns start-up and shutdown (and disposes the catalog).
    app = FastAPI(
        title="segpixel",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,  # our own /docs (api/docs.py): no CDN, no inline script
        redoc_url=None,
    )
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
            settings.login_rate_limit,
            clock,
            ClientAddress(settings.trusted_proxies),
            settings.login_success_limit,
        ),
        passwords=PasswordPool(
            settings.password_threads, settings.password_queue, settings.password_nice
        ),
    )
    install_error_handlers(app)
    install_docs(app)
    install_openapi(app)
    app.include_router(landing.router)
    for module in (auth, members, advertisers, segments, usersync_pixels, users, user_data):
        app.include_router(module.router)
    for module in (publishers, sites, placements, creatives, line_items, bidder):
        app.include_router(module.router)
    for module in (reports, batch_segments, segment_upload, batch_segment_config, meta):
        app.include_router(module.router)
    # The web console: the same process, users and catalog, its own HTML error pages.
    app.mount(CONSOLE_PREFIX, create_console(app.state.api))
    return app
