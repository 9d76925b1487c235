"""ID sync endpoints (SPEC §4.4): `/getuid`, `/getuidj`, `/getuidp`, `/setuid`, `/mapuid`."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

import orjson

from segpixel.domain.members import host_allowed
from segpixel.domain.pixel import parse_pixel_call
from segpixel.domain.pixel_plan import plan_items
from segpixel.domain.profile import Mutation
from segpixel.domain.usersync import with_uid
from segpixel.edge.cookie import read_identity
from segpixel.edge.http import (
    GIF,
    GIF_TYPE,
    JS_TYPE,
    JSON_TYPE,
    NO_STORE,
    Receive,
    Request,
    Scope,
    Send,
    respond,
)
from segpixel.edge.runtime import EdgeRuntime
from segpixel.edge.visitor import identify, response_headers, write

PARTNER_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
JS_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]{0,63}")
MAX_PARTNER_UID = 256
URL_SAFE = ":/?#[]@!$&'()*+,;=%~"


async def gif(send: Send, headers: list, status: int = 200) -> None:  # type: ignore[type-arg]
    await respond(send, status, [*headers, GIF_TYPE], GIF)


class GetUidHandler:
    """`/getuid?URL`: 302 to URL with `$UID` / `${UID}` replaced by our id — or the id appended
    when the URL has neither, as the reference does (`0` without a cookie or when opted out).

    Only to hosts the catalog knows (a usersync partner's, or a member's redirect allow-list):
    anything else would make us an open redirect.
    """

    def __init__(self, runtime: EdgeRuntime):
        self.rt = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("query_string", b"").decode("latin-1")
        url = unquote(raw) if raw[:8].lower().startswith(("http%3a", "https%3a")) else raw
        uid = self._uid(scope)
        reason = self._refusal(url)
        if reason:
            await gif(send, [NO_STORE, (b"x-segpixel-warning", reason.encode())])
            return
        location = quote(with_uid(url, uid), safe=URL_SAFE).encode("ascii")
        await respond(send, 302, [NO_STORE, (b"location", location)])

    def _uid(self, scope: Scope) -> str:
        identity = read_identity(Request(scope).header(b"cookie"), self.rt.cookie_name)
        return str(identity.user_id or 0)

    def _refusal(self, url: str) -> str | None:
        if any(ch.isspace() or ord(ch) < 32 for ch in url):
            return "getuid: the URL must not contain spaces or control characters"
        try:
            parts = urlsplit(url)
        except ValueError:
            return "getuid: not a URL"
        host = (parts.hostname or "").lower()
        if parts.scheme.lower() not in ("http", "https") or not host:
            return "getuid: the URL must be an absolute http(s) URL"
        if self._host_allowed(host):
            return None
        return f"getuid: host {host!r} is neither a usersync partner nor on a redirect allow-list"

    def _host_allowed(self, host: str) -> bool:
        """A usersync partner's host, or one on an active member's redirect allow-list."""
        view = self.rt.snapshot.current
        partner_hosts = {
            (urlsplit(p.url).hostname or "").lower() for ps in view.usersyncs.values() for p in ps
        }
        return host in partner_hosts or any(
            host_allowed(host, m.redirect_domains) for m in view.members.values() if m.active
        )

    def _origin_allowed(self, origin: bytes | None) -> bool:
        """An `Origin` / `Referer` whose host `/getuid` would redirect to."""
        if not origin:
            return False
        try:
            parts = urlsplit(origin.decode("latin-1"))
        except ValueError:
            return False
        host = (parts.hostname or "").lower()
        return parts.scheme.lower() in ("http", "https") and bool(host) and self._host_allowed(host)


class GetUidJsonHandler(GetUidHandler):
    """`/getuidj`: `{"uid": "…"}` (a string: JavaScript numbers hold 53 bits, our ids 63).

    Readable by another site only through CORS, and only for the origins `/getuid` would redirect
    to (with credentials, so the browser sends our cookie); any other page gets the answer its
    browser will not let it read.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = Request(scope).header(b"origin")
        headers = [NO_STORE, JSON_TYPE, (b"vary", b"Origin")]
        if origin is not None and self._origin_allowed(origin):
            headers += [
                (b"access-control-allow-origin", origin),
                (b"access-control-allow-credentials", b"true"),
            ]
        await respond(send, 200, headers, orjson.dumps({"uid": self._uid(scope)}))


