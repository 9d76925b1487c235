"""`/`: a small page for people (links to the console, the docs, health), JSON for the CLI."""

from __future__ import annotations

from segpixel import __version__
from tests.helpers import ApiClient


def test_the_landing_page_links_console_docs_and_health(api: ApiClient) -> None:
    response = api.client.get("/", headers={"Accept": "text/html,*/*"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    for link in ('href="/console/"', 'href="/docs"', 'href="/health"', 'href="/openapi.json"'):
        assert link in response.text, link
    assert __version__ in response.text


def test_the_landing_json_says_the_public_url(api: ApiClient) -> None:
    answer = api.client.get("/", headers={"Accept": "application/json"}).json()
    assert answer["name"] == "segpixel" and answer["version"] == __version__
    # No SEGPIXEL_PUBLIC_URL in these servers: the base is where the request came.
    assert answer["public_url"] == str(api.client.base_url).rstrip("/")
    assert answer["docs"] == "/docs" and answer["console"] == "/console/"
