"""The timing network: a Simple Temporal Network of a regimen's time points.

Every point is a minute on one time line. Every edge ``u -> v`` bounds ``v - u`` to
``[lower, upper]`` (None: unbounded) and remembers the source span that made it. The
meanings are those of the language brief, section 2:

- cycle k+1 starts ``length .. extend_to`` days after cycle k;
- "day d" puts a start in ``[(d-1)*1440, d*1440 - 1]`` minutes after its cycle start,
  widened by a shift window ("± 2 days");
- an administration ends ``0 .. max`` minutes after it starts (exactly ``max`` with
  ``over exactly``); oral doses are instants; an infusion with no stated duration ends
  within the day; every administration ends before the next cycle starts, and by the end of
  its cycle (or its extension) when it is the last cycle of its part;
- "A 30 to 60 min before B": ``start(B) - start(A)`` in ``[30, 60]``;
  "A 8 h after B": ``start(A) - end(B) = 480`` (``after start of B`` measures from B's start);
- "observe 60 min after B": an observation from ``end(B)`` lasting 60 minutes;
- "doses at least 6 days apart": consecutive starts of that medicine, within a cycle and
  across consecutive cycles, at least 8640 minutes apart;
- "chemotherapy" is a point at the earliest start (or latest end) of that day's
  anti-cancer administrations.

Open-ended cycles are unrolled twice; closed groups once per cycle, up to the plan's
largest cycle limit. As-needed (PRN) items stay out of the network.

A point is named by a ``PointId``: its part, cycle group and cycle number, what it is (a
cycle start, a dose, the day's chemotherapy, an observation), its day, line and end. The
points of one cycle are numbered one after the other, and constraints join only the points
of one cycle or of two consecutive cycles: the solving below relies on both.
"""

from __future__ import annotations

import bisect
import contextlib
import enum
import gc
import heapq
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from regdsl.compile.anchoring import Dose as LineDose
from regdsl.compile.anchoring import Given, Lines, every_line
from regdsl.compile.schedule import Dose, Series, schedule
from regdsl.model import ir
from regdsl.model.limits import SEARCH_STEPS, TIMING_SIZE, TooComplex
from regdsl.model.vocabulary import ORAL
from regdsl.model.wording import DAY, day_count, duration, gap_text, over_text, relation_text, shift_text
from regdsl.source import Span

__all__ = [
    "OPEN",
    "Anchoring",
    "Bounds",
    "BuildMemo",
    "Conflict",
    "Constraint",
    "Given",
    "PointId",
    "PointKind",
    "Searches",
    "TimingNetwork",
    "Windows",
    "bounds_from",
    "build_network",
    "day_of",
    "every_line",
    "find_conflict",
    "paused_gc",
    "windows",
]

# (lower, upper) of ``v - u`` in minutes; None: unbounded on that side.
Bounds = tuple[int | None, int | None]
# How far a window open on one side reaches (minutes): beyond every limit of the language.
OPEN = DAY * 10_000


class PointKind(enum.IntEnum):
    """What a time point is."""

    CYCLE = 0  # the start of a cycle
    DOSE = 1  # the start or end of one day's dose of an administration line
    CHEMOTHERAPY = 2  # the start or end of a day's anti-cancer treatment
    OBSERVATION = 3  # the start or end of an observation after a dose


class PointId(NamedTuple):
    """A time point: where it is (part, cycle group, cycle number), what it is, its day, line and end.

    A small value: frozen, hashable and ordered (by part, group, cycle, then kind, day and
    line). ``str`` gives its one text form, for outputs: ``p1.g0.c2`` (the start of cycle 2
    of part 1's first group), ``p1.g0.c2.a4.d8.start`` (the start of administration line 4 on
    day 8), ``p1.g0.c2.d1.chemo.end``, ``p1.g0.c2.o0.a4.d8.start`` (observation 0 after it).
    Parts count from 1; groups, lines and observations from 0, as written.
    """

    part: int
    group: int
    cycle: int
    kind: PointKind = PointKind.CYCLE
    day: int = 0
    line: int = -1
    observation: int = -1
    end: bool = False
    number: int = 0  # the dose's number among its line's doses of the day, from 0

    def __str__(self) -> str:
        base = f"p{self.part}.g{self.group}.c{self.cycle}"
        which = "end" if self.end else "start"
        dose = f"a{self.line}.d{self.day}" + (f".n{self.number}" if self.number else "")
        match self.kind:
            case PointKind.CYCLE:
                return base
            case PointKind.DOSE:
                return f"{base}.{dose}.{which}"
            case PointKind.CHEMOTHERAPY:
                return f"{base}.d{self.day}.chemo.{which}"
            case PointKind.OBSERVATION:
                return f"{base}.o{self.observation}.{dose}.{which}"

    @property
    def cycle_start(self) -> PointId:
        """The start of this point's cycle."""
        return PointId(self.part, self.group, self.cycle)

    @property
    def other_end(self) -> PointId:
        """The other end of this dose, treatment or observation."""
        return self._replace(end=not self.end)

    def dose(self, line: int, day: int, number: int = 0, *, end: bool = False) -> PointId:
        """Return the start (or ``end``) of line ``line``'s dose ``number`` on ``day`` of this point's cycle."""
        return PointId(self.part, self.group, self.cycle, PointKind.DOSE, day, line, -1, end, number)

    def chemotherapy(self, day: int, *, end: bool = False) -> PointId:
        """Return the start (or ``end``) of the anti-cancer treatment on ``day`` of this point's cycle."""
        return PointId(self.part, self.group, self.cycle, PointKind.CHEMOTHERAPY, day, -1, -1, end)

    def observing(self, observation: int, line: int, day: int, number: int = 0, *, end: bool = False) -> PointId:
        """Return the start (or ``end``) of ``observation`` after line ``line``'s dose ``number`` on ``day``."""
        return PointId(self.part, self.group, self.cycle, PointKind.OBSERVATION, day, line, observation, end, number)


@dataclass(frozen=True, slots=True)
class Constraint:
    """One source constraint: ``lower <= v - u <= upper`` minutes, and where it was said."""

    lower: int | None
    upper: int | None
    span: Span
    what: str


@dataclass(frozen=True, slots=True)
class Anchoring:
    """A relation as placed: the dose it times, and the start of the dose or treatment it is timed to."""

    dose: PointId
    relation: ir.Relation
    anchor: PointId


