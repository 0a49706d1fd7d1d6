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
from typing import Literal, NamedTuple, assert_never

from regdsl.model import ir
from regdsl.model.conditions import DEFAULT_RESPONSES, Values
from regdsl.model.limits import TRANSITIONS, TooComplex
from regdsl.source import Span

__all__ = [
    "END",
    "START",
    "STATES",
    "STOP",
    "PhaseGraph",
    "PhaseId",
    "PhaseKind",
    "Space",
    "Transition",
    "build_phases",
    "cond_text",
    "describe_state",
    "holds",
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


@dataclass(frozen=True, slots=True)
class Space:
    """The patient states a decision point is checked in, one per combination of what its conditions name.

    Every state has a response (of ``responses``), an MRD result and an HSCT plan, and a value
    of each of ``groups``: a condition holds or not in each, so coverage and overlap over the
    states are exact.
    """

    responses: tuple[str, ...]
    groups: tuple[Values, ...] = ()
    states: tuple[dict[str, object], ...] = field(init=False)

    def __post_init__(self) -> None:
        keys = ("response", "mrd_negative", "hsct", *(_GROUP + g.name for g in self.groups))
        domains = (sorted(self.responses), (True, False), (True, False), *(g.names() for g in self.groups))
        object.__setattr__(self, "states", tuple(dict(zip(keys, s, strict=True)) for s in itertools.product(*domains)))

    @classmethod
    def of(cls, responses: Iterable[str], groups: Mapping[str, Values], conds: Iterable[ir.Cond | None]) -> Space:
        """Return the states of ``conds``: each of ``responses``, and the values of the groups they name."""
        named = sorted({name for cond in conds for name in cond_groups(cond) if name in groups})
        return cls(tuple(dict.fromkeys(responses)), tuple(groups[name] for name in named))

    def truth(self, cond: ir.Cond | None) -> frozenset[int]:
        """Return the indices of the states in which ``cond`` holds (all for None)."""
        return frozenset(i for i, state in enumerate(self.states) if cond is None or holds(cond, state))

    def all(self) -> frozenset[int]:
        """Return the indices of every state."""
        return frozenset(range(len(self.states)))

    def describe(self, index: int) -> str:
        """Say state ``index`` in words (``describe_state``)."""
        return describe_state(self.states[index])


def regimen_space(regimen: ir.Regimen, conds: Iterable[ir.Cond | None], *others: ir.Regimen) -> Space:
    """Return the states a decision point of ``regimen`` (with ``others``, for a limit they share) is checked in."""
    every = (regimen, *others)
    groups = {g.name: g for r in reversed(every) for g in r.groups}
    return Space.of((name for r in every for name in r.responses.names()), groups, conds)


DEFAULT_SPACE = Space(DEFAULT_RESPONSES.names())
STATES = DEFAULT_SPACE.states


def cond_groups(cond: ir.Cond | None) -> Iterator[str]:
    """Yield the name of each group ``cond`` names (with repeats)."""
    match cond:
        case None | ir.ResponseIn() | ir.Mrd() | ir.Hsct():
            return
        case ir.GroupIn(group=group):
            yield group
        case ir.NotCond(operand=operand):
            yield from cond_groups(operand)
        case ir.AndCond(operands=ops) | ir.OrCond(operands=ops):
            for op in ops:
                yield from cond_groups(op)
        case _:
            assert_never(cond)


def holds(cond: ir.Cond, state: State) -> bool:
    """Evaluate a condition in one patient state."""
    match cond:
        case ir.ResponseIn(codes=codes):
            return state["response"] in {c.text for c in codes}
        case ir.GroupIn(group=group, values=values):
            return state.get(_GROUP + group) in {v.text for v in values}
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


def describe_state(state: State) -> str:
    """Say a patient state in words: ``response CR, MRD negative, proceeding to HSCT, toxicity unacceptable``."""
    mrd = "MRD negative" if state["mrd_negative"] else "MRD positive"
    hsct = "proceeding to HSCT" if state["hsct"] else "not proceeding to HSCT"
    groups = "".join(f", {key.removeprefix(_GROUP)} {value}" for key, value in state.items() if key.startswith(_GROUP))
    return f"response {state['response']}, {mrd}, {hsct}{groups}"


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
    graph.connect(START, slots[0].node, Transition("sequence", None, None))
    decisions_all = regimen.plan.decisions
    for k, decision in enumerate(decisions_all):
        if (k + 1) * len(slots) > TRANSITIONS.value:
            raise TooComplex(decision.span, _TOO_MANY.format(what=f"{len(slots):,} cycle groups and this decision"))
    targets = _Targets(slots)
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
                target = targets.of(branch, nxt, graph)
                kind: Literal["branch", "otherwise"] = "otherwise" if branch.cond is None else "branch"
                graph.connect(slot.node, target, Transition(kind, branch.cond, branch.span))
                if len(graph.transitions) + len(slots) * len(decisions_all) > TRANSITIONS.value:
                    raise TooComplex(branch.span, _TOO_MANY.format(what="the transitions of the plan by this branch"))
    return graph


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


def _operand_text(cond: ir.Cond) -> str:
    text = cond_text(cond)
    compound = isinstance(cond, ir.AndCond | ir.OrCond)
    several = (isinstance(cond, ir.ResponseIn) and len(cond.codes) > 1) or (
        isinstance(cond, ir.GroupIn) and len(cond.values) > 1
    )
    return f"({text})" if compound or several else text
