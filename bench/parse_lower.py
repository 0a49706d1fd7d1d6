"""Parse-and-lower benchmark: writes ``docs/performance.md``.

Usage::

    python bench/parse_lower.py [--files N] [--small] [--reps R] [--cold-runs K] [--out PATH]

The bundled regimens in ``regimens/`` (every ``*.reg`` but ``library.reg``) are copied,
with ``library.reg``, into a temporary folder until there are N regimen files. Each copy
gets its own regimen id (``<id>-r0007``), and the ids it links to (``continue with``,
``counted with``) are rewritten to the copies of the same round, so every id is unique
and every link resolves. Then, in this one process:

a. ``regdsl.compile.library.check_paths([folder])`` (the real parse-and-lower path),
   with a second, instrumented set of runs splitting it into parse, lowering and the rest,
   and a third with the garbage collector off, to show its share;
b. a bare Lark LALR parse of the same texts: the parser from ``build_parser()`` (same
   grammar, same indenter postlex, no transformer), timing only ``.parse``;
c. the ratio a / b;
d. cold start: ``regdsl check`` on one file as a fresh process, against its floor
   ``python -c "import lark, networkx"``.

Every figure is the median of several repetitions; the report says how many. The report
has no timestamps, so re-running the script regenerates it with the same structure.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import lark

import regdsl.compile.library as library_mod
import regdsl.syntax.parser as parser_mod
from regdsl.compile.library import LIBRARY_FILE, check_paths
from regdsl.compile.lower import lower_regimen
from regdsl.diagnostics import Severity
from regdsl.syntax.parser import build_parser, parse

ROOT = Path(__file__).resolve().parents[1]
REGIMENS = ROOT / "regimens"
DEFAULT_OUT = ROOT / "docs" / "performance.md"
COLD_FILE = "regimens/leu-all-bcell-rr-inotuzumab.reg"
FLOOR_CODE = "import lark, networkx"

DEFAULT_FILES = 1000
SMALL_FILES = 50
DEFAULT_REPS = 7
DEFAULT_COLD_RUNS = 21
GOAL_RATIO = 1.5
GOAL_COLD = 1.3

_ID = r"[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*"
_HEADER = re.compile(rf"^(regimen[ \t]+)({_ID})", re.MULTILINE)
_LINK = re.compile(rf"\b((?:continue|counted)[ \t]+with[ \t]+)({_ID}(?:[ \t]*,[ \t]*{_ID})*)")
_WORD = re.compile(_ID)


# --------------------------------------------------------------------------- corpus


@dataclass(frozen=True, slots=True)
class Template:
    """One bundled regimen file: its name, regimen id and text."""

    stem: str
    regimen_id: str
    text: str


@dataclass(frozen=True, slots=True)
class Corpus:
    """The replicated library: where it is and what is in it."""

    folder: Path
    files: int
    bytes: int
    templates: int
    links: int


def load_templates(folder: Path) -> list[Template]:
    """Read the bundled regimens (not ``library.reg``), in name order."""
    found: list[Template] = []
    for path in sorted(folder.glob("*.reg")):
        if path.name == LIBRARY_FILE:
            continue
        text = path.read_text(encoding="utf-8")
        match = _HEADER.search(text)
        if match is None:
            raise SystemExit(f"{path}: no `regimen ID` line to rewrite")
        found.append(Template(stem=path.stem, regimen_id=match.group(2), text=text))
    if not found:
        raise SystemExit(f"{folder}: no regimen files")
    return found


def copy_id(regimen_id: str, round_no: int) -> str:
    """Return the id of ``regimen_id``'s copy in round ``round_no``."""
    return f"{regimen_id}-r{round_no:04d}"


def rewrite(template: Template, round_no: int, present: Callable[[str, int], bool]) -> tuple[str, int]:
    """Return the copy of ``template`` for ``round_no`` and how many link targets it rewrote.

    A link goes to the same round's copy when that round holds it (the last round may be
    partial), else to round 0's, which always holds every template.
    """
    links = 0

    def target(word: str) -> str:
        nonlocal links
        for round_to in (round_no, 0):
            if present(word, round_to):
                links += 1
                return copy_id(word, round_to)
        return word  # not a bundled regimen: left alone, as the original links it

    def link(match: re.Match[str]) -> str:
        ids = _WORD.sub(lambda w: target(w.group()), match.group(2))
        return match.group(1) + ids

    text = _HEADER.sub(lambda m: m.group(1) + copy_id(m.group(2), round_no), template.text, count=1)
    return _LINK.sub(link, text), links


