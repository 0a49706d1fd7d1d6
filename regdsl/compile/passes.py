"""The compile passes after lowering, in order: the graphs every check reads, solved once for every reader."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from regdsl.compile.days import TimedDay, timed_days
from regdsl.compile.phases import PhaseGraph, build_phases
from regdsl.compile.stn import Conflict, PointId, TimingNetwork, Windows, build_network, find_conflict, windows
from regdsl.diagnostics import Diagnostic, Label
from regdsl.diagnostics import codes as c
from regdsl.model import ir
from regdsl.model.limits import TooComplex

__all__ = ["Compiled", "compile_regimen"]


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


def compile_regimen(regimen: ir.Regimen) -> Compiled:
    """Build the timing network, solve it (a conflict, or every point's window and the timed days), build the phases."""
    try:
        network = build_network(regimen)
        conflict = find_conflict(network)
        solved = windows(network) if conflict is None else None
        days = timed_days(regimen, network) if conflict is None else {}
        phases = build_phases(regimen)
    except TooComplex as err:
        finding = Diagnostic(
            code=c.TOO_COMPLEX,
            message=err.message,
            primary=Label(err.span, "too complex to check"),
            help=err.help,
        )
        return Compiled(regimen, TimingNetwork(), None, None, PhaseGraph(), diagnostics=(finding,))
    return Compiled(regimen=regimen, network=network, conflict=conflict, windows=solved, phases=phases, days=days)
