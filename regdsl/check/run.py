"""The check pipeline over a library: read, parse, lower, compile, rules, suppressions, configuration.

Files are independent until the library rules, so they are checked in parallel worker
processes when there are enough of them to pay for the workers. Results are gathered in
file order and sorted, so output never depends on the number of workers.

A caller that wants more from each file than its findings (``regdsl build`` renders its
pages) passes a ``product`` hook: it runs in the worker that checked the file, on the
compiled regimen, and its result comes back in ``Outcome.products``. This layer knows
nothing of what the hook makes.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from regdsl.check.cache import (
    CachedFile,
    ResultsCache,
    cache_wanted,
    file_key,
    library_digest,
    part_key,
    run_key,
)
from regdsl.check.config import Config, Configs, find_config, load_config
from regdsl.check.context import LibraryContext, RuleContext
from regdsl.check.rules import registry
from regdsl.check.rules.prose import medicine_words, words_of
from regdsl.check.suppress import Suppression, apply_suppressions, find_suppressions
from regdsl.compile.library import (
    LIBRARY_FILE,
    MAX_BYTES,
    Library,
    collect,
    duplicate_ids,
    find_root,
    load_library,
    lower_file,
    rare_collections,
    read_regular,
    source_of,
)
from regdsl.compile.links import links
from regdsl.compile.passes import Compiled, compile_regimen
from regdsl.diagnostics import Diagnostic, Severity, Sink
from regdsl.diagnostics import codes as c
from regdsl.model import ir
from regdsl.source import SourceFile

__all__ = [
    "PARALLEL_THRESHOLD",
    "FileProduct",
    "Outcome",
    "Progress",
    "Reuse",
    "configure",
    "library_root",
    "run_check",
    "run_configured",
]

# Fewer files than this are checked in this process: starting workers costs more.
PARALLEL_THRESHOLD = 48
# A line with more findings of one code than this shows one fewer, the last of them with a
# note counting the others: a list of 8,000 days outside the cycle, or a line of misspelt
# words, is a few findings, not megabytes of output (see ``_folded``).
MOST_PER_LINE = 5

# What a caller makes of each file that passes its own checks, in the worker that checked it.
# It must pickle (a module-level function, or an instance of a module-level class) to reach
# the workers; what it returns must pickle to come back.
FileProduct = Callable[[Compiled, SourceFile, Library, Config], object]
# Told how many of the files are checked so far, and of how many (in the calling process).
Progress = Callable[[int, int], None]
# With the results cache and a product: the product of a file whose findings were read from
# the cache (its source, library, configuration and regimen id), made again without compiling
# it, in the calling process; None when it cannot be, and the file is checked again.
Reuse = Callable[[SourceFile, Library, Config, str | None], object | None]


@dataclass(slots=True)
class Outcome:
    """Everything one check produced, and how long each stage took (seconds, summed over files).

    ``products`` holds what the ``product`` hook returned, by source path, for every file it
    ran on: each file whose own findings hold no error after its suppressions and the
    configuration. So when the whole check has no error, every regimen has its product.
    """

    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, SourceFile] = field(default_factory=dict)
    regimens: list[ir.Regimen] = field(default_factory=list)
    files: int = 0
    stages: dict[str, float] = field(default_factory=dict)
    config_failed: bool = False
    products: dict[str, object] = field(default_factory=dict)
    libraries: dict[Path, Library] = field(default_factory=dict)  # each library the files belong to, by root

    def failed(self, *, strict: bool = False) -> bool:
        """Whether the check fails: a bad configuration, an error, or (under ``strict``) a warning."""
        levels = {d.level for d in self.diagnostics}
        return self.config_failed or Severity.ERROR in levels or (strict and Severity.WARNING in levels)


@dataclass(slots=True)
class _FileOutcome:
    source: SourceFile
    regimen: ir.Regimen | None
    diagnostics: list[Diagnostic]
    suppressions: list[Suppression]
    stages: dict[str, float]
    product: object = None
    produced: bool = False
    regimen_id: str | None = None  # its regimen's id and the ids its links name, kept when it is cached
    targets: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.regimen is not None:
            self.regimen_id = self.regimen.id
            self.targets = tuple(link.target for link in links(self.regimen))


# One file to check: its path, its library root, the configuration, the product hook, and
# its bytes and size when they were read already (for the cache's key).
_Job = tuple[Path, Path, Config, FileProduct | None, tuple[bytes, int] | None]


# The results cache of the run under way, where a library's scan of its headings is kept: only
# a shortcut (what is kept is what a scan finds), so a library loaded without it is as good.
_headings: list[ResultsCache] = []


# The libraries the caller of the run under way read already and passes on (``run_check``'s
# ``libraries``), by root: a long-running process that knows none of their files changed.
_passed: dict[Path, Library] = {}


# What the scans of the libraries read of each regimen file this run, by path: what its key is made of.
_scanned: dict[Path, tuple[bytes, int]] = {}


# A library is read once per run (``run_check`` forgets both memos as it starts and ends), and
# worker processes forked by the run inherit it: a long-running process (the language server,
# ``serve``) sees an edited ``library.reg`` or a new, changed or removed regimen in its next run.
@functools.cache
def _library(root: Path) -> Library:
    given = _passed.get(root)
    return given if given is not None else load_library(root, _headings[-1] if _headings else None, _scanned)


@functools.cache
def _library_words(root: Path, configured: frozenset[str]) -> frozenset[str]:
    """Return the words a library adds to the spelling rule's: its medicines' names, its configured ``words``."""
    return words_of([*medicine_words(_library(root).defs.medicines.medicines), *configured])


def _forget_libraries() -> None:
    """Forget every library read, the words made from them and the files read, so that the next run reads them again."""
    _library.cache_clear()
    _library_words.cache_clear()
    _scanned.clear()


def _check_file(job: _Job) -> _FileOutcome:
    path, root, config, product, read = job
    library = _library(root)
    clock = time.perf_counter()
    unit = lower_file(path, library, read)
    stages = {"parse and lower": time.perf_counter() - clock}
    diagnostics = list(unit.diagnostics)
    suppressions = find_suppressions(unit.module.comments) if unit.module else []
    if unit.regimen is not None:
        clock = time.perf_counter()
        compiled = compile_regimen(unit.regimen)
        diagnostics.extend(compiled.diagnostics)
        stages["graphs and timing"] = time.perf_counter() - clock
        clock = time.perf_counter()
        words = _library_words(root, config.words)
        context = RuleContext(compiled=compiled, infos=library.infos, words=words, jurisdiction=config.jurisdiction)
        for rule in registry().rules:
            if rule.check is not None:
                diagnostics.extend(rule.check(context))
        stages["rules"] = time.perf_counter() - clock
        if product is not None and not _fails_alone(diagnostics, suppressions, config):
            clock = time.perf_counter()
            made = product(compiled, unit.source, library, config)
            stages["product"] = time.perf_counter() - clock
            return _FileOutcome(unit.source, unit.regimen, diagnostics, suppressions, stages, made, produced=True)
    return _FileOutcome(unit.source, unit.regimen, diagnostics, suppressions, stages)


def _fails_alone(diagnostics: Sequence[Diagnostic], suppressions: Sequence[Suppression], config: Config) -> bool:
    """Whether a file's own findings fail the check whatever the library rules add.

    The library rules only add findings. The one finding they can take away is an unused
    suppression (a library finding may be what it silences), so it is not counted here.
    """
    kept = config.apply(apply_suppressions(diagnostics, suppressions))
    return any(d.level is Severity.ERROR and d.code is not c.UNUSED_SUPPRESSION for d in kept)


def _workers(count: int, jobs: int | None) -> int:
    """Return the number of processes for ``count`` files: ``jobs`` if given, at most one per processor or file."""
    if jobs is None:
        jobs = 1 if count < PARALLEL_THRESHOLD else 8
    processors = len(os.sched_getaffinity(0)) if sys.platform == "linux" else os.cpu_count() or 1
    return max(1, min(jobs, processors, count))


def run_check(
    paths: Iterable[Path],
    *,
    jobs: int | None = None,
    config: Config | Configs | None = None,
    product: FileProduct | None = None,
    progress: Progress | None = None,
    cache: bool = False,
    texts: Mapping[Path, bytes] | None = None,
    libraries: Mapping[Path, Library] | None = None,
    reuse: Reuse | None = None,
) -> Outcome:
    """Check every ``.reg`` file under ``paths``; raises ``PathError`` only for unusable paths.

    ``jobs`` is the number of worker processes (default: by the number of files); ``config``
    the configuration in force (default: every rule, no exclusions). ``product`` runs on each
    file that passes its own checks (see ``Outcome.products``); ``progress`` is told, in this
    process, each time a file is checked. With ``cache`` (and no ``product``, or a product
    and ``reuse``), each file's findings are read from the results cache when nothing they are
    made from changed (``regdsl.check.cache``), its product is what ``reuse`` makes again, and
    ``Outcome.regimens`` holds only the regimens lowered.
    ``texts`` holds the text of files as an editor has them, unsaved, by path, checked in place
    of what the file holds (a path in it need not exist); with it, no file's findings are read
    from the cache or kept in it. ``libraries`` holds libraries the caller read already (as
    ``Outcome.libraries`` holds them), by root, used in place of reading them again: a caller
    that knows none of their files changed since (the language server).
    """
    with rare_collections(), contextlib.ExitStack() as stack:  # worker processes inherit the setting
        _forget_libraries()
        stack.callback(_forget_libraries)
        _passed.update(libraries or {})
        stack.callback(_passed.clear)
        usable = product is None or reuse is not None
        results = stack.enter_context(ResultsCache()) if usable and cache_wanted(cache) else None
        if results is not None:
            _headings.append(results)
            stack.callback(_headings.pop)
        return _run_check(
            paths,
            jobs=jobs,
            config=config,
            product=product,
            progress=progress,
            cache=None if texts else results,  # unsaved texts: only the headings' memo is used
            texts=texts or {},
            reuse=reuse,
        )


def _run_check(
    paths: Iterable[Path],
    *,
    jobs: int | None,
    config: Config | Configs | None,
    product: FileProduct | None,
    progress: Progress | None,
    cache: ResultsCache | None,
    texts: Mapping[Path, bytes],
    reuse: Reuse | None,
) -> Outcome:
    settings = config or Config()
    started = time.perf_counter()
    named = list(paths)
    found = collect([p for p in named if p not in texts]) + [p for p in named if p in texts]
    files = [p for p in found if not settings.of(p).excluded(p)]
    outcome = Outcome(files=len(files))
    sink = Sink()
    configs = {path: settings.of(path) for path in files}
    folders: dict[Path, Path] = {}  # each folder's library root: found once, not once per file in it
    roots = {path: library_root(path, configs[path], folders) for path in files}
    for root in sorted(set(roots.values())):
        library = _library(root)
        sink.items.extend(library.diagnostics)
        if library.source is not None:
            outcome.sources[library.source.path] = library.source
    jobs_list: list[_Job] = [
        (path, roots[path], configs[path], product, _given(texts.get(path)))
        for path in files
        if path.name != LIBRARY_FILE
    ]
    cached = _Cached(cache, jobs_list, settings.jurisdiction, reuse) if cache is not None else None
    to_check = cached.misses if cached is not None else jobs_list
    workers = _workers(len(to_check), jobs)
    if workers > 1:
        checked = _in_workers(to_check, workers, progress)
    else:
        checked = _counted(map(_check_file, to_check), len(to_check), progress)
    results = cached.merged(checked) if cached is not None else checked
    suppressions: dict[str, list[Suppression]] = {}
    for result in results:
        outcome.sources[result.source.path] = result.source
        if result.produced:
            outcome.products[result.source.path] = result.product
        sink.items.extend(result.diagnostics)
        suppressions[result.source.path] = result.suppressions
        if result.regimen is not None:
            outcome.regimens.append(result.regimen)
        for stage, seconds in result.stages.items():
            outcome.stages[stage] = outcome.stages.get(stage, 0.0) + seconds
    clock = time.perf_counter()
    libraries = [_library(r) for r in sorted(set(roots.values()))]
    outcome.libraries = {library.root: library for library in libraries}
    if cached is not None:
        sink.items.extend(cached.library_findings(results, libraries))
    else:
        ids = frozenset(r.id for r in outcome.regimens)
        sink.items.extend(_library_findings(outcome.regimens, libraries, ids, settings.jurisdiction))
    outcome.stages["library rules"] = time.perf_counter() - clock
    by_display = {str(path): configs[path] for path in files}
    kept = _configured(
        _suppress(sink.sorted(), suppressions), lambda shown: by_display.get(shown) or settings.of(Path(shown))
    )
    outcome.diagnostics = _folded(sorted(kept, key=Diagnostic.sort_key))
    outcome.stages["total (wall)"] = time.perf_counter() - started
    return outcome


def _given(text: bytes | None) -> tuple[bytes, int] | None:
    """Return an unsaved text as ``read_regular`` returns a file's bytes (its first bytes and size); None for none."""
    return None if text is None else (text[: MAX_BYTES + 1], len(text))


