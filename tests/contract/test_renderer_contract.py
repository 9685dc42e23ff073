"""The Renderer contract: every renderer passes this suite (only OpenSCAD so far: the
pythonscad engine cannot render the SCAD path; see docs/pipeline.md).

Sandbox cases must be refused before any renderer runs, so they also pass where the
renderer is missing; the rendering cases skip only when ``openscad`` is not installed
(``.ci/run`` installs it, so CI never skips them)."""

from __future__ import annotations

import shutil
import struct
import time
from pathlib import Path

import pytest

from forge_adapters.openscad import OpenSCADRenderer, RenderLimits
from forge_core.errors import InvalidInput, RenderFailed, RenderLimitExceeded, Unavailable
from forge_core.ports import Renderer

pytestmark = pytest.mark.anyio

QUADCOPTER = (Path(__file__).parent / "scad" / "quadcopter.scad").read_text()
needs_openscad = pytest.mark.skipif(
    shutil.which("openscad") is None, reason="openscad is not installed (apt-get install openscad)"
)


def triangles(stl: bytes) -> int:
    """The triangle count of a binary STL, checked against its size."""
    (count,) = struct.unpack_from("<I", stl, 80)
    assert len(stl) == 84 + 50 * count
    return int(count)


RELATIVE_ONLY = "only relative paths inside the SCAD library are allowed"


class RendererContract:
    """Subclasses provide ``renderer`` (no library, 120 s), ``fast_renderer`` (a 1 s
    timeout) and ``library_renderer`` (reading from the ``library`` folder)."""

    @pytest.fixture
    def renderer(self) -> Renderer:
        raise NotImplementedError

    @pytest.fixture
    def fast_renderer(self) -> Renderer:
        raise NotImplementedError

    @pytest.fixture
    def library_renderer(self, library: Path) -> Renderer:
        raise NotImplementedError

    @pytest.fixture
    def library(self, tmp_path: Path) -> Path:
        folder = tmp_path / "library"
        (folder / "parts").mkdir(parents=True)
        (folder / "parts" / "peg.scad").write_text("module peg() { cylinder(r=2, h=5, $fn=8); }")
        (folder / "escape.scad").symlink_to("/etc/passwd")
        return folder

    @needs_openscad
    async def test_a_cube_renders_to_binary_stl(self, renderer: Renderer) -> None:
        result = await renderer.render("cube([10, 20, 30]);")
        assert result.format == "stl"
        assert triangles(result.mesh) == 12
        assert result.seconds > 0

    @needs_openscad
    async def test_the_quadcopter_frame_renders(self, renderer: Renderer) -> None:
        result = await renderer.render(QUADCOPTER)
        assert triangles(result.mesh) > 1000

    @needs_openscad
    async def test_warnings_are_reported_with_their_line(self, renderer: Renderer) -> None:
        result = await renderer.render("cube(1);\nno_such_module();\n")
        assert triangles(result.mesh) == 12
        assert any("no_such_module" in w and "line 2" in w for w in result.warnings)

    @needs_openscad
    async def test_a_syntax_error_names_its_line(self, renderer: Renderer) -> None:
        with pytest.raises(RenderFailed) as caught:
            await renderer.render("cube(1);\n\nx = ;\n")
        assert caught.value.line == 3
        assert "line 3" in caught.value.detail and "syntax error" in caught.value.detail

    @needs_openscad
    async def test_a_failed_assertion_names_its_line(self, renderer: Renderer) -> None:
        with pytest.raises(RenderFailed) as caught:
            await renderer.render('cube(1);\nassert(false, "arm too short");\n')
        assert caught.value.line == 2
        assert "arm too short" in caught.value.detail

    @needs_openscad
    async def test_an_empty_model_fails(self, renderer: Renderer) -> None:
        with pytest.raises(RenderFailed, match="empty"):
            await renderer.render("x = 1;")

    @needs_openscad
    async def test_a_long_render_is_stopped_at_the_timeout(self, fast_renderer: Renderer) -> None:
        started = time.monotonic()
        with pytest.raises(RenderLimitExceeded) as caught:
            await fast_renderer.render(
                "minkowski() { sphere(10, $fn=200); cube(10); sphere(3, $fn=100); }"
            )
        assert caught.value.limit == "time"
        assert time.monotonic() - started < 10

    @needs_openscad
    async def test_a_library_file_can_be_used(self, library_renderer: Renderer) -> None:
        result = await library_renderer.render("use <parts/peg.scad>\npeg();\n")
        assert triangles(result.mesh) > 0

    @needs_openscad
    async def test_file_words_in_comments_and_strings_are_not_reads(
        self, renderer: Renderer
    ) -> None:
        scad = (
            '// include </etc/passwd>\n/* import("/etc/passwd"); */\n'
            'echo("import(\\"/etc/passwd\\")");\nh = 2;\nlinear_extrude(h) square(1);\n'
        )
        result = await renderer.render(scad)
        assert triangles(result.mesh) == 12

    @pytest.mark.parametrize(
        ("scad", "line", "reason"),
        [
            ("cube(1);\ninclude </etc/passwd>\n", 2, RELATIVE_ONLY),
            ('cube(1);\n\nimport("../x.stl");\n', 3, RELATIVE_ONLY),
            ("include <parts/../../x.scad>\n", 1, RELATIVE_ONLY),  # .. inside the library
            ("include <parts/../parts/peg.scad>\n", 1, RELATIVE_ONLY),  # even back into it
            ("use <~/x.scad>\n", 1, RELATIVE_ONLY),
            ('import(file = "/etc/passwd");\n', 1, RELATIVE_ONLY),
            ('import(str("/etc/", "passwd"));\n', 1, "the file must be a plain string"),
            ('// import("/etc/passwd") is fine in a comment\nsurface(file = "heights.dat");\n',
             2, "no such file in the SCAD library"),
            ("include <escape.scad>\n", 1, "it leads out of the SCAD library"),
            ('x = dxf_dim(file = name, name = "w");\n', 1, "the file must be a plain string"),
            ('h = "/etc/passwd";\nrotate_extrude(h) square(1);\n', 2, "must be given by name"),
            ('import("\\x2fetc/passwd");\n', 1, "not a plain file name"),
        ],
    )  # fmt: skip
    async def test_files_outside_the_library_are_refused(
        self, library_renderer: Renderer, scad: str, line: int, reason: str
    ) -> None:
        with pytest.raises(InvalidInput) as caught:
            await library_renderer.render(scad)
        assert not isinstance(caught.value, RenderFailed)  # refused: nothing was rendered
        assert caught.value.detail.startswith(f"scad: line {line}:")
        assert reason in caught.value.detail  # refused for its own reason, not another

    async def test_without_a_library_every_file_is_refused(self, renderer: Renderer) -> None:
        with pytest.raises(InvalidInput, match=r"line 1: use <\.\.\.> 'parts/peg\.scad' refused"):
            await renderer.render("use <parts/peg.scad>\npeg();\n")


