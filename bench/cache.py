"""Results cache benchmark: writes its section of ``docs/performance.md``.

Usage::

    python bench/cache.py [--files N] [--small] [--reps R] [--out PATH]

The bundled regimens are replicated into N files (as in ``bench/library_check.py``) and
checked with ``regdsl.check.run.run_check([folder], jobs=2, cache=True)`` against a results
cache in a temporary folder (``REGDSL_CACHE_DIR``): cold (an empty cache), warm with
nothing changed, and warm with one file changed (a comment line added to it, a new one each
run). A bare Lark parse of the same texts in one process (``build_parser().parse(text)``)
is timed beside them, for the cold check's goal of 1.2 times it. Before every run the
library cache (``regdsl.check.run._library``) is cleared, so each run reads ``library.reg``
and scans the regimen ids as a fresh check does.

Only the section between ``<!-- bench:cache -->`` and ``<!-- /bench:cache -->`` is
rewritten (see ``bench/benchlib.py``).
"""

from __future__ import annotations

import gc
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
    bare_parse,
    library_parser,
    load_average,
    machine_lines,
    met,
    ms,
    publish,
    replicate,
    span,
    workload_line,
)

import regdsl.check.run as run_mod
from regdsl.check.run import run_check

SECTION = "cache"
DEFAULT_FILES = 1000
SMALL_FILES = 50
DEFAULT_REPS = 5
SMALL_REPS = 2
JOBS = 2
GOAL_COLD = 1.2  # times the bare Lark parse
GOAL_WARM = 0.2  # seconds, nothing changed
GOAL_ONE = 0.3  # seconds, one file changed


@dataclass(frozen=True, slots=True)
class Figures:
    """The measurements."""

    reps: int
    cold: Sample
    warm: Sample
    one: Sample
    bare: Sample
    lowered_one: int  # files lowered again when one changed (the changed one, and those links join)


def _timed(fn: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(corpus: Corpus, cache: Path, reps: int) -> Figures:
    """Time cold, warm and one-changed checks and the bare parse, ``reps`` times each, interleaved."""
    folder = corpus.folder
    check = lambda: run_check([folder], jobs=JOBS, cache=True)  # noqa: E731
    bare = bare_parse(folder)
    bare()
    check()  # warm-up: imports, the grammar, the medicine table
    changed = sorted(folder.glob("*.reg"))[1]
    original = changed.read_bytes()
    lowered: list[int] = []
    real = run_mod.lower_file

    def counted(*args: object, **kwargs: object) -> object:
        lowered[-1] += 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    times: dict[str, list[float]] = {k: [] for k in ("cold", "warm", "one", "bare")}
    for rep in range(reps):
        shutil.rmtree(cache, ignore_errors=True)
        times["cold"].append(_timed(check))
        times["warm"].append(_timed(check))
        changed.write_bytes(original + f"# changed {rep}\n".encode())
        lowered.append(0)
        run_mod.lower_file = counted  # type: ignore[assignment]
        try:
            times["one"].append(_timed(check))
        finally:
            run_mod.lower_file = real
        times["bare"].append(_timed(bare))
    changed.write_bytes(original)
    samples = {k: Sample(tuple(v)) for k, v in times.items()}
    return Figures(reps, samples["cold"], samples["warm"], samples["one"], samples["bare"], max(lowered))


def render(command: str, corpus: Corpus, fig: Figures, load: tuple[str, str]) -> str:
    """Write the section."""
    n = corpus.files
    ratio = fig.cold.median / fig.bare.median
    out = [
        "## Results cache",
        "",
        "Written by `bench/cache.py`. Re-run the command below to regenerate this section.",
        "",
        "### How it was run",
        "",
        *machine_lines(command, load),
        workload_line(corpus),
        f"- `regdsl.check.run.run_check([folder], jobs={JOBS}, cache=True)` with `REGDSL_CACHE_DIR` a temporary "
        f"folder; medians of {fig.reps} rounds, each: an emptied cache (cold), the same files again (warm), one "
        "file changed by a comment line (one changed), then the bare parse. The library cache is cleared and "
        "the collector runs before every run.",
        "",
        "### Results",
        "",
        "| Measure | Median | Range |",
        "| --- | ---: | ---: |",
        f"| cold cache | {ms(fig.cold.median)} | {span(fig.cold)} |",
        f"| warm cache, nothing changed | {ms(fig.warm.median)} | {span(fig.warm)} |",
        f"| warm cache, one file changed ({fig.lowered_one} files lowered) | {ms(fig.one.median)} | {span(fig.one)} |",
        f"| bare Lark LALR parse of the same texts, one process | {ms(fig.bare.median)} | {span(fig.bare)} |",
        "",
        "### Goals",
        "",
        "| Goal | Target | Measured | Met |",
        "| --- | ---: | ---: | :---: |",
    ]
    if n == DEFAULT_FILES:
        out += [
            f"| Cold check of {n:,} files on two cores, against the bare parse | ≤ {GOAL_COLD} × | {ratio:.2f} × "
            f"| {met(ratio, GOAL_COLD)} |",
            f"| Warm, nothing changed | ≤ {ms(GOAL_WARM)} | {ms(fig.warm.median)} "
            f"| {met(fig.warm.median, GOAL_WARM)} |",
            f"| Warm, one file changed | ≤ {ms(GOAL_ONE)} | {ms(fig.one.median)} | {met(fig.one.median, GOAL_ONE)} |",
        ]
    else:
        out.append(f"| The cache goals at {DEFAULT_FILES:,} files | | not measured ({n} files) | n/a |")
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write its section of the report."""
    given = list(sys.argv[1:] if argv is None else argv)
    args = library_parser(
        "cache.py", __doc__, files=DEFAULT_FILES, small_files=SMALL_FILES, small_reps=SMALL_REPS, reps=DEFAULT_REPS
    ).parse_args(given)
    count: int = SMALL_FILES if args.small else args.files
    reps: int = args.reps or (SMALL_REPS if args.small else DEFAULT_REPS)
    command = shlex.join(["python", "bench/cache.py", *given])
    load_start = load_average()
    with tempfile.TemporaryDirectory(prefix="regdsl-bench-") as tmp:
        library = Path(tmp) / "library"
        library.mkdir()
        cache = Path(tmp) / "cache"
        os.environ["REGDSL_CACHE_DIR"] = str(cache)
        os.environ.pop("REGDSL_NO_CACHE", None)
        corpus = replicate(REGIMENS, library, count)
        print(f"{corpus.files} files, {corpus.bytes:,} bytes; {reps} runs", file=sys.stderr)
        figures = measure(corpus, cache, reps)
    return publish(args.out, SECTION, render(command, corpus, figures, (load_start, load_average())))


if __name__ == "__main__":
    sys.exit(main())
