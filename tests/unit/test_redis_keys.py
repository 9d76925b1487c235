"""The Redis store's user keys (profiles/redis.py base62): two digits a division, the same text."""

from __future__ import annotations

from segpixel.profiles.redis import base62

DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def test_base62_two_digits_a_division_writes_the_same_number() -> None:
    for number in [*range(5000), 62**3 - 1, 62**3, 62**4 + 1, (1 << 63) - 1, (1 << 64) - 1]:
        text = base62(number)
        assert text == "0" or text[0] != "0"
        value = 0
        for char in text:
            value = value * 62 + DIGITS.index(char)
        assert value == number
