"""The phase graph: cycle groups, parts and linked regimens, joined by guarded transitions.

Nodes are ``start``, one node per cycle group (``p1.g0`` is part 1's first group), one per
linked regimen (``regimen:ID``), ``stop`` and ``end``. Without a decision, a group leads to
the next group, the next part, or ``end``. A decision taken after a group's cycles
replaces that default with its branches; ``next cycle`` repeats the group while it has
cycles left, then moves on.

Conditions range over a small finite patient state (response, MRD, HSCT), so coverage and
overlap of a decision's guards are decided exactly, by enumerating every state.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NewType, assert_never

import networkx as nx

from regdsl.model import ast, ir
from regdsl.model.vocabulary import RESPONSES
from regdsl.source import Span

__all__ = [
    "END",
    "START",
    "STATES",
    "PhaseGraph",
    "PhaseId",
    "Transition",
    "build_phases",
    "describe_state",
    "holds",
]

PhaseId = NewType("PhaseId", str)
START = PhaseId("start")
STOP = PhaseId("stop")
END = PhaseId("end")

State = Mapping[str, object]
STATES: tuple[dict[str, object], ...] = tuple(
    {"response": r, "mrd_negative": m, "hsct": h}
    for r, m, h in itertools.product(sorted(RESPONSES), (True, False), (True, False))
)


def holds(cond: ast.Cond, state: State) -> bool:
    """Evaluate a condition in one patient state."""
    match cond:
        case ast.ResponseIn(codes=codes):
            return state["response"] in {c.text for c in codes}
        case ast.Mrd(negative=negative):
            return state["mrd_negative"] is negative
        case ast.Hsct():
            return state["hsct"] is True
        case ast.NotCond(operand=operand):
            return not holds(operand, state)
        case ast.AndCond(operands=ops):
            return all(holds(op, state) for op in ops)
        case ast.OrCond(operands=ops):
            return any(holds(op, state) for op in ops)
        case _:
            assert_never(cond)


def describe_state(state: State) -> str:
    """Say a patient state in words: ``response CR, MRD negative, proceeding to HSCT``."""
    mrd = "MRD negative" if state["mrd_negative"] else "MRD positive"
    hsct = "proceeding to HSCT" if state["hsct"] else "not proceeding to HSCT"
    return f"response {state['response']}, {mrd}, {hsct}"


@dataclass(frozen=True, slots=True)
class Transition:
    """An edge of the phase graph."""

    kind: Literal["sequence", "repeat", "branch", "otherwise"]
    guard: ast.Cond | None
    span: Span | None


@dataclass(frozen=True, slots=True)
class Phase:
    """A node: what it is, its cycles, and where it was written."""

    label: str
    group: ir.CycleGroup | None
    span: Span | None


@dataclass(slots=True)
class PhaseGraph:
    """A typed wrapper over ``nx.MultiDiGraph`` of phases and transitions."""

    graph: nx.MultiDiGraph[PhaseId] = field(default_factory=nx.MultiDiGraph)

    def add(self, phase: PhaseId, label: str, group: ir.CycleGroup | None = None, span: Span | None = None) -> None:
        """Add a phase (idempotent)."""
        if phase not in self.graph:
            self.graph.add_node(phase, info=Phase(label, group, span))

    def connect(self, u: PhaseId, v: PhaseId, transition: Transition) -> None:
        """Add a transition from ``u`` to ``v``."""
        self.graph.add_edge(u, v, transition=transition)

    def phase(self, node: PhaseId) -> Phase:
        """Return what ``node`` is."""
        found: Phase = self.graph.nodes[node]["info"]
        return found

    def groups(self) -> Iterator[tuple[PhaseId, ir.CycleGroup]]:
        """Iterate over the cycle-group phases in order."""
        for node in self.graph.nodes:
            group = self.phase(node).group
            if group is not None:
                yield node, group

    def unreachable(self) -> list[PhaseId]:
        """Return the cycle-group phases no path from ``start`` reaches."""
        seen = nx.descendants(self.graph, START) | {START}
        return [node for node, _ in self.groups() if node not in seen]

    def loops(self) -> list[list[PhaseId]]:
        """Return the cycles of the graph (self-loops included), in a stable order."""
        simple: nx.DiGraph[PhaseId] = nx.DiGraph(self.graph)
        found = [sorted(c) for c in nx.simple_cycles(simple)]
        return sorted(found)


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
    """Build the phase graph of a lowered regimen."""
    graph = PhaseGraph()
    graph.add(START, "the start of treatment")
    graph.add(STOP, "stopping treatment")
    graph.add(END, "the end of the regimen")
    slots: list[_Slot] = []
    for p, part in enumerate(regimen.parts, start=1):
        for j, group in enumerate(part.cycles):
            node = PhaseId(f"p{p}.g{j}")
            label = group.heading if part.number is None else f"part {part.number}, {group.heading}"
            graph.add(node, label, group, group.span)
            slots.append(_Slot(node, group, part.number or p))
    if not slots:
        graph.connect(START, END, Transition("sequence", None, None))
        return graph
    graph.connect(START, slots[0].node, Transition("sequence", None, None))
    for index, slot in enumerate(slots):
        nxt = _successor(slots, index)
        if slot.group.open_ended or (slot.group.count or 1) > 1:
            graph.connect(slot.node, slot.node, Transition("repeat", None, slot.group.span))
        last_in_part = index + 1 == len(slots) or slots[index + 1].part != slot.part
        decisions = [d for d in regimen.plan.decisions if _selected(d, slot, last_in_part)]
        if not decisions:
            graph.connect(slot.node, nxt, Transition("sequence", None, None))
            continue
        for decision in decisions:
            for branch in decision.branches:
                target = _target(branch, slot, nxt, slots, graph)
                kind: Literal["branch", "otherwise"] = "otherwise" if branch.cond is None else "branch"
                graph.connect(slot.node, target, Transition(kind, branch.cond, branch.span))
    return graph


def _target(branch: ir.Branch, slot: _Slot, nxt: PhaseId, slots: Sequence[_Slot], graph: PhaseGraph) -> PhaseId:
    match branch.action:
        case "continue":
            node = PhaseId(f"regimen:{branch.target}")
            graph.add(node, f"regimen {branch.target}")
            return node
        case "next":
            return nxt
        case "cycle":
            number = int(branch.target or 0)
            return next((s.node for s in slots if s.group.covers(number)), END)
        case "part":
            return next((s.node for s in slots if str(s.part) == branch.target), END)
        case "stop":
            return STOP
        case _:
            assert_never(branch.action)
