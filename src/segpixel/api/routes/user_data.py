"""`DELETE /user-data?id=UID`: erase one browser's data (SPEC §3.5).

The SPEC writes this as `DELETE /user?id=UID`, but `/user` is also the service of API users
(SPEC §2), where `DELETE /user?id=N` deletes user N; to keep the two apart, a visitor's data lives
under `/user-data`. An admin erases the whole profile; a member user removes its own member's
segments from it (another member's data is not its to delete).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from segpixel.api.deps import CallerDep, UserIdParam
from segpixel.api.envelope import ok
from segpixel.errors import Forbidden, StoreUnavailable

router = APIRouter(tags=["user-data"])


@router.delete("/user-data", summary="Erase a browser's segment data (admin: all of it)")
async def delete_user_data(caller: CallerDep, id: UserIdParam) -> dict[str, Any]:
    runtime = caller.state.runtime
    if runtime is None:
        raise StoreUnavailable("this server has no profile store")
    principal = caller.principal
    if principal.is_admin:
        await runtime.store.delete_user(id)
        return ok({"id": str(id), "deleted": "all"})
    if principal.role != "member" or principal.member_id is None:
        raise Forbidden("only an admin or a member user may erase a browser's data")
    view = await runtime.fresh_view()
    profile = await runtime.store.read(id, runtime.clock())
    mine = tuple(
        m.segment_id
        for m in profile.memberships
        if (s := view.segment(m.segment_id)) is not None and s.member_id == principal.member_id
    )
    if mine:  # with them, the load counters' records of this user and these segments
        await runtime.store.delete_user(id, mine)
    return ok({"id": str(id), "deleted": "member", "segments_removed": len(mine)})
