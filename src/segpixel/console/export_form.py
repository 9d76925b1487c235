"""The Export pixels dialog: its options ↔ `domain.tags` (the reference's exact tag form)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from starlette.datastructures import FormData

from segpixel.catalog.tables import Member, Segment
from segpixel.console.forms import FormErrors
from segpixel.domain.fields import CODE_RE, check_absolute_url
from segpixel.domain.limits import VALUE_MAX
from segpixel.domain.members import host_allowed
from segpixel.domain.tags import TaggedSegment, TagOptions, pixel_tag

# A value goes into the tag as written (`add=12:VALUE`), so only characters that cannot end the
# item or the parameter are allowed: a number, or a macro the page fills in such as ${PRICE}.
VALUE_RE = re.compile(r"[A-Za-z0-9_.\-${}\[\]%]{1,100}")
VALUE_RULE = (
    f"must be a number from 1 to {VALUE_MAX:,} or a macro your page fills in, such as "
    "${VALUE} (letters, digits and _ - . $ { } [ ] % only)"
)
VALUE_MODES = ("none", "all", "each")


@dataclass(frozen=True)
class Tag:
    title: str
    text: str


@dataclass
class ExportForm:
    segment_ids: list[int]
    tag_type: str = "js"  # "js" (recommended) | "img"
    secure: bool = True
    combine: bool = True  # one tag adding the user to every selected segment
    use_codes: bool = False
    also_add: str = ""
    remove: str = ""
    value_mode: str = "none"  # "none" | "all" (one value) | "each" (a value per segment)
    value: str = ""
    values: dict[int, str] = field(default_factory=dict)
    redirect: str = ""

    @classmethod
    def from_form(cls, form: FormData, segment_ids: list[int]) -> ExportForm:
        def text(name: str) -> str:
            value = form.get(name)
            return value.strip() if isinstance(value, str) else ""

        return cls(
            segment_ids=segment_ids,
            tag_type="img" if text("tag_type") == "img" else "js",
            secure=form.get("secure") == "on",
            combine=text("combine") != "separate",
            use_codes=form.get("use_codes") == "on",
            also_add=text("also_add"),
            remove=text("remove"),
            value_mode=text("value_mode") if text("value_mode") in VALUE_MODES else "none",
            value=text("value"),
            values={i: text(f"value_{i}") for i in segment_ids},
            redirect=text("redirect"),
        )

    def base_url(self, public_url: str) -> str:
        """The server's public URL, over https unless the tag is to be plain http."""
        return urlsplit(public_url)._replace(scheme="https" if self.secure else "http").geturl()

    def build(
        self, public_url: str, segments: list[Segment], member: Member, known: list[Segment]
    ) -> tuple[list[Tag], FormErrors, list[str]]:
        """The tags, or the errors at their fields; plus warnings that do not stop the export."""
        errors = FormErrors()
        if self.use_codes:
            for s in segments:
                if not s.code:
                    errors.add(
                        "use_codes",
                        f"Segment {s.id} ({s.short_name}) has no code. Give it one (Edit, then "
                        "+ Advanced Options: Code) or export by id.",
                    )
        also_add = self._items("also_add", "Add to further segments", known, errors)
        remove = self._items("remove", "Remove from segments", known, errors)
        value = self._value("value", self.value, errors) if self.value_mode == "all" else None
        each = {
            s.id: self._value(f"value_{s.id}", self.values.get(s.id, ""), errors)
            for s in segments
            if self.value_mode == "each"
        }
        warnings = self._redirect_checks(segments, member, errors)
        if errors:
            return [], errors, warnings
        options = TagOptions(
            javascript=self.tag_type == "js",
            use_codes=self.use_codes,
            value=value,
            redir=self.redirect or None,
            also_add=tuple(also_add),
            remove=tuple(remove),
        )
        tagged = [
            TaggedSegment(s.id, s.short_name, s.code, s.member_id, each.get(s.id)) for s in segments
        ]
        base = self.base_url(public_url)
        groups = [tagged] if self.combine else [[t] for t in tagged]
        tags = [
            Tag(", ".join(t.name for t in group), pixel_tag(base, group, options))
            for group in groups
        ]
        return tags, errors, warnings

    def _value(self, key: str, raw: str, errors: FormErrors) -> str | None:
        if not raw:
            if self.value_mode == "all" and key == "value":
                errors.add(key, "Value: enter the value for every segment, or choose no value.")
            return None  # a segment left blank in "a value per segment" simply has none
        if not VALUE_RE.fullmatch(raw) or (raw.isdigit() and not 1 <= int(raw) <= VALUE_MAX):
            errors.add(key, f"Value {VALUE_RULE} (got {raw[:40]!r}).")
            return None
        return raw

    def _items(self, key: str, label: str, known: list[Segment], errors: FormErrors) -> list[str]:
        """Further segments, by id or by code as the tag names them, each optionally `:value`."""
        items = []
        ids = {str(s.id) for s in known}
        codes = {s.code for s in known if s.code}
        for part in (p for p in re.split(r"[\s,]+", getattr(self, key)) if p):
            name, _, value = part.partition(":")
            if self.use_codes:
                ok = bool(CODE_RE.fullmatch(name)) and name in codes
                what = f"{label}: {name!r} is not the code of a segment on this screen"
                hint = " (codes are case sensitive)"
            else:
                ok = name in ids
                what = f"{label}: {name!r} is not the id of a segment on this screen"
                hint = " (with Use codes off, name segments by id)"
            if not ok:
                errors.add(key, what + hint + ".")
            elif not value or self._value(key, value, errors) is not None:
                items.append(part)
        return items

    def _redirect_checks(
        self, segments: list[Segment], member: Member, errors: FormErrors
    ) -> list[str]:
        if not self.redirect:
            return []
        problems = check_absolute_url("redirect", self.redirect)
        if problems:
            errors.add("redirect", "Redirect URL must be an absolute http:// or https:// URL.")
            return []
        host = urlsplit(self.redirect).hostname or ""
        piggyback_hosts = {
            (urlsplit(p["url"]).hostname or "").lower()
            for s in segments
            for p in s.piggyback_pixels or ()
        }
        allowed = tuple(member.redirect_domains or ())
        if host_allowed(host, allowed) or host.lower() in piggyback_hosts:
            return []
        return [
            f"{host} is not one of {member.name}'s redirect domains, so the pixel server will "
            "not follow this redirect (it drops it and says why in the X-Segpixel-Warning "
            "header). Add the domain to the member's redirect_domains first."
        ]
