"""The phase graph: cycle groups, parts and linked regimens, joined by guarded transitions.

Nodes (``PhaseId``) are ``start``, one node per cycle group (``p1.g0`` is part 1's first
group), one per linked regimen (``regimen:ID``), ``stop`` and ``end``. Without a decision, a group leads to
the next group, the next part, or ``end``. A decision taken after a group's cycles
replaces that default with its branches; ``next cycle`` repeats the group while it has
cycles left, then moves on.

Conditions range over a small finite patient state (the response, of the regimen's vocabulary;
MRD; HSCT; the value of each group its conditions name), so coverage and overlap of a decision's
guards are decided exactly, by enumerating every state of its ``Space``.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Literal, NamedTuple, assert_never

from regdsl.model import ir
from regdsl.model.conditions import DEFAULT_RESPONSES, Measure, Values
from regdsl.model.limits import TRANSITIONS, TooComplex
from regdsl.source import Span

__all__ = [
    "DEFAULT_SPACE",
    "END",
    "START",
    "STATES",
    "STOP",
    "Cell",
    "PhaseGraph",
    "PhaseId",
    "PhaseKind",
    "Space",
    "Transition",
    "build_phases",
    "cells",
    "cond_names",
    "cond_text",
    "decision_points",
    "describe_state",
    "for_whom",
    "holds",
    "number_text",
    "regimen_space",
    "resolved",
    "space_size",
]


class PhaseKind(enum.IntEnum):
    """What a phase is."""

    START = 0  # the start of treatment
    GROUP = 1  # a cycle group
    REGIMEN = 2  # a linked regimen, continued with
    STOP = 3  # stopping treatment
    END = 4  # the end of the regimen


class PhaseId(NamedTuple):
    """A phase: what it is, and which cycle group (part from 1, group from 0) or linked regimen.

    Frozen, hashable and ordered (start, the groups in order, linked regimens by id, stop,
    end). ``str`` gives its one text form, for outputs: ``start``, ``p1.g0``, ``regimen:ID``,
    ``stop``, ``end``.
    """

    kind: PhaseKind
    part: int = 0
    group: int = 0
    regimen: str = ""

    def __str__(self) -> str:
        match self.kind:
            case PhaseKind.GROUP:
                return f"p{self.part}.g{self.group}"
            case PhaseKind.REGIMEN:
                return f"regimen:{self.regimen}"
            case _:
                return self.kind.name.lower()


START = PhaseId(PhaseKind.START)
STOP = PhaseId(PhaseKind.STOP)
END = PhaseId(PhaseKind.END)

State = Mapping[str, object]
_GROUP = "group:"  # the key of a group's value in a state: ``group:toxicity``
_MEASURE = "measure:"  # the key of a measure's cell in a state: ``measure:CrCl``


class Cell(NamedTuple):
    """One cell of a measure's values, cut by the regimen's thresholds: the value checked for it, and it in words."""

    value: Fraction
    text: str


def number_text(value: Fraction) -> str:
    """Write a threshold as a decimal, as it was written (thresholds are decimals, so exactly)."""
    text = format(Decimal(value.numerator) / Decimal(value.denominator), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def cells(measure: Measure, thresholds: Sequence[Fraction]) -> tuple[Cell, ...]:
    """Cut a measure at its thresholds ``t1 < ... < tk`` into the 2k + 1 cells every comparison is constant on.

    Each cell is represented by one value (below ``t1``, each threshold, between two, above
    ``tk``): a comparison holds at the value if and only if it holds on the whole cell, so
    evaluating every condition at the values is exact.
    """
    cuts = sorted(set(thresholds))
    unit = measure.unit
    found: list[Cell] = []
    for k, cut in enumerate(cuts):
        if k == 0:
            found.append(Cell(cut - 1, f"{measure.name} under {number_text(cut)} {unit}"))
        else:
            below = cuts[k - 1]
            text = f"{measure.name} between {number_text(below)} and {number_text(cut)} {unit}"
            found.append(Cell((below + cut) / 2, text))
        found.append(Cell(cut, f"{measure.name} exactly {number_text(cut)} {unit}"))
    last = cuts[-1] if cuts else Fraction(0)
    found.append(Cell(last + 1, f"{measure.name} over {number_text(last)} {unit}" if cuts else measure.name))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class Space:
    """The patient states a decision point is checked in, one per combination of what its conditions name.

    Every state has a response (of ``responses``), an MRD result and an HSCT plan, a value of
    each of ``groups`` and a cell of each of ``measures``: a condition holds or not in each, so
    coverage and overlap over the states are exact.
    """

    responses: tuple[str, ...]
    groups: tuple[Values, ...] = ()
    measures: tuple[tuple[str, tuple[Cell, ...]], ...] = ()
    # Which of the response, MRD and HSCT vary (None: all three, as in the plan); the others are None in every state.
    basics: frozenset[str] | None = None
    states: tuple[dict[str, object], ...] = field(init=False)

    def __post_init__(self) -> None:
        keys = (
            "response",
            "mrd_negative",
            "hsct",
            *(_GROUP + g.name for g in self.groups),
            *(_MEASURE + name for name, _ in self.measures),
        )
        varies = self.basics
        both: tuple[object, ...] = (True, False)
        domains = (
            sorted(self.responses) if varies is None or "response" in varies else (None,),
            both if varies is None or "mrd_negative" in varies else (None,),
            both if varies is None or "hsct" in varies else (None,),
            *(g.names() for g in self.groups),
            *(found for _, found in self.measures),
        )
        object.__setattr__(self, "states", tuple(dict(zip(keys, s, strict=True)) for s in itertools.product(*domains)))

    def truth(self, cond: ir.Cond | None) -> frozenset[int]:
        """Return the indices of the states in which ``cond`` holds (all for None)."""
        return frozenset(i for i, state in enumerate(self.states) if cond is None or holds(cond, state))

    def all(self) -> frozenset[int]:
        """Return the indices of every state."""
        return frozenset(range(len(self.states)))

    def describe(self, index: int) -> str:
        """Say state ``index`` in words (``describe_state``)."""
        return describe_state(self.states[index])


def _named(
    regimens: Sequence[ir.Regimen], conds: Iterable[ir.Cond | None]
) -> tuple[list[Values], list[tuple[Measure, list[Fraction]]]]:
    """Return the groups and the measures (with every threshold of ``regimens``) that ``conds`` name."""
    named = sorted({pair for cond in conds for pair in cond_names(cond)})
    groups = {g.name: g for r in reversed(regimens) for g in r.groups}
    measures = {m.name: m for r in reversed(regimens) for m in r.measures}
    cuts: dict[str, list[Fraction]] = {}
    for r in regimens:
        for name, values in r.thresholds:
            cuts.setdefault(name, []).extend(values)
    return (
        [groups[name] for kind, name in named if kind == _GROUP and name in groups],
        [(measures[name], cuts.get(name, [])) for kind, name in named if kind == _MEASURE and name in measures],
    )


def regimen_space(
    regimen: ir.Regimen, conds: Iterable[ir.Cond | None], *others: ir.Regimen, plan: bool = True
) -> Space:
    """Return the states a decision point of ``regimen`` (with ``others``, for a limit they share) is checked in.

    A decision of the plan varies the response, MRD and HSCT always; a choice of lines, a gate
    or a decision before treatment (``plan`` false) only those its conditions name.
    """
    every = [regimen, *others]
    conds = tuple(conds)
    groups, measures = _named(every, conds)
    basics = None
    if not plan:
        kinds = {ir.ResponseIn: "response", ir.Mrd: "mrd_negative", ir.Hsct: "hsct"}
        basics = frozenset(kinds[type(a)] for cond in conds for a in atoms(cond) if type(a) in kinds)
    return Space(
        tuple(dict.fromkeys(name for r in every for name in r.responses.names())),
        tuple(groups),
        tuple((m.name, cells(m, cuts)) for m, cuts in measures),
        basics,
    )


def resolved(regimen: ir.Regimen, conds: Iterable[ir.Cond | None]) -> bool:
    """Whether every response, group, value and measure ``conds`` name is known (lowering reports the others)."""
    groups = {g.name: set(g.names()) for g in regimen.groups}
    measures = {m.name for m in regimen.measures}
    responses = set(regimen.responses.names())
    for cond in conds:
        for atom in atoms(cond):
            match atom:
                case ir.ResponseIn(codes=codes) if any(c.text not in responses for c in codes):
                    return False
                case ir.GroupIn(group=group, values=values):
                    if any(v.text not in groups.get(group, ()) for v in values):
                        return False
                case ir.MeasureTest(measure=measure) if measure not in measures:
                    return False
    return True


def space_size(regimen: ir.Regimen, conds: Iterable[ir.Cond | None]) -> int:
    """Return how many states ``regimen_space`` would have, without listing them."""
    groups, measures = _named([regimen], conds)
    size = len(regimen.responses.values) * 4  # each response, MRD result and HSCT plan
    for group in groups:
        size *= len(group.values)
    for _, cuts in measures:
        size *= 2 * len(set(cuts)) + 1
    return size


DEFAULT_SPACE = Space(DEFAULT_RESPONSES.names())
STATES = DEFAULT_SPACE.states


Atom = ir.ResponseIn | ir.GroupIn | ir.MeasureTest | ir.Mrd | ir.Hsct


def atoms(cond: ir.Cond | None) -> Iterator[Atom]:
    """Yield each atom of ``cond`` (a response, group, measure, MRD or HSCT test), in order."""
    match cond:
        case None:
            return
        case ir.ResponseIn() | ir.GroupIn() | ir.MeasureTest() | ir.Mrd() | ir.Hsct():
            yield cond
        case ir.NotCond(operand=operand):
            yield from atoms(operand)
        case ir.AndCond(operands=ops) | ir.OrCond(operands=ops):
            for op in ops:
                yield from atoms(op)
        case _:
            assert_never(cond)


def cond_names(cond: ir.Cond | None) -> Iterator[tuple[str, str]]:
    """Yield each group (``("group:", NAME)``) and measure (``("measure:", NAME)``) ``cond`` names, with repeats."""
    for atom in atoms(cond):
        if isinstance(atom, ir.GroupIn):
            yield _GROUP, atom.group
        elif isinstance(atom, ir.MeasureTest):
            yield _MEASURE, atom.measure


def holds(cond: ir.Cond, state: State) -> bool:
    """Evaluate a condition in one patient state."""
    match cond:
        case ir.ResponseIn(codes=codes):
            return state["response"] in {c.text for c in codes}
        case ir.GroupIn(group=group, values=values):
            return state.get(_GROUP + group) in {v.text for v in values}
        case ir.MeasureTest(measure=measure):
            cell = state.get(_MEASURE + measure)
            return isinstance(cell, Cell) and cond.holds(cell.value)
        case ir.Mrd(negative=negative):
            return state["mrd_negative"] is negative
        case ir.Hsct():
            return state["hsct"] is True
        case ir.NotCond(operand=operand):
            return not holds(operand, state)
        case ir.AndCond(operands=ops):
            return all(holds(op, state) for op in ops)
        case ir.OrCond(operands=ops):
            return any(holds(op, state) for op in ops)
        case _:
            assert_never(cond)


def decision_points(regimen: ir.Regimen) -> Iterator[tuple[Span, tuple[ir.Cond | None, ...]]]:
    """Yield each decision point with its conditions: a decision, the limits, the stop rules, a gate, a choice."""
    plan = regimen.plan
    for decision in plan.decisions:
        yield decision.span, tuple(b.cond for b in decision.branches)
    for items in (plan.limits, plan.stops):
        if items:
            yield items[0].span, tuple(x.cond for x in items)
    for group in regimen.cycles():
        for gate in group.gates:
            yield gate.span, (gate.cond,)
        for choice in group.choices:
            yield choice.span, tuple(b.cond for b in choice.branches)


def describe_state(state: State) -> str:
    """Say a patient state in words: ``response CR, MRD negative, proceeding to HSCT, toxicity unacceptable``."""
    words = []
    if state["response"] is not None:
        words.append(f"response {state['response']}")
    if state["mrd_negative"] is not None:
        words.append("MRD negative" if state["mrd_negative"] else "MRD positive")
    if state["hsct"] is not None:
        words.append("proceeding to HSCT" if state["hsct"] else "not proceeding to HSCT")
    words += [
        value.text if isinstance(value, Cell) else f"{key.removeprefix(_GROUP)} {value}"
        for key, value in state.items()
        if key.startswith((_GROUP, _MEASURE))
    ]
    return ", ".join(words) or "any patient"


@dataclass(frozen=True, slots=True)
class Transition:
    """An edge of the phase graph."""

    kind: Literal["sequence", "repeat", "branch", "otherwise"]
    guard: ir.Cond | None
    span: Span | None


@dataclass(frozen=True, slots=True)
class Phase:
    """A node: what it is, its cycles, and where it was written."""

    label: str
    group: ir.CycleGroup | None
    span: Span | None


@dataclass(slots=True)
class PhaseGraph:
    """Phases and the transitions between them.

    Recorded as plain lists (the checks read those); ``regdsl.compile.graphs`` offers it as a
    networkx graph, for ``regdsl graph``: a check never pays for importing networkx.
    """

    phases: dict[PhaseId, Phase] = field(default_factory=dict)
    transitions: list[tuple[PhaseId, PhaseId, Transition]] = field(default_factory=list)
    _out: dict[PhaseId, list[PhaseId]] | None = None  # each phase's successors, built on first use

    def add(self, phase: PhaseId, label: str, group: ir.CycleGroup | None = None, span: Span | None = None) -> None:
        """Add a phase (idempotent)."""
        self.phases.setdefault(phase, Phase(label, group, span))

    def connect(self, u: PhaseId, v: PhaseId, transition: Transition) -> None:
        """Add a transition from ``u`` to ``v``."""
        self.transitions.append((u, v, transition))
        self._out = None

    def phase(self, node: PhaseId) -> Phase:
        """Return what ``node`` is."""
        return self.phases[node]

    def groups(self) -> Iterator[tuple[PhaseId, ir.CycleGroup]]:
        """Iterate over the cycle-group phases in order."""
        for node, phase in self.phases.items():
            if phase.group is not None:
                yield node, phase.group

    def successors(self, node: PhaseId) -> list[PhaseId]:
        """Return the phases one transition from ``node`` leads to, in order, once each."""
        if self._out is None:
            out: dict[PhaseId, dict[PhaseId, None]] = {}
            for u, v, _ in self.transitions:
                out.setdefault(u, {})[v] = None
            self._out = {u: list(targets) for u, targets in out.items()}
        return self._out.get(node, [])

    def unreachable(self) -> list[PhaseId]:
        """Return the cycle-group phases no path from ``start`` reaches."""
        seen = {START}
        stack = [START]
        while stack:
            for nxt in self.successors(stack.pop()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return [node for node, _ in self.groups() if node not in seen]

    def components(self) -> list[set[PhaseId]]:
        """Return the strongly connected components (Tarjan's algorithm, without recursion)."""
        index: dict[PhaseId, int] = {}
        low: dict[PhaseId, int] = {}
        on_stack: set[PhaseId] = set()
        stack: list[PhaseId] = []
        found: list[set[PhaseId]] = []
        for root in self.phases:
            if root in index:
                continue
            work: list[tuple[PhaseId, Iterator[PhaseId]]] = [(root, iter(self.successors(root)))]
            index[root] = low[root] = len(index)
            stack.append(root)
            on_stack.add(root)
            while work:
                node, children = work[-1]
                child = next(children, None)
                if child is not None:
                    if child not in index:
                        index[child] = low[child] = len(index)
                        stack.append(child)
                        on_stack.add(child)
                        work.append((child, iter(self.successors(child))))
                    elif child in on_stack:
                        low[node] = min(low[node], index[child])
                    continue
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component: set[PhaseId] = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    found.append(component)
        return found


@dataclass(frozen=True, slots=True)
class _Slot:
    node: PhaseId
    group: ir.CycleGroup
    part: int


def _successor(slots: Sequence[_Slot], index: int) -> PhaseId:
    return slots[index + 1].node if index + 1 < len(slots) else END


def _selected(decision: ir.Decision, slot: _Slot, last_in_part: bool) -> bool:
    group = slot.group
    last = group.first if group.open_ended else (group.last or group.first)
    match decision.kind:
        case "any":
            return True
        case "cycle":
            return decision.first is not None and group.covers(decision.first)
        case "cycles":
            first, final = decision.first or 0, decision.last or 0
            return first <= last and (group.open_ended or group.first <= final)
        case "part":
            return decision.first == slot.part and last_in_part
        case "start":
            return False  # taken at the start of treatment, not after a group
        case _:
            assert_never(decision.kind)


def build_phases(regimen: ir.Regimen) -> PhaseGraph:
    """Build the phase graph of a lowered regimen.

    Each decision is weighed for each cycle group, and each transition counts: beyond
    ``limits.TRANSITIONS`` steps in all the plan is too complex to check (``TooComplex``).
    """
    graph = PhaseGraph()
    graph.add(START, "the start of treatment")
    graph.add(STOP, "stopping treatment")
    graph.add(END, "the end of the regimen")
    slots: list[_Slot] = []
    for p, part in enumerate(regimen.parts, start=1):
        for j, group in enumerate(part.cycles):
            node = PhaseId(PhaseKind.GROUP, p, j)
            label = group.heading if part.number is None else f"part {part.number}, {group.heading}"
            graph.add(node, label, group, group.span)
            slots.append(_Slot(node, group, part.number or p))
    if not slots:
        graph.connect(START, END, Transition("sequence", None, None))
        return graph
    decisions_all = regimen.plan.decisions
    for k, decision in enumerate(decisions_all):
        if (k + 1) * len(slots) > TRANSITIONS.value:
            raise TooComplex(decision.span, _TOO_MANY.format(what=f"{len(slots):,} cycle groups and this decision"))
    targets = _Targets(slots)
    starts = [d for d in decisions_all if d.kind == "start"]
    if not starts:
        graph.connect(START, slots[0].node, Transition("sequence", None, None))
    for decision in starts:  # `before treatment:` chooses where treatment starts
        for branch in decision.branches:
            graph.connect(START, targets.of(branch, slots[0].node, graph), _transition(branch))
    for index, slot in enumerate(slots):
        nxt = _successor(slots, index)
        if slot.group.open_ended or (slot.group.count or 1) > 1:
            graph.connect(slot.node, slot.node, Transition("repeat", None, slot.group.span))
        last_in_part = index + 1 == len(slots) or slots[index + 1].part != slot.part
        decisions = [d for d in decisions_all if _selected(d, slot, last_in_part)]
        if not decisions:
            graph.connect(slot.node, nxt, Transition("sequence", None, None))
            continue
        for decision in decisions:
            for branch in decision.branches:
                graph.connect(slot.node, targets.of(branch, nxt, graph), _transition(branch))
                if len(graph.transitions) + len(slots) * len(decisions_all) > TRANSITIONS.value:
                    raise TooComplex(branch.span, _TOO_MANY.format(what="the transitions of the plan by this branch"))
    return graph


def _transition(branch: ir.Branch) -> Transition:
    return Transition("otherwise" if branch.cond is None else "branch", branch.cond, branch.span)


_TOO_MANY = f"the plan is too complex to check: {{what}} pass its limit of {TRANSITIONS.value:,} steps"


class _Targets:
    """Where a branch leads: the first group of a cycle number or of a part, each looked up once."""

    def __init__(self, slots: Sequence[_Slot]) -> None:
        self.slots = slots
        self.cycles: dict[int, PhaseId] = {}
        self.parts: dict[str, PhaseId] = {}
        for s in reversed(slots):
            self.parts[str(s.part)] = s.node

    def of(self, branch: ir.Branch, nxt: PhaseId, graph: PhaseGraph) -> PhaseId:
        match branch.action:
            case "continue":
                node = PhaseId(PhaseKind.REGIMEN, regimen=branch.target or "")
                graph.add(node, f"regimen {branch.target}")
                return node
            case "next":
                return nxt
            case "cycle":
                number = int(branch.target or 0)
                if number not in self.cycles:
                    self.cycles[number] = next((s.node for s in self.slots if s.group.covers(number)), END)
                return self.cycles[number]
            case "part":
                return self.parts.get(branch.target or "", END)
            case "stop":
                return STOP
            case _:
                assert_never(branch.action)


def cond_text(cond: ir.Cond) -> str:
    """Say a condition in words: ``response is CR or CRi``, ``not proceeding to HSCT``."""
    match cond:
        case ir.ResponseIn(codes=codes):
            return "response is " + " or ".join(c.text for c in codes)
        case ir.GroupIn(group=group, values=values):
            return f"{group} is " + " or ".join(v.text for v in values)
        case ir.MeasureTest(measure=measure, op=op, low=first, high=second, unit=unit):
            if op == "range":
                return f"{measure} {number_text(first)} to {number_text(second or first)} {unit.text}"
            return f"{measure} {_COMPARISONS[op]} {number_text(first)} {unit.text}"
        case ir.Mrd(negative=negative):
            return "MRD negative" if negative else "MRD positive"
        case ir.Hsct():
            return "proceeding to HSCT"
        case ir.NotCond(operand=ir.Hsct()):
            return "not proceeding to HSCT"
        case ir.NotCond(operand=ir.ResponseIn(codes=codes)):
            return "response is not " + " or ".join(c.text for c in codes)
        case ir.NotCond(operand=ir.GroupIn(group=group, values=values)):
            return f"{group} is not " + " or ".join(v.text for v in values)
        case ir.NotCond(operand=operand):
            return f"not ({cond_text(operand)})"
        case ir.AndCond(operands=ops):
            return " and ".join(_operand_text(op) for op in ops)
        case ir.OrCond(operands=ops):
            return " or ".join(_operand_text(op) for op in ops)
        case _:
            assert_never(cond)


_COMPARISONS = {"lt": "under", "gt": "over", "ge": "at least", "le": "at most"}


def for_whom(group: ir.CycleGroup, guard: ir.Guard | None) -> str | None:
    """Say who a line of a choice is for: "for patients with weight under 45 kg" (None: everyone)."""
    choice = next((c for c in group.choices if guard is not None and c.key == guard.choice), None)
    if guard is None or choice is None:
        return None
    cond = choice.branches[guard.branch].cond
    if cond is not None:
        return f"for patients with {cond_text(cond)}"
    others = [cond_text(b.cond) for b in choice.branches if b.cond is not None]
    return "for patients without " + " or ".join(others)


def _operand_text(cond: ir.Cond) -> str:
    text = cond_text(cond)
    compound = isinstance(cond, ir.AndCond | ir.OrCond)
    several = (isinstance(cond, ir.ResponseIn) and len(cond.codes) > 1) or (
        isinstance(cond, ir.GroupIn) and len(cond.values) > 1
    )
    return f"({text})" if compound or several else text
