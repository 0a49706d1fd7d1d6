"""The timing network: a Simple Temporal Network of a regimen's time points.

Every point is a minute on one time line. Every edge ``u -> v`` bounds ``v - u`` to
``[lower, upper]`` (None: unbounded) and remembers the source span that made it. The
meanings are those of the language brief, section 2:

- cycle k+1 starts ``length .. extend_to`` days after cycle k;
- "day d" puts a start in ``[(d-1)*1440, d*1440 - 1]`` minutes after its cycle start,
  widened by a shift window ("± 2 days");
- an administration ends ``0 .. max`` minutes after it starts (exactly ``max`` with
  ``over exactly``); oral doses are instants; an infusion with no stated duration ends
  within the day; every administration ends before the next cycle starts;
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

import itertools
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import NewType

import networkx as nx

from regdsl.model import ir
from regdsl.model.medicines import Medicine
from regdsl.source import Span

__all__ = [
    "DAY",
    "Conflict",
    "Constraint",
    "PointId",
    "TimingNetwork",
    "Windows",
    "build_network",
    "duration",
    "find_conflict",
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
    """A typed wrapper over ``nx.DiGraph``: nodes are points, edges carry constraints."""

    graph: nx.DiGraph[PointId] = field(default_factory=nx.DiGraph)
    origin: PointId | None = None

    def add_point(self, point: PointId, cycle: PointId, label: str) -> PointId:
        """Add a point (idempotent); the first point added is the origin."""
        if point not in self.graph:
            self.graph.add_node(point, info=Point(cycle, label))
            if self.origin is None:
                self.origin = point
        return point

    def constrain(self, u: PointId, v: PointId, constraint: Constraint) -> None:
        """Add ``lower <= v - u <= upper``; several constraints on one pair are all kept."""
        if self.graph.has_edge(u, v):
            self.graph.edges[u, v]["constraints"].append(constraint)
        else:
            self.graph.add_edge(u, v, constraints=[constraint])

    def info(self, point: PointId) -> Point:
        """Return what ``point`` is."""
        found: Point = self.graph.nodes[point]["info"]
        return found

    def constraints(self, u: PointId, v: PointId) -> list[Constraint]:
        """Return the constraints on the pair ``(u, v)``."""
        found: list[Constraint] = self.graph.edges[u, v]["constraints"]
        return found

    def __len__(self) -> int:
        return int(self.graph.number_of_nodes())


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
        self.net = TimingNetwork()
        limits = [lim.count for lim in regimen.plan.limits]
        self.cap = max(limits) if limits else None
        self.last_doses: dict[str, list[PointId]] = {}
        self.open_ends: list[tuple[PointId, Span]] = []
        self.displays = {a.medicine.name: a.medicine.display for g in regimen.cycles() for a in g.administrations}

    def build(self) -> TimingNetwork:
        previous: tuple[PointId, ir.CycleGroup] | None = None
        for p, part in enumerate(self.regimen.parts, start=1):
            for group in part.cycles:
                for k in range(_instances(group, self.cap)):
                    number = group.first + k
                    start = self.net.add_point(
                        PointId(f"p{p}.c{number}"), PointId(f"p{p}.c{number}"), f"the start of cycle {number}"
                    )
                    if previous is not None:
                        same_part = previous[0].startswith(f"p{p}.")
                        self._link_cycles(previous, start, group, same_part=same_part)
                        for end, span in self.open_ends:
                            self.net.constrain(end, start, Constraint(0, None, span, "ends before the next cycle"))
                    self.open_ends = []
                    self._cycle(p, number, start, group)
                    previous = (start, group)
            self.last_doses = {}
        return self.net

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

    def _cycle(self, p: int, number: int, start: PointId, group: ir.CycleGroup) -> None:
        points: dict[tuple[int, int], tuple[PointId, PointId]] = {}
        prefix = f"p{p}.c{number}"
        for i, admin in enumerate(group.administrations):
            if admin.prn:
                continue
            low, high = _duration(admin)
            for day in admin.days:
                base = f"{prefix}.a{i}.d{day}"
                label = f"{admin.medicine.display} on day {day} of cycle {number}"
                s = self.net.add_point(PointId(base + ".start"), start, label)
                e = self.net.add_point(PointId(base + ".end"), start, f"the end of {label}")
                if admin.max_minutes is not None:
                    what = ("over exactly " if admin.exact_duration else "over ") + duration(admin.max_minutes)
                else:
                    what = "taken at once" if high == 0 else "an infusion within the day"
                self.net.constrain(s, e, Constraint(low, high, admin.span, what))
                points[(i, day)] = (s, e)
                self.open_ends.append((e, admin.span))
        anchored = self._relations(prefix, start, group, points)
        for (i, day), (s, _e) in points.items():
            if (i, day) in anchored:
                continue  # a premedication moves with its anchor, whatever calendar day that is
            admin = group.administrations[i]
            shift = admin.shift_days or 0
            what = f"day {day}" + (f" ± {_fmt_days(shift)}" if shift else "")
            self.net.constrain(start, s, Constraint((day - 1 - shift) * DAY, (day + shift) * DAY - 1, admin.span, what))
        self._observations(prefix, start, group, points)
        self._gaps(group, points)

    def _anchor_points(
        self, group: ir.CycleGroup, points: dict[tuple[int, int], tuple[PointId, PointId]], name: str, day: int
    ) -> tuple[PointId, PointId] | None:
        for i, admin in enumerate(group.administrations):
            if admin.medicine.name == name and (i, day) in points:
                return points[(i, day)]
        return None

    def _chemo(
        self,
        prefix: str,
        start: PointId,
        group: ir.CycleGroup,
        points: dict[tuple[int, int], tuple[PointId, PointId]],
        day: int,
    ) -> tuple[PointId, PointId] | None:
        ends = [
            (i, points[(i, day)])
            for i, a in enumerate(group.administrations)
            if a.role == "anticancer" and (i, day) in points
        ]
        if not ends:
            return None
        s = self.net.add_point(PointId(f"{prefix}.d{day}.chemo.start"), start, f"chemotherapy on day {day}")
        e = self.net.add_point(PointId(f"{prefix}.d{day}.chemo.end"), start, f"the end of chemotherapy on day {day}")
        if not self.net.graph.has_edge(s, ends[0][1][0]):
            span = group.administrations[ends[0][0]].span
            self.net.constrain(s, ends[0][1][0], Constraint(0, 0, span, "the first anti-cancer medicine"))
            self.net.constrain(ends[-1][1][1], e, Constraint(0, 0, span, "the last anti-cancer medicine"))
            for i, (a_s, a_e) in ends:
                span = group.administrations[i].span
                self.net.constrain(s, a_s, Constraint(0, None, span, "starts with chemotherapy"))
                self.net.constrain(a_e, e, Constraint(0, None, span, "ends with chemotherapy"))
        return s, e

    def _relations(
        self, prefix: str, start: PointId, group: ir.CycleGroup, points: dict[tuple[int, int], tuple[PointId, PointId]]
    ) -> set[tuple[int, int]]:
        """Add every relation's edges; return the doses that a bounded relation places."""
        anchored: set[tuple[int, int]] = set()
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
                            self._chemo(prefix, start, group, points, anchor_day)
                            if rel.anchor_kind == "chemotherapy"
                            else self._anchor_points(group, points, rel.anchor, anchor_day)
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

    def _observations(
        self, prefix: str, start: PointId, group: ir.CycleGroup, points: dict[tuple[int, int], tuple[PointId, PointId]]
    ) -> None:
        for o, obs in enumerate(group.observations):
            for (i, day), (_s, e) in points.items():
                if group.administrations[i].medicine != obs.medicine:
                    continue
                base = f"{prefix}.o{o}.a{i}.d{day}"
                label = f"the observation after {obs.medicine.display} on day {day}"
                os_ = self.net.add_point(PointId(base + ".start"), start, label)
                oe = self.net.add_point(PointId(base + ".end"), start, f"the end of {label}")
                self.net.constrain(e, os_, Constraint(0, 0, obs.span, "observation after the infusion"))
                self.net.constrain(
                    os_, oe, Constraint(obs.minutes, obs.minutes, obs.span, f"observe {obs.minutes} min")
                )

    def _doses(
        self, group: ir.CycleGroup, points: dict[tuple[int, int], tuple[PointId, PointId]], medicine: Medicine
    ) -> list[PointId]:
        keyed = sorted((day, i) for (i, day) in points if group.administrations[i].medicine == medicine)
        return [points[(i, day)][0] for day, i in keyed]

    def _gaps(self, group: ir.CycleGroup, points: dict[tuple[int, int], tuple[PointId, PointId]]) -> None:
        """Consecutive doses within the cycle, and from the previous cycle's last dose, keep their gap."""
        doses: dict[str, list[PointId]] = {}
        for gap in group.gaps:
            starts = self._doses(group, points, gap.medicine)
            doses[gap.medicine.name] = starts
            constraint = Constraint(gap.days * DAY, None, gap.span, f"at least {_fmt_days(gap.days)} between doses")
            before = self.last_doses.get(gap.medicine.name)
            chain = ([before[-1]] if before else []) + starts
            for a, b in itertools.pairwise(chain):
                self.net.constrain(a, b, constraint)
        self.last_doses = doses


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
    return _Builder(regimen).build()


