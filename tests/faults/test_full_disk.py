"""A full disk never yields a false 200 (issue 15 item 3; SPEC §3.3: a 200 means the add is stored).

The data folder is a small tmpfs mounted for the test (in a folder of its own, unmounted at the
end): the SQLite catalog, the profile store and, unless `SEGPIXEL_JOURNAL_DIR` points elsewhere,
the journal live on it. The server runs, stores some pixels and saves its catalog snapshot, and is
stopped; the disk is filled to 100 %; the server is started again on the full disk:

- it comes up (no exit), degraded, and /health says why (the catalog cannot be read, the profile
  store is down, the journal cannot take writes);
- its pixels use the saved catalog snapshot: no "unknown segment" 200 for a segment that exists;
  with the journal on the full disk they answer 503 + Retry-After (nothing could be kept), with the
  journal on another disk they are journaled and answered 200;
- space is freed, and without a restart /health comes back to ok, pixels answer 200 again, and
  every pixel ever answered 200 is in the profile store (the journaled ones replayed), none of the
  503 ones.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from segpixel.profiles.journal import free_bytes
from tests.conftest import ServerProcess
from tests.faults.conftest import Shot, accepted, health, status_counts, wait_for
from tests.helpers import ApiClient
from tests.support.pixel_shots import fire as fire_pixel

DISK_MIB = 24
FIRST_UID = 3_000_000_000_000
ENV = {"SEGPIXEL_CATALOG_POLL_SECONDS": "0.2", "SEGPIXEL_STORE_TIMEOUT_MS": "200"}


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of DISK_MIB MiB mounted on a folder made for the test (root may mount)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_MIB}m,mode=0755", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.fail(
            f"the full-disk test mounts a small tmpfs, which needs root: {done.stderr.strip()}",
            pytrace=False,
        )
    try:
        yield disk
    finally:
        subprocess.run(["umount", "--lazy", str(disk)], check=False)


def fill(disk: Path) -> Path:
    """Fill the disk to the last byte a file can take; the file that does it."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for chunk in (1 << 20, 4096, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * chunk)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)
    assert free_bytes(disk) == 0, f"{free_bytes(disk)} bytes still free"
    return filler


def stored_uids(db: Path, segment_id: int, uids: list[int]) -> set[int]:
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
        rows = conn.execute(
            "SELECT uid FROM memberships WHERE segment_id = ? AND uid BETWEEN ? AND ?",
            (segment_id, min(uids), max(uids)),
        ).fetchall()
    return {uid for (uid,) in rows} & set(uids)


@pytest.mark.parametrize(
    ("journal", "snapshot"),
    [
        pytest.param("on-the-full-disk", "saved", id="journal-on-the-full-disk"),
        pytest.param("elsewhere", "saved", id="journal-elsewhere"),
        pytest.param("on-the-full-disk", "none", id="no-saved-snapshot"),
    ],
)
def test_a_full_disk_at_restart_never_answers_200_for_an_add_it_did_not_keep(
    small_disk: Path, tmp_path: Path, journal: str, snapshot: str
) -> None:
    data = small_disk / "segpixel"
    env = dict(ENV)
    if journal == "elsewhere":
        env["SEGPIXEL_JOURNAL_DIR"] = str(tmp_path / "journal")
    uids = iter(range(FIRST_UID, FIRST_UID + 1_000_000))
    shots: list[Shot] = []

    def fire(http: httpx.Client, sid: int, phase: str, n: int) -> None:
        for _ in range(n):
            shots.append(fire_pixel(http, sid, Shot(next(uids), phase)))

    server = ServerProcess(env, data, log=tmp_path / "server-1.log")
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            api = ApiClient(http).login()
            member = api.make_member("Disk")
            sid = api.make_segment(f"member_id={member['id']}", "Full")["id"]
            wait_for(lambda: accepted(server.base_url, sid), 5, "the segment in the snapshot")
            fire(http, sid, "before", 20)
        assert (data / "catalog-snapshot.pickle").exists(), "the snapshot is saved"
    finally:
        server.stop()
    if snapshot == "none":  # as if the server had never read its catalog
        (data / "catalog-snapshot.pickle").unlink()

    filler = fill(small_disk)
    server = ServerProcess(env, data, log=tmp_path / "server-2.log")  # on the full disk
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            full = health(server.base_url)
            print(f"\n/health on the full disk: {full}")
            assert full["status"] == "degraded"
            assert full["profile_store"]["state"] == "down"
            assert full["profile_store"]["error"], "says why"
            problems = " | ".join(full["problems"])
            assert "the profile store is down" in problems
            if snapshot == "saved":
                assert full["catalog"]["view"] == "saved", "pixels go on from the saved snapshot"
                assert "the catalog cannot be read" in problems
            else:
                assert full["catalog"]["view"] == "none"
                assert "no catalog view" in problems
            fire(http, sid, "disk full", 30)
            during = [s for s in shots if s.phase == "disk full"]
            if snapshot == "none":
                assert all(s.status == 503 and s.retry_after for s in during), status_counts(shots)
                assert all("the catalog is not loaded yet" in s.warning for s in during)
            elif journal == "elsewhere":
                assert all(s.status == 200 for s in during), status_counts(shots)
            else:
                assert all(s.status == 503 and s.retry_after for s in during), status_counts(shots)
                assert all("not stored" in s.warning for s in during)
                assert health(server.base_url)["journal"]["full"] is True
            assert all(s.gif for s in during), "the page always gets its pixel"

            filler.unlink()  # space is back: no restart
            back = wait_for(
                lambda: (h := health(server.base_url))["status"] == "ok" and h,
                30,
                "/health to recover once space is back",
            )
            print(f"/health once space is back: {back}")
            assert back["catalog"]["view"] == "live" and back["journal"]["full"] is False
            fire(http, sid, "space back", 20)
    finally:
        server.stop()

    print(status_counts(shots))
    assert all(s.status == 200 for s in shots if s.phase in ("before", "space back"))
    answered = [s.uid for s in shots if s.status == 200]
    refused = [s.uid for s in shots if s.status != 200]
    found = stored_uids(data / "profiles.db", sid, [s.uid for s in shots])
    print(f"{len(answered)} answered 200, {len(refused)} refused; {len(found)} stored")
    assert sorted(found) == sorted(answered), "a 200 means stored; a 503 means not"
