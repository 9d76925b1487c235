"""The `segpixel` command as an API client of a running server (`segpixel serve`, started here).

Every verb runs as a subprocess, as an operator would type it: logged in with `segpixel login`
(the token saved 0600 in the config folder), or with SEGPIXEL_URL / SEGPIXEL_TOKEN. `--json`
answers are parsed; exit codes are 0 done, 1 refused (the server's sentence on stderr), 2 usage.
"""

from __future__ import annotations

import json
import sqlite3
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli.test_cli import Result, cli_env, invoke
from tests.conftest import ServerProcess
from tests.helpers import ADMIN_PASSWORD, ApiClient


@dataclass
class Remote:
    server: ServerProcess
    data_dir: Path
    env: dict[str, str]  # logged in through the saved login (no SEGPIXEL_URL)

    def run(self, *args: str, code: int = 0, env: dict[str, str] | None = None) -> Result:
        result = invoke(env or self.env, args)
        assert result.returncode == code, (
            f"segpixel {' '.join(args)} exited {result.returncode}, not {code}:\n"
            f"{result.stdout}\n{result.stderr}"
        )
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def login(
        self, env: dict[str, str] | None = None, password: str = ADMIN_PASSWORD, code: int = 0
    ) -> Result:
        url = self.server.base_url
        args = ("login", "--url", url, "--username", "admin", "--password", password)
        return self.run(*args, code=code, env=env)

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json").stdout)

    def lapse_tokens(self) -> None:
        """Age every token past its idle lapse, in the server's own catalog."""
        with sqlite3.connect(self.data_dir / "catalog.db") as db:
            db.execute("UPDATE api_tokens SET last_used_at = last_used_at - 1000000")


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Remote]:
    data_dir = tmp_path_factory.mktemp("remote-cli")
    server = ServerProcess({"SEGPIXEL_CATALOG_POLL_SECONDS": "0.2"}, data_dir)
    # The commands run elsewhere: another folder, so nothing can fall back on the server's data.
    env = cli_env(data_dir=str(tmp_path_factory.mktemp("elsewhere")))
    remote = Remote(server, data_dir, env)
    try:
        out = remote.login()
        assert f"Logged in to {server.base_url} as admin (admin)" in out.stdout
        yield remote
    finally:
        server.stop()


def test_login_keeps_the_token_for_the_owner_only(remote: Remote) -> None:
    saved = Path(remote.env["XDG_CONFIG_HOME"]) / "segpixel" / "login.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
    login = json.loads(saved.read_text())
    assert login["url"] == remote.server.base_url and login["username"] == "admin"
    who = remote.json("whoami")
    assert who["server"] == remote.server.base_url and who["role"] == "admin"


def test_login_refused_and_prompted(remote: Remote) -> None:
    env = cli_env()
    wrong = remote.login(env, password="nope-nope", code=1)
    assert "the username or password is wrong" in wrong.stderr
    # Nothing given and no terminal to prompt on: a usage error, not a hang.
    assert invoke(env, ("login",)).returncode != 0


