"""The one ASGI application a `segpixel serve` worker runs, and its factory."""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.types import ASGIApp

from segpixel.api.app import create_api
from segpixel.api.body_limit import BodyLimit
from segpixel.catalog.db import Catalog
from segpixel.settings import Settings


def create_app(settings: Settings | None = None, clock: Callable[[], float] = time.time) -> ASGIApp:
    """Build the app from settings (the environment when none are given)."""
    settings = (settings or Settings()).resolved()
    catalog = Catalog(settings.catalog_url or "")
    api = create_api(settings, catalog, clock)
    return BodyLimit(api, settings.max_body_bytes)