@dataclass(slots=True)
class TimingNetwork:
    """The timing network: points, and constraints between pairs of points.

    Recorded as flat lists (every check reads those). Points are numbered in the order they
    were added, cycle after cycle: the points of cycle ``k`` (counted from 0 in network
    order) are ``first[k]`` up to ``first[k + 1]``.
    """

    # The first cycle start of each part: every point is reachable from one of them.
    roots: list[int] = field(default_factory=list)
    # Each cycle's start, and the number of its first point (one more entry: the number of points).
    cycles: list[PointId] = field(default_factory=list)
    first: list[int] = field(default_factory=lambda: [0])
    # Each cycle's shape: cycles of equal shape have equal neighbourhoods, so equal windows,
    # and windows() solves each shape once.
    shapes: list[tuple[object, ...]] = field(default_factory=list)
    # Points in order, and the distance graph: dist(v) <= dist(u) + w for (v, w) in arcs[u].
    index: dict[PointId, int] = field(default_factory=dict)
    nodes: list[PointId] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    arcs: list[list[tuple[int, int]]] = field(default_factory=list)
    # The same arcs seen from their heads, for the backward searches.
    reverse: list[list[tuple[int, int]]] = field(default_factory=list)
    why: list[list[tuple[Constraint, bool]]] = field(default_factory=list)
    # Every constraint as (u, v, constraint), in the order written.
    edges: list[tuple[int, int, Constraint]] = field(default_factory=list)
    # Every relation as placed, in the order written.
    anchorings: list[Anchoring] = field(default_factory=list)
    # Each day's chemotherapy start (or end) whose first (or last) anti-cancer line the constraints do not
    # fix, with the lines it may be: relations to it are measured from the earliest of them, whichever it is.
    unfixed: dict[PointId, tuple[int, ...]] = field(default_factory=dict)
    # Each point's distance in the schedule find_conflict found, once it found no conflict.
    potential: list[int] | None = None
    # Where the network was written (the regimen), and the work done on it, against limits.TIMING_SIZE
    # (points and constraints, when ``limited``) and limits.SEARCH_STEPS (search steps).
    span: Span | None = None
    limited: bool = False
    size: int = 0
    steps: int = 0

    def add_point(self, point: PointId, label: str) -> int:
        """Add a point of the last cycle (a cycle start begins a new cycle); return its number.

        Raises ``ValueError`` for a point of another cycle: a cycle's points are numbered together.
        """
        if point.kind is PointKind.CYCLE:
            self.cycles.append(point)
            self.first.append(len(self.nodes))
        elif not self.cycles or (
            (last := self.cycles[-1]).cycle != point.cycle or last.group != point.group or last.part != point.part
        ):  # compared field by field: not a new cycle start for every point
            raise ValueError(f"the point {point} is not of the last cycle started")
        number = self.index[point] = len(self.nodes)
        self.nodes.append(point)
        self.labels.append(label)
        self.arcs.append([])
        self.reverse.append([])
        self.why.append([])
        self.first[-1] = len(self.nodes)
        self.potential = None
        return number

    def constrain(self, u: int, v: int, constraint: Constraint) -> None:
        """Add ``lower <= v - u <= upper`` between points ``u`` and ``v``; every constraint is kept.

        A ``limited`` network whose points and constraints pass ``limits.TIMING_SIZE`` is too
        complex to check: ``TooComplex``, at the constraint's line.
        """
        self.size += 1
        if self.limited and self.size + len(self.nodes) > TIMING_SIZE.value:
            raise TooComplex(
                constraint.span,
                f"the regimen's timing network passes {TIMING_SIZE.value:,} points and constraints by this line "
                "(each cycle of a group counted)",
            )
        self.edges.append((u, v, constraint))
        if constraint.upper is not None:
            self.arcs[u].append((v, constraint.upper))
            self.reverse[v].append((u, constraint.upper))
            self.why[u].append((constraint, True))
        if constraint.lower is not None:
            self.arcs[v].append((u, -constraint.lower))
            self.reverse[u].append((v, -constraint.lower))
            self.why[v].append((constraint, False))
        self.potential = None

    def cycle_of(self, point: int) -> int:
        """Return the number (in network order, from 0) of the cycle of point number ``point``."""
        return bisect.bisect_right(self.first, point, hi=len(self.cycles)) - 1

    def around(self, cycle: int) -> tuple[int, int]:
        """Return the points of cycle number ``cycle`` and its two neighbours: ``range(*around(k))``."""
        return self.first[max(cycle - 1, 0)], self.first[min(cycle + 2, len(self.cycles))]

    def __len__(self) -> int:
        return len(self.nodes)


def day_of(minutes: int) -> int:
    """Return the cycle day that a time ``minutes`` after the cycle's start falls on (day 1 starts at 0)."""
    return minutes // DAY + 1


# -- building --------------------------------------------------------------------------


def _instances(group: ir.CycleGroup, cap: int | None) -> int:
    if group.open_ended:
        return 2
    count = group.count or 1
    return min(count, cap) if cap is not None else count


def _duration(admin: ir.Administration) -> tuple[int, int | None]:
    """Bound a dose's end after its start: [low, high] as written (an extension is the high), else by the route."""
    if admin.duration_stated:
        high = admin.extend_minutes if admin.extend_minutes is not None else admin.max_minutes
        return admin.min_minutes or 0, high  # `at least` has no high: the cycle's end still bounds it
    if admin.route is None or admin.route.code == ORAL:  # an instant
        return 0, 0
    return 0, DAY - 1


# A cycle's first doses of each day: (line, day) -> the numbers of the dose's start and end points.
_Doses = dict[tuple[int, int], tuple[int, int]]


# Each cycle's (by its number in network order) chemotherapy days: the anti-cancer line that starts first
# and the one that ends last, when the constraints fix them (None: not fixed), and, when not, the bounds
# (from the cycle start) that the earliest start and the latest end keep in every schedule.
_Plan = dict[int, dict[int, "_Chemo"]]


class _Chemo(NamedTuple):
    first: int | None
    last: int | None
    start: Bounds | None = None
    end: Bounds | None = None


class BuildMemo:
    """What every build of one regimen's networks shares, whichever scenario it is of: worked out once.

    Each line's doses in a cycle (by the line's id), each group's lines timed from chemotherapy
    (by the group's id), each group's lines as a scenario gives them (by the group's id and
    which of its lines are given), and the medicines' display names. Use one only for the
    regimen it was first used with, while that regimen lives (its objects' ids are the keys).
    """

    __slots__ = ("built", "chemo", "cycles", "displays", "lines", "series", "timed_to_chemo", "windows")

    def __init__(self) -> None:
        self.series: dict[int, tuple[Series, ...]] = {}
        self.timed_to_chemo: dict[int, frozenset[int]] = {}
        self.lines: dict[tuple[int, tuple[bool, ...]], Lines] = {}
        self.displays: dict[str, str] | None = None
        self.cycles: dict[tuple[object, ...], _Made | None] = {}  # each cycle as built, by what it is built from
        self.chemo: dict[int, bool] = {}  # whether a group has relations to chemotherapy, by the group's id
        # The network built last, with what each of its cycles was built from; and the windows of each cycle
        # shape solved (its windows and the search steps they took), by what its cycle and two either side of
        # it were built from: the arcs those cycles' points have, and so the search over them.
        self.built: tuple[TimingNetwork, list[tuple[object, ...]]] | None = None
        self.windows: dict[tuple[object, ...], tuple[tuple[list[int], list[int]], int]] = {}

    def cycle_keys(self, net: TimingNetwork) -> list[tuple[object, ...]] | None:
        """Return what each cycle of ``net`` was built from, if ``net`` is the network built last (else None)."""
        return self.built[1] if self.built is not None and self.built[0] is net else None


