"""Cumulative doses: what a regimen's plan can give of a medicine with a lifetime limit.

One computation for the rules (SAF301 to SAF306) and the pages (the totals under the cycle
tables), so the two never disagree. The limits, the doxorubicin-equivalent factors and their
sources are data (``data/cumulative.json``), grouped by jurisdiction.

What one cycle gives: dose × days for each line (a dose per day, `mg/m2/day`, counts its
amount on each day it is given, however many times a day; a dose per hour or per minute
counts its rate over the line's longest duration, a day when none is written); a choice's
lines count by their largest branch, as a patient is given one branch.

What the plan gives: the worst path the plan allows. The phase graph (``phases.py``) joins
cycle groups by the plan's decisions; each group counts its cycles, no more than the
plan's largest `at most N cycles` lets any patient have. Groups that a decision can lead
back to (a loop of the phase graph) are counted together, each once with all its cycles.
The path with the most of the medicine is the total. A hand-over (`continue with ID`) adds
the worst path of that regimen when it was lowered in the same run (``linked``); a cycle
limit the two share (`counted with ID`) leaves the other regimen only the cycles this one
did not use. A regimen already on the path counts nothing the second time: each regimen
is counted once per path, so a loop of hand-overs ends. Each regimen's worst path (for a given
number of cycles left by a shared limit) is worked out once and kept: the work is linear in the
regimens and groups, however many paths the hand-overs make. In a loop of hand-overs (BRA010) a
regimen's worst path is the one worked out on the first path that reaches it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from importlib import resources

from regdsl.compile.phases import PhaseGraph, PhaseId, PhaseKind, Transition, build_phases, regimen_space
from regdsl.model import ir
from regdsl.model.limits import TooComplex
from regdsl.model.medicines import LifetimeLimit, Medicine, identities
from regdsl.model.vocabulary import MG_PER_M2, ROUTE_BY_ALIAS, Unit, find_unit
from regdsl.source import Span

__all__ = [
    "DEFAULT",
    "EQUIVALENTS",
    "FACTORS",
    "JURISDICTIONS",
    "LIFETIME_LIMITS",
    "Exposure",
    "Factor",
    "LifetimeLimit",
    "LimitSet",
    "equivalents",
    "exposures",
    "limit_of",
]

DEFAULT = "default"  # the jurisdiction used unless the configuration names another
EQUIVALENTS = "doxorubicin equivalents"  # the key of the combined anthracycline total


@dataclass(frozen=True, slots=True)
class Factor:
    """A doxorubicin-equivalent factor: a medicine's mg/m² times ``factor`` is the doxorubicin dose of equal risk."""

    medicine: str
    factor: Decimal
    source: str


@dataclass(frozen=True, slots=True)
class LimitSet:
    """One jurisdiction's limits: each medicine's, by generic name, and the doxorubicin-equivalent limit."""

    description: str
    limits: Mapping[str, LifetimeLimit]
    equivalents: LifetimeLimit


def _unit_code(text: str) -> str:
    unit = find_unit(text)
    assert unit is not None, text  # the data file's units are the vocabulary's (tested)
    return unit.code


def _limit(medicine: str, entry: Mapping[str, object]) -> LifetimeLimit:
    other = entry.get("other_unit")
    routes = entry.get("routes")
    return LifetimeLimit(
        medicine,
        _unit_code(str(entry["unit"])),
        Decimal(str(entry["limit"])),
        str(entry["source"]),
        Decimal(str(entry["caution"])) if "caution" in entry else None,
        str(entry["caution_source"]) if "caution_source" in entry else None,
        frozenset(ROUTE_BY_ALIAS[str(r).lower()].code for r in routes) if isinstance(routes, list) else None,
        (_unit_code(str(other["unit"])), Decimal(str(other["per"])), str(other["source"]))
        if isinstance(other, dict)
        else None,
    )


