"""The pure parts of the edge: the `t=1` script (SPEC §3.3) and the identity cookie (SPEC §3.2).

chain_script's output is checked as text and also run for real by node against a tiny fake
`document`, to prove it inserts the elements with the right src and never calls document.write.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from segpixel.domain.pixel_plan import Chained
from segpixel.edge.cookie import (
    MAX_AGE,
    MAX_UID,
    OPT_OUT_MAX_AGE,
    CookiePolicy,
    Identity,
    parse_uid,
    read_identity,
)
from segpixel.edge.scripts import EMPTY, chain_script

NODE = shutil.which("node") or "/usr/bin/node"

# A fake DOM: enough for the script, and document.write / eval throw so that using them fails.
FAKE_DOM = r"""
const vm = require("vm");
const fs = require("fs");
const code = fs.readFileSync(process.argv[2], "utf8");
const opts = JSON.parse(process.argv[3]);
function el(tag) {
  return { tagName: tag, style: {}, children: [],
           appendChild(c) { this.children.push(c); return c; } };
}
const body = el("body"), head = el("head"), html = el("html");
const created = [];
const document = {
  body: opts.body ? body : null,
  head: opts.head ? head : null,
  documentElement: html,
  createElement(tag) { const e = el(tag); created.push(e); return e; },
  write() { throw new Error("document.write called"); },
  writeln() { throw new Error("document.writeln called"); },
};
vm.runInNewContext(code, { document }, { filename: "chain.js" });
const show = (p) => p.children.map((e) => ({
  tag: e.tagName, src: e.src, async: e.async === true, width: e.width, height: e.height,
  display: e.style.display,
}));
console.log(JSON.stringify({ created: created.length, body: show(body), head: show(head),
                             html: show(html) }));