# A point a cycle's constraint joins: a point of the cycle (its number from the cycle's start, >= 0), or the
# previous cycle's last dose of the gap keyed (medicine, line).
_Ref = int | tuple[str, str | None]


@dataclass(frozen=True, slots=True)
class _Made:
    """What building one cycle added, its points numbered from the cycle's start: replayed for another scenario."""

    points: tuple[tuple[PointId, str], ...]
    edges: tuple[tuple[_Ref, int, Constraint], ...]
    anchorings: tuple[Anchoring, ...]
    unfixed: tuple[tuple[PointId, tuple[int, ...]], ...]
    open_ends: tuple[tuple[int, Span], ...]
    last_doses: tuple[tuple[tuple[str, str | None], tuple[int, ...]], ...]
    chemo_days: tuple[tuple[int, tuple[tuple[int, tuple[int, int]], ...]], ...] | None
    has_chemo: bool


class _Builder:
    """Builds the network once: with ``plan`` None, without chemotherapy (the first of two builds, section 7)."""

    def __init__(self, regimen: ir.Regimen, given: Given, memo: BuildMemo, plan: _Plan | None = None) -> None:
        self.regimen = regimen
        self.given = given
        self.plan = plan
        # The first build: each cycle's days timed from chemotherapy, with their anti-cancer doses (line, points).
        self.chemo_days: dict[int, dict[int, list[tuple[int, tuple[int, int]]]]] = {}
        self.has_chemo = False
        self.memo = memo
        self.net = TimingNetwork(span=regimen.span, limited=True)
        limits = [lim.count for lim in regimen.plan.cycle_limits()]
        self.cap = max(limits) if limits else None
        self.last_doses: dict[tuple[str, str | None], list[int]] = {}
        self.lines: dict[int, Lines] = {}  # each group's lines in this scenario, by the group's id
        self.open_ends: list[tuple[int, Span]] = []
        self.given_lines: dict[int, tuple[bool, ...]] = {}  # each group's lines given, by the group's id
        self.keys: list[tuple[object, ...]] = []  # what each cycle was built from, in network order
        if memo.displays is None:
            memo.displays = {a.medicine.name: a.medicine.display for g in regimen.cycles() for a in g.administrations}
        self.displays = memo.displays

    def _given_lines(self, group: ir.CycleGroup) -> tuple[bool, ...]:
        found = self.given_lines.get(id(group))
        if found is None:
            found = self.given_lines[id(group)] = tuple(self.given(a) for a in group.administrations)
        return found

    def _lines(self, group: ir.CycleGroup) -> Lines:
        """Return the group's lines as this scenario gives them, made once for each set of lines given."""
        found = self.lines.get(id(group))
        if found is None:
            key = (id(group), self._given_lines(group))
            found = self.memo.lines.get(key)
            if found is None:
                found = self.memo.lines[key] = Lines(group, self.given)
            self.lines[id(group)] = found
        return found

    def build(self) -> TimingNetwork:
        net = self.net
        previous: tuple[PointId, int, ir.CycleGroup] | None = None
        for p, part in enumerate(self.regimen.parts, start=1):
            for g, group in enumerate(part.cycles):
                for k in range(_instances(group, self.cap)):
                    number = group.first + k
                    ident = PointId(p, g, number)
                    start = net.add_point(ident, f"the start of cycle {number}")
                    same_part = previous is not None and previous[0].part == p
                    if k == 0 and not same_part:
                        net.roots.append(start)
                    if previous is not None:
                        self._link_cycles(previous, start, group, same_part=same_part)
                        for end, span in self.open_ends:
                            net.constrain(end, start, Constraint(0, None, span, "ends before the next cycle"))
                        if not same_part:  # the next part may start later: the cycle still ends
                            self._close(previous)
                    self.open_ends = []
                    self._made_cycle(ident, start, group)
                    previous = (ident, start, group)
            self.last_doses = {}
        if previous is not None:
            self._close(previous)
        self._shapes()
        self.memo.built = (net, self.keys)
        return net

    def _shapes(self) -> None:
        """Give each cycle its shape: its group, its neighbours' groups, whether the next ends its part, its size.

        The constraints of a cycle and its two neighbours depend on these alone (a part's last
        cycle has constraints of its own, so whether the next cycle is one counts too).
        """
        net = self.net
        keys: list[tuple[int, int] | None] = [None, *((c.part, c.group) for c in net.cycles), None, None]
        for k in range(len(net.cycles)):
            before, this, after, beyond = keys[k : k + 4]
            closes = after is not None and (beyond is None or beyond[0] != after[0])
            net.shapes.append((before, this, after, closes, net.first[k + 1] - net.first[k]))

    def _close(self, last: tuple[PointId, int, ir.CycleGroup]) -> None:
        """End every administration and observation of a part's last cycle by that cycle's end (or its extension)."""
        _ident, start, group = last
        days = group.extend_to_days or group.length_days
        what = f"ends by the end of day {days}, the last of its cycle"
        for end, span in self.open_ends:
            self.net.constrain(start, end, Constraint(None, days * DAY, span, what))

    def _link_cycles(
        self, previous: tuple[PointId, int, ir.CycleGroup], start: int, group: ir.CycleGroup, *, same_part: bool
    ) -> None:
        _ident, before, earlier = previous
        length = earlier.length_days * DAY
        if same_part:
            upper = (earlier.extend_to_days or earlier.length_days) * DAY
            what = f"cycle length {day_count(earlier.length_days)}"
            if earlier.extend_to_days:
                what += f", extendable to {day_count(earlier.extend_to_days)}"
            self.net.constrain(before, start, Constraint(length, upper, earlier.span, what))
        else:
            self.net.constrain(before, start, Constraint(length, None, group.span, "the next part starts after"))

    def _made_cycle(self, ident: PointId, start: int, group: ir.CycleGroup) -> None:
        """Build a cycle, or replay it as another scenario built it from the same lines, plan and gaps before it.

        A cycle's points and constraints depend only on its group, the lines given, the plan of
        its chemotherapy (none in a first build; only read for relations to chemotherapy) and which
        of its gaps the previous cycle has doses for: the same, whatever the scenario. A replay
        that could pass ``limits.TIMING_SIZE`` builds instead, so that the finding is the same.
        """
        net = self.net
        k = len(net.cycles) - 1
        chemo = self.memo.chemo.get(id(group))
        if chemo is None:
            chemo = self.memo.chemo[id(group)] = any(
                r.anchor_kind == "chemotherapy" for a in group.administrations for r in a.relations
            )
        plan = None if self.plan is None or not chemo else tuple(sorted(self.plan.get(k, {}).items()))
        gaps = tuple(bool(self.last_doses.get((gap.medicine.name, gap.line))) for gap in group.gaps)
        key = (ident, k, id(group), self._given_lines(group), self.plan is None and chemo, plan, gaps)
        self.keys.append(key)
        made = self.memo.cycles.get(key)
        if made is not None and net.size + len(net) + len(made.points) + len(made.edges) <= TIMING_SIZE.value:
            self._replay(start, made)
            return
        before = dict(self.last_doses)
        counts = (len(net), len(net.edges), len(net.anchorings), len(net.unfixed), len(self.open_ends))
        had_chemo, self.has_chemo = self.has_chemo, False
        self._cycle(ident, start, group)
        if key not in self.memo.cycles:
            self.memo.cycles[key] = self._made(start, k, before, counts)
        self.has_chemo = self.has_chemo or had_chemo

    def _made(
        self, start: int, k: int, before: dict[tuple[str, str | None], list[int]], counts: tuple[int, ...]
    ) -> _Made | None:
        """Return what building cycle ``k`` (from point ``start``) added (None: a gap's dose before it is ambiguous)."""
        net = self.net
        points, edges, anchorings, unfixed, open_ends = counts
        previous: dict[int, tuple[str, str | None]] = {}
        for key, starts in before.items():
            if starts:
                if starts[-1] in previous:
                    return None
                previous[starts[-1]] = key
        refs: list[tuple[_Ref, int, Constraint]] = []
        for u, v, constraint in net.edges[edges:]:
            if v < start:
                return None
            if u < start:
                if u not in previous:
                    return None
                refs.append((previous[u], v - start, constraint))
            else:
                refs.append((u - start, v - start, constraint))
        days = self.chemo_days.get(k)
        return _Made(
            points=tuple(zip(net.nodes[points:], net.labels[points:], strict=True)),
            edges=tuple(refs),
            anchorings=tuple(net.anchorings[anchorings:]),
            unfixed=tuple(itertools.islice(net.unfixed.items(), unfixed, None)),
            open_ends=tuple((e - start, span) for e, span in self.open_ends[open_ends:]),
            last_doses=tuple((key, tuple(s - start for s in starts)) for key, starts in self.last_doses.items()),
            chemo_days=None
            if days is None
            else tuple(
                (day, tuple((i, (s - start, e - start)) for i, (s, e) in members)) for day, members in days.items()
            ),
            has_chemo=self.has_chemo,
        )

    def _replay(self, start: int, made: _Made) -> None:
        """Add what ``made`` records to the network, its points numbered from ``start``."""
        net = self.net
        for point, label in made.points:
            net.add_point(point, label)
        for u, v, constraint in made.edges:
            net.constrain(self.last_doses[u][-1] if isinstance(u, tuple) else u + start, v + start, constraint)
        net.anchorings.extend(made.anchorings)
        net.unfixed.update(made.unfixed)
        self.open_ends.extend((e + start, span) for e, span in made.open_ends)
        self.last_doses = {key: [s + start for s in starts] for key, starts in made.last_doses}
        if made.chemo_days is not None:
            self.chemo_days[len(net.cycles) - 1] = {
                day: [(i, (s + start, e + start)) for i, (s, e) in members] for day, members in made.chemo_days
            }
        self.has_chemo = self.has_chemo or made.has_chemo

    def _cycle(self, ident: PointId, start: int, group: ir.CycleGroup) -> None:
        net = self.net
        doses = _CycleDoses(group, self._lines(group))
        placed: list[tuple[int, Dose, int]] = []  # (line, dose, its start point)
        for i, admin in enumerate(group.administrations):
            if admin.prn or not self.given(admin):
                continue
            low, high = _duration(admin)
            if admin.duration_stated:
                what = f"over {over_text(admin)}"
            else:
                what = "taken at once" if high == 0 else "an infusion within the day"
            made = self.memo.series.get(id(admin))
            if made is None:
                made = self.memo.series[id(admin)] = schedule(admin)
            for series in made:
                lasts, lasts_what = (series.lasts, series.lasts_what) if series.lasts else ((low, high), what)
                previous = None
                for k, dose in enumerate(series.doses, start=1):
                    label = f"{admin.medicine.display} on day {dose.day} of cycle {ident.cycle}"
                    if series.spacing is not None and len(series.doses) > 1:
                        label += f", dose {k} of {len(series.doses)}"
                    s = net.add_point(ident.dose(i, dose.day, dose.number), label)
                    ending = f"{label}: pump disconnected" if admin.pump else f"the end of {label}"
                    e = net.add_point(ident.dose(i, dose.day, dose.number, end=True), ending)
                    net.constrain(s, e, Constraint(*lasts, admin.span, lasts_what))
                    if previous is not None and series.spacing is not None:
                        net.constrain(previous, s, Constraint(*series.spacing, admin.span, series.what))
                    previous = s
                    doses.add(i, dose, (s, e))
                    placed.append((i, dose, s))
                    self.open_ends.append((e, admin.span))
        anchored = self._relations(ident, group, doses)
        for i, dose, s in placed:
            if dose.number == 0 and (i, dose.day) in anchored:
                continue  # a premedication moves with its anchor, whatever calendar day that is
            if dose.earliest is None and dose.latest is None:
                continue  # placed by its series
            admin = group.administrations[i]
            shift = admin.shift_days or 0
            what = f"day {dose.day}" + (f" {shift_text(shift)}" if shift else "")
            earliest = dose.earliest - shift * DAY if dose.earliest is not None else None
            latest = dose.latest + shift * DAY if dose.latest is not None else None
            net.constrain(start, s, Constraint(earliest, latest, admin.span, what))
        self._observations(ident, group, doses)
        self._gaps(group, doses)

    def _members(self, group: ir.CycleGroup, doses: _CycleDoses, day: int) -> list[tuple[int, tuple[int, int]]]:
        """Return the day's anti-cancer doses that make its chemotherapy: not those timed from chemotherapy."""
        timed = self.memo.timed_to_chemo.get(id(group))
        if timed is None:
            timed = self.memo.timed_to_chemo[id(group)] = frozenset(
                i
                for i, a in enumerate(group.administrations)
                if any(r.anchor_kind == "chemotherapy" for r in a.relations)
            )
        found = doses.members.get(day)
        if found is None:
            found = doses.members[day] = [(i, pair) for i, pair in doses.anticancer.get(day, []) if i not in timed]
        return found

    def _chemo(self, ident: PointId, group: ir.CycleGroup, doses: _CycleDoses, day: int) -> tuple[int, int] | None:
        """Return the points of the day's chemotherapy (its earliest anti-cancer start, its latest end), made once.

        The start is the anti-cancer line the other constraints force to start first, if one is
        forced, else only no later than every one of them (and likewise the end): section 7 of
        the design, in ``build_network``. None when the day has no anti-cancer dose to time from.
        """
        if day in doses.chemo:
            return doses.chemo[day]
        members = self._members(group, doses, day)
        made = None
        if members and self.plan is None:  # the first build: recorded, not made
            self.chemo_days.setdefault(len(self.net.cycles) - 1, {})[day] = members
        elif members and self.plan is not None:
            net = self.net
            first, last, early, late = self.plan.get(len(net.cycles) - 1, {}).get(day, _Chemo(None, None))
            point = ident.chemotherapy(day)
            s = net.add_point(point, f"chemotherapy on day {day}")
            e = net.add_point(point.other_end, f"the end of chemotherapy on day {day}")
            for i, (a_s, a_e) in members:
                span = group.administrations[i].span
                net.constrain(s, a_s, Constraint(0, 0 if i == first else None, span, "starts with chemotherapy"))
                net.constrain(a_e, e, Constraint(0, 0 if i == last else None, span, "ends with chemotherapy"))
            lines = tuple(i for i, _pair in members)
            cycle, span = net.index[ident], group.administrations[lines[0]].span
            if first is None:
                net.unfixed[point] = lines
                if early is not None:
                    net.constrain(cycle, s, Constraint(*early, span, "chemotherapy starts with one of its medicines"))
            if last is None:
                net.unfixed[point.other_end] = lines
                if late is not None:
                    net.constrain(cycle, e, Constraint(*late, span, "chemotherapy ends with one of its medicines"))
            made = (s, e)
        doses.chemo[day] = made
        return made

    def _relations(self, ident: PointId, group: ir.CycleGroup, doses: _CycleDoses) -> set[tuple[int, int]]:
        """Add every relation's edges; return the doses that a relation bounded on both sides places."""
        net = self.net
        anchored: set[tuple[int, int]] = set()
        points = doses.points
        lines = doses.lines
        for i, admin in enumerate(group.administrations):
            for rel in admin.relations:
                if rel.anchor_kind == "event":
                    continue
                step = 1 if rel.direction == "before" else -1
                what = relation_text(rel, self.displays)
                for day in doses.days.get(i, ()):
                    anchor = None
                    if rel.anchor_kind == "chemotherapy":
                        self.has_chemo = True
                        tried = (day,) if rel.measured else (day, day + step)
                        chemo_day = next((d for d in tried if self._members(group, doses, d)), None)
                        if chemo_day is not None:
                            anchor = self._chemo(ident, group, doses, chemo_day)
                        if self.plan is None:  # the first build leaves it out, and the dose to its anchor
                            if rel.low is not None and rel.high is not None:
                                anchored.add((i, day))
                            continue
                    else:
                        found = lines.anchor(rel, i, day)
                        if isinstance(found, LineDose):  # an ambiguous anchor is reported, and not timed
                            anchor = points.get((found.line, found.day))
                    if anchor is None:
                        continue
                    s, e = points[(i, day)]
                    this = e if rel.own_point == "end" else s
                    point = anchor[0] if rel.point == "start" else anchor[1]
                    if rel.direction == "before":
                        net.constrain(this, point, Constraint(rel.low, rel.high, rel.span, what))
                    else:
                        net.constrain(point, this, Constraint(rel.low, rel.high, rel.span, what))
                    net.anchorings.append(Anchoring(net.nodes[s], rel, net.nodes[anchor[0]]))
                    if rel.low is not None and rel.high is not None:
                        anchored.add((i, day))
        return anchored

    def _observations(self, ident: PointId, group: ir.CycleGroup, doses: _CycleDoses) -> None:
        net = self.net
        for o, obs in enumerate(group.observations):
            label = f"the observation after {obs.medicine.display}"
            for i, day, number in doses.named_doses(obs.medicine.name, obs.line, obs.position):
                e = doses.every[(i, day, number)][1]
                start = net.add_point(ident.observing(o, i, day, number), f"{label} on day {day}")
                end = net.add_point(ident.observing(o, i, day, number, end=True), f"the end of {label} on day {day}")
                net.constrain(e, start, Constraint(0, 0, obs.span, "observation after the infusion"))
                net.constrain(
                    start, end, Constraint(obs.minutes, obs.minutes, obs.span, f"observe {duration(obs.minutes)}")
                )
                self.open_ends.append((end, obs.span))

    def _gaps(self, group: ir.CycleGroup, doses: _CycleDoses) -> None:
        """Consecutive doses within the cycle, and from the previous cycle's last dose, keep their gap."""
        last: dict[tuple[str, str | None], list[int]] = {}
        for gap in group.gaps:
            key = (gap.medicine.name, gap.line)
            keyed = sorted((day, number, i) for i, day, number in doses.named_doses(*key, None))
            starts = [doses.every[(i, day, number)][0] for day, number, i in keyed]
            last[key] = starts
            constraint = Constraint(gap.days * DAY, None, gap.span, gap_text(gap.days))
            before = self.last_doses.get(key)
            chain = ([before[-1]] if before else []) + starts
            for a, b in itertools.pairwise(chain):
                self.net.constrain(a, b, constraint)
        self.last_doses = last


