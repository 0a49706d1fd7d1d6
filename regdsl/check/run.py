"""The check pipeline over a library: read, parse, lower, compile, rules, suppressions, configuration.

Files are independent until the library rules, so they are checked in parallel worker
processes when there are enough of them to pay for the workers. Results are gathered in
file order and sorted, so output never depends on the number of workers.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from regdsl.check import rules as _rules  # noqa: F401 - registers every rule
from regdsl.check.config import Config, discover_config, load_config
from regdsl.check.context import LibraryContext, RuleContext
from regdsl.check.registry import LIBRARY_RULES, RULES
from regdsl.check.suppress import Suppression, apply_suppressions, find_suppressions
from regdsl.compile.library import LIBRARY_FILE, Library, collect, duplicate_ids, find_root, load_library, lower_file
from regdsl.compile.passes import compile_regimen
from regdsl.diagnostics import Diagnostic, Sink
from regdsl.model import ir
from regdsl.source import SourceFile

__all__ = ["PARALLEL_THRESHOLD", "Outcome", "run_check", "run_configured"]

# Fewer files than this are checked in this process: starting workers costs more.
PARALLEL_THRESHOLD = 48


@dataclass(slots=True)
class Outcome:
    """Everything one check produced, and how long each stage took (seconds, summed over files)."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, SourceFile] = field(default_factory=dict)
    regimens: list[ir.Regimen] = field(default_factory=list)
    files: int = 0
    stages: dict[str, float] = field(default_factory=dict)
    config_failed: bool = False


@dataclass(slots=True)
class _FileOutcome:
    source: SourceFile
    regimen: ir.Regimen | None
    diagnostics: list[Diagnostic]
    suppressions: list[Suppression]
    stages: dict[str, float]


@functools.cache
def _library(root: Path) -> Library:
    return load_library(root)


def _check_file(job: tuple[Path, Path]) -> _FileOutcome:
    path, root = job
    library = _library(root)
    clock = time.perf_counter()
    unit = lower_file(path, library)
    stages = {"parse and lower": time.perf_counter() - clock}
    diagnostics = list(unit.diagnostics)
    suppressions = find_suppressions(unit.source, unit.module.comments) if unit.module else []
    if unit.regimen is not None:
        clock = time.perf_counter()
        compiled = compile_regimen(unit.regimen)
        stages["graphs and timing"] = time.perf_counter() - clock
        clock = time.perf_counter()
        context = RuleContext(compiled=compiled, source=unit.source, infos=library.infos)
        for rule in RULES.values():
            if rule.check is not None:
                diagnostics.extend(rule.check(context))
        stages["rules"] = time.perf_counter() - clock
    return _FileOutcome(unit.source, unit.regimen, diagnostics, suppressions, stages)


def _workers(count: int, jobs: int | None) -> int:
    if jobs is not None:
        return max(1, jobs)
    if count < PARALLEL_THRESHOLD:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def run_check(paths: Iterable[Path], *, jobs: int | None = None, config: Config | None = None) -> Outcome:
    """Check every ``.reg`` file under ``paths``; raises ``PathError`` only for unusable paths."""
    with _rare_collections():
        return _run_check(paths, jobs=jobs, config=config)


@contextlib.contextmanager
def _rare_collections() -> Iterator[None]:
    """Collect garbage rarely while checking; worker processes inherit the setting.

    A check builds many small objects and few reference cycles: frequent collections cost
    about a tenth of its time.
    """
    previous = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _run_check(paths: Iterable[Path], *, jobs: int | None, config: Config | None) -> Outcome:
    config = config or Config()
    started = time.perf_counter()
    files = [p for p in collect(list(paths)) if not config.excluded(p)]
    outcome = Outcome(files=len(files))
    sink = Sink()
    roots = {path: config.root.resolve() if config.root else find_root(path.resolve()) for path in files}
    for root in sorted(set(roots.values())):
        library = _library(root)
        sink.items.extend(library.diagnostics)
        if library.source is not None:
            outcome.sources[library.source.path] = library.source
    jobs_list = [(path, roots[path]) for path in files if path.name != LIBRARY_FILE]
    workers = _workers(len(jobs_list), jobs)
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor  # only a large library pays for importing it

        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_check_file, jobs_list, chunksize=max(1, len(jobs_list) // (workers * 4))))
    else:
        results = [_check_file(job) for job in jobs_list]
    suppressions: dict[str, list[Suppression]] = {}
    for result in results:
        outcome.sources[result.source.path] = result.source
        sink.items.extend(result.diagnostics)
        suppressions[result.source.path] = result.suppressions
        if result.regimen is not None:
            outcome.regimens.append(result.regimen)
        for stage, seconds in result.stages.items():
            outcome.stages[stage] = outcome.stages.get(stage, 0.0) + seconds
    clock = time.perf_counter()
    duplicate_ids(outcome.regimens, sink)
    sink.items.extend(_library_findings(outcome.regimens, [_library(r) for r in sorted(set(roots.values()))]))
    outcome.stages["library rules"] = time.perf_counter() - clock
    outcome.diagnostics = config.apply(_suppress(sink.sorted(), suppressions))
    outcome.diagnostics.sort(key=Diagnostic.sort_key)
    outcome.stages["total (wall)"] = time.perf_counter() - started
    return outcome


def run_configured(
    paths: Sequence[Path],
    *,
    jobs: int | None = None,
    config_file: Path | None = None,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
) -> Outcome:
    """Check ``paths`` under their configuration: ``config_file``, else the nearest one found.

    ``select`` and ``ignore`` (the command line's) replace the configuration's. A bad
    configuration is not applied: the outcome holds its findings only, with ``config_failed``.
    Raises ``ConfigError`` for a bad ``select`` or ``ignore``, ``PathError`` for unusable paths.
    """
    loaded = load_config(config_file) if config_file is not None else discover_config(paths)
    if loaded.diagnostics:
        outcome = Outcome(diagnostics=sorted(loaded.diagnostics, key=Diagnostic.sort_key), config_failed=True)
        if loaded.source is not None:
            outcome.sources[loaded.source.path] = loaded.source
        return outcome
    config = loaded.config.overridden(select=select, ignore=ignore)
    return run_check(paths, jobs=jobs, config=config)


def _library_findings(regimens: Sequence[ir.Regimen], libraries: Sequence[Library]) -> list[Diagnostic]:
    infos = {k: v for library in libraries for k, v in library.infos.items()}
    lowered = {r.id: r for r in regimens}
    context = LibraryContext(regimens=lowered, infos=infos, checked=frozenset(lowered))
    found: list[Diagnostic] = []
    for rule in LIBRARY_RULES.values():
        if rule.library_check is not None:
            found.extend(rule.library_check(context))
    return found


def _suppress(diagnostics: Sequence[Diagnostic], suppressions: dict[str, list[Suppression]]) -> list[Diagnostic]:
    by_file: dict[str, list[Diagnostic]] = {}
    for diag in diagnostics:
        by_file.setdefault(diag.span.path, []).append(diag)
    kept: list[Diagnostic] = []
    for path in sorted(set(by_file) | set(suppressions)):
        kept.extend(apply_suppressions(by_file.get(path, []), suppressions.get(path, [])))
    return kept
