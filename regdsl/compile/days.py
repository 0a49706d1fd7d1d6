"""The dose days that pages draw as day timelines, solved: each day's anchor and the bounds around it.

For the first cycle of each cycle group, a day is timed on its own when a relation times a
dose to a dose of that day (a premedication, to a medicine or to chemotherapy), when a dose
of that day is observed after, or when an anti-cancer dose of that day has a stated
duration. Its anchor (the zero of its timeline) is the day's chemotherapy when a relation is
timed to it, else the first dose of a medicine a relation names, else the first anti-cancer
dose, else the day's first dose. What a timeline draws is solved here (``stn.bounds_from``),
once, and a page only reads it: when each dose of the day and each dose timed to it (which
may fall on the day before or after) may start, and how late each of those doses and the
day's observations may end, all from the anchor's start.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass

from regdsl.compile.schedule import points_by_day
from regdsl.compile.stn import (
    Anchoring,
    Bounds,
    Given,
    PointId,
    PointKind,
    Searches,
    TimingNetwork,
    bounds_from,
    every_line,
)
from regdsl.model import ir

__all__ = ["TimedDay", "timed_days"]


@dataclass(frozen=True, slots=True)
class TimedDay:
    """A dose day timed on its own: its anchor, the relations timed to its doses, and what its timeline draws.

    ``starts`` holds ``(lower, upper)`` of ``start - anchor`` in minutes (None: unbounded) for
    each dose of the day and each dose timed to it; ``latest`` holds the greatest ``point -
    anchor`` for the end of each of those doses and the start and end of the day's observations.
    """

    day: int
    anchor: PointId
    timed: tuple[Anchoring, ...]
    starts: Mapping[PointId, Bounds]
    latest: Mapping[PointId, int | None]


def timed_days(
    regimen: ir.Regimen, net: TimingNetwork, given: Given = every_line, known: Container[PointId] = ()
) -> dict[PointId, tuple[TimedDay, ...]]:
    """Return the timed days of each cycle group's first cycle, by its cycle start, in day order.

    The network must be consistent (``find_conflict`` found no conflict); it holds the lines ``given``.
    Cycles in ``known`` (timed already, in another scenario's network) are left out.
    """
    by_cycle: dict[PointId, list[Anchoring]] = {}
    for anchoring in net.anchorings:
        by_cycle.setdefault(anchoring.dose.cycle_start, []).append(anchoring)
    found: dict[PointId, tuple[TimedDay, ...]] = {}
    for p, part in enumerate(regimen.parts, start=1):
        for g, group in enumerate(part.cycles):
            cycle = PointId(p, g, group.first)
            if cycle in net.index and cycle not in known:
                found[cycle] = _days(net, cycle, group, by_cycle.get(cycle, []), given)
    return found


def _days(
    net: TimingNetwork, cycle: PointId, group: ir.CycleGroup, anchorings: list[Anchoring], given: Given
) -> tuple[TimedDay, ...]:
    admins = group.administrations
    by_day: dict[int, list[tuple[int, int]]] = {}  # each day's lines (not as needed, and given), and their doses
    for i, admin in enumerate(admins):
        if not admin.prn and given(admin):
            for day, count in points_by_day(admin).items():
                by_day.setdefault(day, []).append((i, count))
    timed: dict[int, list[Anchoring]] = {}
    for anchoring in anchorings:
        timed.setdefault(anchoring.anchor.day, []).append(anchoring)
    watched: dict[str, list[int]] = {}  # each medicine's observations, by its name
    for o, obs in enumerate(group.observations):
        watched.setdefault(obs.medicine.name, []).append(o)
    days = set(timed)
    for day, lines in by_day.items():
        if any(admins[i].medicine.name in watched or _infused(admins[i]) for i, _count in lines):
            days.add(day)
    searches = Searches()  # a day's starts and ends are bounded from one anchor: its searches are made once
    return tuple(_day(net, cycle, group, by_day, watched, day, timed.get(day, []), searches) for day in sorted(days))


def _infused(admin: ir.Administration) -> bool:
    return admin.role == "anticancer" and (admin.duration_stated or admin.continuous)


def _day(
    net: TimingNetwork,
    cycle: PointId,
    group: ir.CycleGroup,
    by_day: dict[int, list[tuple[int, int]]],
    watched: dict[str, list[int]],
    day: int,
    timed: list[Anchoring],
    searches: Searches,
) -> TimedDay:
    admins = group.administrations
    todays = [i for i, _count in by_day[day]]
    if any(a.anchor.kind is PointKind.CHEMOTHERAPY for a in timed):
        anchor = cycle.chemotherapy(day)
    else:
        named = {a.relation.anchor for a in timed}
        main = next(
            (i for i in todays if admins[i].medicine.name in named),
            next((i for i in todays if admins[i].role == "anticancer"), todays[0]),
        )
        anchor = cycle.dose(main, day)
    doses = [cycle.dose(i, day, n) for i, count in by_day[day] for n in range(count)]
    doses += [a.dose for a in timed if a.dose.day != day]
    ends = [dose.other_end for dose in doses]
    for i, count in by_day[
        day
    ]:  # each line's observations, by its medicine: never every pair of lines and observations
        for o in watched.get(admins[i].medicine.name, ()):
            for n in range(count):  # an observation of one line of the medicine, or one day: those in the network
                if cycle.observing(o, i, day, n) in net.index:
                    ends += [cycle.observing(o, i, day, n), cycle.observing(o, i, day, n, end=True)]
    starts = bounds_from(net, anchor, doses, searches=searches)
    latest = bounds_from(net, anchor, ends, lower=False, searches=searches)
    return TimedDay(
        day=day,
        anchor=anchor,
        timed=tuple(timed),
        starts=starts,
        latest={point: upper for point, (_lower, upper) in latest.items()},
    )