def _load() -> tuple[dict[str, LimitSet], dict[str, Factor]]:
    data = json.loads(resources.files("regdsl.model").joinpath("data", "cumulative.json").read_text("utf-8"))
    sets = {
        name: LimitSet(
            description=entry["description"],
            limits={item["medicine"]: _limit(item["medicine"], item) for item in entry["limits"]},
            equivalents=_limit(EQUIVALENTS, entry["equivalents"]),
        )
        for name, entry in data["jurisdictions"].items()
    }
    factors = {
        item["medicine"]: Factor(item["medicine"], Decimal(item["factor"]), item["source"])
        for item in data["equivalents"]["factors"]
    }
    return sets, factors


JURISDICTIONS, FACTORS = _load()
LIFETIME_LIMITS: Mapping[str, LifetimeLimit] = JURISDICTIONS[DEFAULT].limits


def limit_of(medicine: Medicine, jurisdiction: str = DEFAULT) -> LifetimeLimit | None:
    """Return the lifetime limit that applies to ``medicine``: its library's, else the jurisdiction's."""
    if medicine.lifetime is not None:
        return medicine.lifetime
    limits = JURISDICTIONS.get(jurisdiction, JURISDICTIONS[DEFAULT]).limits
    return next((limits[name] for name in identities(medicine) if name in limits), None)


def factor_of(medicine: Medicine) -> Factor | None:
    """Return ``medicine``'s doxorubicin-equivalent factor: its library's, else the package's, if it has one."""
    if medicine.equivalent is not None:
        return Factor(medicine.name, *medicine.equivalent)
    return next((FACTORS[name] for name in identities(medicine) if name in FACTORS), None)


@dataclass(frozen=True, slots=True)
class Exposure:
    """What the worst path of a regimen's plan gives of one medicine (or of doxorubicin equivalents).

    ``limit`` is the limit that applies (the library's `lifetime max`, else the package's);
    ``lines`` are each administration line on the path (this regimen's first), with its total,
    its cycle count and, for doxorubicin equivalents, its medicine's own total; and
    cycle count; ``groups`` each cycle group's amount in one cycle and the number of its
    cycles on the path; ``open_group`` the first group whose cycles nothing bounds (then
    ``total`` counts the others only). ``path`` names the groups and regimens of the worst
    path when the plan allows more than one; ``linked`` is what each regimen handed over to
    adds (its id, amount and what it gives, in words) and ``handover`` the line that hands
    over. ``factors`` (doxorubicin equivalents only) gives each medicine's own total and its
    factor.
    """

    limit: LifetimeLimit
    display: str  # the medicine as its first line writes it (``doxorubicin equivalents`` for the combined total)
    total: Decimal
    lines: tuple[tuple[Span, Decimal, int, Decimal], ...]
    groups: tuple[tuple[ir.CycleGroup, Decimal, int], ...]
    open_group: ir.CycleGroup | None
    cap: ir.Limit | None
    international: bool
    path: tuple[str, ...] = ()
    linked: tuple[tuple[str, Decimal], ...] = ()
    handover: Span | None = None
    factors: tuple[tuple[Medicine, Decimal, Factor], ...] = ()

    @property
    def converts(self) -> bool:
        """Whether a doxorubicin-equivalent total says more than one medicine's own: two or more, or a factor not 1."""
        return len(self.factors) > 1 or any(factor.factor != 1 for _m, _g, factor in self.factors)


def _cap(regimen: ir.Regimen) -> ir.Limit | None:
    """Return the limit on the most cycles any patient has: None when some patient has no limit.

    A patient's cycles are bounded by the smallest `at most N cycles` whose condition holds for
    them; a limit with a condition bounds no one else (`at most 3 cycles if igcccg is good`
    leaves the other groups their written cycles). Each patient state of the limits is tried.
    """
    limits = regimen.plan.cycle_limits()
    if not limits:
        return None
    space = regimen_space(regimen, (limit.cond for limit in limits))
    holding = [(limit, space.truth(limit.cond)) for limit in limits]
    most: ir.Limit | None = None
    for state in space.all():
        applying = [limit for limit, states in holding if state in states]
        if not applying:
            return None
        smallest = min(applying, key=lambda limit: limit.count)
        if most is None or smallest.count > most.count:
            most = smallest
    return most


