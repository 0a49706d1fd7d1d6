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
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NewType

from regdsl.model import ir
from regdsl.model.limits import SEARCH_STEPS, TIMING_SIZE, TooComplex
from regdsl.model.medicines import Medicine
from regdsl.source import Span

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "DAY",
    "Conflict",
    "Constraint",
    "PointId",
    "TimingNetwork",
    "Windows",
    "build_network",
    "day_of",
    "dose_point",
    "duration",
    "find_conflict",
    "pair_bounds",
    "paused_gc",
    "windows",
]

DAY = 1440
PointId = NewType("PointId", str)


@dataclass(frozen=True, slots=True)
class Constraint:
    """One source constraint: ``lower <= v - u <= upper`` minutes, and where it was said."""

    lower: int | None
    upper: int | None
    span: Span
    what: str


@dataclass(frozen=True, slots=True)
class Point:
    """What a time point is: its cycle start, and a short description for messages."""

    cycle: PointId
    label: str


@dataclass(slots=True)
class TimingNetwork:
    """The timing network: points, and constraints between pairs of points.

    It is recorded as flat lists while it is built (every check reads those: solving never
    walks networkx's views) and offered as an ``nx.DiGraph`` through ``graph``, built on
    first use, whose nodes carry their ``Point`` and whose edges carry their constraints.
    """

    origin: PointId | None = None
    # The first cycle start of each part: every point is reachable from one of them.
    roots: list[PointId] = field(default_factory=list)
    # Each cycle start's (part, group, position) key: cycles with equal neighbourhoods
    # have equal windows, so windows() solves each neighbourhood shape once.
    shapes: dict[PointId, tuple[tuple[int, int] | None, ...]] = field(default_factory=dict)
    # Points in order, and the distance graph: dist(v) <= dist(u) + w for (v, w) in arcs[u].
    index: dict[PointId, int] = field(default_factory=dict)
    nodes: list[PointId] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    cycle_of: list[PointId] = field(default_factory=list)
    arcs: list[list[tuple[int, int]]] = field(default_factory=list)
    # The same arcs seen from their heads, for the backward passes of windows().
    reverse: list[list[tuple[int, int]]] = field(default_factory=list)
    why: list[list[tuple[Constraint, bool]]] = field(default_factory=list)
    pairs: dict[tuple[PointId, PointId], list[Constraint]] = field(default_factory=dict)
    _graph: nx.DiGraph[PointId] | None = None
    # Solved distances from a point (forward, backward), kept for pair_bounds' next question.
    _near: dict[int, tuple[_Nearest, _Nearest]] = field(default_factory=dict)
    # Each point's distance from its part's first cycle start, once find_conflict found no conflict.
    potential: list[int | None] | None = None
    # Where the network was written (the regimen), and the work done on it, against limits.TIMING_SIZE
    # (points and constraints, when ``limited``) and limits.SEARCH_STEPS (search steps).
    span: Span | None = None
    limited: bool = False
    size: int = 0
    steps: int = 0

    def add_point(self, point: PointId, cycle: PointId, label: str) -> PointId:
        """Add a point (idempotent); the first point added is the origin."""
        if point not in self.index:
            self.index[point] = len(self.nodes)
            self.nodes.append(point)
            self.points.append(Point(cycle, label))
            self.cycle_of.append(cycle)
            self.arcs.append([])
            self.reverse.append([])
            self.why.append([])
            if self.origin is None:
                self.origin = point
            self._graph = None
            self._stale()
        return point

    def _stale(self) -> None:
        """Forget solved distances and search space: the network changed."""
        if self._near:
            self._near.clear()
        self.potential = None

    def constrain(self, u: PointId, v: PointId, constraint: Constraint) -> None:
        """Add ``lower <= v - u <= upper``; several constraints on one pair are all kept.

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
        self.pairs.setdefault((u, v), []).append(constraint)
        iu, iv = self.index[u], self.index[v]
        if constraint.upper is not None:
            self.arcs[iu].append((iv, constraint.upper))
            self.reverse[iv].append((iu, constraint.upper))
            self.why[iu].append((constraint, True))
        if constraint.lower is not None:
            self.arcs[iv].append((iu, -constraint.lower))
            self.reverse[iu].append((iv, -constraint.lower))
            self.why[iv].append((constraint, False))
        self._graph = None
        self._stale()

    @property
    def graph(self) -> nx.DiGraph[PointId]:
        """The network as a networkx graph (built once, on first use)."""
        import networkx as nx

        if self._graph is None:
            graph: nx.DiGraph[PointId] = nx.DiGraph()
            graph.add_nodes_from((node, {"info": info}) for node, info in zip(self.nodes, self.points, strict=True))
            graph.add_edges_from((u, v, {"constraints": found}) for (u, v), found in self.pairs.items())
            self._graph = graph
        return self._graph

    def info(self, point: PointId) -> Point:
        """Return what ``point`` is."""
        return self.points[self.index[point]]

    def constraints(self, u: PointId, v: PointId) -> list[Constraint]:
        """Return the constraints on the pair ``(u, v)``."""
        return self.pairs.get((u, v), [])

    def cycle_start(self, part: int, group: int, number: int) -> PointId:
        """Return the start point of cycle ``number`` of a part's group (both counted from 1 and 0).

        Overlapping groups (reported by STR013) keep their instances apart with the group's
        number; every other cycle start is ``p{part}.c{number}``.
        """
        apart = PointId(f"p{part}.g{group}.c{number}")
        return apart if apart in self.index else PointId(f"p{part}.c{number}")

    def __len__(self) -> int:
        return len(self.nodes)


def dose_point(cycle: PointId, index: int, day: int, end: bool = False) -> PointId:
    """Return the start (or ``end``) point of administration line ``index`` on ``day`` of a cycle."""
    return PointId(f"{cycle}.a{index}.d{day}.{'end' if end else 'start'}")


def day_of(minutes: int) -> int:
    """Return the cycle day that a time ``minutes`` after the cycle's start falls on (day 1 starts at 0)."""
    return minutes // DAY + 1


