"""Token buckets and the client address the rate limits key on (segpixel.limits)."""

from __future__ import annotations

from segpixel.limits import ClientAddress, TokenBuckets, retry_after


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_a_burst_then_one_per_interval() -> None:
    clock = Clock()
    buckets = TokenBuckets(6, clock)  # 6 a minute: one every 10 s
    assert [buckets.take("a") for _ in range(6)] == [0.0] * 6
    assert buckets.take("a") == 10.0
    assert buckets.take("b") == 0.0  # its own bucket
    clock.now += 4
    assert round(buckets.take("a"), 6) == 6.0  # a refused call spends nothing
    assert round(buckets.wait("a"), 6) == 6.0
    clock.now += 6
    assert buckets.take("a") == 0.0
    clock.now += 3600
    assert [buckets.take("a") for _ in range(7)][-1] > 0  # refills to the burst, no further


def test_a_clock_that_steps_back_never_adds_tokens() -> None:
    clock = Clock()
    buckets = TokenBuckets(1, clock)
    assert buckets.take("a") == 0.0
    clock.now -= 500
    assert buckets.take("a") == 60.0


def test_the_oldest_clients_are_forgotten_beyond_the_cap() -> None:
    buckets = TokenBuckets(1, Clock(), max_keys=2)
    for key in ("a", "b", "c"):
        buckets.take(key)
    assert buckets.take("a") == 0.0  # forgotten: a fresh bucket
    assert buckets.take("c") == 60.0


def test_retry_after_is_a_whole_number_of_seconds_at_least_one() -> None:
    assert retry_after(0.01) == 1
    assert retry_after(11.2) == 12


def scope(peer: str, forwarded: str | None = None) -> dict:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return {"client": (peer, 1234), "headers": headers}


def test_x_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    none = ClientAddress("")
    assert none(scope("198.51.100.1", "203.0.113.9")) == "198.51.100.1"
    proxies = ClientAddress("10.0.0.0/8, 192.0.2.1")
    assert proxies(scope("10.1.2.3", "203.0.113.9")) == "203.0.113.9"
    # A client cannot pick its own address: the last untrusted hop wins.
    assert proxies(scope("10.1.2.3", "1.1.1.1, 203.0.113.9, 10.0.0.7")) == "203.0.113.9"
    assert proxies(scope("198.51.100.1", "203.0.113.9")) == "198.51.100.1"  # not a proxy
    assert proxies(scope("10.1.2.3")) == "10.1.2.3"
    assert ClientAddress("*")(scope("198.51.100.1", "203.0.113.9")) == "203.0.113.9"
    assert none({"headers": []}) == "unknown"
