"""`segpixel export-pixel`: a segment's pixel tag in the reference's form.

The tag's base is the server's public URL (what `/` says: SEGPIXEL_PUBLIC_URL, or the address
the server was reached at — https behind a TLS proxy), so a tag never points at a port or host
the server does not answer on. On the data folder it is this machine's SEGPIXEL_PUBLIC_URL (or
http://HOST:PORT).
"""

from __future__ import annotations

from typing import Annotated

import typer

from segpixel.commands import context
from segpixel.commands.output import JsonOpt, fail, print_json, usage


def export_pixel(
    segment_id: int,
    js: Annotated[bool, typer.Option("--js", help="JavaScript tag (the recommended form)")] = False,
    image: Annotated[bool, typer.Option("--image", help="Image tag (the default)")] = False,
    codes: Annotated[bool, typer.Option("--codes", help="Name the segment by its code")] = False,
    value: Annotated[str | None, typer.Option(help="A value for the segment")] = None,
    redir: Annotated[str | None, typer.Option(help="A pixel URL to chain")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Print a segment's pixel tag in the reference's form."""
    from segpixel.domain.tags import TaggedSegment, TagOptions, pixel_tag, pixel_url

    if js and image:
        raise usage("choose one of --js and --image")
    with context.api() as api:
        found = api.one("segment", segment_id)
        base = api.public_url()
    segment = TaggedSegment(found["id"], found["short_name"], found["code"], found["member_id"])
    if codes and not segment.code:
        raise fail(f"segment {segment_id} has no code; set one or drop --codes")
    options = TagOptions(javascript=js, use_codes=codes, value=value, redir=redir)
    if as_json:
        url = pixel_url(base, [segment], options)
        print_json(
            {"segment_id": segment.id, "url": url, "tag": pixel_tag(base, [segment], options)}
        )
    else:
        print(pixel_tag(base, [segment], options))
