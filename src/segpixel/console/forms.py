"""The Create / Edit Segment form ↔ the Segment Service's fields (`SegmentIn`), and every error
↔ the form field it belongs to, worded for the person who typed it.

The rules themselves stay in `segpixel.domain` (the API and the console share them): this module
only reads what was typed, builds the same body the API would get, and translates the API's field
names in the errors (`piggyback_pixels[1].url`) into the form's (`pb-3-url`, "URL").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from segpixel.api.schemas import SegmentIn
from segpixel.console.format import split_minutes
from segpixel.domain.errors import FieldError
from segpixel.domain.fields import CODE_RE
from segpixel.domain.limits import CODE_MAX_LEN, MAX_EXPIRE_MINUTES

FORM = "_form"  # errors that belong to no single field: shown above the form
EXPIRE_UNITS = {"minutes": 1, "hours": 60, "days": 1440}
TYPES = ("pixel", "querystring", "querystring_key_value")
LEVELS = ("advertiser", "member")
DETAILS_TAB, PIGGYBACK_TAB = "details", "piggyback"

# API field → (form field, the label the person sees next to it)
FIELD_OF = {
    "short_name": ("short_name", "Name"),
    "code": ("code", "Code"),
    "description": ("description", "Description"),
    "state": ("state", "State"),
    "expire_minutes": ("expire", "Keep user in segment"),
    "max_usersync_pixels": ("max_usersync_pixels", "Max Usersync Pixels"),
    "piggyback_pixels": ("piggybacks", "Piggyback pixels"),
    "querystring_mapping": ("type", "A Query String mapping"),
    "querystring_mapping.param": ("qs_param", "Parameter"),
    "querystring_mapping.value_type": ("qs_value_type", "Value type"),
    "querystring_mapping.values": ("qs_values", "Values"),
    "querystring_mapping.allow_empty_text": ("qs_values", "Allow empty text"),
    "querystring_mapping.publishers": ("qs_publishers", "Publishers"),
    "querystring_mapping.sites": ("qs_sites", "Sites"),
    "querystring_mapping.placements": ("qs_placements", "Placements"),
    "querystring_mapping_key_value": ("type", "A Query String Key Value mapping"),
    "querystring_mapping_key_value.qs_key": ("kv_key", "Key"),
    "querystring_mapping_key_value.qs_value": ("kv_value", "Value"),
    "advertiser_id": ("level", "Level"),
    "member_id": ("level", "Level"),
}
PIGGYBACK_FIELD = re.compile(r"piggyback_pixels\[(\d+)\]\.(url|pixel_type)")
INDEXED = re.compile(r"\[\d+\]")
RULE = re.compile(r"\(rule (\d)\)")


class FormErrors(dict[str, list[str]]):
    """Messages by form field; `FORM` holds those that belong to no field."""

    def add(self, key: str, message: str) -> None:
        self.setdefault(key, []).append(message)

    def on_tab(self, tab: str) -> int:
        return sum(len(v) for k, v in self.items() if _tab_of(k) == tab)

    def rules_broken(self) -> set[int]:
        """The SPEC §1.3 piggyback rules named by the errors (highlighted at the field)."""
        return {int(n) for messages in self.values() for m in messages for n in RULE.findall(m)}

    @property
    def first_tab(self) -> str:
        return PIGGYBACK_TAB if self and not self.on_tab(DETAILS_TAB) else DETAILS_TAB


def _tab_of(key: str) -> str:
    return PIGGYBACK_TAB if key == "piggybacks" or key.startswith("pb-") else DETAILS_TAB


@dataclass
class PiggybackRow:
    url: str = ""
    pixel_type: str = "img"


@dataclass
class Parsed:
    """What the form asks for, as `SegmentIn` fields, or why it cannot be read."""

    fields: dict[str, Any]
    errors: FormErrors
    rows: list[int]  # the form row of each piggyback sent (empty rows are skipped)


@dataclass
class SegmentForm:
    short_name: str = ""
    description: str = ""
    code: str = ""
    state: str = "active"
    type: str = "pixel"
    qs_param: str = ""
    qs_value_type: str = "text"
    qs_values: str = ""  # one value (or prefix*) a line
    qs_allow_empty_text: bool = False
    qs_publishers: str = ""  # ids, separated by commas or spaces
    qs_sites: str = ""
    qs_placements: str = ""
    kv_key: str = ""
    kv_value: str = ""
    max_usersync_pixels: str = "0"
    expire_mode: str = "max"  # "max" (180 days) | "custom"
    expire_amount: str = ""
    expire_unit: str = "days"
    level: str = "advertiser"  # "advertiser" | "member"
    piggybacks: list[PiggybackRow] = field(default_factory=list)

    # -- in -------------------------------------------------------------------------------------

    @classmethod
    def from_form(cls, form: FormData) -> SegmentForm:
        def text(name: str, default: str = "") -> str:
            value = form.get(name)
            return value.strip() if isinstance(value, str) else default

        urls = [u for u in form.getlist("pb_url") if isinstance(u, str)]
        kinds = [t for t in form.getlist("pb_type") if isinstance(t, str)]
        kinds += ["img"] * (len(urls) - len(kinds))
        return cls(
            short_name=text("short_name"),
            description=text("description"),
            code=text("code"),
            state=text("state", "active"),
            type=text("type", "pixel"),
            qs_param=text("qs_param"),
            qs_value_type=text("qs_value_type", "text"),
            qs_values=text("qs_values"),
            qs_allow_empty_text=form.get("qs_allow_empty_text") == "on",
            qs_publishers=text("qs_publishers"),
            qs_sites=text("qs_sites"),
            qs_placements=text("qs_placements"),
            kv_key=text("kv_key"),
            kv_value=text("kv_value"),
            max_usersync_pixels=text("max_usersync_pixels", "0"),
            expire_mode=text("expire_mode", "max"),
            expire_amount=text("expire_amount"),
            expire_unit=text("expire_unit", "days"),
            level=text("level", "advertiser"),
            piggybacks=[PiggybackRow(u.strip(), t) for u, t in zip(urls, kinds, strict=False)],
        )

    @classmethod
    def from_segment(cls, segment: dict[str, Any]) -> SegmentForm:
        """The form showing a stored segment (`segment_out`), for editing."""
        form = cls(
            short_name=segment["short_name"],
            description=segment["description"] or "",
            code=segment["code"] or "",
            state=segment["state"],
            type=segment["type"],
            max_usersync_pixels=str(segment["max_usersync_pixels"] or 0),
            level="member" if segment["advertiser_id"] is None else "advertiser",
            piggybacks=[
                PiggybackRow(p["url"], p["pixel_type"]) for p in segment["piggyback_pixels"]
            ],
        )
        minutes = segment["expire_minutes"]
        if minutes is not None and minutes != MAX_EXPIRE_MINUTES:
            amount, unit = split_minutes(minutes)
            form.expire_mode, form.expire_amount, form.expire_unit = "custom", str(amount), unit
        if qs := segment["querystring_mapping"]:
            form.qs_param = qs["param"]
            form.qs_value_type = qs["value_type"]
            form.qs_values = "\n".join(qs["values"])
            form.qs_allow_empty_text = bool(qs["allow_empty_text"])
            form.qs_publishers = ", ".join(str(p["id"]) for p in qs["publishers"])
            form.qs_sites = ", ".join(str(p["id"]) for p in qs["sites"])
            form.qs_placements = ", ".join(str(p["id"]) for p in qs["placements"])
        if kv := segment["querystring_mapping_key_value"]:
            form.kv_key, form.kv_value = kv["qs_key"], kv["qs_value"] or ""
        return form

    # -- out ------------------------------------------------------------------------------------

    def parse(self) -> Parsed:
        """The API body this form stands for (every field: the form shows them all)."""
        errors = FormErrors()
        rows = [i for i, row in enumerate(self.piggybacks) if row.url]  # blank rows: not sent
        if self.type not in TYPES:
            errors.add("type", "Type must be Pixel, Query String or Query String Key Value.")
        if self.level not in LEVELS:
            errors.add("level", "Level must be this advertiser or the whole member.")
        fields: dict[str, Any] = {
            "short_name": self.short_name,
            "code": self.code or None,
            "description": self.description or None,
            "state": self.state,
            "expire_minutes": self._expire_minutes(errors),
            "max_usersync_pixels": _whole(
                self.max_usersync_pixels or "0",
                "max_usersync_pixels",
                "Max Usersync Pixels",
                errors,
            ),
            "piggyback_pixels": [
                {"url": self.piggybacks[i].url, "pixel_type": self.piggybacks[i].pixel_type}
                for i in rows
            ],
            "querystring_mapping": self._qs_mapping(errors) if self.type == TYPES[1] else None,
            "querystring_mapping_key_value": (
                {"qs_key": self.kv_key, "qs_value": self.kv_value or None}
                if self.type == TYPES[2]
                else None
            ),
        }
        if not errors:
            try:  # the shapes the API accepts (NUL bytes, known pixel types…), checked the same way
                SegmentIn.model_validate(fields)
            except ValidationError as exc:
                self.add_errors(errors, [_field_error(e) for e in exc.errors()], rows)
        return Parsed(fields, errors, rows)

    def _expire_minutes(self, errors: FormErrors) -> int | None:
        if self.expire_mode != "custom":
            return None  # the 180-day maximum (SPEC §1.2)
        if self.expire_unit not in EXPIRE_UNITS:
            errors.add("expire", "Keep user in segment: choose minutes, hours or days.")
            return None
        if not self.expire_amount:
            errors.add(
                "expire",
                f"Keep user in segment: enter a number of {self.expire_unit}, or choose 180 days.",
            )
            return None
        amount = _whole(self.expire_amount, "expire", "Keep user in segment", errors)
        return None if amount is None else amount * EXPIRE_UNITS[self.expire_unit]

    def _qs_mapping(self, errors: FormErrors) -> dict[str, Any]:
        def ids(key: str, label: str) -> list[dict[str, int]]:
            found = []
            for part in re.split(r"[\s,]+", getattr(self, key)):
                if not part:
                    continue
                if not part.isdigit() or not 1 <= int(part) <= 2**31 - 1:
                    errors.add(
                        key,
                        f"{label} must be ids (whole numbers) separated by commas; "
                        f"{part[:40]!r} is not one.",
                    )
                    return []
                found.append({"id": int(part)})
            return found

        return {
            "param": self.qs_param,
            "value_type": self.qs_value_type,
            "values": [v.strip() for v in self.qs_values.splitlines() if v.strip()]
            if self.qs_value_type == "text"
            else [],
            "allow_empty_text": self.qs_allow_empty_text,
            "publishers": ids("qs_publishers", "Publishers"),
            "sites": ids("qs_sites", "Sites"),
            "placements": ids("qs_placements", "Placements"),
        }

    # -- errors ---------------------------------------------------------------------------------

    def add_errors(self, errors: FormErrors, found: list[FieldError], rows: list[int]) -> None:
        """The API's field errors, each put at its form field and worded for this form."""
        for error in found:
            key, message = self._place(error, rows)
            errors.add(key, message)

    def _place(self, error: FieldError, rows: list[int]) -> tuple[str, str]:
        name, rest = error.field, error.message.removeprefix(error.field)
        if match := PIGGYBACK_FIELD.fullmatch(name):
            index = int(match.group(1))
            row = rows[index] if index < len(rows) else index
            part = "url" if match.group(2) == "url" else "type"
            return f"pb-{row}-{part}", ("URL" if part == "url" else "Type") + rest
        base = INDEXED.sub("", name).removesuffix(".id")  # `….sites[0].id` is the Sites field
        if base not in FIELD_OF:
            return FORM, error.message
        key, label = FIELD_OF[base]
        if key == "expire" and self.expire_mode == "custom":
            return key, self._expire_message()
        if key == "code" and self.code and not CODE_RE.fullmatch(self.code):
            return key, _code_message(self.code)
        return key, label + rest

    def _expire_message(self) -> str:
        typed = f"{self.expire_amount} {self.expire_unit}"
        limit = f"180 days ({MAX_EXPIRE_MINUTES:,} minutes)"
        return (
            f"Keep user in segment can be at most {limit}; {typed} is longer. "
            "Choose 180 days or a shorter time."
        )


