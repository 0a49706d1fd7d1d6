"""Which line, and which of its doses, a reference to a medicine names: relations, observations, gaps.

A reference ``MED (N)`` names the lines of MED in the cycle group whose line name is N, or,
when no line of MED has the name N, whose route is N (``methotrexate (IT)``); case does not
matter. A reference ``MED`` names every line of MED. As-needed lines are never named: they
are not timed.

A relation on a line's dose of day d is timed to the named lines' dose of day d; a relation
without an amount of time (``before PACLItaxel``: the night before) may also be timed to the
next day's dose (``before``) or the previous day's (``after``). ``first``/``last`` take the
named lines' first or last dose of the cycle. Two named lines with a dose on the matched day
that some patient is given together are ambiguous: the relation cannot say which it means
(``TIM007``), and it is not timed. Lines in other branches of a choice than the relation's own
line are never its anchor (no patient is given both), and the timing network of one scenario
knows only the lines ``given`` to its patients, so in it at most one line is left where the
rules see several exclusive ones. The line a relation is written on is never its own anchor.

The timing network and the rules use this one resolution, so what a rule reports is what the
network left out.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from typing import NamedTuple

from regdsl.compile.schedule import point_days
from regdsl.model import ir

__all__ = ["Ambiguous", "Dose", "Given", "Lines", "every_line", "line_words", "names_line", "writable"]

Given = Callable[[ir.Administration], bool]  # whether a line is given to the patients of a scenario


def every_line(admin: ir.Administration) -> bool:
    """Give every line (a regimen without choices has one scenario: all its lines)."""
    return True


class Dose(NamedTuple):
    """The dose a reference is timed to: administration line ``line`` on ``day``."""

    line: int
    day: int


class Ambiguous(NamedTuple):
    """Two or more named lines have a dose on ``day``: the reference does not say which it means."""

    day: int
    lines: tuple[int, ...]


def line_words(admin: ir.Administration) -> tuple[str, ...]:
    """Return the names a line answers to, case-folded: its own name, then its route's aliases."""
    own = (admin.label.casefold(),) if admin.label else ()
    return own + tuple(alias.casefold() for alias in (admin.route.aliases if admin.route else ()))


def names_line(lines: Sequence[ir.Administration], line: str | None) -> list[int]:
    """Return the positions in ``lines`` (one medicine's) that the name ``line`` names (all of them for None)."""
    if line is None:
        return list(range(len(lines)))
    key = line.casefold()
    own = [k for k, a in enumerate(lines) if a.label is not None and a.label.casefold() == key]
    if own:
        return own
    return [k for k, a in enumerate(lines) if a.route is not None and key in line_words(a)[1 if a.label else 0 :]]


def writable(admin: ir.Administration) -> str:
    """Say how a line can be named in a reference: ``fluorouracil (bolus)``, or its medicine alone."""
    name = admin.medicine.display
    return f"{name} ({admin.label})" if admin.label else name


class Lines:
    """A cycle group's lines, found by medicine, and by medicine, line name and day (as needed left out).

    With ``given``, only the lines given to one scenario's patients (the others are not there).

    Each lookup is worked out once and kept: a relation is resolved in the time its anchor's
    lines on one day take, never by going through the whole cycle.
    """

    def __init__(self, group: ir.CycleGroup, given: Given = every_line) -> None:
        self.group = group
        self.of: dict[str, list[int]] = {}  # medicine: its lines, in order
        self.on: dict[tuple[str, int], list[int]] = {}  # medicine, day: its lines given that day
        # Each line's days, as the timing network names its doses: a series' by the days they count
        # as given on, a continuous infusion by its first day (``schedule.point_days``).
        self.days: dict[int, list[int]] = {}
        for i, admin in enumerate(group.administrations):
            if not admin.prn and given(admin):
                self.of.setdefault(admin.medicine.name, []).append(i)
                days = self.days[i] = point_days(admin)
                for day in days:
                    self.on.setdefault((admin.medicine.name, day), []).append(i)
        self._named: dict[tuple[str, str | None], list[int]] = {}
        self._named_on: dict[tuple[str, str | None, int], tuple[int, ...]] = {}
        self._ends: dict[tuple[str, str | None], tuple[int, int] | None] = {}

    def named(self, medicine: str, line: str | None) -> list[int]:
        """Return the lines that ``medicine`` with the line name ``line`` names, in order."""
        key = (medicine, line)
        found = self._named.get(key)
        if found is None:
            lines = self.of.get(medicine, [])
            admins = self.group.administrations
            found = self._named[key] = [lines[k] for k in names_line([admins[i] for i in lines], line)]
        return found

    def named_on(self, medicine: str, line: str | None, day: int) -> tuple[int, ...]:
        """Return the lines named by ``medicine`` and ``line`` that have a dose on ``day``, in order."""
        key = (medicine, line, day)
        found = self._named_on.get(key)
        if found is None:
            named = set(self.named(medicine, line))
            found = self._named_on[key] = tuple(i for i in self.on.get((medicine, day), ()) if i in named)
        return found

    def anchor(self, rel: ir.Relation, own: int, day: int) -> Dose | Ambiguous | None:
        """Return the dose that the relation on line ``own``'s dose of ``day`` is timed to (None: no such dose)."""
        if rel.position is not None:
            ends = self._first_last(rel.anchor, rel.line)
            if ends is None:
                return None
            day = ends[0] if rel.position == "first" else ends[1]
            return self._on(rel, own, day)
        step = 1 if rel.direction == "before" else -1
        for anchor_day in (day,) if rel.measured else (day, day + step):
            found = self._on(rel, own, anchor_day)
            if found is not None:
                return found
        return None

    def _first_last(self, medicine: str, line: str | None) -> tuple[int, int] | None:
        key = (medicine, line)
        if key not in self._ends:
            days = [d for i in self.named(medicine, line) for d in self.days[i][:1] + self.days[i][-1:]]
            self._ends[key] = (min(days), max(days)) if days else None
        return self._ends[key]

    def _on(self, rel: ir.Relation, own: int, day: int) -> Dose | Ambiguous | None:
        given = self.named_on(rel.anchor, rel.line, day)
        at = bisect.bisect_left(given, own)
        if at < len(given) and given[at] == own:  # a line is never its own anchor
            given = given[:at] + given[at + 1 :]
        admins = self.group.administrations
        if any(admins[i].guard is not None for i in given):  # only the lines given with the relation's own
            given = tuple(i for i in given if not admins[i].exclusive_of(admins[own]))
        if not given:
            return None
        if len(given) == 1 or not ir.given_together([admins[i] for i in given]):
            return Dose(given[0], day)  # each patient is given one of them: in a scenario's network, the one left
        return Ambiguous(day, given)
