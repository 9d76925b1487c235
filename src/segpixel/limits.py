"""Token buckets per client, and who the client is: the pieces every rate limit shares.

In memory, per worker process: a limit of N a minute lets a client spend N at once, then one every
60/N seconds. Used by the API's limits (`api.rate_limit`) and the pixel's (`edge.seg`).
"""

from __future__ import annotations

import ipaddress
import math
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

MAX_KEYS = 100_000  # clients remembered per limiter; the least recently seen are forgotten
EPSILON = 1e-9  # float dust: after exactly Retry-After seconds the call passes


class TokenBuckets:
    """One bucket per key: `per_minute` tokens (a `window` of other than 60 s: that many per
    window), refilled continuously."""

    def __init__(
        self,
        per_minute: int,
        clock: Callable[[], float],
        max_keys: int = MAX_KEYS,
        window: float = 60.0,
    ):
        self.capacity = float(per_minute)
        self.rate = per_minute / window  # tokens a second
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def _level(self, key: str, now: float) -> float:
        tokens, at = self._buckets.get(key, (self.capacity, now))
        return min(self.capacity, tokens + max(0.0, now - at) * self.rate)

    def wait(self, key: str) -> float:
        """Seconds until `key` has a whole token (0 when it has one now); takes nothing."""
        level = self._level(key, self.clock())
        return 0.0 if level >= 1 - EPSILON else (1 - level) / self.rate

    def take(self, key: str) -> float:
        """Spend a token: 0 when there was one, else the seconds to wait (nothing spent)."""
        now = self.clock()
        level = self._level(key, now)
        if level < 1 - EPSILON:
            return (1 - level) / self.rate
        self._buckets[key] = (level - 1, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return 0.0

    def give_back(self, key: str) -> None:
        """Return a token taken ahead (the attempt it was held for did not count)."""
        now = self.clock()
        if key in self._buckets:
            self._buckets[key] = (min(self.capacity, self._level(key, now) + 1), now)


def retry_after(seconds: float) -> int:
    return max(1, math.ceil(seconds))


class ClientAddress:
    """The client's IP for a request, honouring X-Forwarded-For from trusted proxies only."""

    def __init__(self, trusted: str = ""):
        names = [n.strip() for n in trusted.split(",") if n.strip()]
        self.trust_all = "*" in names
        self.networks = [ipaddress.ip_network(n, strict=False) for n in names if n != "*"]

    def _trusted(self, address: str) -> bool:
        if self.trust_all:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.networks)

    @property
    def enabled(self) -> bool:
        return self.trust_all or bool(self.networks)

    def trusts_peer(self, scope: dict[str, Any]) -> bool:
        """Whether the socket's peer is one of the trusted proxies (so its X-Forwarded-* count)."""
        client = scope.get("client")
        return self.enabled and client is not None and self._trusted(client[0])

    def __call__(self, scope: dict[str, Any]) -> str:
        client = scope.get("client")
        peer = client[0] if client else "unknown"
        if not self.trusts_peer(scope):
            return peer
        for name, value in scope.get("headers", ()):
            if name == b"x-forwarded-for":
                hops = [h.strip() for h in value.decode("latin-1").split(",") if h.strip()]
                for hop in reversed(hops):
                    if not self._trusted(hop):
                        return hop
                return hops[0] if hops else peer
        return peer
