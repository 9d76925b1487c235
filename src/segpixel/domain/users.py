"""API and console users: names, passwords and role consistency (SPEC §1.1, §2)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from segpixel.domain.access import ROLES
from segpixel.domain.errors import FieldError, field_error

USERNAME_RE = re.compile(r"[A-Za-z0-9_.@-]{1,100}")
PASSWORD_MIN_LEN = 8
PASSWORD_MAX_LEN = 256


@dataclass(frozen=True, slots=True)
class UserDraft:
    username: str
    role: str
    member_id: int | None = None
    advertiser_id: int | None = None


def user_errors(draft: UserDraft) -> list[FieldError]:
    errors: list[FieldError] = []
    if not draft.username or not USERNAME_RE.fullmatch(draft.username):
        errors.append(
            field_error(
                "username",
                "must be 1 to 100 characters, each a letter, a digit or one of _ . @ -",
            )
        )
    if draft.role not in ROLES:
        errors.append(
            field_error("role", f"must be 'admin', 'member' or 'advertiser' (got {draft.role!r})")
        )
    elif draft.role == "admin" and (draft.member_id or draft.advertiser_id):
        errors.append(field_error("role", "'admin' takes neither member_id nor advertiser_id"))
    elif draft.role in ("member", "advertiser") and draft.member_id is None:
        errors.append(field_error("member_id", f"is required for role {draft.role!r}"))
    if draft.role == "advertiser" and draft.advertiser_id is None:
        errors.append(field_error("advertiser_id", "is required for role 'advertiser'"))
    if draft.role == "member" and draft.advertiser_id is not None:
        errors.append(field_error("advertiser_id", "must not be set for role 'member'"))
    return errors


def password_errors(password: str) -> list[FieldError]:
    if PASSWORD_MIN_LEN <= len(password) <= PASSWORD_MAX_LEN:
        return []
    return [
        field_error(
            "password",
            f"must be {PASSWORD_MIN_LEN} to {PASSWORD_MAX_LEN} characters (got {len(password)})",
        )
    ]
