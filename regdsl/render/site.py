"""Publishing: a whole library as a static site, or one regimen as one page.

``build_site`` checks a library exactly as ``regdsl check`` does and renders each
regimen's pages in the worker process that checked it (``run_check``'s product hook),
straight into a temporary sibling folder of the output. Only when the check passes and
every file is written is that folder swapped in; on any failure it is removed and the
previous site is left as it was. The site::

    OUT/index.html         the regimens by cancer type and setting, with a search box
    OUT/index.json         the catalogue: every regimen and its pages, sorted by id
    OUT/search-index.js    the catalogue the search box filters on (a script, so it loads from file://)
    OUT/search.js          the search box
    OUT/.regdsl-site       the marker: this folder was written by regdsl and may be replaced
    OUT/regimens/ID.html, ID.md, ID.json

The same sources give the same bytes, whatever the hash seed or the number of workers:
nothing is ordered by a set or a dict, and nothing depends on the time of the build.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from regdsl import __version__
from regdsl.check.config import Config
from regdsl.check.run import Outcome, Progress, configure, library_root, run_check, run_configured
from regdsl.compile.library import Library, RegimenInfo
from regdsl.compile.passes import Compiled
from regdsl.compile.totals import DEFAULT
from regdsl.model import ir
from regdsl.render.context import LinkTarget, RenderContext
from regdsl.render.document import inert_json
from regdsl.render.env import render_template, static_text
from regdsl.render.output import MARKER, SiteError, check_out, claim, is_site, refuse_overlap, swap, writing
from regdsl.render.pages import EXTENSIONS, render, render_all
from regdsl.source import SourceFile, visible

__all__ = [
    "MARKER",
    "PAGES",
    "Built",
    "LibraryLinks",
    "SiteError",
    "build_site",
    "is_site",
    "page_context",
    "render_page",
]

PAGES = "regimens"  # the folder of the regimen pages, inside the site
INDEX_TEMPLATE = "index.html.j2"
SEARCH_GLOBAL = "REGDSL_SEARCH"  # the global that search-index.js defines and search.js reads
_MARKER_TEXT = "This folder was written by `regdsl build`; the next build replaces all of it.\n"
_NO_CANCER = "Cancer type not stated"
_NO_SETTING = "Setting not stated"


# --------------------------------------------------------------------------- page surroundings


class LibraryLinks(Mapping[str, LinkTarget]):
    """A library's regimens as link targets, made when asked for from its quick scan.

    ``suffix`` makes each target's address (``ID.html`` beside the page); None leaves the
    targets without one, for a page that has no site around it. ``published`` says which
    regimens have a page in the build (None: all of them); the others are named, unlinked.
    """

    __slots__ = ("_infos", "_published", "_suffix")

    def __init__(
        self,
        infos: Mapping[str, RegimenInfo],
        suffix: str | None,
        published: Callable[[RegimenInfo], bool] | None = None,
    ) -> None:
        self._infos = infos
        self._suffix = suffix
        self._published = published

    def __getitem__(self, regimen_id: str) -> LinkTarget:
        info = self._infos[regimen_id]
        linked = self._suffix is not None and (self._published is None or self._published(info))
        href = f"{info.id}{self._suffix}" if linked else None
        return LinkTarget(id=info.id, name=info.name, status=info.status, href=href)

    def __iter__(self) -> Iterator[str]:
        return iter(self._infos)

    def __len__(self) -> int:
        return len(self._infos)


def page_context(
    source: SourceFile,
    library: Library,
    templates: Path | None,
    *,
    in_site: bool,
    published: Callable[[RegimenInfo], bool] | None = None,
    jurisdiction: str = DEFAULT,
) -> RenderContext:
    """Return the surroundings of ``source``'s page: its provenance, its links, its index.

    In a site every regimen of the library has its page beside this one, and the index is
    one folder up; a page on its own links to nothing.
    """
    path = Path(source.path).resolve()
    try:
        shown = path.relative_to(library.root.resolve()).as_posix()
    except ValueError:  # a configured root that does not hold the file
        shown = path.name
    return RenderContext(
        source=visible(shown),  # a file name may hold anything: a line break, a byte that is not UTF-8
        links=LibraryLinks(library.infos, EXTENSIONS["html"] if in_site else None, published),
        index_href="../index.html" if in_site else None,
        templates=templates,
        jurisdiction=jurisdiction,
    )


@dataclass(frozen=True, slots=True)
class _SitePages:
    """The product hook of a site build: writes one regimen's pages into the folder being built.

    Returns each format's page, by format, as a path relative to the site. A sibling
    regimen gets a link only if the build publishes it: it lies under one of the build's
    ``sources`` and the configuration does not exclude it.
    """

    folder: Path  # the pages folder inside the temporary site
    templates: Path | None
    sources: tuple[Path, ...]  # resolved

    def __call__(self, compiled: Compiled, source: SourceFile, library: Library, config: Config) -> dict[str, str]:
        def published(info: RegimenInfo) -> bool:
            path = Path(info.path).resolve()
            inside = any(path == s or s in path.parents for s in self.sources)
            return inside and not config.excluded(path)

        context = page_context(
            source, library, self.templates, in_site=True, published=published, jurisdiction=config.jurisdiction
        )
        written: dict[str, str] = {}
        for fmt, text in render_all(compiled, context).items():
            name = compiled.regimen.id + EXTENSIONS[fmt]
            with writing():
                (self.folder / name).write_bytes(text.encode("utf-8"))
            written[fmt] = f"{PAGES}/{name}"
        return written


@dataclass(frozen=True, slots=True)
class _OnePage:
    """The product hook of ``render_page``: one regimen as one page, returned as text."""

    fmt: str
    templates: Path | None

    def __call__(self, compiled: Compiled, source: SourceFile, library: Library, config: Config) -> str:
        context = page_context(source, library, self.templates, in_site=False, jurisdiction=config.jurisdiction)
        return render(self.fmt, compiled, context)


# --------------------------------------------------------------------------- the index


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One regimen in the index and the catalogue."""

    id: str
    name: str
    cancer: tuple[str, ...]
    setting: str | None
    status: str
    medicines: tuple[str, ...]
    outputs: Mapping[str, str]

    @property
    def href(self) -> str:
        """The address of its HTML page, relative to the site."""
        return self.outputs["html"]

    @property
    def status_label(self) -> str:
        """Its status as the index shows it (``Draft``)."""
        return self.status.capitalize()

    @property
    def flagged(self) -> bool:
        """Whether its status is worth a warning colour: anything but published."""
        return self.status != ir.Status.PUBLISHED.value

    def catalogue(self) -> dict[str, object]:
        """Its entry in ``index.json``."""
        return {
            "id": self.id,
            "name": self.name,
            "cancer": list(self.cancer),
            "setting": self.setting,
            "status": self.status,
            "outputs": dict(self.outputs),
        }

    def search(self) -> dict[str, object]:
        """Its entry in ``search-index.js``: the words the search box matches."""
        return {
            "id": self.id,
            "name": self.name,
            "cancer": list(self.cancer),
            "setting": self.setting or "",
            "medicines": list(self.medicines),
        }


