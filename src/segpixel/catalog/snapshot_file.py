"""The catalog snapshot kept on disk, so a worker that starts while the catalog cannot be read (its
PostgreSQL down, its SQLite file on a full disk) serves the last view instead of none.

A pixel served from no view at all would answer 200 "unknown segment" for segments that exist and
store nothing; served from the saved view it stores what the catalog said when last read (and
with no saved view either, the pixel answers 503: edge/unloaded.py). Each worker rewrites the file
whenever it loads a new version: written beside, fsync'd, renamed over the old one, so a reader
sees one whole view or the previous one.

The file is a pickle of the view under a header naming the segpixel version and the catalog it
came from; a file from another version or another catalog is ignored. It lives in the data
folder, which holds the databases and the journal too: whoever can write there owns the server
anyway (the file is made 0600).
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import time
from dataclasses import dataclass
from pathlib import Path

from segpixel import __version__
from segpixel.domain.catalog_view import CatalogView

log = logging.getLogger("segpixel.snapshot")

FORMAT = 1
SNAPSHOT_FILE = "catalog-snapshot.pickle"  # its name in the data folder


@dataclass(frozen=True)
class SavedView:
    view: CatalogView
    saved_at: float


def _origin(catalog_url: str) -> str:
    """Which catalog a view came from, without keeping its URL (it may hold a password)."""
    return hashlib.sha256(catalog_url.encode()).hexdigest()[:16]


def save_view(path: Path, view: CatalogView, catalog_url: str) -> None:
    """Replace the saved view with this one (raises OSError: a full disk, say)."""
    record = {
        "format": FORMAT,
        "segpixel": __version__,
        "catalog": _origin(catalog_url),
        "saved_at": time.time(),
        "view": view,
    }
    data = pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def load_saved(path: Path, catalog_url: str) -> SavedView | None:
    """The saved view, when there is one from this segpixel version and this catalog."""
    try:
        record = pickle.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except Exception as exc:  # unreadable, truncated, or classes that no longer exist
        log.warning("ignoring the saved catalog snapshot %s: %s", path, exc)
        return None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        return None
    if record.get("segpixel") != __version__ or record.get("catalog") != _origin(catalog_url):
        log.warning("ignoring the saved catalog snapshot %s: another version or catalog", path)
        return None
    view = record.get("view")
    if not isinstance(view, CatalogView):
        return None
    return SavedView(view, float(record.get("saved_at", 0.0)))
