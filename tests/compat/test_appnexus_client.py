"""The reference's own Python client drives segpixel, changing nothing but its base URL.

`appnexus-client` 0.9.0 from PyPI (scripts/install-test-clients puts it in .venv) against a real
`segpixel serve`, on SQLite and PostgreSQL catalogs: it logs in when told NOAUTH, creates, finds,
pages with its cursor (start_element + num_elements of each answer, until count), changes an
object by `find_one` → attribute → `save()` (which PUTs back everything the GET returned), deletes
by a list of ids, and, over a rate limit, sleeps `Retry-After` on `RATE_EXCEEDED` and succeeds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from segpixel.catalog.db import Catalog
from tests.conftest import ServerProcess
from tests.helpers import ADMIN_PASSWORD

try:
    from appnexus import model as models
    from appnexus.client import AppNexusClient
    from appnexus.cursor import Cursor
except ImportError as exc:  # never a skip: the project's install step provides it
    pytest.fail(
        f"the appnexus-client package is missing ({exc}); scripts/install-test-clients installs it",
        pytrace=False,
    )

RATE_LIMIT = 60  # requests a minute: a burst of 60, then one a second (Retry-After: 1)


class CountingClient(AppNexusClient):
    """The real client, counting the back-offs it takes (its own sleep, untouched)."""

    def __init__(self, base_url: str) -> None:
        super().__init__("admin", ADMIN_PASSWORD)
        self.url = f"{base_url}/"  # the one change a script makes to move to segpixel
        self.backoffs: list[str] = []

    def _handle_rate_exceeded(self, response: Any) -> None:
        self.backoffs.append(response.headers.get("Retry-After", ""))
        super()._handle_rate_exceeded(response)


def _forget_model_clients() -> None:
    """`Model.constructor` leaves a client on each model class it made objects of."""
    for name in models.services_list:
        if "client" in vars(getattr(models, name)):
            delattr(getattr(models, name), "client")


@pytest.fixture
def client(http_server: ServerProcess, catalog: Catalog) -> Iterator[CountingClient]:
    """The models' client, pointed at segpixel for this test and put back afterwards."""
    made = CountingClient(http_server.base_url)
    kept = models.Model.client
    _forget_model_clients()
    models.Model.client = made
    yield made
    models.Model.client = kept
    _forget_model_clients()


def test_the_reference_client_creates_finds_pages_saves_and_deletes(
    client: CountingClient,
) -> None:
    member = models.Member.create({"name": "Migrated"})
    assert client.token, "it logged in by itself on NOAUTH"
    member_id = member["id"]
    first = models.Segment.create({"short_name": "First", "code": "first"}, member_id=member_id)
    assert first["segment"]["code"] == "first"
    # 149 more in two bulk bodies, as the reference's PUT/POST examples send them
    for start in (1, 100):
        stop = min(start + 99, 150)
        body = {
            "segments": [{"short_name": f"S{i:03}", "code": f"s{i:03}"} for i in range(start, stop)]
        }
        assert client.create("segment", body, member_id=member_id)["count"] == stop - start

    cursor = models.Segment.find(member_id=member_id)
    assert isinstance(cursor, Cursor) and len(cursor) == 150
    seen = [segment.id for segment in cursor]  # pages of 100: start_element 0, then 100
    assert len(seen) == 150 == len(set(seen))
    assert models.Segment.count(member_id=member_id, like_code="s1") == 50  # s100 … s149
    assert [
        s.code for s in models.Segment.find(member_id=member_id, sort="code.desc").limit(2)
    ] == [
        "s149",
        "s148",
    ]

    segment = models.Segment.find_one(id=first["id"])
    assert segment.short_name == "First" and segment.type == "pixel"
    segment.short_name = "Renamed by a script"
    segment.expire_minutes = 1440
    segment.save()  # PUT /segment?id= with every field the GET returned: quick stats, type…
    again = client.get("segment", id=first["id"])["segment"]
    assert (again["short_name"], again["expire_minutes"]) == ("Renamed by a script", 1440)

    doomed = seen[-3:]
    models.Segment.delete(*doomed)  # DELETE /segment?id=a,b,c
    assert len(models.Segment.find(member_id=member_id)) == 147
    assert client.get("segment", id=doomed)["count"] == 0
    assert client.backoffs == []


def test_the_reference_client_backs_off_on_rate_exceeded_and_succeeds(
    catalog: Catalog, catalog_url: str, tmp_path: Path
) -> None:
    server = ServerProcess(
        {"SEGPIXEL_CATALOG_URL": catalog_url, "SEGPIXEL_API_RATE_LIMIT": str(RATE_LIMIT)},
        tmp_path / "limited",
    )
    try:
        client = CountingClient(server.base_url)
        member = client.create("member", {"member": {"name": "Busy"}})["member"]
        names = []
        for i in range(RATE_LIMIT + 3):  # more than the burst: some answers are 429
            answer = client.get("member", id=member["id"])
            names.append(answer["member"]["name"])
            if i == 0:
                client.modify("member", {"member": {"name": "Busy!"}}, id=member["id"])
        assert names[-1] == "Busy!" and len(names) == RATE_LIMIT + 3
        assert client.backoffs, "the client met the limit and backed off"
        assert set(client.backoffs) == {"1"}, client.backoffs  # it slept Retry-After
    finally:
        server.stop()
