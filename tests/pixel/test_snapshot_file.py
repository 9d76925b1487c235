"""The catalog view saved in the data folder (catalog/snapshot_file.py) comes back whole: segments,
members, partners and the ad side (placements, creatives, line items with their targeting) —
and only for the catalog and the segpixel version that saved it."""

from __future__ import annotations

import pickle
from pathlib import Path

from segpixel.catalog.snapshot import load_view
from segpixel.catalog.snapshot_file import load_saved, save_view
from tests.pixel.ads import group, open_shop
from tests.pixel.conftest import Pixel


def test_a_saved_view_comes_back_equal(px: Pixel, tmp_path: Path) -> None:
    shop = open_shop(px)
    segment = shop.segment("Drivers", code="drivers")
    creative = shop.creative("Car", segments=[{"id": segment["id"], "action": "add_on_view"}])
    shop.line_item(creative, 5, group({"id": segment["id"], "action": "include"}))
    px.api.ok(
        "POST",
        f"/usersync-pixel?member_id={shop.member_id}",
        {"usersync-pixel": {"name": "Partner", "url": "https://sync.example/p?u=${UID}"}},
    )
    view = load_view(px.catalog)
    assert view.segments and view.ads.line_items and view.usersyncs, "a view with everything"
    path = tmp_path / "catalog-snapshot.pickle"

    save_view(path, view, px.catalog.url)
    saved = load_saved(path, px.catalog.url)

    assert saved is not None and saved.view == view
    assert saved.view.active_members == view.active_members
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "no temporary file left"


def test_a_saved_view_of_another_catalog_version_or_a_broken_file_is_ignored(
    px: Pixel, tmp_path: Path
) -> None:
    view = load_view(px.catalog)
    path = tmp_path / "catalog-snapshot.pickle"
    save_view(path, view, px.catalog.url)
    assert load_saved(path, "postgresql+psycopg://elsewhere/catalog") is None

    record = pickle.loads(path.read_bytes())
    path.write_bytes(pickle.dumps({**record, "segpixel": "0.0.0-older"}))
    assert load_saved(path, px.catalog.url) is None

    path.write_bytes(b"\x80\x05 not a whole pickle")
    assert load_saved(path, px.catalog.url) is None
    assert load_saved(tmp_path / "none-here", px.catalog.url) is None
