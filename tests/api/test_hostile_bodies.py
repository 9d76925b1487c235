"""Hostile and malformed requests (SPEC §2): always an error envelope, never a 500.

Bad JSON, wrong shapes and types, unknown fields, huge numbers, deep nesting, oversized and
chunked bodies, wrong content types, invalid UTF-8, NUL bytes, long query strings, bad ids;
unknown paths and methods; the OpenAPI document and the docs page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import error_of

MB = 1024 * 1024
STATUS = {"NOAUTH": 401, "UNAUTH": 403, "SYNTAX": 400, "INTEGRITY": 409, "NOTFOUND": 404}


def envelope_error(response: Any, *allowed: str) -> dict[str, Any]:
    """An error envelope, never a 500, with an error_id among `allowed` and its usual status."""
    assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}"
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()["response"]
    assert body["status"] == "error", body
    assert body["error_id"] in allowed, body
    assert isinstance(body["error"], str) and body["error"], body
    if response.status_code != 413 and body["error_id"] in STATUS:
        assert response.status_code == STATUS[body["error_id"]], (response.status_code, body)
    return body


def syntax(response: Any) -> str:
    return envelope_error(response, "SYNTAX")["error"]


def raw_post(
    api,
    path: str,
    content: bytes | Iterator[bytes],
    content_type: str | None = None,
    method: str = "POST",
) -> Any:
    headers = {"Authorization": api.token}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return api.client.request(method, path, content=content, headers=headers)


@pytest.fixture
def admin(api):
    return api.login()


@pytest.fixture
def member(admin):
    return admin.make_member()


# -- bodies that are not JSON, or not the JSON we expect -------------------------------------------


BAD_JSON = [
    b"",
    b"{",
    b"{'member': {'name': 'x'}}",
    b'{"member": {"name": "x"},}',
    b'{"member": {"name": "x"}} trailing',
    b"NaN",
    b'{"member": {"name": NaN}}',
    b"\xef\xbb\xbf{}",  # a BOM
    b"null",
    b"undefined",
    b"<member><name>x</name></member>",
]


def test_bad_json_is_syntax(admin):
    for content in BAD_JSON:
        for path in (
            "/member",
            "/advertiser?member_id=1",
            "/usersync-pixel?member_id=1",
            "/user",
            "/auth",
        ):
            response = raw_post(admin, path, content, "application/json")
            envelope_error(response, "SYNTAX")
    sentence = syntax(raw_post(admin, "/member", b"{", "application/json"))
    assert "JSON" in sentence, sentence


def test_json_that_is_not_an_object_is_syntax(admin, member):
    for body in ([], [{"member": {"name": "x"}}], "member", 42, 1.5, True, None):
        for path in ("/member", f"/advertiser?member_id={member['id']}", "/user", "/auth"):
            response = raw_post(admin, path, json.dumps(body).encode(), "application/json")
            envelope_error(response, "SYNTAX")


def test_missing_or_misspelled_envelope_key_is_syntax(admin, member):
    cases = {
        "/member": ({"name": "x"}, {"members": {"name": "x"}}, {"Member": {"name": "x"}}),
        f"/advertiser?member_id={member['id']}": (
            {"name": "x"},
            {"advertisers": {"name": "x"}},
        ),
        f"/usersync-pixel?member_id={member['id']}": (
            {"usersync_pixel": {"name": "x", "url": "https://a.example/"}},
            {"usersync-pixels": {"name": "x", "url": "https://a.example/"}},  # a list, in bulk
        ),
        "/user": ({"username": "x", "password": "password-123", "role": "admin"},),
        "/auth": ({"username": "admin", "password": "x"},),
    }
    for path, bodies in cases.items():
        key = path.split("?")[0].strip("/")
        for body in bodies:
            sentence = syntax(admin.post(path, body))
            assert key in sentence, (path, body, sentence)
    # the payload key must hold an object
    for value in ([], "x", 1, None, [{"name": "x"}]):
        sentence = syntax(admin.post("/member", {"member": value}))
        assert "member" in sentence, (value, sentence)


def test_wrong_types_name_the_field(admin, member):
    m = member["id"]
    cases = [
        ("/member", {"member": {"name": 5}}, "member.name"),
        ("/member", {"member": {"name": ["x"]}}, "member.name"),
        ("/member", {"member": {"name": {"first": "x"}}}, "member.name"),
        (
            "/member",
            {"member": {"name": "x", "redirect_domains": "a.example"}},
            "member.redirect_domains",
        ),
        ("/member", {"member": {"name": "x", "redirect_domains": [1]}}, "redirect_domains[0]"),
        ("/member", {"member": {"name": "x", "state": True}}, "member.state"),
        ("/member", {"member": {"name": "x", "dongle": 12345678}}, "member.dongle"),
        (
            f"/advertiser?member_id={m}",
            {"advertiser": {"name": "x", "member_id": "1"}},
            "member_id",
        ),
        (
            f"/advertiser?member_id={m}",
            {"advertiser": {"name": "x", "member_id": 1.5}},
            "member_id",
        ),
        (
            f"/advertiser?member_id={m}",
            {"advertiser": {"name": "x", "code": ["a"]}},
            "advertiser.code",
        ),
        (
            f"/usersync-pixel?member_id={m}",
            {"usersync-pixel": {"name": "x", "url": "https://a.example/", "priority": "high"}},
            "priority",
        ),
        (
            f"/usersync-pixel?member_id={m}",
            {"usersync-pixel": {"name": "x", "url": ["https://a.example/"]}},
            "url",
        ),
        (
            "/user",
            {"user": {"username": "u1", "password": "password-123", "role": ["admin"]}},
            "role",
        ),
        (
            "/user",
            {"user": {"username": 7, "password": "password-123", "role": "admin"}},
            "username",
        ),
        ("/auth", {"auth": {"username": "admin", "password": 123}}, "password"),
        ("/auth", {"auth": {"username": None, "password": "x"}}, "username"),
    ]
    for path, body, field in cases:
        sentence = syntax(admin.post(path, body))
        assert field in sentence, (body, sentence)
    assert admin.ok("GET", "/member")["count"] == 1


def test_unknown_fields_are_refused_top_level_and_nested(admin, member):
    m = member["id"]
    cases = [
        ("/member", {"member": {"name": "x"}, "extra": 1}, "extra"),
        ("/member", {"member": {"name": "x", "extra": 1}}, "member.extra"),
        ("/member", {"member": {"name": "x", "Name": "y"}}, "member.Name"),
        (f"/advertiser?member_id={m}", {"advertiser": {"name": "x", "owner": 1}}, "owner"),
        (
            f"/usersync-pixel?member_id={m}",
            {"usersync-pixel": {"name": "x", "url": "https://a.example/", "type": "img"}},
            "type",
        ),
        (
            "/user",
            {
                "user": {
                    "username": "u1",
                    "password": "password-123",
                    "role": "admin",
                    "is_admin": True,
                }
            },
            "is_admin",
        ),
        ("/auth", {"auth": {"username": "admin", "password": "x", "remember": True}}, "remember"),
        ("/auth", {"auth": {"username": "admin", "password": "x"}, "otp": "1"}, "otp"),
    ]
    for path, body, field in cases:
        sentence = syntax(admin.post(path, body))
        assert field in sentence and "known" in sentence, (body, sentence)
    # on PUT too
    sentence = syntax(admin.put(f"/member?id={m}", {"member": {"nme": "typo"}}))
    assert "nme" in sentence
    assert admin.ok("GET", f"/member?id={m}")["member"]["name"] == member["name"]


def test_huge_integers_in_id_fields_and_numbers(admin, member):
    m = member["id"]
    huge = 10**30
    cases = [
        (
            f"/advertiser?member_id={m}",
            {"advertiser": {"name": "x", "member_id": huge}},
            "member_id",
        ),
        ("/advertiser", {"advertiser": {"name": "x", "member_id": -huge}}, "member_id"),
        ("/advertiser", {"advertiser": {"name": "x", "member_id": 2**31}}, "member_id"),
        ("/advertiser", {"advertiser": {"name": "x", "member_id": 0}}, "member_id"),
        (
            "/usersync-pixel",
            {"usersync-pixel": {"name": "x", "url": "https://a.example/", "member_id": huge}},
            "member_id",
        ),
        (
            f"/usersync-pixel?member_id={m}",
            {"usersync-pixel": {"name": "x", "url": "https://a.example/", "priority": huge}},
            "priority",
        ),
        (
            "/user",
            {
                "user": {
                    "username": "u1",
                    "password": "password-123",
                    "role": "member",
                    "member_id": huge,
                }
            },
            "member_id",
        ),
        (
            "/user",
            {
                "user": {
                    "username": "u1",
                    "password": "password-123",
                    "role": "advertiser",
                    "member_id": m,
                    "advertiser_id": huge,
                }
            },
            "advertiser_id",
        ),
        (
            f"/segment?member_id={m}",
            {"segment": {"short_name": "x", "expire_minutes": huge}},
            "expire_minutes",
        ),
        (
            f"/segment?member_id={m}",
            {"segment": {"short_name": "x", "expire_minutes": -huge}},
            "expire_minutes",
        ),
        (
            f"/segment?member_id={m}",
            {"segment": {"short_name": "x", "expire_minutes": 1e30}},
            "expire_minutes",
        ),
        (
            f"/segment?member_id={m}",
            {"segment": {"short_name": "x", "max_usersync_pixels": huge}},
            "max_usersync_pixels",
        ),
        (
            f"/segment?member_id={m}",
            {"segment": {"short_name": "x", "advertiser_id": huge}},
            "advertiser_id",
        ),
    ]
    for path, body, field in cases:
        sentence = syntax(admin.post(path, body))
        assert field in sentence, (body, sentence)
    # a number too big for JSON-to-float too
    content = b'{"segment": {"short_name": "x", "expire_minutes": 1' + b"0" * 5000 + b"}}"
    envelope_error(
        raw_post(admin, f"/segment?member_id={m}", content, "application/json"), "SYNTAX"
    )
    content = b'{"segment": {"short_name": "x", "expire_minutes": 1e999}}'
    envelope_error(
        raw_post(admin, f"/segment?member_id={m}", content, "application/json"), "SYNTAX"
    )
    # huge ids in the query string
    for path in (
        f"/member?id={huge}",
        f"/advertiser?member_id={huge}",
        f"/usersync-pixel?id={huge}",
        f"/user?id={huge}",
    ):
        assert "id" in syntax(admin.get(path))
    for path in (
        f"/member?id={huge}",
        f"/advertiser?id={huge}",
        f"/usersync-pixel?id={huge}",
        f"/user?id={huge}",
        f"/segment?id={huge}",
    ):
        assert "id" in syntax(admin.delete(path))
        assert "id" in syntax(admin.put(path, {path.split("?")[0].strip("/"): {}}))
    assert "member_id" in syntax(
        admin.post(f"/advertiser?member_id={huge}", {"advertiser": {"name": "x"}})
    )


def test_deeply_nested_json(admin, member):
    for depth in (100, 1000, 100_000):
        nested = b"[" * depth + b"]" * depth
        envelope_error(raw_post(admin, "/member", nested, "application/json"), "SYNTAX")
        inside = b'{"member": {"name": "x", "redirect_domains": ' + nested + b"}}"
        envelope_error(raw_post(admin, "/member", inside, "application/json"), "SYNTAX")
        objects = b'{"a":' * depth + b"1" + b"}" * depth
        envelope_error(raw_post(admin, "/member", objects, "application/json"), "SYNTAX")
    # unclosed, as deep as the body limit allows
    envelope_error(raw_post(admin, "/member", b"[" * (MB - 10), "application/json"), "SYNTAX")
    assert admin.ok("GET", "/member")["count"] == 1


# -- sizes -----------------------------------------------------------------------------------------


def test_body_over_one_megabyte_is_413_in_a_syntax_envelope(admin):
    for size in (MB + 1, 10 * MB):
        response = raw_post(admin, "/member", b" " * size, "application/json")
        assert response.status_code == 413, response.text[:300]
        body = envelope_error(response, "SYNTAX")
        assert "larger" in body["error"] or "large" in body["error"], body
    # a valid JSON document padded to just over the limit is refused too
    padded = json.dumps({"member": {"name": "x"}}).encode() + b" " * MB
    assert raw_post(admin, "/member", padded, "application/json").status_code == 413
    # just under the limit is read (and refused for what it says, not for its size)
    under = b'{"member": {"name": "' + b"x" * (MB - 100) + b'"}}'
    assert len(under) <= MB
    assert "name" in syntax(raw_post(admin, "/member", under, "application/json"))
    assert admin.ok("GET", "/member")["count"] == 0


def test_chunked_body_without_content_length_over_the_limit_is_413(admin):
    def chunks(total: int) -> Iterator[bytes]:
        chunk = b" " * 65536
        for _ in range(total // len(chunk)):
            yield chunk
        yield b" " * (total % len(chunk))

    for total in (MB + 1, 3 * MB):
        response = raw_post(admin, "/member", chunks(total), "application/json")
        assert response.status_code == 413, f"{response.status_code}: {response.text[:300]}"
        envelope_error(response, "SYNTAX")

    # a small chunked body is read as usual
    def small() -> Iterator[bytes]:
        yield b'{"member": '
        yield b'{"name": "Chunked"}}'

    response = raw_post(admin, "/member", small(), "application/json")
    assert response.status_code == 200, response.text
    assert response.json()["response"]["member"]["name"] == "Chunked"


def test_large_body_on_every_write_verb(admin, member):
    for method, path in (
        ("PUT", f"/member?id={member['id']}"),
        ("POST", "/user"),
        ("POST", "/auth"),
        ("PUT", "/advertiser?id=1"),
        ("DELETE", f"/member?id={member['id']}"),
    ):
        response = raw_post(admin, path, b" " * (2 * MB), "application/json", method=method)
        assert response.status_code == 413, (method, path, response.text[:300])
        envelope_error(response, "SYNTAX")
    assert admin.ok("GET", f"/member?id={member['id']}")["member"]["name"] == member["name"]


# -- content types and encodings -------------------------------------------------------------------


def test_wrong_content_type(admin):
    body = json.dumps({"member": {"name": "Typed"}}).encode()
    for content_type in (
        "text/plain",
        "application/xml",
        "multipart/form-data; boundary=x",
        "image/gif",
    ):
        response = raw_post(admin, "/member", body, content_type)
        assert response.status_code < 500, (content_type, response.text)
        assert "body" in syntax(response), content_type
    form = raw_post(admin, "/member", b"member[name]=x", "application/x-www-form-urlencoded")
    envelope_error(form, "SYNTAX")
    assert admin.ok("GET", "/member")["count"] == 0
    # JSON by any of its names is read
    for content_type in ("application/json; charset=utf-8", "application/vnd.api+json"):
        response = raw_post(admin, "/member", body, content_type)
        assert response.status_code == 200, (content_type, response.text)
    # what `curl -d @file.json` sends, as in the reference's examples: read as JSON
    for content_type in ("application/x-www-form-urlencoded", None):
        response = raw_post(admin, "/member", body, content_type)
        assert response.status_code == 200, (content_type, response.text)
    assert admin.ok("GET", "/member")["count"] == 4


def test_invalid_utf8_is_syntax(admin, member):
    for content in (
        b'{"member": {"name": "\xff\xfe"}}',
        b'{"member": {"name": "\xc3"}}',
        b'{"member": {"name": "\xed\xa0\x80"}}',
        b"\xff\xfe{\x00}\x00",
    ):
        envelope_error(raw_post(admin, "/member", content, "application/json"), "SYNTAX")
    content = b'{"auth": {"username": "adm\xffin", "password": "x"}}'
    envelope_error(raw_post(admin, "/auth", content, "application/json"), "SYNTAX", "NOAUTH")
    # a lone surrogate written as an escape is valid JSON but not a valid string
    for content in (
        b'{"member": {"name": "\\ud800"}}',
        b'{"member": {"name": "x", "redirect_domains": ["\\udfff.example"]}}',
        b'{"user": {"username": "u", "password": "pass\\ud800word", "role": "admin"}}',
    ):
        path = "/user" if b"user" in content else "/member"
        sentence = syntax(raw_post(admin, path, content, "application/json"))
        assert "surrogate" in sentence or "Unicode" in sentence, sentence
    assert admin.ok("GET", "/member")["count"] == 1


def test_nul_bytes_in_strings(admin, member):
    m = member["id"]
    cases = [
        ("POST", "/member", {"member": {"name": "Ac\x00me"}}),
        ("PUT", f"/member?id={m}", {"member": {"name": "\x00"}}),
        ("POST", f"/advertiser?member_id={m}", {"advertiser": {"name": "Ca\x00rs"}}),
        ("POST", f"/advertiser?member_id={m}", {"advertiser": {"name": "x", "code": "a\x00b"}}),
        (
            "POST",
            f"/usersync-pixel?member_id={m}",
            {"usersync-pixel": {"name": "P\x00", "url": "https://a.example/"}},
        ),
        (
            "POST",
            f"/usersync-pixel?member_id={m}",
            {"usersync-pixel": {"name": "P", "url": "https://a.example/\x00"}},
        ),
        (
            "POST",
            "/user",
            {"user": {"username": "nul\x00", "password": "password-123", "role": "admin"}},
        ),
        ("POST", "/member", {"member": {"name": "x", "redirect_domains": ["a\x00.example"]}}),
        ("POST", f"/segment?member_id={m}", {"segment": {"short_name": "Seg\x00"}}),
        (
            "POST",
            f"/segment?member_id={m}",
            {"segment": {"short_name": "Seg", "description": "d\x00"}},
        ),
    ]
    for method, path, body in cases:
        response = admin.request(method, path, body)
        assert response.status_code < 500, (body, response.text)
        sentence = syntax(response)
        fields = next(iter(body.values()))
        field = next(k for k, v in fields.items() if "\x00" in (v if isinstance(v, str) else v[0]))
        assert field in sentence, (body, sentence)
    # a lone surrogate (valid JSON escape, but not storable text) is refused the same way
    content = b'{"member": {"name": "A\\udc80B"}}'
    sentence = syntax(raw_post(admin, "/member", content, "application/json"))
    assert "name" in sentence, sentence
    assert admin.ok("GET", "/member")["count"] == 1, "nothing was stored"
    assert admin.ok("GET", f"/member?id={m}")["member"]["name"] == member["name"]
    # logging in with NUL bytes is refused, never a 500
    response = admin.client.post(
        "/auth", json={"auth": {"username": "ad\x00min", "password": "pass\x00word"}}
    )
    envelope_error(response, "NOAUTH", "SYNTAX")
    # NUL bytes in query parameters, percent-encoded
    for path in (
        "/member?search=a%00b",
        "/advertiser?code=a%00b",
        "/advertiser?search=%00",
        f"/advertiser?code=a%00b&member_id={m}",
        "/usersync-pixel?member_id=1&x=%00",
        "/user?id=1&a%00=1",
        "/segment?search=%00",
        "/segment?code=%00x",
    ):
        response = admin.get(path)
        assert response.status_code < 500, (path, response.text)
        envelope_error(response, "SYNTAX")
    response = admin.delete(f"/advertiser?code=a%00b&member_id={m}")
    envelope_error(response, "SYNTAX")


# -- query strings ---------------------------------------------------------------------------------


def test_bad_ids_in_the_query_string(admin, member):
    for service in ("member", "advertiser", "usersync-pixel", "user", "segment"):
        for raw in (
            "abc",
            "1,,x",
            "-5",
            "99999999999999",
            "0",
            "1.5",
            "0x10",
            "1;2",
            "%00",
            ",",
            "1," * 200 + "1",
        ):
            response = admin.get(f"/{service}?id={raw}")
            body = envelope_error(response, "SYNTAX", "NOTFOUND")
            if body["error_id"] == "SYNTAX":
                assert "id" in body["error"], (service, raw, body)
        for raw in ("abc", "-5", "99999999999999", "1,x"):
            assert "id" in syntax(admin.delete(f"/{service}?id={raw}")), (service, raw)
    for raw in ("abc", "-5", "99999999999999"):
        for path in ("/advertiser", "/usersync-pixel", "/user", "/segment"):
            assert "member_id" in syntax(admin.get(f"{path}?member_id={raw}"))
    assert "start_element" in syntax(admin.get("/member?start_element=abc"))
    assert "num_elements" in syntax(admin.get("/member?num_elements=99999999999999999999"))
    assert "num_elements" in syntax(admin.get("/member?num_elements=0"))
    assert "sort" in syntax(admin.get("/member?sort=name.sideways"))
    assert "sort" in syntax(admin.get("/member?sort=password_hash.asc"))


def test_very_long_query_strings(admin, member):
    long = "a" * 30_000
    for path in (
        f"/member?search={long}",
        f"/advertiser?search={long}",
        f"/advertiser?code={long}",
        f"/segment?search={long}",
        f"/member?id={'1,' * 10_000}1",
        f"/member?sort={long}",
        f"/member?unknown={long}",
        f"/member?{'x=1&' * 5000}",
    ):
        response = admin.get(path)
        assert response.status_code < 500, (path[:60], response.text[:300])
        if response.status_code != 200:
            envelope_error(response, "SYNTAX")
    assert "search" in syntax(admin.get(f"/member?search={long}"))
    # repeated parameters do not confuse anything
    response = admin.get(f"/member?id={member['id']}&id=abc")
    assert response.status_code < 500, response.text


def test_unknown_query_parameters_are_refused_naming_them(admin, member):
    # SPEC §2.1: an unknown listing filter is SYNTAX, so a misspelt one never lists everything
    response = admin.get(f"/member?id={member['id']}&foo=bar&id2=x")
    sentence = syntax(response)
    assert "foo" in sentence and "id2" in sentence, sentence


# -- paths and methods -----------------------------------------------------------------------------


def test_unknown_path_is_a_notfound_envelope(api, admin):
    for path in (
        "/nope",
        "/members",
        "/segment/1",
        "/%00",
        "/..%2f..%2fetc/passwd",
        "/" + "x" * 5000,
    ):
        for client in (api, admin):
            response = client.get(path)
            if response.status_code in (301, 302, 307, 308):
                continue  # a trailing-slash redirect is fine
            body = envelope_error(response, "NOTFOUND")
            assert response.status_code == 404, body
    response = admin.post("/nope", {"x": 1})
    envelope_error(response, "NOTFOUND")
    # a trailing slash: redirected to the service (TestClient follows it) or not found
    response = admin.get("/member/")
    assert response.status_code in (200, 307, 404), response.text


def test_wrong_method_is_an_error_envelope(api, admin):
    for method, path in (
        ("PATCH", "/member"),
        ("PATCH", "/segment"),
        ("PUT", "/auth"),
        ("OPTIONS", "/user"),
        ("TRACE", "/member"),
        ("POST", "/openapi.json"),
        ("DELETE", "/docs"),
    ):
        response = admin.request(method, path)
        assert 400 <= response.status_code < 500, (method, path, response.status_code)
        body = response.json()["response"]
        assert body["status"] == "error" and body["error_id"], body
    response = api.client.request("PATCH", "/member")
    assert response.status_code == 405, response.text
    assert response.json()["response"]["status"] == "error"


# -- every error_id has its status ----------------------------------------------------------------


def test_every_error_id_has_its_http_status(api, admin):
    member = admin.make_member()
    admin.make_advertiser(member["id"], code="dup")
    boss = admin.make_user("boss", "member", member_id=member["id"])
    seen = {
        "NOAUTH": api.get("/member"),
        "UNAUTH": boss.post("/member", {"member": {"name": "x"}}),
        "SYNTAX": admin.post("/member", {"member": {}}),
        "INTEGRITY": admin.post(
            f"/advertiser?member_id={member['id']}", {"advertiser": {"name": "x", "code": "DUP"}}
        ),
        "NOTFOUND": admin.get("/member?id=12345"),
    }
    for error_id, response in seen.items():
        error_of(response, STATUS[error_id], error_id)
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()["response"]
        assert set(body) >= {"status", "error_id", "error", "error_code"}, body


# -- OpenAPI and docs ------------------------------------------------------------------------------


def test_openapi_document_lists_the_services(api):
    response = api.client.get("/openapi.json")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    document = json.loads(response.text)
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"]
    paths = document["paths"]
    for path in ("/segment", "/advertiser", "/member", "/usersync-pixel", "/user", "/auth"):
        assert path in paths, f"{path} missing from {sorted(paths)}"
    for path in ("/segment", "/advertiser", "/member", "/usersync-pixel", "/user"):
        assert {"get", "post", "put", "delete"} <= set(paths[path]), (path, set(paths[path]))
    assert {"get", "post", "delete"} <= set(paths["/auth"])


def test_docs_page_is_html(api):
    response = api.client.get("/docs")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text.lower()
    assert "/openapi.json" in api.client.get("/docs/assets/start.js").text


def test_a_900_deep_json_body_is_a_syntax_error_naming_the_rule(api, admin):
    """ISSUE 14 item 6: nesting beyond 64 levels is refused before any parse (never a 500)."""
    member = admin.make_member()
    for path, body in (
        ("/auth", "[" * 900 + "]" * 900),
        (f"/segment?member_id={member['id']}", '{"segment": ' + "[" * 900 + "]" * 900 + "}"),
        ("/report", '{"report": {"columns": ' + "{" * 450 + "}" * 450 + "}}"),
    ):
        response = admin.request(
            "POST", path, content=body.encode(), headers={"content-type": "application/json"}
        )
        sentence = error_of(response, 400, "SYNTAX")
        assert "nested deeper than 64 levels" in sentence, (path, sentence)
    # 64 levels are fine as JSON (and then refused or not by the service's own rules)
    response = admin.request(
        "POST",
        "/targeting/evaluate",
        content=('{"user_id": "1", "profile": ' + "[" * 60 + "]" * 60 + "}").encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400 and "nested deeper" not in response.text


def test_every_answer_says_nosniff(api, admin):
    for response in (
        api.client.get("/member"),
        admin.get("/member"),
        api.client.get("/openapi.json"),
        api.client.get("/docs"),
        api.client.get("/nope"),
        api.client.get("/seg?add=1"),
        api.client.get("/health"),
        api.client.get("/console/login"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff", response.url
        assert response.headers.get_list("x-content-type-options") == ["nosniff"]


def test_docs_serve_their_own_assets_under_a_policy_that_loads_nothing_from_elsewhere(api):
    page = api.client.get("/docs")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self';" in policy
    assert "http" not in policy and "*" not in policy
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/docs/assets/") for a in assets), assets
    assert "<script>" not in page.text  # no inline script
    for asset in assets:
        response = api.client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.content) > 100, asset
    assert api.client.get("/docs/assets/../openapi.json").status_code == 404
    assert api.client.get("/docs/assets/index.html").status_code == 404
