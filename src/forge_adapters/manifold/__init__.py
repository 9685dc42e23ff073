"""Manifold: the Renderer port on ``openscad-evaluator``, in sandboxed worker processes."""

from forge_adapters.manifold.pool import ManifoldLimits
from forge_adapters.manifold.renderer import ManifoldRenderer

__all__ = ["ManifoldLimits", "ManifoldRenderer"]
