"""`segpixel batch upload` and `segpixel report loads`, run for real on a SQLite data folder.

The upload goes into the data folder's own profile store (loads counted, source "batch"); the
report reads them back as a table, as CSV, and as a PNG or SVG chart.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from tests.cli.test_cli import Result, cli_env, number_after, run

ROWS = 2_000


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], dict[str, int]]:
    """A data folder with a member, two segments, and a batch file uploaded into them."""
    data = tmp_path_factory.mktemp("cli-jobs")
    env = cli_env(data_dir=str(data), admin_password="admin-password-1")
    run(env, "init")
    member = number_after(
        r"Created member (\d+)", run(env, "member", "create", "--name", "A").stdout
    )
    ids = {"member": member}
    for name, code in (("cars", "Cars"), ("boats", "Boats")):
        result = run(
            env, "segment", "create", "--member-id", str(member), "--name", name, "--code", code
        )
        ids[name] = number_after(r"│ id\s+│ (\d+)", result.stdout)
    lines = [f"{n + 1},Cars;Boats:60:3" for n in range(ROWS)] + ["oops", f"{ROWS + 1},Nope"]
    (data / "users.txt").write_text("\n".join(lines) + "\n")
    return env, ids


def upload(env: dict[str, str], ids: dict[str, int]) -> Result:
    path = Path(env["SEGPIXEL_DATA_DIR"]) / "users.txt"
    return run(env, "batch", "upload", str(path), "--member-id", str(ids["member"]))


@pytest.fixture(scope="module")
def uploaded(folder: tuple[dict[str, str], dict[str, int]]) -> Result:
    return upload(*folder)


def test_batch_upload_prints_what_it_did(uploaded: Result) -> None:
    table = re.sub(r"\s+", " ", uploaded.stdout)
    assert f"│ {ROWS + 2} │ {ROWS} │ 2 │" in table  # lines read, users updated, rejected
    assert f"line {ROWS + 1}: expected UID,SEG" in uploaded.stderr
    assert f"line {ROWS + 2}: unknown segment 'Nope' in member" in uploaded.stderr
    assert "batch-segment job" in uploaded.stderr  # the progress bar's label


def test_a_gzip_file_uploads_as_its_lines(folder: tuple[dict[str, str], dict[str, int]]) -> None:
    """ISSUE 13: the terminal's upload reads a gzip file inflated, as the server's runner does."""
    env, ids = folder
    data = Path(env["SEGPIXEL_DATA_DIR"])
    lines = [f"{ROWS + 10 + n},Boats" for n in range(50)] + ["oops"]
    packed = data / "more.txt.gz"
    packed.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    result = run(env, "batch", "upload", str(packed), "--member-id", str(ids["member"]))
    table = re.sub(r"\s+", " ", result.stdout)
    assert "│ 51 │ 50 │ 1 │" in table, result.stdout  # lines read, users updated, rejected
    assert "line 51: expected UID,SEG" in result.stderr


def test_report_loads_table_csv_and_filters(
    folder: tuple[dict[str, str], dict[str, int]], uploaded: Result
) -> None:
    env, ids = folder
    csv = run(env, "report", "loads", "--csv", "--interval", "today", "--segment", str(ids["cars"]))
    table = run(env, "report", "loads", "--interval", "last_48_hours")

    lines = csv.stdout.strip().splitlines()
    assert lines[0] == "segment_id,segment_name,day,total_loads,daily_uniques"
    assert len(lines) == 2 and lines[1].startswith(f"{ids['cars']},cars,")
    assert lines[1].endswith(f",{ROWS},{ROWS}")
    assert "cars" in table.stdout and "boats" in table.stdout and "daily_uniques" in table.stdout


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_report_loads_plots_a_chart(
    folder: tuple[dict[str, str], dict[str, int]], uploaded: Result, tmp_path: Path, suffix: str
) -> None:
    env, _ = folder
    chart = tmp_path / f"loads{suffix}"
    result = run(env, "report", "loads", "--plot", str(chart))
    assert f"chart written to {chart}" in result.stderr.replace("\n", "")
    head = chart.read_bytes()[:200]
    assert head.startswith(b"\x89PNG") if suffix == ".png" else b"<svg" in chart.read_bytes()


def test_report_loads_refuses_bad_requests(folder: tuple[dict[str, str], dict[str, int]]) -> None:
    env, _ = folder
    bad = run(env, "report", "loads", "--columns", "segment_id,daily_uniques", ok=False)
    assert bad.returncode == 2
    assert "columns must include day to report daily_uniques" in bad.stderr
    chart = run(env, "report", "loads", "--plot", "chart.pdf", ok=False)
    assert chart.returncode == 2 and "--plot must name a .png or .svg file" in chart.stderr
    missing = run(env, "report", "loads", "--segment", "9999", ok=False)
    assert missing.returncode == 1 and "segment 9999 not found" in missing.stderr