class _CycleDoses:
    """The start and end points of one cycle's doses, found by line and day, and its lines by medicine and name.

    Each is found in the time its lines take (a relation's anchor, an observation's or a
    gap's doses), never by going through every line of the cycle. A line's first dose of a day
    (its number 0) is the one relations time and are timed to, and the one a day's chemotherapy counts.
    """

    def __init__(self, group: ir.CycleGroup, lines: Lines) -> None:
        self.group = group
        self.points: _Doses = {}
        self.lines = lines
        self.anticancer: dict[int, list[tuple[int, tuple[int, int]]]] = {}
        self.chemo: dict[int, tuple[int, int] | None] = {}
        self.members: dict[int, list[tuple[int, tuple[int, int]]]] = {}  # each day's doses that make chemotherapy
        self.every: dict[tuple[int, int, int], tuple[int, int]] = {}  # (line, day, number): every dose's points
        self.numbers: dict[int, list[tuple[int, int]]] = {}  # line: its doses (day, number), in order
        # Each line's days, in order: the days it has a first dose on.
        self.days: dict[int, list[int]] = {}

    def add(self, i: int, dose: Dose, pair: tuple[int, int]) -> None:
        """Add ``dose`` of line ``i`` (lines in order)."""
        admin = self.group.administrations[i]
        day = dose.day
        self.every[(i, day, dose.number)] = pair
        self.numbers.setdefault(i, []).append((day, dose.number))
        if dose.number:
            return
        self.points[(i, day)] = pair
        self.days.setdefault(i, []).append(day)
        if admin.role == "anticancer":
            self.anticancer.setdefault(day, []).append((i, pair))

    def named_doses(
        self, medicine: str, line: str | None, position: Literal["first", "last"] | None
    ) -> list[tuple[int, int, int]]:
        """Return every dose (line, day, number) of the lines ``medicine`` and ``line`` name, line by line.

        With ``position``, only the doses of the first or the last day any of them is given.
        """
        found = [(i, day, n) for i in self.lines.named(medicine, line) for day, n in self.numbers.get(i, ())]
        if position is not None and found:
            pick = min if position == "first" else max
            edge = pick(day for _i, day, _n in found)
            found = [dose for dose in found if dose[1] == edge]
        return found


