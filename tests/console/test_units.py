"""The console's pure pieces: durations, the chart's geometry, form ↔ fields ↔ errors."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from starlette.datastructures import FormData

from segpixel.console.chart import build, nice_ceiling
from segpixel.console.format import keep_user, split_minutes
from segpixel.console.forms import FORM, FormErrors, PiggybackRow, SegmentForm
from segpixel.console.stats import DayLoads
from segpixel.console.urls import console_url
from segpixel.domain.errors import FieldError


@pytest.mark.parametrize(
    ("minutes", "shown"),
    [
        pytest.param(None, "180 days", id="null"),
        pytest.param(259_200, "180 days", id="max"),
        pytest.param(0, "This request only", id="zero"),
        pytest.param(1, "1 minute", id="one-minute"),
        pytest.param(90, "90 minutes", id="minutes"),
        pytest.param(120, "2 hours", id="hours"),
        pytest.param(1440, "1 day", id="one-day"),
        pytest.param(43_200, "30 days", id="days"),
    ],
)
def test_keep_user_reads_in_the_largest_exact_unit(minutes: int | None, shown: str) -> None:
    assert keep_user(minutes) == shown


def test_split_minutes() -> None:
    assert split_minutes(4320) == (3, "days")
    assert split_minutes(180) == (3, "hours")
    assert split_minutes(61) == (61, "minutes")


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [(0, 1), (1, 1), (3, 5), (7, 10), (11, 20), (150, 200), (999, 1000), (1001, 2000)],
)
def test_the_y_axis_ends_on_a_round_number(value: int, ceiling: int) -> None:
    assert nice_ceiling(value) == ceiling


def test_the_chart_has_a_bar_per_day_and_the_uniques_line_over_them() -> None:
    first = date(2026, 11, 1)
    days = [DayLoads(first + timedelta(days=i), loads=i * 10, uniques=i * 5) for i in range(30)]
    chart = build(days)
    assert len(chart.bars) == 30 and chart.total_loads == sum(i * 10 for i in range(30))
    assert chart.y_ticks[0][1] == "0" and chart.y_ticks[-1][1] == "500"
    tallest = chart.bars[-1]
    assert tallest.label == "2026-11-30: 290 loads, 145 uniques"
    assert tallest.y < chart.bars[1].y < chart.bottom  # higher loads, higher bar
    assert chart.bars[0].height == 0 and not chart.empty
    assert len(chart.uniques_line.split()) == 30
    assert [label for _, label in chart.x_labels] == [
        "Nov 01",
        "Nov 06",
        "Nov 11",
        "Nov 16",
        "Nov 21",
        "Nov 26",
    ]
    ticks = [label for _, label in build([DayLoads(first, 2, 1)]).y_ticks]
    assert ticks == ["0", "1", "2"]  # small counts: whole numbers only
    assert build([DayLoads(first, 0, 0)]).empty


def test_console_urls_leave_out_empty_options() -> None:
    assert console_url("/a", search="", start=0, state=None) == "/console/a?start=0"
    assert console_url("/a", segment=[1, 2]) == "/console/a?segment=1&segment=2"
    assert console_url("/a", search="a&b") == "/console/a?search=a%26b"


def form_data(**fields: object) -> FormData:
    items: list[tuple[str, str]] = []
    for key, value in fields.items():
        items += [(key, v) for v in value] if isinstance(value, list) else [(key, str(value))]
    return FormData(items)


def test_errors_of_piggybacks_land_on_the_row_they_came_from() -> None:
    form = SegmentForm.from_form(
        form_data(
            short_name="x",
            pb_url=["", "https://ok.example/a.js", "", "nope"],
            pb_type=["img", "js", "img", "js"],
        )
    )
    parsed = form.parse()
    assert parsed.rows == [1, 3]  # blank rows are not sent
    assert [p["url"] for p in parsed.fields["piggyback_pixels"]] == [
        "https://ok.example/a.js",
        "nope",
    ]
    errors = FormErrors()
    form.add_errors(
        errors,
        [
            FieldError("piggyback_pixels[1].url", "piggyback_pixels[1].url must be absolute"),
            FieldError("piggyback_pixels[0].pixel_type", "piggyback_pixels[0].pixel_type is bad"),
            FieldError("piggyback_pixels", "piggyback_pixels must be one type (rule 2)"),
            FieldError("something_else", "something_else broke"),
        ],
        parsed.rows,
    )
    assert errors == {
        "pb-3-url": ["URL must be absolute"],
        "pb-1-type": ["Type is bad"],
        "piggybacks": ["Piggyback pixels must be one type (rule 2)"],
        FORM: ["something_else broke"],
    }
    assert errors.rules_broken() == {2}
    assert errors.on_tab("piggyback") == 3 and errors.on_tab("details") == 1


def test_a_stored_segment_shows_in_the_form_and_reads_back_the_same() -> None:
    segment = {
        "short_name": "Readers",
        "description": None,
        "code": "r",
        "state": "active",
        "type": "querystring",
        "max_usersync_pixels": 0,
        "advertiser_id": None,
        "expire_minutes": 90,
        "piggyback_pixels": [{"url": "https://a.example/x.js", "pixel_type": "js"}],
        "querystring_mapping": {
            "param": "sec",
            "value_type": "text",
            "values": ["a", "b*"],
            "allow_empty_text": False,
            "publishers": [{"id": 3}],
            "sites": [],
            "placements": [{"id": 7}, {"id": 8}],
        },
        "querystring_mapping_key_value": None,
    }
    form = SegmentForm.from_segment(segment)
    assert (form.expire_mode, form.expire_amount, form.expire_unit) == ("custom", "90", "minutes")
    assert form.level == "member" and form.qs_placements == "7, 8"
    assert form.piggybacks == [PiggybackRow("https://a.example/x.js", "js")]
    parsed = form.parse()
    assert parsed.errors == {}
    assert parsed.fields == {
        "short_name": "Readers",
        "code": "r",
        "description": None,
        "state": "active",
        "expire_minutes": 90,
        "max_usersync_pixels": 0,
        "piggyback_pixels": segment["piggyback_pixels"],
        "querystring_mapping": segment["querystring_mapping"],
        "querystring_mapping_key_value": None,
    }


def test_text_the_api_could_not_store_is_refused_at_its_field() -> None:
    form = SegmentForm.from_form(
        form_data(short_name="bad\x00name", pb_url=["https://a.example/\x00"])
    )
    errors = form.parse().errors
    assert errors["short_name"] == ["Name must not contain NUL characters"]
    assert errors["pb-0-url"] == ["URL must not contain NUL characters"]
