"""The regimen as GitHub-flavoured Markdown, with the sections of the library's pages."""

from __future__ import annotations

from regdsl.compile.passes import Compiled
from regdsl.render.context import RenderContext
from regdsl.render.env import render_template
from regdsl.render.view import PageView, build_view

__all__ = ["markdown_page", "render_markdown"]


def markdown_page(page: PageView, context: RenderContext) -> str:
    """Write the Markdown page of a page view."""
    return render_template("md", context.templates, "page.md.j2", page=page)


def render_markdown(compiled: Compiled, context: RenderContext) -> str:
    """Render a compiled regimen as a Markdown page."""
    return markdown_page(build_view(compiled, context), context)
