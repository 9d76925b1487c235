"""API and console users, their passwords and their tokens (SPEC §1.1, §2)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, delete, false, func, select
from sqlalchemy.orm import Session

from segpixel.catalog.advertisers import AdvertiserRepo
from segpixel.catalog.members import MemberRepo
from segpixel.catalog.passwords import generate_password, hash_password, verify_password
from segpixel.catalog.repo import Repo, fmt_time, utcnow
from segpixel.catalog.tables import ApiToken, User
from segpixel.domain.access import Principal
from segpixel.domain.errors import ValidationFailed, field_error, raise_if_any
from segpixel.domain.users import UserDraft, password_errors, user_errors
from segpixel.errors import Conflict, Forbidden, Unauthenticated

FIELDS = ("username", "role", "member_id", "advertiser_id")
TOKENS_PER_USER = 100  # live tokens a user keeps; a login beyond ends the oldest


class UserRepo(Repo[User]):
    model = User
    noun = "user"

    def __init__(
        self, session: Session, principal: Principal, hasher: Callable[[str], str] = hash_password
    ):
        super().__init__(session, principal)
        self.hasher = hasher  # the server's bounded password pool (catalog.passwords)

    def scope(self, stmt: Select[Any]) -> Select[Any]:
        p = self.principal
        if p.is_admin:
            return stmt
        if p.role == "member" and p.member_id is not None:
            return stmt.where(User.member_id == p.member_id)
        return stmt.where(User.id == p.user_id) if p.user_id else stmt.where(false())

    def query(self, *, ids: list[int] | None = None, member_id: int | None = None) -> Select[Any]:
        stmt = select(User)
        if ids:
            stmt = stmt.where(User.id.in_(ids))
        if member_id is not None:
            stmt = stmt.where(User.member_id == member_id)
        return stmt

    def create(self, fields: dict[str, Any]) -> User:
        p = self.principal
        values = {name: fields.get(name) for name in FIELDS}
        # (not for an admin: asking for one must be refused as UNAUTH, not as a field error)
        if p.role == "member" and values["member_id"] is None and values["role"] != "admin":
            values["member_id"] = p.member_id
        draft = UserDraft(
            username=values["username"] or "",
            role=values["role"] or "",
            member_id=values["member_id"],
            advertiser_id=values["advertiser_id"],
        )
        password = fields.get("password")
        if password is None:
            raise ValidationFailed([field_error("password", "is required")])
        row = User(active=True)
        self._store(row, draft, password)
        self.session.add(row)
        self.session.flush()
        return row

    def update(self, row: User, fields: dict[str, Any]) -> User:
        current = {name: getattr(row, name) for name in FIELDS}
        current.update({k: v for k, v in fields.items() if k in FIELDS})
        self._store(row, UserDraft(**current), fields.get("password"))
        self.session.flush()
        return row

    def delete(self, row: User) -> None:
        self._require_grant(UserDraft(row.username, row.role, row.member_id, row.advertiser_id))
        if row.id == self.principal.user_id:
            raise Conflict("you cannot delete the user you are logged in as")
        self.session.delete(row)
        self.session.flush()

    def _store(self, row: User, draft: UserDraft, password: str | None) -> None:
        errors = user_errors(draft) + (password_errors(password) if password is not None else [])
        raise_if_any(errors)
        self._require_grant(draft)
        if draft.member_id is not None:
            MemberRepo(self.session, self.principal).get(draft.member_id)
        if draft.advertiser_id is not None:
            advertiser = AdvertiserRepo(self.session, self.principal).get(draft.advertiser_id)
            if advertiser.member_id != draft.member_id:
                raise ValidationFailed(
                    [
                        field_error(
                            "advertiser_id", f"must be an advertiser of member {draft.member_id}"
                        )
                    ]
                )
        clash = self.session.scalar(
            select(User.id).where(User.username == draft.username, User.id != (row.id or 0))
        )
        if clash is not None:
            error = field_error("username", f"{draft.username!r} is already taken")
            raise Conflict(error.message, [error])
        self.apply(row, {name: getattr(draft, name) for name in FIELDS})
        if password is not None:
            row.password_hash = self.hasher(password)
            if row.id is not None:  # a new password ends the sessions opened with the old one
                self.session.execute(delete(ApiToken).where(ApiToken.user_id == row.id))

    def _require_grant(self, draft: UserDraft) -> None:
        """Admins grant anything; a member user manages its own member's non-admin users."""
        p = self.principal
        if p.is_admin:
            return
        if p.role == "member" and draft.role != "admin" and draft.member_id == p.member_id:
            return
        raise Forbidden("you may not create or change this user")


