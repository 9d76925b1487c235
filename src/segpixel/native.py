"""The pixel's hot modules, compiled with mypyc when the install could, else plain Python.

`setup.py` compiles HOT_MODULES into `segpixel/_native/` (one shared library and a small
extension per module) and writes `manifest.json` beside them: the interpreter's extension suffix
and the sha256 of every source it compiled. `install()` puts a finder in front of the normal
import so that `import segpixel.domain.pixel` loads the compiled module — only when every listed
source is still the one compiled (an editable install whose sources were edited since its build
never runs stale code) and the build is for this interpreter; otherwise every module is plain
Python. All or nothing: compiled modules call each other natively and must agree on their types.

`SEGPIXEL_PURE_PYTHON=1` forces plain Python (the test suite runs its pixel tests both ways).

This module imports nothing of segpixel's: `setup.py` runs it before the package is installed.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType

# The pure, hot modules of a /seg call (SPEC's hot path, DESIGN.md). Not metrics.py: mypyc
# fails on it (an internal error on its dataclass fields' defaults). Nothing whose objects are
# pickled (the saved catalog view): a compiled frozen dataclass cannot be unpickled.
HOT_MODULES: tuple[str, ...] = (
    "segpixel.domain.pixel",
    "segpixel.domain.pixel_plan",
    "segpixel.domain.pixel_cache",
    "segpixel.edge.cookie",
    "segpixel.edge.http",
    "segpixel.edge.visitor",
    "segpixel.edge.unloaded",
    "segpixel.edge.seg",
    "segpixel.edge.app",
    "segpixel.profiles.writer",
)

NATIVE_DIR = "_native"
MANIFEST = "manifest.json"
PURE_ENV = "SEGPIXEL_PURE_PYTHON"

# What install() decided, for `status()`: the modules it loaded compiled, or why none.
_compiled: tuple[str, ...] = ()
_why_pure = "not installed yet"


def flat_name(module: str) -> str:
    """segpixel.domain.pixel → domain__pixel: the compiled module's file name in _native/."""
    return module.removeprefix("segpixel.").replace(".", "__")


def source_path(package_dir: Path, module: str) -> Path:
    return package_dir.joinpath(*module.split(".")[1:]).with_suffix(".py")


def source_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def extension_suffix() -> str:
    return importlib.machinery.EXTENSION_SUFFIXES[0]


def build_manifest(package_dir: Path, shared_lib: str, mypy_version: str) -> dict[str, object]:
    """What setup.py writes beside a build, and `_why_not` checks: one place for its fields."""
    return {
        "mypy": mypy_version,
        "ext_suffix": extension_suffix(),
        "shared_lib": shared_lib,
        "sources": {m: source_hash(source_path(package_dir, m)) for m in HOT_MODULES},
    }


def status() -> str:
    """One line for `segpixel serve` and /health-minded operators: which build runs."""
    if _compiled:
        return f"compiled (mypyc, {len(_compiled)} modules)"
    return f"pure Python ({_why_pure})"


class _NativeFinder(importlib.abc.MetaPathFinder):
    """Answers for the compiled hot modules only; everything else goes to the next finder."""

    def __init__(self, paths: dict[str, Path]) -> None:
        self._paths = paths

    def find_spec(
        self, fullname: str, path: object = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        so = self._paths.get(fullname)
        if so is None:
            return None
        loader = importlib.machinery.ExtensionFileLoader(fullname, str(so))
        return importlib.util.spec_from_file_location(fullname, so, loader=loader)


def _why_not(package_dir: Path) -> tuple[str, dict[str, Path], Path | None]:
    """Why the compiled build cannot be used (empty when it can), its modules and shared lib."""
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return f"{PURE_ENV} is set", {}, None
    native = package_dir / NATIVE_DIR
    try:
        manifest = json.loads((native / MANIFEST).read_text())
    except FileNotFoundError:
        return "no compiled build installed", {}, None
    except (OSError, ValueError) as exc:
        return f"unreadable {NATIVE_DIR}/{MANIFEST}: {exc}", {}, None
    if manifest.get("ext_suffix") != extension_suffix():
        return f"the build is for {manifest.get('ext_suffix')}, not {extension_suffix()}", {}, None
    sources: dict[str, str] = manifest.get("sources", {})
    if set(sources) != set(HOT_MODULES):
        return "the build's module list is not this version's", {}, None
    paths: dict[str, Path] = {}
    for module in HOT_MODULES:
        try:
            current = source_hash(source_path(package_dir, module))
        except OSError:
            return f"{module} has no source", {}, None
        if current != sources[module]:
            return f"{module} changed since it was compiled", {}, None
        so = native / (flat_name(module) + extension_suffix())
        if not so.is_file():
            return f"{so.name} is missing", {}, None
        paths[module] = so
    shared = native / (str(manifest.get("shared_lib", "")) + extension_suffix())
    if not manifest.get("shared_lib") or not shared.is_file():
        return "the build's shared library is missing", {}, None
    return "", paths, shared


def install(package_dir: Path) -> None:
    """Load the compiled hot modules in place of their sources when they match; idempotent."""
    global _compiled, _why_pure
    if any(isinstance(f, _NativeFinder) for f in sys.meta_path):
        return
    why, paths, shared = _why_not(package_dir)
    if why:
        _why_pure = why
        return
    assert shared is not None
    # Each module's extension imports the group's shared library by its top-level name.
    lib_name = shared.name.removesuffix(extension_suffix())
    if lib_name not in sys.modules:
        loader = importlib.machinery.ExtensionFileLoader(lib_name, str(shared))
        spec = importlib.util.spec_from_file_location(lib_name, shared, loader=loader)
        assert spec is not None
        try:
            lib = importlib.util.module_from_spec(spec)
            loader.exec_module(lib)
        except ImportError as exc:
            _why_pure = f"the shared library does not load: {exc}"
            return
        sys.modules[lib_name] = lib
    sys.meta_path.insert(0, _NativeFinder(paths))
    _compiled = tuple(paths)
