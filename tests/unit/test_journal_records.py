"""Journal records (profiles/journal.py): a text value rides along; older records still read."""

from __future__ import annotations

import orjson

from segpixel.domain.profile import Add, Mutation
from segpixel.profiles.base import BatchToken
from segpixel.profiles.journal import decode_batch, encode_batch


def test_a_batch_with_text_values_round_trips() -> None:
    batch = [
        Mutation(7, 100, (Add(1, 200, None, "ford"), Add(2, 300, 5)), source="querystring"),
        Mutation(8, 101, (), (3,)),
    ]
    mutations, token = decode_batch(encode_batch(batch, BatchToken("w", 4)))
    assert mutations == batch and token == BatchToken("w", 4)


def test_a_record_written_before_text_values_still_reads() -> None:
    old = {"writer": "w", "seq": 1, "mutations": [[7, 100, [[1, 200, 9]], [], [], [], "pixel", []]]}
    (mutation,), _ = decode_batch(orjson.dumps(old))
    assert mutation.adds == (Add(1, 200, 9),) and mutation.adds[0].text is None