def replicate(source: Path, folder: Path, count: int) -> Corpus:
    """Fill ``folder`` with ``library.reg`` and ``count`` rewritten regimen copies."""
    templates = load_templates(source)
    if count < len(templates):
        raise SystemExit(f"--files must be at least {len(templates)} (one copy of each bundled regimen)")
    shutil.copyfile(source / LIBRARY_FILE, folder / LIBRARY_FILE)
    plan = [(n // len(templates), templates[n % len(templates)]) for n in range(count)]
    made = {(t.regimen_id, r) for r, t in plan}

    def present(regimen_id: str, round_no: int) -> bool:
        return (regimen_id, round_no) in made

    size = links = 0
    for round_no, template in plan:
        text, linked = rewrite(template, round_no, present)
        data = text.encode("utf-8")
        (folder / f"{copy_id(template.stem, round_no)}.reg").write_bytes(data)
        size += len(data)
        links += linked
    return Corpus(folder=folder, files=count, bytes=size, templates=len(templates), links=links)


# --------------------------------------------------------------------------- timing


def timed(fn: Callable[[], object]) -> float:
    """Run ``fn`` once after a garbage collection; return its wall time in seconds."""
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median(values: Sequence[float]) -> float:
    """Return the median of ``values``."""
    return statistics.median(values)


@dataclass(frozen=True, slots=True)
class Sample:
    """The times, in seconds, of the repetitions of one measurement."""

    times: tuple[float, ...]

    @property
    def median(self) -> float:
        """The median time."""
        return median(self.times)

    @property
    def low(self) -> float:
        """The fastest time."""
        return min(self.times)

    @property
    def high(self) -> float:
        """The slowest time."""
        return max(self.times)


def paired_ratio(top: Sample, bottom: Sample) -> float:
    """Return the median of the ratios of runs made one after the other (load on the machine cancels out)."""
    return median([a / b for a, b in zip(top.times, bottom.times, strict=True)])


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


@contextmanager
def collector_off() -> Iterator[None]:
    """Switch the cyclic garbage collector off for the block."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@dataclass(frozen=True, slots=True)
class Throughput:
    """Medians, in seconds, of the in-process measurements."""

    reps: int
    check: Sample
    lark: Sample
    ratio: float
    split_total: float
    parse: float
    beyond: float
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

    parser = build_parser()
    texts: list[str] = []
    for path in sorted(folder.glob("*.reg")):
        if path.name != LIBRARY_FILE:
            text = path.read_bytes().decode("utf-8")
            texts.append(text if text.endswith("\n") else text + "\n")  # as parse() gives it to lark

    def bare() -> None:
        for text in texts:
            parser.parse(text)
        comments = getattr(parser_mod, "_COMMENTS", None)  # the shared comment collector: parse() resets it
        if comments is not None:
            comments.found = []

    bare()  # warm-up

    check_times: list[float] = []
    lark_times: list[float] = []
    for _ in range(reps):  # interleaved, so drift in the machine touches both alike
        check_times.append(timed(lambda: check_paths([folder])))
        lark_times.append(timed(bare))

    split_totals: list[float] = []
    parts: dict[str, list[float]] = {k: [] for k in ("parse", "beyond", "lower", "other")}
    for _ in range(reps):
        clock = Clock()
        with instrumented(clock):
            total = timed(lambda: check_paths([folder]))
        paired_bare = timed(bare)
        got = clock.seconds
        split_totals.append(total)
        parts["parse"].append(got["parse"])
        parts["beyond"].append(got["parse"] - paired_bare)
        parts["lower"].append(got["lower"])
        parts["other"].append(total - got["parse"] - got["lower"])

    no_gc: list[float] = []
    for _ in range(reps):
        with collector_off():
            no_gc.append(timed(lambda: check_paths([folder])))

    check, lark = Sample(tuple(check_times)), Sample(tuple(lark_times))
    return Throughput(
        reps=reps,
        check=check,
        lark=lark,
        ratio=paired_ratio(check, lark),
        split_total=median(split_totals),
        parse=median(parts["parse"]),
        beyond=median(parts["beyond"]),
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


def regdsl_script() -> Path:
    """Find the ``regdsl`` console script of the Python running this benchmark."""
    beside = Path(sys.executable).parent / "regdsl"
    if beside.is_file():
        return beside
    found = shutil.which("regdsl")
    if found is None:
        raise SystemExit("no `regdsl` command beside this Python or on PATH; install the project first")
    return Path(found)


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def measure_cold_start(runs: int) -> ColdStart:
    """Time ``regdsl check`` on one file as a new process against ``python -c "import lark, networkx"``."""
    script = regdsl_script()
    check = [str(script), "check", COLD_FILE]
    floor = [sys.executable, "-c", FLOOR_CODE]

    with tempfile.TemporaryDirectory(prefix="regdsl-bench-pyc-") as pycache:
        # Bytecode is cached for both commands, as after any install, even where the
        # caller's environment sets PYTHONDONTWRITEBYTECODE; the untimed runs write it.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = pycache

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
    py = _display(Path(sys.executable))
    regdsl, floor_sample = Sample(tuple(check_times)), Sample(tuple(floor_times))
    return ColdStart(
        runs=runs,
        command=f"{_display(script)} check {COLD_FILE}",
        floor_command=f'{py} -c "{FLOOR_CODE}"',
        regdsl=regdsl,
        floor=floor_sample,
        ratio=paired_ratio(regdsl, floor_sample),
    )


# --------------------------------------------------------------------------- the machine


def cpu_model() -> str:
    """Return the CPU model named in ``/proc/cpuinfo``, else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name") and ":" in line:
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def memory() -> str:
    """Return the total memory from ``/proc/meminfo``."""
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / (1 << 20):.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return "unknown"


def cores() -> str:
    """Return the logical CPUs, and how many this process may run on."""
    total = os.cpu_count() or 0
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = total
    return f"{total} logical" + (f" ({usable} usable by this process)" if usable != total else "")


def git_state() -> str:
    """Return the short commit hash, and whether the tree differs from it (this report aside)."""

    def git(*args: str) -> str | None:
        proc = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return proc.stdout if proc.returncode == 0 else None

    head = (git("rev-parse", "--short", "HEAD") or "").strip()
    status = git("status", "--porcelain", "--untracked-files=all")
    if not head or status is None:
        return "unknown (not a git checkout)"
    # Porcelain lines are "XY path" or "XY old -> new"; the path starts at column 3.
    changed = sorted({line[3:].split(" -> ")[-1] for line in status.splitlines() if line[3:]} - {_display(DEFAULT_OUT)})
    if not changed:
        return f"`{head}`, clean working tree"
    listed = ", ".join(f"`{p}`" for p in changed[:8]) + (f" and {len(changed) - 8} more" if len(changed) > 8 else "")
    return f"`{head}`, **dirty** working tree ({len(changed)} changed: {listed})"


def package_version(name: str) -> str:
    """Return the installed version of ``name``, or ``not installed``."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


# --------------------------------------------------------------------------- the report


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def _rate(count: float, seconds: float) -> str:
    return f"{count / seconds:,.0f}" if seconds > 0 else "n/a"


def _mb_rate(size: int, seconds: float) -> str:
    return f"{size / 1e6 / seconds:,.2f}" if seconds > 0 else "n/a"


def _share(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f} %" if whole > 0 else "n/a"


def _met(value: float, goal: float) -> str:
    return "yes" if value <= goal else "**no**"


def _range(sample: Sample) -> str:
    return f"{sample.low * 1000:,.1f} to {sample.high * 1000:,.1f} ms"


def render(command: str, corpus: Corpus, tp: Throughput, cold: ColdStart | None, load: tuple[str, str]) -> str:
    """Return the Markdown report."""
    n, size = corpus.files, corpus.bytes
    check, bare = tp.check.median, tp.lark.median
    out: list[str] = [
        "# Performance: parsing and lowering",
        "",
        "Generated by `bench/parse_lower.py`; do not edit by hand. Re-run the command below to regenerate it.",
        "",
        "## How it was run",
        "",
        f"- Command: `{command}`",
        f"- Commit: {git_state()}",
        f"- CPU: {cpu_model()}; cores: {cores()}; memory: {memory()}",
        f"- Load average (1 min) when the run started: {load[0]}; when it ended: {load[1]}",
        f"- Python {platform.python_version()} ({platform.python_implementation()}, {platform.system()}); "
        f"lark {lark.__version__}; networkx {package_version('networkx')}",
        f"- Workload: {n} regimen files, {size:,} bytes ({size / 1e6:.2f} MB; 1 MB = 10^6 bytes), "
        f"copied from the {corpus.templates} bundled regimens in `regimens/` with `library.reg`. "
        "Every copy has its own regimen id, and its links (`continue with`, `counted with`; "
        f"{corpus.links} targets in all) name copies that exist.",
        f"- The workload checks with {tp.errors} errors, {tp.warnings} warnings and {tp.notes} notes.",
        f"- In-process figures: medians of {tp.reps} repetitions in one process, after one warm-up run; "
        "(a) and (b) alternate, and the garbage collector runs before each. "
        "Ratios are medians of the ratios of runs made one after the other.",
    ]
    if cold is not None:
        out.append(
            f"- Cold start: medians of {cold.runs} fresh processes of each command, alternating, after one untimed "
            "run of each, which leaves the grammar cache and the bytecode cache (`PYTHONPYCACHEPREFIX`, "
            "a temporary folder) warm."
        )
    out += [
        "",
        "## Results",
        "",
        "| Measure | Median | Range | Files/s | MB/s |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| (a) parse + lower: `check_paths([folder])` | {_ms(check)} | {_range(tp.check)} | {_rate(n, check)} "
        f"| {_mb_rate(size, check)} |",
        f"| (b) bare Lark LALR parse: `build_parser().parse(text)` | {_ms(bare)} | {_range(tp.lark)} "
        f"| {_rate(n, bare)} | {_mb_rate(size, bare)} |",
        f"| (c) ratio a / b | {tp.ratio:.2f} | | | |",
    ]
    if cold is not None:
        out += [
            f"| (d) cold start: `{cold.command}` | {_ms(cold.regdsl.median)} | {_range(cold.regdsl)} | | |",
            f"| (d) floor: `{cold.floor_command}` | {_ms(cold.floor.median)} | {_range(cold.floor)} | | |",
            f"| (d) ratio cold start / floor | {cold.ratio:.2f} | | | |",
        ]
    else:
        out.append("| (d) cold start | not measured (`--skip-cold-start`) | | | |")
    out += [
        "",
        "## Goals",
        "",
        "| Goal | Target | Measured | Met |",
        "| --- | ---: | ---: | :---: |",
        f"| Parse + lower against the bare Lark parse (a / b) | ≤ {GOAL_RATIO} | {tp.ratio:.2f} "
        f"| {_met(tp.ratio, GOAL_RATIO)} |",
    ]
    if cold is not None:
        out.append(
            f"| Cold start against `import lark, networkx` (d) | ≤ {GOAL_COLD} | {cold.ratio:.2f} "
            f"| {_met(cold.ratio, GOAL_COLD)} |"
        )
    else:
        out.append(f"| Cold start against `import lark, networkx` (d) | ≤ {GOAL_COLD} | not measured | n/a |")
    out += [
        "",
        "## Where the time of (a) goes",
        "",
        f"Two more sets of {tp.reps} runs of `check_paths`. One times each call of `parse` and `lower_regimen` "
        "in place, each run followed by a bare parse as in (b); shares are of this set's own total, which differs "
        "from (a) by the instrumentation and by noise. The other runs with the garbage collector off (not the "
        "real path; it shows the collector's share).",
        "",
        "| Stage | Time | Share |",
        "| --- | ---: | ---: |",
        f"| `check_paths`, instrumented | {_ms(tp.split_total)} | 100 % |",
        f"| parse: `regdsl.syntax.parser.parse` | {_ms(tp.parse)} | {_share(tp.parse, tp.split_total)} |",
        f"| - as long as the bare Lark parse run after it | {_ms(tp.parse - tp.beyond)} "
        f"| {_share(tp.parse - tp.beyond, tp.split_total)} |",
        f"| - beyond that: building the AST, spans, nesting and comments | {_ms(tp.beyond)} "
        f"| {_share(tp.beyond, tp.split_total)} |",
        f"| lowering: `lower_regimen` | {_ms(tp.lower)} | {_share(tp.lower, tp.split_total)} |",
        "| other: finding, reading and decoding files, the library and its id scan, duplicate ids, "
        f"collector pauses between the timed calls | {_ms(tp.other)} | {_share(tp.other, tp.split_total)} |",
        "",
        "| Diagnostic run | Median | Against (a) | Against (b) |",
        "| --- | ---: | ---: | ---: |",
        f"| `check_paths` with the garbage collector off | {_ms(tp.check_no_gc)} "
        f"| {tp.check_no_gc / check:.2f} | {tp.check_no_gc / bare:.2f} |",
    ]
    return "\n".join(out) + "\n"


def load_average() -> str:
    """Return the 1-minute load average, or ``unknown``."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"


# --------------------------------------------------------------------------- main


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Read the command line."""
    ap = argparse.ArgumentParser(prog="bench/parse_lower.py", description=__doc__.split("\n")[0] if __doc__ else "")
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--files", type=_positive, default=DEFAULT_FILES, help=f"regimen files (default {DEFAULT_FILES})")
    size.add_argument("--small", action="store_true", help=f"{SMALL_FILES} files, for CI")
    ap.add_argument("--reps", type=_positive, default=DEFAULT_REPS, help=f"in-process repetitions ({DEFAULT_REPS})")
    ap.add_argument(
        "--cold-runs", type=_positive, default=DEFAULT_COLD_RUNS, help=f"cold-start runs each ({DEFAULT_COLD_RUNS})"
    )
    ap.add_argument("--skip-cold-start", action="store_true", help="leave out the cold-start measurement")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the report")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write the report."""
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
    report = render(command, corpus, throughput, cold, (load_start, load_average()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    sys.stdout.write(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
