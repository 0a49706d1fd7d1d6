"""Days within their cycle, and timing relations whose anchor is given when they are measured."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from regdsl.check.context import RuleContext
from regdsl.check.registry import rule
from regdsl.compile.schedule import doses_by_day, point_days
from regdsl.diagnostics import Diagnostic, Label, Severity
from regdsl.model import ir

__all__ = ["ambiguous_anchor", "day_outside_cycle", "relation_not_that_day", "relation_unknown_drug"]


@rule("TIM001", "day-outside-cycle", Severity.ERROR, "a day lies outside its cycle", many="days outside the cycle")
def day_outside_cycle(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find days beyond the length of their cycle, written or copied by `same as`.

    What it does: flags a day (or the end of a range of days) after the last day of the
    cycle the line belongs to, a series of doses (`every 12 hours for 6 doses`) that runs past
    it, a day a whole cycle or more before day 1 (day -21 of a 21-day cycle), and a line copied
    by `same as` from a longer cycle with a day after the last day of this one. A cycle of N
    days has days 1 to N (day 0 is the day before day 1, day -1 the day before that).

    Why it matters: a later day belongs to the next cycle, and a day a cycle before day 1 to the
    previous one: either the day or the cycle length is wrong, and the dose would be given in
    the wrong cycle or not at all.

    Example:
        cycle 1: 21 days
          loratadine 10 mg oral days 1, 40

    Use instead: check the day, or the cycle length in the cycle's heading.
    """
    for group in ctx.regimen.cycles():
        length = group.length_days
        for admin in group.administrations:
            if admin.written_for == group.span:
                for days in admin.day_ranges:
                    if days.last > length:
                        yield day_outside_cycle.finding(
                            days.span,
                            f"day {max(days.first, length + 1)} is outside this {length}-day cycle",
                            label=f"the cycle has days 1 to {length}",
                            help="check the day, or the cycle length in the cycle's heading",
                        )
                    elif days.first <= -length:
                        yield day_outside_cycle.finding(
                            days.span,
                            f"day {days.first} is a whole cycle before day 1: it belongs to the previous cycle",
                            label=f"a {length}-day cycle reaches back to day {1 - length} at most",
                            help="check the day; a dose before the first cycle only is written in `cycle 1`",
                        )
                yield from _series_outside(group, admin)
            elif group.same_as_span is not None and admin.days and admin.days[-1] > length:
                late = next(d for d in admin.days if d > length)
                yield day_outside_cycle.finding(
                    group.same_as_span,
                    f"cycle {group.same_as}'s {admin.medicine.display} on day {late} is "
                    f"outside this {length}-day cycle",
                    label="inherited from here",
                )


def _series_outside(group: ir.CycleGroup, admin: ir.Administration) -> Iterator[Diagnostic]:
    """Find a series of doses by the clock whose last dose counts as given after the cycle's last day."""
    if admin.clock is None or not admin.days:
        return
    last = max(doses_by_day(admin))
    if last > group.length_days and admin.days[-1] <= group.length_days:
        yield day_outside_cycle.finding(
            admin.clock.span,
            f"the last dose of the series falls on day {last}, outside this {group.length_days}-day cycle",
            label=f"the cycle has days 1 to {group.length_days}",
            help="check the first day, the interval and the count",
        )


@dataclass(frozen=True, slots=True)
class _Given:
    """What a cycle group gives, worked out once per group: as needed is not given."""

    days: dict[str, set[int]]  # medicine: the days it is given
    lines: dict[tuple[str, int], list[ir.Administration]]  # medicine, day: its lines
    chemotherapy: set[int]  # the days an anti-cancer medicine is given

    def anchor_days(self, rel: ir.Relation) -> set[int] | None:
        """Return the days a relation's anchor is given; None for a medicine the group does not give."""
        return self.chemotherapy if rel.anchor_kind == "chemotherapy" else self.days.get(rel.anchor)


def _given(group: ir.CycleGroup) -> _Given:
    found = _Given(days={}, lines={}, chemotherapy=set())
    for admin in group.administrations:
        if admin.prn:
            continue
        # The days a dose is named by, as the timing network times relations: a series' doses by
        # the days they count as given on, a continuous infusion by its first day.
        days = point_days(admin)
        found.days.setdefault(admin.medicine.name, set()).update(days)
        for day in days:
            found.lines.setdefault((admin.medicine.name, day), []).append(admin)
        if admin.role == "anticancer":
            found.chemotherapy.update(days)
    return found


def _anchor(rel: ir.Relation) -> str:
    if rel.anchor_kind == "chemotherapy":
        return "chemotherapy"
    return rel.medicine.display if rel.medicine else rel.anchor


def _anchored(ctx: RuleContext) -> Iterator[tuple[_Given, ir.Administration, ir.Relation, set[int] | None]]:
    """Every relation to a medicine or to chemotherapy, its line, what its group gives, and the anchor's days."""
    for group in ctx.regimen.cycles():
        given = _given(group)
        for admin in group.administrations:
            for rel in admin.relations:
                if rel.anchor_kind != "event":
                    yield given, admin, rel, given.anchor_days(rel)