def test_catalog_verbs_over_the_api(remote: Remote) -> None:
    member = remote.json("member", "create", "--name", "Acme", "--redirect-domain", "ads.example")
    assert member["name"] == "Acme" and member["redirect_domains"] == ["ads.example"]
    m = str(member["id"])
    assert remote.json("member", "show", m)["dongle"] == member["dongle"]
    assert remote.json("member", "update", m, "--name", "Acme Inc")["name"] == "Acme Inc"
    assert [x["name"] for x in remote.json("member", "list", "--search", "Acme")] == ["Acme Inc"]

    advertiser = remote.json(
        "advertiser", "create", "--member-id", m, "--name", "Cars", "--code", "cars"
    )
    a = str(advertiser["id"])
    assert remote.json("advertiser", "update", a, "--name", "Autos")["name"] == "Autos"
    assert [x["id"] for x in remote.json("advertiser", "list", "--member-id", m)] == [int(a)]
    assert remote.json("advertiser", "show", a)["code"] == "cars"

    made = remote.json(
        "segment",
        "create",
        "--member-id",
        m,
        "--advertiser-id",
        a,
        "--name",
        "Car buyers",
        "--code",
        "Auto",
        "--expire-minutes",
        "1440",
    )
    s = str(made["id"])
    assert (made["advertiser_id"], made["expire_minutes"], made["state"]) == (
        int(a),
        1440,
        "active",
    )
    other = remote.json("segment", "create", "--member-id", m, "--name", "Bikes")
    assert remote.json("segment", "update", s, "--description", "new")["description"] == "new"
    assert remote.json("segment", "deactivate", s)["state"] == "inactive"
    assert remote.json("segment", "activate", s)["state"] == "active"
    assert {x["id"] for x in remote.json("segment", "list", "--member-id", m)} == {
        int(s),
        other["id"],
    }
    assert [x["id"] for x in remote.json("segment", "list", "--advertiser-id", a)] == [int(s)]
    assert [x["id"] for x in remote.json("segment", "list", "--search", "Bik")] == [other["id"]]
    moved = remote.json("segment", "move-to-member", s)
    assert moved["advertiser_id"] is None
    shown = remote.json("segment", "show", s)
    assert shown["short_name"] == "Car buyers" and "daily_loads" in shown  # quick stats too
    table = remote.run("segment", "list").stdout
    assert "Car buyers" in table and "member level" in table and "1440 min" in table

    sync = remote.json(
        "usersync-pixel",
        "create",
        "--member-id",
        m,
        "--name",
        "DSP",
        "--url",
        "https://dsp.example/sync?uid=${UID}",
        "--priority",
        "3",
    )
    p = str(sync["id"])
    assert remote.json("usersync-pixel", "update", p, "--state", "inactive")["state"] == "inactive"
    assert [x["id"] for x in remote.json("usersync-pixel", "list", "--member-id", m)] == [int(p)]
    assert remote.json("usersync-pixel", "show", p)["priority"] == 3
    assert remote.json("usersync-pixel", "delete", p) == {"id": int(p), "deleted": True}

    user = remote.json(
        "user",
        "create",
        "--username",
        "boss",
        "--password",
        "boss-pass-1",
        "--role",
        "member",
        "--member-id",
        m,
    )
    u = str(user["id"])
    assert "password" not in user and "password_hash" not in user
    assert "boss" in [x["username"] for x in remote.json("user", "list", "--member-id", m)]
    remote.run("user", "set-password", u, "--password", "boss-pass-2")
    with httpx.Client(base_url=remote.server.base_url) as http:
        ApiClient(http).login("boss", "boss-pass-2")  # the new password works
    remote.run("user", "delete", u)

    remote.run("segment", "delete", str(other["id"]))
    assert (
        remote.run("segment", "show", str(other["id"]), code=1)
        .stderr.strip()
        .endswith(f"segment {other['id']} not found")
    )


def test_refusals_print_the_servers_sentence_and_exit_1(remote: Remote) -> None:
    member = remote.json("member", "create", "--name", "Refusals")
    m = str(member["id"])
    bad = remote.run("segment", "create", "--member-id", m, "--name", "x", "--code", "a.b", code=1)
    assert "code must be 1 to 50 characters" in bad.stderr
    remote.run("segment", "create", "--member-id", m, "--name", "x", "--code", "dup")
    dup = remote.run("segment", "create", "--member-id", m, "--name", "y", "--code", "DUP", code=1)
    assert "dup" in dup.stderr.lower() and "already" in dup.stderr
    role = remote.run(
        "user", "create", "--username", "z", "--password", "pw-123456", "--role", "boss", code=1
    )
    assert "role" in role.stderr


def test_usage_errors_exit_2(remote: Remote) -> None:
    assert "nothing to change" in remote.run("segment", "update", "1", code=2).stderr
    remote.run("segment", "list", "--no-such-option", code=2)
    remote.run("segment", "show", "not-a-number", code=2)
    remote.run("job", "list", "--kind", "coffee", code=2)
    remote.run("export-pixel", "1", "--js", "--image", code=2)


def test_version() -> None:
    from segpixel import __version__

    assert invoke(cli_env(), ("--version",)).stdout.strip() == f"segpixel {__version__}"


def test_export_pixel_uses_the_servers_public_url(remote: Remote) -> None:
    member = remote.json("member", "create", "--name", "Tags")
    segment = remote.json(
        "segment", "create", "--member-id", str(member["id"]), "--name", "T", "--code", "t"
    )
    tag = remote.run("export-pixel", str(segment["id"]), "--js").stdout
    # The server runs on a free port, not 8080: the tag says where it really answers.
    assert f'src="{remote.server.base_url}/seg?add={segment["id"]}&t=1"' in tag
    answer = remote.json("export-pixel", str(segment["id"]), "--codes")
    assert answer["url"] == f"{remote.server.base_url}/seg?add_code=t&member={member['id']}&t=2"


