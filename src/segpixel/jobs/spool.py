"""The upload folder (`SEGPIXEL_UPLOAD_DIR`): where the API stores batch files for the runners.

Each folder has an id of its own (the file `.spool-id`, made once), recorded with the jobs whose
files it holds: a runner claims only jobs whose file it can open (its own folder's, or a folder
shared by several machines, which then share the id). A request spools into `incoming-<random>`
and, once the body is whole, renames it to `<random>.upload` before recording the job. Uploads of
ended jobs are removed by the runner that ended them; `sweep` removes whatever is left over (a
job that ended elsewhere, a server that died mid-upload).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from pathlib import Path

log = logging.getLogger("segpixel.jobs")

INCOMING = "incoming-"
SUFFIX = ".upload"
LEFT_OVER_SECONDS = 600  # an unreferenced file this old is no upload still being recorded


class Spool:
    def __init__(self, folder: Path):
        self.folder = folder
        self._id: str | None = None

    @property
    def id(self) -> str:
        if self._id is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            marker = self.folder / ".spool-id"
            try:  # the first to create it wins; everyone else reads it
                with marker.open("x") as out:
                    out.write(secrets.token_hex(8))
            except FileExistsError:
                pass
            self._id = marker.read_text().strip()
        return self._id

    def incoming(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / f"{INCOMING}{secrets.token_hex(12)}"

    def keep(self, incoming: Path) -> str:
        """The whole upload, renamed for its job; the name the job records."""
        name = incoming.name.removeprefix(INCOMING) + SUFFIX
        incoming.rename(self.folder / name)
        return name

    def path(self, name: str) -> Path:
        if "/" in name or "\\" in name or not name.endswith(SUFFIX):
            raise ValueError(f"not an upload name: {name!r}")
        return self.folder / name

    def remove(self, name: str | None) -> None:
        if name:
            with contextlib.suppress(OSError, ValueError):
                self.path(name).unlink()

    def sweep(self, live: set[str], now: float | None = None) -> int:
        """Remove uploads no live job names and abandoned incoming files; how many."""
        now = time.time() if now is None else now
        removed = 0
        with contextlib.suppress(FileNotFoundError):
            for path in self.folder.iterdir():
                is_upload = path.name.endswith(SUFFIX) and path.name not in live
                if not (is_upload or path.name.startswith(INCOMING)):
                    continue
                with contextlib.suppress(OSError):
                    if now - path.stat().st_mtime > LEFT_OVER_SECONDS:
                        path.unlink()
                        removed += 1
        if removed:
            log.info("removed %d left-over upload file(s) from %s", removed, self.folder)
        return removed
