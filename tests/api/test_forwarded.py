"""X-Forwarded-Proto sets the scheme only when a trusted proxy sends it (SEGPIXEL_TRUSTED_PROXIES).

In-process: the TestClient's peer is "testclient", an address no network names, so trusting
`*` is the only way to trust it here; tests/deploy runs the real thing behind nginx.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from segpixel.app import create_app
from segpixel.settings import Settings
from tests.cli.test_cli import dispose_catalog


@pytest.mark.parametrize(
    ("trusted", "scheme"),
    [
        pytest.param("", "http", id="no-proxy-trusted"),
        pytest.param("10.0.0.1", "http", id="another-proxy-trusted"),
        pytest.param("*", "https", id="this-peer-trusted"),
    ],
)
def test_the_forwarded_scheme_counts_from_trusted_proxies_only(
    tmp_path: Path, trusted: str, scheme: str
) -> None:
    app = create_app(Settings(data_dir=tmp_path, trusted_proxies=trusted))
    try:
        with TestClient(app, base_url="http://px.example.test") as client:
            headers = {"X-Forwarded-Proto": "https"}
            redirect = client.get("/console", headers=headers, follow_redirects=False)
            landing = client.get("/", headers={**headers, "Accept": "application/json"})
    finally:
        dispose_catalog(app)
    assert redirect.headers["location"] == f"{scheme}://px.example.test/console/"
    assert landing.json()["public_url"] == f"{scheme}://px.example.test"
