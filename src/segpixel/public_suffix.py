"""Is a host name a public suffix (`com`, `co.uk`, `github.io`)? The Public Suffix List as the
`publicsuffixlist` package bundles it (ICANN and private sections; no network at run time)."""

from __future__ import annotations

from functools import lru_cache

from publicsuffixlist import PublicSuffixList


@lru_cache(maxsize=1)
def _list() -> PublicSuffixList:
    return PublicSuffixList()


def is_public_suffix(host: str) -> bool:
    """True for a suffix under which anyone may register names (an unlisted top-level name,
    such as `localhost`, counts as one, as the list's default rule says)."""
    return bool(host) and bool(_list().is_public(host.strip().lower().rstrip(".")))
