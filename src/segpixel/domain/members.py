"""The member's rules (SPEC §1.1): the tenant, its redirect allow-list and its dongle."""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
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


def _never(_host: str) -> bool:
    return False


def member_errors(
    draft: MemberDraft, is_public_suffix: Callable[[str], bool] = _never
) -> list[FieldError]:
    """Everything wrong with the draft; `is_public_suffix` tells which redirect domains would
    open every site under a public suffix (segpixel.public_suffix: the Public Suffix List)."""
    errors = [*check_name("name", draft.name), *check_state("state", draft.state)]
    if len(draft.redirect_domains) > MAX_REDIRECT_DOMAINS:
        errors.append(
            field_error("redirect_domains", f"may list at most {MAX_REDIRECT_DOMAINS} host names")
        )
    for i, host in enumerate(draft.redirect_domains):
        name = f"redirect_domains[{i}]"
        found = check_host_name(name, host)
        if not found and (suffix := public_suffix_under(host, is_public_suffix)):
            found = [
                field_error(
                    name,
                    f"{host!r} would allow every site under the public suffix {suffix!r}; "
                    "list your own host names (ads.example.com, *.cdn.example.com)",
                )
            ]
        errors += found
    if draft.dongle is not None and not DONGLE_RE.fullmatch(draft.dongle):
        errors.append(
            field_error("dongle", "must be 8 to 64 characters, each a letter, a digit, '_' or '-'")
        )
    return errors


def normalize_redirect_domains(hosts: tuple[str, ...]) -> tuple[str, ...]:
    """Host names compare case-insensitively; keep one of each, in the order given."""
    return tuple(dict.fromkeys(h.strip().lower().rstrip(".") for h in hosts))


def public_suffix_under(entry: str, is_public_suffix: Callable[[str], bool]) -> str | None:
    """The public suffix an allow-list entry would open wholly: `co.uk` itself, or the `com`
    of `*.com` (a wildcard directly over one); None for an entry of one's own."""
    host = entry.strip().lower().rstrip(".")
    host = host[2:] if host.startswith("*.") else host
    return host if is_public_suffix(host) else None


def usable_redirect_domains(
    entries: tuple[str, ...], is_public_suffix: Callable[[str], bool]
) -> tuple[str, ...]:
    """The entries that may open redirects: one stored before the public-suffix rule never does."""
    return tuple(e for e in entries if public_suffix_under(e, is_public_suffix) is None)


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


def dongle_opens(dongle: str | None, secret: str) -> bool:
    """Whether `dongle` is the member's secret `secret` (compared in constant time)."""
    return bool(dongle) and hmac.compare_digest((dongle or "").encode(), secret.encode())
