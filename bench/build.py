"""Static site build benchmark: writes its section of ``docs/performance.md``.

Usage::

    python bench/build.py [--files N] [--small] [--reps R] [--out PATH]

The bundled regimens are replicated into N files with unique ids and links that resolve
(``benchlib.replicate``, as for the other benchmarks), and the whole site is built with
``regdsl.render.site.build_site([folder], out, jobs=J)``, in this process: everything
``regdsl build`` does but parse its command line and print. That is the check (read,
parse, lower, graphs and timing, every rule, the library rules), every regimen's HTML,
Markdown and JSON pages rendered and written by the worker that checked it, the index,
the catalogue and the swap into place. Each run replaces the previous run's site, as a
rebuild does. Runs of ``run_check([folder], jobs=2)`` alone (no hook, nothing written)
alternate with the builds, to show what publishing adds to the check. The library cache
is cleared before every run. These runs use no cache (``cache=False``, as ``--no-cache``).

Then the build cache (``cache=True``, with ``REGDSL_CACHE_DIR`` a temporary folder), jobs=2:
a build that fills an empty cache, a rebuild with nothing changed, and a rebuild after one
file gained a comment line (its pages rendered again, the others kept).

Then, in one process, every compiled regimen is rendered in each format, to give the time
of one page by format.

Only the section between ``<!-- bench:build -->`` and ``<!-- /bench:build -->`` is
rewritten (see ``bench/benchlib.py``).
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchlib import (
    REGIMENS,
    Corpus,
    Sample,
    batch,
    library_parser,
    load_average,
    machine_lines,
    met,
    ms,
    publish,
    rate,
    replicate,
    span,
    usable_cores,
    workload_line,
)
from library_check import clear_library_cache

from regdsl.check.run import run_check
from regdsl.compile.library import LIBRARY_FILE, find_root, load_library, lower_file
from regdsl.compile.passes import Compiled, compile_regimen
from regdsl.render.context import RenderContext
from regdsl.render.pages import FORMATS, render
from regdsl.render.site import build_site, page_context

SECTION = "build"
DEFAULT_FILES = 1000
SMALL_FILES = 50
DEFAULT_REPS = 5
SMALL_REPS = 2
GOAL_JOBS = 2
GOAL_WALL = 5.0  # seconds for DEFAULT_FILES regimens on two cores
GOAL_WARM = 0.5  # seconds: a rebuild of DEFAULT_FILES regimens after one file changed (and with none changed)
# The whole-run measures, as the report names them, in its order.
MEASURES = ("`build_site`, jobs=1", f"`build_site`, jobs={GOAL_JOBS}", f"check only: `run_check`, jobs={GOAL_JOBS}")


@dataclass(frozen=True, slots=True)
class Site:
    """What one build published."""

    regimens: int
    pages: int
    files: int
    bytes: int


@dataclass(frozen=True, slots=True)
class Whole:
    """The whole-run measurements, by measure."""

    reps: int
    times: dict[str, Sample]
    site: Site


@dataclass(frozen=True, slots=True)
class Cached:
    """The build cache's runs: filling it, nothing changed, one file changed."""

    reps: int
    filling: Sample
    warm: Sample
    one: Sample
    rendered: int  # regimens rendered by a rebuild after one file changed (the most of any run)


@dataclass(frozen=True, slots=True)
class Format:
    """Rendering every regimen in one format, in one process."""

    fmt: str
    per_page: Sample  # seconds per page, one sample per pass over every regimen
    bytes: int  # of all the pages


def _built(folder: Path, out: Path, jobs: int) -> Site:
    built = build_site([folder], out, jobs=jobs)
    if not built.written:
        shown = "\n".join(f"{d.code.code} {d.message}" for d in built.outcome.diagnostics[:20])
        raise SystemExit(f"the build of the replicated library failed:\n{shown}")
    files = [p for p in out.rglob("*") if p.is_file()]
    return Site(built.regimens, built.pages, len(files), sum(p.stat().st_size for p in files))


def _checked(folder: Path) -> None:
    outcome = run_check([folder], jobs=GOAL_JOBS)
    if outcome.failed():
        raise SystemExit("the check of the replicated library failed")


def measure_whole(corpus: Corpus, out: Path, reps: int) -> Whole:
    """Time the build (jobs 1 and 2) and the check alone, ``reps`` times each, alternating."""
    runs: dict[str, Callable[[], object]] = {
        MEASURES[0]: lambda: _built(corpus.folder, out, 1),
        MEASURES[1]: lambda: _built(corpus.folder, out, GOAL_JOBS),
        MEASURES[2]: lambda: _checked(corpus.folder),
    }
    for run in runs.values():  # warm-up: imports, the grammar, the templates, the workers' path
        clear_library_cache()
        run()
    site = _built(corpus.folder, out, GOAL_JOBS)
    if site.regimens != corpus.files:
        raise SystemExit(f"expected {corpus.files} regimens, the site has {site.regimens}")
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(reps):
        for name, run in runs.items():
            clear_library_cache()
            gc.collect()
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return Whole(reps=reps, times={k: Sample(tuple(v)) for k, v in times.items()}, site=site)


