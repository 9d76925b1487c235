"""Who may open which console page (SPEC §1.1), logging in and out, and CSRF on every form."""

from __future__ import annotations

import html
from collections.abc import Callable

import httpx
import pytest

from tests.conftest import ServerProcess
from tests.console.conftest import Tenants
from tests.console.helpers import Console, csrf_of, segment_form
from tests.helpers import ADMIN_PASSWORD, ApiClient

MakeConsole = Callable[..., Console]


def test_pages_need_a_login_and_return_to_where_you_were(
    server: ServerProcess, tenants: Tenants
) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        wanted = f"/console/advertisers/{tenants.cars['id']}/segments?search=x"
        response = http.get(wanted)
        assert response.status_code == 303
        login_url = response.headers["location"]
        assert login_url.startswith("/console/login?next=")
        form = http.get(login_url)
        assert form.status_code == 200 and 'name="next"' in form.text
        done = http.post(
            "/console/login",
            data={
                "username": "admin",
                "password": ADMIN_PASSWORD,
                "csrf_token": csrf_of(form.text),
                "next": wanted,
            },
        )
        assert done.status_code == 303 and done.headers["location"] == wanted
        cookie = done.headers["set-cookie"]
        assert "segpixel_console=" in cookie and "HttpOnly" in cookie and "Path=/console" in cookie
        assert "SameSite=lax" in cookie
        assert http.get(wanted).status_code == 200


