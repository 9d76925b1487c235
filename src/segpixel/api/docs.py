"""`/docs`: Swagger UI from our own copy (the `swagger-ui-bundle-v2` package: Swagger UI 5, which
reads OpenAPI 3.1), under a Content-Security-Policy that loads nothing from another host.

FastAPI's own /docs page loads Swagger UI from a CDN and starts it with an inline script; here the
page, its assets and the script that starts it are all served by us.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, Response
from swagger_ui_bundle import swagger_ui_path

from segpixel.errors import NotFound

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
ASSETS = {  # the files of the bundle the page uses, and their types
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "application/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
START = b"""window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
});
"""
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head><body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/start.js"></script>
</body></html>
"""
HEADERS = {"content-security-policy": CSP, "referrer-policy": "same-origin"}
CACHE = {"cache-control": "public, max-age=86400"}


def install_docs(app: FastAPI) -> None:
    """The app must be made with `docs_url=None, redoc_url=None`."""
    router = APIRouter(include_in_schema=False)
    page = PAGE.format(title=app.title)

    @router.get("/docs")
    def docs() -> HTMLResponse:
        return HTMLResponse(page, headers=HEADERS)

    @router.get("/docs/assets/start.js")
    def start() -> Response:
        return Response(START, media_type=ASSETS["swagger-ui-bundle.js"], headers=CACHE)

    @router.get("/docs/assets/{name}")
    def asset(name: str) -> Response:
        if name not in ASSETS:
            raise NotFound(f"no docs asset {name!r}")
        body = (swagger_ui_path / name).read_bytes()
        return Response(body, media_type=ASSETS[name], headers=CACHE)

    app.include_router(router)
