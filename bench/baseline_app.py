"""The baseline of bench/pixel.py: the least a pixel server can do — a raw ASGI GIF with a cookie.

Served by the same server (granian) with the same settings as segpixel, so the ratio measures what
segpixel adds: parsing, the catalog lookups, the durable write, the response it builds.
"""

import secrets

GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    cookie = f"uuid2={secrets.randbits(63)}; Path=/; Max-Age=15552000; HttpOnly".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"image/gif"),
                (b"cache-control", b"no-store"),
                (b"set-cookie", cookie),
                (b"content-length", b"43"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": GIF})