def _cycles(group: ir.CycleGroup, cap: int | None) -> int | None:
    """How many cycles of ``group`` the plan allows, numbering no cycle past ``cap``; None when nothing bounds them."""
    last = None if group.open_ended else (group.last or group.first)
    if cap is not None:
        last = cap if last is None else min(last, cap)
    if last is None:
        return None
    return max(0, last - group.first + 1)


def _amount_unit(unit: Unit) -> Unit:
    """Return the unit one amount of ``unit`` is in: `mg/m²` for `mg/m²/day`, the unit itself for an amount."""
    return (find_unit(unit.amount) if unit.amount is not None else None) or unit


def _per_cycle(admin: ir.Administration, per_unit: Decimal) -> Decimal:
    """Return what one cycle of ``admin`` gives, in the limit's unit."""
    dose, unit = admin.dose.amount / per_unit, admin.dose.unit
    if unit.per_minutes == 1440:  # a dose per day: its amount on each day, however it is split
        return dose * len(admin.days)
    if unit.per_minutes is not None:  # a rate: over the longest the line may take each day
        minutes = admin.max_minutes if admin.max_minutes is not None else 1440
        return dose * minutes / unit.per_minutes * len(admin.days)
    per_day = admin.frequency.per_day if admin.frequency else 1
    return dose * len(admin.days) * per_day


@dataclass(frozen=True, slots=True)
class _Given:
    """What one line gives in one cycle: of its own medicine, in its limit's unit, and counted for a key."""

    admin: ir.Administration
    own: Decimal
    counted: Decimal
    international: bool


def _counted(admin: ir.Administration, jurisdiction: str) -> tuple[LifetimeLimit, Decimal, bool] | None:
    """Return the limit a line counts towards, what one cycle of it gives in that limit's unit, and whether in IU."""
    limit = limit_of(admin.medicine, jurisdiction)
    if limit is None or admin.prn:
        return None
    code = _amount_unit(admin.dose.unit).code
    per_unit = Decimal(1)
    if limit.other_unit is not None and code == limit.other_unit[0]:
        per_unit = limit.other_unit[1]
    elif code != limit.unit:
        return None
    if limit.routes is not None and (admin.route is None or admin.route.code not in limit.routes):
        return None
    return limit, _per_cycle(admin, per_unit), per_unit != 1


def _keyed(admin: ir.Administration, jurisdiction: str) -> Iterator[tuple[str, LifetimeLimit | None, _Given]]:
    """Yield each total a line counts towards: its medicine's, and for an anthracycline in mg/m² the equivalents.

    A medicine with a factor and no lifetime limit of its own (a library's) counts towards the
    equivalents alone; one with a limit counts the doses its limit counts (IDArubicin: IV only).
    """
    counted = _counted(admin, jurisdiction)
    if counted is not None:
        limit, one, international = counted
        yield identities(admin.medicine)[0], limit, _Given(admin, one, one, international)
    factor = factor_of(admin.medicine)
    if factor is None:
        return
    if counted is not None:
        if counted[0].unit == MG_PER_M2:
            yield EQUIVALENTS, None, _Given(admin, counted[1], counted[1] * factor.factor, False)
    elif (
        not admin.prn
        and limit_of(admin.medicine, jurisdiction) is None
        and _amount_unit(admin.dose.unit).code == MG_PER_M2
    ):
        own = _per_cycle(admin, Decimal(1))
        yield EQUIVALENTS, None, _Given(admin, own, own * factor.factor, False)


@dataclass(frozen=True, slots=True)
class _Cycle:
    """What one cycle of a group gives for one key: the amount, and the lines giving it (a choice's largest branch)."""

    amount: Decimal
    given: tuple[_Given, ...]


