"""Installing on a machine without a C compiler still works: plain Python, and a warning saying so.

pip builds the wheel as it would on such a machine (its own build environment, with setuptools
and mypy from the index; CC naming no compiler), so setup.py's fallback is what is tested.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_no_c_compiler_installs_plain_python(tmp_path: Path) -> None:
    source = tmp_path / "checkout"  # (not the checkout itself: its build/ and _native/ stay out)
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            "build",
            "_native",
            "node_modules",
            "segpixel-data",
            "*.egg-info",
            "__pycache__",
        ),
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "CC": str(tmp_path / "no-such-compiler"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w", str(tmp_path), str(source)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = built.stdout + built.stderr
    assert built.returncode == 0, output[-4000:]
    warning = f"segpixel: no C compiler ({env['CC']}) found; installing the pure-Python build"
    assert warning in output, output[-4000:]
    (wheel,) = tmp_path.glob("segpixel-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "segpixel/native.py" in names
    assert "segpixel/domain/pixel.py" in names
    assert not [n for n in names if n.startswith("segpixel/_native/")], names