# -- building --------------------------------------------------------------------------


def _instances(group: ir.CycleGroup, cap: int | None) -> int:
    if group.open_ended:
        return 2
    count = group.count or 1
    return min(count, cap) if cap is not None else count


def _duration(admin: ir.Administration) -> tuple[int, int]:
    if admin.max_minutes is not None:
        return (admin.max_minutes if admin.exact_duration else 0), admin.max_minutes
    if admin.route is None or admin.route.code == "386359008":  # oral: an instant
        return 0, 0
    return 0, DAY - 1


def _fmt_days(days: int) -> str:
    return f"{days} day" if days == 1 else f"{days} days"


def duration(minutes: int) -> str:
    """Say a number of minutes as days, hours and minutes: ``7 days``, ``1 day 2 hours``, ``45 min``."""
    if minutes == 0:
        return "0 min"
    sign = "-" if minutes < 0 else ""
    days, rest = divmod(abs(minutes), DAY)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(_fmt_days(days))
    if hours:
        parts.append(f"{hours} hour" + ("s" if hours != 1 else ""))
    if mins:
        parts.append(f"{mins} min")
    return sign + " ".join(parts)


class _Builder:
    def __init__(self, regimen: ir.Regimen) -> None:
        self.regimen = regimen
        self.net = TimingNetwork(span=regimen.span, limited=True)
        limits = [lim.count for lim in regimen.plan.limits]
        self.cap = max(limits) if limits else None
        self.last_doses: dict[str, list[PointId]] = {}
        self.open_ends: list[tuple[PointId, Span]] = []
        self.displays = {a.medicine.name: a.medicine.display for g in regimen.cycles() for a in g.administrations}

    def build(self) -> TimingNetwork:
        previous: tuple[PointId, ir.CycleGroup] | None = None
        order: list[tuple[PointId, tuple[int, int]]] = []
        for p, part in enumerate(self.regimen.parts, start=1):
            for g, group in enumerate(part.cycles):
                count = _instances(group, self.cap)
                for k in range(count):
                    number = group.first + k
                    ident = PointId(f"p{p}.c{number}")
                    if ident in self.net.index:  # overlapping groups (reported by STR013): keep instances apart
                        ident = PointId(f"p{p}.g{g}.c{number}")
                    start = self.net.add_point(ident, ident, f"the start of cycle {number}")
                    if k == 0 and (previous is None or not previous[0].startswith(f"p{p}.")):
                        self.net.roots.append(start)
                    if previous is not None:
                        same_part = previous[0].startswith(f"p{p}.")
                        self._link_cycles(previous, start, group, same_part=same_part)
                        for end, span in self.open_ends:
                            self.net.constrain(end, start, Constraint(0, None, span, "ends before the next cycle"))
                        if not same_part:  # the next part may start later: the cycle still ends
                            self._close(previous)
                    self.open_ends = []
                    order.append((start, (p, g)))
                    self._cycle(start, number, group)
                    previous = (start, group)
            self.last_doses = {}
        if previous is not None:
            self._close(previous)
        for i, (start, key) in enumerate(order):
            before = order[i - 1][1] if i > 0 else None
            after = order[i + 1][1] if i + 1 < len(order) else None
            self.net.shapes[start] = (before, key, after)
        return self.net

    def _close(self, last: tuple[PointId, ir.CycleGroup]) -> None:
        """End every administration of a part's last cycle by that cycle's end (or its extension)."""
        start, group = last
        days = group.extend_to_days or group.length_days
        what = f"ends by the end of day {days}, the last of its cycle"
        for end, span in self.open_ends:
            self.net.constrain(start, end, Constraint(None, days * DAY, span, what))

    def _link_cycles(
        self, previous: tuple[PointId, ir.CycleGroup], start: PointId, group: ir.CycleGroup, *, same_part: bool
    ) -> None:
        before, earlier = previous
        length = earlier.length_days * DAY
        if same_part:
            upper = (earlier.extend_to_days or earlier.length_days) * DAY
            what = f"cycle length {_fmt_days(earlier.length_days)}"
            if earlier.extend_to_days:
                what += f", extendable to {_fmt_days(earlier.extend_to_days)}"
            self.net.constrain(before, start, Constraint(length, upper, earlier.span, what))
        else:
            self.net.constrain(before, start, Constraint(length, None, group.span, "the next part starts after"))

    def _cycle(self, start: PointId, number: int, group: ir.CycleGroup) -> None:
        doses = _CycleDoses(group)
        prefix = str(start)
        for i, admin in enumerate(group.administrations):
            if admin.prn:
                continue
            low, high = _duration(admin)
            for day in admin.days:
                label = f"{admin.medicine.display} on day {day} of cycle {number}"
                s = self.net.add_point(dose_point(start, i, day), start, label)
                e = self.net.add_point(dose_point(start, i, day, end=True), start, f"the end of {label}")
                if admin.max_minutes is not None:
                    what = ("over exactly " if admin.exact_duration else "over ") + duration(admin.max_minutes)
                else:
                    what = "taken at once" if high == 0 else "an infusion within the day"
                self.net.constrain(s, e, Constraint(low, high, admin.span, what))
                doses.add(i, day, (s, e))
                self.open_ends.append((e, admin.span))
        anchored = self._relations(prefix, start, group, doses)
        for (i, day), (s, _e) in doses.points.items():
            if (i, day) in anchored:
                continue  # a premedication moves with its anchor, whatever calendar day that is
            admin = group.administrations[i]
            shift = admin.shift_days or 0
            what = f"day {day}" + (f" ± {_fmt_days(shift)}" if shift else "")
            self.net.constrain(start, s, Constraint((day - 1 - shift) * DAY, (day + shift) * DAY - 1, admin.span, what))
        self._observations(prefix, start, group, doses)
        self._gaps(group, doses)

    def _chemo(
        self, prefix: str, start: PointId, group: ir.CycleGroup, doses: _CycleDoses, day: int
    ) -> tuple[PointId, PointId] | None:
        """Return the points of the day's chemotherapy (its first anti-cancer start, its last end), made once."""
        if day in doses.chemo:
            return doses.chemo[day]
        ends = doses.anticancer.get(day)
        made = None
        if ends:
            s = self.net.add_point(PointId(f"{prefix}.d{day}.chemo.start"), start, f"chemotherapy on day {day}")
            e = self.net.add_point(
                PointId(f"{prefix}.d{day}.chemo.end"), start, f"the end of chemotherapy on day {day}"
            )
            span = group.administrations[ends[0][0]].span
            self.net.constrain(s, ends[0][1][0], Constraint(0, 0, span, "the first anti-cancer medicine"))
            self.net.constrain(ends[-1][1][1], e, Constraint(0, 0, span, "the last anti-cancer medicine"))
            for i, (a_s, a_e) in ends:
                span = group.administrations[i].span
                self.net.constrain(s, a_s, Constraint(0, None, span, "starts with chemotherapy"))
                self.net.constrain(a_e, e, Constraint(0, None, span, "ends with chemotherapy"))
            made = (s, e)
        doses.chemo[day] = made
        return made

    def _relations(self, prefix: str, start: PointId, group: ir.CycleGroup, doses: _CycleDoses) -> set[tuple[int, int]]:
        """Add every relation's edges; return the doses that a bounded relation places."""
        anchored: set[tuple[int, int]] = set()
        points = doses.points
        for i, admin in enumerate(group.administrations):
            for rel in admin.relations:
                if rel.anchor_kind == "event":
                    continue
                step = 1 if rel.direction == "before" else -1
                for day in admin.days:
                    if (i, day) not in points:
                        continue
                    anchor = None
                    for anchor_day in (day, day + step):
                        anchor = (
                            self._chemo(prefix, start, group, doses, anchor_day)
                            if rel.anchor_kind == "chemotherapy"
                            else doses.first.get((rel.anchor, anchor_day))
                        )
                        if anchor is not None:
                            break
                    if anchor is None:
                        continue
                    this = points[(i, day)][0]
                    point = anchor[0] if rel.point == "start" else anchor[1]
                    what = _relation_text(rel, self.displays.get(rel.anchor, rel.anchor))
                    if rel.direction == "before":
                        self.net.constrain(this, point, Constraint(rel.low, rel.high, rel.span, what))
                    else:
                        self.net.constrain(point, this, Constraint(rel.low, rel.high, rel.span, what))
                    if rel.low is not None and rel.high is not None:
                        anchored.add((i, day))
        return anchored

    def _observations(self, prefix: str, start: PointId, group: ir.CycleGroup, doses: _CycleDoses) -> None:
        for o, obs in enumerate(group.observations):
            for (i, day), (_s, e) in doses.of.get(obs.medicine, ()):
                base = f"{prefix}.o{o}.a{i}.d{day}"
                label = f"the observation after {obs.medicine.display} on day {day}"
                os_ = self.net.add_point(PointId(base + ".start"), start, label)
                oe = self.net.add_point(PointId(base + ".end"), start, f"the end of {label}")
                self.net.constrain(e, os_, Constraint(0, 0, obs.span, "observation after the infusion"))
                self.net.constrain(
                    os_, oe, Constraint(obs.minutes, obs.minutes, obs.span, f"observe {obs.minutes} min")
                )

    def _gaps(self, group: ir.CycleGroup, doses: _CycleDoses) -> None:
        """Consecutive doses within the cycle, and from the previous cycle's last dose, keep their gap."""
        last: dict[str, list[PointId]] = {}
        for gap in group.gaps:
            keyed = sorted((day, i, s) for (i, day), (s, _e) in doses.of.get(gap.medicine, ()))
            starts = [s for _day, _i, s in keyed]
            last[gap.medicine.name] = starts
            constraint = Constraint(gap.days * DAY, None, gap.span, f"at least {_fmt_days(gap.days)} between doses")
            before = self.last_doses.get(gap.medicine.name)
            chain = ([before[-1]] if before else []) + starts
            for a, b in itertools.pairwise(chain):
                self.net.constrain(a, b, constraint)
        self.last_doses = last


