"""segpixel behind Debian's nginx with TLS, as README "Deploying" sets it up — tested through it.

The test makes a self-signed certificate with `openssl`, runs nginx (as a foreground process of
its own, on free ports, with the repository's deploy/nginx-segpixel.conf) in front of `segpixel
serve` (SEGPIXEL_TRUSTED_PROXIES=127.0.0.1, no SEGPIXEL_PUBLIC_URL: the public URL is derived
from the request), and checks over https: the identity cookie is `Secure; SameSite=None`, the
API rate limit counts each client's own address (clients bind 127.0.0.2, 127.0.0.3…, nginx is
127.0.0.1), redirects and exported tags say https://, and /health answers. nginx or openssl
missing fails with a sentence (scripts/install-system-deps installs them), never a skip.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.cli.test_cli import cli_env, invoke
from tests.conftest import ServerProcess, free_port
from tests.helpers import ADMIN_PASSWORD, ApiClient

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx-segpixel.conf"
NGINX = Path("/usr/sbin/nginx")
API_LIMIT = 6  # API requests a minute per client address
MAIN_CONF = """
worker_processes 1;
{user}
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {root}/access.log;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    include {root}/site.conf;
}}
"""


@dataclass
class Deployment:
    server: ServerProcess
    https: str  # https://127.0.0.1:PORT, through nginx
    http: str  # nginx's plain-http port (it only redirects)
    ca: Path  # the self-signed certificate, to verify nginx by

    def client(self, address: str) -> httpx.Client:
        """A client whose connections come from `address` (a loopback address of its own)."""
        context = ssl.create_default_context(cafile=str(self.ca))
        transport = httpx.HTTPTransport(verify=context, local_address=address)
        return httpx.Client(base_url=self.https, transport=transport, timeout=30)


def need(path: Path, package: str) -> None:
    if not path.exists():
        pytest.fail(
            f"The HTTPS deployment test needs {path} (Debian's {package}), which is missing: "
            "run scripts/install-system-deps.",
            pytrace=False,
        )


def site_config(root: Path, https_port: int, http_port: int, upstream_port: int) -> str:
    """deploy/nginx-segpixel.conf with this test's ports, host and certificate."""
    text = SITE.read_text()
    for real, ours in (
        ("server 127.0.0.1:8080;", f"server 127.0.0.1:{upstream_port};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("/etc/letsencrypt/live/px.example.com/fullchain.pem", str(root / "cert.pem")),
        ("/etc/letsencrypt/live/px.example.com/privkey.pem", str(root / "key.pem")),
        ("server_name px.example.com;", "server_name 127.0.0.1;"),
    ):
        assert real in text, f"deploy/nginx-segpixel.conf no longer has {real!r}"
        text = text.replace(real, ours)
    return text


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    need(NGINX, "nginx")
    openssl = shutil.which("openssl")
    need(Path(openssl or "/usr/bin/openssl"), "openssl")
    root = tmp_path_factory.mktemp("nginx")
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem"),
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    env = {
        "SEGPIXEL_TRUSTED_PROXIES": "127.0.0.1",
        "SEGPIXEL_API_RATE_LIMIT": str(API_LIMIT),
        "SEGPIXEL_CATALOG_POLL_SECONDS": "0.2",
    }
    server = ServerProcess(env, tmp_path_factory.mktemp("segpixel"))
    https_port, http_port = free_port(), free_port()
    (root / "site.conf").write_text(site_config(root, https_port, http_port, server.port))
    user = "user root root;" if os.geteuid() == 0 else ""  # workers may write the temp folders
    (root / "nginx.conf").write_text(MAIN_CONF.format(root=root, user=user))
    command = [str(NGINX), "-p", str(root), "-c", str(root / "nginx.conf"), "-g", "daemon off;"]
    check = subprocess.run([*command[:-2], "-t"], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, f"nginx -t refused the deployment's config:\n{check.stderr}"
    log = (root / "nginx.out").open("wb")
    nginx = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    deployment = Deployment(
        server,
        f"https://127.0.0.1:{https_port}",
        f"http://127.0.0.1:{http_port}",
        root / "cert.pem",
    )
    try:
        wait_for_nginx(deployment, nginx, root / "nginx.out")
        yield deployment
    finally:
        nginx.terminate()
        try:
            nginx.wait(timeout=10)
        except subprocess.TimeoutExpired:
            nginx.kill()
            nginx.wait()
        log.close()
        server.stop()


def wait_for_nginx(deployment: Deployment, nginx: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    with deployment.client("127.0.0.1") as client:
        while time.monotonic() < deadline:
            if nginx.poll() is not None:
                raise RuntimeError(f"nginx exited: {log.read_text()}")
            try:
                if client.get("/health").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
    raise RuntimeError("nginx did not answer /health over https in 20 s")


def test_health_through_the_proxy(deployment: Deployment) -> None:
    with deployment.client("127.0.0.1") as client:
        response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] in ("ok", "degraded"), response.text


def test_the_identity_cookie_is_secure_and_cross_site(deployment: Deployment) -> None:
    with deployment.client("127.0.0.1") as client:
        response = client.get("/seg", params={"add": "1"})
    assert response.status_code == 200 and response.headers["content-type"] == "image/gif"
    cookie = response.headers["set-cookie"]
    attributes = {part.strip().lower() for part in cookie.split(";")}
    assert cookie.startswith("uuid2=") and "secure" in attributes, cookie
    assert "samesite=none" in attributes and "httponly" in attributes, cookie
    # Straight to segpixel over plain http the same pixel sets no Secure cookie (a browser would
    # drop SameSite=None without it): the proxy's X-Forwarded-Proto is what makes the difference.
    direct = httpx.get(f"{deployment.server.base_url}/seg", params={"add": "1"})
    assert "secure" not in direct.headers["set-cookie"].lower()


def test_rate_limits_count_each_clients_own_address(deployment: Deployment) -> None:
    with deployment.client("127.0.0.2") as first, deployment.client("127.0.0.3") as second:
        statuses = [first.get("/member").status_code for _ in range(API_LIMIT)]
        assert statuses == [401] * API_LIMIT  # refused, but counted
        limited = first.get("/member")
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        assert limited.json()["response"]["error_id"] == "LIMIT"
        # A client cannot claim another address: nginx appends the one it really came from.
        spoofed = first.get("/member", headers={"X-Forwarded-For": "198.51.100.7"})
        assert spoofed.status_code == 429
        assert second.get("/member").status_code == 401, "another client has its own budget"


def test_redirects_say_https(deployment: Deployment) -> None:
    with deployment.client("127.0.0.4") as client:
        slash = client.get("/console")
        assert slash.status_code == 307
        assert slash.headers["location"] == f"{deployment.https}/console/"
        login = client.get("/console/advertisers")
        assert login.status_code == 303
        target = login.headers["location"]
        assert target.startswith(("/", f"{deployment.https}/")), target
        landing = client.get("/", headers={"Accept": "application/json"}).json()
        assert landing["public_url"] == deployment.https
    plain = httpx.get(f"{deployment.http}/seg?add=1", follow_redirects=False)
    assert plain.status_code == 301
    assert plain.headers["location"] == "https://127.0.0.1/seg?add=1"


def test_exported_tags_use_https(deployment: Deployment) -> None:
    with deployment.client("127.0.0.5") as http:
        admin = ApiClient(http).login()
        member = admin.make_member("Proxied")
        segment = admin.make_segment(f"member_id={member['id']}", "Behind TLS")
    env = cli_env(url=deployment.https)
    env["SSL_CERT_FILE"] = str(deployment.ca)  # the CLI trusts the test's certificate
    login = invoke(env, ("login", "--username", "admin", "--password", ADMIN_PASSWORD))
    assert login.returncode == 0, login.stderr
    tag = invoke(env, ("export-pixel", str(segment["id"]), "--js", "--json"))
    assert tag.returncode == 0, tag.stderr
    assert json.loads(tag.stdout)["url"] == f"{deployment.https}/seg?add={segment['id']}&t=1"
