"""Whole-library check benchmark: writes its section of ``docs/performance.md``.

Usage::

    python bench/library_check.py [--files N] [--small] [--reps R] [--cli-runs K] [--skip-cli] [--out PATH]

The bundled regimens are replicated into N files with unique ids and links that resolve
(as in ``bench/parse_lower.py``), and the whole library is checked with
``regdsl.check.run.run_check([folder], jobs=J)``, everything a check does: read, parse,
lower, build and solve the timing network and the phase graph, every rule, the library
rules, suppressions and sorting. ``jobs=1`` checks the files in this process; ``jobs=2``
in two worker processes. Runs of the two alternate, so drift in the machine's load touches
both alike. The library's cache (``regdsl.check.run._library``) is cleared before every run,
so each run reads ``library.reg`` and scans the regimen ids as a fresh check does.

Also timed: the command line, ``regdsl check --jobs J FOLDER``, as a fresh process with its
bytecode cached (even where ``PYTHONDONTWRITEBYTECODE`` is set): what a user waits for,
start-up and output included.

Only the section between ``<!-- bench:library_check -->`` and
``<!-- /bench:library_check -->`` is rewritten (see ``bench/benchlib.py``).
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchlib import (
    REGIMENS,
    ROOT,
    Corpus,
    Sample,
    display,
    library_parser,
    load_average,
    machine_lines,
    median,
    met,
    ms,
    positive,
    publish,
    rate,
    regdsl_script,
    replicate,
    share,
    span,
    usable_cores,
    warm_bytecode_env,
    workload_line,
)

import regdsl.check.run as run_mod
from regdsl.check.run import Outcome, run_check
from regdsl.diagnostics import Severity

SECTION = "library_check"
DEFAULT_FILES = 1000
SMALL_FILES = 50
DEFAULT_REPS = 5
SMALL_REPS = 2
JOBS = (1, 2)
GOAL_JOBS = 2
GOAL_WALL = 1.8  # seconds for DEFAULT_FILES files on two cores
WALL = "total (wall)"
# The stages of Outcome.stages, in pipeline order; per-file stages are summed over files.
PER_FILE = ("parse and lower", "graphs and timing", "rules")
LIBRARY = ("library rules",)


def clear_library_cache() -> None:
    """Forget the libraries ``run_check`` has loaded, so that the next run loads its own."""
    cached = getattr(run_mod, "_library", None)
    clear = getattr(cached, "cache_clear", None)
    if clear is None:  # the pipeline changed shape: runs after the first would skip loading the library
        raise SystemExit("cannot clear `regdsl.check.run._library`; update bench/library_check.py")
    clear()


@dataclass(frozen=True, slots=True)
class Runs:
    """The runs of ``run_check`` with one number of jobs."""

    jobs: int
    wall: Sample
    stages: dict[str, float]  # medians, seconds


@dataclass(frozen=True, slots=True)
class Check:
    """The in-process measurements."""

    reps: int
    runs: dict[int, Runs]
    errors: int
    warnings: int
    notes: int


def _one(folder: Path, jobs: int) -> tuple[float, Outcome]:
    clear_library_cache()
    gc.collect()
    start = time.perf_counter()
    outcome = run_check([folder], jobs=jobs)
    return time.perf_counter() - start, outcome


def measure_check(corpus: Corpus, reps: int) -> Check:
    """Time ``run_check`` with each number of jobs, ``reps`` times each, alternating."""
    folder = corpus.folder
    _wall, first = _one(folder, 1)  # warm-up: imports, the grammar, the medicine table
    if first.files != corpus.files + 1 or len(first.regimens) != corpus.files:
        raise SystemExit(f"expected {corpus.files} regimens, got {len(first.regimens)} of {first.files} files")
    levels = [d.level for d in first.diagnostics]
    errors = levels.count(Severity.ERROR)
    if errors:
        shown = "\n".join(f"{d.code} {d.message}" for d in first.diagnostics if d.level is Severity.ERROR)
        raise SystemExit(f"the replicated library has {errors} errors:\n{shown[:2000]}")
    _one(folder, 2)  # warm-up of the workers' path
    walls: dict[int, list[float]] = {j: [] for j in JOBS}
    stages: dict[int, dict[str, list[float]]] = {j: {} for j in JOBS}
    for _ in range(reps):
        for jobs in JOBS:
            wall, outcome = _one(folder, jobs)
            if len(outcome.diagnostics) != len(first.diagnostics):
                raise SystemExit(f"jobs={jobs}: {len(outcome.diagnostics)} findings, not {len(first.diagnostics)}")
            walls[jobs].append(wall)
            for stage, seconds in outcome.stages.items():
                stages[jobs].setdefault(stage, []).append(seconds)
    runs = {
        j: Runs(j, Sample(tuple(walls[j])), {k: median(v) for k, v in stages[j].items() if len(v) == reps})
        for j in JOBS
    }
    return Check(
        reps=reps,
        runs=runs,
        errors=errors,
        warnings=levels.count(Severity.WARNING),
        notes=levels.count(Severity.INFO),
    )


@dataclass(frozen=True, slots=True)
class Cli:
    """Fresh-process runs of the command line, by number of jobs."""

    runs: int
    commands: dict[int, str]
    times: dict[int, Sample]


def measure_cli(folder: Path, runs: int) -> Cli:
    """Time ``regdsl check --jobs J FOLDER`` as a new process, ``runs`` times for each J, alternating."""
    script = regdsl_script()
    # `--no-cache`: each run checks every file, as run_check does, never reading back what the first kept.
    argvs = {j: [str(script), "check", "--no-cache", "--jobs", str(j), str(folder)] for j in JOBS}
    with warm_bytecode_env() as env:

        def run(argv: list[str]) -> float:
            start = time.perf_counter()
            proc = subprocess.run(
                argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
            )
            elapsed = time.perf_counter() - start
            if proc.returncode not in (0, 1):  # 1: findings, which is still a full run
                raise SystemExit(f"{shlex.join(argv)} exited {proc.returncode}: {proc.stderr.decode(errors='replace')}")
            return elapsed

        for argv in argvs.values():
            run(argv)  # warms the bytecode cache, the grammar cache and the file system cache
        times: dict[int, list[float]] = {j: [] for j in JOBS}
        for _ in range(runs):
            for j, argv in argvs.items():
                times[j].append(run(argv))
    return Cli(
        runs=runs,
        commands={j: shlex.join([display(script), *argv[1:-1], "FOLDER"]) for j, argv in argvs.items()},
        times={j: Sample(tuple(t)) for j, t in times.items()},
    )


# --------------------------------------------------------------------------- the report


def render(command: str, corpus: Corpus, check: Check, cli: Cli | None, load: tuple[str, str]) -> str:
    """Return this script's section of the report (Markdown, without its markers)."""
    n = corpus.files
    one, two = check.runs[1], check.runs[GOAL_JOBS]
    out: list[str] = [
        "## Whole-library check",
        "",
        "Written by `bench/library_check.py`. Re-run the command below to regenerate this section.",
        "",
        "### How it was run",
        "",
        *machine_lines(command, load),
        f"- Worker processes start by `{multiprocessing.get_start_method()}`; "
        f"{usable_cores()} CPUs are usable by this process.",
        workload_line(corpus),
        f"- The check finds {check.errors} errors, {check.warnings} warnings and {check.notes} notes.",
        f"- In-process figures: `regdsl.check.run.run_check([folder], jobs=J)`, medians of {check.reps} runs of "
        "each J, alternating, after one warm-up run of each; before every run the library cache is cleared (so "
        "each run reads `library.reg` and scans the regimen ids, as a fresh check does) and the garbage "
        "collector runs. The collector keeps Python's default thresholds here.",
    ]
    if cli is not None:
        out.append(
            f"- Command line: medians of {cli.runs} fresh processes of each command, alternating, after one untimed "
            "run of each, which leaves the bytecode cache (`PYTHONPYCACHEPREFIX`, a temporary folder) and the "
            "grammar cache warm; `--no-cache` keeps the results cache out, so every run checks every file. "
            "The command line raises the collector's thresholds "
            "(`gc.set_threshold(50_000, 20, 100)`) and writes the findings (to `/dev/null` here)."
        )
    out += [
        "",
        "### Results",
        "",
        "| Measure | Median | Range | Files/s |",
        "| --- | ---: | ---: | ---: |",
    ]
    for j in JOBS:
        runs = check.runs[j]
        out.append(
            f"| `run_check`, jobs={j} | {ms(runs.wall.median)} | {span(runs.wall)} | {rate(n, runs.wall.median)} |"
        )
    if cli is not None:
        for j in JOBS:
            sample = cli.times[j]
            out.append(
                f"| command line: `{cli.commands[j]}` | {ms(sample.median)} | {span(sample)} "
                f"| {rate(n, sample.median)} |"
            )
    out.append(f"| speed-up of `run_check`, jobs=1 / jobs={GOAL_JOBS} | {one.wall.median / two.wall.median:.2f} | | |")
    out += [
        "",
        "### Goals",
        "",
        "| Goal | Target | Measured | Met |",
        "| --- | ---: | ---: | :---: |",
    ]
    if n == DEFAULT_FILES:
        out.append(
            f"| Whole-library check of {DEFAULT_FILES:,} files on two cores: `run_check`, jobs={GOAL_JOBS} "
            f"| ≤ {GOAL_WALL * 1000:,.0f} ms | {ms(two.wall.median)} | {met(two.wall.median, GOAL_WALL)} |"
        )
        if cli is not None:
            wall = cli.times[GOAL_JOBS].median
            out.append(
                f"| The same from the command line, start-up included (`--jobs {GOAL_JOBS}`) "
                f"| ≤ {GOAL_WALL * 1000:,.0f} ms | {ms(wall)} | {met(wall, GOAL_WALL)} |"
            )
    else:
        out.append(
            f"| Whole-library check of {DEFAULT_FILES:,} files on two cores | ≤ {GOAL_WALL * 1000:,.0f} ms "
            f"| not measured ({n} files) | n/a |"
        )
    stages = {j: check.runs[j].stages for j in JOBS}
    work = {j: sum(stages[j].get(s, 0.0) for s in PER_FILE + LIBRARY) for j in JOBS}
    out += [
        "",
        "### Where the time goes",
        "",
        "Medians of `Outcome.stages`. The per-file stages are summed over the files: with two workers they add "
        "up the time spent in both processes, so together they can exceed the wall time. Shares are of the sum "
        "of the stages. The library rules run in the main process once the files are checked. What the stages "
        "leave of the wall time in one process is finding the files, loading the library, suppressions and "
        "sorting; with workers, it also holds starting and feeding them, and it overlaps with their work.",
        "",
        "| Stage | " + " | ".join(f"jobs={j} | Share" for j in JOBS) + " |",
        "| --- | " + " | ".join("---: | ---:" for _ in JOBS) + " |",
    ]
    for stage in PER_FILE + LIBRARY:
        label = f"{stage} (per file, summed)" if stage in PER_FILE else stage
        seconds = {j: stages[j].get(stage, 0.0) for j in JOBS}
        cells = " | ".join(f"{ms(seconds[j])} | {share(seconds[j], work[j])}" for j in JOBS)
        out.append(f"| {label} | {cells} |")
    out += [
        "| sum of the stages | " + " | ".join(f"{ms(work[j])} | 100 %" for j in JOBS) + " |",
        "| wall time (`total (wall)`) | " + " | ".join(f"{ms(stages[j].get(WALL, 0.0))} | " for j in JOBS) + " |",
        f"| wall time less the stages | {ms(stages[1].get(WALL, 0.0) - work[1])} | "
        + "".join(" | n/a (overlaps) | " for _ in JOBS[1:])
        + " |",
        "",
        f"Per file in one process: {ms(stages[1].get(WALL, 0.0) / n)} of wall time; "
        + ", ".join(f"{stage} {ms(stages[1].get(stage, 0.0) / n)}" for stage in PER_FILE)
        + ". "
        f"With jobs={GOAL_JOBS}, the workers took {work[GOAL_JOBS] / work[1]:.2f} times as long for the same "
        "per-file stages as one process did.",
    ]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Read the command line."""
    ap = library_parser(
        "library_check.py",
        __doc__,
        files=DEFAULT_FILES,
        small_files=SMALL_FILES,
        small_reps=SMALL_REPS,
        reps=DEFAULT_REPS,
    )
    ap.add_argument("--cli-runs", type=positive, help="fresh-process runs of each command (default: as --reps)")
    ap.add_argument("--skip-cli", action="store_true", help="leave out the command-line measurement")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write its section of the report."""
    given = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(given)
    count: int = SMALL_FILES if args.small else args.files
    reps: int = args.reps or (SMALL_REPS if args.small else DEFAULT_REPS)
    command = shlex.join(["python", "bench/library_check.py", *given])
    load_start = load_average()
    with tempfile.TemporaryDirectory(prefix="regdsl-bench-") as tmp:
        corpus = replicate(REGIMENS, Path(tmp), count)
        print(f"{corpus.files} files, {corpus.bytes:,} bytes; {reps} runs", file=sys.stderr)
        check = measure_check(corpus, reps)
        cli = None if args.skip_cli else measure_cli(corpus.folder, args.cli_runs or reps)
    section = render(command, corpus, check, cli, (load_start, load_average()))
    return publish(args.out, SECTION, section)


if __name__ == "__main__":
    sys.exit(main())
