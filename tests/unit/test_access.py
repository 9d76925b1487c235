"""Who sees and changes what (SPEC §1.1): tenant isolation and roles as a truth table.

Member 1 has advertisers 10 and 11; member 2 has advertiser 20. The member user belongs to member
1; the advertiser user is advertiser 10 of member 1.
"""

from __future__ import annotations

import pytest

from segpixel.domain.access import Principal

ADMIN = Principal(1, "root", "admin")
MEMBER = Principal(2, "ops", "member", member_id=1)
ADVERTISER = Principal(3, "buyer", "advertiser", member_id=1, advertiser_id=10)
PRINCIPALS = {"admin": ADMIN, "member": MEMBER, "advertiser": ADVERTISER}

# question → (admin, member user, advertiser user)
TABLE = [
    # the member itself
    ("sees_member", (1,), (True, True, True), "own-member"),
    ("sees_member", (2,), (True, False, False), "other-member"),
    ("manages_member", (1,), (True, True, False), "manage-own-member"),
    ("manages_member", (2,), (True, False, False), "manage-other-member"),
    # advertisers
    ("sees_advertiser", (1, 10), (True, True, True), "own-advertiser"),
    ("sees_advertiser", (1, 11), (True, True, False), "sibling-advertiser"),
    ("sees_advertiser", (2, 20), (True, False, False), "other-members-advertiser"),
    ("sees_advertiser", (2, 10), (True, False, False), "same-id-other-member"),
    ("manages_advertiser", (1,), (True, True, False), "manage-advertisers-of-own-member"),
    ("manages_advertiser", (2,), (True, False, False), "manage-advertisers-of-other-member"),
    # segments: member level (advertiser None) and advertiser level
    ("sees_segment", (1, None), (True, True, True), "member-level-segment"),
    ("sees_segment", (1, 10), (True, True, True), "own-advertiser-segment"),
    ("sees_segment", (1, 11), (True, True, False), "sibling-advertiser-segment"),
    ("sees_segment", (2, None), (True, False, False), "other-member-level-segment"),
    ("sees_segment", (2, 20), (True, False, False), "other-member-advertiser-segment"),
    ("sees_segment", (2, 10), (True, False, False), "same-advertiser-id-other-member"),
    ("changes_segment", (1, None), (True, True, False), "change-member-level-segment"),
    ("changes_segment", (1, 10), (True, True, True), "change-own-advertiser-segment"),
    ("changes_segment", (1, 11), (True, True, False), "change-sibling-segment"),
    ("changes_segment", (2, None), (True, False, False), "change-other-member-segment"),
    ("changes_segment", (2, 20), (True, False, False), "change-other-advertiser-segment"),
    ("changes_segment", (2, 10), (True, False, False), "change-same-id-other-member"),
]


@pytest.mark.parametrize(
    ("role", "question", "args", "expected"),
    [
        pytest.param(role, question, args, answers[i], id=f"{role}-{name}")
        for question, args, answers, name in TABLE
        for i, role in enumerate(PRINCIPALS)
    ],
)
def test_access_table(role: str, question: str, args: tuple, expected: bool) -> None:
    assert getattr(PRINCIPALS[role], question)(*args) is expected


@pytest.mark.parametrize(
    ("principal", "is_admin"),
    [
        pytest.param(ADMIN, True, id="admin"),
        pytest.param(MEMBER, False, id="member"),
        pytest.param(ADVERTISER, False, id="advertiser"),
    ],
)
def test_is_admin(principal: Principal, is_admin: bool) -> None:
    assert principal.is_admin is is_admin


def test_an_advertiser_user_without_an_advertiser_changes_nothing() -> None:
    """Defence in depth: such a user cannot be created (users.py), but if it existed it must not
    pass for the owner of member-level segments (advertiser_id None == None)."""
    broken = Principal(4, "half", "advertiser", member_id=1, advertiser_id=None)
    assert not broken.changes_segment(1, None), (
        "an advertiser principal with advertiser_id=None may change member-level segments"
    )
