"""The `segpixel` command run for real, as a subprocess, on SQLite and on PostgreSQL.

One SQLite data folder is prepared per module (init, a member, an advertiser, two segments). The
commands of the tables below do not depend on each other, so the fixture starts them all at once
(a process takes about a second, mostly imports) and each test reads its command's result.
Commands that need an empty catalog get their own folder.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from segpixel.app import create_app
from segpixel.settings import Settings

PUBLIC_URL = "https://px.example.com"
GENERATED = re.compile(r"generated password (\S+)")
Result = subprocess.CompletedProcess[str]


def cli_env(**settings: str) -> dict[str, str]:
    """The test's environment without any SEGPIXEL_* of the caller's, plus `settings`; an empty
    config folder, so that no saved login of the machine's user sends the commands to a server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEGPIXEL_")}
    env.update(COLUMNS="200", NO_COLOR="1", TERM="dumb")
    env["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="segpixel-cli-config-")
    env.update({f"SEGPIXEL_{k.upper()}": v for k, v in settings.items()})
    return env


def invoke(env: dict[str, str], args: tuple[str, ...]) -> Result:
    return subprocess.run(
        [sys.executable, "-m", "segpixel", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def checked(result: Result, ok: bool) -> Result:
    if ok:
        assert result.returncode == 0, (
            f"segpixel {' '.join(result.args[3:])} exited {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result


def run(env: dict[str, str], *args: str, ok: bool = True) -> Result:
    return checked(invoke(env, args), ok)


def login(settings: Settings, username: str, password: str) -> int:
    """POST /auth against the app built on the same catalog; the status code."""
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            response = client.post(
                "/auth", json={"auth": {"username": username, "password": password}}
            )
            return response.status_code
    finally:
        dispose_catalog(app)


def dispose_catalog(app: object) -> None:
    """Close the pool of the catalog engine the app made, so that no connection is left for the
    garbage collector (psycopg warns about it, and warnings are errors here)."""
    while app is not None and not hasattr(app, "state"):
        app = getattr(app, "app", None)  # through the pure-ASGI wrappers
    catalog = getattr(getattr(getattr(app, "state", None), "api", None), "catalog", None)
    if catalog is not None:
        catalog.dispose()


def number_after(pattern: str, text: str) -> int:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not found in:\n{text}"
    return int(match.group(1))


def tag(name: str, element: str) -> str:
    return (
        f"<!-- Segment Pixel - {name} - DO NOT MODIFY -->\n{element}\n"
        "<!-- End of Segment Pixel -->\n"
    )


def img(query: str) -> str:
    return f'<img src="{PUBLIC_URL}/seg?{query}" width="1" height="1" />'


def js(query: str) -> str:
    return f'<script src="{PUBLIC_URL}/seg?{query}" type="text/javascript"></script>'


# -- the tables (their commands are prefetched by the `cli` fixture) ------------------------------
# Ids in commands are placeholders filled in by the fixture: {member}, {advertiser}, {coded},
# {plain}. The coded segment is member level, code "Auto", named "Car buyers"; the plain one
# belongs to the advertiser and has no code.

REDIR = "https://dsp.example.net/p?uid=1&x=y z"
REDIR_ENCODED = "https%3A%2F%2Fdsp.example.net%2Fp%3Fuid%3D1%26x%3Dy%20z"

EXPORTS = [
    pytest.param((), img("add={coded}&t=2"), id="default-image"),
    pytest.param(("--image",), img("add={coded}&t=2"), id="image"),
    pytest.param(("--js",), js("add={coded}&t=1"), id="js"),
    pytest.param(("--codes",), img("add_code=Auto&member={member}&t=2"), id="codes"),
    pytest.param(("--value", "25"), img("add={coded}&value=25&t=2"), id="value"),
    pytest.param(("--redir", REDIR), img(f"add={{coded}}&redir={REDIR_ENCODED}&t=2"), id="redir"),
    pytest.param(
        ("--js", "--codes", "--value", "7", "--redir", REDIR),
        js(f"add_code=Auto&member={{member}}&value=7&redir={REDIR_ENCODED}&t=1"),
        id="everything",
    ),
]

EXPORT_REFUSALS = [
    pytest.param(("--js", "--image"), 2, "choose one of --js and --image", id="js-and-image"),
    pytest.param(("--codes",), 1, "has no code; set one or drop --codes", id="codes-no-code"),
]

USER_ROLES = [
    pytest.param("admin", (), id="admin"),
    pytest.param("member", ("--member-id", "{member}"), id="member"),
    pytest.param(
        "advertiser",
        ("--member-id", "{member}", "--advertiser-id", "{advertiser}"),
        id="advertiser",
    ),
]
USER_PASSWORD = "pw-for-cli-1"

USER_REFUSALS = [
    pytest.param(
        ("--role", "boss"),
        "role: input should be 'admin', 'member' or 'advertiser' (got 'boss')",
        id="bad-role",
    ),
    pytest.param(
        ("--role", "member", "--member-id", "999"), "member 999 not found", id="no-such-member"
    ),
    pytest.param(
        ("--role", "admin", "--password", "abc"),
        "password must be 8 to 256 characters (got 3)",
        id="short-password",
    ),
]


def export_args(flags: tuple[str, ...], segment: str = "{coded}") -> tuple[str, ...]:
    return ("export-pixel", segment, *flags)


def user_args(role: str, ids: tuple[str, ...]) -> tuple[str, ...]:
    return (
        *f"user create --username cli-{role} --password {USER_PASSWORD} --role {role}".split(),
        *ids,
    )


def refusal_args(args: tuple[str, ...]) -> tuple[str, ...]:
    password = () if "--password" in args else ("--password", "password-1")
    return ("user", "create", "--username", "nobody", *password, *args)


READ_ONLY = [
    ("init",),
    ("segment", "list"),
    ("segment", "show", "{coded}"),
    ("segment", "show", "9999"),
    ("segment", "create", "--member-id", "{member}", "--name", "Dots", "--code", "a.b"),
]


@dataclass
class Cli:
    env: dict[str, str]
    data_dir: Path
    init_output: str
    ids: dict[str, str]
    results: dict[tuple[str, ...], Result] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        return Settings(data_dir=self.data_dir)

    def fill(self, args: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(a.format(**self.ids) for a in args)

    def prefetch(self, commands: list[tuple[str, ...]]) -> None:
        filled = [self.fill(c) for c in commands]
        with ThreadPoolExecutor(max_workers=4) as pool:
            for args, result in zip(
                filled, pool.map(lambda a: invoke(self.env, a), filled), strict=True
            ):
                self.results[args] = result

    def run(self, *args: str, ok: bool = True) -> Result:
        args = self.fill(args)
        result = self.results.pop(args, None) or invoke(self.env, args)
        return checked(result, ok)


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    data_dir = tmp_path_factory.mktemp("cli") / "data"
    env = cli_env(data_dir=str(data_dir), public_url=PUBLIC_URL)
    init = run(env, "init").stdout
    member = run(env, "member", "create", "--name", "Acme").stdout
    ids = {"member": str(number_after(r"Created member (\d+) \(Acme\)", member))}
    advertiser = run(
        env, *f"advertiser create --member-id {ids['member']} --name Cars --code cars".split()
    )
    ids["advertiser"] = str(number_after(r"Created advertiser (\d+) \(Cars\)", advertiser.stdout))
    coded = run(
        env,
        *f"segment create --member-id {ids['member']} --code Auto --expire-minutes 1440".split(),
        "--name",
        "Car buyers",
    )
    plain = run(
        env,
        *f"segment create --member-id {ids['member']} --advertiser-id {ids['advertiser']}".split(),
        "--name",
        "Bikes",
    )
    ids["coded"] = str(number_after(r"│ id\s+│ (\d+)", coded.stdout))
    ids["plain"] = str(number_after(r"│ id\s+│ (\d+)", plain.stdout))
    cli = Cli(env=env, data_dir=data_dir, init_output=init, ids=ids)
    cli.prefetch(
        [
            *READ_ONLY,
            *(export_args(p.values[0]) for p in EXPORTS),
            *(export_args(p.values[0], "{plain}") for p in EXPORT_REFUSALS),
            *(user_args(*p.values) for p in USER_ROLES),
            *(refusal_args(p.values[0]) for p in USER_REFUSALS),
        ]
    )
    return cli


# -- init and the first admin ---------------------------------------------------------------------


def test_init_prints_the_generated_password_once_and_it_logs_in(cli: Cli) -> None:
    assert "Catalog ready at sqlite:///" in cli.init_output
    password = GENERATED.search(cli.init_output)
    assert password, f"init printed no generated password:\n{cli.init_output}"
    assert "it is shown only this once" in cli.init_output
    again = cli.run("init").stdout
    assert "Catalog ready at" in again
    assert "Created the admin user" not in again and "generated password" not in again, (
        "a second init must not create or show a password"
    )
    assert login(cli.settings, "admin", password.group(1)) == 200
    assert login(cli.settings, "admin", password.group(1) + "x") == 401


def test_admin_password_from_the_environment(tmp_path: Path) -> None:
    env = cli_env(admin_password="chosen-admin-pass")
    out = run(env, "--data-dir", str(tmp_path), "init").stdout
    assert str(tmp_path / "catalog.db") in out, "--data-dir decides where the catalog lives"
    assert "chosen-admin-pass" not in out, "a password given by the operator is never printed"
    assert "generated password" not in out
    assert login(Settings(data_dir=tmp_path), "admin", "chosen-admin-pass") == 200


@pytest.mark.parametrize(
    ("password", "code", "expected"),
    [
        pytest.param(
            "short",
            2,
            "setting SEGPIXEL_ADMIN_PASSWORD: Value error, password must be 8 to 256 characters "
            "(got 5)",
            id="too-short-refused",
        ),
        pytest.param("", 0, "generated password", id="blank-means-generate"),
    ],
)
def test_admin_password_follows_the_password_rule(
    tmp_path: Path, password: str, code: int, expected: str
) -> None:
    result = run(cli_env(admin_password=password, data_dir=str(tmp_path)), "init", ok=False)
    assert result.returncode == code, result
    assert expected in result.stdout + result.stderr
    if code:
        assert not (tmp_path / "catalog.db").exists(), "nothing is created on a bad setting"


# -- users ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "ids"), USER_ROLES)
def test_user_create_for_each_role(cli: Cli, role: str, ids: tuple[str, ...]) -> None:
    out = cli.run(*user_args(role, ids)).stdout
    assert re.search(rf"Created user cli-{role} \(id \d+, role {role}\)", out), out
    assert login(cli.settings, f"cli-{role}", USER_PASSWORD) == 200


@pytest.mark.parametrize(("args", "message"), USER_REFUSALS)
def test_user_create_refuses(cli: Cli, args: tuple[str, ...], message: str) -> None:
    result = cli.run(*refusal_args(args), ok=False)
    assert result.returncode == 1, result
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


# -- members, advertisers and segments ------------------------------------------------------------


def test_segment_list(cli: Cli) -> None:
    out = cli.run("segment", "list").stdout
    lines = [line for line in out.splitlines() if "Car buyers" in line or "Bikes" in line]
    assert len(lines) == 2, out
    car = next(line for line in lines if "Car buyers" in line)
    bikes = next(line for line in lines if "Bikes" in line)
    for cell in ("Auto", "member level", "pixel", "active", "1440 min"):
        assert cell in car, car
    assert "180 days" in bikes, bikes
    assert re.search(rf"│ {cli.ids['advertiser']}\s+│ Bikes", bikes), bikes


def test_segment_show(cli: Cli) -> None:
    out = cli.run("segment", "show", "{coded}").stdout
    rows = {
        cells[1].strip(): cells[2].strip()
        for cells in (line.split("│") for line in out.splitlines())
        if len(cells) == 4
    }
    assert rows["id"] == cli.ids["coded"]
    assert rows["short_name"] == "Car buyers"
    assert rows["code"] == "Auto"
    assert rows["member_id"] == cli.ids["member"]
    assert rows["advertiser_id"] == ""
    assert rows["state"] == "active"
    assert rows["expire_minutes"] == "1440"
    assert rows["max_usersync_pixels"] == "0"
    assert rows["type"] == "pixel"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", rows["last_modified"])


def test_segment_show_unknown(cli: Cli) -> None:
    result = cli.run("segment", "show", "9999", ok=False)
    assert result.returncode == 1
    assert "segment 9999 not found" in result.stderr


def test_segment_create_refuses_a_bad_code(cli: Cli) -> None:
    result = cli.run(
        "segment", "create", "--member-id", "{member}", "--name", "Dots", "--code", "a.b", ok=False
    )
    assert result.returncode == 1
    assert "code must be 1 to 50 characters" in result.stderr


# -- export-pixel ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("flags", "element"), EXPORTS)
def test_export_pixel_exact_output(cli: Cli, flags: tuple[str, ...], element: str) -> None:
    result = cli.run(*export_args(flags))
    assert result.stdout == tag("Car buyers", element.format(**cli.ids))
    assert result.stderr == ""


@pytest.mark.parametrize(("flags", "code", "message"), EXPORT_REFUSALS)
def test_export_pixel_refuses(cli: Cli, flags: tuple[str, ...], code: int, message: str) -> None:
    result = cli.run(*export_args(flags, "{plain}"), ok=False)
    assert result.returncode == code
    assert message in result.stderr
    assert result.stdout == ""


def test_export_pixel_without_public_url_uses_host_and_port(cli: Cli) -> None:
    env = {k: v for k, v in cli.env.items() if k != "SEGPIXEL_PUBLIC_URL"}
    env["SEGPIXEL_PORT"] = "9099"
    out = run(env, "export-pixel", cli.ids["coded"]).stdout
    assert f'src="http://127.0.0.1:9099/seg?add={cli.ids["coded"]}&t=2"' in out


# -- help -----------------------------------------------------------------------------------------


def test_help_lists_every_setting() -> None:
    out = run(cli_env(), "--help").stdout
    flat = " ".join(out.split())
    for name, info in Settings.model_fields.items():
        assert f"SEGPIXEL_{name.upper()}" in out, f"SEGPIXEL_{name.upper()} missing from --help"
        assert " ".join((info.description or "").split()) in flat, name


def test_serve_help_shows_its_options() -> None:
    out = run(cli_env(), "serve", "--help").stdout
    for option in ("--host", "--port", "--data-dir", "--workers"):
        assert option in out, f"{option} missing from serve --help"


# -- PostgreSQL -----------------------------------------------------------------------------------


def test_cli_on_postgresql(new_pg_database: Callable[[], str], tmp_path: Path) -> None:
    url = new_pg_database()  # as libpq writes it: postgresql://user@host/db
    env = cli_env(catalog_url=url, data_dir=str(tmp_path), public_url=PUBLIC_URL)
    init = run(env, "init").stdout
    assert "Catalog ready at postgresql+psycopg://" in init
    password = GENERATED.search(init)
    assert password, init
    assert not (tmp_path / "catalog.db").exists(), "the catalog went to PostgreSQL, not SQLite"

    member = run(env, "member", "create", "--name", "Pg").stdout
    member_id = number_after(r"Created member (\d+)", member)
    out = run(
        env, *f"segment create --member-id {member_id} --code pg".split(), "--name", "Pg buyers"
    )
    segment_id = number_after(r"│ id\s+│ (\d+)", out.stdout)
    exported = run(env, "export-pixel", str(segment_id), "--js", "--codes").stdout
    assert exported == tag("Pg buyers", js(f"add_code=pg&member={member_id}&t=1"))
    assert login(Settings(catalog_url=url, data_dir=tmp_path), "admin", password.group(1)) == 200
