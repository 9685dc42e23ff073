"""The Renderer contract: every renderer passes this suite (OpenSCAD's command line and
the Manifold worker pool), hostile SCAD included.

Sandbox cases must be refused before any renderer runs, so they also pass where the
renderer is missing; OpenSCAD's rendering cases skip only when ``openscad`` is not
installed (``.ci/run`` installs it, so CI never skips them). Manifold comes with pip.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from forge_adapters.manifold import ManifoldLimits, ManifoldRenderer
from forge_adapters.openscad import OpenSCADRenderer, RenderLimits
from forge_core.errors import InvalidInput, RenderFailed, RenderLimitExceeded
from forge_core.ports import Renderer
from forge_core.render_request import RenderRequest
from tests.contract.stl import bounds, triangles

pytestmark = pytest.mark.anyio

MiB = 1024 * 1024
QUADCOPTER = (Path(__file__).parent / "scad" / "quadcopter.scad").read_text()
TWO_PARTS = """// forge:parts small, big
part = "all";
if (part == "all" || part == "small") cube(1);
if (part == "all" || part == "big") translate([5, 0, 0]) cube(2);
"""
#: make(library=None, timeout=120, memory_bytes=..., output_bytes=...) -> Renderer
Make = Callable[..., Renderer]


def request(source: str, **kwargs: object) -> RenderRequest:
    return RenderRequest(source, **kwargs)  # type: ignore[arg-type]


class RendererContract:
    """Subclasses provide ``build``: a renderer with the given library and limits; tests
    that render take ``make``, which skips where the engine is not installed."""

    @pytest.fixture
    def build(self) -> Make:
        raise NotImplementedError

    @pytest.fixture
    def make(self, build: Make) -> Make:
        self.require_engine()
        return build

    def require_engine(self) -> None:
        """Skips, saying why, where the engine is missing."""

    @pytest.fixture
    def renderer(self, make: Make) -> Renderer:
        return make()

    @pytest.fixture
    def library(self, tmp_path: Path) -> Path:
        folder = tmp_path / "library"
        (folder / "parts").mkdir(parents=True)
        (folder / "parts" / "peg.scad").write_text("module peg() { cylinder(r=2, h=5, $fn=8); }")
        (folder / "escape.scad").symlink_to("/etc/passwd")
        return folder

    async def test_a_cube_renders_to_binary_stl(self, renderer: Renderer) -> None:
        result = await renderer.render(request("cube([10, 20, 30]);"))
        assert result.format == "stl"
        assert triangles(result.mesh) == 12
        assert bounds(result.mesh) == ((0, 0, 0), (10, 20, 30))
        assert result.seconds > 0

    async def test_the_quadcopter_frame_renders(self, renderer: Renderer) -> None:
        result = await renderer.render(request(QUADCOPTER))
        assert triangles(result.mesh) > 1000

    async def test_it_says_which_engine_and_version(self, renderer: Renderer) -> None:
        info = await renderer.about()
        assert info.engine in ("manifold", "openscad")
        assert info.version[:1].isdigit()

    async def test_warnings_are_reported_with_their_line(self, renderer: Renderer) -> None:
        result = await renderer.render(request("cube(1);\nno_such_module();\n"))
        assert triangles(result.mesh) == 12
        assert any("no_such_module" in w and "line 2" in w for w in result.warnings)

    async def test_a_syntax_error_names_its_line(self, renderer: Renderer) -> None:
        with pytest.raises(RenderFailed) as caught:
            await renderer.render(request("cube(1);\n\nx = ;\n"))
        assert caught.value.line == 3
        assert "line 3" in caught.value.detail and "syntax error" in caught.value.detail

    async def test_a_failed_assertion_names_its_line(self, renderer: Renderer) -> None:
        with pytest.raises(RenderFailed) as caught:
            await renderer.render(request('cube(1);\nassert(false, "arm too short");\n'))
        assert caught.value.line == 2
        assert "arm too short" in caught.value.detail

    async def test_an_empty_model_fails(self, renderer: Renderer) -> None:
        with pytest.raises(RenderFailed, match="empty"):
            await renderer.render(request("x = 1;"))

    async def test_typed_parameters_replace_top_level_values(self, renderer: Renderer) -> None:
        scad = (
            'size = [1, 1, 1];\nbig = false;\nname = "a";\ncube(big && name == "b" ? size : 1);\n'
        )
        values = {"size": [10, 20, 30], "big": True, "name": "b"}
        result = await renderer.render(request(scad, parameters=values))
        assert bounds(result.mesh) == ((0, 0, 0), (10, 20, 30))
        assert not any("overwritten" in w for w in result.warnings)

    async def test_a_parameter_the_model_never_sets_is_defined(self, renderer: Renderer) -> None:
        result = await renderer.render(request("cube(edge);", parameters={"edge": 2.5}))
        assert bounds(result.mesh) == ((0, 0, 0), (2.5, 2.5, 2.5))

    async def test_a_named_part_is_drawn_alone(self, renderer: Renderer) -> None:
        whole = await renderer.render(request(TWO_PARTS))
        big = await renderer.render(request(TWO_PARTS, part="big"))
        assert bounds(whole.mesh) == ((0, 0, 0), (7, 2, 2))
        assert bounds(big.mesh) == ((5, 0, 0), (7, 2, 2))

    async def test_a_library_file_can_be_used(self, make: Make, library: Path) -> None:
        result = await make(library=library).render(request("use <parts/peg.scad>\npeg();\n"))
        assert triangles(result.mesh) > 0

    async def test_file_words_in_comments_and_strings_are_not_reads(
        self, renderer: Renderer
    ) -> None:
        scad = (
            '// include </etc/passwd>\n/* import("/etc/passwd"); */\n'
            'echo("import(\\"/etc/passwd\\")");\nh = 2;\nlinear_extrude(h) square(1);\n'
        )
        result = await renderer.render(request(scad))
        assert triangles(result.mesh) == 12

    @pytest.mark.parametrize(
        ("scad", "line", "reason"),
        [
            ("cube(1);\ninclude </etc/passwd>\n", 2, "only relative paths inside the SCAD"),
            ('cube(1);\n\nimport("../x.stl");\n', 3, "only relative paths inside the SCAD"),
            ('import(str("/etc/", "passwd"));\n', 1, "must be a plain string"),
            ('// import("/x")\nsurface(file = "heights.dat");\n', 2, "no such file in the SCAD"),
            ("include <escape.scad>\n", 1, "leads out of the SCAD library"),
            ('import(file = "/etc/passwd");\n', 1, "only relative paths inside the SCAD"),
            ('x = import("/etc/x.json");\n', 1, "only relative paths inside the SCAD"),
            ('x = dxf_dim(file = name, name = "w");\n', 1, "must be a plain string"),
            ('h = "/etc/passwd";\nrotate_extrude(h) square(1);\n', 2, "must be given by name"),
            ('import("\\x2fetc/passwd");\n', 1, "not a plain file name"),
        ],
    )
    async def test_files_outside_the_library_are_refused(
        self, build: Make, library: Path, scad: str, line: int, reason: str
    ) -> None:
        with pytest.raises(InvalidInput) as caught:
            await build(library=library).render(request(scad))
        assert not isinstance(caught.value, RenderFailed)  # refused: nothing was rendered
        assert caught.value.detail.startswith(f"scad: line {line}:")
        assert reason in caught.value.detail

    async def test_without_a_library_every_file_is_refused(self, build: Make) -> None:
        with pytest.raises(InvalidInput, match=r"line 1: use <\.\.\.> 'parts/peg\.scad' refused"):
            await build().render(request("use <parts/peg.scad>\npeg();\n"))

    # Hostile SCAD: every engine stops it with the same error.

    async def test_a_long_render_is_stopped_at_the_timeout(self, make: Make) -> None:
        started = time.monotonic()
        with pytest.raises(RenderLimitExceeded) as caught:
            await make(timeout=1).render(
                request("minkowski() { sphere(10, $fn=200); cube(10); sphere(3, $fn=100); }")
            )
        assert caught.value.limit == "time"
        assert time.monotonic() - started < 15

    async def test_a_runaway_loop_is_stopped_at_the_timeout(self, make: Make) -> None:
        with pytest.raises(RenderLimitExceeded) as caught:
            await make(timeout=1).render(
                request("for (i = [0:999], j = [0:999]) translate([2 * i, 2 * j, 0]) cube(1);")
            )
        assert caught.value.limit == "time"

    async def test_runaway_recursion_fails(self, make: Make) -> None:
        with pytest.raises(RenderFailed):
            await make(timeout=5).render(request("function f(n) = f(n + 1) + 1;\ncube(f(1));\n"))

    async def test_output_over_the_cap_fails(self, make: Make) -> None:
        with pytest.raises(RenderLimitExceeded) as caught:
            await make(output_bytes=50_000).render(request("sphere(10, $fn=200);"))
        assert caught.value.limit == "output"

    async def test_a_flood_of_echo_is_capped_too(self, make: Make) -> None:
        flood = 'for (i = [0:1000], j = [0:100]) echo(i, j, "x");\ncube(1);'
        with pytest.raises(RenderLimitExceeded) as caught:
            await make(output_bytes=200_000, timeout=60).render(request(flood))
        assert caught.value.limit == "output"

    async def test_a_memory_bomb_is_stopped(self, make: Make) -> None:
        bomb = "v = [for (i = [0:999], j = [0:9999]) [i, j, i]];\ncube(len(v) > 0 ? 1 : 2);\n"
        with pytest.raises(RenderLimitExceeded) as caught:
            await make(memory_bytes=400 * MiB, timeout=60).render(request(bomb))
        assert caught.value.limit == "memory"


class TestOpenSCADRenderer(RendererContract):
    @pytest.fixture
    def build(self) -> Make:
        def build(library: Path | None = None, **limits: float) -> Renderer:
            return OpenSCADRenderer(library=library, limits=RenderLimits(**limits))  # type: ignore[arg-type]

        return build

    def require_engine(self) -> None:
        if shutil.which("openscad") is None:
            pytest.skip("openscad is not installed (apt-get install openscad)")


class TestManifoldRenderer(RendererContract):
    @pytest.fixture
    def build(self) -> Iterator[Make]:
        made: list[ManifoldRenderer] = []

        def build(library: Path | None = None, **limits: float) -> Renderer:
            made.append(ManifoldRenderer(library=library, limits=ManifoldLimits(**limits)))  # type: ignore[arg-type]
            return made[-1]

        yield build
        for renderer in made:
            renderer.close()
