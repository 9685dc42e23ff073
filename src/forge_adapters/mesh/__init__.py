"""Meshes: the MeshKit port on trimesh and manifold3d, with a numpy PNG preview."""

from forge_adapters.mesh.kit import FORMATS, TrimeshKit
from forge_adapters.mesh.preview import render_png

__all__ = ["FORMATS", "TrimeshKit", "render_png"]
