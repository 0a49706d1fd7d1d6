"""Timing rules: conflicts in the timing network, and shift windows narrower than written."""

from __future__ import annotations

from collections.abc import Iterator

from regdsl.check.context import RuleContext
from regdsl.check.registry import rule
from regdsl.compile.stn import PointKind, day_of
from regdsl.diagnostics import Diagnostic, Label, Severity
from regdsl.model.wording import duration, shift_text

__all__ = ["shift_narrowed", "timing_conflict"]


@rule("TIM004", "timing-conflict", Severity.ERROR, "timing constraints that cannot all hold")
def timing_conflict(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find timing constraints that contradict each other.

    What it does: builds the regimen's timing network (every administration's and every
    observation's start and end, each within its cycle, every cycle start, every relation,
    shift window and minimum gap) and searches it
    for a negative cycle: a set of constraints that no schedule can satisfy together. It
    labels every line whose constraint is part of the contradiction.

    Why it matters: a schedule that cannot be kept forces the ward to break one of the
    rules, unguided: a premedication given too early, a dose too soon after the last.

    Example:
        ondansetron 8 mg oral days 1 30 to 60 min before cisplatin
        cisplatin 50 mg/m2 IV day 1 over 60 min 2 hours after ondansetron

    Use instead: constraints that agree, such as `30 to 60 min before cisplatin` alone.
    """
    conflict = ctx.compiled.conflict
    if conflict is None:
        return
    labels: dict[tuple[str, int, int], Label] = {}
    for constraint in conflict.constraints:
        key = (constraint.span.path, constraint.span.start, constraint.span.end)
        if key in labels:
            labels[key] = Label(constraint.span, f"{labels[key].text}; {constraint.what}")
        else:
            labels[key] = Label(constraint.span, constraint.what)
    ordered = sorted(labels.values(), key=lambda lb: (lb.span.start, lb.span.end))
    primary, *rest = ordered
    yield timing_conflict.finding(
        primary.span,
        f"these timing constraints cannot all hold: together they need at least "
        f"{duration(conflict.needed)} but allow at most {duration(conflict.allowed)}",
        label=primary.text,
        secondary=tuple(rest),
        help="relax one of the labelled constraints, or correct a day, duration or gap",
        notes=(f"for {ctx.compiled.conflict_scenario}",) if ctx.compiled.conflict_scenario else (),
    )


@rule("TIM005", "shift-window-narrowed", Severity.WARNING, "a shift window is narrower than written")
def shift_narrowed(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find shift windows that other constraints make narrower than the text says.

    What it does: for every dose written with a shift window (`days 8, 15 ± 2 days`),
    compares the calendar days the dose may really move to, in the solved timing network,
    with the days the window states.

    Why it matters: a nurse rescheduling a dose trusts the written window. If a minimum
    gap between doses means the day 8 dose can move to day 7 at the earliest, "±2 days"
    invites a dose that breaks the gap.

    Example:
        ino 0.8 mg/m2 IV day 1 over 60 min
        ino 0.5 mg/m2 IV days 8, 15 ± 2 days over 60 min
        ino doses at least 6 days apart

    Use instead: a window that can be used in full (`day 8 ± 1 days` when the gap allows
    one day either side), or a note that says which constraint limits it.
    """
    compiled = ctx.compiled
    solved = compiled.windows
    if solved is None:
        return
    reported: set[tuple[str, int, int]] = set()
    for point, (early, late) in solved.items():
        if point.kind is not PointKind.DOSE or point.end:
            continue
        admin = ctx.regimen.parts[point.part - 1].cycles[point.group].administrations[point.line]
        shift, day = admin.shift_days or 0, point.day
        key = (admin.span.path, admin.span.start, day)
        if not shift or key in reported:
            continue
        first_day, last_day = day_of(early), day_of(late)
        if first_day > day - shift or last_day < day + shift:
            reported.add(key)
            yield shift_narrowed.finding(
                admin.span,
                f"the day {day} dose of {admin.medicine.display} can move only to days {first_day} to {last_day}, "
                f"not {day - shift} to {day + shift} as written ({shift_text(shift)})",
                label=f"day {day} {shift_text(shift)}",
                help="state the window that can really be used, or the constraint that limits it",
                notes=(
                    "other timing constraints of this regimen, such as a minimum gap between doses, rule out "
                    "the other days",
                ),
            )
