"""Pixel tags in the reference's exact form (domain/tags.py: export-pixel, the console)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from segpixel.domain.tags import TaggedSegment, TagOptions, pixel_tag, pixel_url

BASE = "https://px.example.com"
CARS = TaggedSegment(id=37, name="Car buyers", code="Auto", member_id=5)
BIKES = TaggedSegment(id=28, name="Bikes", code="bikes", member_id=5)


def image(url: str) -> str:
    return f'<img src="{url}" width="1" height="1" />'


def script(url: str) -> str:
    return f'<script src="{url}" type="text/javascript"></script>'


def wrapped(names: str, tag: str) -> str:
    return f"<!-- Segment Pixel - {names} - DO NOT MODIFY -->\n{tag}\n<!-- End of Segment Pixel -->"


@pytest.mark.parametrize(
    ("segments", "options", "expected"),
    [
        pytest.param(
            [CARS],
            TagOptions(),
            wrapped("Car buyers", image(f"{BASE}/seg?add=37&t=2")),
            id="image-default",
        ),
        pytest.param(
            [CARS],
            TagOptions(javascript=True),
            wrapped("Car buyers", script(f"{BASE}/seg?add=37&t=1")),
            id="javascript",
        ),
        pytest.param(
            [CARS],
            TagOptions(use_codes=True),
            wrapped("Car buyers", image(f"{BASE}/seg?add_code=Auto&member=5&t=2")),
            id="codes",
        ),
        pytest.param(
            [CARS],
            TagOptions(javascript=True, use_codes=True),
            wrapped("Car buyers", script(f"{BASE}/seg?add_code=Auto&member=5&t=1")),
            id="codes-javascript",
        ),
        pytest.param(
            [CARS],
            TagOptions(value="12"),
            wrapped("Car buyers", image(f"{BASE}/seg?add=37&value=12&t=2")),
            id="value",
        ),
        pytest.param(
            [CARS],
            TagOptions(value="${PRICE}"),
            wrapped("Car buyers", image(f"{BASE}/seg?add=37&value=${{PRICE}}&t=2")),
            id="value-macro-kept",
        ),
        pytest.param(
            [CARS],
            TagOptions(value="1&t=1"),
            wrapped("Car buyers", image(f"{BASE}/seg?add=37&value=1%26t%3D1&t=2")),
            id="value-encoded",
        ),
        pytest.param(
            [CARS],
            TagOptions(redir="https://dsp.example.net/px?a=1&b=two words"),
            wrapped(
                "Car buyers",
                image(
                    f"{BASE}/seg?add=37&redir="
                    "https%3A%2F%2Fdsp.example.net%2Fpx%3Fa%3D1%26b%3Dtwo%20words&t=2"
                ),
            ),
            id="redir-url-encoded",
        ),
        pytest.param(
            [TaggedSegment(37, "Car buyers", value="5"), BIKES],
            TagOptions(also_add=("99",), remove=("12", "13")),
            wrapped("Car buyers, Bikes", image(f"{BASE}/seg?add=37:5,28,99&remove=12,13&t=2")),
            id="several-with-values-and-removes",
        ),
        pytest.param(
            [CARS, BIKES],
            TagOptions(use_codes=True, remove=("old",)),
            wrapped(
                "Car buyers, Bikes",
                image(f"{BASE}/seg?add_code=Auto,bikes&member=5&remove_code=old&t=2"),
            ),
            id="codes-with-remove-code",
        ),
        pytest.param(
            [CARS],
            TagOptions(javascript=True, use_codes=True, value="7", redir="http://a.example/p.gif"),
            wrapped(
                "Car buyers",
                script(
                    f"{BASE}/seg?add_code=Auto&member=5&value=7"
                    "&redir=http%3A%2F%2Fa.example%2Fp.gif&t=1"
                ),
            ),
            id="everything",
        ),
    ],
)
def test_pixel_tag_exact_text(
    segments: list[TaggedSegment], options: TagOptions, expected: str
) -> None:
    assert pixel_tag(BASE, segments, options) == expected


@pytest.mark.parametrize(
    "base",
    [
        pytest.param("https://px.example.com", id="bare"),
        pytest.param("https://px.example.com/", id="trailing-slash"),
    ],
)
def test_base_url_trailing_slash(base: str) -> None:
    assert pixel_url(base, [CARS], TagOptions()) == f"{BASE}/seg?add=37&t=2"


def test_base_url_with_a_path_prefix() -> None:
    assert (
        pixel_url("https://ex.com/px/", [CARS], TagOptions()) == "https://ex.com/px/seg?add=37&t=2"
    )


def header_of(tag: str) -> str:
    first = tag.split("\n", 1)[0]
    assert first.startswith("<!-- Segment Pixel - ") and first.endswith(" - DO NOT MODIFY -->")
    return first[len("<!--") : -len("-->")]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("a--b", id="double-dash"),
        pytest.param("a---b", id="triple-dash"),
        pytest.param("----", id="four-dashes"),
        pytest.param("x-->", id="comment-end"),
        pytest.param("-->", id="only-comment-end"),
        pytest.param("--!>", id="bang-comment-end"),
        pytest.param("<script>alert(1)</script>", id="script"),
        pytest.param("a>b", id="greater-than"),
        pytest.param("line\n-->\n", id="newline"),
        pytest.param("line\r\n--\r>", id="carriage-return"),
        pytest.param("ends with -", id="trailing-dash"),
        pytest.param("-", id="single-dash"),
    ],
)
def test_a_name_cannot_break_the_comment(name: str) -> None:
    tag = pixel_tag(BASE, [TaggedSegment(1, name)], TagOptions())
    inner = header_of(tag)
    assert "--" not in inner, f"the comment's text holds '--': {inner!r}"
    assert ">" not in inner, inner
    assert "\n" not in inner and "\r" not in inner, "the header stays one line"
    assert tag.count("-->") == 2, tag
    assert tag.endswith("\n<!-- End of Segment Pixel -->")


@given(st.lists(st.text(max_size=40), min_size=1, max_size=3))
def test_no_name_breaks_the_comment(names: list[str]) -> None:
    tag = pixel_tag(BASE, [TaggedSegment(i, n) for i, n in enumerate(names, 1)], TagOptions())
    inner = header_of(tag)
    assert "--" not in inner and ">" not in inner
    assert "\n" not in inner and "\r" not in inner
    assert tag.count("\n") == 2


@given(
    st.text(max_size=60),
    st.one_of(st.none(), st.text(max_size=60)),
    st.booleans(),
)
def test_the_url_cannot_break_out_of_its_attribute(redir: str, value: str | None, js: bool) -> None:
    tag = pixel_tag(BASE, [CARS], TagOptions(javascript=js, redir=redir or None, value=value))
    src = re.search(r'src="([^"]*)"', tag)
    assert src is not None
    assert "<" not in src.group(1) and ">" not in src.group(1)
    assert not re.search(r"\s", src.group(1))
    after = tag[src.end() :].split("\n", 1)[0]
    assert after in (' width="1" height="1" />', ' type="text/javascript"></script>')
