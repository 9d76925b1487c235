"""A pixel worker's side of the admin process: every request that is not a pixel is passed on,
as it came, over the admin process' local socket, and its answer streamed back.

Plain HTTP/1.1 (h11) on asyncio streams, both bodies streamed with back-pressure (a 200 MB upload
or a report download never sits in the worker's memory), idle connections kept for the next
request. While the admin process starts or restarts, a request waits for it up to `wait` seconds,
then gets 503 SYSTEM with Retry-After. What the worker does per request is a few buffer copies: the
Python work of the request runs in the other process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from typing import Any
from urllib.parse import quote

import h11
import orjson

from segpixel.admin.link import PREFIX, link_headers
from segpixel.edge.http import Receive, Scope, Send

log = logging.getLogger("segpixel.admin")
READ_BYTES = 256 * 1024
IDLE_CONNECTIONS = 16
WAIT_SECONDS = 10.0  # how long a request waits for an admin process that is (re)starting
RETRY_AFTER = b"2"
# Hop-by-hop headers (RFC 9110 §7.6.1) are the two connections' own; Expect is answered here.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"expect",
    }
)
UPSTREAM_ERRORS = (OSError, EOFError, h11.ProtocolError)


class AdminUnavailable(Exception):
    """The admin process did not accept a connection in time."""


class _Upstream:
    """One HTTP/1.1 connection to the admin process, on a plain non-blocking socket.

    Not asyncio's transports: a failed write (a broken pipe once the admin process answered
    early and closed) makes a transport drop its socket with the answer still unread in it, and
    that answer (413, 429) is what the client must get. On a plain socket the body's writer
    stops and the answer is read all the same.
    """

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.http = h11.Connection(h11.CLIENT)

    async def send(self, event: Any) -> None:
        data = self.http.send(event)
        if data:
            await asyncio.get_running_loop().sock_sendall(self.sock, data)

    async def next_event(self) -> Any:
        loop = asyncio.get_running_loop()
        while True:
            event = self.http.next_event()
            if event is h11.NEED_DATA:
                self.http.receive_data(await loop.sock_recv(self.sock, READ_BYTES))
                continue
            if isinstance(event, h11.ConnectionClosed):
                raise EOFError("the admin process closed the connection")
            return event

    def alive(self) -> bool:
        """A kept connection the admin process has not closed meanwhile."""
        try:
            return self.sock.recv(1, socket.MSG_PEEK) != b""  # b"": closed; a byte: out of turn
        except BlockingIOError:
            return True  # nothing to read: still open
        except OSError:
            return False

    def reusable(self) -> bool:
        if self.http.our_state is h11.DONE and self.http.their_state is h11.DONE:
            self.http.start_next_cycle()
            return True
        return False

    def shut(self) -> None:
        """End both directions now; a read waiting on the socket sees the end (the socket is
        closed by whoever reads it, not under its feet)."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.sock.close()


