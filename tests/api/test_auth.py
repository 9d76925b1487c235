"""`/auth` and tokens (SPEC §2): logging in, sending the token back, expiry, logout, passwords."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from sqlalchemy import select, update

from segpixel.catalog.tables import ApiToken, User
from segpixel.catalog.users import TokenStore
from tests.helpers import ADMIN_PASSWORD, error_of

IDLE = 2 * 3600  # SPEC §2: a token lapses 2 hours after its last use…
MAX = 24 * 3600  # …and 24 hours after issue at the latest


def login_response(api, username: str, password: str) -> Any:
    return api.client.post("/auth", json={"auth": {"username": username, "password": password}})


def whoami(api, **headers: str) -> Any:
    """GET /auth with exactly these headers (no token added by the helper)."""
    return api.client.get("/auth", headers=headers)


def plant_token(catalog, username: str, issued_ago: float, used_ago: float | None = None) -> str:
    """A token of `username` issued `issued_ago` seconds ago and last used `used_ago` ago."""
    now = time.time()
    issued_at = now - issued_ago
    with catalog.session() as session:
        user = session.scalar(select(User).where(User.username == username))
        token = TokenStore(idle_seconds=IDLE, max_seconds=MAX).issue(session, user, now=issued_at)
        session.flush()
        if used_ago is not None:
            session.execute(
                update(ApiToken)
                .where(ApiToken.user_id == user.id, ApiToken.issued_at == int(issued_at))
                .values(last_used_at=int(now - used_ago))
            )
    return token


# -- logging in ------------------------------------------------------------------------------------


def test_login_with_the_right_password_gives_a_working_token(api):
    response = login_response(api, "admin", ADMIN_PASSWORD)
    assert response.status_code == 200, response.text
    body = response.json()["response"]
    assert body["status"] == "OK"
    token = body["token"]
    assert isinstance(token, str) and len(token) >= 20
    assert whoami(api, Authorization=token).status_code == 200
    # two logins give two different tokens, both valid
    other = login_response(api, "admin", ADMIN_PASSWORD).json()["response"]["token"]
    assert other != token
    assert whoami(api, Authorization=other).status_code == 200
    assert whoami(api, Authorization=token).status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_noauth_sentence(api):
    wrong = error_of(login_response(api, "admin", "not-the-password"), 401, "NOAUTH")
    unknown = error_of(login_response(api, "nobody-here", ADMIN_PASSWORD), 401, "NOAUTH")
    assert wrong == unknown, "the answer must not tell which of username or password is wrong"
    assert "password" in wrong.lower()
    # nearly right is still wrong: case matters in passwords, and an empty password is refused
    error_of(login_response(api, "admin", ADMIN_PASSWORD.upper()), 401, "NOAUTH")
    empty = login_response(api, "admin", "")
    assert empty.status_code in (400, 401), empty.text
    assert empty.json()["response"]["status"] == "error"


def test_login_body_must_have_the_auth_envelope(api):
    for body in ({}, {"username": "admin", "password": ADMIN_PASSWORD}, {"auth": {}}):
        response = api.client.post("/auth", json=body)
        error_of(response, 400, "SYNTAX")
    response = api.client.post("/auth", json={"auth": {"username": "admin"}})
    assert "password" in error_of(response, 400, "SYNTAX")


# -- sending the token back ------------------------------------------------------------------------


def test_token_is_accepted_bare_as_bearer_and_as_cookie(api):
    token = api.login().token
    forms = {
        "bare": {"Authorization": token},
        "Bearer": {"Authorization": f"Bearer {token}"},
        "bearer lower-case": {"Authorization": f"bearer {token}"},
        "cookie": {"Cookie": f"segpixel_token={token}"},
    }
    for form, headers in forms.items():
        response = whoami(api, **headers)
        assert response.status_code == 200, f"{form}: {response.text}"
        assert response.json()["response"]["user"]["username"] == "admin", form
    # the token works for the services too, not only for /auth
    response = api.client.get("/member", headers={"Cookie": f"segpixel_token={token}"})
    assert response.status_code == 200, response.text


def test_missing_or_garbage_tokens_are_noauth(api):
    api.login()  # there is a valid token around; none of these is it
    error_of(whoami(api), 401, "NOAUTH")
    garbage = [
        "garbage",
        "Bearer garbage",
        "Bearer",
        "x" * 10 * 1024,
        "Bearer " + "y" * 10 * 1024,
        "Basic YWRtaW46YWRtaW4=",
    ]
    for value in garbage:
        response = whoami(api, Authorization=value)
        error_of(response, 401, "NOAUTH")
    error_of(whoami(api, Cookie="segpixel_token=garbage"), 401, "NOAUTH")
    error_of(whoami(api, Cookie="segpixel_token=" + "z" * 4000), 401, "NOAUTH")
    # every service answers NOAUTH without a token, in the envelope
    for path in ("/member", "/advertiser", "/usersync-pixel", "/user", "/segment"):
        sentence = error_of(api.client.get(path), 401, "NOAUTH")
        assert "auth" in sentence.lower(), sentence
    error_of(api.client.post("/member", json={"member": {"name": "x"}}), 401, "NOAUTH")
    error_of(api.client.delete("/member?id=1"), 401, "NOAUTH")


# -- expiry ----------------------------------------------------------------------------------------


def test_token_idle_for_more_than_two_hours_has_expired(api, catalog):
    token = plant_token(catalog, "admin", issued_ago=IDLE + 120, used_ago=IDLE + 60)
    sentence = error_of(whoami(api, Authorization=token), 401, "NOAUTH")
    assert "expired" in sentence, sentence
    # still expired on the next try (expiry is not a one-off)
    error_of(whoami(api, Authorization=token), 401, "NOAUTH")


def test_token_issued_more_than_24_hours_ago_has_expired_even_if_used_recently(api, catalog):
    token = plant_token(catalog, "admin", issued_ago=MAX + 60, used_ago=60)
    sentence = error_of(whoami(api, Authorization=f"Bearer {token}"), 401, "NOAUTH")
    assert "expired" in sentence, sentence


def test_token_used_1h59_ago_still_works_and_its_use_slides_the_window(api, catalog):
    # issued 23 h 58 min ago (inside the hard limit), last used 1 h 59 min ago (inside idle)
    token = plant_token(catalog, "admin", issued_ago=MAX - 120, used_ago=IDLE - 60)
    response = whoami(api, Authorization=token)
    assert response.status_code == 200, response.text
    assert response.json()["response"]["user"]["username"] == "admin"
    with catalog.session() as session:
        last_used = session.scalars(
            select(ApiToken.last_used_at).where(ApiToken.issued_at < time.time() - 3600)
        ).all()
    assert any(abs(time.time() - t) < 120 for t in last_used), (
        f"using the token must refresh its last use (idle window slides); got {last_used}"
    )


def test_expiry_applies_to_cookie_tokens_too(api, catalog):
    token = plant_token(catalog, "admin", issued_ago=IDLE + 600)
    sentence = error_of(whoami(api, Cookie=f"segpixel_token={token}"), 401, "NOAUTH")
    assert "expired" in sentence, sentence


# -- logout, password change -----------------------------------------------------------------------


def test_delete_auth_logs_out_only_that_token(api):
    first = api.login()
    second = api.login()
    response = first.delete("/auth")
    assert response.status_code == 200, response.text
    assert response.json()["response"]["status"] == "OK"
    error_of(first.get("/auth"), 401, "NOAUTH")
    error_of(first.get("/member"), 401, "NOAUTH")
    error_of(first.delete("/auth"), 401, "NOAUTH")  # logging out twice: the token is gone
    assert second.get("/auth").status_code == 200, "other sessions of the user stay open"


def test_logout_with_bearer_and_cookie_forms(api):
    token = api.login().token
    response = api.client.delete("/auth", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    error_of(whoami(api, Authorization=token), 401, "NOAUTH")
    token = api.login().token
    response = api.client.delete("/auth", headers={"Cookie": f"segpixel_token={token}"})
    assert response.status_code == 200, response.text
    error_of(whoami(api, Authorization=token), 401, "NOAUTH")


def test_changing_a_password_revokes_the_users_tokens(api):
    admin = api.login()
    member = admin.make_member()
    alice = admin.make_user("alice", "member", "first-password", member_id=member["id"])
    user_id = alice.ok("GET", "/auth")["user"]["id"]
    # a change that is not the password leaves sessions open
    admin.ok("PUT", f"/user?id={user_id}", {"user": {"username": "alice2"}})
    assert alice.get("/auth").status_code == 200
    admin.ok("PUT", f"/user?id={user_id}", {"user": {"password": "second-password"}})
    sentence = error_of(alice.get("/auth"), 401, "NOAUTH")
    assert sentence
    error_of(login_response(api, "alice2", "first-password"), 401, "NOAUTH")
    assert api.login("alice2", "second-password").get("/auth").status_code == 200
    # the admin who made the change is still logged in
    assert admin.get("/auth").status_code == 200


# -- who am I --------------------------------------------------------------------------------------


def test_get_auth_says_who_you_are(api):
    admin = api.login()
    me = admin.ok("GET", "/auth")["user"]
    assert me["username"] == "admin"
    assert me["role"] == "admin"
    assert me["member_id"] is None and me["advertiser_id"] is None
    assert isinstance(me["id"], int)
    member = admin.make_member()
    advertiser = admin.make_advertiser(member["id"])
    bob = admin.make_user(
        "bob", "advertiser", member_id=member["id"], advertiser_id=advertiser["id"]
    )
    who = bob.ok("GET", "/auth")["user"]
    assert who["username"] == "bob"
    assert who["role"] == "advertiser"
    assert who["member_id"] == member["id"]
    assert who["advertiser_id"] == advertiser["id"]
    assert who["id"] != me["id"]


# -- passwords are never shown, and stored as scrypt hashes ---------------------------------------


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_the_password_is_never_returned(api, catalog):
    admin = api.login()
    member = admin.make_member()
    password = "very-secret-password-42"
    bodies = [
        admin.post(
            "/user",
            {
                "user": {
                    "username": "carol",
                    "password": password,
                    "role": "member",
                    "member_id": member["id"],
                }
            },
        )
    ]
    user_id = bodies[0].json()["response"]["user"]["id"]
    carol = api.login("carol", password)
    bodies += [
        login_response(api, "carol", password),
        carol.get("/auth"),
        carol.get("/user"),
        carol.get(f"/user?id={user_id}"),
        admin.get("/user"),
        admin.get(f"/user?id={user_id}"),
        admin.get(f"/user?id={user_id},1"),
        admin.put(f"/user?id={user_id}", {"user": {"password": password + "-new"}}),
        admin.put(f"/user?id={user_id}", {"user": {"username": "carol"}}),
        admin.get(f"/member?id={member['id']}"),
    ]
    with catalog.session() as session:
        stored_hash = session.scalar(select(User.password_hash).where(User.id == user_id))
    for response in bodies:
        assert response.status_code == 200, response.text
        assert password not in response.text, response.text
        assert ADMIN_PASSWORD not in response.text, response.text
        assert stored_hash not in response.text and "scrypt" not in response.text
        keys = {k.lower() for k in _keys(response.json())}
        assert not any("password" in k or "hash" in k for k in keys), keys
    # nor in a validation error about it
    response = admin.post(
        "/user",
        {
            "user": {
                "username": "dave",
                "password": "short",
                "role": "member",
                "member_id": member["id"],
            }
        },
    )
    assert "password" in error_of(response, 400, "SYNTAX")
    assert '"short"' not in response.text and "'short'" not in response.text


def _scrypt_matches(password: str, stored: str) -> bool:
    scheme, n, r, p, salt, digest = stored.split("$")
    assert scheme == "scrypt"
    expected = base64.b64decode(digest)
    actual = hashlib.scrypt(
        password.encode(),
        salt=base64.b64decode(salt),
        n=int(n),
        r=int(r),
        p=int(p),
        dklen=len(expected),
        maxmem=128 * 1024 * 1024,
    )
    return hmac.compare_digest(actual, expected)


def test_stored_passwords_are_salted_scrypt_hashes(api, catalog):
    admin = api.login()
    member = admin.make_member()
    password = "same-password-for-both"
    for name in ("erin", "frank"):
        admin.ok(
            "POST",
            "/user",
            {
                "user": {
                    "username": name,
                    "password": password,
                    "role": "member",
                    "member_id": member["id"],
                }
            },
        )
    with catalog.session() as session:
        rows = dict(session.execute(select(User.username, User.password_hash)).all())
    assert set(rows) == {"admin", "erin", "frank"}
    for name, stored in rows.items():
        assert stored.startswith("scrypt$"), f"{name}: {stored[:20]!r} is not an scrypt hash"
        assert password not in stored and ADMIN_PASSWORD not in stored
        n = int(stored.split("$")[1])
        assert n >= 2**14, f"scrypt cost N={n} is too low"
    assert rows["erin"] != rows["frank"], "hashes must be salted"
    assert _scrypt_matches(password, rows["erin"])
    assert _scrypt_matches(ADMIN_PASSWORD, rows["admin"])
    assert not _scrypt_matches(password + "x", rows["erin"])
    # the token table holds no usable token either: only digests
    token = api.login("erin", password).token
    with catalog.session() as session:
        stored_tokens = session.scalars(select(ApiToken.token_hash)).all()
    assert token not in stored_tokens
    assert all(token not in json.dumps(t) for t in stored_tokens)
