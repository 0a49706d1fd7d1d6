"""The compile passes after lowering, in order: the graphs every check reads, solved once for every reader."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field

from regdsl.compile.days import TimedDay, timed_days
from regdsl.compile.phases import PhaseGraph, build_phases, cond_text
from regdsl.compile.stn import (
    BuildMemo,
    Conflict,
    PointId,
    TimingNetwork,
    Windows,
    build_network,
    find_conflict,
    windows,
)
from regdsl.diagnostics import Diagnostic, Label
from regdsl.diagnostics import codes as c
from regdsl.model import ir
from regdsl.model.limits import SCENARIOS, SEARCH_STEPS, TIMING_SIZE, TooComplex
from regdsl.source import Span

__all__ = ["Compiled", "Scenario", "compile_regimen"]


@dataclass(frozen=True, slots=True)
class Compiled:
    """A lowered regimen with its timing network, its solution and its phase graph.

    The solution is every point's window (``windows``) and, for each cycle group's first
    cycle, the days timed on their own with the bounds around them (``days``, by cycle
    start): what checks and pages read, so that none of them solves the network again. A
    regimen whose timing conflicts has neither. ``diagnostics`` holds what the passes found
    themselves: a regimen too complex to check (``STR022``), whose network and phase graph
    are then left empty.
    """

    regimen: ir.Regimen
    network: TimingNetwork
    conflict: Conflict | None
    windows: Windows | None
    phases: PhaseGraph
    days: Mapping[PointId, tuple[TimedDay, ...]] = field(default_factory=dict)
    diagnostics: tuple[Diagnostic, ...] = ()
    # One per scenario (a branch of each choice of lines); the fields above hold the first's network, the
    # first conflict found (None: none) and the windows and days over every scenario.
    scenarios: tuple[Scenario, ...] = ()
    conflict_scenario: str | None = None  # who the conflict is for, when the regimen has choices


@dataclass(frozen=True, slots=True)
class Scenario:
    """The patients of one branch of each choice of lines: their timing network and its solution."""

    branches: tuple[tuple[Span, int], ...]  # each choice's key, and the branch given (-1: none of them)
    text: str  # who they are, in words: "patients with weight under 45 kg"
    network: TimingNetwork
    conflict: Conflict | None
    windows: Windows | None


def _choices(regimen: ir.Regimen) -> list[tuple[ir.Choice, list[int]]]:
    """Return each choice that gives a timed line, once (``same as`` copies it), with the branches a patient may get."""
    found: dict[Span, tuple[ir.Choice, list[int]]] = {}
    for group in regimen.cycles():
        timed = {a.guard.choice for a in group.administrations if a.guard is not None and not a.prn}
        for choice in group.choices:
            if choice.key in timed and choice.key not in found:
                options = list(range(len(choice.branches)))
                if all(b.cond is not None for b in choice.branches):
                    options.append(-1)  # a patient in none of its branches is given none of its lines
                found[choice.key] = (choice, options)
    return list(found.values())


def _scenarios(regimen: ir.Regimen) -> list[tuple[tuple[tuple[Span, int], ...], str]]:
    """Return each assignment of a branch to each choice, with who it is for (past limits.SCENARIOS: too complex)."""
    choices = _choices(regimen)
    count = 1
    for choice, options in choices:
        count *= len(options)
        if count > SCENARIOS.value:
            raise TooComplex(
                choice.span, f"the choices of lines combine into more than {SCENARIOS.value} timing networks"
            )
    found = []
    for picked in itertools.product(*(options for _, options in choices)):
        words = [
            f"with {cond_text(cond)}" if k >= 0 and (cond := choice.branches[k].cond) is not None else _none(choice)
            for (choice, _), k in zip(choices, picked, strict=True)
        ]
        branches = tuple((choice.key, k) for (choice, _), k in zip(choices, picked, strict=True))
        found.append((branches, "patients " + " and ".join(words) if words else "every patient"))
    return found


def _none(choice: ir.Choice) -> str:
    """Say who the patients of an `otherwise` (or of no branch) of ``choice`` are: those of no other branch."""
    others = [cond_text(b.cond) for b in choice.branches if b.cond is not None]
    return "without " + " or ".join(others)


def _union(found: list[Windows]) -> Windows:
    """Return each point's window over every scenario it is in (sound for display: its widest)."""
    spans: dict[PointId, tuple[int, int]] = {}
    for solved in found:
        for point, early, late in zip(solved.points, solved.earliest, solved.latest, strict=True):
            old = spans.get(point)
            if old is None:
                spans[point] = (early, late)
            elif early < old[0] or late > old[1]:  # most points have one window in every scenario
                spans[point] = (min(old[0], early), max(old[1], late))
    points = list(spans)
    return Windows(
        points=points,
        index={p: k for k, p in enumerate(points)},
        earliest=[spans[p][0] for p in points],
        latest=[spans[p][1] for p in points],
    )


def compile_regimen(regimen: ir.Regimen) -> Compiled:
    """Build the timing network, solve it (a conflict, or every point's window and the timed days), build the phases.

    A regimen with choices of lines has one network per scenario (a branch of each choice):
    the first conflict found is the regimen's, the windows and timed days are over them all.
    """
    try:
        solved_all: list[Scenario] = []
        days: dict[PointId, tuple[TimedDay, ...]] = {}
        size = steps = 0  # the work of every scenario counts against the one limit of each
        memo = BuildMemo()  # what the scenarios' builds share
        for branches, text in _scenarios(regimen):
            picked = dict(branches)

            def given(admin: ir.Administration, picked: dict[Span, int] = picked) -> bool:
                return admin.guard is None or picked.get(admin.guard.choice) == admin.guard.branch

            net = build_network(regimen, given, memo)
            found = find_conflict(net)
            solved = windows(net, memo) if found is None else None
            solved_all.append(Scenario(branches, text, net, found, solved))
            size, steps = size + net.size + len(net), steps + net.steps
            if size > TIMING_SIZE.value or steps > SEARCH_STEPS.value:
                raise TooComplex(
                    branches[0][0] if branches else regimen.span,
                    "the timing networks of the choices of lines together pass the limits of "
                    f"{TIMING_SIZE.value:,} points and constraints and {SEARCH_STEPS.value:,} search steps",
                )
            if found is None:
                days.update(timed_days(regimen, net, given, known=days))  # a cycle's days are its first scenario's
        network = solved_all[0].network
        failed = next((s for s in solved_all if s.conflict is not None), None)
        conflict = failed.conflict if failed is not None else None
        union = [s.windows for s in solved_all if s.windows is not None]
        solved_windows = None if failed is not None else union[0] if len(union) == 1 else _union(union)
        if failed is not None:
            days = {}
        phases = build_phases(regimen)
    except TooComplex as err:
        finding = Diagnostic(
            code=c.TOO_COMPLEX,
            message=err.message,
            primary=Label(err.span, "too complex to check"),
            help=err.help,
        )
        return Compiled(regimen, TimingNetwork(), None, None, PhaseGraph(), diagnostics=(finding,))
    return Compiled(
        regimen=regimen,
        network=network,
        conflict=conflict,
        windows=solved_windows,
        phases=phases,
        days=days,
        scenarios=tuple(solved_all),
        conflict_scenario=failed.text if failed is not None and len(solved_all) > 1 else None,
    )
