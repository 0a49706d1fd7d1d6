"""Parse-and-lower benchmark: writes its section of ``docs/performance.md``.

Usage::

    python bench/parse_lower.py [--files N] [--small] [--reps R] [--cold-runs K] [--out PATH]

The bundled regimens in ``regimens/`` (every ``*.reg`` but ``library.reg``) are copied,
with ``library.reg``, into a temporary folder until there are N regimen files. Each copy
gets its own regimen id (``<id>-r0007``), and the ids it links to (``continue with``,
``counted with``) are rewritten to the copies of the same round, so every id is unique
and every link resolves. Then, in this one process:

a. ``regdsl.compile.library.check_paths([folder])`` (the real parse-and-lower path, which
   collects garbage rarely, as ``regdsl check`` does), with a second, instrumented set of
   runs splitting it into parse, lowering and the rest, and a third with the garbage
   collector off, to show its share;
b. a bare Lark LALR parse of the same texts: the parser from ``build_parser()`` (same
   grammar, same indenter postlex, no transformer), timing only ``.parse``, which builds
   lark's own tree (regdsl's ``parse`` drives the same tables itself, building its syntax
   tree instead);
c. the ratio a / b;
d. cold start: ``regdsl check`` on one file as a fresh process, against its floor
   ``python -c "import lark, networkx"``.

Every figure is the median of several repetitions; the report says how many. The report
has no timestamps, so re-running the script regenerates it with the same structure. Only
the section between ``<!-- bench:parse_lower -->`` and ``<!-- /bench:parse_lower -->`` is
rewritten (see ``bench/benchlib.py``).
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchlib import (
    REGIMENS,
    ROOT,
    Corpus,
    Sample,
    bare_parse,
    display,
    load_average,
    machine_lines,
    median,
    met,
    ms,
    new_parser,
    paired_ratio,
    positive,
    publish,
    rate,
    regdsl_script,
    replicate,
    share,
    span,
    timed,
    warm_bytecode_env,
    workload_line,
)

import regdsl.compile.library as library_mod
from regdsl.compile.library import check_paths
from regdsl.compile.lower import lower_regimen
from regdsl.compile.stn import paused_gc
from regdsl.diagnostics import Severity
from regdsl.syntax.parser import parse

SECTION = "parse_lower"
COLD_FILE = "regimens/leu-all-bcell-rr-inotuzumab.reg"
FLOOR_CODE = "import lark, networkx"

DEFAULT_FILES = 1000
SMALL_FILES = 50
DEFAULT_REPS = 7
DEFAULT_COLD_RUNS = 21
GOAL_RATIO = 1.5
GOAL_COLD = 1.3

# --------------------------------------------------------------------------- timing


class Clock:
    """Accumulated seconds per label, for the instrumented runs."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def add(self, label: str, seconds: float) -> None:
        """Add ``seconds`` to ``label``."""
        self.seconds[label] = self.seconds.get(label, 0.0) + seconds

    def wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Return ``fn``, timing every call under ``label``."""

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(label, time.perf_counter() - start)

        return wrapper


@contextmanager
def instrumented(clock: Clock) -> Iterator[None]:
    """Time every call of ``parse`` and ``lower_regimen`` made by ``regdsl.compile.library``.

    Only these two names are patched: the parser's internals are left alone, so the
    split holds however parsing is organised inside ``parse``.
    """
    patches: list[tuple[object, str, object]] = [
        (library_mod, "parse", clock.wrap("parse", parse)),
        (library_mod, "lower_regimen", clock.wrap("lower", lower_regimen)),
    ]
    for owner, name, _new in patches:
        if not hasattr(owner, name):  # the compiler changed shape: the split would silently measure nothing
            raise SystemExit(f"cannot instrument `{name}` in {owner!r}; update bench/parse_lower.py")
    saved = [(owner, name, getattr(owner, name)) for owner, name, _new in patches]
    try:
        for owner, name, new in patches:
            setattr(owner, name, new)
        yield
    finally:
        for owner, name, old in saved:
            setattr(owner, name, old)


@dataclass(frozen=True, slots=True)
class Throughput:
    """Medians, in seconds, of the in-process measurements."""

    reps: int
    check: Sample
    lark: Sample
    ratio: float
    split_total: float
    parse: float
    against_bare: float
    lower: float
    other: float
    check_no_gc: float
    errors: int
    warnings: int
    notes: int


def measure_throughput(corpus: Corpus, reps: int) -> Throughput:
    """Time (a) ``check_paths``, its split, and (b) the bare Lark parse, ``reps`` times each."""
    folder = corpus.folder
    first = check_paths([folder])  # warm-up: imports, the grammar, the medicine table
    if first.files != corpus.files + 1 or len(first.regimens) != corpus.files:
        raise SystemExit(f"expected {corpus.files} regimens, got {len(first.regimens)} of {first.files} files")
    levels = [d.level for d in first.diagnostics]
    errors = levels.count(Severity.ERROR)
    if errors:
        shown = "\n".join(f"{d.code} {d.message}" for d in first.diagnostics[:5])
        raise SystemExit(f"the replicated library has {errors} errors:\n{shown}")

    bare = bare_parse(folder)
    bare()  # warm-up

    check_times: list[float] = []
    lark_times: list[float] = []
    for _ in range(reps):  # interleaved, so drift in the machine touches both alike
        check_times.append(timed(lambda: check_paths([folder])))
        lark_times.append(timed(bare))

    split_totals: list[float] = []
    parts: dict[str, list[float]] = {k: [] for k in ("parse", "against", "lower", "other")}
    for _ in range(reps):
        clock = Clock()
        with instrumented(clock):
            total = timed(lambda: check_paths([folder]))
        paired_bare = timed(bare)
        got = clock.seconds
        split_totals.append(total)
        parts["parse"].append(got["parse"])
        parts["against"].append(got["parse"] / paired_bare)
        parts["lower"].append(got["lower"])
        parts["other"].append(total - got["parse"] - got["lower"])

    no_gc: list[float] = []
    for _ in range(reps):
        with paused_gc():
            no_gc.append(timed(lambda: check_paths([folder])))

    check, lark = Sample(tuple(check_times)), Sample(tuple(lark_times))
    return Throughput(
        reps=reps,
        check=check,
        lark=lark,
        ratio=paired_ratio(check, lark),
        split_total=median(split_totals),
        parse=median(parts["parse"]),
        against_bare=median(parts["against"]),
        lower=median(parts["lower"]),
        other=median(parts["other"]),
        check_no_gc=median(no_gc),
        errors=errors,
        warnings=levels.count(Severity.WARNING),
        notes=levels.count(Severity.INFO),
    )


@dataclass(frozen=True, slots=True)
class ColdStart:
    """Times, in seconds, of fresh-process runs."""

    runs: int
    command: str
    floor_command: str
    regdsl: Sample
    floor: Sample
    ratio: float


def measure_cold_start(runs: int) -> ColdStart:
    """Time ``regdsl check`` on one file as a new process against ``python -c "import lark, networkx"``."""
    script = regdsl_script()
    check = [str(script), "check", "--no-cache", COLD_FILE]  # a whole check, never one read from the results cache
    floor = [sys.executable, "-c", FLOOR_CODE]

    # Bytecode is cached for both commands, as after any install, even where the caller's
    # environment sets PYTHONDONTWRITEBYTECODE; the untimed runs write it.
    with warm_bytecode_env() as env:

        def run(argv: list[str]) -> float:
            start = time.perf_counter()
            proc = subprocess.run(
                argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
            )
            elapsed = time.perf_counter() - start
            if proc.returncode not in (0, 1):  # 1: the file has findings, which is still a full run
                raise SystemExit(f"{shlex.join(argv)} exited {proc.returncode}: {proc.stderr.decode(errors='replace')}")
            return elapsed

        run(check)  # warms the grammar cache, the bytecode cache and the file system cache
        run(floor)
        check_times: list[float] = []
        floor_times: list[float] = []
        for _ in range(runs):
            floor_times.append(run(floor))
            check_times.append(run(check))
    py = display(Path(sys.executable))
    regdsl, floor_sample = Sample(tuple(check_times)), Sample(tuple(floor_times))
    return ColdStart(
        runs=runs,
        command=shlex.join([display(script), *check[1:]]),
        floor_command=f'{py} -c "{FLOOR_CODE}"',
        regdsl=regdsl,
        floor=floor_sample,
        ratio=paired_ratio(regdsl, floor_sample),
    )


# --------------------------------------------------------------------------- the report


def _mb_rate(size: int, seconds: float) -> str:
    return f"{size / 1e6 / seconds:,.2f}" if seconds > 0 else "n/a"


def render(command: str, corpus: Corpus, tp: Throughput, cold: ColdStart | None, load: tuple[str, str]) -> str:
    """Return this script's section of the report (Markdown, without its markers)."""
    n, size = corpus.files, corpus.bytes
    check, bare = tp.check.median, tp.lark.median
    out: list[str] = [
        "## Parsing and lowering",
        "",
        "Written by `bench/parse_lower.py`. Re-run the command below to regenerate this section.",
        "",
        "### How it was run",
        "",
        *machine_lines(command, load),
        workload_line(corpus),
        f"- The workload checks with {tp.errors} errors, {tp.warnings} warnings and {tp.notes} notes.",
        f"- In-process figures: medians of {tp.reps} repetitions in one process, after one warm-up run; "
        "(a) and (b) alternate, and the garbage collector runs before each. "
        "Ratios are medians of the ratios of runs made one after the other.",
    ]
    if cold is not None:
        out.append(
            f"- Cold start: medians of {cold.runs} fresh processes of each command, alternating, after one untimed "
            "run of each, which leaves the grammar cache and the bytecode cache (`PYTHONPYCACHEPREFIX`, "
            "a temporary folder) warm; `--no-cache` keeps the results cache out, so every run checks the file."
        )
    out += [
        "",
        "### Results",
        "",
        "| Measure | Median | Range | Files/s | MB/s |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| (a) parse + lower: `check_paths([folder])` | {ms(check)} | {span(tp.check)} | {rate(n, check)} "
        f"| {_mb_rate(size, check)} |",
        f"| (b) bare Lark LALR parse: `build_parser().parse(text)` | {ms(bare)} | {span(tp.lark)} "
        f"| {rate(n, bare)} | {_mb_rate(size, bare)} |",
        f"| (c) ratio a / b | {tp.ratio:.2f} | | | |",
    ]
    if cold is not None:
        out += [
            f"| (d) cold start: `{cold.command}` | {ms(cold.regdsl.median)} | {span(cold.regdsl)} | | |",
            f"| (d) floor: `{cold.floor_command}` | {ms(cold.floor.median)} | {span(cold.floor)} | | |",
            f"| (d) ratio cold start / floor | {cold.ratio:.2f} | | | |",
        ]
    else:
        out.append("| (d) cold start | not measured (`--skip-cold-start`) | | | |")
    out += [
        "",
        "### Goals",
        "",
        "| Goal | Target | Measured | Met |",
        "| --- | ---: | ---: | :---: |",
        f"| Parse + lower against the bare Lark parse (a / b) | ≤ {GOAL_RATIO} | {tp.ratio:.2f} "
        f"| {met(tp.ratio, GOAL_RATIO)} |",
    ]
    if cold is not None:
        out.append(
            f"| Cold start against `import lark, networkx` (d) | ≤ {GOAL_COLD} | {cold.ratio:.2f} "
            f"| {met(cold.ratio, GOAL_COLD)} |"
        )
    else:
        out.append(f"| Cold start against `import lark, networkx` (d) | ≤ {GOAL_COLD} | not measured | n/a |")
    out += [
        "",
        "### Where the time of (a) goes",
        "",
        f"Two more sets of {tp.reps} runs of `check_paths`. One times each call of `parse` and `lower_regimen` "
        "in place, each run followed by a bare parse as in (b); shares are of this set's own total, which differs "
        "from (a) by the instrumentation and by noise. The other runs with the garbage collector off (not the "
        "real path; it shows the collector's share).",
        "",
        "| Stage | Time | Share |",
        "| --- | ---: | ---: |",
        f"| `check_paths`, instrumented | {ms(tp.split_total)} | 100 % |",
        f"| parse: `regdsl.syntax.parser.parse` | {ms(tp.parse)} | {share(tp.parse, tp.split_total)} |",
        f"| - against the bare Lark parse (b) of the same texts run after it: the syntax tree with every span, "
        f"its comments and nesting, against lark's tree | {tp.against_bare:.2f} × | |",
        f"| lowering: `lower_regimen` | {ms(tp.lower)} | {share(tp.lower, tp.split_total)} |",
        "| other: finding, reading and decoding files, the library and its id scan, duplicate ids, "
        f"collector pauses between the timed calls | {ms(tp.other)} | {share(tp.other, tp.split_total)} |",
        "",
        "| Diagnostic run | Median | Against (a) | Against (b) |",
        "| --- | ---: | ---: | ---: |",
        f"| `check_paths` with the garbage collector off | {ms(tp.check_no_gc)} "
        f"| {tp.check_no_gc / check:.2f} | {tp.check_no_gc / bare:.2f} |",
    ]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Read the command line."""
    ap, size = new_parser("parse_lower.py", __doc__)
    size.add_argument("--files", type=positive, default=DEFAULT_FILES, help=f"regimen files (default {DEFAULT_FILES})")
    size.add_argument("--small", action="store_true", help=f"{SMALL_FILES} files, for CI")
    ap.add_argument("--reps", type=positive, default=DEFAULT_REPS, help=f"in-process repetitions ({DEFAULT_REPS})")
    ap.add_argument(
        "--cold-runs", type=positive, default=DEFAULT_COLD_RUNS, help=f"cold-start runs each ({DEFAULT_COLD_RUNS})"
    )
    ap.add_argument("--skip-cold-start", action="store_true", help="leave out the cold-start measurement")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write its section of the report."""
    given = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(given)
    count = SMALL_FILES if args.small else args.files
    command = shlex.join(["python", "bench/parse_lower.py", *given])
    load_start = load_average()
    cold = None if args.skip_cold_start else measure_cold_start(args.cold_runs)  # first: it fails fast
    with tempfile.TemporaryDirectory(prefix="regdsl-bench-") as tmp:
        corpus = replicate(REGIMENS, Path(tmp), count)
        print(f"{corpus.files} files, {corpus.bytes:,} bytes; {args.reps} repetitions", file=sys.stderr)
        throughput = measure_throughput(corpus, args.reps)
    section = render(command, corpus, throughput, cold, (load_start, load_average()))
    return publish(args.out, SECTION, section)


if __name__ == "__main__":
    sys.exit(main())