class AdminForward:
    """Pure ASGI: the request to the admin process at `socket_path`, its answer to the client."""

    def __init__(self, socket_path: str, wait: float = WAIT_SECONDS):
        self.socket_path = socket_path
        self.wait = wait
        self._idle: list[_Upstream] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # no websocket is served; the lifespan is the edge app's
        try:
            request, has_body = _request(scope)
        except h11.LocalProtocolError as exc:
            await _error(send, 400, "SYNTAX", f"the request cannot be passed on: {exc}")
            return
        # A request without a body can be sent again on a new connection when a kept one turns
        # out to be closed (the admin process restarted); one with a body cannot.
        for attempt in range(2):
            try:
                upstream, kept = await self._connection(fresh=attempt > 0)
            except AdminUnavailable:
                await _error(send, 503, "SYSTEM", "the admin process is not answering; try again")
                return
            try:
                await self._exchange(upstream, request, has_body, receive, send)
                return
            except _NotSent:
                upstream.close()
                if has_body or not kept:
                    await _error(send, 502, "SYSTEM", "the admin process closed the request")
                    return

    async def _exchange(
        self,
        upstream: _Upstream,
        request: h11.Request,
        has_body: bool,
        receive: Receive,
        send: Send,
    ) -> None:
        pump: asyncio.Task[None] | None = None
        try:
            await upstream.send(request)
            if has_body:
                pump = asyncio.create_task(_pump(receive, upstream))
                pump.add_done_callback(_retrieved)  # a pump cut short by an early answer
            else:
                await upstream.send(h11.EndOfMessage())
            head = await upstream.next_event()
            while isinstance(head, h11.InformationalResponse):
                head = await upstream.next_event()
        except UPSTREAM_ERRORS as exc:
            if pump is not None:
                pump.cancel()
            raise _NotSent from exc
        # The admin process may answer before the whole body is sent (413, 429): stop sending,
        # and close the client's connection after the answer, whose unread rest of the body
        # would otherwise be read as its next request.
        cut_short = pump is not None and not pump.done()
        if cut_short:
            pump.cancel()
        complete = await self._relay(upstream, head, send, close=cut_short)
        # Only a connection that carried no body is kept: after one that did, the admin process
        # may not have read all of it (an early 413 or 429) and then closes the connection,
        # and a body cannot be sent again on another one.
        if complete and pump is None and len(self._idle) < IDLE_CONNECTIONS and upstream.reusable():
            self._idle.append(upstream)
            return
        upstream.close()

    async def _relay(
        self, upstream: _Upstream, head: h11.Response, send: Send, close: bool
    ) -> bool:
        """The answer to the client; False when either side went away before its end. The
        client's connection is closed after it when `close`, or when the admin process said so
        (it does after refusing a body it did not read)."""
        headers = [(k, v) for k, v in head.headers if k not in HOP_BY_HOP]
        if close or _says_close(head.headers):
            headers.append((b"connection", b"close"))
        try:
            await send(
                {"type": "http.response.start", "status": head.status_code, "headers": headers}
            )
            while True:
                event = await upstream.next_event()
                if isinstance(event, h11.EndOfMessage):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return True
                if isinstance(event, h11.Data):
                    await send(
                        {"type": "http.response.body", "body": bytes(event.data), "more_body": True}
                    )
        except UPSTREAM_ERRORS as exc:
            log.warning("the admin process' answer broke off: %s", exc)
        except Exception as exc:  # the client went away mid-answer: nothing left to tell it
            log.debug("the client left during the answer: %s", exc)
        return False

    async def _connection(self, fresh: bool) -> tuple[_Upstream, bool]:
        while self._idle and not fresh:
            upstream = self._idle.pop()
            if upstream.alive():
                return upstream, True
            upstream.close()
        deadline = time.monotonic() + self.wait
        pause = 0.02
        while True:
            try:
                return _Upstream(await _connect(self.socket_path)), False
            except (FileNotFoundError, ConnectionRefusedError) as exc:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AdminUnavailable from exc
                await asyncio.sleep(min(pause, left))  # the last try is at the deadline
                pause = min(pause * 2, 0.5)

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()


async def _connect(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(sock, path)
    except BaseException:
        sock.close()
        raise
    return sock


def _says_close(headers: Any) -> bool:
    return any(k == b"connection" and b"close" in v.lower() for k, v in headers)


def _retrieved(task: asyncio.Task[None]) -> None:
    """The body's end is told by the answer: a pump's own error (the admin process closed
    the connection after answering early) is not news."""
    if not task.cancelled():
        task.exception()


class _NotSent(Exception):
    """The exchange failed before the admin process' answer began."""


async def _pump(receive: Receive, upstream: _Upstream) -> None:
    """The client's body to the admin process, as it arrives."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            upstream.shut()  # the admin process sees the body end short and drops the request
            return
        body = message.get("body", b"")
        if body:
            await upstream.send(h11.Data(data=body))
        if not message.get("more_body", False):
            await upstream.send(h11.EndOfMessage())
            return


def _request(scope: Scope) -> tuple[h11.Request, bool]:
    """The request line and headers for the admin process, and whether a body follows."""
    headers: list[tuple[bytes, bytes]] = []
    has_length = chunked = has_host = False
    for name, value in scope["headers"]:
        name = name.lower()
        if name == b"transfer-encoding":
            chunked = True
        if name in HOP_BY_HOP or name.startswith(PREFIX):
            continue
        if name == b"content-length":
            has_length = value.strip() != b"0"
        has_host = has_host or name == b"host"
        headers.append((name, value))
    if not has_host:  # an HTTP/1.0 client: HTTP/1.1 needs one
        server = scope.get("server")
        headers.append((b"host", f"{server[0]}:{server[1]}".encode() if server else b"localhost"))
    if chunked and not has_length:
        headers.append((b"transfer-encoding", b"chunked"))
    headers.extend(link_headers(scope))
    target = scope.get("raw_path") or quote(scope["path"]).encode()
    if scope.get("query_string"):
        target += b"?" + scope["query_string"]
    request = h11.Request(method=scope["method"], target=target, headers=headers)
    return request, has_length or chunked


async def _error(send: Send, status: int, error_id: str, message: str) -> None:
    """An answer of our own, in the API's envelope (SPEC §2)."""
    from segpixel.api.envelope import error_body  # only when it happens: FastAPI is big

    body = orjson.dumps(error_body(error_id, message))
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-content-type-options", b"nosniff"),
    ]
    if status == 503:
        headers.append((b"retry-after", RETRY_AFTER))
    with contextlib.suppress(Exception):  # the client may be gone
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
