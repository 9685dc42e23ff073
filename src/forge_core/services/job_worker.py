"""The pipeline's worker: claim running jobs with SCAD by lease and run them.

A running job with SCAD (``Jobs.start`` or ``Jobs.submit_scad``) waits in its row, which
is the queue. ``step`` is one turn, like ``RunSupervisor.poll_once``: claim one such job
by lease (``ports.Leases``), so replicas sharing the database never run a job twice, and
run it with the ``JobRunner``, renewing the lease every third of its length meanwhile;
a job whose lease is lost (another replica took it over after a database outage) is
stopped and left to its new holder.

``work`` is the loop (a bounded number per replica, started by the front end): a step,
or, with nothing to claim, a wait for a job started on this replica (``enqueue`` wakes
it) or ``scan_interval`` seconds (for one started elsewhere, or left by a replica that
died: claimable once its lease lapses). ``stop`` (a graceful shutdown) ends the loops
after their current job; the front end cancels what is left after a grace period, then
releases the leases (``release_all``) so another replica redoes those jobs at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from forge_core.entities import Clock, Job, JobStatus, utc_now
from forge_core.errors import ForgeError
from forge_core.ports import Leases, Repository
from forge_core.services.job_runner import JobRunner
from forge_core.services.production import scad_of

log = logging.getLogger("forge.pipeline")

#: Seconds an idle worker waits before looking for jobs started on other replicas.
SCAN_INTERVAL = 1.0


class JobWorker:
    """Claim jobs with SCAD and run them; see the module docstring."""

    def __init__(
        self,
        runner: JobRunner,
        repo: Repository,
        leases: Leases[Job],
        *,
        worker: str = "pipeline",
        lease_seconds: float = 30.0,
        scan_interval: float = SCAN_INTERVAL,
        clock: Clock = utc_now,
    ) -> None:
        self.runner, self.repo, self.leases, self.worker = runner, repo, leases, worker
        self.lease = timedelta(seconds=lease_seconds)
        self.scan_interval, self.clock = scan_interval, clock
        self._wake = asyncio.Event()
        self._stopping = False
        self._busy = 0

    def enqueue(self, job: Job) -> None:
        """A running job with SCAD was stored here: wake an idle worker to claim it."""
        self._wake.set()

    async def step(self) -> bool:
        """Claim one job and run it to its end; False if there was none to claim. A
        failed claim (the database away) is logged and counts as none."""
        try:
            now = self.clock()
            claimed = await self.leases.claim(self.worker, now, now + self.lease, 1)
        except ForgeError as exc:
            log.warning("pipeline: claiming a job failed: %s", exc.detail)
            return False
        if not claimed:
            return False
        self._busy += 1
        try:
            await self._run_held(claimed[0])
        except Exception:  # one broken job must not stop the worker
            log.exception("pipeline job %s crashed", claimed[0].id)
        finally:
            self._busy -= 1
        return True

    async def work(self) -> None:
        """Step until ``stop`` (or cancelled), waiting when there is nothing to claim."""
        while not self._stopping:
            self._wake.clear()  # a wake-up from here on is kept for the wait below
            if not await self.step():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.scan_interval)

    def stop(self) -> None:
        """Claim no more jobs: each ``work`` loop ends after its current one."""
        self._stopping = True
        self._wake.set()

    async def release_all(self) -> None:
        """Give up this worker's leases (jobs cancelled at shutdown), so another replica
        claims them at once. Raises Unavailable (the leases then lapse on their own)."""
        await self.leases.release(self.worker)

    async def drain(self, poll: float = 0.05) -> None:
        """Wait until no job with SCAD is left running, here or on another replica (for
        tests and embedders; ``work`` loops must be running)."""
        while True:  # other replicas' jobs end in their database rows, not in an event
            if not self._busy and not any(scad_of(j) for j in await self.repo.running_jobs()):
                return
            await asyncio.sleep(poll)

    async def _run_held(self, job: Job) -> None:
        """Run a claimed job, renewing its lease meanwhile; stop it if the lease is lost."""
        task = asyncio.create_task(self.runner.run(job.user_id, job.id))
        ended: Job | None = None
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=self.lease.total_seconds() / 3)
                if not task.done() and not await self._renew(job):
                    log.warning("pipeline job %s: lease lost; left to its new holder", job.id)
                    task.cancel()
        finally:
            if not task.done():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                ended = await task
        if ended is None or ended.status is not JobStatus.RUNNING:
            await self.leases.release(self.worker, [job.id])
        # A job still running here has SCAD the runner will not take: its lease is
        # left to lapse, so it is looked at again a lease later, not in a busy loop.

    async def _renew(self, job: Job) -> bool:
        try:
            kept = await self.leases.renew(self.worker, [job.id], self.clock() + self.lease)
        except ForgeError as exc:  # the database away: keep working, try again later
            log.warning("pipeline job %s: lease not renewed: %s", job.id, exc.detail)
            return True
        return job.id in kept