@dataclass(frozen=True, slots=True)
class SettingGroup:
    """The regimens of one cancer type for one setting."""

    anchor: str
    name: str
    entries: tuple[IndexEntry, ...]


@dataclass(frozen=True, slots=True)
class CancerGroup:
    """The regimens of one cancer type (the first term of their cancer path), by setting."""

    anchor: str
    name: str
    settings: tuple[SettingGroup, ...]


@dataclass(frozen=True, slots=True)
class IndexView:
    """What the index page shows; its template only loops over it."""

    title: str
    summary: str
    groups: tuple[CancerGroup, ...]
    styles: Markup
    search_global: str
    version: str


def _medicines(regimen: ir.Regimen) -> tuple[str, ...]:
    names = {a.medicine.display for c in regimen.cycles() for a in c.administrations}
    return tuple(sorted(names, key=lambda n: (n.casefold(), n)))


def _entry(regimen: ir.Regimen, outputs: Mapping[str, str]) -> IndexEntry:
    return IndexEntry(
        id=regimen.id,
        name=regimen.name,
        cancer=tuple(term.text for term in regimen.meta.cancer),
        setting=regimen.meta.setting.text if regimen.meta.setting else None,
        status=regimen.status.value,
        medicines=_medicines(regimen),
        outputs=outputs,
    )


def _entries(outcome: Outcome) -> list[IndexEntry]:
    """Every regimen of a passed check with its pages, sorted by id."""
    entries = []
    for regimen in outcome.regimens:
        outputs = outcome.products.get(regimen.path)
        if not isinstance(outputs, dict):  # a passed check has every regimen's pages (Outcome.products)
            raise RuntimeError(f"{regimen.path}: the check passed but its pages were not written")
        entries.append(_entry(regimen, outputs))
    return sorted(entries, key=lambda e: e.id)


def _by_text(text: str) -> tuple[str, str]:
    return text.casefold(), text


def _groups(entries: Sequence[IndexEntry]) -> tuple[CancerGroup, ...]:
    """Group the entries by cancer type, then setting; each level sorted by its words."""
    tree: dict[str, dict[str, list[IndexEntry]]] = {}
    for entry in entries:
        cancer = entry.cancer[0] if entry.cancer else _NO_CANCER
        tree.setdefault(cancer, {}).setdefault(entry.setting or _NO_SETTING, []).append(entry)
    groups = []
    for n, cancer in enumerate(sorted(tree, key=_by_text), start=1):
        settings = tree[cancer]
        groups.append(
            CancerGroup(
                anchor=f"cancer-{n}",
                name=cancer,
                settings=tuple(
                    SettingGroup(
                        anchor=f"cancer-{n}-setting-{m}",
                        name=setting,
                        entries=tuple(sorted(settings[setting], key=lambda e: (*_by_text(e.name), e.id))),
                    )
                    for m, setting in enumerate(sorted(settings, key=_by_text), start=1)
                ),
            )
        )
    return tuple(groups)