class TestOpenSCADRenderer(RendererContract):
    @pytest.fixture
    def renderer(self) -> Renderer:
        return OpenSCADRenderer()

    @pytest.fixture
    def fast_renderer(self) -> Renderer:
        return OpenSCADRenderer(limits=RenderLimits(timeout=1))

    @pytest.fixture
    def library_renderer(self, library: Path) -> Renderer:
        return OpenSCADRenderer(library=library)


async def test_a_missing_openscad_is_unavailable() -> None:
    with pytest.raises(Unavailable, match="renderer not installed"):
        await OpenSCADRenderer(executable="forge-no-such-openscad").render("cube(1);")


@needs_openscad
async def test_openscad_output_over_the_cap_fails() -> None:
    renderer = OpenSCADRenderer(limits=RenderLimits(output_bytes=50_000))
    with pytest.raises(RenderLimitExceeded) as caught:
        await renderer.render("sphere(10, $fn=200);")
    assert caught.value.limit == "output"


@needs_openscad
async def test_a_flood_of_echo_is_capped_too() -> None:
    renderer = OpenSCADRenderer(limits=RenderLimits(output_bytes=200_000))
    with pytest.raises(RenderLimitExceeded) as caught:
        await renderer.render('for (i = [0:1000], j = [0:100]) echo(i, j, "x");\ncube(1);')
    assert caught.value.limit == "output"


@needs_openscad
async def test_openscad_over_the_memory_cap_fails() -> None:
    renderer = OpenSCADRenderer(limits=RenderLimits(memory_bytes=150 * 1024 * 1024))
    with pytest.raises(RenderLimitExceeded) as caught:
        await renderer.render(
            "difference() { sphere(20, $fn=120); translate([5, 0, 0]) sphere(20, $fn=120); }"
        )
    assert caught.value.limit == "memory"


async def test_refusals_do_not_run_openscad() -> None:
    """The sandbox refuses before looking for the renderer at all."""
    renderer = OpenSCADRenderer(executable="forge-no-such-openscad")
    with pytest.raises(InvalidInput, match="line 1"):
        await renderer.render('import("/etc/passwd");')
