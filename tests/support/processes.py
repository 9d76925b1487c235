"""A server and its worker processes, as the fault tests kill them: the whole tree at once."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (its workers, theirs…), read from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended while we looked
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(pid: int, timeout: float = 10.0) -> list[int]:
    """SIGKILL `pid` and every process below it, all at once (a crash: no one gets to clean
    up, and no worker outlives its parent); returns the pids killed once they are gone."""
    tree = [pid, *descendants(pid)]
    for each in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(each, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    for each in tree:
        while alive(each):
            if time.monotonic() > deadline:
                raise AssertionError(f"process {each} outlived SIGKILL for {timeout} s")
            time.sleep(0.01)
    return tree


def alive(pid: int) -> bool:
    """Is the process running (not ended, not a zombie)?"""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie is dead, waiting for its parent to reap it
