"""Runs kept in this process: the bookkeeping shared by the in-process backends
(memory, template, OpenAI-compatible), so each of them only says how a job is run.

Runs get ids ``<prefix>-<random hex>``, unique across restarts (a run id stored before a
restart must never name a new run after it); the newest ``keep`` are remembered, and an older one is
NotFound, as RunPod forgets results after a while. Background work is tracked as tasks
so that ``cancel`` stops it and ``aclose`` leaves nothing running.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from forge_core.errors import NotFound
from forge_core.inference import RunState, RunStatus


class LocalRuns:
    def __init__(self, prefix: str, *, keep: int = 1000) -> None:
        self._prefix = prefix
        self._keep = keep
        self._states: OrderedDict[str, RunState] = OrderedDict()
        self._done: dict[str, asyncio.Event] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def __len__(self) -> int:
        return len(self._states)

    def new(self) -> RunState:
        """A fresh queued run."""
        state = RunState(f"{self._prefix}-{uuid.uuid4().hex}", RunStatus.QUEUED)
        self.set(state)
        while len(self._states) > self._keep:
            old, _ = self._states.popitem(last=False)
            self._done.pop(old, None)
        return state

    def update(self, state: RunState) -> None:
        """Record the new state of a run that is still remembered (not evicted)."""
        if state.run_id in self._states:
            self.set(state)

    def set(self, state: RunState) -> RunState:
        """Record a run's new state (a finished run changes no more)."""
        current = self._states.get(state.run_id)
        if current is not None and current.status.finished:
            return current
        self._states[state.run_id] = state
        done = self._done.setdefault(state.run_id, asyncio.Event())
        if state.status.finished:
            done.set()
        return state

    def get(self, run_id: str) -> RunState:
        try:
            return self._states[run_id]
        except KeyError:
            raise NotFound("Run", run_id) from None

    def forget(self, run_id: str) -> None:
        """Drop a run: from now on it is NotFound."""
        self.get(run_id)
        del self._states[run_id]
        self._done.pop(run_id, None)

    def start(
        self, run_id: str, work: Callable[[], Awaitable[Any]], limit: float | None = None
    ) -> None:
        """Run ``work`` in the background: in progress, then completed with its output,
        failed with its error, or timed out after ``limit`` seconds."""

        async def drive() -> None:
            self.update(RunState(run_id, RunStatus.IN_PROGRESS))
            try:
                async with asyncio.timeout(limit):
                    output = await work()
            except TimeoutError:
                self.update(
                    RunState(run_id, RunStatus.TIMED_OUT, error=f"timed out after {limit:g} s")
                )
            except asyncio.CancelledError:
                self.update(RunState(run_id, RunStatus.CANCELLED))
                raise
            except Exception as exc:  # the worker's failure is the run's, not ours
                self.update(
                    RunState(run_id, RunStatus.FAILED, error=str(exc) or type(exc).__name__)
                )
            else:
                self.update(RunState(run_id, RunStatus.COMPLETED, output=output))

        task = asyncio.get_running_loop().create_task(drive())
        self._tasks[run_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(run_id, None))

    async def wait(self, run_id: str, seconds: float) -> RunState:
        """The run's state once it finishes, or when ``seconds`` have passed."""
        state = self.get(run_id)
        done = self._done.get(run_id)
        if done is not None and not state.status.finished:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), timeout=max(seconds, 0))
        return self.get(run_id)

    def cancel(self, run_id: str) -> RunState:
        state = self.get(run_id)
        if state.status.finished:
            return state
        task = self._tasks.pop(run_id, None)
        if task is not None:
            task.cancel()
        return self.set(RunState(run_id, RunStatus.CANCELLED))

    async def aclose(self) -> None:
        """Stop the runs still working."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
