"""A console user over real HTTP: its own cookie jar, logging in through the login form."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx

from tests.helpers import ADMIN_PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')
FIELD_ERROR = re.compile(
    r'<p class="field-error" id="err-([\w-]+?)(?:-\d+)?" role="alert">(.*?)</p>'
)
TAG_TEXT = re.compile(r'<textarea id="tag-\d+"[^>]*>(.*?)</textarea>', re.S)


class Console:
    def __init__(self, base_url: str):
        self.http = httpx.Client(base_url=base_url, timeout=30, follow_redirects=False)
        self.csrf = ""

    def close(self) -> None:
        self.http.close()

    def login(self, username: str = "admin", password: str = ADMIN_PASSWORD) -> Console:
        form = self.http.get("/console/login")
        assert form.status_code == 200, form.text
        response = self.http.post(
            "/console/login",
            data={"username": username, "password": password, "csrf_token": csrf_of(form.text)},
        )
        assert response.status_code == 303, response.text
        self.csrf = csrf_of(self.get("/console/advertisers").text)
        return self

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def post(
        self, path: str, data: dict[str, Any] | None = None, csrf: bool = True
    ) -> httpx.Response:
        body = dict(data or {})
        if csrf:
            body.setdefault("csrf_token", self.csrf)
        return self.http.post(path, data=body)


def csrf_of(page: str) -> str:
    match = CSRF.search(page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def field_errors(page: str) -> dict[str, list[str]]:
    """The messages shown next to each form field, by the field's key."""
    found: dict[str, list[str]] = {}
    for key, message in FIELD_ERROR.findall(page):
        found.setdefault(key, []).append(html.unescape(message))
    return found


def tags_of(page: str) -> list[str]:
    return [html.unescape(t) for t in TAG_TEXT.findall(page)]


def flash_of(page: str) -> str | None:
    match = re.search(r'<div class="flash" role="status">(.*?)</div>', page, re.S)
    return html.unescape(match.group(1)) if match else None


def segment_form(**fields: Any) -> dict[str, Any]:
    """A Create New Segment form as a browser posts it, with these fields changed."""
    form: dict[str, Any] = {
        "short_name": "Car buyers",
        "description": "",
        "code": "",
        "state": "active",
        "type": "pixel",
        "max_usersync_pixels": "0",
        "expire_mode": "max",
        "expire_amount": "",
        "expire_unit": "days",
        "level": "advertiser",
        "pb_url": [""],
        "pb_type": ["img"],
        "qs_param": "",
        "qs_value_type": "text",
        "qs_values": "",
        "qs_publishers": "",
        "qs_sites": "",
        "qs_placements": "",
        "kv_key": "",
        "kv_value": "",
        "action": "save",
    }
    form.update(fields)
    return form