def test_a_wrong_password_is_said_and_opens_no_session(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        form = http.get("/console/login")
        response = http.post(
            "/console/login",
            data={"username": "admin", "password": "nope", "csrf_token": csrf_of(form.text)},
        )
        assert response.status_code == 401
        assert "The username or password is wrong." in response.text
        assert 'value="admin"' in response.text  # the username stays typed in
        assert http.get("/console/advertisers").status_code == 303


def test_the_login_form_without_its_token_is_refused(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        http.get("/console/login")  # the browser has the login cookie, the form lacks the token
        response = http.post(
            "/console/login", data={"username": "admin", "password": ADMIN_PASSWORD}
        )
        assert response.status_code == 403
        assert "expired" in response.text
        assert "segpixel_console=" not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    "target",
    [
        pytest.param("https://evil.example/", id="absolute"),
        pytest.param("//evil.example/console/", id="scheme-relative"),
        pytest.param("/console//evil.example", id="double-slash"),
        pytest.param("/docs", id="outside-console"),
    ],
)
def test_after_login_you_never_leave_the_console(server: ServerProcess, target: str) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        form = http.get("/console/login")
        response = http.post(
            "/console/login",
            data={
                "username": "admin",
                "password": ADMIN_PASSWORD,
                "csrf_token": csrf_of(form.text),
                "next": target,
            },
        )
        assert response.headers["location"] == "/console/advertisers"


def test_log_out_needs_the_token_and_ends_the_session(console: MakeConsole) -> None:
    admin = console()
    refused = admin.post("/console/logout", csrf=False)
    assert refused.status_code == 403
    assert admin.get("/console/advertisers").status_code == 200
    out = admin.post("/console/logout")
    assert out.status_code == 303 and out.headers["location"] == "/console/login?logged_out=1"
    assert admin.get("/console/advertisers").status_code == 303


def test_the_api_does_not_accept_the_console_session(
    console: MakeConsole, server: ServerProcess
) -> None:
    """The session cookie is scoped to /console: another site's form cannot drive the API."""
    admin = console()
    token = admin.http.cookies.get("segpixel_console")
    assert token
    response = httpx.get(f"{server.base_url}/segment", cookies={"segpixel_console": token})
    assert response.status_code == 401


def _posts(t: Tenants, segment_id: int) -> list[tuple[str, dict]]:
    base = f"/console/advertisers/{t.cars['id']}"
    return [
        (f"{base}/segments/new", segment_form(short_name="Forged")),
        (f"{base}/segments/{segment_id}/edit", segment_form(short_name="Forged")),
        (f"{base}/segments/{segment_id}/state", {"state": "inactive"}),
        (f"{base}/segments/{segment_id}/move-to-member", {}),
        (f"{base}/segments/{segment_id}/delete", {}),
        (f"{base}/export", {"segment": str(segment_id)}),
    ]


@pytest.mark.parametrize("forged", ["missing", "wrong", "another session's"])
def test_every_form_posted_without_this_sessions_token_is_refused(
    console: MakeConsole, tenants: Tenants, admin_api: ApiClient, forged: str
) -> None:
    segment = admin_api.make_segment(f"advertiser_id={tenants.cars['id']}", "Kept")
    admin = console()
    other = console()
    token = {"missing": None, "wrong": "x" * 64, "another session's": other.csrf}[forged]
    assert other.csrf != admin.csrf  # per session
    for path, data in _posts(tenants, segment["id"]):
        body = dict(data) if token is None else {**data, "csrf_token": token}
        response = admin.post(path, body, csrf=False)
        assert response.status_code == 403, (path, response.status_code)
        assert "did not carry this session's security token" in html.unescape(response.text)
    # nothing changed
    after = admin_api.ok("GET", f"/segment?advertiser_id={tenants.cars['id']}")["segments"]
    assert [(s["short_name"], s["state"], s["advertiser_id"]) for s in after] == [
        ("Kept", "active", tenants.cars["id"])
    ]


def _pages(advertiser_id: int, segment_id: int) -> list[str]:
    base = f"/console/advertisers/{advertiser_id}"
    return [
        f"{base}/segments",
        f"{base}/segments/new",
        f"{base}/segments/{segment_id}",
        f"{base}/segments/{segment_id}/edit",
        f"{base}/segments/{segment_id}/delete",
        f"{base}/export?segment={segment_id}",
        f"{base}/tester",
        f"{base}/tester/browser-segments",
    ]


def test_an_advertiser_user_cannot_reach_another_advertisers_pages(
    console: MakeConsole, tenants: Tenants, admin_api: ApiClient
) -> None:
    bikes_segment = admin_api.make_segment(f"advertiser_id={tenants.bikes['id']}", "Bike fans")
    rival_segment = admin_api.make_segment(
        f"advertiser_id={tenants.other_advertiser['id']}", "Rival fans"
    )
    admin_api.make_user(
        "cars-user", "advertiser", member_id=tenants.member["id"], advertiser_id=tenants.cars["id"]
    )
    cars = console("cars-user", "password-123")
    for advertiser, segment in (
        (tenants.bikes["id"], bikes_segment["id"]),  # same member, other advertiser
        (tenants.other_advertiser["id"], rival_segment["id"]),  # another member
        (999_999, 1),  # none at all: the same answer, so ids cannot be probed
    ):
        for path in _pages(advertiser, segment):
            response = cars.get(path)
            assert response.status_code == 403, (path, response.status_code)
            assert "Bike fans" not in response.text and "Rival fans" not in response.text
    refused = cars.post(f"/console/advertisers/{tenants.bikes['id']}/segments/new", segment_form())
    assert refused.status_code == 403
    # its own advertiser's pages open; the list shows only Cars
    assert cars.get(f"/console/advertisers/{tenants.cars['id']}/segments").status_code == 200
    listing = cars.get("/console/advertisers").text
    assert "Cars" in listing and "Bikes" not in listing and "Rival" not in listing


def test_a_segment_of_another_advertiser_is_not_on_this_advertisers_screen(
    console: MakeConsole, tenants: Tenants, admin_api: ApiClient
) -> None:
    bikes_segment = admin_api.make_segment(f"advertiser_id={tenants.bikes['id']}", "Bike fans")
    admin = console()
    response = admin.get(
        f"/console/advertisers/{tenants.cars['id']}/segments/{bikes_segment['id']}"
    )
    assert response.status_code == 404


def test_a_member_user_sees_its_member_only(
    console: MakeConsole, tenants: Tenants, admin_api: ApiClient
) -> None:
    admin_api.make_user("acme", "member", member_id=tenants.member["id"])
    acme = console("acme", "password-123")
    assert acme.get(f"/console/advertisers/{tenants.bikes['id']}/segments").status_code == 200
    rival = acme.get(f"/console/advertisers/{tenants.other_advertiser['id']}/segments")
    assert rival.status_code == 403
    assert "Rival" not in acme.get("/console/advertisers").text
    # an admin is told plainly that an advertiser does not exist
    assert console().get("/console/advertisers/999999/segments").status_code == 404


def test_an_advertiser_user_sees_member_level_segments_marked_but_cannot_change_them(
    console: MakeConsole, tenants: Tenants, admin_api: ApiClient
) -> None:
    shared = admin_api.make_segment(
        f"member_id={tenants.member['id']}", "Shared audience", advertiser_id=None
    )
    own = admin_api.make_segment(f"advertiser_id={tenants.cars['id']}", "Own audience")
    admin_api.make_user(
        "cars-user", "advertiser", member_id=tenants.member["id"], advertiser_id=tenants.cars["id"]
    )
    cars = console("cars-user", "password-123")
    base = f"/console/advertisers/{tenants.cars['id']}"
    listing = cars.get(f"{base}/segments").text
    shared_row = listing.split(f'id="segment-{shared["id"]}"')[1].split("</tr>")[0]
    own_row = listing.split(f'id="segment-{own["id"]}"')[1].split("</tr>")[0]
    assert "badge-member" in shared_row and ">Member<" in shared_row
    assert "badge-adv" in own_row
    assert "/edit" not in shared_row and "/edit" in own_row
    assert cars.get(f"{base}/segments/{shared['id']}/edit").status_code == 403
    page = cars.get(f"{base}/segments/{shared['id']}").text
    assert "Deactivate" not in page and "Delete" not in page
    assert "your member's users manage it" in page
    for path in ("state", "delete", "move-to-member"):
        response = cars.post(f"{base}/segments/{shared['id']}/{path}", {"state": "inactive"})
        assert response.status_code == 403, path
    # nor can it make a member-level segment, and it is told so at the field
    form = cars.get(f"{base}/segments/new").text
    assert 'value="member" disabled' in form
    refused = cars.post(f"{base}/segments/new", segment_form(level="member"))
    assert refused.status_code == 422
    assert "you may only create and change segments of your own advertiser" in refused.text


def test_pages_send_security_headers_and_load_nothing_from_elsewhere(
    console: MakeConsole, tenants: Tenants
) -> None:
    admin = console()
    for path in (
        "/console/advertisers",
        f"/console/advertisers/{tenants.cars['id']}/segments",
        f"/console/advertisers/{tenants.cars['id']}/segments/new",
        f"/console/advertisers/{tenants.cars['id']}/tester",
    ):
        response = admin.get(path)
        assert response.status_code == 200, path
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["cache-control"] == "no-store"
        for attribute in ("src=", "href="):
            for part in response.text.split(attribute)[1:]:
                url = part[1:].split(part[0])[0]
                assert not url.startswith(("http:", "https:", "//")), (path, url)
    css = admin.get("/console/static/console.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
