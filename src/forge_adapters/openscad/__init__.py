"""OpenSCAD: the Renderer port on the ``openscad`` command line, behind a SCAD sandbox."""

from forge_adapters.openscad.renderer import OpenSCADRenderer, RenderLimits
from forge_adapters.openscad.sandbox import vet_scad

__all__ = ["OpenSCADRenderer", "RenderLimits", "vet_scad"]
