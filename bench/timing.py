"""Timing-network benchmark: writes its section of ``docs/performance.md``.

Usage::

    python bench/timing.py [--sizes 100,1000,10000,100000] [--small] [--reps R] [--budget S] [--out PATH]

For each size, a synthetic regimen is written as ``.reg`` text and lowered through the
real path (``regdsl.compile.library.lower_file``), with a timing network of about that many
points. Its cycle groups rotate through six cycle templates (different medicines, cycle
lengths and extensions, shift windows, minimum gaps, premedication relations to a medicine
or to "chemotherapy", observations, exact durations, daily oral doses) and through a list
of group sizes, so that most cycles have a neighbourhood shape of their own and the
per-shape memo of ``windows()`` does not make the large networks cheap. A last cycle holds
a premedication timed against PACLItaxel; in the inconsistent twin of each regimen, that
premedication is also timed "8 hours after" PACLItaxel: a conflict planted at the end.

Measured separately, in this one process: ``build_network`` (from the lowered regimen),
``find_conflict`` and ``windows`` on the consistent network, and ``find_conflict`` on the
inconsistent one. Each figure is a median of several runs; runs shorter than 20 ms are timed
in batches. A run longer than ``--budget`` seconds is stopped and reported as such.
Only the section between ``<!-- bench:timing -->`` and ``<!-- /bench:timing -->`` is
rewritten (see ``bench/benchlib.py``).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import math
import pstats
import shlex
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from benchlib import (
    Sample,
    autorange,
    batch,
    load_average,
    machine_lines,
    met,
    new_parser,
    positive,
    publish,
)

from regdsl.compile.library import Library, load_library, lower_file
from regdsl.compile.stn import TimingNetwork, build_network, find_conflict, paused_gc, windows
from regdsl.diagnostics import Severity
from regdsl.model import ir
from regdsl.model.limits import CYCLE_NUMBERS

SECTION = "timing"
DEFAULT_SIZES = (100, 1_000, 10_000, 100_000)
SMALL_SIZES = (100, 1_000)
DEFAULT_REPS = 7
SMALL_REPS = 3
SLOW_RUN = 2.0  # seconds: a measurement whose first run takes longer gets at most SLOW_REPS runs
SLOW_REPS = 3
DEFAULT_BUDGET = 60.0  # seconds: one run longer than this is stopped
BATCH = 0.02  # seconds: shorter runs are timed in batches at least this long
GOAL_POINTS = 100_000
GOAL_SOLVE = 0.5  # seconds of search + windows at GOAL_POINTS
GOAL_EXPONENT = 1.1  # growth over the last tenfold step: time ~ points ** exponent
PROFILE_TOP = 5


# --------------------------------------------------------------------------- the synthetic regimens


@dataclass(frozen=True, slots=True)
class CycleTemplate:
    """One kind of cycle: its heading's length and extension, its lines, and what it exercises."""

    name: str
    length: int
    extend_to: int | None
    lines: tuple[str, ...]
    exercises: str


