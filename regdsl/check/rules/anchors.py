"""Days within their cycle, and timing relations whose anchor is given when they are measured."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from regdsl.check.context import RuleContext
from regdsl.check.registry import rule
from regdsl.compile.anchoring import Ambiguous, Lines, writable
from regdsl.compile.schedule import doses_by_day, point_days
from regdsl.diagnostics import Diagnostic, Label, Severity
from regdsl.model import ir
from regdsl.model.wording import relation_text
from regdsl.source import Span

__all__ = [
    "ambiguous_anchor",
    "chemotherapy_order_not_fixed",
    "day_outside_cycle",
    "line_name_repeated",
    "nothing_left_for_chemotherapy",
    "relation_not_that_day",
    "relation_unknown_drug",
]


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


def _lines_anchored(ctx: RuleContext) -> Iterator[tuple[Lines, int, ir.Administration, ir.Relation]]:
    """Every relation to a medicine given in its group, with the group's lines and the line it is written on."""
    for group in ctx.regimen.cycles():
        lines = Lines(group)
        for i, admin in enumerate(group.administrations):
            if admin.prn:
                continue
            for rel in admin.relations:
                if rel.anchor_kind == "chemotherapy" or (rel.anchor_kind == "drug" and rel.anchor in lines.of):
                    yield lines, i, admin, rel


def _chemotherapy_days(group: ir.CycleGroup) -> set[int]:
    return {d for a in group.administrations if a.role == "anticancer" and not a.prn for d in point_days(a)}


