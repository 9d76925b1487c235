"""Helpers for tests that talk to the API: log in, call with a token, unwrap envelopes."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

ADMIN_PASSWORD = "admin-password-for-tests"
# (method, path, status) of every answer the API tests saw through ApiClient: the OpenAPI test
# checks the document lists each status (tests/api/test_openapi.py).
OBSERVED: set[tuple[str, str, int]] = set()


class ApiClient:
    """A thin layer over an httpx-style client (TestClient in-process, httpx.Client over HTTP)."""

    def __init__(self, client: Any):
        self.client = client
        self.token: str | None = None

    def login(self, username: str = "admin", password: str = ADMIN_PASSWORD) -> ApiClient:
        """A client logged in as that user (sharing the transport)."""
        other = ApiClient(self.client)
        response = self.client.post(
            "/auth", json={"auth": {"username": username, "password": password}}
        )
        assert response.status_code == 200, response.text
        other.token = response.json()["response"]["token"]
        # POST /auth also sets the token as a cookie; these clients send it as a header, so the
        # transport's cookie jar must not carry it into later calls (tests/api/test_cookie_jar.py
        # covers the cookie-jar sessions).
        self.client.cookies.delete("segpixel_token")
        return other

    def request(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        headers = kwargs.pop("headers", {})
        if self.token and "Authorization" not in headers:
            headers["Authorization"] = self.token
        if body is not None:
            kwargs["json"] = body
        response = self.client.request(method, path, headers=headers, **kwargs)
        OBSERVED.add((method.lower(), urlsplit(path).path, response.status_code))
        return response

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.request("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.request("PUT", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.request("DELETE", path, **kw)

    # -- shortcuts that assert success and return the payload ----------------------------------

    def ok(self, method: str, path: str, body: Any = None, **kw: Any) -> dict[str, Any]:
        response = self.request(method, path, body, **kw)
        assert response.status_code == 200, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        payload = response.json()["response"]
        assert payload["status"] == "OK"
        return payload

    def make_member(self, name: str = "Acme", **fields: Any) -> dict[str, Any]:
        return self.ok("POST", "/member", {"member": {"name": name, **fields}})["member"]

    def make_advertiser(self, member_id: int, name: str = "Cars", **fields: Any) -> dict[str, Any]:
        body = {"advertiser": {"name": name, **fields}}
        return self.ok("POST", f"/advertiser?member_id={member_id}", body)["advertiser"]

    def make_segment(self, query: str, name: str = "Visitors", **fields: Any) -> dict[str, Any]:
        body = {"segment": {"short_name": name, **fields}}
        return self.ok("POST", f"/segment?{query}", body)["segment"]

    def make_user(
        self, username: str, role: str, password: str = "password-123", **ids: Any
    ) -> ApiClient:
        self.ok(
            "POST",
            "/user",
            {"user": {"username": username, "password": password, "role": role, **ids}},
        )
        return self.login(username, password)


def error_of(response: Any, status: int, error_id: str) -> str:
    """Assert an error envelope with that status and id; return its sentence."""
    assert response.status_code == status, response.text
    body = response.json()["response"]
    assert body["status"] == "error" and body["error_id"] == error_id, body
    return body["error"]
