"""Shared field checks (domain/fields.py), the error types, and the limits of SPEC §10."""

from __future__ import annotations

import pytest

from segpixel.domain import limits
from segpixel.domain.errors import FieldError, ValidationFailed, field_error, raise_if_any
from segpixel.domain.fields import (
    check_absolute_url,
    check_code,
    check_description,
    check_host_name,
    check_int_range,
    check_name,
    check_state,
    code_collision_error,
)


def messages(errors: list[FieldError]) -> list[str]:
    return [e.message for e in errors]


def assert_one_error(errors: list[FieldError], field: str, fragment: str) -> None:
    assert len(errors) == 1, messages(errors)
    assert errors[0].field == field
    assert errors[0].message.startswith(f"{field} "), "the sentence starts with the field's name"
    assert fragment in errors[0].message, errors[0].message


# -- SPEC §10: the limits in one place ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("MAX_EXPIRE_MINUTES", 259_200, id="expire-max-180-days"),
        pytest.param("DEFAULT_EXPIRE_MINUTES", 259_200, id="expire-null-is-max"),
        pytest.param("CODE_MAX_LEN", 50, id="code"),
        pytest.param("NAME_MAX_LEN", 255, id="short-name"),
        pytest.param("DESCRIPTION_MAX_LEN", 500, id="description"),
        pytest.param("VALUE_MIN", 1, id="value-min"),
        pytest.param("VALUE_MAX", 2_147_483_647, id="value-max"),
        pytest.param("MAX_ITEMS_PER_PIXEL_CALL", 100, id="items-per-call"),
        pytest.param("MAX_AD_CALL_KEY_VALUES", 40, id="ad-call-key-values"),
        pytest.param("MAX_AD_CALL_KEY_VALUE_LEN", 60, id="ad-call-key-value-len"),
        pytest.param("PAGE_SIZE_DEFAULT", 100, id="page-default"),
        pytest.param("PAGE_SIZE_MAX", 100, id="page-max"),
        pytest.param("USERSYNC_RESYNC_SECONDS", 7 * 86_400, id="resync-7-days"),
        pytest.param("CATALOG_PROPAGATION_SECONDS", 5, id="propagation"),
    ],
)
def test_limits_match_spec_section_10(name: str, expected: int) -> None:
    assert getattr(limits, name) == expected


# -- names and descriptions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "required", "fragment"),
    [
        pytest.param("a", True, None, id="one-char"),
        pytest.param("x" * 255, True, None, id="255-chars"),
        pytest.param("é" * 255, True, None, id="255-unicode-chars"),
        pytest.param("x" * 256, True, "must be at most 255 characters (got 256)", id="256-chars"),
        pytest.param("", True, "is required and must not be blank", id="empty"),
        pytest.param("   \t", True, "is required and must not be blank", id="blank"),
        pytest.param(None, True, "is required and must not be blank", id="none-required"),
        pytest.param(None, False, None, id="none-optional"),
        pytest.param("", False, None, id="empty-optional"),
    ],
)
def test_check_name(value: str | None, required: bool, fragment: str | None) -> None:
    errors = check_name("short_name", value, required=required)
    if fragment is None:
        assert errors == []
    else:
        assert_one_error(errors, "short_name", fragment)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        pytest.param(None, None, id="none"),
        pytest.param("", None, id="empty"),
        pytest.param("d" * 500, None, id="500-chars"),
        pytest.param("d" * 501, "must be at most 500 characters (got 501)", id="501-chars"),
    ],
)
def test_check_description(value: str | None, fragment: str | None) -> None:
    errors = check_description("description", value)
    if fragment is None:
        assert errors == []
    else:
        assert_one_error(errors, "description", fragment)


# -- codes: 1-50 of [A-Za-z0-9_-] -------------------------------------------------------------

CODE_RULE = "must be 1 to 50 characters, each a letter, a digit, '_' or '-'"


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        pytest.param(None, True, id="none"),
        pytest.param("a", True, id="one-char"),
        pytest.param("Auto_2024-x", True, id="letters-digits-underscore-dash"),
        pytest.param("c" * 50, True, id="50-chars"),
        pytest.param("c" * 51, False, id="51-chars"),
        pytest.param("", False, id="empty"),
        pytest.param("car buyers", False, id="space"),
        pytest.param("car.buyers", False, id="dot"),
        pytest.param("café", False, id="unicode-letter"),
        pytest.param("１２３", False, id="fullwidth-digits"),
        pytest.param("abc\n", False, id="trailing-newline"),
        pytest.param("a/b", False, id="slash"),
        pytest.param("a,b", False, id="comma-splits-add-code"),
        pytest.param("a:b", False, id="colon-splits-value"),
    ],
)
def test_check_code(code: str | None, ok: bool) -> None:
    errors = check_code("code", code)
    if ok:
        assert errors == []
    else:
        assert_one_error(errors, "code", CODE_RULE)
        assert repr(code) in errors[0].message, "the sentence shows the value it refused"


