"""The compile passes after lowering, in order: the graphs every check reads."""

from __future__ import annotations

from dataclasses import dataclass

from regdsl.compile.phases import PhaseGraph, build_phases
from regdsl.compile.stn import Conflict, TimingNetwork, Windows, build_network, find_conflict, windows
from regdsl.model import ir

__all__ = ["Compiled", "compile_regimen"]


@dataclass(frozen=True, slots=True)
class Compiled:
    """A lowered regimen with its timing network, its solution and its phase graph."""

    regimen: ir.Regimen
    network: TimingNetwork
    conflict: Conflict | None
    windows: Windows | None
    phases: PhaseGraph


def compile_regimen(regimen: ir.Regimen) -> Compiled:
    """Build the timing network, solve it (a conflict, or every point's window), build the phases."""
    network = build_network(regimen)
    conflict = find_conflict(network)
    solved = windows(network) if conflict is None else None
    return Compiled(regimen=regimen, network=network, conflict=conflict, windows=solved, phases=build_phases(regimen))
