"""The one HTTP client of the `segpixel` command: the management API, over HTTP or in-process.

Every catalog command speaks the API (SPEC §2) through `Api`, so a command behaves the same
against a server across the network and on the local data folder:
- **remote**: httpx to `SEGPIXEL_URL` (or the saved login) with the token in `Authorization`;
- **local**: the API application itself, built on the data folder's catalog and called
  in-process as the operator (an admin), for offline administration with no server running.

Everything that knows the wire (the envelope, paging, uploads, the public URL) lives here, so a
change of the API is an edit of this file. A refusal comes back as `Refused` carrying the
server's own sentence.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx

PAGE_SIZE = 100  # the API's page-size cap (SPEC §10)
MAX_PAGES = 100_000  # a listing that never ends (a server bug) still stops
TIMEOUT = httpx.Timeout(60.0, connect=10.0)
LAPSED = "log in again: segpixel login --url {url}"


class Refused(Exception):
    """The server answered an error envelope (or could not be reached: status 0)."""

    def __init__(self, status: int, error_id: str, message: str):
        super().__init__(message)
        self.status = status
        self.error_id = error_id
        self.message = message


class Api:
    """The management API of one server (or of the local data folder)."""

    def __init__(self, http: httpx.Client, where: str, public_url: str | None = None):
        self.http = http
        self.where = where  # the server's URL, or "the data folder …", for messages
        self._public_url = public_url  # known up front in local mode
        self.closers: list[Callable[[], None]] = [http.close]

    # -- the envelope --------------------------------------------------------------------------

    def call(self, method: str, path: str, body: Any = None, **options: Any) -> dict[str, Any]:
        """The `response` object of an OK answer; `Refused` otherwise (options: as `raw`)."""
        return envelope(self.raw(method, path, body, **options))

    def raw(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content: Iterable[bytes] | bytes | None = None,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> httpx.Response:
        query = {k: _param(v) for k, v in params.items() if v is not None}
        try:
            response = self.http.request(
                method, path, params=query, json=body, content=content, headers=headers
            )
        except httpx.HTTPError as exc:
            raise Refused(0, "UNREACHABLE", f"cannot reach {self.where}: {exc}") from None
        if response.status_code == 401 and (method, path) != ("POST", "/auth"):
            # The token lapsed (2 h idle, 24 h at most) or was revoked: say what to do.
            sentence = _sentence(response) or "authentication required"
            raise Refused(401, "NOAUTH", f"{sentence} — {LAPSED.format(url=self.where)}")
        if response.status_code >= 400:
            envelope(response)  # raises with the server's sentence
        return response

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        return self.call("GET", path, **params)

    def one(self, service: str, object_id: int | str, **params: Any) -> dict[str, Any]:
        """One object by id: `GET /service?id=N` → its fields."""
        return self.get(f"/{service}", id=object_id, **params)[service]

    def list(self, service: str, plural: str, **filters: Any) -> list[dict[str, Any]]:
        """Every object of a listing, page after page (start_element / num_elements)."""
        return list(self.iterate(service, plural, **filters))

    def iterate(self, service: str, plural: str, **filters: Any) -> Iterator[dict[str, Any]]:
        start = 0
        for _ in range(MAX_PAGES):
            page = self.get(f"/{service}", start_element=start, num_elements=PAGE_SIZE, **filters)
            items = page.get(plural) or []
            yield from items
            start += len(items)
            if not items or start >= int(page.get("count", 0)):
                return

    def create(self, service: str, fields: dict[str, Any], **params: Any) -> dict[str, Any]:
        return self.call("POST", f"/{service}", {service: fields}, **params)[service]

    def update(self, service: str, object_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        return self.call("PUT", f"/{service}", {service: fields}, id=object_id)[service]

    def delete(self, service: str, object_id: int) -> None:
        self.call("DELETE", f"/{service}", id=object_id)

    # -- the server ----------------------------------------------------------------------------

    def public_url(self) -> str:
        """The base of pixel URLs the server hands out (`/` says it)."""
        if self._public_url is not None:
            return self._public_url
        response = self.raw("GET", "/", headers={"Accept": "application/json"})
        return str(response.json()["public_url"])

    def upload(
        self,
        path: str,
        chunks: Iterable[bytes],
        on_sent: Callable[[int], None] | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        """POST a file as the body, streamed chunk by chunk (`on_sent(bytes)` after each)."""

        def body() -> Iterator[bytes]:
            for chunk in chunks:
                yield chunk
                if on_sent is not None:
                    on_sent(len(chunk))

        headers = {"Content-Type": "text/plain"}
        return self.call("POST", path, content=body(), headers=headers, **params)

    def close(self) -> None:
        for close in self.closers:
            close()


def envelope(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()["response"]
    except (ValueError, KeyError, TypeError):
        raise Refused(
            response.status_code,
            "SYSTEM",
            f"the server answered {response.status_code} without the API's envelope: "
            f"{response.text[:200]!r}",
        ) from None
    if response.status_code >= 400 or answer.get("status") != "OK":
        error_id = str(answer.get("error_id") or "SYSTEM")
        message = str(answer.get("error") or f"the server answered {response.status_code}")
        raise Refused(response.status_code, error_id, message)
    return answer


def _sentence(response: httpx.Response) -> str | None:
    try:
        return str(response.json()["response"]["error"])
    except (ValueError, KeyError, TypeError):
        return None


def _param(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return value


def remote(url: str, token: str | None) -> Api:
    headers = {"Authorization": token} if token else {}
    http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=TIMEOUT)
    return Api(http, url.rstrip("/"))


class InProcess(httpx.BaseTransport):
    """httpx's sync client on an ASGI app in this process: each request on its own event loop
    (a command makes a handful; the API's sync routes run on threads as in a server)."""

    def __init__(self, app: Any):
        self.transport = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> httpx.Response:
            body = b"".join([part async for part in _aiter(request.stream)])
            forwarded = httpx.Request(
                request.method, request.url, headers=request.headers, content=body
            )
            answer = await self.transport.handle_async_request(forwarded)
            content = await answer.aread()
            return httpx.Response(answer.status_code, headers=answer.headers, content=content)

        return asyncio.run(send())


async def _aiter(stream: Any) -> Any:
    for part in stream:  # the sync client's stream: bytes or a generator
        yield part


def local(app: Any, where: str, public_url: str) -> Api:
    http = httpx.Client(transport=InProcess(app), base_url="http://segpixel.local", timeout=TIMEOUT)
    return Api(http, where, public_url=public_url)