class _CycleDoses:
    """The start and end points of one cycle's doses, found by line and day, by medicine and day, and by medicine.

    Each is found in constant time (a relation's anchor, an observation's or a gap's doses),
    never by going through every line of the cycle.
    """

    def __init__(self, group: ir.CycleGroup) -> None:
        self.group = group
        self.points: dict[tuple[int, int], tuple[PointId, PointId]] = {}
        # The first line of a medicine on a day: what a relation to it is timed from.
        self.first: dict[tuple[str, int], tuple[PointId, PointId]] = {}
        self.anticancer: dict[int, list[tuple[int, tuple[PointId, PointId]]]] = {}
        self.of: dict[Medicine, list[tuple[tuple[int, int], tuple[PointId, PointId]]]] = {}
        self.chemo: dict[int, tuple[PointId, PointId] | None] = {}

    def add(self, i: int, day: int, pair: tuple[PointId, PointId]) -> None:
        """Add the dose of line ``i`` on ``day`` (lines in order)."""
        admin = self.group.administrations[i]
        self.points[(i, day)] = pair
        self.first.setdefault((admin.medicine.name, day), pair)
        if admin.role == "anticancer":
            self.anticancer.setdefault(day, []).append((i, pair))
        self.of.setdefault(admin.medicine, []).append(((i, day), pair))