def _index_html(entries: Sequence[IndexEntry], templates: Path | None) -> str:
    count = len(entries)
    view = IndexView(
        title="Regimen library",
        summary=f"{count} regimen{'s' if count != 1 else ''}, by cancer type and setting.",
        groups=_groups(entries),
        styles=Markup(static_text("page.css") + "\n" + static_text("index.css")),  # package data, not user text
        search_global=SEARCH_GLOBAL,
        version=__version__,
    )
    return render_template("html", templates, INDEX_TEMPLATE, view=view)


def _write_index(folder: Path, entries: Sequence[IndexEntry], templates: Path | None) -> None:
    """Write the index page, the catalogue, the search script and its data, and the marker."""
    search = inert_json([e.search() for e in entries], sort_keys=True, ascii=True).rstrip("\n")
    files = {
        "index.html": _index_html(entries, templates),
        "index.json": inert_json([e.catalogue() for e in entries], indent=2, sort_keys=True),
        "search-index.js": f"window.{SEARCH_GLOBAL} = {search};\n",
        "search.js": static_text("search.js"),
        MARKER: _MARKER_TEXT,
    }
    with writing():
        for name, text in files.items():
            (folder / name).write_bytes(text.encode("utf-8"))


# --------------------------------------------------------------------------- building


@dataclass(frozen=True, slots=True)
class Built:
    """What a build did: the check's outcome, and whether and what it published."""

    outcome: Outcome
    written: bool
    regimens: int
    pages: int
    seconds: float


def build_site(
    sources: Sequence[Path],
    out: Path,
    *,
    strict: bool = False,
    jobs: int | None = None,
    templates: Path | None = None,
    config_file: Path | None = None,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    extend_select: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> Built:
    """Check the library under ``sources`` and, if it passes, publish it as a site at ``out``.

    The check is ``regdsl check``'s (``run_configured`` with the same options); it fails on an
    error, or on a warning under ``strict``. Then nothing is written and ``out`` is left as it
    was. Raises ``SiteError`` if ``out`` must not be replaced (it is, or holds, what the build
    reads, or the current folder), and what ``run_configured`` raises for unusable paths or options.
    """
    started = time.perf_counter()
    out = Path(os.path.abspath(out))
    config = configure(sources, config_file=config_file, select=select, ignore=ignore, extend_select=extend_select)
    if isinstance(config, Outcome):
        return Built(config, written=False, regimens=0, pages=0, seconds=time.perf_counter() - started)
    kept = [
        *(("the sources", path) for path in sources),
        *(("the library root", library_root(path, config)) for path in sources),
        *([("the configuration file", config.path)] if config.path else []),
        *([("the templates", templates)] if templates else []),
        ("the current folder", Path.cwd()),
    ]
    check_out(out, kept)
    with claim(out) as building:  # on a failed check, an exception or Ctrl-C, the old site stays
        with writing():
            (building / PAGES).mkdir()
        outcome = run_check(
            sources,
            jobs=jobs,
            config=config,
            product=_SitePages(building / PAGES, templates, tuple(p.resolve() for p in sources)),
            progress=progress,
        )
        if outcome.failed(strict=strict):
            return Built(outcome, written=False, regimens=0, pages=0, seconds=time.perf_counter() - started)
        entries = _entries(outcome)
        _write_index(building, entries, templates)
        refuse_overlap(out, (("a file the build read", Path(path)) for path in outcome.sources))
        swap(building, out)
    pages = sum(len(e.outputs) for e in entries)
    return Built(outcome, written=True, regimens=len(entries), pages=pages, seconds=time.perf_counter() - started)


def render_page(
    source: Path,
    fmt: str,
    *,
    strict: bool = False,
    templates: Path | None = None,
    config_file: Path | None = None,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    extend_select: Sequence[str] | None = None,
) -> tuple[Outcome, str | None]:
    """Check the regimen file ``source`` and render it as ``fmt``: the outcome, and the page if it passed.

    Links to other regimens name them but have no address: a page alone has no site around it.
    """
    outcome = run_configured(
        [source],
        config_file=config_file,
        select=select,
        ignore=ignore,
        extend_select=extend_select,
        product=_OnePage(fmt, templates),
    )
    if outcome.failed(strict=strict):
        return outcome, None
    pages = [p for p in outcome.products.values() if isinstance(p, str)]
    return outcome, pages[0] if len(pages) == 1 else None
