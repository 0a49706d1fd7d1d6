"""What a page needs to know beyond its own regimen: where it is published and what it links to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from regdsl.compile.totals import DEFAULT

__all__ = ["LinkTarget", "RenderContext"]


@dataclass(frozen=True, slots=True)
class LinkTarget:
    """Another regimen of the library that a page mentions (a hand-over, a shared cycle limit).

    ``href`` is the relative address of its page, or None when there is no page to link
    to (a single page rendered on its own, or a regimen outside the build).
    """

    id: str
    name: str | None = None
    status: str | None = None
    href: str | None = None


@dataclass(frozen=True, slots=True)
class RenderContext:
    """The page's surroundings.

    ``source`` is the regimen file's path as published in the provenance (POSIX, relative to
    the library root in a site build, hidden characters escaped by ``regdsl.source.visible``).
    ``index_href`` is the address of the site's index page, when the page is part of a site.
    ``templates`` is a folder whose templates override the bundled ones, file by file.
    """

    source: str
    links: Mapping[str, LinkTarget] = field(default_factory=dict)
    index_href: str | None = None
    templates: Path | None = None
    jurisdiction: str = DEFAULT  # the configured set of lifetime dose limits, for the cumulative doses

    def link(self, regimen_id: str) -> LinkTarget:
        """Return what is known of ``regimen_id`` (its id alone when nothing is)."""
        return self.links.get(regimen_id) or LinkTarget(id=regimen_id)
