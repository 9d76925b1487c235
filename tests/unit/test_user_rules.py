"""API and console users: names, roles consistent with their ids, passwords (SPEC §1.1, §2)."""

from __future__ import annotations

from typing import Any

import pytest

from segpixel.domain.access import ROLES
from segpixel.domain.users import (
    PASSWORD_MAX_LEN,
    PASSWORD_MIN_LEN,
    UserDraft,
    password_errors,
    user_errors,
)


def found(errors: list[Any]) -> list[tuple[str, str]]:
    return [(e.field, e.message) for e in errors]


def test_the_three_roles() -> None:
    assert ROLES == ("admin", "member", "advertiser")


@pytest.mark.parametrize(
    ("draft", "expected"),
    [
        # consistent roles
        pytest.param(UserDraft("root", "admin"), [], id="admin"),
        pytest.param(UserDraft("ops", "member", member_id=1), [], id="member"),
        pytest.param(
            UserDraft("buyer", "advertiser", member_id=1, advertiser_id=10), [], id="advertiser"
        ),
        # role itself
        pytest.param(
            UserDraft("x", "boss"),
            [("role", "role must be 'admin', 'member' or 'advertiser' (got 'boss')")],
            id="unknown-role",
        ),
        pytest.param(
            UserDraft("x", "Admin"),
            [("role", "role must be 'admin', 'member' or 'advertiser' (got 'Admin')")],
            id="role-case-matters",
        ),
        pytest.param(
            UserDraft("x", ""),
            [("role", "role must be 'admin', 'member' or 'advertiser' (got '')")],
            id="empty-role",
        ),
        # admin takes no ids
        pytest.param(
            UserDraft("x", "admin", member_id=1),
            [("role", "role 'admin' takes neither member_id nor advertiser_id")],
            id="admin-with-member",
        ),
        pytest.param(
            UserDraft("x", "admin", advertiser_id=10),
            [("role", "role 'admin' takes neither member_id nor advertiser_id")],
            id="admin-with-advertiser",
        ),
        # member: a member and no advertiser
        pytest.param(
            UserDraft("x", "member"),
            [("member_id", "member_id is required for role 'member'")],
            id="member-without-member",
        ),
        pytest.param(
            UserDraft("x", "member", member_id=1, advertiser_id=10),
            [("advertiser_id", "advertiser_id must not be set for role 'member'")],
            id="member-with-advertiser",
        ),
        # advertiser: both
        pytest.param(
            UserDraft("x", "advertiser", member_id=1),
            [("advertiser_id", "advertiser_id is required for role 'advertiser'")],
            id="advertiser-without-advertiser",
        ),
        pytest.param(
            UserDraft("x", "advertiser", advertiser_id=10),
            [("member_id", "member_id is required for role 'advertiser'")],
            id="advertiser-without-member",
        ),
        pytest.param(
            UserDraft("x", "advertiser"),
            [
                ("member_id", "member_id is required for role 'advertiser'"),
                ("advertiser_id", "advertiser_id is required for role 'advertiser'"),
            ],
            id="advertiser-without-either",
        ),
    ],
)
def test_role_consistency(draft: UserDraft, expected: list[tuple[str, str]]) -> None:
    assert found(user_errors(draft)) == expected


USERNAME_RULE = "username must be 1 to 100 characters, each a letter, a digit or one of _ . @ -"


@pytest.mark.parametrize(
    ("username", "ok"),
    [
        pytest.param("a", True, id="one-char"),
        pytest.param("jane.doe@example.com", True, id="email"),
        pytest.param("ops_team-2", True, id="underscore-dash"),
        pytest.param("u" * 100, True, id="100-chars"),
        pytest.param("u" * 101, False, id="101-chars"),
        pytest.param("", False, id="empty"),
        pytest.param("jane doe", False, id="space"),
        pytest.param("jane\n", False, id="trailing-newline"),
        pytest.param("zoë", False, id="unicode"),
        pytest.param("a;b", False, id="semicolon"),
    ],
)
def test_username(username: str, ok: bool) -> None:
    errors = found(user_errors(UserDraft(username, "admin")))
    assert errors == ([] if ok else [("username", USERNAME_RULE)])


@pytest.mark.parametrize(
    ("length", "ok"),
    [
        pytest.param(0, False, id="empty"),
        pytest.param(7, False, id="7"),
        pytest.param(8, True, id="8"),
        pytest.param(256, True, id="256"),
        pytest.param(257, False, id="257"),
    ],
)
def test_password_length(length: int, ok: bool) -> None:
    assert (PASSWORD_MIN_LEN, PASSWORD_MAX_LEN) == (8, 256)
    errors = found(password_errors("p" * length))
    if ok:
        assert errors == []
    else:
        assert errors == [("password", f"password must be 8 to 256 characters (got {length})")]


def test_a_null_username_is_an_error_not_a_crash() -> None:
    # Found by the API fuzzer: PUT /user {"user": {"username": null}} answered 500.
    errors = user_errors(UserDraft(username=None, role="admin"))  # type: ignore[arg-type]
    assert [e.field for e in errors] == ["username"]
