"""The upload folder (segpixel.jobs.spool): one id per folder, names checked, left-overs swept."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from segpixel.jobs.spool import LEFT_OVER_SECONDS, Spool


def test_the_folder_keeps_one_id_whoever_asks(tmp_path: Path) -> None:
    first, second = Spool(tmp_path / "uploads"), Spool(tmp_path / "uploads")
    assert first.id == second.id and len(first.id) == 16
    assert Spool(tmp_path / "other").id != first.id


def test_an_upload_is_kept_under_its_own_name_and_only_such_names_are_opened(
    tmp_path: Path,
) -> None:
    spool = Spool(tmp_path)
    incoming = spool.incoming()
    incoming.write_bytes(b"1,2\n")
    name = spool.keep(incoming)
    assert not incoming.exists() and spool.path(name).read_bytes() == b"1,2\n"
    for bad in ("../catalog.db", "x/y.upload", "catalog.db", ".spool-id"):
        with pytest.raises(ValueError):
            spool.path(bad)
    spool.remove(name)
    spool.remove(name)  # gone already: nothing to do
    assert not spool.path(name).exists()


def test_the_sweep_removes_old_files_no_live_job_names(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    old = time.time() - LEFT_OVER_SECONDS - 60
    files = {}
    for label in ("live", "ended", "fresh"):
        incoming = spool.incoming()
        incoming.write_bytes(b"x")
        files[label] = spool.path(spool.keep(incoming))
    abandoned = spool.incoming()  # a server that died mid-upload
    abandoned.write_bytes(b"x")
    receiving = spool.incoming()  # an upload still arriving
    receiving.write_bytes(b"x")
    for path in (files["live"], files["ended"], abandoned):
        os.utime(path, (old, old))
    assert spool.sweep({files["live"].name}) == 2
    assert files["live"].exists() and files["fresh"].exists() and receiving.exists()
    assert not files["ended"].exists() and not abandoned.exists()