@rule(
    "TIM003",
    "relation-to-unknown-drug",
    Severity.ERROR,
    "a timing relation or observation names a drug not in the cycle",
)
def relation_unknown_drug(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find relations, observations and gaps measured from a medicine the cycle does not give.

    What it does: flags a timing relation (`30 min before X`), an observation
    (`observe 60 min after X`) or a minimum gap (`X doses at least 6 days apart`) whose
    medicine is not given in the cycle group (as needed does not count), and a relation to
    `chemotherapy` in a cycle that gives none.

    Why it matters: there is nothing to measure from, so the relation cannot be met and
    the timing the regimen means is lost; usually the medicine is misnamed or the line is in
    the wrong cycle.

    Example:
        cycle 1: 21 days
          loratadine 10 mg oral days 1
          observe 60 min after inotuzumab ozogamicin

    Use instead: anchor to a medicine given in the same cycle.
    """
    for group in ctx.regimen.cycles():
        given = _given(group).days
        anchored: list[ir.Observation | ir.MinGap] = [*group.observations, *group.gaps]
        for item in anchored:
            if item.medicine.name not in given:
                yield relation_unknown_drug.finding(
                    item.span, f"{item.medicine.display} is not given in this cycle", label="nothing to measure from"
                )
    for _, _, rel, days in _anchored(ctx):
        if days is None:
            yield relation_unknown_drug.finding(
                rel.span, f"{_anchor(rel)} is not given in this cycle", label="nothing to measure from"
            )


@rule("TIM002", "relation-to-absent-drug", Severity.ERROR, "a timing relation names a drug not given that day")
def relation_not_that_day(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find relations measured from a medicine on a day it is not given.

    What it does: flags a line timed relative to a medicine (or to `chemotherapy`) on a day
    when the anchor is not given that day (or, for premedication before it, the day after).

    Why it matters: "30 minutes before inotuzumab ozogamicin" needs inotuzumab ozogamicin on
    the same day; otherwise the relation cannot be met.

    Example:
        cycle 1: 21 days
          cISplatin 50 mg/m2 IV day 1 over 60 min
          ondansetron 8 mg oral days 1, 8 30 min before cISplatin

    Use instead: list only the days the anchor is given, or anchor to another medicine.
    """
    for _, admin, rel, days in _anchored(ctx):
        if days is None:
            continue
        step = 1 if rel.direction == "before" else -1
        label = _anchor(rel)
        missed = next((day for day in point_days(admin) if day not in days and day + step not in days), None)
        if missed is not None:
            yield relation_not_that_day.finding(
                rel.span,
                f"{label} is not given on day {missed}, when {admin.medicine.display} is",
                label=f"no {label} on day {missed}",
                secondary=(Label(admin.span, f"{admin.medicine.display} on day {missed}"),),
                help="list only the days the anchor is given, or anchor to another medicine",
            )


# The lines of an ambiguous anchor labelled in its finding (TIM007): one finding per relation
# labelling every line would be quadratic in a day of many lines.
_CANDIDATES_SHOWN = 3


@rule(
    "TIM007",
    "ambiguous-anchor",
    Severity.ERROR,
    "a timing relation names a medicine given on two lines of the same day",
)
def ambiguous_anchor(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find relations to a medicine given on two lines of a day they are measured on.

    What it does: flags a line timed relative to a medicine that is given on two lines of
    the day the relation is measured on (a bolus and an infusion; IV and intrathecal). It is
    reported once per relation.

    Why it matters: "30 minutes before methotrexate" cannot say which dose it means when
    methotrexate is given on two lines that day: the relation would silently bind to the
    first one listed.

    Example:
        cycle 1: 21 days
          methotrexate 12 mg intrathecal days 1
          methotrexate 3000 mg/m2 IV days 1 over 24 hours
          ondansetron 8 mg oral days 1 30 min before methotrexate

    Use instead: time the line relative to something given once that day, such as another
    medicine or `chemotherapy`.
    """
    for given, admin, rel, days in _anchored(ctx):
        if rel.anchor_kind != "drug" or days is None:
            continue
        lines = given.lines
        step = 1 if rel.direction == "before" else -1
        label = _anchor(rel)
        for day in admin.days:
            anchor_day = day if (rel.anchor, day) in lines else day + step
            candidates = [a for a in lines.get((rel.anchor, anchor_day), []) if not a.exclusive_of(admin)]
            if ir.given_together(candidates):
                shown = candidates[:_CANDIDATES_SHOWN]
                more = len(candidates) - len(shown)
                yield ambiguous_anchor.finding(
                    rel.span,
                    f"{label} is given on {len(candidates)} lines on day {anchor_day}: "
                    "this relation does not say which one it is timed from",
                    label="which dose?",
                    secondary=tuple(Label(a.span, f"{label} on day {anchor_day}") for a in shown),
                    notes=(f"{more:,} more line{'s give' if more > 1 else ' gives'} {label} on day {anchor_day}",)
                    if more
                    else (),
                    help="time this line from something given once that day, such as another medicine or "
                    "`chemotherapy`",
                )
                break
