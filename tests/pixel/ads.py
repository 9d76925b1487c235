"""Helpers for ad-call tests: inventory, creatives and line items made through the API, and the
ad call as a browser (or a server-side caller) makes it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.pixel.conftest import Browser, Pixel


@dataclass
class Shop:
    """One member's inventory (publisher → site → placement) and one advertiser."""

    px: Pixel
    member: dict[str, Any]
    advertiser: dict[str, Any]
    publisher: dict[str, Any]
    site: dict[str, Any]
    placement: dict[str, Any]

    @property
    def member_id(self) -> int:
        return self.member["id"]

    def post(self, path: str, key: str, **fields: Any) -> dict[str, Any]:
        return self.px.api.ok("POST", path, {key: fields})[key]

    def placement_of(self, site_id: int, name: str = "Another") -> dict[str, Any]:
        return self.post(f"/placement?site_id={site_id}", "placement", name=name)

    def segment(self, name: str = "Seg", **fields: Any) -> dict[str, Any]:
        return self.px.segment(self.member_id, name, **fields)

    def creative(self, name: str = "Ad", **fields: Any) -> dict[str, Any]:
        body = {"width": 300, "height": 250, "content": f"<p>{name}</p>", **fields}
        return self.post(
            f"/creative?advertiser_id={self.advertiser['id']}", "creative", name=name, **body
        )

    def line_item(
        self,
        creative: dict[str, Any],
        priority: int,
        profile: dict[str, Any] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        return self.post(
            f"/line-item?advertiser_id={self.advertiser['id']}",
            "line-item",
            name=f"LI {creative['name']}",
            priority=priority,
            creatives=[creative["id"]],
            profile=profile,
            **fields,
        )


def open_shop(px: Pixel, name: str = "Acme") -> Shop:
    member = px.member(name)
    mid = member["id"]
    advertiser = px.api.make_advertiser(mid, "Cars")
    publisher = px.api.ok("POST", f"/publisher?member_id={mid}", {"publisher": {"name": "News"}})
    site = px.api.ok(
        "POST", f"/site?publisher_id={publisher['publisher']['id']}", {"site": {"name": "news"}}
    )
    placement = px.api.ok(
        "POST", f"/placement?site_id={site['site']['id']}", {"placement": {"name": "Top"}}
    )
    return Shop(
        px, member, advertiser, publisher["publisher"], site["site"], placement["placement"]
    )


def group(*items: dict[str, Any], operator: str = "and") -> dict[str, Any]:
    """A profile of one segment group."""
    return {
        "segment_boolean_operator": "and",
        "segment_group_targets": [{"boolean_operator": operator, "segments": list(items)}],
    }


def ad_call(
    browser: Browser, placement_id: int, query: str = "", path: str = "/ut"
) -> httpx.Response:
    extra = f"&{query}" if query else ""
    return browser.get(path, f"id={placement_id}&size=300x250{extra}")


def served(browser: Browser, placement_id: int, query: str = "") -> dict[str, Any] | None:
    """The /ut answer's ad (None: no ad), after checking the answer's shape."""
    response = ad_call(browser, placement_id, query)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert "no-store" in response.headers["cache-control"]
    body = response.json()
    assert body["placement_id"] == placement_id
    return body["ad"]


def follow(browser: Browser, absolute_url: str) -> httpx.Response:
    """Call a tracker URL on the test server (its host is the configured public URL)."""
    parts = urlsplit(absolute_url)
    return browser.get(parts.path, parts.query)


def segments_of(px: Pixel, browser: Browser, shop: Shop) -> dict[int, dict[str, Any]]:
    """The browser's segments of the shop's member, as /cookie shows them."""
    response = px.cookie_view(browser, shop.member)
    assert response.status_code == 200, response.text
    return {s["id"]: s for s in response.json()["segments"]}
