"""Pixel tags in the reference's exact form, for `segpixel export-pixel` and the console."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True, slots=True)
class TagOptions:
    javascript: bool = False
    use_codes: bool = False
    value: str | None = None  # one value for every added segment (`value=`), may be a macro
    redir: str | None = None
    also_add: tuple[str, ...] = ()  # further segment ids (or codes) added on the call
    remove: tuple[str, ...] = ()  # segment ids (or codes) removed on the call


@dataclass(frozen=True, slots=True)
class TaggedSegment:
    id: int
    name: str
    code: str | None = None
    member_id: int | None = None
    value: str | None = None  # a per-segment value, written `ID:VALUE`


def pixel_url(base_url: str, segments: list[TaggedSegment], options: TagOptions) -> str:
    params = []
    if options.use_codes:
        items = [_item(s.code or "", s.value) for s in segments] + list(options.also_add)
        params.append(f"add_code={','.join(items)}")
        member_ids = {s.member_id for s in segments}
        params.append(f"member={member_ids.pop() if len(member_ids) == 1 else ''}")
        if options.remove:
            params.append(f"remove_code={','.join(options.remove)}")
    else:
        items = [_item(str(s.id), s.value) for s in segments] + list(options.also_add)
        params.append(f"add={','.join(items)}")
        if options.remove:
            params.append(f"remove={','.join(options.remove)}")
    if options.value:
        params.append(f"value={quote(options.value, safe='[]$_{}')}")
    if options.redir:
        params.append(f"redir={quote(options.redir, safe='')}")
    params.append("t=1" if options.javascript else "t=2")
    return f"{base_url.rstrip('/')}/seg?{'&'.join(params)}"


def pixel_tag(base_url: str, segments: list[TaggedSegment], options: TagOptions) -> str:
    """`<!-- Segment Pixel - NAME - DO NOT MODIFY -->`, the tag, `<!-- End of Segment Pixel -->`."""
    url = pixel_url(base_url, segments, options)
    names = ", ".join(_comment_safe(s.name) for s in segments)
    if options.javascript:
        tag = f'<script src="{_attr_safe(url)}" type="text/javascript"></script>'
    else:
        tag = f'<img src="{_attr_safe(url)}" width="1" height="1" />'
    return f"<!-- Segment Pixel - {names} - DO NOT MODIFY -->\n{tag}\n<!-- End of Segment Pixel -->"


def _item(key: str, value: str | None) -> str:
    return f"{key}:{value}" if value else key


def _comment_safe(name: str) -> str:
    # A name must not be able to end the HTML comment early, nor split its one-line header.
    name = name.replace(">", "&gt;").replace("\r", " ").replace("\n", " ")
    while "--" in name:  # one pass turns "---" into "- --"
        name = name.replace("--", "- -")
    return name


def _attr_safe(url: str) -> str:
    # Only a quote could break out of the attribute; & stays as the reference writes it.
    return url.replace('"', "%22").replace("<", "%3C").replace(">", "%3E")