TEMPLATES: tuple[CycleTemplate, ...] = (
    CycleTemplate(
        "weekly PACLItaxel",
        21,
        None,
        (
            "dexamethasone 8 mg oral days 1, 8, 15 60 min before PACLItaxel supportive",
            "loratadine 10 mg oral days 1, 8, 15 30 to 60 min before PACLItaxel supportive",
            "PACLItaxel 80 mg/m2 IV day 1 over 60 min",
            "PACLItaxel 80 mg/m2 IV days 8, 15 ± 1 day over 60 min",
            "PACLItaxel doses at least 6 days apart",
            "observe 30 min after PACLItaxel",
        ),
        "premedications timed to a medicine, a shift window, a minimum gap (also across cycles), an observation",
    ),
    CycleTemplate(
        "cISplatin and gemcitabine",
        21,
        28,
        (
            "ondansetron 8 mg oral days 1, 8 30 min before chemotherapy supportive",
            "dexamethasone 8 mg oral days 1 to 3 supportive",
            "cISplatin 75 mg/m2 IV day 1 over 60 min",
            "gemcitabine 1250 mg/m2 IV day 1 over 30 min after cISplatin",
            "gemcitabine 1250 mg/m2 IV day 8 ± 2 days over 30 min",
            "gemcitabine doses at least 6 days apart",
            "metoclopramide 10 mg oral day 1 8 hours after chemotherapy supportive",
        ),
        "an extendable cycle, relations to chemotherapy (before and after), an order without an amount, "
        "a shift window, a minimum gap",
    ),
    CycleTemplate(
        "oxaliplatin and fluorouracil",
        14,
        None,
        (
            "ondansetron 8 mg IV day 1 over 15 min 30 min before chemotherapy supportive",
            "dexamethasone 8 mg IV day 1 over 15 min 30 to 45 min before chemotherapy supportive",
            "oxaliplatin 85 mg/m2 IV day 1 over 2 hours",
            "famotidine 20 mg IV day 1 over 15 min 10 min after start of oxaliplatin supportive",
            "fluorouracil 2400 mg/m2 IV day 1 over exactly 46 h after oxaliplatin",
            "dexamethasone 4 mg oral days 2, 3 supportive",
        ),
        "an exact 46-hour infusion that runs into day 3, `after start of`, a short cycle",
    ),
    CycleTemplate(
        "riTUXimab and CHOP",
        21,
        None,
        (
            "paracetamol 1000 mg oral day 1 30 to 60 min before riTUXimab supportive",
            "loratadine 10 mg oral day 1 30 to 60 min before riTUXimab supportive",
            "riTUXimab 375 mg/m2 IV day 1 over 4 hours",
            "observe 60 min after riTUXimab",
            "cyclophosphamide 750 mg/m2 IV day 1 over 60 min after riTUXimab",
            "DOXOrubicin 50 mg/m2 IV day 1 over 15 min after cyclophosphamide",
            "vinCRIStine 1.4 mg/m2 IV day 1 max 2 mg over 10 min after DOXOrubicin",
            "prEDNISone 100 mg oral days 1 to 5 anticancer",
        ),
        "a chain of four infusions one after the other, premedications, an observation, daily oral doses",
    ),
    CycleTemplate(
        "DAUNOrubicin and cytarabine",
        28,
        35,
        (
            "ondansetron 8 mg oral days 1 to 3 30 min before DAUNOrubicin supportive",
            "DAUNOrubicin 60 mg/m2 IV days 1 to 3 over 30 min",
            "cytarabine 100 mg/m2 IV days 1 to 7 over exactly 24 hours",
            "cytarabine doses at least 1 day apart",
            "observe 15 min after DAUNOrubicin",
        ),
        "seven exact 24-hour infusions a day apart, a premedication on three days, an extendable cycle",
    ),
    CycleTemplate(
        "abiraterone",
        28,
        None,
        (
            "abiraterone 4 tablets oral once daily days 1 to 28",
            "dexamethasone 0.5 mg oral once daily days 1 to 28 supportive",
        ),
        "56 oral doses a cycle, each an instant: many points, few relations",
    ),
)

# Cycles per group, in turn: a group of one cycle is one neighbourhood shape, a group of
# two is two, a longer group three (its first, its middle cycles and its last).
GROUP_SIZES = (1, 2, 3, 1, 4, 2, 6)
# For comparison at the largest size: long groups, so few shapes and the memo does most of the work.
LONG_GROUPS = (60,)

FINAL_LINES = (
    "PACLItaxel 175 mg/m2 IV day 1 over 3 hours",
    "dexamethasone 8 mg oral day 1 30 min before PACLItaxel supportive",
)
CONFLICT_LINES = (
    "PACLItaxel 175 mg/m2 IV day 1 over 3 hours",
    "dexamethasone 8 mg oral day 1 30 min before PACLItaxel 8 hours after PACLItaxel supportive",
)
FINAL_LENGTH = 21