@rule("TIM002", "relation-to-absent-drug", Severity.ERROR, "a timing relation names a drug not given that day")
def relation_not_that_day(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find relations measured from a medicine (or a named line of it) on a day it is not given.

    What it does: flags a line timed relative to a medicine, a named line of it (`fluorouracil
    (bolus)`) or `chemotherapy` on a day the anchor is not given. A relation with an amount of
    time (`30 min before X`, `at least 6 hours before X`) is timed to X's dose of the same day
    only; one without (`before X`, the night before) may also be timed to the next day's dose
    (`before`) or the previous day's (`after`).

    Why it matters: "30 minutes before cISplatin" needs cISplatin on the same day; otherwise the
    relation cannot be met. Timing it to the next day's dose instead would silently move the
    dose to another day.

    Example:
        cycle 1: 21 days
          cISplatin 50 mg/m2 IV days 1, 9 over 60 min
          ondansetron 8 mg oral days 1, 8 30 min before cISplatin

    Use instead: list the days the anchor is given (day 9 above), or anchor to another medicine.
    """
    chemo: dict[int, set[int]] = {}
    for lines, i, admin, rel in _lines_anchored(ctx):
        label = _anchor(rel) + (f" ({rel.line})" if rel.line else "")
        if rel.anchor_kind == "chemotherapy":
            days = chemo.setdefault(id(lines), _chemotherapy_days(lines.group))
            step = 1 if rel.direction == "before" else -1
            tried = (0,) if rel.measured else (0, step)
            missed = next((d for d in lines.days[i] if all(d + k not in days for k in tried)), None)
        elif not lines.named(rel.anchor, rel.line):
            continue  # a line name that names nothing: TIM008
        else:
            missed = next((d for d in lines.days[i] if lines.anchor(rel, i, d) is None), None)
        if missed is None:
            continue
        near = _near_day(lines, rel, i, missed) if rel.measured and rel.position is None else None
        yield relation_not_that_day.finding(
            rel.span,
            f"{label} is not given on day {missed}, when {admin.medicine.display} is",
            label=f"no {label} on day {missed}",
            secondary=(Label(admin.span, f"{admin.medicine.display} on day {missed}"),),
            help=f"write the day of the dose it is timed to (day {near})"
            if near is not None
            else "list only the days the anchor is given, or anchor to another medicine",
        )


def _near_day(lines: Lines, rel: ir.Relation, own: int, day: int) -> int | None:
    """Return the day next to ``day`` that the anchor is given on, if any: the dose the author likely meant."""
    if rel.anchor_kind == "chemotherapy":
        days = _chemotherapy_days(lines.group)
        return next((d for d in (day + 1, day - 1) if d in days), None)
    return next((d for d in (day + 1, day - 1) if lines.anchor(rel, own, d) is not None), None)


# The lines of an ambiguous anchor labelled in its finding (TIM007): one finding per relation
# labelling every line would be quadratic in a day of many lines.
_CANDIDATES_SHOWN = 3


def _candidates(group: ir.CycleGroup, lines: tuple[int, ...]) -> str:
    """Say how to name each of ``lines`` (one medicine's): by its own name, or by its route if that tells them apart."""
    admins = [group.administrations[i] for i in lines[: _CANDIDATES_SHOWN + 1]]  # a few: bounded work
    routes = [a.route_word.text if a.route_word else None for a in admins]
    names = [
        a.label or (r if r is not None and routes.count(r) == 1 else None) for a, r in zip(admins, routes, strict=True)
    ]
    display = admins[0].medicine.display
    if any(n is None for n in names) or len(set(names)) < len(names):
        dose = f"{admins[0].dose.amount_word.text} {admins[0].dose.unit_word.text}"
        return (
            f"name each line in brackets after the medicine (`{display} (bolus) {dose} ...`), then write the name here"
        )
    shown = [f"`{display} ({n})`" for n in names[:_CANDIDATES_SHOWN]]
    return "write " + (", ".join(shown[:-1]) + " or " + shown[-1] if len(shown) > 1 else shown[0])


@rule(
    "TIM007",
    "ambiguous-anchor",
    Severity.ERROR,
    "a timing relation or observation names a medicine given on two lines of the same day",
)
def ambiguous_anchor(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find relations and observations of a medicine given on two lines of a day they are measured on.

    What it does: flags a line timed relative to a medicine that is given on two lines of the
    day the relation is measured on (a bolus and an infusion; IV and intrathecal), unless the
    relation names the line (`after fluorouracil (bolus)`, `after methotrexate (IT)`); and
    `observe ... after X` when two lines of X share a day. It is reported once per relation,
    with the names to write.

    Why it matters: "30 minutes before methotrexate" cannot say which dose it means when
    methotrexate is given on two lines that day: the relation would silently bind to one of
    them, and the page would show the wrong time.

    Example:
        cycle 1: 21 days
          methotrexate 12 mg intrathecal days 1
          methotrexate 3000 mg/m2 IV days 1 over 24 hours
          ondansetron 8 mg oral days 1 30 min before methotrexate

    Use instead: name the line the relation is timed to: by its route (`before methotrexate
    (IV)`), or by a name written on the line (`methotrexate (infusion) 3000 mg/m2 ...`).
    """
    for lines, i, _admin, rel in _lines_anchored(ctx):
        if rel.anchor_kind != "drug":
            continue
        for day in lines.days[i]:
            found = lines.anchor(rel, i, day)
            if isinstance(found, Ambiguous):
                yield _ambiguous(lines.group, rel.span, _anchor(rel), found, "this relation")
                break
    for group in ctx.regimen.cycles():
        lines = Lines(group)
        for obs in group.observations:
            if obs.position is not None:
                continue
            named = lines.named(obs.medicine.name, obs.line)
            for day in sorted({d for i in named for d in lines.days[i]}):
                shared = lines.named_on(obs.medicine.name, obs.line, day)
                if len(shared) > 1 and ir.given_together([group.administrations[i] for i in shared]):
                    yield _ambiguous(group, obs.span, obs.medicine.display, Ambiguous(day, shared), "this observation")
                    break


def _ambiguous(group: ir.CycleGroup, span: Span, label: str, found: Ambiguous, what: str) -> Diagnostic:
    candidates = found.lines
    shown = candidates[:_CANDIDATES_SHOWN]
    more = len(candidates) - len(shown)
    return ambiguous_anchor.finding(
        span,
        f"{label} is given on {len(candidates)} lines on day {found.day}: "
        f"{what} does not say which one it is timed from",
        label="which dose?",
        secondary=tuple(Label(group.administrations[i].span, f"{label} on day {found.day}") for i in shown),
        notes=(f"{more:,} more line{'s give' if more > 1 else ' gives'} {label} on day {found.day}",) if more else (),
        help=_candidates(group, candidates),
    )


@rule("TIM009", "line-name-repeated", Severity.ERROR, "two lines of one medicine with one name share a day")
def line_name_repeated(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find two lines of one medicine with the same name given on the same day.

    What it does: flags a line named in brackets (`fluorouracil (bolus) ...`) when an earlier
    line of the same medicine with the same name is given on one of its days.

    Why it matters: a name tells two lines of one medicine apart in relations, notes and
    observations; two lines with one name on one day cannot be told apart, so
    `after fluorouracil (bolus)` would not say which it means.

    Example:
        cycle 1: 14 days
          fluorouracil (bolus) 400 mg/m2 IV day 1 over 15 min
          fluorouracil (bolus) 2400 mg/m2 IV day 1 over exactly 46 hours

    Use instead: give each line its own name, such as `(bolus)` and `(infusion)`.
    """
    for group in ctx.regimen.cycles():
        # Each name's earlier lines on a day that no patient is given together (one per branch of a choice).
        first: dict[tuple[str, str, int], list[ir.Administration]] = {}
        for admin in group.administrations:
            if admin.label is None or admin.label_span is None:
                continue
            for day in admin.days:
                named = first.setdefault((admin.medicine.name, admin.label.casefold(), day), [])
                earlier = next((e for e in named if not e.exclusive_of(admin)), None)
                if earlier is None:
                    named.append(admin)
                else:
                    yield line_name_repeated.finding(
                        admin.label_span,
                        f"{admin.medicine.display} ({admin.label}) is already given on day {day}",
                        label="a name used twice that day",
                        secondary=(Label(earlier.label_span or earlier.span, "the first line of that name"),),
                        help="give each line of the medicine its own name, such as `(bolus)` and `(infusion)`",
                    )
                    break


@rule(
    "TIM006",
    "chemotherapy-order-not-fixed",
    Severity.WARNING,
    "a relation to chemotherapy on a day whose first (or last) anti-cancer medicine is not fixed",
)
def chemotherapy_order_not_fixed(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find relations to `chemotherapy` on a day whose anti-cancer medicines have no order that says which is first.

    What it does: `before chemotherapy` is measured to the start of the day's first anti-cancer
    medicine, `after chemotherapy` from the end of its last. When the regimen's other timing does
    not fix which medicine that is (two infusions on one day, neither timed from the other), this
    warns at the relation and names the medicines. The timing then only keeps the relation no
    later than each medicine's start (or no earlier than each end).

    Why it matters: the order the lines are listed in is not an order of giving them. "One hour
    before chemotherapy" is one hour before PACLItaxel if PACLItaxel goes first, and one hour
    before cARBOplatin if cARBOplatin does: the page cannot say when to give the premedication.

    Example:
        cycle 1: 21 days
          aprepitant 125 mg oral day 1 60 min before chemotherapy supportive
          PACLItaxel 175 mg/m2 IV day 1 over 3 hours
          cARBOplatin 5 AUC IV day 1 over 60 min

    Use instead: order the medicines (`cARBOplatin ... after PACLItaxel`), or time the line from
    one of them (`60 min before PACLItaxel`).
    """
    compiled = ctx.compiled
    nets = [s.network for s in compiled.scenarios] or [compiled.network]  # each scenario's chemotherapy is its own
    if not any(net.unfixed for net in nets):
        return
    groups = {(p, g): group for p, part in enumerate(ctx.regimen.parts, start=1) for g, group in enumerate(part.cycles)}
    seen: set[Span] = set()
    for net, anchoring in ((n, a) for n in nets for a in n.anchorings):
        rel, anchor = anchoring.relation, anchoring.anchor
        point = anchor if rel.point == "start" else anchor.other_end
        lines = net.unfixed.get(point)
        if lines is None or rel.span in seen:
            continue
        seen.add(rel.span)
        group = groups[(anchor.part, anchor.group)]
        names = ", ".join(writable(group.administrations[i]) for i in lines)
        which = "starts first" if rel.point == "start" else "ends last"
        first = group.administrations[lines[0]]
        instead = replace(rel, anchor_kind="drug", anchor=first.medicine.name, line=first.label)
        said = relation_text(instead, {first.medicine.name: first.medicine.display})
        yield chemotherapy_order_not_fixed.finding(
            rel.span,
            f"which anti-cancer medicine of day {anchor.day} {which} is not fixed ({names})",
            label="measured from which medicine?",
            help=f"time this line from one of them (`{said}`), or order them "
            f"(`{writable(group.administrations[lines[1]])} ... after {writable(first)}`)",
        )


@rule(
    "TIM012",
    "nothing-left-for-chemotherapy",
    Severity.ERROR,
    "every anti-cancer line of the day is itself timed from chemotherapy",
)
def nothing_left_for_chemotherapy(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find relations to `chemotherapy` on a day whose every anti-cancer line is timed from chemotherapy.

    What it does: the chemotherapy a line is timed from is the day's anti-cancer medicines other
    than those timed from chemotherapy themselves (pembrolizumab "at least 30 min before
    chemotherapy" is not part of the chemotherapy it comes before). When that leaves none, the
    relation has nothing to measure from.

    Why it matters: the relation cannot be met, and the line is given at no stated time.

    Example:
        cycle 1: 21 days
          pembrolizumab 200 mg flat IV day 1 over 30 min 30 min before chemotherapy

    Use instead: time the line from a medicine (`30 min before PACLItaxel`), or give the day's
    chemotherapy its own lines.
    """
    for group in ctx.regimen.cycles():
        timed = {i for i, a in enumerate(group.administrations) if _to_chemotherapy(a)}
        left: set[int] = set()
        anticancer: set[int] = set()
        for i, admin in enumerate(group.administrations):
            if admin.role == "anticancer" and not admin.prn:
                anticancer.update(point_days(admin))
                if i not in timed:
                    left.update(point_days(admin))
        for i in sorted(timed):
            admin = group.administrations[i]
            rel = next(r for r in admin.relations if r.anchor_kind == "chemotherapy")
            day = next((d for d in point_days(admin) if d in anticancer and d not in left), None)
            if day is not None:
                yield nothing_left_for_chemotherapy.finding(
                    rel.span,
                    f"every anti-cancer line of day {day} is timed from chemotherapy: none is left to be it",
                    label="nothing to measure from",
                    help="time this line from a medicine, such as `30 min before PACLItaxel`",
                )


def _to_chemotherapy(admin: ir.Administration) -> bool:
    return any(r.anchor_kind == "chemotherapy" for r in admin.relations)
