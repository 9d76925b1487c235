"""The rules of inventory, creatives and line items (SPEC §1.5), each with its sentence."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from segpixel.domain.creatives import CreativeDraft, CreativeSegment, creative_errors
from segpixel.domain.errors import FieldError
from segpixel.domain.inventory import InventoryDraft, inventory_errors
from segpixel.domain.line_items import LineItemDraft, line_item_errors

CREATIVE = CreativeDraft(name="Ford", width=300, height=250, content="<p>Ford</p>")
LINE_ITEM = LineItemDraft(name="Ford spring")


def only(errors: list[FieldError]) -> str:
    assert len(errors) == 1, errors
    error = errors[0]
    assert error.message.startswith(error.field + " "), "the sentence starts with the field"
    return error.message


def test_valid_drafts_have_no_errors() -> None:
    assert inventory_errors(InventoryDraft("News")) == []
    assert creative_errors(CREATIVE) == []
    assert (
        creative_errors(replace(CREATIVE, content=None, media_url="https://cdn.example/a.png"))
        == []
    )
    assert line_item_errors(LINE_ITEM) == []
    assert LINE_ITEM.priority == 5 and LINE_ITEM.weight is None


@pytest.mark.parametrize(
    ("draft", "message"),
    [
        pytest.param(InventoryDraft(""), "name is required and must not be blank", id="name"),
        pytest.param(
            InventoryDraft("x" * 256), "name must be at most 255 characters (got 256)", id="long"
        ),
        pytest.param(
            InventoryDraft("News", "paused"),
            "state must be 'active' or 'inactive' (got 'paused')",
            id="state",
        ),
    ],
)
def test_inventory_rules(draft: InventoryDraft, message: str) -> None:
    assert only(inventory_errors(draft)) == message


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"name": " "}, "name is required and must not be blank", id="name"),
        pytest.param(
            {"state": "on"}, "state must be 'active' or 'inactive' (got 'on')", id="state"
        ),
        pytest.param(
            {"width": None}, "width is required: the creative's size in pixels", id="width-required"
        ),
        pytest.param(
            {"height": 0}, "height must be between 1 and 10000 pixels (got 0)", id="height-range"
        ),
        pytest.param(
            {"media_url": "https://cdn.example/a.png"},
            "content and media_url cannot both be set: a creative is either HTML (content) or "
            "an image (media_url)",
            id="both-bodies",
        ),
        pytest.param(
            {"content": None},
            "content or media_url is required: what the creative shows",
            id="no-body",
        ),
        pytest.param(
            {"content": "x" * 65_537},
            "content must be at most 65536 characters (got 65537)",
            id="content-long",
        ),
        pytest.param(
            {"content": None, "media_url": "cdn.example/a.png"},
            "media_url must be an absolute http:// or https:// URL (got 'cdn.example/a.png')",
            id="media-url",
        ),
        pytest.param(
            {"click_url": "javascript:alert(1)"},
            "click_url must be an absolute http:// or https:// URL (got 'javascript:alert(1)')",
            id="click-url",
        ),
        pytest.param(
            {"click_url": "https://a.example/\r\nSet-Cookie: x"},
            "click_url must be a URL without spaces or control characters",
            id="click-url-header-split",
        ),
        pytest.param(
            {"segments": (CreativeSegment(1, "add_on_hover"),)},
            "segments[0].action must be 'add_on_view' or 'add_on_click' (got 'add_on_hover')",
            id="action",
        ),
        pytest.param(
            {"segments": (CreativeSegment(1, "add_on_view"), CreativeSegment(1, "add_on_view"))},
            "segments[1] names segment 1 with action 'add_on_view' twice",
            id="twice",
        ),
        pytest.param(
            {"segments": tuple(CreativeSegment(i, "add_on_view") for i in range(101))},
            "segments may hold at most 100 items (got 101)",
            id="too-many",
        ),
    ],
)
def test_creative_rules(changes: dict[str, Any], message: str) -> None:
    assert only(creative_errors(replace(CREATIVE, **changes))) == message


def test_one_segment_may_be_added_on_view_and_on_click() -> None:
    both = (CreativeSegment(1, "add_on_view"), CreativeSegment(1, "add_on_click"))
    assert creative_errors(replace(CREATIVE, segments=both)) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"name": ""}, "name is required and must not be blank", id="name"),
        pytest.param({"state": "x"}, "state must be 'active' or 'inactive' (got 'x')", id="state"),
        pytest.param(
            {"priority": 0}, "priority must be between 1 and 20 (got 0)", id="priority-low"
        ),
        pytest.param(
            {"priority": 21}, "priority must be between 1 and 20 (got 21)", id="priority-high"
        ),
        pytest.param({"weight": 0}, "weight must be between 1 and 1000 (got 0)", id="weight"),
        pytest.param({"creatives": (4, 5, 4)}, "creatives[2] names creative 4 twice", id="twice"),
        pytest.param(
            {"creatives": tuple(range(1, 102))},
            "creatives may hold at most 100 (got 101)",
            id="too-many",
        ),
        pytest.param(
            {"profile": {"segment_targets": [{"id": 1, "other_equals": 2, "other_in_list": [2]}]}},
            "profile.segment_targets[0].other_in_list and other_equals cannot both be set: use "
            "one or the other",
            id="profile-rule",
        ),
    ],
)
def test_line_item_rules(changes: dict[str, Any], message: str) -> None:
    assert only(line_item_errors(replace(LINE_ITEM, **changes))) == message