def heading(first: int, count: int, length: int, extend_to: int | None) -> str:
    """Return a cycle heading: ``cycle 3: 21 days`` or ``cycles 4 to 6: 28 days, may extend to 35 days``."""
    which = f"cycle {first}" if count == 1 else f"cycles {first} to {first + count - 1}"
    return f"{which}: {length} days" + (f", may extend to {extend_to} days" if extend_to else "")


def regimen_text(regimen_id: str, groups: Sequence[tuple[CycleTemplate, int]], *, conflict: bool) -> str:
    """Return the ``.reg`` text of a regimen with ``groups`` and a last cycle (with the conflict or not).

    Cycle numbers stay within ``limits.CYCLE_NUMBERS``: a regimen of more cycles is written in
    parts, each numbering its cycles from 1 (a new part starts where a group would pass the limit).
    """
    out = [
        f"regimen {regimen_id}",
        '  name "BENCH synthetic regimen for the timing-network benchmark"',
        "  status draft",
        "",
    ]
    cycles = [*groups, (None, 1)]
    parted = sum(count for _template, count in cycles) > CYCLE_NUMBERS.value
    indent = "  " if parted else ""
    number, part = 1, 0
    for template, count in cycles:
        if parted and (part == 0 or number + count - 1 > CYCLE_NUMBERS.value):
            part += 1
            number = 1
            out.append(f'part {part} "cycles of part {part}"')
        if template is None:
            out.append(indent + heading(number, 1, FINAL_LENGTH, None))
            lines = CONFLICT_LINES if conflict else FINAL_LINES
        else:
            out.append(indent + heading(number, count, template.length, template.extend_to))
            lines = template.lines
        out.extend(f"{indent}  {line}" for line in lines)
        out.append("")
        number += count
    return "\n".join(out).rstrip("\n") + "\n"


def lower_text(folder: Path, library: Library, regimen_id: str, text: str) -> ir.Regimen:
    """Write ``text`` to ``folder`` and lower it with ``lower_file``; refuse any error."""
    path = folder / f"{regimen_id}.reg"
    path.write_text(text, encoding="utf-8")
    unit = lower_file(path, library)
    errors = [d for d in unit.diagnostics if d.level is Severity.ERROR]
    if errors or unit.regimen is None:
        shown = "\n".join(f"{d.code} {d.message}" for d in errors[:5])
        raise SystemExit(f"the synthetic regimen {regimen_id} does not lower cleanly:\n{shown}")
    return unit.regimen


def calibrate(folder: Path, library: Library) -> tuple[dict[str, int], int]:
    """Return the points of one cycle of each template, and of the last cycle (its start included)."""
    per_cycle: dict[str, int] = {}
    for n, template in enumerate(TEMPLATES):
        text = regimen_text(f"bench-calibrate-{n}", [(template, 1)], conflict=False)
        both = len(build_network(lower_text(folder, library, f"bench-calibrate-{n}", text)))
        per_cycle[template.name] = both
    alone = regimen_text("bench-calibrate-final", [], conflict=False)
    final = len(build_network(lower_text(folder, library, "bench-calibrate-final", alone)))
    return {name: both - final for name, both in per_cycle.items()}, final


def plan_groups(
    target: int, per_cycle: dict[str, int], final: int, sizes: Sequence[int] = GROUP_SIZES
) -> list[tuple[CycleTemplate, int]]:
    """Return the cycle groups whose network comes closest to ``target`` points (the last cycle included).

    Groups take the templates in turn, and their numbers of cycles from ``sizes`` in turn.
    """
    groups: list[tuple[CycleTemplate, int]] = []
    total = final
    turn = 0
    while True:
        template = TEMPLATES[turn % len(TEMPLATES)]
        wanted = sizes[turn % len(sizes)]
        count = 0
        while count < wanted:
            step = per_cycle[template.name]
            if total + step - target > target - total:  # one more cycle overshoots more than it falls short
                break
            total += step
            count += 1
        if count:
            groups.append((template, count))
        if count < wanted:
            break
        turn += 1
    return groups or [(TEMPLATES[0], 1)]


