"""The Manifold renderer's own promises, beyond the Renderer contract: its workers'
file guard holds even for SCAD the sandbox never vetted, and a worker that dies or is
killed never takes the server, the queue or the other renders with it; and a font it
cannot give ``text()`` is a warning, not a silent substitute."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import pytest

from forge_adapters.manifold import ManifoldLimits, ManifoldRenderer
from forge_adapters.manifold.pool import WorkerPool
from forge_core.errors import RenderFailed, RenderLimitExceeded
from forge_core.render_request import RenderRequest
from tests.contract.meshes import binary_stl, box
from tests.contract.stl import bounds

pytestmark = pytest.mark.anyio

RUNAWAY = "for (i = [0:999], j = [0:999]) translate([2 * i, 2 * j, 0]) cube(1);"


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[WorkerPool]:
    library = tmp_path / "library"
    library.mkdir()
    (library / "inside.stl").write_bytes(binary_stl(box((2, 2, 2))))
    pool = WorkerPool(ManifoldLimits(workers=1, timeout=30), library)
    yield pool
    pool.close()


def raw_render(pool: WorkerPool, scad: str) -> dict[str, object]:
    """A worker's answer to SCAD that skipped the sandbox's vetting."""
    worker = pool.take()
    try:
        reply, _ = worker.render(scad.encode(), {}, 30)
        return reply
    finally:
        pool.give_back(worker)


@pytest.mark.parametrize(
    "scad",
    [
        'import("{outside}");',
        "include <{outside_scad}>\nfive();",
        "use <{outside_scad}>\nfive();",
        'x = import("{outside_json}");\ncube(1);',
        'surface(file = "{outside_dat}");',
        'import("{relative}");',
    ],
)
def test_the_worker_guard_refuses_files_outside_the_library(
    pool: WorkerPool, tmp_path: Path, scad: str
) -> None:
    (tmp_path / "outside.stl").write_bytes(binary_stl(box((3, 3, 3))))
    (tmp_path / "outside.scad").write_text("module five() cube(5);")
    (tmp_path / "outside.json").write_text('{"a": 1}')
    (tmp_path / "outside.dat").write_text("1 2\n3 4\n")
    source = scad.replace("{relative}", "{{relative}}").format(
        outside=tmp_path / "outside.stl",
        outside_scad=tmp_path / "outside.scad",
        outside_json=tmp_path / "outside.json",
        outside_dat=tmp_path / "outside.dat",
    )
    worker = pool.take()
    pool.give_back(worker)
    source = source.replace("{relative}", os.path.relpath(tmp_path / "outside.stl", worker.folder))
    reply = raw_render(pool, source)
    assert reply["ok"] is False, "the file was read"
    assert "sandbox refuses" in str(reply["detail"]), reply


def test_the_worker_guard_lets_the_library_be_read(pool: WorkerPool) -> None:
    assert pool.library is not None
    reply = raw_render(pool, f'import("{pool.library / "inside.stl"}");')
    assert reply["ok"] is True


@pytest.fixture
def renderer() -> Iterator[ManifoldRenderer]:
    renderer = ManifoldRenderer(limits=ManifoldLimits(workers=2, timeout=2))
    yield renderer
    renderer.close()


async def test_a_runaway_render_does_not_stop_the_others(renderer: ManifoldRenderer) -> None:
    outcomes: dict[str, object] = {}

    async def render(name: str, scad: str) -> None:
        try:
            outcomes[name] = bounds((await renderer.render(RenderRequest(scad))).mesh)
        except RenderLimitExceeded as exc:
            outcomes[name] = exc.limit

    async with anyio.create_task_group() as group:
        group.start_soon(render, "runaway", RUNAWAY)
        for size in range(1, 6):
            group.start_soon(render, f"cube {size}", f"cube({size});")
    assert outcomes.pop("runaway") == "time"
    assert outcomes == {f"cube {s}": ((0, 0, 0), (s, s, s)) for s in range(1, 6)}
    await eventually(lambda: len(renderer._pool._all) == 2)  # the killed one is replaced


async def eventually(condition: Callable[[], bool], seconds: float = 30) -> None:
    """Waits for ``condition`` (a replacement starts in the background)."""
    with anyio.fail_after(seconds):
        while not condition():  # noqa: ASYNC110 (a thread changes it: nothing to await)
            await anyio.sleep(0.05)


async def test_a_worker_killed_from_outside_fails_one_render_only() -> None:
    renderer = ManifoldRenderer(limits=ManifoldLimits(workers=1, timeout=60))
    try:
        await killed_mid_render(renderer)
    finally:
        renderer.close()


async def killed_mid_render(renderer: ManifoldRenderer) -> None:
    async def kill_the_busy_worker() -> None:
        await eventually(lambda: any(w.renders for w in list(renderer._pool._all)))
        for worker in list(renderer._pool._all):
            os.killpg(worker.process.pid, signal.SIGSEGV)

    async with anyio.create_task_group() as group:
        group.start_soon(kill_the_busy_worker)
        with pytest.raises(RenderFailed, match="stopped unexpectedly"):
            await renderer.render(RenderRequest(RUNAWAY))
    result = await renderer.render(RenderRequest("cube(4);"))
    assert bounds(result.mesh) == ((0, 0, 0), (4, 4, 4))


async def test_a_cancelled_render_kills_its_worker(renderer: ManifoldRenderer) -> None:
    started = time.monotonic()
    with anyio.move_on_after(0.5):
        await renderer.render(RenderRequest(RUNAWAY))
    assert time.monotonic() - started < 1.5
    # the worker that took it is gone; only fresh ones are left
    await eventually(lambda: all(not w.renders for w in list(renderer._pool._all)))


async def test_a_worker_retires_after_its_quota() -> None:
    renderer = ManifoldRenderer(limits=ManifoldLimits(workers=1, renders_per_worker=2))
    try:
        pids = []
        for size in (1, 2, 3):
            await renderer.render(RenderRequest(f"cube({size});"))
            pids += [w.process.pid for w in renderer._pool._all]
        assert len(set(pids)) == 2
    finally:
        renderer.close()


@pytest.mark.parametrize(
    ("font", "warned"),
    [
        ("Arial", True),
        ("Liberation Sans:style=Condensed", True),  # a face the evaluator does not ship
        ("", False),
        ("Liberation Sans", False),
        ("Liberation Sans:style=Bold", False),
        (":style=Italic", False),
    ],
)
async def test_a_font_it_cannot_give_text_is_a_warning(font: str, warned: bool) -> None:
    scad = f'linear_extrude(2) text("Hi", size=10, font="{font}");\n'
    renderer = ManifoldRenderer(limits=ManifoldLimits(workers=1, timeout=60))
    try:
        result = await renderer.render(RenderRequest(scad))
    finally:
        renderer.close()
    said = [w for w in result.warnings if "font" in w]
    assert bounds(result.mesh)[1][2] == 2
    if warned:
        assert said == [
            f'WARNING: text(): font "{font}" is not available here; the letters are '
            "Liberation Sans Regular (the fonts here: Liberation Sans (Regular, Bold, "
            "Italic, Bold Italic))"
        ]
    else:
        assert said == []
