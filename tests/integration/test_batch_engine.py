"""The batch upload engine on a real SQLite profile store: it streams (memory does not grow with
the file) and it counts what it writes. bench/reporting.py measures the same on a million lines
(RSS, users/s); here Python's own allocations are traced, which is deterministic."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import subprocess
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from segpixel.batch.upload import BatchReport, BatchUpload
from segpixel.domain.access import Principal
from segpixel.domain.batch_lines import BatchScope
from segpixel.domain.catalog_view import CatalogView, MemberView, SegmentView
from segpixel.domain.loads import day_number, utc_day
from segpixel.profiles.sqlite import SqliteProfileStore
from segpixel.stats.sqlite import SqliteLoadStats

pytestmark = pytest.mark.asyncio(loop_scope="session")

NOW = int(time.time()) + 86_400
SEGMENTS = range(1, 6)
VIEW = CatalogView(
    version=1,
    segments={s: SegmentView(s, 1, None, f"s{s}", True, 600, 0) for s in SEGMENTS},
    segments_by_code={
        (1, f"s{s}"): SegmentView(s, 1, None, f"s{s}", True, 600, 0) for s in SEGMENTS
    },
    members={1: MemberView(1, "M", True, (), "d")},
)
ADMIN = BatchScope(Principal(1, "admin", "admin"), member_id=1)


def batch_file(lines: int, segments: range = SEGMENTS) -> io.BytesIO:
    """A user a line, each with the segments' codes, an expiry and a value."""
    text = "".join(
        f"{10**15 + n},{';'.join(f's{s}:{60 + s}:{n % 1000 + 1}' for s in segments)}\n"
        for n in range(lines)
    )
    return io.BytesIO(text.encode())


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteProfileStore]:
    made = SqliteProfileStore(tmp_path / "profiles.db")
    await made.open()
    yield made
    await made.close()


async def upload(
    store: SqliteProfileStore, lines: int, segments: range = SEGMENTS
) -> tuple[BatchReport, int, int]:
    """The report, the file's size and the peak of Python allocations while it streamed (in
    small reads and batches, so that a small file already shows the steady state)."""
    data = batch_file(lines, segments)
    size = len(data.getbuffer())
    engine = BatchUpload(
        store, lambda: VIEW, ADMIN, lambda: NOW, batch_size=500, read_bytes=64 << 10
    )
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        report = await engine.run(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return report, size, peak


async def peaks(folder: str) -> dict[str, int]:
    """A small and a big upload on a store of their own: sizes, users, rejects and peaks."""
    store = SqliteProfileStore(Path(folder) / "profiles.db")
    await store.open()
    try:
        small_report, small_size, small_peak = await upload(store, 4_000, range(1, 5))
        big_report, big_size, big_peak = await upload(store, 60_000, range(1, 5))
    finally:
        await store.close()
    return {
        "small_users": small_report.users_updated,
        "big_users": big_report.users_updated,
        "big_rejected": big_report.rejected_lines,
        "small_size": small_size,
        "small_peak": small_peak,
        "big_size": big_size,
        "big_peak": big_peak,
    }


async def test_memory_stays_flat_whatever_the_file_size(tmp_path: Path) -> None:
    """Measured in a process of its own: tracemalloc counts every thread's allocations, and the
    session's other servers (their writers, folds) allocate while these uploads run."""
    code = (
        "import asyncio, json, sys; from tests.integration.test_batch_engine import peaks; "
        "print(json.dumps(asyncio.run(peaks(sys.argv[1]))))"
    )
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    small_peak, big_peak, big_size = got["small_peak"], got["big_peak"], got["big_size"]
    print(
        f"\npeak Python allocations: {small_peak / 2**20:.1f} MiB for a "
        f"{got['small_size'] / 2**20:.1f} MiB file, {big_peak / 2**20:.1f} MiB for a "
        f"{big_size / 2**20:.1f} MiB file"
    )
    assert (got["small_users"], got["big_users"]) == (4_000, 60_000)
    assert got["big_rejected"] == 0
    assert big_peak < small_peak * 1.2  # fifteen times the file, (almost) the same peak
    assert big_peak < big_size / 2  # never the whole file


async def test_what_it_writes_is_counted_as_batch_loads(store: SqliteProfileStore) -> None:
    report, _, _ = await upload(store, 1_000)
    stats = SqliteLoadStats(store.path)
    await stats.open()
    try:
        day = utc_day(NOW)
        facts = await stats.facts(list(SEGMENTS), day, day, daily_uniques=True)
    finally:
        await stats.close()

    assert report.users_updated == 1_000
    assert facts.loads == {(s, day_number(day), "batch"): 1_000 for s in SEGMENTS}
    assert facts.daily_uniques == {(s, day_number(day)): 1_000 for s in SEGMENTS}
    profile = await store.read(10**15 + 7, NOW)
    assert [(m.segment_id, m.value, m.expires_at) for m in profile.memberships] == [
        (s, 8, NOW + (60 + s) * 60) for s in SEGMENTS
    ]


class Timed:
    """The real store, with the time each batch held it and the rest that followed."""

    def __init__(self, store: SqliteProfileStore):
        self.store = store
        self.spans: list[tuple[float, float]] = []  # (start, end) of each apply

    async def apply(self, batch, token=None) -> None:  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        await self.store.apply(batch, token)
        self.spans.append((started, time.perf_counter()))


@pytest.mark.parametrize("share", [0.25, 0.1])  # (at 0.5, parsing the next batch rests as long)
async def test_a_batch_upload_leaves_the_store_its_share_of_rest(
    store: SqliteProfileStore, share: float
) -> None:
    """SEGPIXEL_JOB_WRITE_SHARE: after each batch that held the store t seconds, the upload
    rests t * (1 - share) / share before the next, so the pixels' writes get in."""
    timed = Timed(store)
    engine = BatchUpload(
        timed,  # type: ignore[arg-type]
        lambda: VIEW,
        ADMIN,
        lambda: NOW,
        batch_size=1_000,
        write_share=share,
    )
    report = await engine.run(batch_file(8_000))
    assert report.users_updated == 8_000 and len(timed.spans) == 8
    for (start, end), (next_start, _) in itertools.pairwise(timed.spans):
        held, rest = end - start, next_start - end
        assert held > 0.002  # (a batch of this size holds the store for milliseconds)
        # (less a tenth of a millisecond: the loop's timer may wake that early)
        assert rest >= held * (1 - share) / share - 0.0001, (held, rest)


async def test_a_write_share_outside_its_range_is_refused(tmp_path: Path) -> None:
    for share in (0, -0.5, 1.5):
        with pytest.raises(ValueError, match="write_share"):
            BatchUpload(
                SqliteProfileStore(tmp_path / "p.db"), lambda: VIEW, ADMIN, write_share=share
            )