@dataclass(frozen=True, slots=True)
class Workload:
    """One size: its consistent and inconsistent regimens and what their networks hold."""

    target: int
    regimen: ir.Regimen
    conflicting: ir.Regimen
    bytes: int
    groups: int
    points: int
    constraints: int
    arcs: int
    cycles: int
    shapes: int
    conflict_points: int
    conflict_constraints: int


def _constraints(net: TimingNetwork) -> int:
    return len(net.edges)


def make_workload(
    folder: Path,
    library: Library,
    target: int,
    per_cycle: dict[str, int],
    final: int,
    sizes: Sequence[int] = GROUP_SIZES,
) -> Workload:
    """Write, lower and describe the two regimens of one size."""
    groups = plan_groups(target, per_cycle, final, sizes)
    text = regimen_text(f"bench-timing-{target}", groups, conflict=False)
    bad = regimen_text(f"bench-timing-{target}-conflict", groups, conflict=True)
    regimen = lower_text(folder, library, f"bench-timing-{target}", text)
    conflicting = lower_text(folder, library, f"bench-timing-{target}-conflict", bad)
    net, bad_net = build_network(regimen), build_network(conflicting)
    expected = final + sum(per_cycle[t.name] * count for t, count in groups)
    if len(net) != expected:
        raise SystemExit(f"size {target}: expected {expected} points, the network has {len(net)}")
    return Workload(
        target=target,
        regimen=regimen,
        conflicting=conflicting,
        bytes=len(text.encode("utf-8")),
        groups=len(groups) + 1,
        points=len(net),
        constraints=_constraints(net),
        arcs=sum(len(out) for out in net.arcs),
        cycles=len(net.cycles),
        shapes=len(set(net.shapes)),
        conflict_points=len(bad_net),
        conflict_constraints=_constraints(bad_net),
    )


# --------------------------------------------------------------------------- timing


class Overtime(Exception):
    """A run went over its budget."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise ``Overtime`` in the block once ``seconds`` of wall time have passed (Unix only)."""

    def alarm(_signum: int, _frame: FrameType | None) -> None:
        raise Overtime

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass(frozen=True, slots=True)
class Measured:
    """One measurement: its runs (seconds each), how many calls a batch made, or that it was stopped."""

    sample: Sample | None
    calls: int
    stopped_after: float | None = None

    @property
    def median(self) -> float | None:
        """The median run, or None when stopped."""
        return self.sample.median if self.sample is not None else None


def measure(fn: Callable[[], object], reps: int, budget: float) -> Measured:
    """Time ``fn``: one untimed run (stopped past ``budget``), then ``reps`` runs, batched when short."""
    gc.collect()
    start = time.perf_counter()
    try:
        with time_limit(budget):
            fn()
    except Overtime:
        return Measured(sample=None, calls=0, stopped_after=time.perf_counter() - start)
    first = time.perf_counter() - start
    calls = 1 if first >= BATCH else autorange(fn, BATCH)
    runs = min(reps, SLOW_REPS) if first >= SLOW_RUN else reps
    times: list[float] = []
    for _ in range(runs):
        try:
            with time_limit(budget * calls):
                times.append(batch(fn, calls))
        except Overtime:
            return Measured(sample=None, calls=calls, stopped_after=budget)
    return Measured(sample=Sample(tuple(times)), calls=calls)


@dataclass(frozen=True, slots=True)
class Result:
    """The measurements of one size."""

    work: Workload
    build: Measured
    build_no_gc: Measured
    search: Measured
    windows: Measured
    conflict: Measured
    conflict_found: str