def _group_cycles(group: ir.CycleGroup, jurisdiction: str) -> dict[str, _Cycle]:
    """Return what one cycle of ``group`` gives for each key."""
    plain: dict[str, list[_Given]] = {}
    branches: dict[tuple[str, Span], dict[int, list[_Given]]] = {}
    for admin in group.administrations:
        for key, _limit, given in _keyed(admin, jurisdiction):
            if admin.guard is None:
                plain.setdefault(key, []).append(given)
            else:
                branch = branches.setdefault((key, admin.guard.choice), {})
                branch.setdefault(admin.guard.branch, []).append(given)
    for (key, _choice), by_branch in branches.items():
        plain.setdefault(key, []).extend(max(by_branch.values(), key=lambda items: sum(g.counted for g in items)))
    return {key: _Cycle(sum((g.counted for g in items), Decimal(0)), tuple(items)) for key, items in plain.items()}


@dataclass(frozen=True, slots=True)
class _Step:
    """A cycle group on a path: its cycles and what one of them gives."""

    group: ir.CycleGroup
    cycle: _Cycle
    count: int


@dataclass(frozen=True, slots=True)
class _Walk:
    """A path so far: its total, its cycles, its groups of this regimen, what linked regimens add, its open group."""

    total: Decimal = Decimal(0)
    cycles: int = 0
    steps: tuple[_Step, ...] = ()
    names: tuple[str, ...] = ()
    linked: tuple[tuple[str, Decimal, tuple[_Step, ...]], ...] = ()
    handover: Span | None = None
    open_group: ir.CycleGroup | None = None


@dataclass(slots=True)
class _Walker:
    """The worst path of each regimen for one key, through the regimens lowered with it (``linked``)."""

    key: str
    jurisdiction: str
    linked: Mapping[str, ir.Regimen]
    seen: dict[tuple[str, int | None], _Walk] = field(default_factory=dict)
    branching: dict[str, bool] = field(default_factory=dict)  # whether each regimen's plan allows several paths

    def walk(
        self, regimen: ir.Regimen, cap: int | None, path: frozenset[str], spent: Mapping[str, int] | None = None
    ) -> _Walk:
        """Return the worst path of ``regimen`` numbering no cycle past ``cap``, nor past its own cycle limit.

        ``spent`` are the cycles the regimens before it on the path gave: those its own limit
        counts with it (`counted with`) leave it only the rest.
        """
        own = _cap(regimen)
        if own is not None:
            left = max(0, own.count - sum((spent or {}).get(other, 0) for other in own.counted_with))
            cap = left if cap is None else min(cap, left)
        memo = (regimen.id, cap)
        if memo in self.seen:
            return self.seen[memo]
        found = self._walk(regimen, own, cap, path | {regimen.id}, spent or {})
        self.seen[memo] = found
        return found

    def _walk(
        self, regimen: ir.Regimen, own: ir.Limit | None, cap: int | None, path: frozenset[str], spent: Mapping[str, int]
    ) -> _Walk:
        graph = _graph(regimen)
        self.branching[regimen.id] = _branching(graph)
        components = graph.components()
        component_of = {node: k for k, members in enumerate(components) for node in members}
        spans = {(u, v): t.span for u, v, t in graph.transitions}
        arriving: dict[int, _Walk] = {component_of[_START]: _Walk()}
        best = _Walk()
        for k in reversed(range(len(components))):  # Tarjan's order reversed: every predecessor first
            before = arriving.get(k)
            if before is None:
                continue
            after = self._through(regimen.id, graph, sorted(components[k]), before, own, cap, path, spent)
            if after.total > best.total or (best.open_group is None and after.open_group is not None):
                best = after
            for node in sorted(components[k]):
                for nxt in graph.successors(node):
                    target = component_of[nxt]
                    if target == k:
                        continue
                    onward = after
                    if nxt.kind is PhaseKind.REGIMEN and onward.handover is None:
                        onward = replace(onward, handover=spans.get((node, nxt)))
                    current = arriving.get(target)
                    if current is None or onward.total > current.total:
                        arriving[target] = onward
        return best

    def _through(
        self,
        here: str,
        graph: PhaseGraph,
        nodes: list[PhaseId],
        walk: _Walk,
        own: ir.Limit | None,
        cap: int | None,
        path: frozenset[str],
        spent: Mapping[str, int],
    ) -> _Walk:
        """Return ``walk`` extended by one component of the phase graph: its groups, or the regimen it hands over to."""
        for node in nodes:
            group = graph.phase(node).group
            if group is not None:
                count = _cycles(group, cap)
                cycle = _group_cycles(group, self.jurisdiction).get(self.key)
                if cycle is None:
                    walk = replace(walk, cycles=walk.cycles + (count or 0))
                elif count is None:
                    walk = replace(walk, open_group=walk.open_group or group)
                else:
                    step = _Step(group, cycle, count)
                    walk = replace(
                        walk,
                        total=walk.total + cycle.amount * count,
                        cycles=walk.cycles + count,
                        steps=(*walk.steps, step),
                        names=(*walk.names, graph.phase(node).label),
                    )
            elif node.kind is PhaseKind.REGIMEN and node.regimen in self.linked and node.regimen not in path:
                shared = own is not None and node.regimen in own.counted_with
                left = max(0, own.count - walk.cycles) if shared and own is not None else None
                sub = self.walk(self.linked[node.regimen], left, path, {**spent, here: walk.cycles})
                walk = replace(
                    walk,
                    total=walk.total + sub.total,
                    names=(*walk.names, f"then {node.regimen}", *sub.names),
                    linked=(*walk.linked, (node.regimen, sub.total, sub.steps), *sub.linked),
                    open_group=walk.open_group or sub.open_group,
                )
        return walk


