"""The job runner: claims jobs from the catalog, runs them under a lease, ends them.

One asyncio loop per runner process. Every poll it claims jobs until it runs
`SEGPIXEL_JOB_CONCURRENCY` of them (the claim keeps `SEGPIXEL_JOB_MEMBER_CAP` a member across
every runner); a heartbeat renews the leases a third of a lease apart. A job whose lease could not
be renewed is stopped at once (another runner may take it after the lease). A runner told to stop
hands its jobs back (pending, to be resumed by any runner); one that dies leaves them to the next
runner after the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Mapping

from segpixel.catalog import job_queue
from segpixel.closing import Deadline, cancel_within, close_within
from segpixel.errors import SegpixelError, StoreUnavailable
from segpixel.jobs.context import JobContext
from segpixel.jobs.kinds import JobKind, all_kinds
from segpixel.jobs.running import LeaseLost, RunningJob

log = logging.getLogger("segpixel.jobs")

MAX_ATTEMPTS = 5  # claims of one job (its runner died or its store was down each time)
BACK_OFF_SECONDS = 5.0  # a job whose store is down waits this long before it is tried again
OPEN_RETRY_SECONDS = 2.0
SWEEP_SECONDS = 60.0
STEP_MIN = 0.2  # the stores' close still gets this long when the stop budget is spent


def runner_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class JobRunner:
    def __init__(
        self,
        ctx: JobContext,
        kinds: Mapping[str, JobKind] | None = None,
        *,
        owner: str | None = None,
        parent_pid: int | None = None,
    ):
        settings = ctx.settings
        self.ctx = ctx
        self.kinds = dict(kinds or all_kinds())
        self.owner = owner or runner_name()
        self.lease = settings.job_lease_seconds
        self.poll = settings.job_poll_seconds
        self.concurrency = settings.job_concurrency
        self.member_cap = settings.job_member_cap
        self.parent_pid = parent_pid  # stop when this process is gone (serve started us)
        self.active: dict[int, asyncio.Task[None]] = {}
        self._jobs: dict[int, RunningJob] = {}
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Claim and run jobs until `stop()`; then hand the running ones back."""
        if not await self._open():
            return
        log.info("job runner %s started (pid %d)", self.owner, os.getpid())
        helpers = [
            asyncio.create_task(self._heartbeat(), name="job-leases"),
            asyncio.create_task(self._sweep(), name="upload-sweep"),
        ]
        try:
            while not self._stopping.is_set():
                if self.parent_pid is not None and os.getppid() != self.parent_pid:
                    log.warning("job runner %s: the server that started it is gone", self.owner)
                    break
                await self._claim_what_fits()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.poll)
        finally:  # within SEGPIXEL_STOP_TIMEOUT_S, whatever the stores do
            deadline = Deadline(self.ctx.settings.stop_timeout_s)
            await cancel_within("jobs", [*self.active.values(), *helpers], deadline.left())
            await close_within("job stores", self.ctx.close, max(deadline.left(), STEP_MIN))
            log.info("job runner %s stopped", self.owner)

    async def _open(self) -> bool:
        while not self._stopping.is_set():
            try:
                await self.ctx.open()
                return True
            except StoreUnavailable as exc:
                log.warning("job runner waits for its stores: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), OPEN_RETRY_SECONDS)
        return False

    async def _claim_what_fits(self) -> None:
        while len(self.active) < self.concurrency and not self._stopping.is_set():
            try:
                claimed = await asyncio.to_thread(
                    job_queue.claim,
                    self.ctx.catalog,
                    self.owner,
                    self.lease,
                    kinds=tuple(self.kinds),
                    spools=(self.ctx.spool.id,),
                    store=self.ctx.store_key,
                    member_cap=self.member_cap,
                )
            except Exception as exc:  # the catalog is down: the next poll tries again
                log.warning("job runner cannot claim jobs: %s", exc)
                return
            if claimed is None:
                return
            job = RunningJob(claimed, self.ctx.catalog, self.owner, self.lease)
            self._jobs[job.id] = job
            self.active[job.id] = asyncio.create_task(self._run(job), name=f"job-{job.id}")

    async def _run(self, job: RunningJob) -> None:
        kind = self.kinds[job.claimed.kind]
        log.info("job %d (%s) claimed, attempt %d", job.id, kind.name, job.claimed.attempts)
        try:
            fields = await self._outcome(job, kind)
            if fields is None:
                return
            await job.save(**fields)
            kind.cleanup(job, self.ctx)
            log.info("job %d (%s) ended: %s", job.id, kind.name, fields["status"])
        except LeaseLost as exc:
            log.warning("job %d stopped: %s", job.id, exc)
        except asyncio.CancelledError:
            if not job.lost:  # stopping (or the lease is gone): hand it back if still ours
                with contextlib.suppress(Exception):
                    await asyncio.shield(
                        asyncio.to_thread(job_queue.release, self.ctx.catalog, job.id, self.owner)
                    )
            raise
        except Exception:  # the catalog failed under the final write: the lease will lapse
            log.exception("job %d: its end could not be recorded", job.id)
        finally:
            self.active.pop(job.id, None)
            self._jobs.pop(job.id, None)

    async def _outcome(self, job: RunningJob, kind: JobKind) -> dict | None:
        """The job's ending fields; None when it is not ended here (handed back)."""
        if job.claimed.attempts > MAX_ATTEMPTS:
            error = f"stopped after {MAX_ATTEMPTS} attempts; the last ended without a result"
            return {"status": "error", "error": error}
        try:
            return await kind.run(job, self.ctx)
        except StoreUnavailable as exc:  # resumed later, from its saved progress
            log.warning("job %d waits %.0f s for its store: %s", job.id, BACK_OFF_SECONDS, exc)
            await asyncio.to_thread(
                job_queue.back_off, self.ctx.catalog, job.id, self.owner, BACK_OFF_SECONDS
            )
            return None
        except LeaseLost:
            raise
        except SegpixelError as exc:
            return {"status": "error", "error": exc.message}
        except Exception as exc:
            log.exception("job %d (%s) failed", job.id, kind.name)
            return {"status": "error", "error": f"an unexpected error: {exc}"[:500]}

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            for job_id, job in list(self._jobs.items()):
                try:
                    held = await job.renew()
                except Exception as exc:  # the catalog is down: guard() stops the job in time
                    log.warning("job %d: lease not renewed: %s", job_id, exc)
                    continue
                if not held and (task := self.active.get(job_id)) is not None:
                    log.warning("job %d: another runner holds it now; stopping", job_id)
                    task.cancel()

    async def _sweep(self) -> None:
        spool = self.ctx.spool
        while True:
            try:
                live = await asyncio.to_thread(job_queue.live_uploads, self.ctx.catalog, spool.id)
                await asyncio.to_thread(spool.sweep, live)
            except Exception as exc:
                log.warning("upload folder sweep failed: %s", exc)
            await asyncio.sleep(SWEEP_SECONDS)
