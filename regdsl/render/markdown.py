"""The regimen as GitHub-flavoured Markdown, with the sections of the library's pages."""

from __future__ import annotations

from regdsl.compile.passes import Compiled
from regdsl.render.context import RenderContext
from regdsl.render.env import environment
from regdsl.render.view import build_view

__all__ = ["render_markdown"]


def render_markdown(compiled: Compiled, context: RenderContext) -> str:
    """Render a compiled regimen as a Markdown page."""
    template = environment("md", context.templates).get_template("page.md.j2")
    return template.render(page=build_view(compiled, context))