def library_root(path: Path, config: Config | Configs, folders: dict[Path, Path] | None = None) -> Path:
    """Return the library root of ``path`` under its configuration: the configured root, else the nearest found.

    ``folders`` keeps the root found for each folder of a file that is not a link, for the next file in it.
    """
    root = config.of(path).root
    if root:
        return root.resolve()
    if folders is None or path.is_symlink():  # a link's library is its target's
        return find_root(path.resolve())
    found = folders.get(path.parent)
    if found is None:
        found = folders[path.parent] = find_root(path.resolve())
    return found


def _in_workers(jobs: Sequence[_Job], workers: int, progress: Progress | None) -> list[_FileOutcome]:
    """Check ``jobs`` in ``workers`` processes; stop them at once if this process is interrupted.

    An exception here (a failing product, Ctrl-C, SIGTERM) ends the workers rather than
    waiting for them to finish the library, and a worker dies with this process (see
    ``_worker_started``), so none outlives it holding the caller's pipes open.
    """
    import multiprocessing  # only a large library pays for importing these
    from concurrent.futures import ProcessPoolExecutor

    # Forked workers inherit the loaded grammar and library; on Linux they know their parent.
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else None)
    pool = ProcessPoolExecutor(workers, context, initializer=_worker_started, initargs=(os.getpid(),))
    try:
        chunk = max(1, len(jobs) // (workers * 4))
        results = _counted(pool.map(_check_file, jobs, chunksize=chunk), len(jobs), progress)
    except BaseException:
        for process in list(pool._processes.values()):  # no public way before Python 3.14
            process.kill()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
    return results


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _worker_started(parent: int) -> None:
    """Set up a worker process: it dies with ``parent``, and leaves signals from a terminal to it.

    On Linux the kernel kills the worker when its parent dies, even by SIGKILL
    (``prctl(PR_SET_PDEATHSIG)``); if the parent died before that was asked, it ends now.
    Elsewhere a worker outlives a parent killed by SIGKILL (a parent that is interrupted or
    terminated ends its workers itself). Ctrl-C reaches the whole process group: the parent
    handles it and ends the workers, which ignore it rather than each print a traceback.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(1)


def _counted(results: Iterable[_FileOutcome], total: int, progress: Progress | None) -> list[_FileOutcome]:
    """Gather the results as they come, telling ``progress`` after each."""
    gathered: list[_FileOutcome] = []
    for result in results:
        gathered.append(result)
        if progress is not None:
            progress(len(gathered), total)
    return gathered


def configure(
    paths: Sequence[Path],
    *,
    config_file: Path | None = None,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    extend_select: Sequence[str] | None = None,
) -> Config | Configs | Outcome:
    """Return the configuration in force for ``paths``: ``config_file``, else the nearest above each file.

    ``select`` and ``ignore`` (the command line's) replace each configuration's, and
    ``extend_select`` adds to it. A bad configuration is not applied: the findings of every
    bad one come back as an outcome, with ``config_failed``. Raises ``ConfigError`` for a
    bad ``select``, ``ignore`` or ``extend_select``, and ``PathError`` for unusable paths.
    """
    found: dict[Path, Path | None] = {}
    if config_file is not None:
        loaded = {config_file: load_config(config_file)}
    else:
        folders = [] if not paths else [_folder(paths[0]), *sorted({p.resolve().parent for p in collect(paths)})]
        found = {folder: find_config(folder) for folder in dict.fromkeys(folders)}
        loaded = {path: load_config(path) for path in dict.fromkeys(found.values()) if path is not None}
    bad = [item for item in loaded.values() if item.diagnostics]
    if bad:
        outcome = Outcome(
            diagnostics=sorted((d for item in bad for d in item.diagnostics), key=Diagnostic.sort_key),
            config_failed=True,
        )
        outcome.sources.update({item.source.path: item.source for item in bad if item.source is not None})
        return outcome
    configs = {
        path: item.config.overridden(select=select, ignore=ignore, extend_select=extend_select)
        for path, item in loaded.items()
    }
    if config_file is not None:
        return configs[config_file]
    default = Config().overridden(select=select, ignore=ignore, extend_select=extend_select)
    by_folder = {folder: configs[path] if path is not None else default for folder, path in found.items()}
    first = by_folder[_folder(paths[0])] if paths else default
    if all(c is first for c in by_folder.values()):
        return first  # one configuration for every file
    return Configs(first=first, by_folder=by_folder)


def _folder(path: Path) -> Path:
    """Return the folder a configuration is looked for from: ``path`` if it is one, else its folder."""
    resolved = path.resolve()
    return resolved if resolved.is_dir() else resolved.parent


def run_configured(
    paths: Sequence[Path],
    *,
    jobs: int | None = None,
    config_file: Path | None = None,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    product: FileProduct | None = None,
    progress: Progress | None = None,
    cache: bool = False,
    extend_select: Sequence[str] | None = None,
) -> Outcome:
    """Check ``paths`` under their configuration (``configure``); a bad one is the outcome, unapplied.

    ``product``, ``progress`` and ``cache`` are passed to ``run_check``.
    Raises ``ConfigError`` for a bad ``select`` or ``ignore``, ``PathError`` for unusable paths.
    """
    config = configure(paths, config_file=config_file, select=select, ignore=ignore, extend_select=extend_select)
    if isinstance(config, Outcome):
        return config
    return run_check(paths, jobs=jobs, config=config, product=product, progress=progress, cache=cache)


def _library_findings(
    regimens: Sequence[ir.Regimen], libraries: Sequence[Library], checked: frozenset[str], jurisdiction: str
) -> list[Diagnostic]:
    """Return the findings across files: ids used twice in ``regimens``, and the library rules' over them.

    ``regimens`` are those lowered (in file order), ``checked`` the ids of every regimen of the run,
    ``jurisdiction`` the configured set of lifetime limits.
    """
    sink = Sink()
    duplicate_ids(regimens, sink)
    infos = {k: v for library in libraries for k, v in library.infos.items()}
    lowered = {r.id: r for r in regimens}
    context = LibraryContext(regimens=lowered, infos=infos, checked=checked, jurisdiction=jurisdiction)
    found: list[Diagnostic] = list(sink.items)
    for rule in registry().library_rules:
        if rule.library_check is not None:
            found.extend(rule.library_check(context))
    return found


class _Cached:
    """A run's use of the results cache: the files found in it, those to check, and what is kept after.

    A run reads the entry of the last run over the same files: every unchanged file's findings,
    each part's library findings, and, when no file changed, the library rules' findings. A file
    it does not hold is read from its own entry, and the files without one are checked.
    """

    def __init__(self, cache: ResultsCache, jobs: Sequence[_Job], jurisdiction: str, reuse: Reuse | None) -> None:
        self.cache = cache
        self.jobs: list[_Job] = []
        self.keys: list[str] = []
        self.hits: dict[int, _FileOutcome] = {}
        self.misses: list[_Job] = []
        self.library: list[Diagnostic] | None = None
        self.jurisdiction = jurisdiction  # the library rules' lifetime limits
        digests = {root: library_digest(_library(root)) for root in {job[1] for job in jobs}}
        sources: dict[str, SourceFile] = {}
        for root in digests:
            library = _library(root).source
            if library is not None:
                sources[library.path] = library
        self.sources = sources
        files = []
        for path, root, job_config, product, _ in jobs:
            read = _scanned.pop(path.absolute(), None) or read_regular(path, MAX_BYTES)
            words = _library_words(root, job_config.words)
            self.keys.append(file_key(str(path), read, digests[root], words, job_config.jurisdiction))
            self.jobs.append((path, root, job_config, product, read))
            source = source_of(path, read)
            files.append(source)
            sources[source.path] = source
        self.key = run_key([source.path for source in files], jurisdiction)
        self.last = cache.load_run(self.key, self.keys, sources)
        if self.last is not None and self.last.library is not None:
            self.library = list(self.last.library)
        for number, source in enumerate(files):
            entry = self.last.files[number] if self.last is not None else None
            entry = entry or cache.load_file(self.keys[number], sources)
            _path, root, job_config, product, _ = self.jobs[number]
            made = None
            passes = entry is not None and not _fails_alone(entry.diagnostics, entry.suppressions, job_config)
            if entry is not None and passes and product is not None and reuse is not None:
                made = reuse(source, _library(root), job_config, entry.regimen_id)
                if made is None:  # its product cannot be had without checking it again
                    entry = None
            if entry is None:
                self.misses.append(self.jobs[number])
                continue
            self.hits[number] = _FileOutcome(
                source,
                None,
                list(entry.diagnostics),
                list(entry.suppressions),
                {},
                made,
                produced=made is not None,
                regimen_id=entry.regimen_id,
                targets=entry.targets,
            )

    def merged(self, checked: Sequence[_FileOutcome]) -> list[_FileOutcome]:
        """Return every file's outcome in file order, keeping those just checked in the cache."""
        fresh = iter(checked)
        merged = []
        for number, key in enumerate(self.keys):
            hit = self.hits.get(number)
            if hit is None:
                hit = next(fresh)
                self.cache.save_file(key, _entry(hit))
            merged.append(hit)
        return merged

    def library_findings(self, results: Sequence[_FileOutcome], libraries: Sequence[Library]) -> list[Diagnostic]:
        """Return the findings across files: kept, or found again part by part (``_parts``).

        Each part's findings are kept by its files' keys: a part whose files are unchanged is
        read back, and only the others are found again, from their regimens (those read from
        the cache lowered again). Then the run's entry is kept, for a check in which nothing changed.
        """
        if self.library is not None:
            return self.library
        checked = frozenset(r.regimen_id for r in results if r.regimen_id is not None)
        parts: dict[str, tuple[Diagnostic, ...]] = {}
        for numbers in _parts(results):
            key = part_key([self.keys[n] for n in numbers], checked, self.jurisdiction)
            kept = self.last.part(key) if self.last is not None else None
            if kept is None:
                regimens = [r for n in numbers if (r := self._regimen(results[n], n)) is not None]
                kept = tuple(_library_findings(regimens, libraries, checked, self.jurisdiction))
            parts[key] = kept
        found = [d for kept in parts.values() for d in kept]
        self.cache.save_run(self.key, self.keys, [_entry(r) for r in results], found, parts)
        return found

    def _regimen(self, result: _FileOutcome, number: int) -> ir.Regimen | None:
        """Return a file's regimen: as just lowered, else lowered again (it was read from the cache)."""
        if result.regimen is not None:
            return result.regimen
        path, root, _config, _product, read = self.jobs[number]
        return lower_file(path, _library(root), read).regimen


def _parts(results: Sequence[_FileOutcome]) -> list[list[int]]:
    """Return the files the library rules read, in parts whose findings do not depend on each other's files.

    Only regimens that links or ids join add to them: a regimen that writes a link, is named
    by one, or shares its id (ignoring case) with another. Links and shared ids join regimens
    into parts (each in file order, the parts in the order of their first file): every
    library rule reads a regimen with those it links to or shares an id with, and no other.
    The rules on the link graph run only when a link joins two regimens of the run, so when
    one does, the parts in which none does are checked with the first part in which one does.
    """
    ids = Counter(r.regimen_id.casefold() for r in results if r.regimen_id is not None)
    named = {target for r in results for target in r.targets}
    present = {r.regimen_id for r in results if r.regimen_id is not None}
    numbers = [
        n
        for n, r in enumerate(results)
        if r.regimen_id is not None and (r.targets or r.regimen_id in named or ids[r.regimen_id.casefold()] > 1)
    ]
    parent: dict[str, str] = {}

    def find(name: str) -> str:
        parent.setdefault(name, name)
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for n in numbers:
        for target in results[n].targets:
            parent[find(target.casefold())] = find(str(results[n].regimen_id).casefold())
    groups: dict[str, list[int]] = {}
    joined: set[str] = set()
    for n in numbers:
        root = find(str(results[n].regimen_id).casefold())
        groups.setdefault(root, []).append(n)
        if any(target in present for target in results[n].targets):
            joined.add(root)
    first = next((root for root in groups if root in joined), None)
    if first is None:
        return list(groups.values())
    alone = sorted(n for root, group in groups.items() if root not in joined or root == first for n in group)
    return [alone, *(group for root, group in groups.items() if root in joined and root != first)]


def _entry(result: _FileOutcome) -> CachedFile:
    """Return what the cache keeps of one file's outcome."""
    return CachedFile(tuple(result.diagnostics), tuple(result.suppressions), result.regimen_id, result.targets)


def _configured(diagnostics: Sequence[Diagnostic], config_of: Callable[[str], Config]) -> list[Diagnostic]:
    """Apply to each file's findings the configuration in force for it (``config_of`` its display path)."""
    by_file: dict[str, list[Diagnostic]] = {}
    for diag in diagnostics:
        by_file.setdefault(diag.span.path, []).append(diag)
    return [d for path, found in by_file.items() for d in config_of(path).apply(found)]


def _suppress(diagnostics: Sequence[Diagnostic], suppressions: dict[str, list[Suppression]]) -> list[Diagnostic]:
    by_file: dict[str, list[Diagnostic]] = {}
    for diag in diagnostics:
        by_file.setdefault(diag.span.path, []).append(diag)
    kept: list[Diagnostic] = []
    for path in sorted(set(by_file) | set(suppressions)):
        kept.extend(apply_suppressions(by_file.get(path, []), suppressions.get(path, [])))
    return kept


def _folded(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """Keep the first few findings of one code on one line; the last kept counts the others in a note.

    A line with at most ``MOST_PER_LINE`` findings of a code keeps them all; one with more
    keeps ``MOST_PER_LINE - 1`` ("and 7,997 more days outside the cycle on this line").
    """
    keys = [(d.span.path, d.span.line, d.code.code) for d in diagnostics]
    counts = Counter(keys)
    seen: Counter[tuple[str, int, str]] = Counter()
    kept: list[Diagnostic] = []
    for diag, key in zip(diagnostics, keys, strict=True):
        total = counts[key]
        if total <= MOST_PER_LINE:
            kept.append(diag)
            continue
        seen[key] += 1
        if seen[key] < MOST_PER_LINE - 1:
            kept.append(diag)
        elif seen[key] == MOST_PER_LINE - 1:
            more = f"and {total - seen[key]:,} more {diag.code.many or f'{diag.code.code} findings'} on this line"
            kept.append(replace(diag, notes=(*diag.notes, more)))
    return kept