# -- solving ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Arc:
    """A distance-graph arc: ``dist(target) <= dist(source) + weight``."""

    target: int
    weight: int
    constraint: Constraint
    upper: bool


@dataclass(frozen=True, slots=True)
class Conflict:
    """A negative cycle: the constraints that cannot all hold, and by how much."""

    constraints: tuple[Constraint, ...]
    needed: int
    allowed: int
    points: tuple[PointId, ...]


def _distance_graph(net: TimingNetwork) -> tuple[list[PointId], list[list[_Arc]]]:
    nodes: list[PointId] = list(net.graph.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    arcs: list[list[_Arc]] = [[] for _ in nodes]
    for u, v, data in net.graph.edges(data=True):
        for c in data["constraints"]:
            if c.upper is not None:
                arcs[index[u]].append(_Arc(index[v], c.upper, c, True))
            if c.lower is not None:
                arcs[index[v]].append(_Arc(index[u], -c.lower, c, False))
    return nodes, arcs


def _spfa(
    arcs: Sequence[Sequence[_Arc]], source: int, n: int
) -> tuple[list[float], list[tuple[int, _Arc] | None], int | None]:
    """Bellman-Ford with a queue, from ``source``; returns distances, predecessors and a node on a negative cycle."""
    inf = float("inf")
    dist: list[float] = [inf] * n
    pred: list[tuple[int, _Arc] | None] = [None] * n
    hops = [0] * n
    queued = [False] * n
    dist[source] = 0
    queue = deque([source])
    queued[source] = True
    while queue:
        u = queue.popleft()
        queued[u] = False
        du = dist[u]
        for arc in arcs[u]:
            nd = du + arc.weight
            v = arc.target
            if nd < dist[v]:
                dist[v] = nd
                pred[v] = (u, arc)
                hops[v] = hops[u] + 1
                if hops[v] >= n:
                    return dist, pred, v
                if not queued[v]:
                    queued[v] = True
                    queue.append(v)
    return dist, pred, None


def _cycle_from(pred: Sequence[tuple[int, _Arc] | None], start: int, n: int) -> list[tuple[int, _Arc]]:
    node = start
    for _ in range(n):  # step back far enough to stand on the cycle itself
        entry = pred[node]
        assert entry is not None
        node = entry[0]
    cycle: list[tuple[int, _Arc]] = []
    seen: set[int] = set()
    while node not in seen:
        seen.add(node)
        entry = pred[node]
        assert entry is not None
        cycle.append(entry)
        node = entry[0]
    cycle.reverse()
    return cycle


def find_conflict(net: TimingNetwork) -> Conflict | None:
    """Return a negative cycle of the network, searched from its origin, or None."""
    if net.origin is None:
        return None
    nodes, arcs = _distance_graph(net)
    source = nodes.index(net.origin)
    _dist, pred, on_cycle = _spfa(arcs, source, len(nodes))
    if on_cycle is None:
        return None
    cycle = _cycle_from(pred, on_cycle, len(nodes))
    needed = sum(-arc.weight for _, arc in cycle if not arc.upper)
    allowed = sum(arc.weight for _, arc in cycle if arc.upper)
    unique: dict[tuple[int, int, str], Constraint] = {}
    for _, arc in cycle:
        c = arc.constraint
        unique.setdefault((c.span.start, c.span.end, c.what), c)
    return Conflict(
        constraints=tuple(sorted(unique.values(), key=lambda c: (c.span.path, c.span.start, c.what))),
        needed=needed,
        allowed=allowed,
        points=tuple(nodes[u] for u, _ in cycle),
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

    Two rooted single-source shortest-path passes per cycle start, over the points of
    that cycle and of its neighbours (so that cross-cycle constraints count): linear in
    the size of the network, never all-pairs.
    """
    nodes, arcs = _distance_graph(net)
    index = {n: i for i, n in enumerate(nodes)}
    reverse: list[list[_Arc]] = [[] for _ in nodes]
    for u, out in enumerate(arcs):
        for arc in out:
            reverse[arc.target].append(_Arc(u, arc.weight, arc.constraint, arc.upper))
    members: dict[PointId, list[int]] = {}
    for i, node in enumerate(nodes):
        members.setdefault(net.info(node).cycle, []).append(i)
    cycles = list(members)
    earliest: dict[PointId, int] = {}
    latest: dict[PointId, int] = {}
    for position, cycle in enumerate(cycles):
        local = set(members[cycle])
        for neighbour in cycles[max(0, position - 1) : position + 2]:
            local.update(members[neighbour])
        root = index[cycle]
        forward = _local_distances(arcs, root, local)
        backward = _local_distances(reverse, root, local)
        for i in members[cycle]:
            node = nodes[i]
            latest[node] = int(forward[i]) if forward[i] != float("inf") else DAY * 10_000
            earliest[node] = -int(backward[i]) if backward[i] != float("inf") else -DAY * 10_000
    return Windows(earliest=earliest, latest=latest)


def _local_distances(arcs: Sequence[Sequence[_Arc]], source: int, local: set[int]) -> dict[int, float]:
    dist: dict[int, float] = {source: 0}
    queue = deque([source])
    queued = {source}
    while queue:
        u = queue.popleft()
        queued.discard(u)
        du = dist[u]
        for arc in arcs[u]:
            v = arc.target
            if v not in local:
                continue
            nd = du + arc.weight
            if nd < dist.get(v, float("inf")):
                dist[v] = nd
                if v not in queued:
                    queued.add(v)
                    queue.append(v)
    return {i: dist.get(i, float("inf")) for i in local}