def _relation_text(rel: ir.Relation, anchor: str) -> str:
    if rel.high is None and not rel.low:
        amount = ""
    elif rel.high is None:
        amount = f"at least {duration(rel.low or 0)} "
    elif rel.low == rel.high:
        amount = f"{duration(rel.high)} "
    else:
        amount = f"{duration(rel.low or 0)} to {duration(rel.high)} "
    point = f"{rel.point} of " if rel.point != ("start" if rel.direction == "before" else "end") else ""
    return f"{amount}{rel.direction} {point}{anchor}"


def build_network(regimen: ir.Regimen) -> TimingNetwork:
    """Build the timing network of a lowered regimen."""
    with paused_gc():
        return _Builder(regimen).build()


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


class _Search:
    """Shortest distances over a network's arcs, by passes in the order of the improving arcs.

    Each pass (Goldberg and Radzik's) orders the points that the last pass improved, and all
    they improve in turn, by a depth-first search over the arcs that would improve a
    distance, and scans them in that order: a chain of constraints in either direction
    (doses "at least N days apart", cycle after cycle) settles in one pass, where a FIFO
    queue needs a pass per link. A negative cycle shows as a cycle of the predecessor links,
    searched for after every ``n`` steps (linear time between searches), or as a path of
    ``n`` arcs. The scratch arrays are kept between searches (only the points a search
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
        self.pred_arc = [-1] * n
        self.hops = [0] * n
        self.labeled = [False] * n
        self.mark = [0] * n
        self.epoch = 0
        self.touched: list[int] = []

    def run(self, sources: Sequence[int], keep: Callable[[int], bool] | None = None) -> int | None:
        """Search from ``sources`` over the points ``keep`` allows; return a point on a negative cycle, if any."""
        arcs, dist, labeled = self.arcs, self.dist, self.labeled
        n = len(arcs)
        for source in sources:
            if dist[source] is None:
                self.touched.append(source)
            dist[source] = 0
            labeled[source] = True
        frontier = list(sources)
        unchecked = 0
        while frontier:
            order = self._order(frontier, keep)
            frontier = []
            steps = 0
            for u in order:
                if not labeled[u]:
                    continue
                labeled[u] = False
                du = dist[u]
                assert du is not None
                hu = self.hops[u] + 1
                steps += len(arcs[u])
                for i, (v, w) in enumerate(arcs[u]):
                    if keep is not None and not keep(v):
                        continue
                    nd = du + w
                    dv = dist[v]
                    if dv is None or nd < dv:
                        if dv is None:
                            self.touched.append(v)
                        dist[v] = nd
                        self.pred[v] = u
                        self.pred_arc[v] = i
                        self.hops[v] = hu
                        if hu >= n:
                            return v
                        if not labeled[v]:
                            labeled[v] = True
                            frontier.append(v)
            self._count(steps)
            unchecked += steps
            if unchecked >= n and frontier:
                unchecked = 0
                found = _predecessor_cycle(self.pred, self.touched)
                if found is not None:
                    return found
        return None

    def _order(self, frontier: list[int], keep: Callable[[int], bool] | None) -> list[int]:
        """Order the frontier and what its improving arcs reach: reverse postorder of a depth-first search.

        Points not reached yet are leaves: the pass reaches them from the points before them.
        """
        arcs, dist, mark = self.arcs, self.dist, self.mark
        self.epoch += 1
        epoch = self.epoch
        order: list[int] = []
        for root in frontier:
            if mark[root] == epoch or not self.labeled[root]:
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
                    if mark[v] == epoch or (keep is not None and not keep(v)):
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

    def found(self) -> dict[int, int]:
        """Return the distances found, and reset the scratch arrays for the next search."""
        result: dict[int, int] = {}
        for i in self.touched:
            value = self.dist[i]
            assert value is not None
            result[i] = value
            self.dist[i] = None
            self.pred[i] = -1
            self.hops[i] = 0
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


def find_conflict(net: TimingNetwork) -> Conflict | None:
    """Return a negative cycle of the network, searched from each part's first cycle start, or None.

    Parts are joined only by "after" (no upper bound), so one root per part is needed for
    every point to be reached; within a part, every point has an upper bound from its
    cycle start, so the search reaches all of them.
    """
    if net.origin is None:
        return None
    n = len(net.nodes)
    search = _Search(net, net.arcs, counted=True)
    on_cycle = search.run([net.index[root] for root in net.roots])
    if on_cycle is None:
        net.potential = search.dist  # a schedule: every arc's reduced cost is >= 0 (pair_bounds)
        return None
    pred_node, pred_arc = search.pred, search.pred_arc
    node = on_cycle
    for _ in range(n):  # step back far enough to stand on the cycle itself
        node = pred_node[node]
    cycle: list[tuple[int, tuple[Constraint, bool], int]] = []
    seen: set[int] = set()
    while node not in seen:
        seen.add(node)
        u = pred_node[node]
        i = pred_arc[node]
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
    """Each point's feasible window, in minutes after its own cycle start."""

    earliest: dict[PointId, int]
    latest: dict[PointId, int]

    def of(self, point: PointId) -> tuple[int, int]:
        """Return ``(earliest, latest)`` for ``point``."""
        return self.earliest[point], self.latest[point]

    def items(self) -> Iterator[tuple[PointId, tuple[int, int]]]:
        """Iterate over ``(point, (earliest, latest))`` in network order."""
        for point, early in self.earliest.items():
            yield point, (early, self.latest[point])