def afresh(net: TimingNetwork) -> TimingNetwork:
    """Return ``net`` with no search steps counted: each measured run is one check's search, within its budget."""
    net.steps = 0
    return net


def run_size(work: Workload, reps: int, budget: float) -> Result:
    """Measure one size."""
    regimen, conflicting = work.regimen, work.conflicting
    net = build_network(regimen)
    if find_conflict(net) is not None:
        raise SystemExit(f"size {work.target}: the consistent network has a conflict")
    build = measure(lambda: build_network(regimen), reps, budget)
    with paused_gc():
        build_no_gc = measure(lambda: build_network(regimen), reps, budget)
    search = measure(lambda: find_conflict(afresh(net)), reps, budget)
    solved = measure(lambda: windows(afresh(net)), reps, budget)
    bad_net = build_network(conflicting)
    conflict = measure(lambda: find_conflict(afresh(bad_net)), reps, budget)
    found = "not found in time"
    if conflict.sample is not None:
        got = find_conflict(afresh(bad_net))
        if got is None:
            raise SystemExit(f"size {work.target}: the planted conflict was not found")
        found = (
            f"{len(got.constraints)} constraints, needing {got.needed} min where {got.allowed} min are allowed: "
            + ", ".join(f"`{c.what}`" for c in got.constraints)
        )
    return Result(work, build, build_no_gc, search, solved, conflict, found)


# --------------------------------------------------------------------------- profile


@dataclass(frozen=True, slots=True)
class Hot:
    """One function of a profile: where it is, its own time and its share of the profiled total."""

    where: str
    calls: int
    own: float
    share: float


def profile(fn: Callable[[], object]) -> tuple[float, list[Hot]]:
    """Profile one call of ``fn``; return the profiled total and the functions with the most own time."""
    profiler = cProfile.Profile()
    gc.collect()
    profiler.enable()
    fn()
    profiler.disable()
    stats = pstats.Stats(profiler)
    rows: list[Hot] = []
    total = 0.0
    table = stats.stats  # type: ignore[attr-defined]
    for (path, line, name), (_prim, calls, own, _cum, _callers) in table.items():
        total += own
        short = Path(path).name if path != "~" else ""
        where = f"`{short}:{line} {name}`" if short else f"`{name}`"
        rows.append(Hot(where, calls, own, 0.0))
    rows.sort(key=lambda h: h.own, reverse=True)
    return total, [Hot(h.where, h.calls, h.own, h.own / total if total else 0.0) for h in rows[:PROFILE_TOP]]


# --------------------------------------------------------------------------- the report


def _t(m: Measured) -> str:
    if m.median is None:
        return f"stopped after {m.stopped_after or 0:,.0f} s"
    return _time(m.median)


def _time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:,.2f} s"
    if seconds >= 0.001:
        return f"{seconds * 1000:,.1f} ms"
    return f"{seconds * 1e6:,.0f} µs"


def _per_point(seconds: float | None, points: int) -> str:
    return f"{seconds / points * 1e6:,.2f}" if seconds is not None and points else "n/a"


def _exponent(t0: float | None, t1: float | None, n0: int, n1: int) -> float | None:
    if t0 is None or t1 is None or t0 <= 0 or t1 <= 0 or n1 <= n0:
        return None
    return math.log(t1 / t0) / math.log(n1 / n0)


def _sizes(results: Sequence[Result]) -> str:
    return ", ".join(f"{r.work.points:,}" for r in results)


