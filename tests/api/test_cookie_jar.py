"""Cookie-jar login (SPEC §2, §2.1): `curl -b cookies -c cookies`, as every example of the
reference logs in. POST /auth sets the token as a cookie; a client that keeps cookies and sends
no Authorization header works the API; another site's page never does with that cookie."""

from __future__ import annotations

from typing import Any

from tests.helpers import ADMIN_PASSWORD, ApiClient, error_of

CREDENTIALS = {"auth": {"username": "admin", "password": ADMIN_PASSWORD}}
EVIL = {"Origin": "https://evil.example", "Content-Type": "application/x-www-form-urlencoded"}


def cookie_of(response: Any) -> dict[str, str]:
    """The token cookie's attributes, as Set-Cookie wrote them (names lower-cased)."""
    (header,) = [h for h in response.headers.get_list("set-cookie") if "segpixel_token=" in h]
    first, *attributes = (part.strip() for part in header.split(";"))
    out = {"value": first.partition("=")[2]}
    for attribute in attributes:
        name, _, value = attribute.partition("=")
        out[name.lower()] = value
    return out


def jar_login(api: ApiClient) -> Any:
    """The transport, logged in the way curl's cookie jar is: nothing but the cookie."""
    response = api.client.post("/auth", json=CREDENTIALS)
    assert response.status_code == 200, response.text
    assert api.client.cookies.get("segpixel_token") == response.json()["response"]["token"]
    return api.client


def test_login_sets_the_token_as_a_strict_http_only_cookie_lapsing_with_it(api: ApiClient) -> None:
    response = api.client.post("/auth", json=CREDENTIALS)
    cookie = cookie_of(response)
    assert cookie["value"] == response.json()["response"]["token"]
    assert "httponly" in cookie and cookie["samesite"].lower() == "strict"
    assert cookie["path"] == "/" and cookie["max-age"] == str(24 * 3600)  # the token's hard limit
    assert "secure" not in cookie  # plain http here
    over_https = api.client.post("/auth", json=CREDENTIALS, headers={"X-Forwarded-Proto": "https"})
    assert "secure" in cookie_of(over_https)


def test_a_cookie_jar_session_does_crud(api: ApiClient) -> None:
    http = jar_login(api)

    def ok(method: str, path: str, body: Any = None) -> dict[str, Any]:
        response = http.request(method, path, json=body)
        assert response.status_code == 200, f"{method} {path}: {response.text}"
        return response.json()["response"]

    member = ok("POST", "/member", {"member": {"name": "Jar"}})["member"]
    seg = ok("POST", f"/segment?member_id={member['id']}", {"segment": {"short_name": "A"}})
    seg_id = seg["segment"]["id"]
    assert ok("GET", f"/segment?id={seg_id}")["segment"]["short_name"] == "A"
    ok("PUT", f"/segment?id={seg_id}", {"segment": {"short_name": "B"}})
    # as curl sends `-d @file`: labelled form data, no Origin
    response = http.put(
        f"/segment?id={seg_id}",
        content=b'{"segment": {"description": "from curl"}}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    ok("DELETE", f"/segment?id={seg_id}")
    assert ok("GET", f"/segment?member_id={member['id']}")["count"] == 0
    # our own pages (same origin) may change things too
    own = {"Origin": str(http.base_url).rstrip("/"), "Sec-Fetch-Site": "same-origin"}
    response = http.post("/member", json={"member": {"name": "Mine"}}, headers=own)
    assert response.status_code == 200, response.text
    # this host's page reached over https, through a TLS proxy that talks http to segpixel
    tls = {"Origin": "https://" + http.base_url.netloc.decode()}
    response = http.post("/member", json={"member": {"name": "Behind TLS"}}, headers=tls)
    assert response.status_code == 200, response.text


def test_a_cross_site_form_post_with_the_cookie_is_refused(api: ApiClient) -> None:
    http = jar_login(api)
    member = http.post("/member", json={"member": {"name": "Victim"}}).json()["response"]["member"]
    forged = b'{"segment": {"short_name": "planted"}}'
    path = f"/segment?member_id={member['id']}"
    for headers in (
        EVIL,
        {**EVIL, "Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "cross-site", "Content-Type": "text/plain"},
        {"Sec-Fetch-Site": "same-site", "Content-Type": "text/plain"},  # a sibling host
        {"Origin": "null", "Content-Type": "text/plain"},  # a sandboxed page
    ):
        response = http.post(path, content=forged, headers=headers)
        assert "another site" in error_of(response, 403, "UNAUTH"), headers
        error_of(http.delete(f"/member?id={member['id']}", headers=headers), 403, "UNAUTH")
    assert http.get(f"/segment?member_id={member['id']}").json()["response"]["count"] == 0
    # reading is not changing: a cross-site GET is the cookie's to answer (SameSite keeps it)
    assert http.get("/auth", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200
    # a token in the Authorization header is no cookie another site can make a browser send
    token = http.cookies.get("segpixel_token")
    response = http.post(path, content=forged, headers={**EVIL, "Authorization": token})
    assert response.status_code == 200, response.text


def test_a_cross_site_login_sets_no_cookie(api: ApiClient) -> None:
    response = api.client.post(
        "/auth", json=CREDENTIALS, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 200, response.text
    assert not [h for h in response.headers.get_list("set-cookie") if "segpixel_token" in h]


def test_delete_auth_clears_the_cookie_and_ends_the_token(api: ApiClient) -> None:
    http = jar_login(api)
    token = http.cookies.get("segpixel_token")
    response = http.delete("/auth")
    assert response.status_code == 200, response.text
    cleared = cookie_of(response)
    assert cleared["value"] in ("", '""') and cleared["max-age"] == "0"
    assert http.cookies.get("segpixel_token") is None, "the jar forgets it"
    error_of(http.get("/auth", headers={"Authorization": token}), 401, "NOAUTH")
    error_of(http.get("/member"), 401, "NOAUTH")