def windows(net: TimingNetwork) -> Windows:
    """Compute every point's window relative to its cycle start (for a consistent network).

    Two rooted single-source shortest-path passes per cycle start (forward for the
    latest time, backward for the earliest) over the points of that cycle and of its two
    neighbours, so that cross-cycle constraints count. Windows are sound: a path through
    cycles further away could only narrow them. Cycles whose neighbourhoods have the same
    shape (the same groups before, at and after them) have the same windows, so each shape
    is solved once: linear in the size of the network, never all-pairs.
    """
    nodes, arcs = net.nodes, net.arcs
    reverse = net.reverse
    index = net.index
    cycle_of, position = _positions(net)
    members: list[list[int]] = [[] for _ in position]
    for i, k in enumerate(cycle_of):
        members[k].append(i)
    far = DAY * 10_000
    earliest: dict[PointId, int] = {}
    latest: dict[PointId, int] = {}
    solved: dict[object, dict[str, tuple[int, int]]] = {}
    searches = _Search(net, arcs, counted=True), _Search(net, reverse, counted=True)
    for cycle, k in position.items():
        shape = net.shapes.get(cycle, (cycle,))
        offsets = solved.get(shape)
        if offsets is None:
            forward = _local(searches[0], index[cycle], cycle_of, k)
            backward = _local(searches[1], index[cycle], cycle_of, k)
            offsets = {}
            for i in members[k]:
                late, early = forward.get(i), backward.get(i)
                offsets[nodes[i][len(cycle) :]] = (
                    -early if early is not None else -far,
                    late if late is not None else far,
                )
            solved[shape] = offsets
        for i in members[k]:
            node = nodes[i]
            earliest[node], latest[node] = offsets[node[len(cycle) :]]
    return Windows(earliest=earliest, latest=latest)


