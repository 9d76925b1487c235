"""SPEC §3.2 (the identity cookie) and §3.3 (the response is always a pixel), over real HTTP."""

from __future__ import annotations

import re
import secrets

import httpx
import pytest

from tests.pixel.conftest import Pixel, ServerFactory, assert_gif, membership, warning_of

MAX_AGE = 15_552_000  # 180 days
MAX_UID = 2**63 - 1


def cookie_attrs(set_cookie: str) -> tuple[str, str, dict[str, str]]:
    """(name, value, {attribute lower-cased: value}) of one Set-Cookie header."""
    first, *rest = [p.strip() for p in set_cookie.split(";")]
    name, _, value = first.partition("=")
    attrs = {}
    for part in rest:
        key, _, val = part.partition("=")
        attrs[key.lower()] = val
    return name, value, attrs


def only_set_cookie(response: httpx.Response) -> str:
    cookies = response.headers.get_list("set-cookie")
    assert len(cookies) == 1, cookies
    return cookies[0]


def test_a_new_visitor_gets_a_decimal_id_with_the_cookie_attributes(px: Pixel, acme) -> None:
    response = px.browser().seg(f"add={acme['segment']['id']}")
    assert_gif(response)
    name, value, attrs = cookie_attrs(only_set_cookie(response))
    assert name == "uuid2"
    assert re.fullmatch(r"[1-9][0-9]{0,18}", value) and 0 < int(value) <= MAX_UID
    assert attrs["path"] == "/"
    assert attrs["max-age"] == str(MAX_AGE)
    assert "httponly" in attrs
    # over plain http: no Secure, and never SameSite=None without Secure
    assert "secure" not in attrs
    assert attrs.get("samesite", "").lower() != "none"


def test_ids_differ_between_visitors(px: Pixel, acme) -> None:
    ids = {px.browser().seg(f"add={acme['segment']['id']}") for _ in range(5)}
    uids = {cookie_attrs(only_set_cookie(r))[1] for r in ids}
    assert len(uids) == 5


def test_over_https_the_cookie_is_samesite_none_and_secure(px: Pixel, acme) -> None:
    response = px.browser().seg(
        f"add={acme['segment']['id']}", headers={"X-Forwarded-Proto": "https"}
    )
    _, _, attrs = cookie_attrs(only_set_cookie(response))
    assert attrs["samesite"] == "None"
    assert "secure" in attrs
    assert attrs["max-age"] == str(MAX_AGE) and attrs["path"] == "/" and "httponly" in attrs


def test_cookie_secure_setting_always_and_never(px: Pixel, extra_servers: ServerFactory) -> None:
    always = extra_servers.start(cookie_secure="always")
    never = extra_servers.start(cookie_secure="never")
    plain = px.browser(always).seg("")
    _, _, attrs = cookie_attrs(only_set_cookie(plain))
    assert attrs["samesite"] == "None" and "secure" in attrs
    https = px.browser(never).seg("", headers={"X-Forwarded-Proto": "https"})
    _, _, attrs = cookie_attrs(only_set_cookie(https))
    assert "secure" not in attrs


def test_the_cookie_name_is_configurable(px: Pixel, extra_servers: ServerFactory) -> None:
    server = extra_servers.start(cookie_name="visitor_id")
    m = px.member()
    sid = px.segment(m["id"])["id"]
    px.sync(server)
    browser = px.browser(server, cookie_name="visitor_id")
    response = browser.seg(f"add={sid}")
    name, value, _ = cookie_attrs(only_set_cookie(response))
    assert name == "visitor_id" and browser.uid == value
    body = browser.debug("", member=m)
    assert body["user_id"] == value and membership(body, sid) is not None


def test_a_returning_cookie_keeps_its_id_and_refreshes_max_age(px: Pixel, acme) -> None:
    sid = acme["segment"]["id"]
    browser = px.browser()
    browser.seg(f"add={sid}")
    uid = browser.uid
    for _ in range(2):
        response = browser.seg(f"add={sid}")
        assert_gif(response)
        name, value, attrs = cookie_attrs(only_set_cookie(response))
        assert (name, value) == ("uuid2", uid)
        assert attrs["max-age"] == str(MAX_AGE)
    assert membership(browser.debug("", member=acme["member"]), sid)["count"] == 3


