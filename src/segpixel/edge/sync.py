"""ID sync endpoints (SPEC §4.4): `/getuid`, `/setuid`, `/mapuid`."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

from segpixel.domain.members import host_allowed
from segpixel.domain.pixel import parse_pixel_call
from segpixel.domain.pixel_plan import plan_items
from segpixel.domain.profile import Mutation
from segpixel.edge.cookie import read_identity
from segpixel.edge.http import GIF, GIF_TYPE, NO_STORE, Receive, Request, Scope, Send, respond
from segpixel.edge.runtime import EdgeRuntime
from segpixel.edge.visitor import identify, response_headers, write

PARTNER_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MAX_PARTNER_UID = 256
URL_SAFE = ":/?#[]@!$&'()*+,;=%~"


async def gif(send: Send, headers: list, status: int = 200) -> None:  # type: ignore[type-arg]
    await respond(send, status, [*headers, GIF_TYPE], GIF)


class GetUidHandler:
    """`/getuid?URL`: 302 to URL with `$UID` replaced by our id (0 without cookie or opted out).

    Only to hosts the catalog knows (a usersync partner's, or a member's redirect allow-list):
    anything else would make us an open redirect.
    """

    def __init__(self, runtime: EdgeRuntime):
        self.rt = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("query_string", b"").decode("latin-1")
        url = unquote(raw) if raw[:8].lower().startswith(("http%3a", "https%3a")) else raw
        identity = read_identity(Request(scope).header(b"cookie"), self.rt.cookie_name)
        uid = str(identity.user_id or 0)
        reason = self._refusal(url)
        if reason:
            await gif(send, [NO_STORE, (b"x-segpixel-warning", reason.encode())])
            return
        target = url.replace("${UID}", uid).replace("$UID", uid)
        location = quote(target, safe=URL_SAFE).encode("ascii")
        await respond(send, 302, [NO_STORE, (b"location", location)])

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
        view = self.rt.snapshot.current
        partner_hosts = {
            (urlsplit(p.url).hostname or "").lower() for ps in view.usersyncs.values() for p in ps
        }
        if host in partner_hosts or any(
            host_allowed(host, m.redirect_domains) for m in view.members.values() if m.active
        ):
            return None
        return f"getuid: host {host!r} is neither a usersync partner nor on a redirect allow-list"


class SetUidHandler:
    """`/setuid?partner=P&uid=X`: remember the partner's id for this browser; answers a GIF."""

    def __init__(self, runtime: EdgeRuntime):
        self.rt = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        visitor = identify(self.rt, request)
        partner = request.query.get("partner", "")
        partner_uid = request.query.get("uid", "")
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