def build_network(regimen: ir.Regimen, given: Given = every_line, memo: BuildMemo | None = None) -> TimingNetwork:
    """Build the timing network of a lowered regimen, of the lines ``given`` (to one scenario's patients).

    A regimen with relations to `chemotherapy` is built twice. The first network leaves out
    the chemotherapy points and the relations to them; where it is consistent, each day's
    chemotherapy starts with the anti-cancer line that every schedule of it starts first (its
    lower bounds to the day's other lines are all 0 or more), and ends with the one every
    schedule ends last. The second network is the whole one: the forced line's start is the
    chemotherapy's, and every other line starts no earlier. Where no line is forced (or the
    first network conflicts), chemotherapy only starts no later than each line (``unfixed``,
    reported by `TIM006`): never a conflict the constraints do not make. The second network has
    a subset of the first's schedules, so a line forced in the first is first in every one of them.
    Both builds are of the scenario's lines only: each scenario's chemotherapy is its own.
    ``memo``, when given, keeps what does not depend on the scenario for the builds of the
    regimen's other scenarios (``BuildMemo``).
    """
    shared = memo if memo is not None else BuildMemo()
    with paused_gc():
        first = _Builder(regimen, given, shared)
        net = first.build()
        if not first.has_chemo:
            return net
        plan: _Plan = {}
        if find_conflict(net) is None:
            plan = _forced(net, first.chemo_days)
        return _Builder(regimen, given, shared, plan).build()


