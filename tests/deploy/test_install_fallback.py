"""An install that cannot compile the hot modules still works: plain Python, and a warning why.

pip builds the wheel as it would on such a machine (its own build environment, with setuptools
and mypy from the index), so setup.py's fallbacks are what is tested: no C compiler, and mypyc
refusing the code.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLAIN = "; installing the pure-Python build"


def checkout_copy(tmp_path: Path) -> Path:
    """The checkout's files without its builds (its build/ and _native/ stay out)."""
    source = tmp_path / "checkout"
    skipped = (".git", ".venv", "build", "_native", "node_modules", "segpixel-data", "*.egg-info")
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*skipped, "__pycache__"))
    return source


def build_wheel(tmp_path: Path, source: Path, **env: str) -> tuple[str, list[str]]:
    """pip's output (-v: the build backend's too) and the names in the wheel it built."""
    environ = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w", str(tmp_path), str(source)],
        env=environ | env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    output = built.stdout + built.stderr
    assert built.returncode == 0, output[-4000:]
    (wheel,) = tmp_path.glob("segpixel-*.whl")
    return output, zipfile.ZipFile(wheel).namelist()


def assert_plain(names: list[str]) -> None:
    assert "segpixel/native.py" in names
    assert "segpixel/domain/pixel.py" in names
    assert not [n for n in names if n.startswith("segpixel/_native/")], names


def test_no_c_compiler_installs_plain_python(tmp_path: Path) -> None:
    compiler = str(tmp_path / "no-such-compiler")
    output, names = build_wheel(tmp_path, checkout_copy(tmp_path), CC=compiler)
    assert f"segpixel: no C compiler ({compiler}) found{PLAIN}" in output, output[-4000:]
    assert_plain(names)


def test_code_mypyc_refuses_installs_plain_python(tmp_path: Path) -> None:
    source = checkout_copy(tmp_path)
    hot = source / "src" / "segpixel" / "domain" / "pixel.py"
    hot.write_text(hot.read_text() + '\nNOT_A_NUMBER: int = "a type error mypyc stops at"\n')
    output, names = build_wheel(tmp_path, source)
    assert f"segpixel: mypyc could not compile the hot modules{PLAIN}" in output, output[-4000:]
    assert_plain(names)
