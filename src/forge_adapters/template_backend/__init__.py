"""The template backend: deterministic templating, not AI (see ``backend``)."""

from forge_adapters.template_backend.backend import TemplateBackend, execute, requirements
from forge_adapters.template_backend.scad import MODEL_TYPES

__all__ = ["MODEL_TYPES", "TemplateBackend", "execute", "requirements"]
