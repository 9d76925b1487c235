"""What a pixel worker and the admin process agree on: the socket, and who the client was.

The admin process sees every request arrive from its own local socket, so the pixel worker says in
three headers what it saw: the client's address, the scheme and the server it was reached on. The
worker drops any such header a client sent, and the socket lives in a folder only the serving user
can enter: the admin process can believe them (`arrived`) without a list of trusted peers.
"""

from __future__ import annotations

from typing import Any

SOCKET_ENV = "SEGPIXEL_ADMIN_SOCKET"  # set by serve for its workers: forward there
PREFIX = b"x-segpixel-"  # headers of ours: never taken from a client
CLIENT = b"x-segpixel-client"
SCHEME = b"x-segpixel-scheme"
SERVER = b"x-segpixel-server"


def _address(value: tuple[str, int] | list[Any] | None) -> bytes | None:
    if not value:
        return None
    host, port = value[0], value[1]
    return f"{host}|{port}".encode("latin-1")


def _parse_address(value: bytes) -> tuple[str, int] | None:
    host, _, port = value.decode("latin-1").rpartition("|")
    return (host, int(port)) if port.isdigit() else None


def link_headers(scope: dict[str, Any]) -> list[tuple[bytes, bytes]]:
    """The headers that tell the admin process who the client was (the worker's side)."""
    headers = [(SCHEME, str(scope.get("scheme", "http")).encode("latin-1"))]
    for name, value in ((CLIENT, scope.get("client")), (SERVER, scope.get("server"))):
        encoded = _address(value)
        if encoded is not None:
            headers.append((name, encoded))
    return headers


def arrived(scope: dict[str, Any]) -> dict[str, Any]:
    """The scope as the pixel worker received it: client, scheme and server from the link's
    headers, which are then removed (the admin process' side)."""
    headers, found = [], {}
    for name, value in scope["headers"]:
        if name.startswith(PREFIX):
            found[name] = value
        else:
            headers.append((name, value))
    scheme = "https" if found.get(SCHEME) == b"https" else "http"
    client = _parse_address(found[CLIENT]) if CLIENT in found else None
    server = _parse_address(found[SERVER]) if SERVER in found else scope.get("server")
    return {**scope, "headers": headers, "scheme": scheme, "client": client, "server": server}