def pair_bounds(net: TimingNetwork, u: PointId, v: PointId) -> tuple[int | None, int | None]:
    """Return the solved bounds ``(lower, upper)`` of ``v - u`` in minutes (None: unbounded).

    Two local shortest-path searches from ``u`` (forward for the upper bound, backward for
    the lower), over the points of ``u``'s cycle and of its two neighbours, as ``windows``
    does: the bounds are sound, and never come from all pairs. Meaningful for a consistent
    network only (``find_conflict`` found no conflict); a point outside those cycles is
    unbounded. The searches are Dijkstra's, on arc weights made non-negative by the schedule
    ``find_conflict`` found, and go only as far as the points asked about: a page asks about
    the few points around each anchor, and a long cycle's points are not all visited for each.

    Args:
        net: the timing network.
        u: the point measured from.
        v: the point measured.

    Returns:
        The least and the greatest value ``v - u`` may take.

    """
    iu, iv = net.index[u], net.index[v]
    solved = net._near.get(iu)
    if solved is None:  # pages ask about many points from one anchor: one search per anchor, resumed
        potential = net.potential
        if potential is None:
            find_conflict(net)
            potential = net.potential or [0] * len(net.nodes)
        cycle_of, position = _positions(net)
        k = position[net.cycle_of[iu]]

        def keep(x: int) -> bool:
            return abs(cycle_of[x] - k) <= 1

        solved = net._near[iu] = (
            _Nearest(net.arcs, iu, keep, potential, 1),
            _Nearest(net.reverse, iu, keep, potential, -1),
        )
    upper, below = solved[0].distance(iv), solved[1].distance(iv)
    return (-below if below is not None else None), upper


