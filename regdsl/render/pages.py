"""One entry point for every page format: ``render(fmt, compiled, context)``."""

from __future__ import annotations

from collections.abc import Callable

from regdsl.compile.passes import Compiled
from regdsl.render.context import RenderContext

__all__ = ["EXTENSIONS", "FORMATS", "render", "render_all"]

# Each format and the file extension its pages are written with.
EXTENSIONS: dict[str, str] = {"html": ".html", "md": ".md", "json": ".json"}
FORMATS: tuple[str, ...] = tuple(EXTENSIONS)


def _renderer(fmt: str) -> Callable[[Compiled, RenderContext], str]:
    # Imported on demand: a JSON render never loads the HTML templates.
    if fmt == "json":
        from regdsl.render.document import render_json

        return render_json
    if fmt == "md":
        from regdsl.render.markdown import render_markdown

        return render_markdown
    if fmt == "html":
        from regdsl.render.html import render_html

        return render_html
    raise ValueError(f"unknown page format {fmt!r}")


def render(fmt: str, compiled: Compiled, context: RenderContext) -> str:
    """Render one compiled regimen as ``fmt`` (``html``, ``md`` or ``json``)."""
    return _renderer(fmt)(compiled, context)


def render_all(compiled: Compiled, context: RenderContext) -> dict[str, str]:
    """Render one compiled regimen in every format, building its page view once for HTML and Markdown."""
    from regdsl.render.document import render_json
    from regdsl.render.html import html_page
    from regdsl.render.markdown import markdown_page
    from regdsl.render.view import build_view

    page = build_view(compiled, context)
    return {
        "html": html_page(page, compiled, context),
        "md": markdown_page(page, context),
        "json": render_json(compiled, context),
    }