_START = PhaseId(PhaseKind.START)


def _graph(regimen: ir.Regimen) -> PhaseGraph:
    """Return the phase graph of ``regimen``; when the plan is too complex to build one, its groups one after another.

    Compiling reports the plan that is too complex (STR022); its total then counts every group.
    """
    try:
        return build_phases(regimen)
    except TooComplex:
        graph = PhaseGraph()
        previous = _START
        for p, part in enumerate(regimen.parts, start=1):
            for j, group in enumerate(part.cycles):
                node = PhaseId(PhaseKind.GROUP, p, j)
                graph.add(node, group.heading, group, group.span)
                graph.connect(previous, node, Transition("sequence", None, None))
                previous = node
        return graph


def _branching(graph: PhaseGraph) -> bool:
    """Whether the plan allows more than one path: a phase leads on to two others."""
    return any(len([n for n in graph.successors(node) if n != node]) > 1 for node in graph.phases)


def _exposure(
    key: str, display: str, limit: LifetimeLimit, walk: _Walk, cap: ir.Limit | None, several: bool, home: str
) -> Exposure:
    """Return the exposure of ``walk``: its lines (those of the regimen at ``home`` first), groups and factors."""
    lines: dict[tuple[str, int], tuple[Span, Decimal, int, Decimal]] = {}
    factors: dict[str, tuple[Medicine, Decimal, Factor]] = {}
    international = False
    linked_steps = tuple(s for _id, _total, steps in walk.linked for s in steps)
    for step in (*walk.steps, *linked_steps):
        for given in step.cycle.given:
            span = given.admin.span
            old = lines.get((span.path, span.start))
            lines[(span.path, span.start)] = (
                span,
                given.counted * step.count + (old[1] if old else 0),
                step.count + (old[2] if old else 0),
                given.own * step.count + (old[3] if old else 0),
            )
            international = international or given.international
    for step in (*walk.steps, *linked_steps):
        for given in step.cycle.given:
            factor = factor_of(given.admin.medicine)
            if key == EQUIVALENTS and factor is not None:
                medicine = given.admin.medicine
                before = factors.get(identities(medicine)[0])
                factors[identities(medicine)[0]] = (
                    before[0] if before else medicine,
                    given.own * step.count + (before[1] if before else 0),
                    factor,
                )
    groups: dict[int, tuple[ir.CycleGroup, Decimal, int]] = {}
    for step in walk.steps:
        groups[id(step.group)] = (step.group, step.cycle.amount, step.count)
    return Exposure(
        limit=limit,
        display=display,
        total=walk.total,
        lines=tuple(sorted(lines.values(), key=lambda item: (item[0].path != home, item[0].path, item[0].start))),
        groups=tuple(groups.values()),
        open_group=walk.open_group,
        cap=cap,
        international=international,
        path=walk.names if several or walk.linked else (),
        linked=tuple((name, total) for name, total, _steps in walk.linked),
        handover=walk.handover if walk.linked else None,
        factors=tuple(sorted(factors.values(), key=lambda item: item[0].name)),
    )