class GetUidJsonpHandler(GetUidHandler):
    """`/getuidp?callback=NAME`: `NAME({"uid": "…"})`.

    A script any page may load, so the id is given only to the pages `/getuidj` would answer:
    the request's `Referer` (or `Origin`) must be a host `/getuid` redirects to; any other page
    gets `"0"`, as a browser without our cookie would. NAME must be a JavaScript identifier.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        callback = request.query.get("callback", "")
        headers = [NO_STORE, JS_TYPE, (b"x-content-type-options", b"nosniff")]
        if not JS_IDENTIFIER.fullmatch(callback):
            reason = b"getuidp: callback must be a JavaScript identifier"
            await respond(send, 200, [*headers, (b"x-segpixel-warning", reason)], b"")
            return
        page = request.header(b"referer") or request.header(b"origin")
        uid = "0"
        if self._origin_allowed(page):
            uid = self._uid(scope)
        else:
            headers.append(
                (b"x-segpixel-warning", b"getuidp: the calling page's host is not allowed")
            )
        body = b"/**/" + callback.encode() + b"(" + orjson.dumps({"uid": uid}) + b");"
        await respond(send, 200, headers, body)


class SetUidHandler:
    """`/setuid?partner=P&uid=X` (or the reference's `entity=P&code=X`): remember the
    partner's id for this browser; answers a GIF."""

    def __init__(self, runtime: EdgeRuntime):
        self.rt = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        visitor = identify(self.rt, request)
        # Ours (`partner`, `uid`) or the reference's names (`entity`, `code`).
        partner = request.query.get("partner") or request.query.get("entity", "")
        partner_uid = request.query.get("uid") or request.query.get("code", "")
        warnings: list[str] = []
        if not PARTNER_RE.fullmatch(partner):
            warnings.append("setuid: partner must be 1-64 of A-Z a-z 0-9 _ . -")
        elif not partner_uid or len(partner_uid) > MAX_PARTNER_UID:
            warnings.append(f"setuid: uid must be 1-{MAX_PARTNER_UID} characters")
        elif visitor.block is not None:
            warnings.append(f"nothing stored: {visitor.block}")
        elif visitor.user_id is not None:
            mutation = Mutation(
                visitor.user_id, int(self.rt.clock()), partner_uids=((partner, partner_uid),)
            )
            result = await write(self.rt, mutation)
            if result.lost:
                warnings.append(result.lost)
                await gif(send, response_headers(self.rt, request, visitor, warnings), 503)
                return
        await gif(send, response_headers(self.rt, request, visitor, warnings))


class MapUidHandler:
    """`/mapuid?member=M&user=X&seg=1,2:5` (or `seg_code=`): the member's own id X for this
    browser, and the listed segments of member M added (no piggyback, no usersync)."""

    def __init__(self, runtime: EdgeRuntime):
        self.rt = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        q = request.query
        visitor = identify(self.rt, request)
        call = parse_pixel_call(
            {
                "member": q.get("member", ""),
                "add": q.get("seg", ""),
                "add_code": q.get("seg_code", ""),
            }
        )
        warnings = list(call.warnings)
        member_uid = q.get("user", "")
        if call.member is None:
            warnings.append("mapuid: member is required")
            await gif(send, response_headers(self.rt, request, visitor, warnings))
            return
        now = int(self.rt.clock())
        items = plan_items(call, self.rt.snapshot.current, now, only_member=call.member)
        warnings += [
            f"add {o.segment_id or o.code}: {o.reason}" for o in items.outcomes if not o.accepted
        ]
        mapped: tuple[tuple[str, str], ...] = ()
        if member_uid and len(member_uid) <= MAX_PARTNER_UID:
            mapped = ((f"member:{call.member}", member_uid),)
        else:
            warnings.append(f"mapuid: user must be 1-{MAX_PARTNER_UID} characters")
        status = 200
        if visitor.block is not None:
            warnings.append(f"nothing stored: {visitor.block}")
        elif visitor.user_id is not None and (items.adds or items.call_only or mapped):
            mutation = Mutation(
                visitor.user_id, now, items.adds, (), (), mapped, "mapuid", items.call_only
            )
            result = await write(self.rt, mutation)
            if result.lost:
                warnings.append(result.lost)
                status = 503
            else:
                accepted = sum(1 for o in items.outcomes if o.accepted)
                if accepted:
                    self.rt.metrics.adds.inc(accepted, source="mapuid")
        await gif(send, response_headers(self.rt, request, visitor, warnings), status)
