"""Wall time of each 3D pipeline stage for the quadcopter template, through the adapters.

    python benchmarks/pipeline_stages.py [--rounds 5] [--model drone]

One round runs the stages one after the other, as the pipeline does: render (the
``OpenSCADRenderer``, process start and sandbox included), inspect + QA
(``TrimeshKit.inspect`` and ``forge_core.qa.qa_report``), each export (stl, glb, 3mf)
and the PNG preview, every one through the async port (so the hop to a worker thread
is counted). Median and spread of the rounds.

With ``--through-pipeline`` a round is one job through the ``JobRunner`` itself,
on the embedded defaults' adapters (SQLite, local files, OpenSCAD, the trimesh kit): the
stages as the pipeline runs them (the render of the whole model and of each named part,
QA of each, every export and preview, then storing the files, assets and asset meta),
timed by the ``job.progress`` events the pipeline stores as it enters each stage.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any
from uuid import UUID, uuid4

import anyio

from forge_adapters.mesh import TrimeshKit
from forge_adapters.objectstore_local import LocalObjectStore
from forge_adapters.openscad import OpenSCADRenderer
from forge_adapters.sql import SqlAuthStore, SqlEventLog, SqlRepository, create_engine, migrate
from forge_adapters.template_backend import execute
from forge_core.commands import NewChat, NewSession
from forge_core.entities import ChatEvent, User, utc_now
from forge_core.inference import JobInput
from forge_core.qa import qa_report
from forge_core.render_request import RenderRequest
from forge_core.services import ChatEvents, Chats, JobRunner, Jobs, Sessions

PIPELINE_STAGES = ("render", "qa", "export", "store")
STAGES = ("render", "inspect + QA", "export stl", "export glb", "export 3mf", "preview png")


async def one_round(
    scad: str, requirements: dict[str, Any]
) -> tuple[dict[str, float], dict[str, int]]:
    """Seconds per stage, and the bytes each output came to."""
    kit = TrimeshKit()
    times: dict[str, float] = {}
    sizes: dict[str, int] = {}

    async def timed(stage: str, work: Callable[[], Awaitable[Any]]) -> Any:
        started = time.monotonic()
        result = await work()
        times[stage] = time.monotonic() - started
        return result

    stl = (await timed("render", lambda: OpenSCADRenderer().render(RenderRequest(scad)))).mesh

    async def check() -> bool:
        return qa_report(await kit.inspect(stl), requirements=requirements).passed

    assert await timed("inspect + QA", check)
    for format in ("stl", "glb", "3mf"):
        sizes[format] = len(await timed(f"export {format}", lambda f=format: kit.export(stl, f)))
    sizes["png"] = len(await timed("preview png", lambda: kit.preview(stl)))
    times["total"] = sum(times.values())
    return times, sizes


class NoBus:
    """Events are read back from the log here; nobody listens live."""

    async def publish(self, event: ChatEvent) -> None:
        return None

    def subscribe(self, chat_id: UUID) -> AbstractAsyncContextManager[AsyncIterator[ChatEvent]]:
        raise NotImplementedError("the benchmark does not follow events live")


async def pipeline_rounds(
    scad: str, requirements: dict[str, Any], rounds: int
) -> list[dict[str, float]]:
    """Seconds per stage of ``rounds`` jobs run one at a time by the JobRunner."""
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite+aiosqlite:///{folder}/forge.db")
        await migrate(engine)
        repo = SqlRepository(engine)
        events = ChatEvents(repo, SqlEventLog(engine), NoBus())
        runner = JobRunner(
            repo, OpenSCADRenderer(), TrimeshKit(), LocalObjectStore(f"{folder}/objects"), events
        )
        jobs = Jobs(repo)
        owner = uuid4()
        await SqlAuthStore(engine).add_user(
            User(id=owner, email="b@example.com", created_at=utc_now(), updated_at=utc_now()),
            None,
        )
        session = await Sessions(repo).create(owner, NewSession(name="bench"))
        chat = await Chats(repo).create(owner, NewChat(session_id=session.id))
        timings = []
        for _ in range(rounds):
            job = await jobs.submit_scad(owner, chat.id, scad, requirements)
            ended = await runner.run(owner, job.id)
            assert ended is not None and ended.status.value == "succeeded", ended
            found = await events.since(owner, chat.id, 0)
            mine = [e for e in found if e.data.get("job_id") == str(job.id)]
            marks = [(e.data.get("stage", e.type), e.created_at) for e in mine]
            times = {
                stage: (marks[i + 1][1] - at).total_seconds()
                for i, (stage, at) in enumerate(marks[:-1])
                if stage in PIPELINE_STAGES
            }
            times["total"] = (mine[-1].created_at - mine[0].created_at).total_seconds()
            timings.append(times)
        await engine.dispose()
        return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--model", default="drone")
    parser.add_argument("--through-pipeline", action="store_true")
    args = parser.parse_args()
    output = execute(JobInput.create("generate_scad", requirements_json={"model_type": args.model}))
    requirements = {"model_type": args.model, "dimensions_mm": {}}
    print(f"{args.model}: {args.rounds} rounds, load {os.getloadavg()[0]:.1f}")
    if args.through_pipeline:
        rounds = anyio.run(pipeline_rounds, output["scad_code"], requirements, args.rounds)
        stages: tuple[str, ...] = PIPELINE_STAGES
    else:
        runs = [anyio.run(one_round, output["scad_code"], requirements) for _ in range(args.rounds)]
        rounds = [times for times, _ in runs]
        stages = STAGES
        print(f"output bytes: {runs[-1][1]}")
    print("| stage | median s | min s | max s |\n|---|---:|---:|---:|")
    for stage in (*stages, "total"):
        values = [r[stage] for r in rounds]
        median = statistics.median(values)
        print(f"| {stage} | {median:.3f} | {min(values):.3f} | {max(values):.3f} |")


if __name__ == "__main__":
    main()