def test_our_cookie_is_found_among_others(px: Pixel, acme) -> None:
    sid = acme["segment"]["id"]
    first = px.browser()
    first.seg(f"add={sid}:4")
    raw = px.browser()
    body = raw.debug(
        "", headers={"Cookie": f'a=1; uuid2="{first.uid}"; b=2; uuid2x=9'}, member=acme["member"]
    )
    assert body["user_id"] == first.uid
    assert membership(body, sid)["value"] == 4


@pytest.mark.parametrize(
    "bad",
    [
        "abc",
        "0",
        "-5",
        "12abc",
        "1.5",
        str(2**64),
        "99999999999999999999999999",
        "",
        "%31%32",
        "١٢٣",  # Arabic-Indic digits
    ],
)
def test_a_malformed_cookie_is_treated_as_absent(px: Pixel, acme, bad: str) -> None:
    sid = acme["segment"]["id"]
    response = px.browser().seg(f"add={sid}", headers={"Cookie": f"uuid2={bad}".encode()})
    assert_gif(response)
    name, value, _ = cookie_attrs(only_set_cookie(response))
    assert name == "uuid2" and value != bad and 0 < int(value) <= MAX_UID


def test_a_2kb_garbage_cookie_is_answered_with_a_gif(px: Pixel, acme) -> None:
    garbage = "".join(secrets.choice("abcXYZ019!#$%&'()*+-./:<>?@[]^_`{|}~") for _ in range(2048))
    browser = px.browser()
    response = browser.seg(
        f"add={acme['segment']['id']}", headers={"Cookie": f"uuid2={garbage}; other={garbage}"}
    )
    assert_gif(response)
    _, value, _ = cookie_attrs(only_set_cookie(response))
    assert value.isdigit()


def test_a_16kb_query_string_is_answered_with_a_gif(px: Pixel, acme) -> None:
    sid = acme["segment"]["id"]
    filler = "x" * (16 * 1024)
    browser = px.browser()
    response = browser.seg(f"add={sid}&junk={filler}")
    assert_gif(response)
    assert membership(browser.debug("", member=acme["member"]), sid) is not None
    # the same size spread over many items and parameters
    items = ",".join(str(1_000_000 + i) for i in range(2000))
    assert len(items) > 15_000
    assert_gif(px.browser().seg(f"add={items}&" + "&".join(f"p{i}=v" for i in range(300))))


BAD_QUERIES = [
    "",
    "add=",
    "add=,,,",
    "add=:5",
    "add=-1",
    "add=99999999999999999999999",
    "add=%ff%fe%00",
    "add=1%00",
    "add_code=x&member=abc",
    "add_code=%E2%82%AC&member=1",
    "member=-3&remove_code=x",
    "value=NaN&add=1",
    "t=%00",
    "redir=%",
    "redir=%zz",
    "redir=http://[::1",
    "redir=" + "a" * 5000,
    "gdpr=1&gdpr_consent=!!!",
    "gdpr=1&gdpr_consent=" + "A" * 9000,
    "gdpr=2&consent=maybe",
    "debug=yes",
    "&&&==&=&",
    "a[]=1&b[x]=2",
]


@pytest.mark.parametrize("query", BAD_QUERIES, ids=range(len(BAD_QUERIES)))
def test_never_a_4xx_or_5xx_for_a_bad_parameter(px: Pixel, query: str) -> None:
    response = px.browser().seg(query)
    assert_gif(response)


def test_warnings_are_bounded_and_ascii(px: Pixel) -> None:
    items = ",".join(f"é{i}" for i in range(100))
    response = px.browser().seg(f"add={items}&add_code={items}")
    assert_gif(response)
    warning = warning_of(response)
    assert warning and warning.isascii() and len(warning) <= 1024


def test_debug_of_a_new_visitor_names_the_id_it_sets(px: Pixel, acme) -> None:
    browser = px.browser()
    body = browser.debug(f"add={acme['segment']['id']}", member=acme["member"])
    _, value, _ = cookie_attrs(only_set_cookie_of(body))
    assert body["user_id"] == value == browser.uid
    assert membership(body, acme["segment"]["id"])["count"] == 1


def only_set_cookie_of(body) -> str:
    cookies = body["_headers"].get_list("set-cookie")
    assert len(cookies) == 1, cookies
    return cookies[0]
