"""The one ASGI application a `segpixel serve` worker runs, and its factory."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from segpixel.admin.forward import AdminForward
from segpixel.admin.link import SOCKET_ENV
from segpixel.api.app import create_api
from segpixel.api.batch_view import UPLOAD_PATH
from segpixel.api.body_limit import BodyLimit
from segpixel.api.forwarded import ForwardedProto
from segpixel.api.json_bodies import JsonBodies
from segpixel.api.json_depth import JsonDepth
from segpixel.api.rate_limit import ApiRateLimit, ClientAddress
from segpixel.catalog.db import Catalog
from segpixel.edge.app import EdgeApp
from segpixel.edge.cookie import IdFactory, new_user_id
from segpixel.edge.http import Nosniff
from segpixel.edge.runtime import EdgeRuntime
from segpixel.settings import Settings


def create_app(
    settings: Settings | None = None,
    clock: Callable[[], float] = time.time,
    id_factory: IdFactory = new_user_id,
    upkeep: bool = True,
) -> EdgeApp:
    """Build the app from settings (the environment when none are given); `upkeep`: False
    in the admin process (EdgeRuntime)."""
    settings = (settings or Settings()).resolved()
    catalog = Catalog(settings.catalog_url or "")
    runtime = EdgeRuntime(settings, catalog, clock, id_factory, upkeep=upkeep)
    admin_socket = os.environ.get(SOCKET_ENV)
    if admin_socket:  # a worker of `segpixel serve`: the admin process answers the rest
        return EdgeApp(AdminForward(admin_socket), runtime)
    api = create_api(settings, catalog, clock, runtime)
    # The body limit guards the API; the hot paths are GETs whose bodies are never read.
    # (a key ending in "/" is a prefix: the Batch Segment Service's upload_urls)
    uploads = {"/batch-segment": settings.batch_max_bytes, UPLOAD_PATH: settings.batch_max_bytes}
    # Uploads stream to disk: never buffered to be measured as JSON, whatever their label.
    rest: Any = BodyLimit(
        JsonBodies(JsonDepth(api, skip=uploads)), settings.max_body_bytes, uploads
    )
    client = ClientAddress(settings.trusted_proxies)
    if settings.api_rate_limit:  # in front of everything but the pixel paths, before any body
        rest = ApiRateLimit(rest, settings.api_rate_limit, clock, client)
    if client.enabled:  # behind a TLS proxy: absolute URLs and redirects say https
        rest = ForwardedProto(rest, client)
    return EdgeApp(Nosniff(rest), runtime)
