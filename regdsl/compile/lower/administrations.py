"""Administration lines: the medicine, the dose, the route, the days, the timing relations, the notes.

A line whose medicine or dose cannot be resolved is reported and left out. What is written
on a line is kept as written for the rules: the amount and unit, the route word, the day
ranges and the `days` clause; a clause given twice is set aside, where the rules find it.
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping
from typing import Literal, assert_never

from regdsl.compile.lower.words import LINE_KEYWORDS, Lowering, route_named
from regdsl.compile.schedule import dose_count, runs
from regdsl.diagnostics import codes as c
from regdsl.model import ast, ir, limits
from regdsl.model.vocabulary import FREQUENCY_BY_PHRASE, INTRAVENOUS, Route
from regdsl.model.wording import DAY, duration
from regdsl.source import Span
from regdsl.syntax.expected import close_match

__all__ = ["admin", "note", "relation"]


def _days(low: Lowering, days: ast.Days) -> tuple[tuple[int, ...], tuple[ir.DayRange, ...], int | None]:
    """Return the days a `days` clause names, its ranges as written, and its shift."""
    found: list[int] = []
    ranges: list[ir.DayRange] = []
    for item in days.items:
        first = low.day(item.first)
        last = low.day(item.last) if item.last else first
        if first is None or last is None:
            continue
        low.count(item.span, max(0, last - first + 1))
        if last < first:
            low.sink.report(
                c.BAD_RANGE, item.span, f"days {first} to {last} run backwards", label="the range ends before it starts"
            )
            continue
        ranges.append(ir.DayRange(span=item.span, first=first, last=last))
        found.extend(range(first, last + 1))
    shift = low.integer(days.shift, "a shift", limits.DAYS) if days.shift else None
    return tuple(sorted(set(found))), tuple(ranges), shift


def _clock(low: Lowering, node: ast.Clock) -> ir.Clock | None:
    """Lower ``every N UNIT [for K doses [each day]]``; None when a number cannot be read (reported)."""
    interval = low.minutes(node.amount, node.unit)
    count = low.integer(node.count, "a number of doses", limits.DOSES) if node.count is not None else None
    if interval is None or (node.count is not None and count is None):
        return None
    for value, word, what in ((interval, node.amount, "an interval"), (count, node.count, "a number of doses")):
        if value == 0 and word is not None:
            low.sink.report(c.BAD_NUMBER, word.span, f"{what} must be at least 1", label="zero is not a schedule")
            return None
    return ir.Clock(span=node.span, interval=interval, count=count, each_day=node.each_day)


def _over(low: Lowering, node: ast.Over) -> tuple[int | None, int | None, int | None]:
    """Lower a duration to its lower bound, its written upper bound and its extension, in minutes.

    Unreadable numbers (reported) leave the line without a duration; so does a duration that
    says two things (`STR016`) or runs backwards (`STR007`).
    """
    first = low.minutes(node.amount, node.unit)
    high = low.minutes(node.high, node.unit) if node.high is not None else None
    extend = low.minutes(node.extend, node.extend_unit) if node.extend and node.extend_unit else None
    if first is None or (node.high is not None and high is None) or (node.extend is not None and extend is None):
        return None, None, None
    if node.exact and (node.high is not None or node.extend is not None):
        _conflict(
            low,
            node.span,
            "`exactly` fixes the time: it takes no range and no extension",
            "`exactly` with another duration",
            "write `over exactly 46 hours`, or `over 4 to 6 hours` without `exactly`",
        )
        return None, None, None
    if node.at_least and node.high is not None:
        _conflict(
            low,
            node.span,
            "`at least` gives no upper time, and a range gives one",
            "`at least` with a range",
            "write `over at least 4 hours`, or `over 4 to 6 hours`",
        )
        return None, None, None
    if high is not None and high < first:
        low.sink.report(
            c.BAD_RANGE,
            node.span,
            f"{node.amount.text} to {node.high.text if node.high else ''} {node.unit.text} runs backwards",
            label="the range ends before it starts",
        )
        return None, None, None
    written = high if high is not None else first
    if extend is not None and extend <= written:
        _conflict(
            low,
            node.span,
            f"the time may extend to {duration(extend)}, which is not longer than {duration(written)}",
            "the extension is not longer",
            "write the longer time after `may extend to`",
        )
        return None, None, None
    if node.at_least:
        return first, None, extend
    if high is not None:
        return first, high, extend
    return (first if node.exact else None), first, extend


def _infusion(low: Lowering, seen: Mapping[str, Span], days: tuple[int, ...], route: Route | None) -> set[str]:
    """Check `continuous`, `by pump` and `bags` against the line; return the clauses set aside (reported).

    ``seen`` holds where each kind of clause is written (``Over``, ``Clock``, ``Bags``, and the
    flags by their kind).
    """
    dropped: set[str] = set()
    if not seen.keys() & {"continuous", "pump", "Bags"}:
        return dropped
    several = any(last > first for first, last in runs(days))
    if "continuous" in seen:
        schedule = seen.get("Clock") or seen.get("frequency")
        if schedule is not None:
            _conflict(
                low,
                seen["continuous"],
                "a continuous infusion runs without a break: it has no clock or frequency",
                "continuous, with a schedule of doses",
                "keep `continuous` for an infusion through the days, or the clock for separate doses",
            )
            dropped.add("continuous")
        elif several and "Over" in seen:
            _conflict(
                low,
                seen["Over"],
                "a continuous infusion through a range of days lasts those days: it takes no `over`",
                "the days already give the duration",
                "drop `over`, or write one day with `over exactly 46 hours`",
            )
            dropped.add("Over")
    if "Bags" in seen and ("continuous" not in seen or "continuous" in dropped) and "Over" not in seen:
        _conflict(
            low,
            seen["Bags"],
            "bags are changed during an infusion, and this line gives none",
            "no `continuous` or `over` on this line",
            "write `days 8 to 28 continuous bags every 96 hours`",
        )
        dropped.add("Bags")
    if "pump" in seen and route is not None and route.code != INTRAVENOUS:
        _conflict(
            low,
            seen["pump"],
            f"an ambulatory pump gives an intravenous infusion, not {route.term}",
            "a pump on another route",
            "check the route, or drop `by pump`",
        )
        dropped.add("pump")
    return dropped


def _conflict(low: Lowering, span: Span, message: str, label: str, help: str) -> None:
    low.sink.report(c.CLAUSE_CONFLICT, span, message, label=label, help=help)


def _series(
    low: Lowering,
    clock: ir.Clock | None,
    days: ast.Days | None,
    found: tuple[int, ...],
    frequency: Span | None,
    written: Container[str],
) -> ir.Clock | None:
    """Check a clock against the line's frequency and days; return the clock in force (None: one dose a day).

    ``written`` holds the kinds of clause the line has: a clock that could not be read is not reported again.
    """
    starting = days is not None and days.starting
    if clock is None:
        if starting and days is not None and "Clock" not in written:
            _conflict(
                low,
                days.span,
                "`starting` names the first day of a series, and this line has none",
                "no `every N hours` on this line",
                "write `every 12 hours for 6 doses starting day 1`, or `day 1`",
            )
        return None
    if frequency is not None:
        _conflict(
            low,
            clock.span,
            "a line has a clock or a frequency, not both",
            "this clock",
            "keep one: `every 12 hours` or `twice daily`",
        )
        return None
    several = len(found) > 1
    if starting and days is not None and several:
        _conflict(
            low,
            days.span,
            "`starting` takes one day: the series starts on it",
            "more than one day",
            "write `starting day 1`, or drop `starting` and write `each day` after the count",
        )
        return None
    if clock.each_day and starting:
        _conflict(
            low,
            clock.span,
            "`each day` and `starting` say two schedules",
            "`each day` here",
            "write `starting day 1` for one series, or `days ... each day` for one series a day",
        )
        return None
    if clock.count is not None and several and not clock.each_day:
        low.sink.report(
            c.CLOCK_COUNT_AMBIGUOUS,
            clock.span,
            f"{clock.count} doses in all, or {clock.count} on each of the {len(found)} days?",
            label="the count can be read two ways",
            help=f"write `for {clock.count} doses starting day {found[0]}` for one series, or "
            f"`for {clock.count} doses each day` for one a day",
        )
        return None
    if clock.count is None:
        for first, last in runs(found):
            if (last - first + 1) * DAY % clock.interval:
                low.sink.report(
                    c.CLOCK_COUNT_AMBIGUOUS,
                    clock.span,
                    f"every {duration(clock.interval)} does not fill days {first} to {last} evenly",
                    label="the last dose of the days is not fixed",
                    help="write how many doses: `for N doses`",
                )
                return None
    return clock


def relation(low: Lowering, rel: ast.RelationCore, qualifier: ast.Text | None) -> ir.Relation | None:
    """Lower a timing relation; None when its times or its anchor cannot be resolved (reported)."""
    low_minutes: int | None = 0
    high: int | None = None
    if rel.concurrently:
        high = 0
    elif rel.low is not None and rel.unit is not None:
        amount = low.minutes(rel.low, rel.unit)
        if amount is None:
            return None
        match rel.bound:
            case "exact":
                low_minutes = amount
                high = low.minutes(rel.high, rel.unit) if rel.high else amount
                if high is None:
                    return None
                if high < amount:
                    low.sink.report(
                        c.BAD_RANGE,
                        rel.span,
                        f"{rel.low.text} to {rel.high.text if rel.high else ''} runs backwards",
                        label="the range ends before it starts",
                    )
                    return None
            case "at least":
                low_minutes = amount
            case "within":
                high = amount
            case _:
                assert_never(rel.bound)
    anchor = rel.anchor
    medicine = None
    if anchor.kind == "drug" and anchor.drug is not None:
        medicine = low.medicine(anchor.drug)
        if medicine is None:
            return None
    point: Literal["start", "end"] = rel.point or ("start" if rel.direction == "before" else "end")
    position = rel.position.text if rel.position else None
    return ir.Relation(
        span=rel.span,
        direction=rel.direction,
        low=low_minutes,
        high=high,
        point=point,
        anchor_kind=anchor.kind,
        anchor=medicine.name if medicine else anchor.text,
        qualifier_text=qualifier,
        medicine=medicine,
        line=anchor.line.text if anchor.line else None,
        line_span=anchor.line.span if anchor.line else None,
        own_point="end" if rel.ending else "start",
        position="first" if position == "first" else "last" if position == "last" else None,
        via="concurrently" if rel.concurrently else "relation",
    )


def admin(
    low: Lowering, node: ast.Admin, cycle: Span, default_days: ast.Days | None = None
) -> ir.Administration | None:
    """Lower one administration line written for the cycle group headed ``cycle``; None if it cannot be."""
    med = low.medicine(node.drug)
    if med is None and not node.drug.quoted and close_match(node.drug.text, LINE_KEYWORDS):
        return None  # a misspelt statement keyword: the rest of the line is not a dose
    amount = low.amount(node.dose.amount)
    unit = low.unit(node.dose.unit)
    route = route_named(low.sink, node.route, node.dose) if node.route is not None else None
    days: tuple[int, ...] = ()
    ranges: tuple[ir.DayRange, ...] = ()
    shift = max_minutes = min_minutes = extend_minutes = None
    exact = prn = off_label = s29 = role_stated = continuous = pump = False
    bag_minutes: int | None = None
    duration_words: tuple[ast.Word, ...] = ()
    role: Literal["anticancer", "supportive"] = "anticancer" if med and med.anticancer else "supportive"
    frequency = clock = None
    frequency_span: Span | None = None
    volume = cap = None
    relations: list[ir.Relation] = []
    repeated: list[tuple[Span, Span]] = []
    seen: dict[str, Span] = {}
    days_node = default_days
    for clause in node.clauses:
        kind = clause.kind if isinstance(clause, ast.Flag) else type(clause).__name__
        if kind != "Relation":
            first = seen.setdefault(kind, clause.span)
            if first is not clause.span:
                repeated.append((clause.span, first))  # the first is in force; the rules judge the second
                continue
        match clause:
            case ast.Days():
                days_node = clause
            case ast.Over():
                min_minutes, max_minutes, extend_minutes = _over(low, clause)
                exact = clause.exact
                duration_words = tuple(w for w in (clause.amount, clause.high, clause.extend) if w is not None)
            case ast.Flag(kind="frequency", value=v):
                frequency, frequency_span = FREQUENCY_BY_PHRASE[v], clause.span
                if frequency.interval is not None:  # the legacy words of a clock: `every two hours`
                    clock = ir.Clock(span=clause.span, interval=frequency.interval, count=None, each_day=False)
                    frequency_span = None
            case ast.Clock():
                clock = _clock(low, clause)
            case ast.Flag(kind="prn"):
                prn = True
            case ast.Flag(kind="role", value=v):
                role = "anticancer" if v == "anticancer" else "supportive"
                role_stated = True
            case ast.Flag(kind="off_label"):
                off_label = True
            case ast.Flag(kind="s29"):
                s29 = True
            case ast.Flag(kind="continuous"):
                continuous = True
            case ast.Flag(kind="pump"):
                pump = True
            case ast.Bags(amount=a, unit=u):
                bag_minutes = low.minutes(a, u)
            case ast.Flag():
                raise AssertionError(clause.kind)
            case ast.Volume(amount=a, unit=u):
                volume = low.quantity(clause.span, a, u)
            case ast.Cap(amount=a, unit=u):
                cap = low.quantity(clause.span, a, u)
            case ast.Relation(core=core, qualifier=q):
                lowered = relation(low, core, q)
                if lowered is not None:
                    relations.append(lowered)
            case _:
                assert_never(clause)
    if days_node is not None:
        days, ranges, shift = _days(low, days_node)
    clock = _series(low, clock, days_node, days, frequency_span, seen)
    dropped = _infusion(low, seen, days, route)
    if "Over" in dropped:
        min_minutes = max_minutes = extend_minutes = None
        exact = False
    continuous = continuous and "continuous" not in dropped
    pump = pump and "pump" not in dropped
    bag_minutes = bag_minutes if "Bags" not in dropped else None
    low.count(node.span, len(days) * len(relations))
    if med is None or amount is None or unit is None:
        return None
    dose = node.dose
    made = ir.Administration(
        span=node.span,
        medicine=med,
        written=node.drug.text,
        dose=ir.Dose(
            span=dose.span, amount=amount, unit=unit, amount_word=dose.amount, unit_word=dose.unit, flat=dose.flat
        ),
        route=route,
        frequency=frequency,
        days=days,
        shift_days=shift,
        max_minutes=max_minutes,
        exact_duration=exact,
        prn=prn,
        role=role,
        role_stated=role_stated,
        off_label=off_label,
        s29=s29,
        volume=volume,
        cap=cap,
        relations=tuple(relations),
        instructions_prose=node.instructions,
        written_for=cycle,
        route_word=node.route,
        repeated=tuple(repeated),
        days_span=days_node.span if days_node else None,
        day_ranges=ranges,
        label=node.line.text if node.line else None,
        label_span=node.line.span if node.line else None,
        clock=clock,
        starting=days_node is not None and days_node.starting,
        min_minutes=min_minutes,
        extend_minutes=extend_minutes,
        continuous=continuous,
        pump=pump,
        bag_minutes=bag_minutes,
        duration_words=duration_words,
    )
    low.count(node.span, max(dose_count(made) - len(days), 0))  # the days are counted with their cycle group
    return made


# A note's label that names one line of a medicine: `fluorouracil (infusion)`.
_LINE_LABEL = re.compile(r"(?P<medicine>[^()]*?)\s*\((?P<line>[^()]*)\)")


def note(low: Lowering, node: ast.Note) -> ir.Note:
    """Lower a note; a label that names a medicine (or one of its lines, `MED (NAME)`) is a mention of it."""
    med = line = None
    if node.label is not None:
        label = node.label
        named = _LINE_LABEL.fullmatch(label.text)
        text = named.group("medicine") if named else label.text
        ref = ast.DrugRef(span=label.at(0, len(text)) if named else label.span, text=text, quoted=False)
        if low.find(ref) is not None:
            med = low.medicine(ref)
            line = named.group("line").strip() if named else None
    return ir.Note(span=node.span, label_word=node.label, medicine=med, prose=node.prose, line=line)
