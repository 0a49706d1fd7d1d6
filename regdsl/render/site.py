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

import contextlib
import functools
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from markupsafe import Markup

from regdsl import __version__
from regdsl.check.cache import cache_wanted
from regdsl.check.config import Config
from regdsl.check.run import Outcome, Progress, configure, library_root, run_check, run_configured
from regdsl.compile.library import Library, RegimenInfo
from regdsl.compile.passes import Compiled
from regdsl.compile.totals import DEFAULT
from regdsl.model import ir
from regdsl.render.built import (
    IndexEntry,
    PageRecord,
    PageStore,
    Placed,
    folder_digest,
    keep,
    page_key,
    placed,
    site_key,
)
from regdsl.render.context import LinkTarget, RenderContext
from regdsl.render.document import inert_json
from regdsl.render.env import compile_templates, environment, render_template, static_text
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
    ``asked`` is what was asked for, each regimen as it was given (None: not in the library):
    all a page shows of other regimens, which a rebuild compares to keep the page.
    """

    __slots__ = ("_infos", "_published", "_suffix", "asked")

    def __init__(
        self,
        infos: Mapping[str, RegimenInfo],
        suffix: str | None,
        published: Callable[[RegimenInfo], bool] | None = None,
    ) -> None:
        self._infos = infos
        self._suffix = suffix
        self._published = published
        self.asked: dict[str, LinkTarget | None] = {}

    def __getitem__(self, regimen_id: str) -> LinkTarget:
        info = self._infos.get(regimen_id)
        if info is None:
            self.asked[regimen_id] = None
            raise KeyError(regimen_id)
        linked = self._suffix is not None and (self._published is None or self._published(info))
        href = f"{info.id}{self._suffix}" if linked else None
        found = self.asked[regimen_id] = LinkTarget(id=info.id, name=info.name, status=info.status, href=href)
        return found

    def __iter__(self) -> Iterator[str]:
        for regimen_id in self._infos:  # what is listed is shown
            self.get(regimen_id)
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
        shown = path.relative_to(_resolved(library.root)).as_posix()
    except ValueError:  # a configured root that does not hold the file
        shown = path.name
    return RenderContext(
        source=visible(shown),  # a file name may hold anything: a line break, a byte that is not UTF-8
        links=LibraryLinks(library.infos, EXTENSIONS["html"] if in_site else None, published),
        index_href="../index.html" if in_site else None,
        templates=templates,
        jurisdiction=jurisdiction,
    )


@functools.lru_cache(maxsize=64)
def _resolved(root: Path) -> Path:
    """Return a library root with its links resolved: once per build, not once per page."""
    return root.resolve()


@dataclass(frozen=True, slots=True)
class _SitePages:
    """The product hook of a site build: puts one regimen's pages into the folder being built.

    Returns the regimen's ``PageRecord``: its index entry and its pages, by format, as paths
    relative to the site. A sibling regimen gets a link only if the build publishes it: it
    lies under one of the build's ``sources`` and the configuration does not exclude it.
    With the cache (``digest`` the templates' ``folder_digest``), pages that a build left
    in ``out`` are kept when nothing they are made from changed (``regdsl.render.built``),
    whether the regimen was checked again or its findings were read from the results cache
    (``reuse``); else they are rendered.
    """

    building: Path  # the temporary site
    templates: Path | None
    sources: tuple[Path, ...]  # resolved
    out: Path  # the site a rebuild replaces
    digest: str | None  # None: no cache

    def _context(self, source: SourceFile, library: Library, config: Config) -> RenderContext:
        def published(info: RegimenInfo) -> bool:
            path = Path(info.path).resolve()
            inside = any(path == s or s in path.parents for s in self.sources)
            return inside and not config.excluded(path)

        return page_context(
            source, library, self.templates, in_site=True, published=published, jurisdiction=config.jurisdiction
        )

    def _kept(
        self, regimen_id: str, source: SourceFile, library: Library, context: RenderContext, store: PageStore
    ) -> PageRecord | None:
        """Return the record of the regimen's pages if they were kept from ``out``; None if they must be rendered."""
        if self.digest is None or "/" in regimen_id:
            return None
        key = page_key(source, library, context, self.out, self.digest)
        outputs = _outputs(regimen_id)
        record = store.load_page(key, regimen_id, outputs)
        if record is None or any(context.links.get(i) != shown for i, shown in record.asked):
            return None
        files = keep(record.files, outputs, self.out, self.building)
        if files is None:
            return None
        return replace(record, files=files, fresh=files != record.files)

    def reuse(
        self, store: PageStore, source: SourceFile, library: Library, config: Config, regimen_id: str | None
    ) -> PageRecord | None:
        """Return the record of the pages of a regimen whose findings were cached, if they were kept."""
        if regimen_id is None:
            return None
        return self._kept(regimen_id, source, library, self._context(source, library, config), store)

    def __call__(self, compiled: Compiled, source: SourceFile, library: Library, config: Config) -> PageRecord:
        context = self._context(source, library, config)
        regimen = compiled.regimen
        if self.digest is not None:
            with PageStore() as store:  # (in a worker: the build's own store is in the calling process)
                kept = self._kept(regimen.id, source, library, context, store)
            if kept is not None:
                return kept
        outputs = _outputs(regimen.id)
        files = {}
        for fmt, text in render_all(compiled, context).items():
            with writing():
                (self.building / outputs[fmt]).write_bytes(text.encode("utf-8"))
                files[fmt] = placed(self.building / outputs[fmt])
        asked = context.links.asked if isinstance(context.links, LibraryLinks) else {}
        return PageRecord(
            key=page_key(source, library, context, self.out, self.digest) if self.digest is not None else "",
            entry=_entry(regimen, outputs),
            asked=tuple(sorted(asked.items())),
            files=files,
            rendered=True,
            fresh=True,
        )


def _outputs(regimen_id: str) -> dict[str, str]:
    """Return the path of each of a regimen's pages in the site, by format."""
    return {fmt: f"{PAGES}/{regimen_id}{ext}" for fmt, ext in EXTENSIONS.items()}


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


def _records(outcome: Outcome) -> list[PageRecord]:
    """Every regimen of a passed check with its pages, sorted by id."""
    records = list(outcome.products.values())
    for record in records:
        if not isinstance(record, PageRecord):  # a passed check has every regimen's pages (Outcome.products)
            raise RuntimeError(f"the check passed but a regimen's pages were not written: {record!r}")
    return sorted((r for r in records if isinstance(r, PageRecord)), key=lambda r: r.entry.id)


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


def _site_files(entries: Sequence[IndexEntry], templates: Path | None) -> dict[str, str]:
    """Return the index page, the catalogue, the search script and its data, and the marker, by file name."""
    search = inert_json([e.search() for e in entries], sort_keys=True, ascii=True).rstrip("\n")
    return {
        "index.html": _index_html(entries, templates),
        "index.json": inert_json([e.catalogue() for e in entries], indent=2, sort_keys=True),
        "search-index.js": f"window.{SEARCH_GLOBAL} = {search};\n",
        "search.js": static_text("search.js"),
        MARKER: _MARKER_TEXT,
    }


_SITE_FILES = {name: name for name in ("index.html", "index.json", "search-index.js", "search.js", MARKER)}


def _place_site(
    building: Path,
    out: Path,
    entries: Sequence[IndexEntry],
    templates: Path | None,
    cache: tuple[PageStore, str] | None,
) -> tuple[bool, tuple[str, dict[str, Placed]] | None]:
    """Put the site-wide files into ``building``: kept from ``out`` if they would show the same, else written.

    Returns whether they were written, and their record to keep after the swap if it is new.
    """
    key = site_key(entries, out, cache[1]) if cache is not None else ""
    was = cache[0].load_site(key, _SITE_FILES) if cache is not None else None
    now = keep(was, _SITE_FILES, out, building) if was is not None else None
    if now is not None:
        return False, None if now == was else (key, now)
    now = {}
    with writing():
        for name, text in _site_files(entries, templates).items():
            (building / name).write_bytes(text.encode("utf-8"))
            now[name] = placed(building / name)
    return True, (key, now) if cache is not None else None


# --------------------------------------------------------------------------- building


# The digest of each ``--templates`` folder when a build in this process last used it: its
# templates stay compiled (``environment``) until a build finds the folder changed.
_compiled: dict[Path, str] = {}


@dataclass(frozen=True, slots=True)
class Built:
    """What a build did: the check's outcome, whether and what it published, and what it rendered.

    ``rendered`` holds the ids of the regimens whose pages this build rendered (the others'
    were kept from the previous build, see ``regdsl.render.built``), sorted; ``index`` whether
    it wrote the site-wide files.
    """

    outcome: Outcome
    written: bool
    regimens: int
    pages: int
    seconds: float
    rendered: tuple[str, ...] = ()
    index: bool = False


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
    cache: bool = False,
) -> Built:
    """Check the library under ``sources`` and, if it passes, publish it as a site at ``out``.

    The check is ``regdsl check``'s (``run_configured`` with the same options); it fails on an
    error, or on a warning under ``strict``. Then nothing is written and ``out`` is left as it
    was. With ``cache`` (unless ``REGDSL_NO_CACHE`` is set), findings come from the results
    cache and pages from the previous build where nothing they are made from changed; the
    site is the same, byte for byte. Raises ``SiteError`` if ``out`` must not be replaced (it
    is, or holds, what the build reads, or the current folder), and what ``run_configured``
    raises for unusable paths or options.
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
    shown = folder_digest(templates)
    if templates is not None and _compiled.get(templates) != shown:  # changed since this process compiled them
        environment.cache_clear()
        _compiled[templates] = shown
    compile_templates(templates)  # once, before the check's workers start
    cached = cache_wanted(cache)
    digest = shown if cached else None
    with contextlib.ExitStack() as stack:
        store = stack.enter_context(PageStore())
        building = stack.enter_context(claim(out))  # on a failed check, an exception or Ctrl-C, the old site stays
        with writing():
            (building / PAGES).mkdir()
        if digest is not None:
            store.recall(out, digest)
        pages = _SitePages(building, templates, tuple(p.resolve() for p in sources), out, digest)
        outcome = run_check(
            sources,
            jobs=jobs,
            config=config,
            product=pages,
            progress=progress,
            cache=cached,
            reuse=functools.partial(pages.reuse, store),
        )
        if outcome.failed(strict=strict):
            return Built(outcome, written=False, regimens=0, pages=0, seconds=time.perf_counter() - started)
        records = _records(outcome)
        entries = [r.entry for r in records]
        index, site = _place_site(building, out, entries, templates, None if digest is None else (store, digest))
        refuse_overlap(out, (("a file the build read", Path(path)) for path in outcome.sources))
        swap(building, out)
        if digest is not None:
            for record in records:
                if record.fresh:
                    store.save_page(record)
            if site is not None:
                store.save_site(*site)
            store.remember(out, digest, records)
    return Built(
        outcome,
        written=True,
        regimens=len(entries),
        pages=sum(len(e.outputs) for e in entries),
        seconds=time.perf_counter() - started,
        rendered=tuple(r.entry.id for r in records if r.rendered),
        index=index,
    )


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
