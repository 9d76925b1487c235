"""The compiled hot modules are used exactly when they match their sources (segpixel.native)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import segpixel
from segpixel import native

PACKAGE_DIR = Path(segpixel.__file__).parent
FORCED_PURE = os.environ.get(native.PURE_ENV, "") not in ("", "0")
HAS_BUILD = (PACKAGE_DIR / native.NATIVE_DIR / native.MANIFEST).is_file()

# What a fresh interpreter reports: the build it chose and where the hot modules came from.
PROBE = (
    "import json, importlib, segpixel.native as n;"
    "files = {m: importlib.import_module(m).__file__ for m in n.HOT_MODULES};"
    "print(json.dumps({'status': n.status(), 'files': files}))"
)


def probe(pythonpath: Path | None = None, **env: str) -> dict:
    environ = {k: v for k, v in os.environ.items() if k != native.PURE_ENV} | env
    if pythonpath is not None:
        environ["PYTHONPATH"] = str(pythonpath)
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=environ, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_the_build_in_use_is_the_one_asked_for() -> None:
    modules = [sys.modules.get(m) or __import__(m, fromlist=["_"]) for m in native.HOT_MODULES]
    files = [m.__file__ or "" for m in modules]
    if FORCED_PURE:
        assert native.status() == f"pure Python ({native.PURE_ENV} is set)"
        assert all(f.endswith(".py") for f in files), files
    elif shutil.which(os.environ.get("CC", "cc")) is None:
        # No compiler, no build: the install went on in plain Python, and says so.
        assert native.status().startswith("pure Python"), native.status()
    else:
        # A machine with a C compiler installs the compiled build (setup.py); if this fails,
        # the install fell back to Python (its warning says why) and the pixel runs slower.
        assert native.status() == f"compiled (mypyc, {len(native.HOT_MODULES)} modules)"
        assert all(native.NATIVE_DIR in f and not f.endswith(".py") for f in files), files


def test_forcing_plain_python_loads_every_source() -> None:
    seen = probe(**{native.PURE_ENV: "1"})
    assert seen["status"] == f"pure Python ({native.PURE_ENV} is set)"
    for module, file in seen["files"].items():
        assert file == str(native.source_path(PACKAGE_DIR, module)), module


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    if not HAS_BUILD:
        pytest.skip(
            "no compiled build installed here (no C compiler at install): nothing to go stale"
        )
    shutil.copytree(
        PACKAGE_DIR, tmp_path / "segpixel", ignore=shutil.ignore_patterns("__pycache__")
    )
    return tmp_path


def test_a_copy_of_the_build_loads_compiled(package_copy: Path) -> None:
    seen = probe(package_copy)
    assert seen["status"].startswith("compiled"), seen["status"]
    assert all(str(package_copy) in f for f in seen["files"].values())


def test_an_edited_source_is_never_run_stale(package_copy: Path) -> None:
    # An editable install whose hot module was edited since its build: every module runs from
    # its source (all or nothing: compiled modules call each other natively).
    edited = native.source_path(package_copy / "segpixel", "segpixel.domain.pixel")
    edited.write_text(edited.read_text() + "\n# edited after the build\n")
    seen = probe(package_copy)
    assert seen["status"] == "pure Python (segpixel.domain.pixel changed since it was compiled)"
    assert all(f.endswith(".py") for f in seen["files"].values()), seen["files"]


def test_a_build_for_another_interpreter_is_not_loaded(package_copy: Path) -> None:
    manifest = package_copy / "segpixel" / native.NATIVE_DIR / native.MANIFEST
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps(data | {"ext_suffix": ".cpython-399-x86_64-linux-gnu.so"}))
    seen = probe(package_copy)
    assert seen["status"].startswith("pure Python (the build is for .cpython-399"), seen["status"]
    assert all(f.endswith(".py") for f in seen["files"].values())
