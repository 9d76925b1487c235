"""A member's batch file format (SPEC §9.2): the reference's Batch Segment Service configuration.

A line is `UID <separator_1> SEG <separator_2> SEG … [<separator_4> SEG …]`, and a SEG block is
its `segment_fields` joined by `separator_3`. Segments after `separator_4` are removed from the
user. The default is the format of SPEC §9.1 (`UID,SEG[:EXPIRE_MINUTES[:VALUE]];SEG…`), so files
written for the one-step upload keep working.

Decisions where the reference is strict or silent:
- A SEG block may leave out trailing fields after its segment (the default format always allowed
  `SEG` alone); more fields than configured is an error.
- Separators are one character each, all different except separator_1 and separator_3 (as the
  reference allows), never a character of ids, codes or numbers, nor one the reference forbids.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from segpixel.domain.errors import FieldError, field_error

SEG_ID = "SEG_ID"
SEG_CODE = "SEG_CODE"
EXPIRATION = "EXPIRATION"
VALUE = "VALUE"
TIMESTAMP = "TIMESTAMP"
SEGMENT_FIELDS = (SEG_ID, SEG_CODE, EXPIRATION, VALUE, TIMESTAMP)
NOT_IMPLEMENTED_FIELDS = ("MEMBER_ID",)  # the reference's cross-member uploads
# How reasons name the fields: the default format reads as SPEC §9.1 writes it.
SHOWN = {SEG_ID: "SEG", SEG_CODE: "SEG_CODE", EXPIRATION: "EXPIRE_MINUTES"}
FORBIDDEN = set("[](){}$\\/|?*+-")  # the reference's list
SEPARATORS = ("separator_1", "separator_2", "separator_3", "separator_4")
_NAMES = {",": "comma", ";": "semicolon", ":": "colon", "\t": "tab", " ": "space", "^": "caret"}


@dataclass(frozen=True, slots=True)
class BatchFormat:
    separator_1: str = ","  # user id | segments
    separator_2: str = ";"  # segment | segment
    separator_3: str = ":"  # field | field of a segment
    separator_4: str | None = None  # adds | removes (None: no removal list; -1 removes)
    segment_fields: tuple[str, ...] = (SEG_ID, EXPIRATION, VALUE)

    @property
    def segment_index(self) -> int:
        return next(i for i, name in enumerate(self.segment_fields) if name in (SEG_ID, SEG_CODE))

    def describe_block(self, fields: Iterable[str] | None = None) -> str:
        """`SEG[:EXPIRE_MINUTES[:VALUE]]`: the block as reasons name it."""
        names = [SHOWN.get(n, n) for n in (fields or self.segment_fields)]
        required = self.segment_index + 1
        head = self.separator_3.join(names[:required])
        tail = "".join(f"[{self.separator_3}{n}" for n in names[required:])
        return head + tail + "]" * (len(names) - required)

    def describe(self) -> str:
        """`UID,SEG[:EXPIRE_MINUTES[:VALUE]];SEG...`: the line as reasons name it."""
        removes = f"[{self.separator_4}SEG...]" if self.separator_4 else ""
        return f"UID{self.separator_1}{self.describe_block()}{self.separator_2}SEG...{removes}"

    def strip_chars(self) -> str:
        """The white space trimmed around a line and its parts: never one of the separators."""
        used = {self.separator_1, self.separator_2, self.separator_3, self.separator_4}
        return "".join(c for c in " \t\r\n\v\f" if c not in used)

    def as_fields(self) -> dict[str, Any]:
        return {
            **{name: getattr(self, name) for name in SEPARATORS},
            "segment_fields": list(self.segment_fields),
        }

    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> BatchFormat:
        known = {name: fields[name] for name in SEPARATORS if name in fields}
        if "segment_fields" in fields:
            known["segment_fields"] = tuple(fields["segment_fields"])
        return cls(**known)


DEFAULT_FORMAT = BatchFormat()


def separator_name(sep: str) -> str:
    return _NAMES.get(sep, repr(sep))


def parse_segment_fields(value: Any) -> list[str] | None:
    """The reference writes the list as text, `"[SEG_ID,EXPIRATION,VALUE]"`; a JSON list too."""
    if isinstance(value, str):
        inner = value.strip().removeprefix("[").removesuffix("]")
        return [part.strip().strip("'\"") for part in inner.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value]
    return None


def format_errors(fields: dict[str, Any]) -> list[FieldError]:
    """Every rule the configuration breaks (the whole of it: stored fields and changes merged)."""
    errors: list[FieldError] = []
    seps: dict[str, str] = {}
    for name in SEPARATORS:
        sep = fields.get(name)
        if sep is None:
            if name != "separator_4":
                errors.append(field_error(name, "is required (one character)"))
            continue
        if not isinstance(sep, str) or len(sep) != 1:
            errors.append(field_error(name, f"must be exactly one character (got {sep!r})"))
        elif sep in FORBIDDEN or sep.isalnum() or sep in "_\r\n\x00" or ord(sep) > 0xFF:
            errors.append(
                field_error(
                    name,
                    f"must not be {sep!r}: a separator is one Latin-1 character that is no "
                    "letter, digit or '_', no line end, and none of [ ] ( ) { } $ \\ / | ? * + -",
                )
            )
        else:
            seps[name] = sep
    for i, a in enumerate(SEPARATORS):
        for b in SEPARATORS[i + 1 :]:
            if a in seps and b in seps and seps[a] == seps[b]:
                if {a, b} == {"separator_1", "separator_3"}:
                    continue  # the reference allows these two to be the same
                errors.append(field_error(b, f"must differ from {a} (both {seps[a]!r})"))
    names = fields.get("segment_fields")
    if names is None:
        errors.append(field_error("segment_fields", "is required"))
        return errors
    listed = parse_segment_fields(names)
    if listed is None:
        errors.append(field_error("segment_fields", "must be a list of field names"))
        return errors
    unknown = [n for n in listed if n not in SEGMENT_FIELDS]
    if unknown:
        not_ours = [n for n in unknown if n in NOT_IMPLEMENTED_FIELDS]
        why = f" ({', '.join(not_ours)}: documented by the reference, not implemented)"
        errors.append(
            field_error(
                "segment_fields",
                f"must name only {', '.join(SEGMENT_FIELDS)} (got {', '.join(unknown)})"
                + (why if not_ours else ""),
            )
        )
    if len(set(listed)) != len(listed):
        errors.append(field_error("segment_fields", "must not name a field twice"))
    if sum(n in (SEG_ID, SEG_CODE) for n in listed) != 1:
        errors.append(field_error("segment_fields", "must name exactly one of SEG_ID, SEG_CODE"))
    return errors