@pytest.mark.parametrize(
    ("state", "ok"),
    [
        pytest.param("active", True, id="active"),
        pytest.param("inactive", True, id="inactive"),
        pytest.param("Active", False, id="case-matters"),
        pytest.param("deleted", False, id="other-word"),
        pytest.param("", False, id="empty"),
    ],
)
def test_check_state(state: str, ok: bool) -> None:
    errors = check_state("state", state)
    if ok:
        assert errors == []
    else:
        assert_one_error(errors, "state", "must be 'active' or 'inactive'")


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        pytest.param(1, True, id="low"),
        pytest.param(20, True, id="high"),
        pytest.param(0, False, id="below"),
        pytest.param(21, False, id="above"),
    ],
)
def test_check_int_range(value: int, ok: bool) -> None:
    errors = check_int_range("priority", value, 1, 20, "points")
    if ok:
        assert errors == []
    else:
        assert_one_error(errors, "priority", f"must be between 1 and 20 points (got {value})")


# -- URLs: absolute http(s), macros allowed, no length limit of our own ------------------------


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        pytest.param("http://example.com", None, id="http"),
        pytest.param("https://example.com/p?x=1", None, id="https"),
        pytest.param("HTTPS://EXAMPLE.COM/", None, id="upper-case-scheme"),
        pytest.param("https://sync.example.com/u?id=${UID}&g=${GDPR}", None, id="macros"),
        pytest.param("https://example.com/" + "a" * 8192, None, id="8kb-url"),
        pytest.param(
            "/relative/path", "must be an absolute http:// or https:// URL", id="relative"
        ),
        pytest.param(
            "//example.com/x", "must be an absolute http:// or https:// URL", id="no-scheme"
        ),
        pytest.param(
            "ftp://example.com/x", "must be an absolute http:// or https:// URL", id="ftp"
        ),
        pytest.param(
            "javascript:alert(1)", "must be an absolute http:// or https:// URL", id="javascript"
        ),
        pytest.param("http:///path", "must be an absolute http:// or https:// URL", id="no-host"),
        pytest.param("", "must be an absolute http:// or https:// URL", id="empty"),
        pytest.param("http://[::1", "must be an absolute http:// or https:// URL", id="bad-ipv6"),
        pytest.param("http://exa mple.com", "without spaces or control characters", id="space"),
        pytest.param("http://example.com/\x00", "without spaces or control characters", id="nul"),
        pytest.param("http://example.com/\nX: y", "without spaces or control", id="newline"),
    ],
)
def test_check_absolute_url(url: str, fragment: str | None) -> None:
    errors = check_absolute_url("url", url)
    if fragment is None:
        assert errors == []
    else:
        assert_one_error(errors, "url", fragment)


def test_url_error_quotes_at_most_80_characters_of_a_long_url() -> None:
    (error,) = check_absolute_url("url", "ftp://" + "x" * 10_000)
    assert len(error.message) < 200


@pytest.mark.parametrize(
    ("host", "ok"),
    [
        pytest.param("example.com", True, id="plain"),
        pytest.param("*.example.com", True, id="wildcard"),
        pytest.param("localhost", True, id="single-label"),
        pytest.param("a-b.example.com", True, id="dash-inside"),
        pytest.param("127.0.0.1", True, id="ipv4"),
        pytest.param("http://example.com", False, id="url-not-host"),
        pytest.param("exa mple.com", False, id="space"),
        pytest.param("-bad.com", False, id="leading-dash"),
        pytest.param("bad-.com", False, id="trailing-dash"),
        pytest.param("a..com", False, id="empty-label"),
        pytest.param("*example.com", False, id="wildcard-without-dot"),
        pytest.param("a.*.com", False, id="wildcard-inside"),
        pytest.param("*", False, id="wildcard-alone"),
        pytest.param("under_score.com", False, id="underscore"),
        pytest.param("x" * 64 + ".com", False, id="64-char-label"),
        pytest.param(".".join(["a" * 63] * 4), False, id="255-chars"),
        pytest.param("", False, id="empty"),
    ],
)
def test_check_host_name(host: str, ok: bool) -> None:
    errors = check_host_name("redirect_domains[0]", host)
    if ok:
        assert errors == []
    else:
        assert_one_error(errors, "redirect_domains[0]", "must be a host name such as")


def test_code_collision_sentence_names_both_spellings() -> None:
    error = code_collision_error("code", "Auto", "auto", "advertiser")
    assert error.field == "code"
    assert error.message == (
        "code 'Auto' is already used by another advertiser of this member as 'auto' "
        "(codes must be unique ignoring case)"
    )


# -- the error types ------------------------------------------------------------------------------


def test_field_error_sentence_starts_with_the_field() -> None:
    error = field_error("short_name", "is required")
    assert error == FieldError("short_name", "short_name is required")
    assert str(error) == "short_name is required"


def test_raise_if_any() -> None:
    raise_if_any([])  # no errors: nothing happens
    errors = [field_error("a", "is bad"), field_error("b", "is worse")]
    with pytest.raises(ValidationFailed) as caught:
        raise_if_any(errors)
    assert caught.value.errors == errors
    assert str(caught.value) == "a is bad; b is worse"