def _forced(net: TimingNetwork, days: Mapping[int, Mapping[int, list[tuple[int, tuple[int, int]]]]]) -> _Plan:
    """Find each chemotherapy day's forced first and last anti-cancer line, once per cycle shape."""
    plan: _Plan = {}
    solved: dict[object, dict[int, _Chemo]] = {}
    for k, members in days.items():
        shape = net.shapes[k]
        found = solved.get(shape)
        if found is None:
            found = solved[shape] = {day: _first_last(net, net.cycles[k], doses) for day, doses in members.items()}
        plan[k] = found
    return plan


def _first_last(net: TimingNetwork, cycle: PointId, doses: list[tuple[int, tuple[int, int]]]) -> _Chemo:
    """Return the line of ``doses`` that starts first in every schedule, and the one that ends last (None: none).

    When none is, the earliest start lies between the least of the starts' earliest times and the
    least of their latest (from the cycle start), and the latest end likewise: kept as its bounds.
    """
    if len(doses) == 1:
        return _Chemo(doses[0][0], doses[0][0])
    nodes = net.nodes
    starts = [nodes[s] for _i, (s, _e) in doses]
    ends = [nodes[e] for _i, (_s, e) in doses]
    searches = Searches()
    first = next(
        (
            i
            for (i, _pair), s in zip(doses, starts, strict=True)
            if all(low is not None and low >= 0 for low, _high in bounds_from(net, s, starts).values())
        ),
        None,
    )
    last = next(
        (
            i
            for (i, _pair), e in zip(doses, ends, strict=True)
            if all(high is not None and high <= 0 for _low, high in bounds_from(net, e, ends, lower=False).values())
        ),
        None,
    )
    early = _hull(bounds_from(net, cycle, starts, searches=searches).values(), least=True) if first is None else None
    late = _hull(bounds_from(net, cycle, ends, searches=searches).values(), least=False) if last is None else None
    return _Chemo(first, last, early, late)


def _hull(bounds: Iterable[Bounds], *, least: bool) -> Bounds:
    """Return the bounds of the least (or, not ``least``, the greatest) of points with these bounds (None: open)."""
    lows, highs = zip(*bounds, strict=True)
    if not least:  # the greatest of -x is minus the least of x
        negated = ((None if h is None else -h, None if lo is None else -lo) for lo, h in zip(lows, highs, strict=True))
        low, high = _hull(negated, least=True)
        return (None if high is None else -high), (None if low is None else -low)
    known = [h for h in highs if h is not None]
    return (None if None in lows else min(lo for lo in lows if lo is not None)), (min(known) if known else None)


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many acyclic objects (restored after)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# -- solving ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Conflict:
    """A negative cycle: the constraints that cannot all hold, and by how much."""

    constraints: tuple[Constraint, ...]
    needed: int
    allowed: int
    points: tuple[PointId, ...]


# Passes in the order the points were labelled, before passes in the order of the improving arcs.
FIFO_PASSES = 8


