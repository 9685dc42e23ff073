"""The real mesh kit with some exports switched off: a MeshKit whose exporter fails,
to see how the pipeline ends such a job."""

from __future__ import annotations

from forge_adapters.mesh import TrimeshKit
from forge_adapters.mesh.kit import measure as measure
from forge_core.errors import InvalidInput

EVERY_FORMAT = ("glb", "3mf")


class FakeMeshKit(TrimeshKit):
    """``TrimeshKit``, refusing to export the formats not in ``formats`` ("stl" always works)."""

    def __init__(self, formats: tuple[str, ...] = EVERY_FORMAT) -> None:
        super().__init__()
        self._formats = ("stl", *formats)

    async def export(self, stl: bytes, format: str) -> bytes:
        if format not in self._formats:
            raise InvalidInput("format", f"'{format}' is not supported")
        return await super().export(stl, format)