"""


def run_in_node(
    script: bytes, tmp_path: Path, body: bool = True, head: bool = True
) -> dict[str, Any]:
    assert Path(NODE).exists(), f"node is needed at {NODE} to run the t=1 script for real"
    js = tmp_path / "chain.js"
    js.write_bytes(script)
    harness = tmp_path / "harness.js"
    harness.write_text(FAKE_DOM, encoding="utf-8")
    opts = json.dumps({"body": body, "head": head})
    done = subprocess.run(
        [NODE, str(harness), str(js), opts], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def img(url: str, kind: str = "usersync") -> Chained:
    return Chained(kind, url, "img", True)


def js(url: str, kind: str = "piggyback") -> Chained:
    return Chained(kind, url, "js", True)


# --- chain_script --------------------------------------------------------------------------------


def test_nothing_to_chain() -> None:
    assert chain_script([]) == EMPTY
    assert b"document.write" not in EMPTY


def test_script_text() -> None:
    text = chain_script([img("https://a.example/i.gif"), js("https://b.example/s.js")]).decode()
    assert "document.write" not in text
    assert "createElement" in text
    assert '"https://a.example/i.gif"' in text
    assert '"https://b.example/s.js"' in text
    assert "async=true" in text
    assert text.count("(document)") == 1


@pytest.mark.parametrize(
    ("fired", "imgs", "scripts"),
    [
        pytest.param([img("https://a.example/1.gif")], ["https://a.example/1.gif"], [], id="img"),
        pytest.param([js("https://a.example/1.js")], [], ["https://a.example/1.js"], id="js"),
        pytest.param(
            [
                Chained("redir", "https://r.example/x", "img", True),
                js("https://p.example/1.js"),
                js("https://p.example/2.js"),
                img("https://s.example/u?x=1&y=2"),
                js("https://s.example/sync.js", "usersync"),
            ],
            ["https://r.example/x", "https://s.example/u?x=1&y=2"],
            ["https://p.example/1.js", "https://p.example/2.js", "https://s.example/sync.js"],
            id="mixed-in-order",
        ),
    ],
)
def test_script_runs_in_node(
    fired: list[Chained], imgs: list[str], scripts: list[str], tmp_path: Path
) -> None:
    dom = run_in_node(chain_script(fired), tmp_path)
    assert dom["created"] == len(imgs) + len(scripts)
    assert [e["src"] for e in dom["body"]] == imgs
    assert all(e["tag"] == "img" for e in dom["body"])
    assert all((e["width"], e["height"]) == (1, 1) for e in dom["body"])
    assert all(e["display"] == "none" for e in dom["body"])
    assert [e["src"] for e in dom["head"]] == scripts
    assert all(e["tag"] == "script" and e["async"] for e in dom["head"])


def test_script_without_head_or_body(tmp_path: Path) -> None:
    fired = [img("https://a.example/1.gif"), js("https://a.example/1.js")]
    no_head = run_in_node(chain_script(fired), tmp_path, head=False)
    assert [e["tag"] for e in no_head["body"]] == ["img", "script"]
    bare = run_in_node(chain_script(fired), tmp_path, body=False, head=False)
    assert [e["tag"] for e in bare["html"]] == ["img", "script"]


HOSTILE = [
    pytest.param('https://a.example/?q="x"', id="double-quote"),
    pytest.param("https://a.example/?q='x'", id="single-quote"),
    pytest.param("https://a.example/?q=</script><script>alert(1)</script>", id="end-script"),
    pytest.param("https://a.example/?q=</SCRIPT >", id="end-script-upper"),
    pytest.param("https://a.example/?q=<!--<script>", id="html-comment"),
    pytest.param("https://a.example/?q=\u2028\u2029", id="line-separators"),
    pytest.param("https://a.example/?q=\\\\x\\u0041", id="backslashes"),
    pytest.param("https://a.example/?q=\n\r\t", id="newlines"),
    pytest.param("https://a.example/?q=${x}`y`", id="template-literal"),
    pytest.param("https://a.example/?q=\u00e9\U0001f600", id="non-ascii"),
    pytest.param("https://a.example/?a=1&b=2", id="ampersand"),
]


@pytest.mark.parametrize("url", HOSTILE)
def test_hostile_urls_are_escaped(url: str, tmp_path: Path) -> None:
    script = chain_script([img(url), js(url)])
    text = script.decode("utf-8")
    lower = text.lower()
    assert "</script" not in lower
    assert "<!--" not in text
    assert "\u2028" not in text and "\u2029" not in text
    assert "\n" not in text.rstrip("\n")  # one line: nothing broke out of the string
    dom = run_in_node(script, tmp_path)
    assert [e["src"] for e in dom["body"]] == [url]
    assert [e["src"] for e in dom["head"]] == [url]
    assert dom["created"] == 2


# --- parse_uid / read_identity -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "uid"),
    [
        pytest.param("1", 1, id="one"),
        pytest.param("123456789", 123456789, id="plain"),
        pytest.param(str(MAX_UID), MAX_UID, id="max"),
        pytest.param(str(MAX_UID + 1), None, id="above-max"),
        pytest.param("9" * 19, None, id="nineteen-nines"),
        pytest.param("1" * 20, None, id="twenty-digits"),
        pytest.param("0", None, id="zero"),
        pytest.param("-5", None, id="negative"),
        pytest.param("-1", None, id="minus-one-is-not-a-uid"),
        pytest.param("+5", None, id="plus"),
        pytest.param("", None, id="empty"),
        pytest.param("12a", None, id="letters"),
        pytest.param("1.5", None, id="decimal"),
        pytest.param("\u0661\u0662", None, id="arabic-indic-digits"),
        pytest.param("\u00b2", None, id="superscript"),
    ],
)
def test_parse_uid(text: str, uid: int | None) -> None:
    assert parse_uid(text) == uid


@pytest.mark.parametrize(
    ("header", "identity"),
    [
        pytest.param(b"uuid2=12345", Identity(12345), id="valid"),
        pytest.param(b"uuid2=-1", Identity(None, opted_out=True), id="opted-out"),
        pytest.param(b"uuid2=-1 ", Identity(None, opted_out=True), id="opted-out-space"),
        pytest.param(b'uuid2="-1"', Identity(None, opted_out=True), id="opted-out-quoted"),
        pytest.param(b"uuid2=garbage", Identity(None), id="garbage"),
        pytest.param(b"uuid2=" + b"x" * 2048, Identity(None), id="2kb-garbage"),
        pytest.param(b"uuid2=" + b"\xff\x00\xc3" * 700, Identity(None), id="2kb-bytes"),
        pytest.param(b"uuid2=" + b"9" * 2048, Identity(None), id="2kb-digits"),
        pytest.param(b"uuid2=0", Identity(None), id="zero"),
        pytest.param(b"uuid2=-7", Identity(None), id="negative"),
        pytest.param(b"uuid2=" + b"1" * 20, Identity(None), id="20-digits"),
        pytest.param(b"uuid2=9223372036854775808", Identity(None), id="above-2-63-minus-1"),
        pytest.param(b"uuid2=9223372036854775807", Identity(MAX_UID), id="2-63-minus-1"),
        pytest.param(b"uuid2=", Identity(None), id="empty"),
        pytest.param(b"uuid2", Identity(None), id="no-equals"),
        pytest.param(b"a=1; uuid2=77; b=2", Identity(77), id="among-others"),
        pytest.param(b"a=1;uuid2=77;b=2", Identity(77), id="among-others-no-spaces"),
        pytest.param(b'uuid2="77"', Identity(77), id="quoted"),
        pytest.param(b"uuid2= 77 ", Identity(77), id="spaces"),
        pytest.param(b"uuid2=5; uuid2=6", Identity(5), id="first-wins"),
        pytest.param(b"xuuid2=5; uuid2x=6", Identity(None), id="similar-names"),
        pytest.param(b"UUID2=5", Identity(None), id="name-case-sensitive"),
        pytest.param(b"a=uuid2=5", Identity(None), id="name-inside-a-value"),
        pytest.param(b"", Identity(None), id="empty-header"),
        pytest.param(None, Identity(None), id="no-header"),
        pytest.param(b";;;=;", Identity(None), id="separators"),
    ],
)
def test_read_identity(header: bytes | None, identity: Identity) -> None:
    assert read_identity(header, b"uuid2") == identity


def test_read_identity_custom_name() -> None:
    assert read_identity(b"uuid2=5; sid=9", b"sid") == Identity(9)
    assert read_identity(b"uuid2=5", b"sid") == Identity(None)


def test_identity_known() -> None:
    assert Identity(5).known
    assert not Identity(None).known
    assert not Identity(None, opted_out=True).known


# --- CookiePolicy -----------------------------------------------------------------------------


def attrs(header: bytes) -> list[str]:
    return header.decode("latin-1").split("; ")


@pytest.mark.parametrize(
    ("policy", "https", "expected"),
    [
        pytest.param(
            CookiePolicy(),
            True,
            ["uuid2=42", "Path=/", "Max-Age=15552000", "HttpOnly", "SameSite=None", "Secure"],
            id="auto-https",
        ),
        pytest.param(
            CookiePolicy(),
            False,
            ["uuid2=42", "Path=/", "Max-Age=15552000", "HttpOnly", "SameSite=Lax"],
            id="auto-http",
        ),
        pytest.param(
            CookiePolicy(secure="always"),
            False,
            ["uuid2=42", "Path=/", "Max-Age=15552000", "HttpOnly", "SameSite=None", "Secure"],
            id="always-http",
        ),
        pytest.param(
            CookiePolicy(secure="always"),
            True,
            ["uuid2=42", "Path=/", "Max-Age=15552000", "HttpOnly", "SameSite=None", "Secure"],
            id="always-https",
        ),
        pytest.param(
            CookiePolicy(secure="never"),
            True,
            ["uuid2=42", "Path=/", "Max-Age=15552000", "HttpOnly", "SameSite=Lax"],
            id="never-https",
        ),
        pytest.param(
            CookiePolicy(name="sid", domain="px.example.com"),
            True,
            [
                "sid=42",
                "Path=/",
                "Max-Age=15552000",
                "HttpOnly",
                "Domain=px.example.com",
                "SameSite=None",
                "Secure",
            ],
            id="name-and-domain",
        ),
    ],
)
def test_cookie_for_user(policy: CookiePolicy, https: bool, expected: list[str]) -> None:
    assert MAX_AGE == 15_552_000  # 180 days
    assert attrs(policy.for_user(42, https)) == expected


@pytest.mark.parametrize("https", [pytest.param(True, id="https"), pytest.param(False, id="http")])
def test_cookie_opt_out_and_clear(https: bool) -> None:
    policy = CookiePolicy()
    out = attrs(policy.opt_out(https))
    assert out[0] == "uuid2=-1"
    assert "Path=/" in out and "HttpOnly" in out
    assert f"Max-Age={OPT_OUT_MAX_AGE}" in out
    assert OPT_OUT_MAX_AGE >= 365 * 24 * 3600  # long-lived: well beyond the 180-day id
    assert ("Secure" in out) is https
    cleared = attrs(policy.clear(https))
    assert cleared[0] == "uuid2="
    assert "Max-Age=0" in cleared


def test_cookie_round_trip() -> None:
    policy = CookiePolicy()
    value = policy.for_user(MAX_UID, True).split(b";")[0]
    assert read_identity(value, b"uuid2") == Identity(MAX_UID)
    opted = policy.opt_out(True).split(b";")[0]
    assert read_identity(opted, b"uuid2") == Identity(None, opted_out=True)