def render(
    command: str,
    results: Sequence[Result],
    per_cycle: dict[str, int],
    hot: dict[str, tuple[float, list[Hot]]],
    long_groups: tuple[Workload, Measured],
    reps: int,
    budget: float,
    load: tuple[str, str],
) -> str:
    """Return this script's section of the report (Markdown, without its markers)."""
    out: list[str] = [
        "## Timing networks",
        "",
        "Written by `bench/timing.py`. Re-run the command below to regenerate this section.",
        "",
        "### How it was run",
        "",
        *machine_lines(command, load),
        f"- Workload: one synthetic regimen per size (targets {', '.join(f'{r.work.target:,}' for r in results)} "
        "points), written as `.reg` text and lowered by `regdsl.compile.library.lower_file`; the timing network "
        "is built from the lowered regimen. Its cycle groups take the cycle templates below in turn, with "
        f"{', '.join(map(str, GROUP_SIZES))} cycles per group in turn, and a last cycle of PACLItaxel with a "
        f"premedication 30 min before it. A regimen of more than {CYCLE_NUMBERS.value:,} cycles (the limit of a "
        "cycle number) is written in parts, each numbering its cycles from 1. The inconsistent twin of each "
        'regimen has the same cycles, but its premedication is also timed "8 hours after PACLItaxel": a conflict '
        "planted at the end of the network.",
        f"- Every figure is the median of {reps} runs in this one process (of {SLOW_REPS} where the untimed first "
        f"run took over {SLOW_RUN:.0f} s), each after a garbage collection, with the collector on as in a check. "
        f"Runs shorter than {BATCH * 1000:.0f} ms are timed in batches: one run is the mean of a batch lasting "
        f"{BATCH * 1000:.0f} ms or more. A run over {budget:,.0f} s is stopped.",
        "- Build: `build_network(regimen)`. Search: `find_conflict(network)`, a search for a negative cycle from "
        "each part's first cycle start in turn, in passes: first in the order the points were improved (a FIFO "
        "queue), then in Goldberg-Radzik order (the order of the arcs that improve them). Windows: "
        "`windows(network)`, every point's feasible window, solving each neighbourhood shape once (a cycle's "
        "shape: its group and the groups of the cycles before and after it, and whether the next cycle ends "
        "its part).",
        "",
        "### The synthetic cycles",
        "",
        "| Cycle template | Length | Points a cycle | What it exercises |",
        "| --- | --- | ---: | --- |",
    ]
    for template in TEMPLATES:
        length = f"{template.length} days" + (f", to {template.extend_to}" if template.extend_to else "")
        out.append(f"| {template.name} | {length} | {per_cycle[template.name]} | {template.exercises} |")
    out += [
        "",
        "### Results: consistent networks",
        "",
        "Constraints are the source constraints between pairs of points; arcs are the edges of the distance graph "
        "(two for a constraint with both bounds). Shapes are the distinct neighbourhood shapes, each solved once "
        "by `windows`.",
        "",
        "| Target | Points | Constraints | Arcs | Cycles | Groups | Shapes | `.reg` bytes | Build | Search | Windows "
        "| Search + windows |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        w = r.work
        solve = _solve(r)
        out.append(
            f"| {w.target:,} | {w.points:,} | {w.constraints:,} | {w.arcs:,} | {w.cycles:,} | {w.groups:,} "
            f"| {w.shapes:,} | {w.bytes:,} | {_t(r.build)} | {_t(r.search)} | {_t(r.windows)} "
            f"| {_time(solve) if solve is not None else 'n/a'} |"
        )
    out += [
        "",
        "### Growth",
        "",
        "Time per point, and against the previous size: how many times the points and the time grew, and the "
        "exponent k of time ~ points^k over that step (1: linear; 2: quadratic).",
        "",
        "| Measure | Points | Time | µs per point | × points | × time | k |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, pick in _MEASURES:
        previous: tuple[int, float | None] | None = None
        for r in results:
            m = pick(r)
            n = r.work.conflict_points if label.startswith("search finding") else r.work.points
            grow = points_x = k_text = ""
            if previous is not None:
                n0, t0 = previous
                points_x = f"{n / n0:,.1f}"
                if t0 is not None and m.median is not None:
                    grow = f"{m.median / t0:,.1f}"
                    k = _exponent(t0, m.median, n0, n)
                    k_text = f"{k:.2f}" if k is not None else ""
                elif t0 is not None and m.stopped_after is not None:
                    grow = f"> {m.stopped_after / t0:,.0f}"
                    k = _exponent(t0, m.stopped_after, n0, n)
                    k_text = f"> {k:.2f}" if k is not None else ""
            out.append(f"| {label} | {n:,} | {_t(m)} | {_per_point(m.median, n)} | {points_x} | {grow} | {k_text} |")
            previous = (n, m.median)
    out += [
        "",
        "### Inconsistent networks: finding the planted conflict",
        "",
        "| Target | Points | Constraints | Search | µs per point | Conflict found |",
        "| ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        w = r.work
        out.append(
            f"| {w.target:,} | {w.conflict_points:,} | {w.conflict_constraints:,} | {_t(r.conflict)} "
            f"| {_per_point(r.conflict.median, w.conflict_points)} | {r.conflict_found} |"
        )
    out += ["", "### Goals", "", "| Goal | Target | Measured | Met |", "| --- | ---: | ---: | :---: |"]
    largest = results[-1]
    solve = _solve(largest)
    if largest.work.points >= GOAL_POINTS * 0.9 and solve is not None:
        out.append(
            f"| Search + windows of a consistent network of {GOAL_POINTS:,} points "
            f"(measured at {largest.work.points:,}) | ≤ {GOAL_SOLVE * 1000:,.0f} ms | {_time(solve)} "
            f"| {met(solve, GOAL_SOLVE)} |"
        )
    else:
        out.append(
            f"| Search + windows of a consistent network of {GOAL_POINTS:,} points | ≤ {GOAL_SOLVE * 1000:,.0f} ms "
            f"| not measured (largest size {largest.work.points:,} points) | n/a |"
        )
    if len(results) >= 2:
        before = results[-2]
        for label, pick in _MEASURES:
            conflict = label.startswith("search finding")
            n0 = before.work.conflict_points if conflict else before.work.points
            n1 = largest.work.conflict_points if conflict else largest.work.points
            m0, m1 = pick(before), pick(largest)
            t1 = m1.median if m1.median is not None else m1.stopped_after
            k = _exponent(m0.median, t1, n0, n1)
            if k is None:
                shown, verdict = "n/a", "n/a"
            elif m1.median is None:
                shown, verdict = f"> {k:.2f} (stopped)", "**no**"
            else:
                shown, verdict = f"{k:.2f}", met(k, GOAL_EXPONENT)
            out.append(
                f"| Linear growth of {label}, from {n0:,} to {n1:,} points | k ≤ {GOAL_EXPONENT} | {shown} "
                f"| {verdict} |"
            )
    out += [
        "",
        f"k ≤ {GOAL_EXPONENT} over a tenfold step means the time per point grows by at most "
        f"{(10 ** (GOAL_EXPONENT - 1) - 1) * 100:.0f} %.",
        "",
        f"### Where the time goes at {largest.work.points:,} points",
        "",
        "One run of each under `cProfile`, which slows Python functions down unevenly: the shares say where the "
        "time goes, not how long it takes. Own time: time in the function itself, not in the functions it calls; "
        "a pause of the garbage collector counts to the function whose allocation set it off.",
        "",
        "| Measure | Profiled total | Function | Calls | Own time | Share |",
        "| --- | ---: | --- | ---: | ---: | ---: |",
    ]
    for label, (total, rows) in hot.items():
        for i, h in enumerate(rows):
            first = f"{label} | {_time(total)}" if i == 0 else " | "
            out.append(f"| {first} | {h.where} | {h.calls:,} | {_time(h.own)} | {h.share * 100:.0f} % |")
    few, few_windows = long_groups
    if few_windows.median is not None and largest.windows.median is not None and largest.work.shapes > few.shapes:
        per_shape = (largest.windows.median - few_windows.median) / (largest.work.shapes - few.shapes)
        out += [
            "",
            f"Windows and the memo: the same cycle templates in groups of {', '.join(map(str, LONG_GROUPS))} cycles "
            f"give {few.points:,} points in {few.cycles:,} cycles with {few.shapes:,} shapes, whose windows take "
            f"{_time(few_windows.median)} (median of {len(few_windows.sample.times) if few_windows.sample else 0} "
            f"runs): close to the part of `windows` that does not depend on the shapes. The "
            f"{largest.work.shapes - few.shapes:,} more shapes of the network above add "
            f"{_time(largest.windows.median - few_windows.median)}, about {_time(per_shape)} a shape.",
        ]
    b = largest.build
    nb = largest.build_no_gc
    if b.median is not None and nb.median is not None:
        out += [
            "",
            f"Build with the garbage collector off (not the real path; it shows the collector's share): "
            f"{_time(nb.median)}, against {_time(b.median)} with it on "
            f"({(1 - nb.median / b.median) * 100:.0f} % of the build goes to the collector).",
        ]
    return "\n".join(out) + "\n"


def _solve(r: Result) -> float | None:
    if r.search.median is None or r.windows.median is None:
        return None
    return r.search.median + r.windows.median


_MEASURES: tuple[tuple[str, Callable[[Result], Measured]], ...] = (
    ("build", lambda r: r.build),
    ("search (consistent)", lambda r: r.search),
    ("windows", lambda r: r.windows),
    ("search finding a conflict", lambda r: r.conflict),
)

# --------------------------------------------------------------------------- main


def _size_list(text: str) -> tuple[int, ...]:
    sizes = tuple(positive(part.strip()) for part in text.split(",") if part.strip())
    if not sizes or list(sizes) != sorted(set(sizes)):
        raise argparse.ArgumentTypeError("give increasing sizes, such as 100,1000")
    return sizes


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Read the command line."""
    ap, size = new_parser("timing.py", __doc__)
    size.add_argument(
        "--sizes",
        type=_size_list,
        default=DEFAULT_SIZES,
        help=f"points of the networks, increasing (default {','.join(map(str, DEFAULT_SIZES))})",
    )
    size.add_argument(
        "--small",
        action="store_true",
        help=f"sizes {','.join(map(str, SMALL_SIZES))} and {SMALL_REPS} runs, for CI",
    )
    ap.add_argument("--reps", type=positive, help=f"runs of each measurement (default {DEFAULT_REPS})")
    ap.add_argument(
        "--budget", type=float, default=DEFAULT_BUDGET, help=f"seconds after which a run stops ({DEFAULT_BUDGET:.0f})"
    )
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write its section of the report."""
    given = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(given)
    sizes: tuple[int, ...] = SMALL_SIZES if args.small else args.sizes
    reps: int = args.reps or (SMALL_REPS if args.small else DEFAULT_REPS)
    command = shlex.join(["python", "bench/timing.py", *given])
    load_start = load_average()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="regdsl-bench-timing-") as tmp:
        folder = Path(tmp)
        library = load_library(folder)
        per_cycle, final = calibrate(folder, library)
        for target in sizes:
            work = make_workload(folder, library, target, per_cycle, final)
            print(f"{work.points:,} points, {work.shapes:,} shapes of {work.cycles:,} cycles", file=sys.stderr)
            results.append(run_size(work, reps, args.budget))
        largest = results[-1].work
        few = make_workload(folder, library, largest.target, per_cycle, final, LONG_GROUPS)
        few_net = build_network(few.regimen)
        few_windows = measure(lambda: windows(afresh(few_net)), reps, args.budget)
    net = build_network(largest.regimen)
    hot = {
        "build": profile(lambda: build_network(largest.regimen)),
        "search (consistent)": profile(lambda: find_conflict(afresh(net))),
        "windows": profile(lambda: windows(afresh(net))),
    }
    load = (load_start, load_average())
    section = render(command, results, per_cycle, hot, (few, few_windows), reps, args.budget, load)
    return publish(args.out, SECTION, section)


if __name__ == "__main__":
    sys.exit(main())
