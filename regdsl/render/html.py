"""The regimen as one self-contained HTML page: inline styles, inline SVG pictures, no scripts.

The page works from ``file://`` and on paper: its stylesheet is inlined (print rules keep
table rows and pictures whole on A4), and nothing is fetched from the network. Every
text comes from the view and is escaped by the template engine; the stylesheet is the
only markup the page trusts, and it is the package's own.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from markupsafe import Markup

from regdsl.compile.passes import Compiled
from regdsl.render.context import RenderContext
from regdsl.render.env import render_template, static_text
from regdsl.render.pictures import Calendar, Timeline, calendar, timelines
from regdsl.render.view import PageView, build_view

__all__ = ["html_page", "render_html", "stylesheet"]


@functools.cache
def stylesheet() -> Markup:
    """Return the pages' stylesheet (the package's own file, trusted as markup)."""
    return Markup(static_text("page.css"))


@dataclass(frozen=True, slots=True)
class _Pictures:
    calendar: Calendar
    timelines: tuple[Timeline, ...]


def _pictures(compiled: Compiled, page: PageView) -> dict[str, _Pictures]:
    return {
        cycle.anchor: _Pictures(
            calendar=calendar(compiled, cycle.group, ident=f"{cycle.anchor}-calendar"),
            timelines=timelines(compiled, cycle.group, ident=f"{cycle.anchor}-timeline"),
        )
        for part in page.parts
        for cycle in part.cycles
    }


def html_page(page: PageView, compiled: Compiled, context: RenderContext) -> str:
    """Write the HTML page of a page view (the compiled regimen gives its pictures)."""
    return render_template(
        "html", context.templates, "page.html.j2", page=page, pictures=_pictures(compiled, page), css=stylesheet()
    )


def render_html(compiled: Compiled, context: RenderContext) -> str:
    """Render a compiled regimen as an HTML page."""
    return html_page(build_view(compiled, context), compiled, context)
