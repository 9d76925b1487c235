"""`segpixel batch upload FILE`: users and their segments in bulk (SPEC §9).

Against a server: the file is streamed to `POST /batch-segment` (a bar of the bytes sent), then
the job is followed (a bar of the bytes it has read) until it is done. On the data folder: the
file streams straight into the deployment's profile store, as an admin, and the job is recorded
there too. Either way the same summary; `--strict` exits 1 when any line was rejected.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from segpixel.commands import context
from segpixel.commands.client import Api, Refused
from segpixel.commands.output import JsonOpt, err_console, fail, print_json, print_table

app = typer.Typer(help="Bulk segment uploads.", no_args_is_help=True)
SHOWN_REJECTED = 20
CHUNK = 1 << 20
POLL_SECONDS = 0.2
COLUMNS = ("{task.description}", BarColumn(), DownloadColumn(), TimeRemainingColumn())


@app.command("upload")
def batch_upload(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    member_id: Annotated[
        int | None, typer.Option(help="The member whose segment codes the file names")
    ] = None,
    batch_size: Annotated[
        int, typer.Option(min=1, max=100_000, help="Users a write (on the data folder)")
    ] = 5_000,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when any line was rejected")
    ] = False,
    wait: Annotated[float, typer.Option(help="Seconds to follow the server's job")] = 3600,
    as_json: JsonOpt = False,
) -> None:
    """Upload FILE (lines UID,SEG[:EXPIRE_MINUTES[:VALUE]];SEG...): every user's segments."""
    if context.remote_target() is None:
        job = asyncio.run(_upload_here(file, member_id, batch_size))
    else:
        with context.api() as api:
            job = upload_to_server(api, file, member_id, wait)
    if as_json:
        print_json(job)
    else:
        print_table(
            ["job", "lines read", "users updated", "rejected lines"],
            [[job["id"], job["lines_read"], job["users_updated"], job["rejected_lines"]]],
        )
        for item in job.get("rejected", [])[:SHOWN_REJECTED]:
            err_console.print(f"line {item['line']}: {item['reason']}", markup=False)
        if job["rejected_lines"] > SHOWN_REJECTED:
            more = job["rejected_lines"] - SHOWN_REJECTED
            err_console.print(f"… and {more} more rejected lines (segpixel job show {job['id']})")
    if job.get("status") == "error":
        raise fail(f"batch-segment job {job['id']} failed: {job.get('error')}")
    if strict and job["rejected_lines"]:
        raise fail(f"{job['rejected_lines']} line(s) rejected (--strict)")


def upload_to_server(api: Api, file: Path, member_id: int | None, wait: float) -> dict[str, Any]:
    size = file.stat().st_size
    with Progress(*COLUMNS, console=err_console) as bar:
        sending = bar.add_task(f"uploading {file.name}", total=size)
        answer = api.upload(
            "/batch-segment",
            _chunks(file),
            on_sent=lambda n: bar.advance(sending, n),
            member_id=member_id,
        )
        job = answer["batch-segment"]
        running = bar.add_task(f"batch-segment job {job['id']}", total=size)
        deadline = time.monotonic() + wait
        while job["status"] in ("pending", "running"):
            if time.monotonic() > deadline:
                raise Refused(
                    0, "TIMEOUT", f"job {job['id']} still {job['status']} after {wait:g} s"
                )
            time.sleep(POLL_SECONDS)
            job = api.get("/batch-segment", id=job["id"])["batch-segment"]
            bar.update(running, completed=job.get("bytes_read") or 0)
        if job["status"] == "done":
            bar.update(running, completed=size)
    return job


def _chunks(file: Path) -> Iterator[bytes]:
    with file.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            yield chunk


async def _upload_here(file: Path, member_id: int | None, batch_size: int) -> dict[str, Any]:
    from segpixel import cli
    from segpixel.batch.inflate import readable
    from segpixel.batch.upload import BatchReport, BatchUpload
    from segpixel.catalog import job_queue
    from segpixel.catalog.db import Catalog
    from segpixel.catalog.jobs import JobRepo
    from segpixel.catalog.snapshot import load_view
    from segpixel.domain.access import Principal
    from segpixel.domain.batch_lines import BatchScope
    from segpixel.errors import SegpixelError
    from segpixel.jobs.runner import runner_name
    from segpixel.profiles.factory import make_profile_store

    config = cli.settings()
    catalog = Catalog(config.catalog_url or "")
    store = make_profile_store(
        config.profile_url or "", redis_prefix=config.redis_prefix, timeout=5.0
    )
    operator = Principal(user_id=0, username="cli", role="admin")
    job_id = None
    # This command runs the job itself, under a lease as a runner would: should it stop half
    # way, a runner takes the job over after the lease and ends it (the file is not theirs).
    owner = f"cli:{runner_name()}"

    def lease() -> dict[str, Any]:
        return {"lease_until": job_queue.now_ms() + int(config.job_lease_seconds * 1000)}

    def save(**fields: Any) -> None:
        job_queue.write(catalog, job_id, owner, **fields, **lease())

    try:
        with catalog.session() as session:
            repo = JobRepo(session, operator, "batch-segment")
            if member_id is not None:
                repo.require_member(member_id)
            params = {"member_id": member_id, "bytes": file.stat().st_size, "file": file.name}
            running = {"status": "running", "lease_owner": owner, **lease()}
            job_id = repo.create(member_id, params, **running).id
        view = load_view(catalog)  # once: a run does not wait for catalog changes
        await store.open()
        with Progress(*COLUMNS, console=err_console) as bar:
            task = bar.add_task(f"batch-segment job {job_id}", total=file.stat().st_size)

            async def progress(report: BatchReport) -> None:
                bar.update(task, completed=report.raw_read)  # of the file as it is (gzip or not)
                save(progress=report.as_progress())

            upload = BatchUpload(
                store,
                lambda: view,
                BatchScope(operator, member_id),
                batch_size=batch_size,
                on_progress=progress,
                progress_every=0.2,
            )
            with file.open("rb") as raw:
                report = await upload.run(readable(raw, config.batch_max_bytes))
        save(status="done", progress=report.as_progress())
        return {"id": job_id, "status": "done", **report.as_progress()}
    except SegpixelError as exc:
        if job_id is not None:
            save(status="error", error=exc.message)
        raise fail(exc.message) from None
    finally:
        await store.close()
        catalog.dispose()