class _Search:
    """Shortest distances over a network's arcs (``arcs`` or ``reverse``), in passes.

    The first passes scan the points in the order they were improved, as a FIFO queue
    would: a small search (a cycle and its neighbours) settles in a few of them. Later
    passes (Goldberg and Radzik's) order the points that the last pass improved, and all they
    improve in turn, by a depth-first search over the arcs that would improve a distance,
    and scan them in that order: a chain of constraints in either direction (doses "at least
    N days apart", cycle after cycle) settles in one pass, where a FIFO queue needs a pass
    per link. A negative cycle shows as a cycle of the predecessor links, searched for after
    every ``n`` steps of a search that takes longer than its FIFO passes (linear time between
    searches; ``n`` the points searched): the distances cannot fall for ever without one. The
    scratch arrays are kept between searches (only the points a search
    touched are reset), so many local searches cost only what each one reaches.

    Every arc scanned is a step; beyond ``limits.SEARCH_STEPS`` in all (when ``counted``),
    the network is too complex to check (``TooComplex``).
    """

    def __init__(self, net: TimingNetwork, arcs: Sequence[Sequence[tuple[int, int]]], *, counted: bool) -> None:
        n = len(arcs)
        self.net = net
        self.arcs = arcs
        self.counted = counted
        self.dist: list[int | None] = [None] * n
        self.pred = [-1] * n
        self.labeled = [False] * n
        self.mark = [0] * n
        self.epoch = 0
        self.touched: list[int] = []

    def run(self, sources: Iterable[tuple[int, int]], low: int, high: int) -> int | None:
        """Search from ``sources`` (point, distance) over the points ``low`` to ``high - 1``.

        Return a point on a negative cycle, if there is one.
        """
        arcs, dist, labeled, pred, touched = self.arcs, self.dist, self.labeled, self.pred, self.touched
        n = high - low
        frontier = []
        for source, value in sources:
            if dist[source] is None:
                touched.append(source)
            dist[source] = value
            labeled[source] = True
            frontier.append(source)
        unchecked = passes = 0
        while frontier:
            passes += 1
            order = frontier if passes <= FIFO_PASSES else self._order(frontier, low, high)
            frontier = []
            steps = 0
            for u in order:
                if not labeled[u]:
                    continue
                labeled[u] = False
                du = dist[u]
                assert du is not None
                out = arcs[u]
                steps += len(out)
                for v, w in out:
                    if v < low or v >= high:
                        continue
                    nd = du + w
                    dv = dist[v]
                    if dv is None or nd < dv:
                        if dv is None:
                            touched.append(v)
                        dist[v] = nd
                        pred[v] = u
                        if not labeled[v]:
                            labeled[v] = True
                            frontier.append(v)
            self._count(steps)
            unchecked += steps
            if unchecked >= n and frontier and passes > FIFO_PASSES:  # a search that takes long: look for a loop
                unchecked = 0
                found = _predecessor_cycle(pred, touched)
                if found is not None:
                    return found
        return None

    def _order(self, frontier: list[int], low: int, high: int) -> list[int]:
        """Order the frontier and what its improving arcs reach: reverse postorder of a depth-first search.

        Points not reached yet are leaves: the pass reaches them from the points before them.
        """
        arcs, dist, mark, labeled = self.arcs, self.dist, self.mark, self.labeled
        self.epoch += 1
        epoch = self.epoch
        order: list[int] = []
        for root in frontier:
            if mark[root] == epoch or not labeled[root]:
                continue
            mark[root] = epoch
            nodes, positions = [root], [0]
            while nodes:
                u = nodes[-1]
                i = positions[-1]
                du = dist[u]
                assert du is not None
                out = arcs[u]
                pushed = False
                while i < len(out):
                    v, w = out[i]
                    i += 1
                    if mark[v] == epoch or v < low or v >= high:
                        continue
                    dv = dist[v]
                    if dv is not None and du + w >= dv:
                        continue
                    mark[v] = epoch
                    if dv is None:
                        order.append(v)
                        continue
                    positions[-1] = i
                    nodes.append(v)
                    positions.append(0)
                    pushed = True
                    break
                if not pushed:
                    nodes.pop()
                    positions.pop()
                    order.append(u)
        order.reverse()
        return order

    def _count(self, steps: int) -> None:
        span = self.net.span
        if not self.counted or span is None:
            return
        self.net.steps += steps
        if self.net.steps > SEARCH_STEPS.value:
            raise TooComplex(
                span,
                f"the timing network of this regimen is too complex to check: solving it takes more than "
                f"{SEARCH_STEPS.value:,} steps (often many wide shift windows with minimum gaps)",
            )

    def found(self, low: int, high: int) -> list[int | None]:
        """Return the distances found to the points ``low`` to ``high - 1``, and reset for the next search."""
        result: list[int | None] = [None] * (high - low)
        dist = self.dist
        for i in self.touched:
            result[i - low] = dist[i]
            dist[i] = None
            self.pred[i] = -1
            self.labeled[i] = False
        self.touched = []
        return result


def _predecessor_cycle(pred_node: Sequence[int], nodes: Sequence[int]) -> int | None:
    """Return a node on a cycle of the predecessor links among ``nodes``, if there is one (linear time)."""
    state: dict[int, int] = {}  # 1 on the current walk, 2 done
    for start in nodes:
        if start in state:
            continue
        walk = []
        node = start
        while node >= 0 and node not in state:
            state[node] = 1
            walk.append(node)
            node = pred_node[node]
        if node >= 0 and state.get(node) == 1:
            return node
        for member in walk:
            state[member] = 2
    return None


def _last_relaxed(out: Sequence[tuple[int, int]], head: int) -> int:
    """Return the arc of ``out`` to ``head`` that a search relaxes last: the first of the least weight.

    Scanning a point's arcs in order, an arc improves its head only if it is lighter than
    every arc to that head before it: the one that set the head's distance is the first of
    the least weight.
    """
    return min((w, i) for i, (v, w) in enumerate(out) if v == head)[1]


def find_conflict(net: TimingNetwork) -> Conflict | None:
    """Return a negative cycle of the network, or None (and then ``net.potential`` is a schedule).

    Parts are joined only by "after" (no upper bound), so the search starts at each part's
    first cycle start in turn; within a part, every point has an upper bound from its cycle
    start, so the search reaches all of them. Each part starts late enough for the parts
    before it to be left as they are (the distance its first point's constraints on the
    earlier points allow); the distances are a schedule wherever the parts start.
    """
    if not net.nodes:
        return None
    n = len(net.nodes)
    search = _Search(net, net.arcs, counted=True)
    dist = search.dist
    on_cycle = None
    for root in net.roots:
        start = max((d - w for v, w in net.arcs[root] if (d := dist[v]) is not None), default=0)
        on_cycle = search.run([(root, max(start, 0))], 0, n)
        if on_cycle is not None:
            break
    if on_cycle is None:
        net.potential = [d if d is not None else 0 for d in dist]  # every arc's reduced cost is >= 0
        return None
    pred = search.pred
    cycle: list[tuple[int, tuple[Constraint, bool], int]] = []
    seen: set[int] = set()
    node = on_cycle
    while node not in seen:
        seen.add(node)
        u = pred[node]
        i = _last_relaxed(net.arcs[u], node)
        cycle.append((u, net.why[u][i], net.arcs[u][i][1]))
        node = u
    cycle.reverse()
    needed = sum(-w for _, (_c, upper), w in cycle if not upper)
    allowed = sum(w for _, (_c, upper), w in cycle if upper)
    unique: dict[tuple[int, int, str], Constraint] = {}
    for _, (c, _upper), _w in cycle:
        unique.setdefault((c.span.start, c.span.end, c.what), c)
    return Conflict(
        constraints=tuple(sorted(unique.values(), key=lambda c: (c.span.path, c.span.start, c.what))),
        needed=needed,
        allowed=allowed,
        points=tuple(net.nodes[u] for u, _, _ in cycle),
    )


