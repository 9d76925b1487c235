"""The pixel's hot modules compiled with mypyc at install time (src/segpixel/native.py).

Everything else about the package is in pyproject.toml. The compile runs inside build_ext (not at
import of this file: pip's metadata steps would pay for it), writes its extensions to
segpixel/_native/ with a manifest of the sources it compiled, and gives way to plain Python —
with a warning, never a failed install — when there is no C compiler or mypyc fails.
"""

from __future__ import annotations

import json
import os
import runpy
import shutil
import sys
import traceback
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
PACKAGE_DIR = ROOT / "src" / "segpixel"
native = runpy.run_path(str(PACKAGE_DIR / "native.py"))

# Stands for the compiled modules until build_ext knows them: without an extension setuptools
# would not run build_ext at all, nor mark the wheel as built for this platform.
PLACEHOLDER = f"segpixel.{native['NATIVE_DIR']}.placeholder"


def _warn(message: str) -> None:
    print(f"segpixel: {message}; installing the pure-Python build", file=sys.stderr)


class build_native(build_ext):
    """build_ext that swaps the placeholder for mypyc's extensions, or for nothing."""

    def run(self) -> None:
        if os.environ.get(native["PURE_ENV"], "") not in ("", "0"):
            _warn(f"{native['PURE_ENV']} is set")
            return self._go_pure()
        cc = os.environ.get("CC", "cc")
        if self.compiler is None and shutil.which(cc) is None:
            _warn(f"no C compiler ({cc}) found")
            return self._go_pure()
        if self._in_source_tree() and self._source_build_current():
            print("segpixel: the compiled hot modules in src/ are current", file=sys.stderr)
            return self._go_pure()
        try:
            from mypyc.build import mypycify

            sources = [str(native["source_path"](PACKAGE_DIR, m)) for m in native["HOT_MODULES"]]
            cwd = os.getcwd()
            os.chdir(ROOT / "src")  # mypyc names modules from paths relative to the cwd
            try:
                extensions = mypycify(
                    [os.path.relpath(s, ROOT / "src") for s in sources],
                    opt_level="3",
                    target_dir=str(ROOT / "build" / "mypyc"),
                    verbose=False,
                )
            finally:
                os.chdir(cwd)
        except (Exception, SystemExit):  # mypyc's failures come as many kinds, sys.exit too
            traceback.print_exc()
            _warn("mypyc could not compile the hot modules")
            return self._go_pure()
        shared = self._place(extensions)
        if self._in_source_tree():
            # setuptools copies the extensions there, into no new folder; the last build goes
            shutil.rmtree(PACKAGE_DIR / native["NATIVE_DIR"], ignore_errors=True)
            (PACKAGE_DIR / native["NATIVE_DIR"]).mkdir()
        try:
            super().run()
        except Exception:  # a compile error: the install goes on in plain Python
            traceback.print_exc()
            _warn("the C compiler failed on mypyc's output")
            return self._go_pure()
        self._write_manifest(shared)

    def _in_source_tree(self) -> bool:
        """An editable install (or --inplace): the build lands beside the sources."""
        return bool(self.inplace or getattr(self, "editable_mode", False))

    def _source_build_current(self) -> bool:
        # The same check the package makes at import, plus the same mypy: reinstalling an
        # unchanged checkout (scripts/test does, every run) need not compile again.
        from mypy.version import __version__ as mypy_version

        why, _, _ = native["_why_not"](PACKAGE_DIR)
        manifest = PACKAGE_DIR / native["NATIVE_DIR"] / native["MANIFEST"]
        return not why and json.loads(manifest.read_text()).get("mypy") == mypy_version

    def _place(self, extensions: list[Extension]) -> str:
        """Name each extension into segpixel/_native/; the group's shared library's name back."""
        shared = ""
        for ext in extensions:
            src_root = str(ROOT / "src")
            ext.include_dirs = [
                d if os.path.isabs(d) else os.path.join(src_root, d) for d in ext.include_dirs
            ]
            ext.sources = [
                s if os.path.isabs(s) else os.path.join(src_root, s) for s in ext.sources
            ]
            if ext.name in native["HOT_MODULES"]:
                leaf = native["flat_name"](ext.name)
            else:
                shared = leaf = ext.name.rsplit(".", 1)[-1]
            ext.name = f"segpixel.{native['NATIVE_DIR']}.{leaf}"
        self.extensions = extensions
        self._adopt()
        return shared

    def _adopt(self) -> None:
        # What setuptools' finalize_options sets on each extension, for the ones given after it.
        self.ext_map = {}
        for ext in self.extensions:
            ext._full_name = self.get_ext_fullname(ext.name)
            self.ext_map[ext._full_name] = ext
            self.ext_map[ext._full_name.split(".")[-1]] = ext
            ext._links_to_dynamic = False
            ext._needs_stub = False
            ext._file_name = self.get_ext_filename(ext._full_name)

    def _go_pure(self) -> None:
        self.extensions = []
        self._adopt()

    def _write_manifest(self, shared: str) -> None:
        from mypy.version import __version__ as mypy_version

        manifest = native["build_manifest"](PACKAGE_DIR, shared, mypy_version)
        text = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
        folders = [Path(self.build_lib) / "segpixel" / native["NATIVE_DIR"]]
        if self._in_source_tree():
            folders.append(PACKAGE_DIR / native["NATIVE_DIR"])
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / native["MANIFEST"]).write_text(text)

    def get_outputs(self) -> list[str]:
        outputs = super().get_outputs()
        if self.extensions:
            folder = Path(self.build_lib) / "segpixel" / native["NATIVE_DIR"]
            outputs.append(str(folder / native["MANIFEST"]))
        return outputs


setup(
    ext_modules=[Extension(PLACEHOLDER, sources=[], optional=True)],
    cmdclass={"build_ext": build_native},
)