def measure_cached(corpus: Corpus, out: Path, cache: Path, reps: int) -> Cached:
    """Time builds with the cache: into an empty one, then with nothing changed, then one file changed."""
    os.environ["REGDSL_CACHE_DIR"] = str(cache)
    os.environ.pop("REGDSL_NO_CACHE", None)
    changed = sorted(corpus.folder.glob("*.reg"))[1]
    original = changed.read_bytes()
    times: dict[str, list[float]] = {"filling": [], "warm": [], "one": []}
    rendered = 0

    def timed(name: str) -> int:
        clear_library_cache()
        gc.collect()
        start = time.perf_counter()
        built = build_site([corpus.folder], out, jobs=GOAL_JOBS, cache=True)
        times[name].append(time.perf_counter() - start)
        if not built.written:
            raise SystemExit("a build with the cache failed")
        return len(built.rendered)

    try:
        for rep in range(reps):
            shutil.rmtree(cache, ignore_errors=True)
            timed("filling")
            if timed("warm"):
                raise SystemExit("a rebuild with nothing changed rendered pages")
            changed.write_bytes(original + f"# changed {rep}\n".encode())
            rendered = max(rendered, timed("one"))
    finally:
        changed.write_bytes(original)
    samples = {k: Sample(tuple(v)) for k, v in times.items()}
    return Cached(reps, samples["filling"], samples["warm"], samples["one"], rendered)


def compiled_library(folder: Path) -> list[tuple[Compiled, RenderContext]]:
    """Every regimen of ``folder`` compiled in this process, with its page's context in a site."""
    library = load_library(find_root(folder.resolve()))
    found = []
    for path in sorted(folder.glob("*.reg")):
        if path.name == LIBRARY_FILE:
            continue
        unit = lower_file(path, library)
        if unit.regimen is None:
            raise SystemExit(f"{path}: did not lower")
        found.append((compile_regimen(unit.regimen), page_context(unit.source, library, None, in_site=True)))
    return found


def measure_formats(folder: Path, reps: int) -> list[Format]:
    """Render every regimen in each format, ``reps`` passes each (formats alternate)."""
    jobs = compiled_library(folder)
    sizes = {fmt: sum(len(render(fmt, c, ctx).encode("utf-8")) for c, ctx in jobs) for fmt in FORMATS}  # warm-up
    times: dict[str, list[float]] = {fmt: [] for fmt in FORMATS}
    for _ in range(reps):
        for fmt in FORMATS:

            def every_page(fmt: str = fmt) -> None:
                for compiled, context in jobs:
                    render(fmt, compiled, context)

            times[fmt].append(batch(every_page, 1) / len(jobs))
    return [Format(fmt, Sample(tuple(times[fmt])), sizes[fmt]) for fmt in FORMATS]


# --------------------------------------------------------------------------- the report