def _whole(raw: str, key: str, label: str, errors: FormErrors) -> int | None:
    text = raw.replace(",", "").replace("_", "")
    if text.isdigit() and text.isascii():
        return int(text)
    errors.add(key, f"{label} must be a whole number, 0 or more (got {raw[:40]!r}).")
    return None


def _code_message(code: str) -> str:
    """Say which characters of what was typed cannot be in a code (the rule is beside the field)."""
    bad = list(
        dict.fromkeys(ch for ch in code if not (ch.isascii() and (ch.isalnum() or ch in "_-")))
    )
    if not bad:
        return f"Code is {len(code)} characters long; a code has at most {CODE_MAX_LEN}."
    names = ["a space" if ch == " " else repr(ch) for ch in bad]
    shown = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return (
        f"Code {code!r} contains {shown}, which a code cannot have: use letters, digits, "
        "'_' and '-' only."
    )


def _field_error(err: Any) -> FieldError:
    """A pydantic error as a FieldError named the way the API names the field."""
    parts = [str(p) for p in err.get("loc", ())]
    name = ".".join(f"[{p}]" if p.isdigit() else p for p in parts).replace(".[", "[")
    rule = str(err.get("msg", "is invalid")).removeprefix("Value error, ")
    return FieldError(name, f"{name} {rule[0].lower()}{rule[1:]}")