def user_out(row: User) -> dict[str, Any]:
    return {
        "id": row.id,
        "username": row.username,
        "role": row.role,
        "member_id": row.member_id,
        "advertiser_id": row.advertiser_id,
        "last_modified": fmt_time(row.last_modified),
    }


def principal_of(row: User) -> Principal:
    return Principal(row.id, row.username, row.role, row.member_id, row.advertiser_id)


def login_candidate(session: Session, username: str) -> tuple[User | None, str]:
    """The active user of that name and the hash to check the password against: a dummy one
    when there is no such user, so that a check costs the same either way (no user enumeration
    by timing)."""
    row = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    return row, row.password_hash if row is not None else _DUMMY_HASH


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user if the password is right (on this thread: for the command line and tests)."""
    row, stored = login_candidate(session, username)
    return row if verify_password(password, stored) and row is not None else None


_DUMMY_HASH = hash_password(secrets.token_urlsafe(12))


class TokenStore:
    """Opaque bearer tokens, stored hashed; they lapse after idle time and at a hard maximum."""

    def __init__(self, idle_seconds: int, max_seconds: int):
        self.idle_seconds = idle_seconds
        self.max_seconds = max_seconds

    def issue(self, session: Session, user: User, now: float) -> str:
        token = secrets.token_urlsafe(32)
        session.add(
            ApiToken(
                token_hash=_digest(token),
                user_id=user.id,
                issued_at=int(now),
                last_used_at=int(now),
            )
        )
        # Lapsed tokens of anyone are swept on login, and a user keeps TOKENS_PER_USER at most
        # (logins are limited too), so the table stays small.
        session.execute(
            delete(ApiToken).where(
                (ApiToken.last_used_at < now - self.idle_seconds)
                | (ApiToken.issued_at < now - self.max_seconds)
            )
        )
        newest = (
            select(ApiToken.token_hash)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.issued_at.desc(), ApiToken.token_hash)
            .limit(TOKENS_PER_USER)
        )
        session.execute(
            delete(ApiToken).where(ApiToken.user_id == user.id, ApiToken.token_hash.not_in(newest))
        )
        return token

    def resolve(self, session: Session, token: str, now: float) -> Principal:
        if not token or len(token) > 200:
            raise Unauthenticated("the token is missing or malformed; POST /auth to get one")
        stored = session.get(ApiToken, _digest(token))
        if stored is None:
            raise Unauthenticated("the token is not valid; POST /auth to get a new one")
        if (
            now - stored.last_used_at > self.idle_seconds
            or now - stored.issued_at > self.max_seconds
        ):
            session.delete(stored)
            raise Unauthenticated("the token has expired; POST /auth to get a new one")
        user = session.get(User, stored.user_id)
        if user is None or not user.active:
            raise Unauthenticated("the token's user no longer exists")
        if now - stored.last_used_at >= 60:  # one write a minute at most per token
            stored.last_used_at = int(now)
        return principal_of(user)

    def revoke(self, session: Session, token: str) -> None:
        session.execute(delete(ApiToken).where(ApiToken.token_hash == _digest(token)))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def ensure_admin(session: Session, password: str | None) -> str | None:
    """First start: with no users at all, create `admin`. Returns the password when generated."""
    if count_users(session):
        return None
    generated = None if password else generate_password()
    session.add(
        User(
            username="admin",
            password_hash=hash_password(password or generated or ""),
            role="admin",
            active=True,
            last_modified=utcnow(),
        )
    )
    return generated