def report(
    command: str, corpus: Corpus, whole: Whole, cached: Cached, formats: Sequence[Format], load: tuple[str, str]
) -> str:
    """Return this script's section of the report (Markdown, without its markers)."""
    n = corpus.files
    site = whole.site
    two = whole.times[MEASURES[1]]
    check = whole.times[MEASURES[2]]
    out: list[str] = [
        "## Static site build",
        "",
        "Written by `bench/build.py`. Re-run the command below to regenerate this section.",
        "",
        "### How it was run",
        "",
        *machine_lines(command, load),
        f"- Worker processes start by `{multiprocessing.get_start_method()}`; "
        f"{usable_cores()} CPUs are usable by this process.",
        workload_line(corpus),
        f"- The site: {site.regimens} regimens, {site.pages} pages (HTML, Markdown and JSON) and the index; "
        f"{site.files} files, {site.bytes:,} bytes ({site.bytes / 1e6:.1f} MB).",
        "- Whole runs: `regdsl.render.site.build_site([folder], out, jobs=J)` in this process (what "
        "`regdsl build` does, less reading its command line and printing), each replacing the previous run's "
        "site; and `regdsl.check.run.run_check([folder], jobs=2)` alone. Medians of "
        f"{whole.reps} runs of each, alternating, after one warm-up run of each; before every run the library "
        "cache is cleared and the garbage collector runs. No cache is used (`cache=False`).",
        f"- Build cache: `build_site([folder], out, jobs={GOAL_JOBS}, cache=True)` with `REGDSL_CACHE_DIR` a "
        f"temporary folder; medians of {cached.reps} rounds, each: an emptied cache (filling it), the same files "
        "again (nothing changed), one file changed by a comment line (one changed).",
        "- Pages by format: every regimen compiled once in this process, then rendered in each format; "
        f"medians of {whole.reps} passes over all {n} regimens per format (formats alternate), after one "
        "untimed pass of each.",
        "",
        "### Results",
        "",
        "| Measure | Median | Range | Regimens/s |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name in MEASURES:
        sample = whole.times[name]
        out.append(f"| {name} | {ms(sample.median)} | {span(sample)} | {rate(n, sample.median)} |")
    out += [
        f"| publishing on top of the check, jobs={GOAL_JOBS} (difference of the medians) "
        f"| {ms(two.median - check.median)} | | |",
        f"| `build_site`, jobs={GOAL_JOBS}, cache: filling an empty cache | {ms(cached.filling.median)} "
        f"| {span(cached.filling)} | {rate(n, cached.filling.median)} |",
        f"| `build_site`, jobs={GOAL_JOBS}, cache: warm, nothing changed | {ms(cached.warm.median)} "
        f"| {span(cached.warm)} | |",
        f"| `build_site`, jobs={GOAL_JOBS}, cache: one file changed ({cached.rendered} regimen rendered) "
        f"| {ms(cached.one.median)} | {span(cached.one)} | |",
        "",
        "### Goals",
        "",
        "| Goal | Target | Measured | Met |",
        "| --- | ---: | ---: | :---: |",
    ]
    if n == DEFAULT_FILES:
        out += [
            f"| Whole site of {DEFAULT_FILES:,} regimens on two cores, cold: `build_site`, jobs={GOAL_JOBS} "
            f"| ≤ {GOAL_WALL * 1000:,.0f} ms | {ms(two.median)} | {met(two.median, GOAL_WALL)} |",
            f"| Rebuild after one file changed, two cores | ≤ {GOAL_WARM * 1000:,.0f} ms | {ms(cached.one.median)} "
            f"| {met(cached.one.median, GOAL_WARM)} |",
        ]
    else:
        out += [
            f"| Whole site of {DEFAULT_FILES:,} regimens on two cores, cold | ≤ {GOAL_WALL * 1000:,.0f} ms "
            f"| not measured ({n} files) | n/a |",
            f"| Rebuild of {DEFAULT_FILES:,} regimens after one file changed | ≤ {GOAL_WARM * 1000:,.0f} ms "
            f"| not measured ({n} files) | n/a |",
        ]
    out += [
        "",
        "### One page, by format",
        "",
        "Time to render one compiled regimen (`regdsl.render.pages.render`), in one process; the page is not "
        "written. Mean of a pass over every regimen; median and range over the passes.",
        "",
        "| Format | Per page | Range | Pages/s | Mean size |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for f in formats:
        out.append(
            f"| {f.fmt} | {ms(f.per_page.median)} | {span(f.per_page)} | {rate(1, f.per_page.median)} "
            f"| {f.bytes / n / 1000:,.1f} kB |"
        )
    total = sum(f.per_page.median for f in formats)
    out += [
        f"| all three | {ms(total)} | | {rate(1, total)} | |",
        "",
        f"Rendering the {n} regimens' pages in one process takes about {ms(total * n)}; on two cores the build "
        f"spreads it over both workers with the check.",
    ]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Read the command line."""
    ap = library_parser(
        "build.py", __doc__, files=DEFAULT_FILES, small_files=SMALL_FILES, small_reps=SMALL_REPS, reps=DEFAULT_REPS
    )
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write its section of the report."""
    given = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(given)
    count: int = SMALL_FILES if args.small else args.files
    reps: int = args.reps or (SMALL_REPS if args.small else DEFAULT_REPS)
    command = shlex.join(["python", "bench/build.py", *given])
    load_start = load_average()
    with tempfile.TemporaryDirectory(prefix="regdsl-bench-build-") as tmp:
        library = Path(tmp) / "library"
        library.mkdir()
        corpus = replicate(REGIMENS, library, count)
        print(f"{corpus.files} files, {corpus.bytes:,} bytes; {reps} runs", file=sys.stderr)
        whole = measure_whole(corpus, Path(tmp) / "site", reps)
        cached = measure_cached(corpus, Path(tmp) / "cached-site", Path(tmp) / "cache", reps)
        formats = measure_formats(library, reps)
    section = report(command, corpus, whole, cached, formats, (load_start, load_average()))
    return publish(args.out, SECTION, section)


if __name__ == "__main__":
    sys.exit(main())