def _keys(regimen: ir.Regimen, jurisdiction: str) -> dict[str, tuple[str, LifetimeLimit]]:
    """Every key a line of ``regimen`` counts towards, with its display and the limit that applies, by key."""
    found: dict[str, tuple[str, LifetimeLimit]] = {}
    equivalents = JURISDICTIONS.get(jurisdiction, JURISDICTIONS[DEFAULT]).equivalents
    for group in regimen.cycles():
        for admin in group.administrations:
            for key, limit, _given in _keyed(admin, jurisdiction):
                found.setdefault(
                    key, (admin.medicine.display, limit) if limit is not None else (EQUIVALENTS, equivalents)
                )
    return {key: found[key] for key in sorted(found)}


# The last regimen's totals: the five cumulative rules and the pages ask for one regimen's in turn,
# so each regimen's walks are made once. Kept by identity, holding the objects it was computed from.
_last: tuple[ir.Regimen, str, Mapping[str, ir.Regimen] | None, dict[str, Exposure]] | None = None


def _all(regimen: ir.Regimen, jurisdiction: str, linked: Mapping[str, ir.Regimen] | None) -> dict[str, Exposure]:
    """Return every total of ``regimen`` (the doxorubicin equivalents under ``EQUIVALENTS``), once per regimen."""
    global _last
    if _last is not None and _last[0] is regimen and _last[1] == jurisdiction and _last[2] is linked:
        return _last[3]
    found = _walked(regimen, jurisdiction, linked or {})
    _last = (regimen, jurisdiction, linked, found)
    return found


def _walked(regimen: ir.Regimen, jurisdiction: str, linked: Mapping[str, ir.Regimen]) -> dict[str, Exposure]:
    cap = _cap(regimen)
    found: dict[str, Exposure] = {}
    for key, (display, limit) in _keys(regimen, jurisdiction).items():
        walker = _Walker(key, jurisdiction, linked)
        walk = walker.walk(regimen, None, frozenset())
        found[key] = _exposure(key, display, limit, walk, cap, walker.branching.get(regimen.id, False), regimen.path)
    return found


def exposures(
    regimen: ir.Regimen, jurisdiction: str = DEFAULT, linked: Mapping[str, ir.Regimen] | None = None
) -> dict[str, Exposure]:
    """Return what the worst path of the plan can give of each medicine with a lifetime limit, by generic name.

    ``linked`` are the regimens a hand-over may continue with (those lowered in the same run);
    without them a hand-over ends the path.
    """
    return {key: exposure for key, exposure in _all(regimen, jurisdiction, linked).items() if key != EQUIVALENTS}


def equivalents(
    regimen: ir.Regimen, jurisdiction: str = DEFAULT, linked: Mapping[str, ir.Regimen] | None = None
) -> Exposure | None:
    """Return the doxorubicin-equivalent total of the worst path of the plan, if it gives an anthracycline in mg/m²."""
    return _all(regimen, jurisdiction, linked).get(EQUIVALENTS)
