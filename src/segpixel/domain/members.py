"""The member's rules (SPEC §1.1): the tenant, its redirect allow-list and its dongle."""

from __future__ import annotations

import re
from dataclasses import dataclass

from segpixel.domain.errors import FieldError, field_error
from segpixel.domain.fields import check_host_name, check_name, check_state

DONGLE_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")
MAX_REDIRECT_DOMAINS = 500


@dataclass(frozen=True, slots=True)
class MemberDraft:
    name: str
    state: str = "active"
    redirect_domains: tuple[str, ...] = ()
    dongle: str | None = None


def member_errors(draft: MemberDraft) -> list[FieldError]:
    errors = [*check_name("name", draft.name), *check_state("state", draft.state)]
    if len(draft.redirect_domains) > MAX_REDIRECT_DOMAINS:
        errors.append(
            field_error("redirect_domains", f"may list at most {MAX_REDIRECT_DOMAINS} host names")
        )
    for i, host in enumerate(draft.redirect_domains):
        errors += check_host_name(f"redirect_domains[{i}]", host)
    if draft.dongle is not None and not DONGLE_RE.fullmatch(draft.dongle):
        errors.append(
            field_error("dongle", "must be 8 to 64 characters, each a letter, a digit, '_' or '-'")
        )
    return errors


def normalize_redirect_domains(hosts: tuple[str, ...]) -> tuple[str, ...]:
    """Host names compare case-insensitively; keep one of each, in the order given."""
    return tuple(dict.fromkeys(h.strip().lower().rstrip(".") for h in hosts))


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """`example.com` allows exactly that host; `*.example.com` allows its subdomains."""
    host = host.lower().rstrip(".")
    for entry in allowed:
        if entry.startswith("*."):
            if host.endswith(entry[1:]):
                return True
        elif host == entry:
            return True
    return False