@dataclass(frozen=True, slots=True)
class Windows:
    """Each point's feasible window, in minutes after its own cycle start, by point number."""

    points: Sequence[PointId]
    index: Mapping[PointId, int]
    earliest: Sequence[int]
    latest: Sequence[int]

    def get(self, point: PointId) -> tuple[int, int] | None:
        """Return ``(earliest, latest)`` for ``point``, or None if it is not a point of the network."""
        number = self.index.get(point)
        return None if number is None else (self.earliest[number], self.latest[number])

    def of(self, point: PointId) -> tuple[int, int]:
        """Return ``(earliest, latest)`` for ``point`` (``KeyError`` if it is not a point of the network)."""
        number = self.index[point]
        return self.earliest[number], self.latest[number]

    def items(self) -> Iterator[tuple[PointId, tuple[int, int]]]:
        """Iterate over ``(point, (earliest, latest))`` in network order."""
        for point, early, late in zip(self.points, self.earliest, self.latest, strict=True):
            yield point, (early, late)


def windows(net: TimingNetwork, memo: BuildMemo | None = None) -> Windows:
    """Compute every point's window relative to its cycle start (for a consistent network).

    Two rooted single-source shortest-path searches per cycle start (forward for the
    latest time, backward for the earliest) over the points of that cycle and of its two
    neighbours, so that cross-cycle constraints count. Windows are sound: a path through
    cycles further away could only narrow them. Cycles of the same shape (``net.shapes``)
    have the same windows, so each shape is solved once: linear in the size of the
    network, never all-pairs. With ``memo``, the one ``build_network`` built ``net`` with,
    a shape whose cycles two either side were built from the same as in another of the
    regimen's networks has its windows (and counts its search steps) without searching again.
    """
    n = len(net.nodes)
    first = net.first
    earliest = [0] * n
    latest = [0] * n
    solved: dict[tuple[object, ...], tuple[list[int], list[int]]] = {}
    forward, backward = _Search(net, net.arcs, counted=True), _Search(net, net.reverse, counted=True)
    keys = memo.cycle_keys(net) if memo is not None else None
    for k, shape in enumerate(net.shapes):
        start, stop = first[k], first[k + 1]
        found = solved.get(shape)
        if found is None:
            key = (
                None
                if keys is None
                else (shape, *(keys[j] if 0 <= j < len(keys) else None for j in range(k - 2, k + 3)))
            )
            known = memo.windows.get(key) if memo is not None and key is not None else None
            if known is not None:
                found, steps = known
                forward._count(steps)
            else:
                steps = net.steps
                low, high = net.around(k)
                forward.run([(start, 0)], low, high)
                backward.run([(start, 0)], low, high)
                late = forward.found(low, high)[start - low : stop - low]
                early = backward.found(low, high)[start - low : stop - low]
                found = (
                    [-e if e is not None else -OPEN for e in early],
                    [t if t is not None else OPEN for t in late],
                )
                if memo is not None and key is not None:
                    memo.windows[key] = (found, net.steps - steps)
            solved[shape] = found
        earliest[start:stop], latest[start:stop] = found
    return Windows(points=net.nodes, index=net.index, earliest=earliest, latest=latest)


class Searches:
    """The searches from each point of one consistent network made so far, to be resumed by later ``bounds_from``.

    Bounds from one point asked for several sets of targets (a day's doses, then their ends)
    resume one forward and one backward search rather than start them again. Use one only
    on the network it was made for, and only while that network is unchanged.
    """

    __slots__ = ("found",)

    def __init__(self) -> None:
        self.found: dict[tuple[int, int], _Nearest] = {}

    def of(self, net: TimingNetwork, root: int, sign: int, potential: Sequence[int]) -> _Nearest:
        """Return the search from ``root`` (``sign`` 1: forward, -1: backward), made on first use."""
        search = self.found.get((root, sign))
        if search is None:
            low, high = net.around(net.cycle_of(root))
            search = self.found[root, sign] = _Nearest(
                net.reverse if sign < 0 else net.arcs, root, low, high, potential, sign
            )
        return search


def bounds_from(
    net: TimingNetwork,
    anchor: PointId,
    targets: Iterable[PointId],
    *,
    lower: bool = True,
    searches: Searches | None = None,
) -> dict[PointId, Bounds]:
    """Return the solved bounds ``(lower, upper)`` of ``v - anchor`` in minutes for each target ``v``.

    Two searches from ``anchor`` (forward for the upper bounds, backward for the lower; with
    ``lower`` false, the upper bounds alone, and every lower bound None) over the points of
    ``anchor``'s cycle and of its two neighbours, as ``windows`` does: the bounds are sound,
    and never come from all pairs; a point outside those cycles is unbounded. They are
    Dijkstra's, on arc weights made non-negative by the schedule ``find_conflict`` found
    (``net.potential``: call it first, on a consistent network), and go only as far as the
    targets: a day's doses are a few points of a long cycle. ``searches``, when given, keeps
    the searches for later calls on the same network, which resume them.
    """
    potential = net.potential
    if potential is None:
        raise ValueError("bounds_from needs the schedule of a consistent network: find_conflict first")
    root = net.index[anchor]
    made = searches if searches is not None else Searches()
    after = made.of(net, root, 1, potential)
    before = made.of(net, root, -1, potential) if lower else None
    found: dict[PointId, Bounds] = {}
    for target in targets:
        number = net.index[target]
        below = before.distance(number) if before is not None else None
        found[target] = (-below if below is not None else None), after.distance(number)
    return found


class _Nearest:
    """Dijkstra's search from one point, resumed for each point asked about (weights made >= 0 by a schedule)."""

    def __init__(
        self,
        arcs: Sequence[Sequence[tuple[int, int]]],
        root: int,
        low: int,
        high: int,
        potential: Sequence[int],
        sign: int,
    ) -> None:
        self.arcs = arcs
        self.low, self.high = low, high
        self.potential = potential
        self.sign = sign  # +1: the arcs as they are; -1: reversed, so the potential is negated
        self.root = root
        self.heap: list[tuple[int, int]] = [(0, root)]
        self.best: dict[int, int] = {root: 0}
        self.settled: dict[int, int] = {}

    def distance(self, target: int) -> int | None:
        """Return the shortest distance from the root to ``target`` (None: it cannot be reached)."""
        heap, settled, best, potential, sign = self.heap, self.settled, self.best, self.potential, self.sign
        low, high = self.low, self.high
        while target not in settled and heap:
            d, u = heapq.heappop(heap)
            if u in settled:
                continue
            settled[u] = d
            pu = sign * potential[u]
            for v, w in self.arcs[u]:
                if v < low or v >= high or v in settled:
                    continue
                nd = d + w + pu - sign * potential[v]
                if nd < best.get(v, nd + 1):
                    best[v] = nd
                    heapq.heappush(heap, (nd, v))
        reduced = settled.get(target)
        return None if reduced is None else reduced - sign * potential[self.root] + sign * potential[target]
