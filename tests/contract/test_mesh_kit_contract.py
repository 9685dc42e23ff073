"""The MeshKit contract: every mesh kit passes this suite (the trimesh one so far).

Every template backend model is rendered once per session by the real Manifold
renderer (at ``$fn = 16`` to keep it quick), then measured, checked by the core's QA,
exported and previewed. Hand-written meshes cover what a renderer never makes."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import numpy as np
import pytest
import trimesh
from PIL import Image

from forge_adapters.manifold import ManifoldRenderer
from forge_adapters.mesh import TrimeshKit
from forge_adapters.template_backend import execute
from forge_adapters.template_backend.scad import FN
from forge_core.errors import InvalidInput
from forge_core.inference import JobInput
from forge_core.ports import MeshKit
from forge_core.qa import qa_report
from forge_core.render_request import RenderRequest
from tests.contract.meshes import binary_stl, box, inside_out

pytestmark = pytest.mark.anyio

#: name -> (the generate_scad request, how its parameters answer the QA's size keys)
MODELS: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "drone": ({"model_type": "drone"}, {"motor_to_motor": "motor_to_motor",
                                        "thickness": "arm_thickness"}),
    "drone-6-arms": ({"model_type": "drone", "custom_description": "6 arms, 220 mm "
                      "motor-to-motor"}, {"motor_to_motor": "motor_to_motor"}),
    "drone-3-arms": ({"model_type": "drone", "custom_description": "3 arms, 200 mm "
                      "motor-to-motor"}, {"motor_to_motor": "motor_to_motor"}),
    "enclosure": ({"model_type": "enclosure"}, {"length": "length", "width": "width",
                                                "height": "height"}),
    "bracket": ({"model_type": "bracket"}, {"length": "leg_a", "width": "width",
                                            "height": "leg_b"}),
    "plate": ({"model_type": "plate"}, {"length": "length", "width": "width",
                                        "thickness": "thickness"}),
    "custom": ({"model_type": "teapot"}, {"length": "length", "width": "width",
                                          "height": "height"}),
}  # fmt: skip


class Rendered:
    def __init__(self, stl: bytes, output: dict[str, Any], sizes: dict[str, str]) -> None:
        self.stl = stl
        self.parameters: dict[str, Any] = output["parameters"]
        self.requirements = {
            "model_type": output["model_type"],
            "dimensions_mm": {key: self.parameters[p] for key, p in sizes.items()},
        }


@pytest.fixture(scope="session")
async def rendered() -> dict[str, Rendered]:
    """Every model, rendered once for the session."""
    renderer = ManifoldRenderer()
    models = {}
    try:
        for name, (request, sizes) in MODELS.items():
            output = execute(JobInput.create("generate_scad", requirements_json=request))
            scad = output["scad_code"].replace(f"$fn = {FN};", "$fn = 16;")
            mesh = (await renderer.render(RenderRequest(scad))).mesh
            models[name] = Rendered(mesh, output, sizes)
    finally:
        renderer.close()
    return models


def loaded(data: bytes, file_type: str) -> trimesh.Trimesh:
    mesh = trimesh.load(io.BytesIO(data), file_type=file_type, force="mesh")
    assert isinstance(mesh, trimesh.Trimesh)
    return mesh


class MeshKitContract:
    @pytest.fixture
    def kit(self) -> MeshKit:
        raise NotImplementedError

    @pytest.mark.parametrize("name", list(MODELS))
    async def test_template_models_are_sound_and_pass_qa(
        self, kit: MeshKit, rendered: dict[str, Rendered], name: str
    ) -> None:
        model = rendered[name]
        facts = await kit.inspect(model.stl)
        assert facts.watertight and facts.winding_consistent
        assert facts.volume > 0 and facts.triangles > 12
        assert facts.bodies == (2 if name == "enclosure" else 1)  # the lid lies beside it
        size = np.subtract(facts.bbox_max, facts.bbox_min)
        assert (size > 1).all() and (size < 256).all()
        report = qa_report(facts, requirements=model.requirements)
        assert report.passed and report.warnings == (), report.to_json()
        assert {c.name for c in report.checks} >= {
            f"dimension:{key}" for key in model.requirements["dimensions_mm"]
        }

    @pytest.mark.parametrize("name", list(MODELS))
    @pytest.mark.parametrize("format", ["stl", "glb", "3mf"])
    async def test_exports_load_back_with_the_same_shape(
        self, kit: MeshKit, rendered: dict[str, Rendered], name: str, format: str
    ) -> None:
        original = loaded(rendered[name].stl, "stl")
        data = await kit.export(rendered[name].stl, format)
        back = loaded(data, format)
        assert np.allclose(back.bounds, original.bounds, atol=1e-3)
        assert back.volume == pytest.approx(original.volume, rel=1e-4)
        if format == "stl":
            assert len(data) == 84 + 50 * len(back.faces)  # binary
        if format == "3mf":
            assert "3D/3dmodel.model" in zipfile.ZipFile(io.BytesIO(data)).namelist()
        if format == "glb":
            assert data[:4] == b"glTF"

    @pytest.mark.parametrize("name", list(MODELS))
    async def test_the_preview_is_a_png_showing_the_model(
        self, kit: MeshKit, rendered: dict[str, Rendered], name: str
    ) -> None:
        png = await kit.preview(rendered[name].stl)
        image = Image.open(io.BytesIO(png))
        assert image.format == "PNG" and image.size == (512, 512)
        pixels = np.asarray(image.convert("RGB")).reshape(-1, 3)
        background = pixels[0]
        drawn = (np.abs(pixels.astype(int) - background).sum(axis=1) > 30).mean()
        assert 0.02 < drawn < 0.9  # the model covers part of the picture, not all of it
        assert len(np.unique(pixels[::7], axis=0)) > 8  # shaded, not a flat silhouette

    async def test_a_box_is_measured(self, kit: MeshKit) -> None:
        facts = await kit.inspect(binary_stl(box((10, 20, 30), at=(5, 5, 5))))
        assert (facts.triangles, facts.bodies, facts.volume) == (12, 1, pytest.approx(6000))
        assert facts.bbox_min == (5, 5, 5) and facts.bbox_max == (15, 25, 35)
        assert facts.main_body_size == (10, 20, 30)

    async def test_two_boxes_are_two_bodies_measured_by_the_larger(self, kit: MeshKit) -> None:
        stl = binary_stl(box((5, 5, 5)) + box((10, 20, 30), at=(50, 0, 0)))
        facts = await kit.inspect(stl)
        assert facts.bodies == 2 and facts.watertight
        assert facts.main_body_size == (10, 20, 30)
        assert facts.bbox_max == (60, 20, 30)

    async def test_an_open_box_is_a_hard_failure(self, kit: MeshKit) -> None:
        facts = await kit.inspect(binary_stl(box(faces=10)))
        assert not facts.watertight
        report = qa_report(facts)
        assert not report.passed
        assert any("not watertight" in reason for reason in report.failures)

    async def test_a_face_wound_the_wrong_way_is_a_hard_failure(self, kit: MeshKit) -> None:
        triangles = box()
        triangles[0] = inside_out(triangles[:1])[0]
        facts = await kit.inspect(binary_stl(triangles))
        assert not facts.winding_consistent and not facts.watertight
        assert not qa_report(facts).passed

    async def test_an_inside_out_box_encloses_no_volume(self, kit: MeshKit) -> None:
        facts = await kit.inspect(binary_stl(inside_out(box())))
        assert facts.volume < 0
        assert "encloses no volume" in qa_report(facts).failures[0]

    async def test_a_sheet_folded_on_itself_encloses_nothing(self, kit: MeshKit) -> None:
        sheet = ((0.0, 0.0, 0.0), (10.0, 0.0, 0.0), (0.0, 10.0, 0.0))
        facts = await kit.inspect(binary_stl([sheet, inside_out([sheet])[0]]))
        assert facts.volume == 0
        report = qa_report(facts)
        assert any("encloses no volume" in reason for reason in report.failures)
        assert (await kit.preview(binary_stl([sheet])))[:8] == b"\x89PNG\r\n\x1a\n"

    async def test_a_mesh_bigger_than_the_build_volume_fails(self, kit: MeshKit) -> None:
        facts = await kit.inspect(binary_stl(box((300, 10, 10))))
        report = qa_report(facts)
        assert facts.watertight and not report.passed
        assert report.failures == (
            "300 x 10 x 10 mm does not fit the 256 x 256 x 256 mm build volume (too large in x)",
        )

    async def test_an_stl_without_triangles_is_an_empty_mesh(self, kit: MeshKit) -> None:
        for empty in (binary_stl([]), b"solid nothing\nendsolid nothing\n"):
            facts = await kit.inspect(empty)
            assert (facts.triangles, facts.volume, facts.bodies) == (0, 0, 0)
            assert "the mesh is empty" in qa_report(facts).failures
            with pytest.raises(InvalidInput):
                await kit.export(empty, "glb")
            with pytest.raises(InvalidInput):
                await kit.preview(empty)

    @pytest.mark.parametrize(
        "data",
        [
            b"",
            b"garbage bytes, not a mesh" * 10,
            binary_stl(box())[:-7],
            b"\x89PNG\r\n" + b"x" * 90,
        ],
    )
    async def test_unreadable_bytes_are_invalid_input(self, kit: MeshKit, data: bytes) -> None:
        for call in (kit.inspect, kit.preview, lambda stl: kit.export(stl, "stl")):
            with pytest.raises(InvalidInput) as caught:
                await call(data)
            assert caught.value.field == "mesh"

    async def test_an_unknown_format_is_invalid_input(self, kit: MeshKit) -> None:
        with pytest.raises(InvalidInput) as caught:
            await kit.export(binary_stl(box()), "obj")
        assert caught.value.field == "format"

    async def test_a_hand_written_box_exports_to_every_format(self, kit: MeshKit) -> None:
        stl = binary_stl(box((10, 20, 30)))
        for format in ("stl", "glb", "3mf"):
            back = loaded(await kit.export(stl, format), format)
            assert back.volume == pytest.approx(6000)
            assert back.is_watertight


class TestTrimeshKit(MeshKitContract):
    @pytest.fixture
    def kit(self) -> MeshKit:
        return TrimeshKit()
