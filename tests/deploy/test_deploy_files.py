"""The deployment files of deploy/ and README "Deploying" name only settings that exist, so a
renamed setting cannot leave a unit file that silently does nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from segpixel.native import PURE_ENV
from segpixel.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ONLY = {"SEGPIXEL_URL", "SEGPIXEL_TOKEN"}  # the command's, not the server's
BUILD_ONLY = {PURE_ENV}  # read when the package is imported, before any setting


@pytest.mark.parametrize(
    "path",
    [
        "deploy/segpixel.service",
        "deploy/segpixel.env.example",
        "deploy/nginx-segpixel.conf",
        "README.md",
    ],
)
def test_every_setting_named_exists(path: str) -> None:
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields} | CLIENT_ONLY | BUILD_ONLY
    named = set(re.findall(r"\bSEGPIXEL_[A-Z_]+[A-Z]", (ROOT / path).read_text()))
    named = {n for n in named if not n.startswith("SEGPIXEL_TEST")}
    assert named, f"{path} names no setting"
    unknown = sorted(n for n in named if n not in known and not n.endswith("_"))
    assert not unknown, f"{path} names settings that do not exist: {unknown}"
