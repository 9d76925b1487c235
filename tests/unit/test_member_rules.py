"""Members, advertisers and usersync partners (SPEC §1.1, §1.4, §3.4 redirect allow-list)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from segpixel.domain.advertisers import AdvertiserDraft, advertiser_errors
from segpixel.domain.members import (
    MAX_REDIRECT_DOMAINS,
    MemberDraft,
    host_allowed,
    member_errors,
    normalize_redirect_domains,
)
from segpixel.domain.pixel_plan import Macros
from segpixel.domain.usersync import USERSYNC_MACROS, UsersyncDraft, usersync_errors


def single(errors: list[Any], field: str | None, fragment: str | None) -> None:
    found = [(e.field, e.message) for e in errors]
    if field is None:
        assert found == []
        return
    assert len(found) == 1, found
    assert found[0][0] == field
    assert found[0][1].startswith(f"{field} ")
    assert fragment is not None and fragment in found[0][1], found[0][1]


# -- members --------------------------------------------------------------------------------------

MEMBER = MemberDraft(name="Acme")


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        pytest.param({}, None, None, id="minimal"),
        pytest.param({"name": "m" * 255}, None, None, id="name-255"),
        pytest.param({"name": "m" * 256}, "name", "must be at most 255 characters", id="name-256"),
        pytest.param({"name": ""}, "name", "is required and must not be blank", id="name-empty"),
        pytest.param({"name": " "}, "name", "is required and must not be blank", id="name-blank"),
        pytest.param({"state": "inactive"}, None, None, id="state-inactive"),
        pytest.param({"state": "gone"}, "state", "must be 'active' or 'inactive'", id="state-bad"),
        pytest.param(
            {"redirect_domains": ("example.com", "*.cdn.example.net", "localhost")},
            None,
            None,
            id="domains-ok",
        ),
        pytest.param(
            {"redirect_domains": ("example.com", "https://evil.example")},
            "redirect_domains[1]",
            "must be a host name such as 'example.com' or '*.example.com'",
            id="domain-is-a-url",
        ),
        pytest.param(
            {"redirect_domains": ("exa mple.com",)},
            "redirect_domains[0]",
            "must be a host name",
            id="domain-space",
        ),
        pytest.param(
            {"redirect_domains": ("*",)}, "redirect_domains[0]", "must be a host name", id="star"
        ),
        pytest.param(
            {"redirect_domains": ("example.com",) * MAX_REDIRECT_DOMAINS}, None, None, id="500"
        ),
        pytest.param(
            {"redirect_domains": ("example.com",) * (MAX_REDIRECT_DOMAINS + 1)},
            "redirect_domains",
            "may list at most 500 host names",
            id="501",
        ),
        pytest.param({"dongle": None}, None, None, id="dongle-generated"),
        pytest.param({"dongle": "d" * 8}, None, None, id="dongle-8"),
        pytest.param({"dongle": "Ab-_" * 16}, None, None, id="dongle-64"),
        pytest.param(
            {"dongle": "d" * 7},
            "dongle",
            "must be 8 to 64 characters, each a letter, a digit, '_' or '-'",
            id="dongle-7",
        ),
        pytest.param({"dongle": "d" * 65}, "dongle", "8 to 64 characters", id="dongle-65"),
        pytest.param({"dongle": "secret key"}, "dongle", "8 to 64 characters", id="dongle-space"),
        pytest.param({"dongle": ""}, "dongle", "8 to 64 characters", id="dongle-empty"),
    ],
)
def test_member_rules(changes: dict[str, Any], field: str | None, fragment: str | None) -> None:
    single(member_errors(replace(MEMBER, **changes)), field, fragment)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param((), (), id="empty"),
        pytest.param(("Example.COM",), ("example.com",), id="lower-case"),
        pytest.param((" example.com. ",), ("example.com",), id="trim-and-trailing-dot"),
        pytest.param(
            ("b.example", "A.example", "b.example", "a.example"),
            ("b.example", "a.example"),
            id="dedupe-keep-order",
        ),
    ],
)
def test_normalize_redirect_domains(given: tuple[str, ...], expected: tuple[str, ...]) -> None:
    assert normalize_redirect_domains(given) == expected


ALLOWED = ("example.com", "*.cdn.example.net")


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        pytest.param("example.com", True, id="exact"),
        pytest.param("EXAMPLE.com", True, id="case-insensitive"),
        pytest.param("example.com.", True, id="trailing-dot"),
        pytest.param("www.example.com", False, id="exact-entry-allows-no-subdomain"),
        pytest.param("evilexample.com", False, id="suffix-is-not-a-subdomain"),
        pytest.param("example.com.evil.org", False, id="prefix-is-not-the-host"),
        pytest.param("a.cdn.example.net", True, id="wildcard-subdomain"),
        pytest.param("x.y.cdn.example.net", True, id="wildcard-deep-subdomain"),
        pytest.param("A.CDN.Example.NET", True, id="wildcard-case-insensitive"),
        pytest.param("cdn.example.net", False, id="wildcard-not-the-apex"),
        pytest.param("evilcdn.example.net", False, id="wildcard-needs-a-dot"),
        pytest.param("", False, id="empty-host"),
    ],
)
def test_host_allowed(host: str, allowed: bool) -> None:
    assert host_allowed(host, ALLOWED) is allowed


def test_host_allowed_with_an_empty_list_allows_nothing() -> None:
    assert host_allowed("example.com", ()) is False


def test_host_allowed_takes_entries_as_stored_by_normalize() -> None:
    stored = normalize_redirect_domains(("Example.COM.", "*.CDN.example.net"))
    assert host_allowed("example.com", stored)
    assert host_allowed("x.cdn.example.net", stored)


# -- advertisers ----------------------------------------------------------------------------------

ADVERTISER = AdvertiserDraft(member_id=1, name="Cars")


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        pytest.param({}, None, None, id="minimal"),
        pytest.param({"code": "cars-2024_a"}, None, None, id="code-ok"),
        pytest.param({"code": "a" * 50}, None, None, id="code-50"),
        pytest.param({"code": "a" * 51}, "code", "must be 1 to 50 characters", id="code-51"),
        pytest.param({"code": "car s"}, "code", "no spaces, dots", id="code-space"),
        pytest.param({"code": "cars.fr"}, "code", "no spaces, dots", id="code-dot"),
        pytest.param({"name": "n" * 255}, None, None, id="name-255"),
        pytest.param({"name": "n" * 256}, "name", "must be at most 255 characters", id="name-256"),
        pytest.param({"name": ""}, "name", "is required", id="name-empty"),
        pytest.param({"state": "inactive"}, None, None, id="inactive"),
        pytest.param({"state": "on"}, "state", "must be 'active' or 'inactive'", id="state-bad"),
    ],
)
def test_advertiser_rules(changes: dict[str, Any], field: str | None, fragment: str | None) -> None:
    single(advertiser_errors(replace(ADVERTISER, **changes)), field, fragment)


# -- usersync partners (§1.4) ---------------------------------------------------------------------

PARTNER = UsersyncDraft(member_id=1, name="DSP", url="https://sync.example.com/u?id=${UID}")


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        pytest.param({}, None, None, id="minimal"),
        pytest.param(
            {"url": "https://s.example.com/u?id=${UID}&gdpr=${GDPR}&c=${GDPR_CONSENT}"},
            None,
            None,
            id="all-macros",
        ),
        pytest.param(
            {"url": "/sync"}, "url", "must be an absolute http:// or https:// URL", id="rel"
        ),
        pytest.param({"url": "ftp://s.example/"}, "url", "absolute http:// or https://", id="ftp"),
        pytest.param({"pixel_type": "js"}, None, None, id="js"),
        pytest.param(
            {"pixel_type": "iframe"},
            "pixel_type",
            "must be 'img' or 'js' (got 'iframe')",
            id="type",
        ),
        pytest.param({"priority": 1}, None, None, id="priority-1"),
        pytest.param({"priority": 20}, None, None, id="priority-20"),
        pytest.param({"priority": 0}, "priority", "must be between 1 and 20 (got 0)", id="prio-0"),
        pytest.param({"priority": 21}, "priority", "must be between 1 and 20 (got 21)", id="p-21"),
        pytest.param({"state": "inactive"}, None, None, id="inactive"),
        pytest.param({"state": "x"}, "state", "must be 'active' or 'inactive'", id="state-bad"),
        pytest.param({"name": ""}, "name", "is required", id="name-empty"),
    ],
)
def test_usersync_rules(changes: dict[str, Any], field: str | None, fragment: str | None) -> None:
    single(usersync_errors(replace(PARTNER, **changes)), field, fragment)


def test_every_usersync_macro_is_filled() -> None:
    """Ours and the reference's spellings (SPEC §3.5): none reaches a partner unfilled."""
    macros = Macros("77", "1", "CPx", "4242")
    assert {name: macros.fill(f"https://s.example/?m={name}") for name in USERSYNC_MACROS} == {
        "${UID}": "https://s.example/?m=77",
        "$UID": "https://s.example/?m=77",
        "${GDPR}": "https://s.example/?m=1",
        "${GDPR_APPLIES}": "https://s.example/?m=1",
        "${GDPR_CONSENT}": "https://s.example/?m=CPx",
        "${GDPR_CONSENT_STRING}": "https://s.example/?m=CPx",
        "${CACHEBUSTER}": "https://s.example/?m=4242",
    }