def test_batch_upload_job_and_report_against_the_server(remote: Remote, tmp_path: Path) -> None:
    member = remote.json("member", "create", "--name", "Loads")
    m = str(member["id"])
    a = remote.json("segment", "create", "--member-id", m, "--name", "A", "--code", "A")["id"]
    b = remote.json("segment", "create", "--member-id", m, "--name", "B", "--code", "B")["id"]
    lines = [f"{n},A;B" for n in range(1, 301)] + [f"{n},A" for n in range(301, 401)] + ["oops"]
    users = tmp_path / "users.txt"
    users.write_text("\n".join(lines) + "\n")

    job = remote.json("batch", "upload", str(users), "--member-id", m)
    assert (job["status"], job["lines_read"], job["users_updated"], job["rejected_lines"]) == (
        "done",
        401,
        400,
        1,
    )
    strict = remote.run("batch", "upload", str(users), "--member-id", m, "--strict", code=1)
    assert "1 line(s) rejected (--strict)" in strict.stderr
    assert "line 401: expected UID,SEG" in strict.stderr
    assert "uploading users.txt" in strict.stderr  # the progress bars' labels
    assert "batch-segment job" in strict.stderr

    shown = remote.json("job", "show", str(job["id"]))
    assert shown["rejected"][0]["line"] == 401
    listed = remote.json("job", "list", "--kind", "batch")
    assert [j["id"] for j in listed][:2] == [job["id"] + 1, job["id"]]

    rows = remote.json("report", "loads", "--interval", "today", "--member-id", m)
    loads = {r["segment_id"]: (r["total_loads"], r["daily_uniques"]) for r in rows}
    assert loads == {a: (800, 400), b: (600, 300)}  # two uploads of the same users
    csv = remote.run("report", "loads", "--interval", "today", "--segment", str(b), "--csv").stdout
    assert csv.splitlines()[0] == "segment_id,segment_name,day,total_loads,daily_uniques"
    assert csv.splitlines()[1].startswith(f"{b},B,") and csv.splitlines()[1].endswith(",600,300")
    chart = tmp_path / "loads.svg"
    out = remote.run(
        "report", "loads", "--interval", "last_7_days", "--member-id", m, "--plot", str(chart)
    )
    assert f"chart written to {chart}" in out.stderr.replace("\n", "")
    svg = chart.read_text()
    assert f"{a} A" in svg and f"{b} B" in svg, "one line per segment, named in the legend"
    reports = remote.json("job", "list", "--kind", "report")
    assert len(reports) >= 4 and {r["kind"] for r in reports} == {"report"}
    report = remote.json("job", "show", str(reports[0]["id"]))
    assert report["execution_status"] == "ready"


def test_environment_url_and_token(remote: Remote) -> None:
    with httpx.Client(base_url=remote.server.base_url) as http:
        token = ApiClient(http).login().token
    env = cli_env(url=remote.server.base_url, token=token or "")
    who = json.loads(remote.run("whoami", "--json", env=env).stdout)
    assert who["server"] == remote.server.base_url
    unauthenticated = cli_env(url=remote.server.base_url)
    refused = remote.run("member", "list", code=1, env=unauthenticated)
    assert f"log in again: segpixel login --url {remote.server.base_url}" in refused.stderr


def test_a_lapsed_token_says_log_in_again(remote: Remote) -> None:
    env = cli_env()
    remote.login(env)
    remote.lapse_tokens()
    lapsed = remote.run("segment", "list", code=1, env=env)
    assert "the token has expired" in lapsed.stderr
    assert f"log in again: segpixel login --url {remote.server.base_url}" in lapsed.stderr
    # --local still reaches the data folder with no server (here: none made there).
    local = remote.run("--local", "segment", "list", code=1, env=env)
    assert "no catalog at" in local.stderr and "segpixel init" in local.stderr
    remote.login()  # the module's own login lapsed too: renew it
    assert remote.run("logout", env=env).stdout.strip() == "Logged out"