class _Nearest:
    """Dijkstra's search from one point, resumed for each point asked about (weights made >= 0 by a schedule)."""

    def __init__(
        self,
        arcs: Sequence[Sequence[tuple[int, int]]],
        root: int,
        keep: Callable[[int], bool],
        potential: Sequence[int | None],
        sign: int,
    ) -> None:
        self.arcs = arcs
        self.keep = keep
        self.potential = potential
        self.sign = sign  # +1: the arcs as they are; -1: reversed, so the potential is negated
        self.root = root
        self.heap: list[tuple[int, int]] = [(0, root)]
        self.best: dict[int, int] = {root: 0}
        self.settled: dict[int, int] = {}

    def _pi(self, x: int) -> int:
        value = self.potential[x]
        return self.sign * value if value is not None else 0

    def distance(self, target: int) -> int | None:
        """Return the shortest distance from the root to ``target`` (None: it cannot be reached)."""
        heap, settled = self.heap, self.settled
        while target not in settled and heap:
            d, u = heapq.heappop(heap)
            if u in settled:
                continue
            settled[u] = d
            pu = self._pi(u)
            for v, w in self.arcs[u]:
                if v in settled or not self.keep(v):
                    continue
                nd = d + w + pu - self._pi(v)
                if nd < self.best.get(v, nd + 1):
                    self.best[v] = nd
                    heapq.heappush(heap, (nd, v))
        reduced = settled.get(target)
        return None if reduced is None else reduced - self._pi(self.root) + self._pi(target)


def _positions(net: TimingNetwork) -> tuple[list[int], dict[PointId, int]]:
    """Return each point's cycle as a number (cycle starts numbered in network order), and the numbering."""
    position: dict[PointId, int] = {}
    cycle_of = [position.setdefault(cycle, len(position)) for cycle in net.cycle_of]
    return cycle_of, position


def _local(search: _Search, root: int, cycle_of: Sequence[int], position: int) -> dict[int, int]:
    """Shortest distances from ``root`` over the points of cycles ``position - 1 .. position + 1``.

    A negative cycle (which ``find_conflict`` reports before windows are asked for) stops the search.
    """
    search.run([root], lambda v: abs(cycle_of[v] - position) <= 1)
    return search.found()
