"""Administration lines: the medicine, the dose, the route, the days, the timing relations, the notes.

A line whose medicine or dose cannot be resolved is reported and left out. What is written
on a line is kept as written for the rules: the amount and unit, the route word, the day
ranges and the `days` clause; a clause given twice is set aside, where the rules find it.
"""

from __future__ import annotations

import re
from typing import Literal, assert_never

from regdsl.compile.lower.words import LINE_KEYWORDS, Lowering
from regdsl.diagnostics import codes as c
from regdsl.model import ast, ir, limits
from regdsl.model.vocabulary import FREQUENCY_BY_PHRASE, ROUTE_BY_ALIAS, ROUTES, Route
from regdsl.source import Span
from regdsl.syntax.expected import close_match

__all__ = ["admin", "note", "relation"]


def _days(low: Lowering, days: ast.Days) -> tuple[tuple[int, ...], tuple[ir.DayRange, ...], int | None]:
    """Return the days a `days` clause names, its ranges as written, and its shift."""
    found: list[int] = []
    ranges: list[ir.DayRange] = []
    for item in days.items:
        first = low.integer(item.first, "a day", limits.DAYS)
        last = low.integer(item.last, "a day", limits.DAYS) if item.last else first
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


def _route(low: Lowering, word: ast.Word) -> Route | None:
    found = ROUTE_BY_ALIAS.get(word.text.lower())
    if found is None:
        low.unknown(
            c.UNKNOWN_ROUTE,
            word.span,
            f"unknown route `{word.text}`",
            label="not a known route",
            word=word.text,
            candidates=[a for r in ROUTES for a in r.aliases],
            otherwise="routes are oral, IV, subcut, IM, intrathecal, intravesical, topical...",
        )
    return found


def admin(
    low: Lowering, node: ast.Admin, cycle: Span, default_days: ast.Days | None = None
) -> ir.Administration | None:
    """Lower one administration line written for the cycle group headed ``cycle``; None if it cannot be."""
    med = low.medicine(node.drug)
    if med is None and not node.drug.quoted and close_match(node.drug.text, LINE_KEYWORDS):
        return None  # a misspelt statement keyword: the rest of the line is not a dose
    amount = low.amount(node.dose.amount)
    unit = low.unit(node.dose.unit)
    route = _route(low, node.route) if node.route is not None else None
    days: tuple[int, ...] = ()
    ranges: tuple[ir.DayRange, ...] = ()
    shift = max_minutes = None
    exact = prn = off_label = s29 = role_stated = False
    role: Literal["anticancer", "supportive"] = "anticancer" if med and med.anticancer else "supportive"
    frequency = None
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
            case ast.Over(amount=a, unit=u, exact=ex):
                max_minutes = low.minutes(a, u)
                exact = ex
            case ast.Flag(kind="frequency", value=v):
                frequency = FREQUENCY_BY_PHRASE[v]
            case ast.Flag(kind="prn"):
                prn = True
            case ast.Flag(kind="role", value=v):
                role = "anticancer" if v == "anticancer" else "supportive"
                role_stated = True
            case ast.Flag(kind="off_label"):
                off_label = True
            case ast.Flag(kind="s29"):
                s29 = True
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
    low.count(node.span, len(days) * len(relations))
    if med is None or amount is None or unit is None:
        return None
    dose = node.dose
    return ir.Administration(
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
    )


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
